import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { useEmulators } from '../helpers/emulators.js';
import { StreamBatchDeadLetters } from '../../lambdas/adapters/aws/stream-batch-dead-letters.js';
import type { DeliveredRecord } from '../../lambdas/ports/event-stream.js';
import { redriveDeadLetters } from '../../lambdas/use-cases/redrive.js';

const fixture = useEmulators('sqs-dlq');
const { settings } = fixture;

describe('redrive from the event source mappings\' SQS on-failure queues (AWS)', () => {
  it('reads the batch Lambda gave up on back from the stream, redrives it, and deletes the message; a letter with no records stays', async () => {
    const sequences: string[] = [];
    let shardId = '';
    for (let i = 0; i < 10; i++) {
      const put = await fixture.clients.kinesis.send(new PutRecordCommand({ StreamName: settings.streamName, PartitionKey: 'k', Data: Buffer.from(`record-${i}`) }));
      sequences.push(put.SequenceNumber!);
      shardId = put.ShardId!;
    }
    // SQS has no local emulator: the queue is mocked with Lambda's documented on-failure record.
    const sqs = mockClient(SQSClient);
    const failure = {
      version: '1.0', timestamp: '2026-11-22T10:00:00.000Z',
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 6 },
      responseContext: { statusCode: 200, functionError: 'Unhandled' },
      KinesisBatchInfo: { shardId, startSequenceNumber: sequences[3], endSequenceNumber: sequences[6], batchSize: 4 },
    };
    sqs.on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [
        { MessageId: 'm1', ReceiptHandle: 'r1', Body: JSON.stringify(failure) },
        { MessageId: 'm2', ReceiptHandle: 'r2', Body: JSON.stringify({ version: '1.0' }) },
      ] })
      .resolves({ Messages: [] });
    sqs.on(DeleteMessageCommand).resolves({});

    const store = new StreamBatchDeadLetters(new SQSClient({ region: 'us-east-1' }), fixture.clients.kinesis, settings.streamName, { archiver: 'https://sqs.example/archiver-dlq' });
    const redriven: DeliveredRecord[] = [];
    const report = await redriveDeadLetters([store], { archiver: async (records) => void redriven.push(...records) });

    expect(redriven.map((r) => Buffer.from(r.data, 'base64').toString())).toEqual(['record-3', 'record-4', 'record-5', 'record-6']);
    expect(redriven.map((r) => r.sequenceNumber)).toEqual(sequences.slice(3, 7));
    expect(report).toMatchObject({ letters: 2, redriven: 1, records: 4 });
    expect(report.failed).toEqual([expect.objectContaining({ status: 'failed', reason: expect.stringContaining('no records to redrive') })]);
    const deleted = sqs.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input);
    expect(deleted).toEqual([{ QueueUrl: 'https://sqs.example/archiver-dlq', ReceiptHandle: 'r1' }]);
    sqs.restore();
  });
});
