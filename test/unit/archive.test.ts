import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { noTelemetry, silentLogger } from '../../lambdas/adapters/silent-observability.js';
import type { PutObjectInput } from '../../lambdas/ports/object-store.js';
import { InMemoryObjectStore } from '../../lambdas/adapters/memory/in-memory-object-store.js';
import { archiveBatch } from '../../lambdas/use-cases/archive.js';
import { defaultProfileConfig } from '../../lambdas/domain/profile-config.js';
import type { DeliveredRecord } from '../../lambdas/ports/event-stream.js';

/** The in-memory bucket, failing every put under `failPrefix` as if S3 were down. */
class MemoryLake extends InMemoryObjectStore {
  failPrefix: string | undefined;
  override async put(input: PutObjectInput): Promise<void> {
    if (this.failPrefix && input.key.startsWith(this.failPrefix)) throw new Error('S3 down');
    return super.put(input);
  }
}

const record = (seq: string, event: object | string): DeliveredRecord => ({
  shardId: 'shardId-000000000000',
  sequenceNumber: seq,
  data: Buffer.from(typeof event === 'string' ? event : JSON.stringify(event)).toString('base64'),
  approximateArrivalTimestamp: Date.parse('2026-10-03T00:00:00Z'),
});
const event = (messageId: string, timestamp: string) => ({
  type: 'track', event: 'E', messageId, userId: 'u', timestamp, receivedAt: timestamp, sourceId: 'web', properties: { a: 1 },
});
const rows = (lake: MemoryLake, key: string) =>
  gunzipSync(lake.objects.get(key)!).toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('archiveBatch', () => {
  const deps = (lake: MemoryLake) => ({ lake, config: defaultProfileConfig, telemetry: noTelemetry, logger: silentLogger });

  it('writes one gzip NDJSON object per event date, keyed by the sequence range, with JSON text columns', async () => {
    const lake = new MemoryLake();
    const failed = await archiveBatch(
      [record('1', event('m1', '2026-10-01T10:00:00Z')), record('2', event('m2', '2026-10-02T10:00:00Z')), record('3', event('m3', '2026-10-01T11:00:00Z'))],
      deps(lake),
    );
    expect(failed).toEqual([]);
    expect([...lake.objects.keys()].sort()).toEqual([
      'events/dt=2026-10-01/shardId-000000000000-1-3.ndjson.gz',
      'events/dt=2026-10-02/shardId-000000000000-2-2.ndjson.gz',
    ]);
    expect(rows(lake, 'events/dt=2026-10-01/shardId-000000000000-1-3.ndjson.gz').map((r) => [r.message_id, r.properties])).toEqual([
      ['m1', '{"a":1}'],
      ['m3', '{"a":1}'],
    ]);
  });

  it('quarantines undecodable records instead of failing the batch', async () => {
    const lake = new MemoryLake();
    const failed = await archiveBatch([record('1', 'not json'), record('2', event('m2', '2026-10-01T10:00:00Z'))], deps(lake));
    expect(failed).toEqual([]);
    expect([...lake.objects.keys()]).toContain('quarantine/dt=2026-10-03/shardId-000000000000-1-1.ndjson.gz');
  });

  it('reports the records of a slice it could not write, so only they are redelivered', async () => {
    const lake = new MemoryLake();
    lake.failPrefix = 'events/dt=2026-10-02';
    const failed = await archiveBatch(
      [record('1', event('m1', '2026-10-01T10:00:00Z')), record('2', event('m2', '2026-10-02T10:00:00Z'))],
      deps(lake),
    );
    expect(failed).toEqual(['2']);
  });
});
