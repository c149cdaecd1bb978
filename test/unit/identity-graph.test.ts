import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdentityGraph } from '../../lambdas/domain/identity-graph.js';
import { identifierRuleProblems, identifiersOf, normalizeEmail, normalizePhone } from '../../lambdas/domain/identifiers.js';
import type { CollectedEvent } from '../../lambdas/domain/intake.js';
import { defaultProfileConfig as config, profileConfigFromJson } from '../../lambdas/domain/profile-config.js';
import { profileView } from '../../lambdas/domain/profile-view.js';
import { compactSeen, emptyProfile, mergeProfiles, recordSeen, SeenRetention, type ProfileState } from '../../lambdas/domain/profile.js';
import { collected, peopleContent } from '../helpers/events.js';
import { InMemoryProfileStore } from '../../lambdas/adapters/memory/in-memory-profile-store.js';
import { noTelemetry, silentLogger } from '../../lambdas/adapters/silent-observability.js';
import { resolveEvents } from '../../lambdas/use-cases/resolve.js';

const NOW = Date.parse('2026-10-20T00:00:00Z');

function fold(events: readonly CollectedEvent[], graph = new IdentityGraph(config, NOW)): IdentityGraph {
  for (const event of events) graph.apply(event);
  return graph;
}

const only = (graph: IdentityGraph) => {
  const live = graph.liveProfiles();
  expect(live).toHaveLength(1);
  return live[0]!;
};

