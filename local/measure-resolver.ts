/**
 * Measures what identity resolution costs in DynamoDB on the standard workload: consumed read and
 * write units per event, from ReturnConsumedCapacity, with batches sized as the event source
 * mapping would form them at the given rate (not as fast as the replay runs).
 *
 *   npm run measure:resolver            # 20,000 workload events at 100 events/s, 1 shard, 1 s window
 *   BENCH_EVENTS=200000 BENCH_RATE=100 CDP_SHARDS=1 npm run measure:resolver
 */
import './node-support.js';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDbProfileStore } from '../lambdas/adapters/aws/dynamodb-profile-store.js';
import { CountingTelemetry } from '../lambdas/adapters/local/counting-telemetry.js';
import { createClients } from '../lambdas/composition.js';
import { admitEvent } from '../lambdas/domain/intake-request.js';
import { partitionKeyOf, type CollectedEvent } from '../lambdas/domain/intake.js';
import { defaultProfileConfig } from '../lambdas/domain/profile-config.js';
import { silentLogger } from '../lambdas/adapters/silent-observability.js';
import type { DeliveredRecord } from '../lambdas/ports/event-stream.js';
import { resolveBatch } from '../lambdas/use-cases/resolve.js';
import { createLocalResources } from './bootstrap.js';
import { startEmulators } from './emulators.js';
import { workloadBodies } from './bench/workload.js';
import { localSettings } from './settings.js';
import { toolArguments } from './cli-args.js';

toolArguments({
  usage: 'npm run measure:resolver',
  help: `
Measures what identity resolution costs in DynamoDB on the standard workload: consumed read and
write units per event, with batches sized as the event source mapping would form them at the
given rate.

Environment:
  BENCH_EVENTS              workload events (default 20000)
  BENCH_RATE                events per second (default 100)
  CDP_SHARDS                stream shards (default 1)
  BENCH_RESOLVER_WINDOW_S   the resolver's batching window in seconds (default 2)
  CDP_RESOLVER_BATCH_SIZE   the largest batch (default 1000)`,
});

const env = process.env;
const events = Number(env.BENCH_EVENTS ?? 20_000);
const rate = Number(env.BENCH_RATE ?? 100);
const shards = Number(env.CDP_SHARDS ?? 1);
const windowSeconds = Number(env.BENCH_RESOLVER_WINDOW_S ?? 2);
const maxBatch = Number(env.CDP_RESOLVER_BATCH_SIZE ?? 1_000);
const batchSize = Math.max(1, Math.min(maxBatch, Math.ceil((rate / shards) * windowSeconds)));

/** Kinesis maps the MD5 of the partition key onto evenly split hash-key ranges. */
function shardOf(partitionKey: string): number {
  const hash = BigInt(`0x${createHash('md5').update(partitionKey).digest('hex')}`);
  return Number((hash * BigInt(shards)) >> 128n);
}

const collectedEvents: CollectedEvent[] = [];
for (const line of workloadBodies({ events, ...(env.BENCH_WORKLOAD ? { file: env.BENCH_WORKLOAD } : {}) })) {
  const body = JSON.parse(line) as { batch: unknown[]; sentAt?: string };
  for (const [index, raw] of body.batch.entries()) {
    const timestamp = (raw as { timestamp: string }).timestamp;
    const admitted = admitEvent(raw, index, { receivedAt: new Date(timestamp), sourceId: 'bench', newMessageId: randomUUID });
    if (admitted.ok) collectedEvents.push(admitted.event);
  }
  if (collectedEvents.length >= events) break;
}
collectedEvents.length = Math.min(collectedEvents.length, events);

const perShard: DeliveredRecord[][] = Array.from({ length: shards }, () => []);
for (const event of collectedEvents) {
  const shard = shardOf(partitionKeyOf(event));
  perShard[shard]!.push({ shardId: `shard-${shard}`, sequenceNumber: String(perShard[shard]!.length), data: Buffer.from(JSON.stringify(event)).toString('base64') });
}

const dataDir = mkdtempSync(join(tmpdir(), 'cdp-measure-'));
const emulators = await startEmulators(dataDir);
try {
  const settings = localSettings({ CDP_DATA_DIR: dataDir });
  const clients = createClients({ local: emulators.endpoints });
  await createLocalResources(clients, settings);
  const telemetry = new CountingTelemetry();
  const store = new DynamoDbProfileStore(clients.dynamodb, settings.profilesTable, telemetry);
  const started = performance.now();
  const simulatedStart = Date.now();
  let batches = 0;
  // Shards are consumed concurrently, each batch after the previous one, as the event source mapping does.
  // The resolver's clock advances as it would at BENCH_RATE, so time-based retention behaves as in AWS.
  await Promise.all(
    perShard.map(async (records) => {
      for (let i = 0; i < records.length; i += batchSize) {
        const simulatedNow = new Date(simulatedStart + (i / (rate / shards)) * 1000);
        await resolveBatch(records.slice(i, i + batchSize), { store, config: defaultProfileConfig, telemetry, logger: silentLogger, now: () => simulatedNow });
        batches++;
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  const totals = telemetry.snapshot();
  const n = collectedEvents.length;
  const figures = {
    events: n,
    shards,
    rate,
    batchSize,
    batches,
    profileWrites: totals.ProfileWrites ?? 0,
    merges: totals.ProfileMerges ?? 0,
    linksDropped: totals.IdentifierLinksDropped ?? 0,
    conflicts: totals.ProfileWriteConflicts ?? 0,
    ddbWruPerEvent: round((totals.DynamoDbWriteUnits ?? 0) / n),
    ddbRruPerEvent: round((totals.DynamoDbReadUnits ?? 0) / n),
    profileWritesPerEvent: round((totals.ProfileWrites ?? 0) / n),
    eventsPerSecond: Math.round(n / (elapsedMs / 1000)),
  };
  console.table(figures);
  console.log(JSON.stringify(figures));
} finally {
  await emulators.close();
  rmSync(dataDir, { recursive: true, force: true });
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
