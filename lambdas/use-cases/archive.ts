import { LakeLayout } from '../contracts.js';
import { decodeCollectedEvent } from '../domain/intake.js';
import { eventDate, lakeObjectKey, toLakeRow } from '../domain/lake.js';
import { gzipNdjson } from '../domain/ndjson.js';
import type { ProfileConfig } from '../domain/profile-config.js';
import type { DeliveredRecord } from '../ports/event-stream.js';
import type { AppLogger } from '../ports/logger.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { Telemetry } from '../ports/telemetry.js';
import type { SuppressionFilter } from './suppression.js';

export interface ArchiveDependencies {
  readonly lake: ObjectStore;
  /** Identity rules: which identifier of an event is its strongest (the lake's `identifier` column). */
  readonly config: ProfileConfig;
  readonly telemetry: Telemetry;
  readonly logger: AppLogger;
  /** Leaves suppressed people's events out of the lake, also when a batch is delivered again. @default none left out */
  readonly suppression?: SuppressionFilter;
}

interface Slice {
  readonly prefix: string;
  readonly dt: string;
  readonly shardId: string;
  readonly records: DeliveredRecord[];
  readonly lines: string[];
}

/**
 * Writes one delivered batch to the lake: one gzip NDJSON object per (shard, event date). Object
 * keys derive from sequence numbers, so redelivery overwrites rather than duplicates. Records that
 * can't be decoded go to `quarantine/` with their raw bytes instead of blocking the shard.
 * Returns the sequence numbers that failed and must be redelivered.
 */
export async function archiveBatch(records: readonly DeliveredRecord[], deps: ArchiveDependencies): Promise<string[]> {
  const slices = new Map<string, Slice>();
  const add = (prefix: string, dt: string, record: DeliveredRecord, line: string): void => {
    const id = `${prefix}|${dt}|${record.shardId}`;
    let slice = slices.get(id);
    if (!slice) slices.set(id, (slice = { prefix, dt, shardId: record.shardId, records: [], lines: [] }));
    slice.records.push(record);
    slice.lines.push(line);
  };

  const decodedRecords = records.map((record) => ({ record, decoded: decodeCollectedEvent(Buffer.from(record.data, 'base64').toString('utf8')) }));
  const kept = deps.suppression ? await deps.suppression.keep(decodedRecords, ({ decoded }, person) => decoded !== undefined && person.matchesEvent(decoded)) : decodedRecords;
  for (const { record, decoded } of kept) {
    if (decoded) {
      add(LakeLayout.eventsPrefix, eventDate(decoded.timestamp), record, JSON.stringify(toLakeRow(decoded, deps.config)));
    } else {
      deps.telemetry.count('RecordsQuarantined');
      deps.logger.warn('quarantining an undecodable stream record', { sequenceNumber: record.sequenceNumber });
      const arrived = new Date(record.approximateArrivalTimestamp ?? Date.now()).toISOString();
      add(LakeLayout.quarantinePrefix, arrived.slice(0, 10), record, JSON.stringify({
        shard_id: record.shardId,
        sequence_number: record.sequenceNumber,
        data_base64: record.data,
      }));
    }
  }

  const failed: string[] = [];
  await Promise.all(
    [...slices.values()].map(async (slice) => {
      const first = slice.records[0]!.sequenceNumber;
      const last = slice.records[slice.records.length - 1]!.sequenceNumber;
      try {
        await deps.lake.put({ key: lakeObjectKey(slice.prefix, slice.dt, slice.shardId, first, last), ...gzipNdjson(slice.lines) });
        if (slice.prefix === LakeLayout.eventsPrefix) deps.telemetry.count('EventsArchived', slice.records.length);
      } catch (error) {
        deps.logger.error('could not write a lake object; its records will be redelivered', { error, dt: slice.dt });
        failed.push(...slice.records.map((r) => r.sequenceNumber));
      }
    }),
  );
  return failed;
}