describe('identifiers', () => {
  it('normalises email and phone, and reads external ids and alias previousId', () => {
    const ids = identifiersOf(
      collected({
        type: 'alias',
        userId: 'u1',
        previousId: 'anon-9',
        anonymousId: 'anon-1',
        context: { traits: { email: '  Ana@Example.COM ', phone: '+351 (912) 345-678' }, externalIds: [{ id: 'c-42', type: 'Shopify_Customer', collection: 'users' }] },
      }),
      config,
    );
    expect(ids).toEqual([
      { type: 'user_id', value: 'u1' },
      { type: 'email', value: 'ana@example.com' },
      { type: 'phone', value: '+351912345678' },
      { type: 'shopify_customer', value: 'c-42' },
      { type: 'anonymous_id', value: 'anon-1' },
      { type: 'anonymous_id', value: 'anon-9' },
    ]);
  });

  it('reads a phone number the ways people write it as one E.164 number, nationally in the configured region', () => {
    const london = ['+44 20 7946 0958', '+44 (0)20 7946 0958', '+44 (0) 20 7946 0958', '0044 20 7946 0958', '+44-20-7946-0958', '+442079460958'];
    for (const written of london) expect(normalizePhone(written), written).toEqual({ value: '+442079460958' });
    const sanFrancisco = ['(415) 555-0100', '415-555-0100', '1-415-555-0100', '415.555.0100', '+1 415 555 0100', '011 1 415 555 0100'];
    for (const written of sanFrancisco) expect(normalizePhone(written, 'US'), written).toEqual({ value: '+14155550100' });
    expect(normalizePhone('020 7946 0958', 'GB')).toEqual({ value: '+442079460958' });
    // A national number with no region configured is refused with its own reason, not guessed.
    expect(normalizePhone('(415) 555-0100')).toEqual({ refused: 'national_without_region' });
    for (const junk of ['12', '+1 555', 'call me', '+44 20 7946 01234567']) expect(normalizePhone(junk, 'US'), junk).toEqual({ refused: 'invalid' });
  });

  it('keeps email +tags and Gmail dots apart unless the configuration asks otherwise', () => {
    expect(normalizeEmail(' A.Na+Shop@GoogleMail.com ')).toBe('a.na+shop@googlemail.com');
    expect(normalizeEmail('a.na+shop@googlemail.com', { stripPlusTags: true, stripGmailDots: false })).toBe('a.na@googlemail.com');
    expect(normalizeEmail('a.na+shop@googlemail.com', { stripPlusTags: true, stripGmailDots: true })).toBe('ana@gmail.com');
    expect(normalizeEmail('a.na@example.com', { stripPlusTags: true, stripGmailDots: true })).toBe('a.na@example.com');
    for (const bad of ['ana', '@example.com', 'ana@', 'a b@example.com', 'a@b@c']) {
      expect(normalizeEmail(bad, { stripPlusTags: true, stripGmailDots: false }), bad).toBeUndefined();
    }
    const stripping = profileConfigFromJson('{"email":{"stripPlusTags":true}}');
    const graph = new IdentityGraph(stripping, NOW);
    graph.apply(collected({ type: 'identify', anonymousId: 'laptop', traits: { email: 'ana+shop@example.com' } }));
    graph.apply(collected({ type: 'identify', anonymousId: 'phone', traits: { email: 'Ana@Example.com' } }));
    expect(only(graph).identifiers.map((i) => i.value)).toEqual(['ana@example.com', 'laptop', 'phone']);
  });

  it('counts what it refuses, by type and reason, and links people through the numbers it reads', () => {
    const graph = new IdentityGraph(profileConfigFromJson('{"phoneRegion":"US"}'), NOW);
    graph.apply(collected({ type: 'identify', anonymousId: 'tablet', traits: { phone: '(415) 555-0100' } }));
    graph.apply(collected({ type: 'identify', userId: 'u1', traits: { phone: '+1 415 555 0100', email: 'not-an-email' } }));
    graph.apply(collected({ type: 'identify', userId: 'u1', anonymousId: 'guest', traits: { phone: '555' }, context: { externalIds: [{ type: 'crm', id: {} }] } }));
    expect(only(graph).identifiers.map((i) => `${i.type}:${i.value}`)).toEqual(['user_id:u1', 'phone:+14155550100', 'anonymous_id:tablet']);
    expect(graph.stats.identifiersRefused).toEqual({ 'email:invalid': 1, 'phone:invalid': 1, 'anonymous_id:blocked': 1, 'other:not_text': 1 });
    expect(() => profileConfigFromJson('{"phoneRegion":"us"}')).toThrow(/phoneRegion/);
    expect(identifierRuleProblems(profileConfigFromJson('{"phoneRegion":"XX"}'))).toEqual(['phoneRegion XX is not a country libphonenumber knows']);
    expect(identifierRuleProblems(profileConfigFromJson('{"phoneRegion":"PT"}'))).toEqual([]);
  });

  it.each(['', 'null', 'NULL', ' undefined ', 'anonymous', 'Guest', '0', '-1', 'NaN', '[object Object]', '0000', '---', '00-00'])(
    'never links on the junk value %j',
    (junk) => {
      const graph = fold([
        collected({ userId: 'alice', anonymousId: junk }),
        collected({ userId: 'bob', anonymousId: junk }),
        collected({ type: 'identify', userId: 'carol', traits: { email: junk } }),
      ]);
      expect(graph.liveProfiles().map((p) => p.identifiers.map((i) => i.value))).toEqual([['alice'], ['bob'], ['carol']]);
      expect(graph.stats.merges).toBe(0);
    },
  );

  it('treats configured traits as identifiers and honours a custom blocked list', () => {
    const custom = profileConfigFromJson('{"traitIdentifiers":["customer_number"],"blockedValues":["test"]}');
    const ids = identifiersOf(collected({ type: 'identify', userId: 'test', traits: { customer_number: 1234 } }), custom);
    expect(ids).toEqual([{ type: 'customer_number', value: '1234' }]);
  });

  it('refuses an invalid configuration with the field at fault', () => {
    expect(() => profileConfigFromJson('{"limits":{"email":0}}')).toThrow(/limits\.email/);
  });
});

