import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityGraph } from '../../lambdas/domain/identity-graph.js';
import type { CollectedEvent } from '../../lambdas/domain/intake.js';
import { defaultProfileConfig as config } from '../../lambdas/domain/profile-config.js';
import type { ProfileState } from '../../lambdas/domain/profile.js';
import { evaluate } from '../../lambdas/domain/segments/evaluate.js';
import { SegmentSet, type SegmentDefinition } from '../../lambdas/domain/segments/segment-set.js';
import { segmentSql } from '../../lambdas/domain/segments/sql.js';
import { queryLocalLake } from '../../local/lake-sql.js';
import { trinoProblems } from '../helpers/athena-sql.js';
import { collected } from '../helpers/events.js';
import { standardWorkloadEvents, writeLocalLake } from '../helpers/segment-fixtures.js';

const START = Date.parse('2026-11-01T10:00:00.000Z');
const MINUTE = 60_000;

/** A dozen segments and more, covering every construct of the language, on the standard workload's data. */
export const WorkloadSegments: Readonly<Record<string, unknown>> = {
  'cushion-no-cover': {
    all: [
      { event: 'Product Added', where: [{ property: 'name', op: 'starts_with', value: 'Cushion' }], within: 'P30D' },
      { not: { event: 'Product Added', where: [{ property: 'name', op: 'starts_with', value: 'Cushion cover' }], within: 'P30D' } },
    ],
  },
  vip: { event: 'Order Completed', within: 'P90D', sum: { property: 'revenue', op: 'gt', value: 150 } },
  'viewed-not-bought': {
    all: [{ event: 'Product Viewed', within: 'PT1M', count: { op: 'gte', value: 2 } }, { not: { event: 'Order Completed', within: 'PT1M' } }],
  },
  'plus-in-the-west': { all: [{ trait: 'plan', op: 'eq', value: 'plus' }, { trait: 'address.city', op: 'in', value: ['Lisboa', 'Porto', 'Sevilla'] }] },
  known: { identifier: 'email' },
  'no-account': { not: { identifier: 'user_id' } },
  'frequent-buyers': { computed: 'orders_count', op: 'gte', value: 3 },
  'big-baskets': { computed: 'average_order_value', op: 'between', value: [60, 200] },
  'lapsed-buyers': { computed: 'last_order_at', op: 'lt', value: { ago: 'PT1M' } },
  'busy-week': { computed: 'events_last_7d', op: 'gte', value: 20 },
  'busy-week-orders': { computed: 'orders_last_30d', op: 'in', value: [1, 2] },
  'new-people': { computed: 'first_seen', op: 'gt', value: { ago: 'PT2M' } },
  'total-over-300': { computed: 'total_revenue', op: 'gt', value: 300 },
  'kitchen-browsers': { event: '$page', where: [{ property: 'category', op: 'eq', value: 'kitchen' }], count: { op: 'gte', value: 3 } },
  'big-single-order': { event: 'Order Completed', max: { property: 'revenue', op: 'gte', value: 100 } },
  // Heavy viewers have more views than the 32 a min keeps: the latest 32 decide, in both.
  'cheapest-of-recent-views': { event: 'Product Viewed', min: { property: 'price', op: 'lt', value: 7 } },
  'cheap-looks': { event: 'Product Viewed', within: 'PT1M', min: { property: 'price', op: 'lt', value: 10 } },
  'exactly-two-adds': { event: 'Product Added', count: { op: 'eq', value: 2 } },
  'few-views': { event: 'Product Viewed', count: { op: 'lt', value: 5 } },
  'lamp-fans': { event: 'Product Viewed', where: [{ property: 'name', op: 'contains', value: 'Lamp' }, { property: 'price', op: 'gt', value: 50 }], count: { op: 'gte', value: 1 } },
  // A set-once trait keeps its earliest value: x1 set it to a, then to b.
  'first-touch-a': { trait: 'first_seen', op: 'eq', value: 'a' },
  'has-plan': { trait: 'plan', op: 'exists' },
  'nameless': { trait: 'name', op: 'not_exists' },
  'not-free': { trait: 'plan', op: 'neq', value: 'free' },
  'valuable-or-frequent': { all: [{ any: [{ segment: 'vip' }, { segment: 'frequent-buyers' }] }, { not: { segment: 'no-account' } }] },
};

