import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InMemoryProfileStore } from '../../lambdas/adapters/memory/in-memory-profile-store.js';
import { noTelemetry, silentLogger } from '../../lambdas/adapters/silent-observability.js';
import { IdentityGraph } from '../../lambdas/domain/identity-graph.js';
import { identifierKey } from '../../lambdas/domain/identifiers.js';
import type { CollectedEvent } from '../../lambdas/domain/intake.js';
import { defaultProfileConfig as config } from '../../lambdas/domain/profile-config.js';
import { emptyProfile, type ProfileState } from '../../lambdas/domain/profile.js';
import { parseCondition } from '../../lambdas/domain/segments/condition.js';
import { evaluate, nextChange, type Subject } from '../../lambdas/domain/segments/evaluate.js';
import { SegmentSet, type SegmentDefinition } from '../../lambdas/domain/segments/segment-set.js';
import { addEntries, TrackIndex, unionTracks, type TrackEntry } from '../../lambdas/domain/segments/tracks.js';
import { compare, readNumber, readTime } from '../../lambdas/domain/segments/values.js';
import { resolveEvents } from '../../lambdas/use-cases/resolve.js';
import { StaticSegmentSource } from '../../lambdas/use-cases/segment-source.js';
import { collected } from '../helpers/events.js';

const BASE = Date.parse('2026-11-01T10:00:00.000Z');
const at = (seconds: number): string => new Date(BASE + seconds * 1000).toISOString();

const set = (conditions: Record<string, unknown>): SegmentSet =>
  new SegmentSet(Object.entries(conditions).map(([id, condition]): SegmentDefinition => ({ id, version: 1, status: 'ready', condition })), config);

function subjectOf(profile: ProfileState, segments: SegmentSet): Subject {
  return { profile, config, segment: (id) => segments.conditionOf(id) };
}

function folded(events: readonly CollectedEvent[], segments: SegmentSet): ProfileState {
  const graph = new IdentityGraph(config, BASE, segments.tracking);
  for (const event of events) graph.apply(event);
  const [profile] = graph.liveProfiles();
  return profile!;
}

describe('reading values for a comparison', () => {
  it('reads numbers from numbers and exact numeric text only', () => {
    expect([12, '12', '-3.5', '1e3', ' 12', '12 ', '0x10', '', 'abc', true, null, [1]].map(readNumber)).toEqual([
      12, 12, -3.5, 1000, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined,
    ]);
  });

  it('reads times from dates and zoned date-times that exist', () => {
    expect(readTime('2026-10-01')).toBe(Date.parse('2026-10-01T00:00:00Z'));
    expect(readTime('2026-10-01T12:00:00+02:00')).toBe(Date.parse('2026-10-01T10:00:00Z'));
    expect(readTime('2026-10-01T12:00Z')).toBe(Date.parse('2026-10-01T12:00:00Z'));
    for (const bad of ['2026-10-01T12:00:00', '2026-02-30', '2026-10-01T24:00:00Z', '01/10/2026', 1_700_000_000_000]) expect(readTime(bad), String(bad)).toBeUndefined();
  });

  it('is false for every comparison with a missing value, except not_exists', () => {
    const ops = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'not_in', 'between'] as const;
    for (const op of ops) expect(compare({ op, operand: { type: 'number', values: [1, 2] } }, undefined, BASE), op).toBe(false);
    expect(compare({ op: 'contains', operand: { type: 'string', values: ['a'] } }, undefined, BASE)).toBe(false);
    expect(compare({ op: 'exists', operand: { type: 'none' } }, undefined, BASE)).toBe(false);
    expect(compare({ op: 'not_exists', operand: { type: 'none' } }, undefined, BASE)).toBe(true);
  });
});