describe('identity resolution', () => {
  it('joins anonymous browsing, sign-up and logins on several devices into one profile', () => {
    const graph = fold([
      collected({ anonymousId: 'laptop', at: '2026-10-01T10:00:00Z' }),
      collected({ type: 'identify', anonymousId: 'laptop', userId: 'u1', traits: { email: 'ana@example.com' }, at: '2026-10-01T10:05:00Z' }),
      collected({ anonymousId: 'phone', at: '2026-10-02T09:00:00Z' }),
      collected({ anonymousId: 'phone', at: '2026-10-02T09:01:00Z' }),
      collected({ type: 'identify', anonymousId: 'phone', userId: 'u1', at: '2026-10-02T09:02:00Z' }),
      collected({ type: 'identify', anonymousId: 'tablet', traits: { email: 'ANA@example.com ' }, at: '2026-10-03T09:02:00Z' }),
    ]);
    const profile = only(graph);
    expect(profile.identifiers.map((i) => `${i.type}:${i.value}`)).toEqual([
      'user_id:u1',
      'email:ana@example.com',
      'anonymous_id:laptop',
      'anonymous_id:phone',
      'anonymous_id:tablet',
    ]);
    expect(profile.computed.eventCounts).toEqual({ 'Product Viewed': 3, $identify: 3 });
    expect(graph.stats.merges).toBe(1);
    const merge = graph.history.find((h) => h.kind === 'merge');
    expect(merge).toMatchObject({ reason: { rule: 'identify', identifier: { type: 'anonymous_id', value: 'phone' } } });
  });

  it('links through alias', () => {
    const graph = fold([collected({ anonymousId: 'a1' }), collected({ userId: 'u1' }), collected({ type: 'alias', userId: 'u1', previousId: 'a1' })]);
    expect(only(graph).computed.eventCounts).toEqual({ 'Product Viewed': 2, $alias: 1 });
    expect(graph.history[0]).toMatchObject({ kind: 'merge', reason: { rule: 'alias' } });
  });

  it('never merges two user ids through a shared device, in either order', () => {
    const ana = collected({ type: 'identify', anonymousId: 'shared-laptop', userId: 'ana', at: '2026-10-01T10:00:00Z' });
    const bob = collected({ type: 'identify', anonymousId: 'shared-laptop', userId: 'bob', at: '2026-10-01T11:00:00Z' });
    for (const order of [[ana, bob], [bob, ana]]) {
      const graph = fold(order);
      const people = graph.liveProfiles();
      expect(people).toHaveLength(2);
      for (const user of ['ana', 'bob']) {
        const profile = people.find((p) => p.identifiers.some((i) => i.value === user))!;
        expect(profile.computed.eventCounts).toEqual({ $identify: 1 });
        expect(profile.identifiers.filter((i) => i.type === 'user_id')).toHaveLength(1);
      }
      expect(graph.history).toContainEqual(expect.objectContaining({ kind: 'link_dropped', reason: 'limit:user_id' }));
      expect(graph.stats.linksDropped).toBe(1);
    }
  });

  it('records a link dropped again and again (a shared device) once, while counting every drop', () => {
    const visits = Array.from({ length: 10 }, () => collected({ userId: 'bob', anonymousId: 'kiosk' }));
    const graph = fold([collected({ type: 'identify', userId: 'ana', anonymousId: 'kiosk' }), ...visits]);
    expect(graph.stats.linksDropped).toBe(10);
    expect(graph.history.filter((h) => h.kind === 'link_dropped')).toHaveLength(1);
  });

  it('caps identifiers per type, dropping the lowest-priority link and recording it', () => {
    const events = Array.from({ length: 7 }, (_, i) => collected({ type: 'identify', userId: 'u1', anonymousId: `device-${i}` }));
    const graph = fold(events);
    const profile = only(graph);
    expect(profile.identifiers.filter((i) => i.type === 'anonymous_id')).toHaveLength(5);
    expect(profile.computed.eventCounts.$identify).toBe(7);
    expect(graph.history.filter((h) => h.kind === 'link_dropped')).toHaveLength(2);
  });

  it('a profile the store says was merged away redirects to its survivor', () => {
    const graph = new IdentityGraph(config, NOW);
    graph.loadOwner({ type: 'anonymous_id', value: 'a1' }, 'old');
    graph.loadProfile({ id: 'old', redirect: { to: 'survivor' } });
    graph.loadProfile({ id: 'survivor', state: fold([collected({ userId: 'u1' })]).liveProfiles()[0]! });
    expect(graph.ownerOf({ type: 'anonymous_id', value: 'a1' })).toBe('survivor');
  });

  it('a profile whose identifiers were claimed but never written still counts them against its limits', () => {
    const ana = only(fold([collected({ type: 'identify', userId: 'ana', anonymousId: 'kiosk' })]));
    const graph = new IdentityGraph(config, NOW);
    graph.loadOwner({ type: 'user_id', value: 'ana' }, ana.id);
    graph.loadOwner({ type: 'anonymous_id', value: 'kiosk' }, ana.id);
    graph.loadProfile({ id: ana.id, state: ana });
    // Bob's identifiers were claimed for profile "bob" by an attempt that lost a race before writing it.
    graph.loadOwner({ type: 'user_id', value: 'bob' }, 'bob');
    graph.adoptOrphans();
    graph.apply(collected({ type: 'identify', userId: 'bob', anonymousId: 'kiosk' }));
    expect(graph.stats.merges).toBe(0);
    expect(graph.profile('bob')!.identifiers.map((i) => i.value)).toEqual(['bob']);
    expect(graph.changes().profiles.find((p) => p.state.id === 'bob')?.isNew).toBe(true);
  });

  it('finishes a merge a crash interrupted, exactly once', () => {
    const loser = only(fold([collected({ anonymousId: 'a1' }), collected({ anonymousId: 'a1' })]));
    const survivor = only(fold([collected({ userId: 'u1' })]));
    const graph = new IdentityGraph(config, NOW);
    graph.loadProfile({ id: loser.id, state: loser, redirect: { to: survivor.id } });
    graph.loadProfile({ id: survivor.id, state: survivor });
    graph.completeMerges();
    graph.completeMerges();
    expect(graph.profile(survivor.id)!.computed.eventCounts['Product Viewed']).toBe(3);
    expect(graph.changes().profiles.map((p) => p.state.id)).toEqual([survivor.id]);
    expect(graph.finishedLosers()).toEqual([{ id: loser.id, to: survivor.id }]);

    const again = new IdentityGraph(config, NOW);
    again.loadProfile({ id: loser.id, state: loser, redirect: { to: survivor.id } });
    again.loadProfile({ id: survivor.id, state: graph.profile(survivor.id)! });
    again.completeMerges();
    expect(again.profile(survivor.id)!.computed.eventCounts['Product Viewed']).toBe(3);
    expect(again.changes().profiles).toEqual([]);
  });

  it('records a merge whose write was interrupted (a lost race after the freeze, or before the history): never lost, announced once', () => {
    const loser = only(fold([collected({ anonymousId: 'a1' })]));
    const survivor = only(fold([collected({ userId: 'u1' })]));
    const reason = { rule: 'identify' as const, messageId: 'm-1', eventType: 'identify', at: Date.parse('2026-10-01T00:00:00Z'), identifier: { type: 'user_id', value: 'u1' } };
    const graph = new IdentityGraph(config, NOW);
    graph.loadProfile({ id: loser.id, state: loser, redirect: { to: survivor.id, reason } });
    graph.loadProfile({ id: survivor.id, state: survivor });
    graph.completeMerges();
    expect(graph.history).toEqual([{ kind: 'merge', profileId: survivor.id, absorbed: loser.id, absorbedIdentifiers: [expect.objectContaining({ type: 'anonymous_id', value: 'a1' })], reason }]);

    // Written, but interrupted before the history was (the loser not yet released): recorded again under the same key, and not announced again.
    const again = new IdentityGraph(config, NOW);
    again.loadProfile({ id: loser.id, state: loser, redirect: { to: survivor.id, reason } });
    again.loadProfile({ id: survivor.id, state: graph.profile(survivor.id)! });
    again.completeMerges();
    expect(again.history).toEqual([]);
    expect(again.changes().restoredHistory).toEqual(graph.history);
    expect(again.changes().profiles).toEqual([]);
  });
});

