import { fromLakeRow } from '../domain/lake.js';
import type { CollectedEvent } from '../domain/intake.js';
import { lakeCountSql, lakePageSql, type LakePosition } from '../domain/timeline.js';
import type { LakeQuery } from '../ports/lake-query.js';
import { resolveEvents, type ResolveDependencies } from './resolve.js';

export interface RebuildProgress {
  readonly done: number;
  readonly total: number;
  readonly elapsedMs: number;
}

export interface RebuildOptions {
  /** Events read from the lake per query. @default 10000 */
  readonly pageSize?: number;
  /** Events applied per resolver pass, like a stream batch. @default 1000 */
  readonly batchSize?: number;
  readonly onProgress?: (progress: RebuildProgress) => void;
}

export interface RebuildReport {
  readonly events: number;
  readonly skipped: number;
  readonly elapsedMs: number;
}

/**
 * Rebuilds the profile store from the lake: every event of the `events` view, in arrival order,
 * through the same resolver the stream feeds. The lake is the source of truth, so this is the
 * recovery path when the profile store is lost. The target must start empty: its dedupe memory
 * is what stops an event from counting twice, and an old store's memory is bounded.
 */
export async function rebuildProfiles(lake: LakeQuery, deps: ResolveDependencies, options: RebuildOptions = {}): Promise<RebuildReport> {
  const pageSize = options.pageSize ?? 10_000;
  const batchSize = options.batchSize ?? 1_000;
  const started = Date.now();
  const [countRow] = await lake.query(lakeCountSql);
  const total = Number(countRow?.n ?? 0);
  let done = 0;
  let skipped = 0;
  let after: LakePosition | undefined;
  for (;;) {
    const rows = await lake.query(lakePageSql(after, pageSize));
    if (rows.length === 0) break;
    const events: CollectedEvent[] = [];
    for (const row of rows) {
      const event = fromLakeRow(row);
      if (event) events.push(event);
      else skipped++;
    }
    for (let i = 0; i < events.length; i += batchSize) {
      await resolveEvents(events.slice(i, i + batchSize), deps);
      done += Math.min(batchSize, events.length - i);
      options.onProgress?.({ done, total, elapsedMs: Date.now() - started });
    }
    const last = rows[rows.length - 1]!;
    after = { receivedAt: String(last.received_at), messageId: String(last.message_id) };
    if (rows.length < pageSize) break;
  }
  return { events: done, skipped, elapsedMs: Date.now() - started };
}