describe('tracks', () => {
  const entry = (seconds: number, digest: string, value?: number): TrackEntry => (value === undefined ? [BASE + seconds * 1000, digest] : [BASE + seconds * 1000, digest, value]);

  it('keep the latest events, all of those tied at the last place, one per message', () => {
    const kept = addEntries([], [entry(1, 'a'), entry(5, 'b'), entry(3, 'c'), entry(3, 'd'), entry(5, 'b'), entry(0, 'e')], 2);
    expect(kept.map((e) => e[1])).toEqual(['b', 'c', 'd']);
    expect(addEntries(kept, [entry(9, 'f')], 2).map((e) => e[1])).toEqual(['f', 'b']);
  });

  it('are the same whatever order events arrive in and however they are merged', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 30 })), { maxLength: 40 }), fc.integer({ min: 1, max: 6 }), fc.nat(), (raw, size, seed) => {
        const entries = raw.map(([seconds, id]) => entry(seconds, `d${id}`));
        // A message is one event: the same digest always carries the same time.
        const unique = [...new Map(entries.map((e) => [e[1], entry(Number(e[1].slice(1)) % 21, e[1])])).values()];
        const all = addEntries([], unique, size);
        let one: TrackEntry[] = [];
        for (const e of [...unique].reverse()) one = addEntries(one, [e], size);
        const split = seed % (unique.length + 1);
        // A track's key carries its size.
        const key = `h.${size}`;
        const merged = unionTracks({ [key]: addEntries([], unique.slice(0, split), size) }, { [key]: addEntries([], unique.slice(split), size) })[key] ?? [];
        expect(one).toEqual(all);
        expect(addEntries(merged, [], size)).toEqual(all);
      }),
    );
  });

  it('cost an event no segment looks for nothing', () => {
    const index = new TrackIndex([{ event: 'Order Completed', where: [], size: 1 }]);
    const tracks = {};
    expect(index.record(tracks, collected({ event: 'Product Viewed' }), BASE, 'x')).toBe(tracks);
  });
});

describe('evaluation', () => {
  const segments = set({
    'recent-viewer': { event: 'Viewed', within: 'PT30S', count: { op: 'gte', value: 2 } },
    spender: { event: 'Bought', within: 'PT1M', sum: { property: 'amount', op: 'gte', value: 10 } },
    lapsed: { computed: 'last_seen', op: 'lt', value: { ago: 'PT1M' } },
    plus: { trait: 'plan', op: 'eq', value: 'plus' },
    'not-plus': { not: { segment: 'plus' } },
    'plan-not-free': { trait: 'plan', op: 'neq', value: 'free' },
  });
  const events = [
    collected({ userId: 'u', event: 'Viewed', at: at(0) }),
    collected({ userId: 'u', event: 'Viewed', at: at(10) }),
    collected({ userId: 'u', event: 'Bought', properties: { amount: '7.5' }, at: at(12) }),
    collected({ userId: 'u', event: 'Bought', properties: { amount: 2.5 }, at: at(20) }),
    collected({ userId: 'u', event: 'Bought', properties: { amount: 'lots' }, at: at(21) }),
  ];
  const profile = folded(events, segments);
  const subject = subjectOf(profile, segments);
  const member = (id: string, seconds: number): boolean => evaluate(segments.conditionOf(id)!, subject, BASE + seconds * 1000);

  it('counts events in (now − within, now], and only those that have happened', () => {
    expect(member('recent-viewer', 5)).toBe(false);
    expect(member('recent-viewer', 10)).toBe(true);
    expect(member('recent-viewer', 29.999)).toBe(true);
    expect(member('recent-viewer', 30)).toBe(false);
  });

  it('sums numeric values exactly, skipping those that are not numbers', () => {
    expect(member('spender', 19)).toBe(false);
    expect(member('spender', 20)).toBe(true);
    expect(member('spender', 72)).toBe(false);
  });

  it('finds the instant a window changes the answer, with no new event', () => {
    expect(nextChange(segments.conditionOf('recent-viewer')!, subject, BASE + 15_000)).toBe(BASE + 30_000);
    expect(nextChange(segments.conditionOf('spender')!, subject, BASE + 15_000)).toBe(BASE + 20_000);
    expect(nextChange(segments.conditionOf('lapsed')!, subject, BASE + 30_000)).toBe(BASE + 81_001);
    expect(nextChange(segments.conditionOf('plus')!, subject, BASE)).toBeUndefined();
  });

  it('treats a missing trait as failing every comparison but not_exists, and not as its negation', () => {
    expect(member('plus', 30)).toBe(false);
    expect(member('plan-not-free', 30)).toBe(false);
    expect(member('not-plus', 30)).toBe(true);
  });
});

/** Random shop traffic from three people, each with two devices, some of whom log in. */
const trafficArbitrary = fc.array(
  fc.record({
    person: fc.integer({ min: 0, max: 2 }),
    device: fc.integer({ min: 0, max: 1 }),
    login: fc.boolean(),
    kind: fc.constantFrom('view', 'buy', 'identify'),
    value: fc.constantFrom<unknown>(1, 2.5, '3', 'abc', true, null, undefined, 40),
    plan: fc.constantFrom<unknown>('free', 'plus', null, 5),
    seconds: fc.integer({ min: 0, max: 150 }),
  }),
  { minLength: 1, maxLength: 30 },
);