describe('traits and computed traits', () => {
  it('a late, older event never overwrites a newer trait; null unsets; set-once keeps the earliest', () => {
    const newer = collected({ type: 'identify', userId: 'u1', traits: { plan: 'plus', first_seen: '2026-10-05' }, at: '2026-10-05T00:00:00Z' });
    const older = collected({ type: 'identify', userId: 'u1', traits: { plan: 'free', first_seen: '2026-10-01', city: 'Porto' }, at: '2026-10-01T00:00:00Z' });
    const unset = collected({ type: 'identify', userId: 'u1', traits: { city: null }, at: '2026-10-03T00:00:00Z' });
    for (const order of [[newer, older, unset], [older, unset, newer], [unset, newer, older]]) {
      const view = profileView(only(fold(order)), config, NOW);
      expect(view.traits).toEqual({ plan: 'plus', first_seen: '2026-10-01' });
    }
  });

  it('counts orders, revenue, average order value, last order time and sliding windows', () => {
    const order = (at: string, revenue: number) => collected({ event: 'Order Completed', userId: 'u1', properties: { revenue }, at });
    const profile = only(fold([order('2026-08-01T00:00:00Z', 10.1), order('2026-10-01T00:00:00Z', 20.2), order('2026-10-19T00:00:00Z', 0.3)]));
    const computed = profileView(profile, config, NOW).computed;
    expect(computed).toMatchObject({
      orders_count: 3,
      total_revenue: 30.6,
      average_order_value: 10.2,
      last_order_at: '2026-10-19T00:00:00.000Z',
      orders_last_7d: 1,
      orders_last_30d: 2,
      first_seen: '2026-08-01T00:00:00.000Z',
    });
    // The window slides with the reader's clock, from the same buckets.
    expect(profileView(profile, config, Date.parse('2026-11-05T00:00:00Z')).computed).toMatchObject({ orders_last_30d: 1 });
  });

  it('bounds the profile: event names, traits and trait sizes', () => {
    const small = profileConfigFromJson('{"maxEventNames":2,"maxTraits":2,"maxTraitBytes":32}');
    const graph = new IdentityGraph(small, NOW);
    for (const name of ['a', 'b', 'c', 'd']) graph.apply(collected({ userId: 'u1', event: name }));
    graph.apply(collected({ type: 'identify', userId: 'u1', traits: { one: 1, two: 2, three: 3, big: 'x'.repeat(100) } }));
    const profile = only(graph);
    expect(profile.computed.eventCounts).toEqual({ a: 1, b: 1, '(other)': 3 });
    expect(Object.keys(profile.traits)).toHaveLength(2);
    expect(graph.stats.traitsRefused).toBe(2);
  });

  it('keeps the dedupe memory bounded by counts: the latest writes and at least 48 messages', () => {
    let profile = emptyProfile('p', 0);
    for (let write = 0; write < 100; write++) {
      for (let i = 0; i < 5; i++) profile = { ...profile, seen: recordSeen(profile, `w${write}m${i}`, write) };
    }
    const remembered = profile.seen.flatMap((g) => g.digests);
    expect(remembered.length).toBeGreaterThanOrEqual(SeenRetention.minDigests);
    expect(remembered.length).toBeLessThanOrEqual(SeenRetention.minDigests + 10);
    expect(remembered).toContain('w99m4');
    expect(remembered).toContain('w95m0');
    expect(remembered).not.toContain('w0m0');
    // A single huge write is remembered whole, up to the cap.
    const big = Array.from({ length: 2000 }, (_, i) => `big${i}`).reduce((p, d) => ({ ...p, seen: recordSeen(p, d, 1000) }), profile);
    expect(compactSeen(big.seen).flatMap((g) => g.digests)).toHaveLength(SeenRetention.maxDigests);
  });

  it('processing the same messageId twice changes nothing', () => {
    const event = collected({ event: 'Order Completed', userId: 'u1', properties: { revenue: 5 } });
    const graph = fold([event, event, { ...event, receivedAt: '2026-10-02T00:00:00Z' }]);
    expect(only(graph).computed.orders).toBe(1);
    expect(graph.stats.duplicates).toBe(2);
  });
});

