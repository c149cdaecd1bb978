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
import { standardWorkloadEvents, WorkloadSegments, writeLocalLake } from '../helpers/segment-fixtures.js';

const START = Date.parse('2026-11-01T10:00:00.000Z');
const MINUTE = 60_000;

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