const propertySegments = set({
  viewer: { event: 'Viewed', within: 'PT20S' },
  'two-views': { event: 'Viewed', within: 'PT1M', count: { op: 'gte', value: 2 } },
  'few-views': { event: 'Viewed', count: { op: 'lt', value: 3 } },
  spender: { event: 'Bought', within: 'PT40S', sum: { property: 'value', op: 'gte', value: 5 } },
  'big-ticket': { event: 'Bought', max: { property: 'value', op: 'gt', value: 2 } },
  'text-value': { event: 'Bought', where: [{ property: 'value', op: 'eq', value: 'abc' }] },
  plus: { trait: 'plan', op: 'eq', value: 'plus' },
  'numeric-plan': { trait: 'plan', op: 'gte', value: 5 },
  quiet: { computed: 'last_seen', op: 'lt', value: { ago: 'PT30S' } },
  buyers: { computed: 'orders_count', op: 'gte', value: 1 },
  known: { identifier: 'user_id' },
  'plus-viewer': { all: [{ segment: 'plus' }, { segment: 'viewer' }] },
  'not-viewer': { not: { segment: 'viewer' } },
});

function trafficEvents(traffic: ReadonlyArray<{ person: number; device: number; login: boolean; kind: string; value: unknown; plan: unknown; seconds: number }>): CollectedEvent[] {
  return traffic.map((t, i) => {
    const ids = { anonymousId: `a${t.person}-${t.device}`, ...(t.login ? { userId: `u${t.person}` } : {}) };
    const timestamp = at(t.seconds);
    if (t.kind === 'identify') return collected({ messageId: `m${i}`, type: 'identify', ...ids, traits: { plan: t.plan }, at: timestamp });
    const properties = t.value === undefined ? {} : { value: t.value };
    return collected({ messageId: `m${i}`, type: 'track', event: t.kind === 'view' ? 'Viewed' : 'Bought', ...ids, properties, at: timestamp });
  });
}

/** A person, named by their smallest identifier, whichever profile id the order of events gave them. */
const personOf = (p: ProfileState): string => p.identifiers.map(identifierKey).sort()[0] ?? p.id;

function memberships(profiles: readonly ProfileState[], instant: number): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const profile of profiles) {
    out[personOf(profile)] = propertySegments.evaluated.filter((s) => evaluate(s.node, subjectOf(profile, propertySegments), instant)).map((s) => s.id).sort();
  }
  return out;
}

async function liveProfiles(store: InMemoryProfileStore): Promise<ProfileState[]> {
  const out: ProfileState[] = [];
  for await (const p of store.scanLiveProfiles()) out.push(p);
  return out;
}

describe('incremental evaluation equals evaluation from scratch', () => {
  it('for any order of events and any batching, at any instant after; stored memberships are those of the last write', async () => {
    await fc.assert(
      fc.asyncProperty(trafficArbitrary, fc.array(fc.nat(), { minLength: 30, maxLength: 30 }), fc.integer({ min: 1, max: 6 }), async (traffic, order, batches) => {
        const events = trafficEvents(traffic);
        const scratch = new IdentityGraph(config, BASE, propertySegments.tracking);
        for (const event of events) scratch.apply(event);

        const shuffled = events.map((e, i) => ({ e, k: order[i % order.length]! * 31 + i })).sort((a, b) => a.k - b.k).map((x) => x.e);
        const store = new InMemoryProfileStore();
        let clock = BASE;
        const deps = { store, config, telemetry: noTelemetry, logger: silentLogger, now: () => new Date(clock), segments: new StaticSegmentSource(propertySegments) };
        const size = Math.ceil(shuffled.length / batches);
        for (let i = 0; i < shuffled.length; i += size) {
          clock += 17_000;
          await resolveEvents(shuffled.slice(i, i + size), deps);
        }
        const incremental = await liveProfiles(store);

        // From the last write on: entries a write pruned (older than every window reading them) never count again.
        for (const instant of [clock, clock + 5_000, clock + 25_000, clock + 70_000, BASE + 3_600_000]) {
          expect(memberships(incremental, instant)).toEqual(memberships(scratch.liveProfiles(), instant));
        }
        for (const profile of incremental) {
          const stored = Object.keys(profile.segments?.members ?? {}).sort();
          expect(stored, personOf(profile)).toEqual(memberships([profile], profile.updatedAt)[personOf(profile)]);
          const upcoming = propertySegments.evaluated.map((s) => nextChange(s.node, subjectOf(profile, propertySegments), profile.updatedAt)).filter((t): t is number => t !== undefined);
          if (upcoming.length > 0) expect(profile.segments?.due, 'a due time at or before the next change').toBeLessThanOrEqual(Math.min(...upcoming));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('conditions on a profile that has seen nothing', () => {
  it('evaluate without tracks', () => {
    const node = parseCondition({ not: { event: 'Viewed' } }, config).node!;
    expect(evaluate(node, subjectOf(emptyProfile('p', BASE), propertySegments), BASE)).toBe(true);
  });
});
