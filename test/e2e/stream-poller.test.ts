import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent } from 'aws-lambda';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useEmulators } from '../helpers/emulators.js';
import { silentLogger } from '../../lambdas/adapters/silent-observability.js';
import type { DeadLetter } from '../../lambdas/ports/dead-letter-store.js';
import { StreamPoller } from '../../local/stream-poller.js';
import { eventually } from '../helpers/local-process.js';

const fixture = useEmulators('poller');
const { dataDir, settings } = fixture;

async function putBodies(bodies: string[]): Promise<void> {
  await fixture.clients.kinesis.send(
    new PutRecordsCommand({ StreamName: settings.streamName, Records: bodies.map((b) => ({ PartitionKey: 'same', Data: Buffer.from(b) })) }),
  );
}
const bodiesOf = (event: KinesisStreamEvent) => event.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString());

describe('StreamPoller (event source mapping stand-in) on kinesalite', () => {
  it('isolates a poison record by bisecting, dead-letters it with its reason, and delivers the rest in order', async () => {
    const run = `r${Date.now()}`;
    const delivered: string[] = [];
    const poller = new StreamPoller({
      consumer: `poison-${run}`, client: fixture.clients.kinesis, streamName: settings.streamName, dataDir, logger: silentLogger,
      batchSize: 16, batchWindowMs: 200, maxRetryAttempts: 6,
      handler: async (event) => {
        const bodies = bodiesOf(event).filter((b) => b.startsWith(run));
        if (bodies.includes(`${run}-poison`)) throw new Error('cannot process poison');
        delivered.push(...bodies);
      },
    });
    const expected = Array.from({ length: 15 }, (_, i) => `${run}-${i}`);
    await putBodies([...expected.slice(0, 7), `${run}-poison`, ...expected.slice(7)]);
    await poller.start();
    await eventually(async () => expected.every((b) => delivered.includes(b)), 30_000, 'all good records');
    await poller.stop();
    expect([...new Set(delivered)]).toEqual(expected);
    const dlqDir = join(dataDir, 'dlq', `poison-${run}`);
    const letters = readdirSync(dlqDir).map((f) => JSON.parse(readFileSync(join(dlqDir, f), 'utf8')) as DeadLetter);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ reason: 'cannot process poison', stack: expect.stringContaining('Error') });
    expect(letters[0]!.records.map((r) => Buffer.from(r.data, 'base64').toString())).toEqual([`${run}-poison`]);
  });

  it('redelivers from the first reported item failure only, and resumes after its checkpoint on restart', async () => {
    const run = `p${Date.now()}`;
    const seen: string[] = [];
    let failedOnce = false;
    const options = {
      consumer: `partial-${run}`, client: fixture.clients.kinesis, streamName: settings.streamName, dataDir, logger: silentLogger,
      batchSize: 100, batchWindowMs: 300,
    };
    const poller = new StreamPoller({
      ...options,
      handler: async (event) => {
        const mine = event.Records.filter((r) => Buffer.from(r.kinesis.data, 'base64').toString().startsWith(run));
        seen.push(...mine.map((r) => Buffer.from(r.kinesis.data, 'base64').toString()));
        const third = mine[2];
        if (!failedOnce && third) {
          failedOnce = true;
          return { batchItemFailures: [{ itemIdentifier: third.kinesis.sequenceNumber }] };
        }
        return { batchItemFailures: [] };
      },
    });
    await putBodies(Array.from({ length: 5 }, (_, i) => `${run}-${i}`));
    await poller.start();
    await eventually(async () => seen.filter((b) => b === `${run}-4`).length === 2, 20_000, 'redelivery');
    await poller.stop();
    expect(seen).toEqual([`${run}-0`, `${run}-1`, `${run}-2`, `${run}-3`, `${run}-4`, `${run}-2`, `${run}-3`, `${run}-4`]);

    const after: string[] = [];
    const restarted = new StreamPoller({ ...options, handler: async (event) => void after.push(...bodiesOf(event)) });
    await putBodies([`${run}-late`]);
    await restarted.start();
    await eventually(async () => after.includes(`${run}-late`), 20_000, 'record after restart');
    await restarted.stop();
    expect(after.filter((b) => b.startsWith(run))).toEqual([`${run}-late`]);
  });
});
