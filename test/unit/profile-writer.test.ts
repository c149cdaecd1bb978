import { describe, expect, it } from 'vitest';
import { InMemoryProfileStore } from '../../lambdas/adapters/memory/in-memory-profile-store.js';
import { CountingTelemetry } from '../../lambdas/adapters/local/counting-telemetry.js';
import { IdentityGraph } from '../../lambdas/domain/identity-graph.js';
import { defaultProfileConfig } from '../../lambdas/domain/profile-config.js';
import type { ProfileState } from '../../lambdas/domain/profile.js';
import { diffProfiles, MaxPendingOutbound, type ProfileDerivation } from '../../lambdas/domain/profile-write.js';
import { ConcurrentUpdateError, type ProfileStore } from '../../lambdas/ports/profile-store.js';
import { ProfileWriter } from '../../lambdas/use-cases/profile-writer.js';
import { collected } from '../helpers/events.js';

const NOW = Date.parse('2026-11-20T00:00:00Z');

function person(userId: string, plan: string, at = '2026-11-01T10:00:00Z'): ProfileState {
  const graph = new IdentityGraph(defaultProfileConfig, NOW);
  graph.apply(collected({ type: 'identify', userId, traits: { plan }, at, messageId: `m-${userId}-${plan}-${at}` }));
  return graph.liveProfiles()[0]!;
}

/**
 * A derivation like the segment one to come: it keeps a derived trait (`tier`) up to date from
 * `plan`, and announces a change of tier with a deterministic id.
 */
const tiers: ProfileDerivation = {
  name: 'tiers',
  derive({ before, after }) {
    const tier = after.traits.plan?.value === 'pro' ? 'gold' : 'basic';
    const previous = before?.traits.tier?.value;
    const state = after.traits.tier?.value === tier ? after : { ...after, traits: { ...after.traits, tier: { value: tier, at: after.traits.plan?.at ?? 0 } } };
    const outbound = previous === tier ? [] : [{ id: `${after.id}:tier:${tier}`, kind: 'Tier Changed', profileId: after.id, at: after.traits.plan?.at ?? 0, detail: { tier } }];
    return { state, outbound };
  },
};

const writerOn = (store: ProfileStore, telemetry = new CountingTelemetry()) =>
  new ProfileWriter({ store, derivations: [tiers], telemetry, now: () => new Date(NOW) });

