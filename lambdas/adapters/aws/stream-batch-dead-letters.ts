import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetter, DeadLetterRecord, DeadLetterStore, StoredDeadLetter } from '../../ports/dead-letter-store.js';

/** What Lambda sends to a Kinesis event source mapping's on-failure destination. */
interface OnFailureRecord {
  readonly timestamp?: string;
  readonly requestContext?: { readonly condition?: string; readonly approximateInvokeCount?: number };
  readonly responseContext?: { readonly functionError?: string; readonly statusCode?: number };
  readonly KinesisBatchInfo?: {
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    readonly batchSize?: number;
  };
}

/**
 * The event source mappings' SQS on-failure queues, seen as dead letters. Lambda's message names
 * only the shard and the sequence range of the batch it gave up on, so the records are read back
 * from the stream, which keeps them for its retention period (24 hours by default). A letter whose
 * records have expired comes back empty, and a redrive keeps it and says so.
 */
export class StreamBatchDeadLetters implements DeadLetterStore {
  constructor(
    private readonly sqs: SQSClient,
    private readonly kinesis: KinesisClient,
    private readonly streamName: string,
    /** Queue URL per consumer (the `...DeadLetterQueue` stack outputs). */
    private readonly queues: Readonly<Record<string, string>>,
  ) {}

  async put(): Promise<void> {
    throw new Error('the event source mapping writes these letters itself');
  }

  async *list(consumer?: string): AsyncIterable<StoredDeadLetter> {
    for (const [name, queueUrl] of Object.entries(this.queues)) {
      if (consumer && consumer !== name) continue;
      const seen = new Set<string>();
      for (;;) {
        // Hidden for 15 minutes while being redriven; a message not deleted by then comes back.
        const { Messages } = await this.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 900, WaitTimeSeconds: 1 }),
        );
        const fresh = (Messages ?? []).filter((m) => m.MessageId && !seen.has(m.MessageId));
        if (fresh.length === 0) break;
        for (const message of fresh) {
          seen.add(message.MessageId!);
          const letter = await this.letterOf(name, JSON.parse(message.Body ?? '{}') as OnFailureRecord);
          yield { key: `${queueUrl}|${message.ReceiptHandle}`, letter };
        }
      }
    }
  }

  async remove(key: string): Promise<void> {
    const separator = key.indexOf('|');
    if (separator < 0) throw new Error(`${key} is not an on-failure queue message`);
    await this.sqs.send(new DeleteMessageCommand({ QueueUrl: key.slice(0, separator), ReceiptHandle: key.slice(separator + 1) }));
  }

  private async letterOf(consumer: string, message: OnFailureRecord): Promise<DeadLetter> {
    const info = message.KinesisBatchInfo;
    const why = [message.requestContext?.condition, message.responseContext?.functionError].filter(Boolean).join(', ');
    const base = {
      consumer,
      shardId: info?.shardId ?? 'unknown',
      reason: `the event source mapping gave up on the batch${why ? ` (${why})` : ''}`,
      failedAt: message.timestamp ?? new Date().toISOString(),
    };
    if (!info) return { ...base, reason: 'not a Kinesis on-failure record', records: [] };
    return { ...base, records: await this.readRange(info.shardId, info.startSequenceNumber, info.endSequenceNumber) };
  }

  /** The records from `start` to `end` inclusive, or fewer if the stream no longer has them. */
  async readRange(shardId: string, start: string, end: string): Promise<DeadLetterRecord[]> {
    const last = BigInt(end);
    let iterator: string | undefined;
    try {
      ({ ShardIterator: iterator } = await this.kinesis.send(
        new GetShardIteratorCommand({ StreamName: this.streamName, ShardId: shardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: start }),
      ));
    } catch (error) {
      if ((error as Error).name === 'InvalidArgumentException' || (error as Error).name === 'ResourceNotFoundException') return [];
      throw error;
    }
    const records: DeadLetterRecord[] = [];
    while (iterator) {
      const page = await this.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1_000 }));
      for (const record of page.Records ?? []) {
        if (BigInt(record.SequenceNumber!) > last) return records;
        records.push({
          sequenceNumber: record.SequenceNumber!,
          ...(record.PartitionKey ? { partitionKey: record.PartitionKey } : {}),
          data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
        });
      }
      if ((page.Records ?? []).length === 0 && (page.MillisBehindLatest ?? 0) === 0) return records;
      iterator = page.NextShardIterator;
    }
    return records;
  }
}
