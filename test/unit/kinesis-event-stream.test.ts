import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { chunkForPutRecords, KinesisEventStream } from '../../lambdas/adapters/aws/kinesis-event-stream.js';
import { StreamUnavailableError } from '../../lambdas/ports/event-stream.js';

// kinesalite never fails part of a PutRecords call, so partial failures are driven by a fake client here.
function fakeClient(failures: (attempt: number, count: number) => boolean[]) {
  const calls: string[][] = [];
  const client = {
    send: async (command: { input: { Records: Array<{ PartitionKey: string }> } }) => {
      const keys = command.input.Records.map((r) => r.PartitionKey);
      calls.push(keys);
      const failed = failures(calls.length, keys.length);
      return {
        FailedRecordCount: failed.filter(Boolean).length,
        Records: failed.map((f) => (f ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' } : { SequenceNumber: '1' })),
      };
    },
  } as unknown as KinesisClient;
  return { client, calls };
}

const records = (n: number) => Array.from({ length: n }, (_, i) => ({ partitionKey: `k${i}`, data: Buffer.from('{}') }));

describe('KinesisEventStream', () => {
  it('retries only the records that failed until all are written', async () => {
    const { client, calls } = fakeClient((attempt, count) => Array.from({ length: count }, (_, i) => attempt === 1 && i % 2 === 0));
    await new KinesisEventStream({ client, streamName: 's' }).put(records(4));
    expect(calls).toEqual([['k0', 'k1', 'k2', 'k3'], ['k0', 'k2']]);
  });

  it('gives up with StreamUnavailableError at the deadline, naming how many are unwritten', async () => {
    const { client } = fakeClient((_, count) => Array.from({ length: count }, () => true));
    const put = new KinesisEventStream({ client, streamName: 's', deadlineMs: 300 }).put(records(3));
    await expect(put).rejects.toBeInstanceOf(StreamUnavailableError);
    await expect(put).rejects.toMatchObject({ unwritten: 3 });
  });

  it('splits into PutRecords calls of at most 500 records and 5 MB', () => {
    expect(chunkForPutRecords(records(1201)).map((c) => c.length)).toEqual([500, 500, 201]);
    const big = Array.from({ length: 6 }, (_, i) => ({ partitionKey: `k${i}`, data: Buffer.alloc(1024 * 1024) }));
    expect(chunkForPutRecords(big).map((c) => c.length)).toEqual([4, 2]);
  });
});