describe('the profile writer', () => {
  it('writes what derivations keep up to date, and the outbound changes they raise, in the same write', async () => {
    const store = new InMemoryProfileStore();
    const telemetry = new CountingTelemetry();
    const ana = person('ana', 'pro');
    const report = await writerOn(store, telemetry).write({ profiles: [{ before: undefined, expectedVersion: undefined, pending: [], after: ana }] });
    expect(report.written).toHaveLength(1);
    const [stored] = await store.profiles([ana.id]);
    expect(stored!.state!.traits.tier?.value).toBe('gold');
    expect(stored!.outbox).toEqual([{ id: `${ana.id}:tier:gold`, kind: 'Tier Changed', profileId: ana.id, at: Date.parse('2026-11-01T10:00:00Z'), detail: { tier: 'gold' } }]);
    expect(telemetry.snapshot()).toMatchObject({ ProfileWrites: 1, OutboundChangesRecorded: 1, ProfileWritesSkipped: 0 });
  });

  it('skips a write that would change nothing, such as a re-evaluation that finds nothing new', async () => {
    const store = new InMemoryProfileStore();
    const telemetry = new CountingTelemetry();
    const writer = writerOn(store, telemetry);
    const ana = person('ana', 'pro');
    await writer.write({ profiles: [{ before: undefined, expectedVersion: undefined, pending: [], after: ana }] });
    const [stored] = await store.profiles([ana.id]);
    const again = await writer.write({ profiles: [{ before: stored!.state, expectedVersion: stored!.version, pending: stored!.outbox, after: stored!.state! }] });
    expect(again).toMatchObject({ written: [], skipped: 1 });
    expect((await store.profiles([ana.id]))[0]!.version).toBe(1);
    expect(telemetry.snapshot()).toMatchObject({ ProfileWrites: 1, ProfileWritesSkipped: 1 });
  });

  it('keeps undelivered changes, adds new ones after them, and never records one change twice', async () => {
    const store = new InMemoryProfileStore();
    const writer = writerOn(store);
    const proAna = person('ana', 'pro');
    await writer.write({ profiles: [{ before: undefined, expectedVersion: undefined, pending: [], after: proAna }] });
    const [first] = await store.profiles([proAna.id]);
    const downgraded = { ...first!.state!, traits: { ...first!.state!.traits, plan: { value: 'free', at: NOW } } };
    await writer.write({ profiles: [{ before: first!.state, expectedVersion: first!.version, pending: first!.outbox, after: downgraded }] });
    const [second] = await store.profiles([proAna.id]);
    expect(second!.outbox.map((c) => c.id)).toEqual([`${proAna.id}:tier:gold`, `${proAna.id}:tier:basic`]);
    expect(second!.state!.traits.tier?.value).toBe('basic');
    // A change already pending is not added again, whatever raises it.
    const planned = await writer.write({ profiles: [{ before: first!.state, expectedVersion: second!.version, pending: second!.outbox, after: downgraded }] });
    expect(planned.written[0]!.added).toEqual([]);
    expect((await store.profiles([proAna.id]))[0]!.outbox).toHaveLength(2);
  });

  it('holds at most MaxPendingOutbound undelivered changes, dropping the oldest', async () => {
    const store = new InMemoryProfileStore();
    const ana = person('ana', 'free');
    const pending = Array.from({ length: MaxPendingOutbound }, (_, i) => ({ id: `old-${i}`, kind: 'Old', profileId: ana.id, at: i, detail: {} }));
    const { written } = await writerOn(store).write({ profiles: [{ before: undefined, expectedVersion: undefined, pending, after: ana }] });
    expect(written[0]!.outbox).toHaveLength(MaxPendingOutbound);
    expect(written[0]!.outbox[0]!.id).toBe('old-1');
    expect(written[0]!.outbox.at(-1)!.id).toBe(`${ana.id}:tier:basic`);
  });

  it('writes in the crash-safe order, and a refused condition stops the rest for the caller to re-plan', async () => {
    const calls: string[] = [];
    const store = new InMemoryProfileStore();
    const recording = new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function' || ['owners', 'profiles', 'history', 'ping'].includes(String(property))) return value;
        return (...args: unknown[]) => {
          calls.push(String(property));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const ana = person('ana', 'pro');
    const reason = { rule: 'identify' as const, messageId: 'm', eventType: 'identify', at: NOW, identifier: { type: 'user_id', value: 'ana' } };
    await store.putProfile({ state: person('gone', 'free'), expectedVersion: undefined, outbox: [] });
    const gone = (await store.profiles([person('gone', 'free').id]))[0]!;
    await writerOn(recording).write({
      history: [{ kind: 'merge', profileId: ana.id, absorbed: gone.id, absorbedIdentifiers: [], reason }],
      releases: [gone.id],
      repoints: [{ identifier: { type: 'user_id', value: 'gone' }, from: [gone.id], to: ana.id }],
      profiles: [{ before: undefined, expectedVersion: undefined, pending: [], after: ana }],
      claims: [{ identifier: { type: 'user_id', value: 'ana' }, profileId: ana.id }],
      frozen: [{ id: gone.id, to: ana.id, reason, stored: true, expectedVersion: gone.version }],
    });
    expect(calls).toEqual(['freeze', 'claim', 'putProfile', 'appendHistory', 'repoint', 'release']);

    calls.length = 0;
    await expect(
      writerOn(recording).write({
        profiles: [{ before: undefined, expectedVersion: undefined, pending: [], after: ana }],
        history: [{ kind: 'merge', profileId: ana.id, absorbed: 'x', absorbedIdentifiers: [], reason }],
      }),
    ).rejects.toBeInstanceOf(ConcurrentUpdateError);
    expect(calls).toEqual(['putProfile']);
  });
});

describe('diffProfiles', () => {
  it('names the identifiers and traits a write changes', () => {
    const before = person('ana', 'free');
    const after: ProfileState = {
      ...before,
      identifiers: [...before.identifiers, { type: 'email', value: 'ana@example.com', since: NOW }],
      traits: { ...before.traits, plan: { value: 'pro', at: NOW }, city: { value: 'Porto', at: NOW } },
    };
    expect(diffProfiles(before, after)).toEqual({
      created: false,
      identifiersAdded: ['email:ana@example.com'],
      identifiersRemoved: [],
      traitsChanged: ['city', 'plan'],
      computedChanged: false,
      changed: true,
    });
    expect(diffProfiles(after, after).changed).toBe(false);
    expect(diffProfiles(undefined, after)).toMatchObject({ created: true, changed: true, identifiersAdded: ['user_id:ana', 'email:ana@example.com'] });
  });
});
