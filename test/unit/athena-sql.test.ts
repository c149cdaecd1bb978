import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventsViewSql, ProfileCountSql } from '../../lambdas/domain/lake-views.js';
import { lakeCountSql, lakePageSql, timelineSql } from '../../lambdas/domain/timeline.js';
import { defaultProfileConfig } from '../../lambdas/domain/profile-config.js';
import { SegmentSet } from '../../lambdas/domain/segments/segment-set.js';
import { seedSql, type SeedTrack } from '../../lambdas/domain/segments/sql.js';
import { queryLocalLake } from '../../local/lake-sql.js';
import { documentedSql, trinoProblems } from '../helpers/athena-sql.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const docs = ['README.md', ...readdirSync(resolve(import.meta.dirname, '../../docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const hostile = { type: 'user_id', value: "o'brien'); DROP TABLE events; --" };

/** The tracks a backfill seeds for segments of every event shape: windows, where tests, sums. */
const seedTracks: SeedTrack[] = (() => {
  const set = new SegmentSet(
    [
      { id: 'a', version: 1, status: 'ready', condition: { event: 'Order Completed', within: 'P90D', sum: { property: 'revenue', op: 'gt', value: 100 } } },
      { id: 'b', version: 1, status: 'ready', condition: { event: '$page', where: [{ property: 'category', op: 'in', value: ["o'kitchen", 'decor'] }], count: { op: 'gte', value: 3 } } },
      { id: 'c', version: 1, status: 'ready', condition: { event: '$identify', where: [{ property: 'plan', op: 'eq', value: 'pro' }], within: 'PT30M' } },
    ],
    defaultProfileConfig,
  );
  return ['a', 'b', 'c'].flatMap((id) => set.eventConditions(id).map((e) => ({ key: e.key, spec: e.track, horizon: set.horizon(e.key) ?? Number.POSITIVE_INFINITY })));
})();

/** Every statement the code sends to Athena, in each of its shapes. */
const athenaBound: Array<[string, string]> = [
  ['the events view (Glue)', EventsViewSql],
  ['the lake count (rebuild)', lakeCountSql],
  ['the profile count (console overview)', ProfileCountSql],
  ['the first page of the lake (rebuild)', lakePageSql(undefined, 10_000)],
  ['a later page of the lake (rebuild)', lakePageSql({ receivedAt: '2026-11-01T10:00:00.000Z', messageId: "m-'1" }, 10_000)],
  [
    'a timeline by every kind of identifier, from a date, after a cursor (profile API, split)',
    timelineSql({
      identifiers: [{ type: 'user_id', value: 'u1' }, { type: 'anonymous_id', value: 'a1' }, { type: 'email', value: 'ana@example.com' }, hostile],
      since: Date.parse('2026-10-01T00:00:00Z'),
      cursor: { timestamp: '2026-11-01T10:00:00.000Z', messageId: "m-'1" },
      limit: 50,
    })!,
  ],
  ['a timeline by one user id (profile API)', timelineSql({ identifiers: [{ type: 'user_id', value: 'u1' }], limit: 1_000_000 })!],
  ['a backfill seed query (segmenter)', seedSql(seedTracks, Date.parse('2026-11-01T10:00:00Z'))],
  ['a backfill seed query resumed from a profile (segmenter)', seedSql(seedTracks, Date.parse('2026-11-01T10:00:00Z'), "p-'1")],
];

describe('SQL sent to Athena parses with Trino\'s grammar', () => {
  it.each(athenaBound)('%s', (_name, sql) => {
    expect(trinoProblems(sql)).toEqual([]);
  });

  it('every SQL example in the README and docs/ parses for Athena, and runs on DuckDB locally', async () => {
    const examples = documentedSql(docs);
    expect(examples.length).toBeGreaterThanOrEqual(6);
    for (const { where, sql } of examples) expect(trinoProblems(sql), `${where}: ${sql}`).toEqual([]);
    // The local text of each example is the same; DuckDB must take it too (over an empty lake).
    const emptyLake = { s3Directory: mkdtempSync(join(tmpdir(), 'cdp-empty-lake-')), bucket: 'lake' };
    for (const { where, sql } of examples) await expect(queryLocalLake(emptyLake, sql), `${where}: ${sql}`).resolves.toBeInstanceOf(Array);
  });

  it('refuses what DuckDB takes and Athena does not, so the checks above can fail', () => {
    for (const duckdbOnly of [
      "SELECT * FROM read_json_auto('events/*.ndjson.gz')",
      'SELECT user_id FROM events QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY "timestamp") = 1',
      'SELECT * EXCLUDE (context) FROM events',
      'SELECT user_id FROM events LIMIT 10 OFFSET',
    ]) {
      expect(trinoProblems(duckdbOnly), duckdbOnly).not.toEqual([]);
    }
    expect(documentedSql(['test/fixtures/docs-with-duckdb-sql.md']).map(({ sql }) => trinoProblems(sql).length > 0)).toEqual([false, true, true]);
  });
});