/** People who never share devices or identifiers, acting like the benchmark workload. */
const Person = fc.record({
  userId: fc.option(fc.constantFrom('u1', 'u2', 'u3', 'u4'), { nil: undefined }),
  email: fc.constantFrom('a@x.io', 'b@x.io', 'c@x.io', 'd@x.io'),
  devices: fc.uniqueArray(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 3 }),
});

const Workload = fc
  .tuple(
    fc.uniqueArray(Person, { minLength: 1, maxLength: 4, selector: (p) => p.email }),
    fc.array(
      fc.record({
        who: fc.nat(),
        kind: fc.constantFrom('page', 'view', 'order', 'signup', 'login', 'alias', 'unset'),
        device: fc.nat(),
        minute: fc.integer({ min: 0, max: 60 * 24 * 40 }),
        plan: fc.constantFrom('free', 'plus', 'pro'),
        revenue: fc.integer({ min: 0, max: 50_000 }).map((cents) => cents / 100),
      }),
      { minLength: 1, maxLength: 40 },
    ),
  )
  .map(([people, actions]) =>
    actions.map((a, i): CollectedEvent => {
      const person = people[a.who % people.length]!;
      const index = people.indexOf(person);
      const anonymousId = `p${index}-d${person.devices[a.device % person.devices.length]}`;
      const userId = person.userId ? `${person.userId}-${index}` : undefined;
      const at = new Date(Date.parse('2026-09-10T00:00:00Z') + a.minute * 60_000).toISOString();
      const base = { messageId: `msg-${i}`, at, anonymousId };
      switch (a.kind) {
        case 'signup':
          return collected({ ...base, type: 'identify', userId, traits: { email: person.email, plan: a.plan } });
        case 'login':
          return collected({ ...base, type: 'identify', userId, traits: { plan: a.plan } });
        case 'alias':
          return userId ? collected({ ...base, type: 'alias', userId, previousId: anonymousId }) : collected(base);
        case 'unset':
          return collected({ ...base, type: 'identify', traits: { email: person.email, plan: null } });
        case 'order':
          return collected({ ...base, event: 'Order Completed', properties: { revenue: a.revenue } });
        case 'page':
          return collected({ ...base, type: 'page', name: 'Home' });
        default:
          return collected(base);
      }
    }),
  );