const definitions: SegmentDefinition[] = Object.entries(WorkloadSegments).map(([id, condition]) => ({ id, version: 1, status: 'ready', condition }));

function fold(events: readonly CollectedEvent[], set: SegmentSet): ProfileState[] {
  const graph = new IdentityGraph(config, START, set.tracking);
  for (const event of events) graph.apply(event);
  return graph.liveProfiles();
}

function streamingMembers(profiles: readonly ProfileState[], set: SegmentSet, id: string, at: number): string[] {
  const node = set.conditionOf(id)!;
  return profiles.filter((profile) => evaluate(node, { profile, config, segment: (other) => set.conditionOf(other) }, at)).map((p) => p.id).sort();
}

describe('the same segment as SQL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cdp-segment-sql-'));
  const files = { s3Directory: dir, bucket: 'lake' };
  const set = new SegmentSet(definitions, config);
  let profiles: ProfileState[] = [];

  beforeAll(() => {
    const events = standardWorkloadEvents({ events: 6000, start: START, spacingMs: 1500 });
    // Extra shapes the workload lacks: a set-once trait, a null unset, numeric text, a duplicate delivery.
    const extra = [
      collected({ type: 'identify', userId: 'x1', traits: { plan: 'plus', address: { city: 'Porto' }, first_seen: 'a' }, at: new Date(START + MINUTE).toISOString() }),
      collected({ type: 'identify', userId: 'x1', traits: { plan: null, first_seen: 'b' }, at: new Date(START + 2 * MINUTE).toISOString() }),
      collected({ type: 'track', event: 'Order Completed', userId: 'x2', properties: { revenue: '180.5' }, at: new Date(START + MINUTE).toISOString() }),
      collected({ type: 'track', event: 'Order Completed', userId: 'x2', properties: { revenue: 'lots', total: 20 }, at: new Date(START + MINUTE).toISOString() }),
    ];
    const all = [...events, ...extra];
    profiles = fold(all, set);
    writeLocalLake(dir, files.bucket, { events: [...all, all[10]!], profiles, config, recordedAt: new Date(START + 10 * MINUTE).toISOString() });
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is Trino SQL (Athena engine 3)', () => {
    for (const id of Object.keys(WorkloadSegments)) {
      expect(trinoProblems(segmentSql(set.conditionOf(id)!, config, START, (other) => set.conditionOf(other))), id).toEqual([]);
    }
  });

  const instants = { 'during the traffic': START + 45_000, 'at its end': START + 95_000, 'minutes later': START + 4 * MINUTE, 'a month later': START + 31 * 86_400_000 };
  for (const [label, at] of Object.entries(instants)) {
    it(`names the streaming members of every segment, ${label}`, async () => {
      let nonEmpty = 0;
      for (const id of Object.keys(WorkloadSegments)) {
        const sql = segmentSql(set.conditionOf(id)!, config, at, (other) => set.conditionOf(other));
        const rows = await queryLocalLake(files, sql);
        const expected = streamingMembers(profiles, set, id, at);
        expect(rows.map((r) => r.profile_id as string), `${id} at ${new Date(at).toISOString()}`).toEqual(expected);
        if (expected.length > 0 && expected.length < profiles.length) nonEmpty++;
        if (process.env.SHOW) console.log(label, id, expected.length, profiles.length);
      }
      // The comparison is only worth something if segments split people: most must.
      expect(nonEmpty).toBeGreaterThan(Object.keys(WorkloadSegments).length / 2);
    }, 60_000);
  }
});