describe('order independence (property-based)', () => {
  it('any permutation of the same events yields the same people, identifiers, traits and counters', () => {
    fc.assert(
      fc.property(Workload, fc.func(fc.integer()), (events, rank) => {
        const shuffled = [...events].sort((a, b) => rank(a.messageId) - rank(b.messageId));
        expect(peopleContent(fold(shuffled).liveProfiles())).toEqual(peopleContent(fold(events).liveProfiles()));
      }),
      { numRuns: 300 },
    );
  });

  it('duplicates anywhere in the sequence change nothing', () => {
    fc.assert(
      fc.property(Workload, fc.array(fc.nat(), { maxLength: 20 }), (events, picks) => {
        const withDuplicates = [...events];
        for (const p of picks) withDuplicates.splice(p % (withDuplicates.length + 1), 0, events[p % events.length]!);
        expect(peopleContent(fold(withDuplicates).liveProfiles())).toEqual(peopleContent(fold(events).liveProfiles()));
      }),
      { numRuns: 200 },
    );
  });

  it('splitting the sequence into batches, each resolved by the real resolver against a store, gives the same people', async () => {
    await fc.assert(
      fc.asyncProperty(Workload, fc.integer({ min: 1, max: 10 }), async (events, batchSize) => {
        const store = new InMemoryProfileStore();
        const deps = { store, config, telemetry: noTelemetry, logger: silentLogger, now: () => new Date(NOW) };
        for (let i = 0; i < events.length; i += batchSize) await resolveEvents(events.slice(i, i + batchSize), deps);
        const stored: ProfileState[] = [];
        for await (const profile of store.scanLiveProfiles()) stored.push(profile);
        expect(peopleContent(stored)).toEqual(peopleContent(fold(events).liveProfiles()));
      }),
      { numRuns: 200 },
    );
  });
});

describe('profiles that have seen no event yet', () => {
  it('merge without error: two identifiers claimed for profiles never written (a crash between claim and write), then linked', () => {
    expect(() => mergeProfiles(emptyProfile('a', 0), emptyProfile('b', 0), config, 0)).not.toThrow();
    const graph = new IdentityGraph(config, Date.parse('2026-11-20T00:00:00Z'));
    graph.loadOwner({ type: 'anonymous_id', value: 'device-a' }, 'orphan-a');
    graph.loadOwner({ type: 'anonymous_id', value: 'device-b' }, 'orphan-b');
    graph.completeMerges();
    graph.adoptOrphans();
    graph.apply(collected({ type: 'identify', anonymousId: 'device-a', userId: 'u-1' }));
    graph.apply(collected({ type: 'identify', anonymousId: 'device-b', userId: 'u-1' }));
    const { profiles } = graph.changes();
    const live = profiles.map((p) => p.state).filter((p) => p.identifiers.some((i) => i.value === 'u-1'));
    expect(live).toHaveLength(1);
    expect(live[0]!.identifiers.map((i) => i.value).sort()).toEqual(['device-a', 'device-b', 'u-1']);
    expect(live[0]!.computed.eventCounts).toEqual({ $identify: 2 });
  });
});
