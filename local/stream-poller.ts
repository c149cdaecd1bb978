import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient, type _Record } from '@aws-sdk/client-kinesis';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { join } from 'node:path';
import { backoffDelay, sleep } from '../lambdas/support/retry.js';
import type { AppLogger } from '../lambdas/ports/logger.js';
import { FileCheckpoints } from './checkpoints.js';
import { FileDeadLetterStore } from './file-dead-letter-store.js';

export type ConsumerHandler = (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse | void>;

export interface StreamPollerOptions {
  /** Names the checkpoints and dead letters, like a Lambda function name. */
  readonly consumer: string;
  readonly handler: ConsumerHandler;
  readonly client: KinesisClient;
  readonly streamName: string;
  readonly dataDir: string;
  readonly logger: AppLogger;
  /** @default 100 */
  readonly batchSize?: number;
  /** Wait up to this long to fill a batch. @default 1000 */
  readonly batchWindowMs?: number;
  /** Retries of a failing batch before it goes to the dead-letter store (the deployed mapping's 5). @default 5 */
  readonly maxRetryAttempts?: number;
  /** Split a batch whose handler throws and retry each half. @default true */
  readonly bisectOnError?: boolean;
  /** Pause between empty GetRecords calls (Lambda polls each shard about once a second). @default 250 */
  readonly idlePollMs?: number;
}

/**
 * Feeds a stream consumer the way Lambda's Kinesis event source mapping does: per-shard batches
 * with a batching window, a checkpoint per shard, bounded retries with bisect on error, partial
 * batch responses (ReportBatchItemFailures), and an on-failure destination (files under
 * `dlq/<consumer>/`). A restart resumes after the last checkpoint, so delivery is at least once.
 */
export class StreamPoller {
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly checkpoints: FileCheckpoints;
  private readonly deadLetters: FileDeadLetterStore;
  private readonly batchSize: number;
  private readonly batchWindowMs: number;
  private readonly maxRetryAttempts: number;
  private readonly bisectOnError: boolean;
  private readonly idlePollMs: number;
  /** Sequence number last checkpointed per shard, for tests and health. */
  readonly positions = new Map<string, string>();
  /** Invocations that failed (threw, or reported failed items) and were retried or dead-lettered. */
  failedDeliveries = 0;
  private ready = false;

  constructor(private readonly options: StreamPollerOptions) {
    this.checkpoints = new FileCheckpoints(join(options.dataDir, 'checkpoints', options.consumer));
    this.deadLetters = new FileDeadLetterStore(join(options.dataDir, 'dlq'));
    this.batchSize = options.batchSize ?? 100;
    this.batchWindowMs = options.batchWindowMs ?? 1_000;
    this.maxRetryAttempts = options.maxRetryAttempts ?? 5;
    this.bisectOnError = options.bisectOnError ?? true;
    this.idlePollMs = options.idlePollMs ?? 250;
  }

  get isReady(): boolean {
    return this.running && this.ready;
  }

  async start(): Promise<void> {
    this.running = true;
    const shards = await this.options.client.send(new ListShardsCommand({ StreamName: this.options.streamName }));
    this.loops = (shards.Shards ?? []).map((shard) => this.pollShard(shard.ShardId!));
    this.ready = true;
  }

  /** Stops polling; an in-flight batch finishes and is checkpointed first. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.allSettled(this.loops);
  }

  private async pollShard(shardId: string): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        await this.consumeShard(shardId);
        failures = 0;
      } catch (error) {
        failures++;
        this.options.logger.warn('shard polling failed; resuming from the checkpoint', { shardId, error: String(error) });
        await sleep(backoffDelay(Math.min(failures, 6), 100, 5_000));
      }
    }
  }

  private async consumeShard(shardId: string): Promise<void> {
    const checkpoint = await this.checkpoints.get(shardId);
    if (checkpoint) this.positions.set(shardId, checkpoint);
    const { ShardIterator } = await this.options.client.send(
      new GetShardIteratorCommand({
        StreamName: this.options.streamName,
        ShardId: shardId,
        ...(checkpoint
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: checkpoint }
          : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    let iterator = ShardIterator;
    let buffer: _Record[] = [];
    let windowStarted = 0;
    while (this.running && iterator) {
      // Like the event source mapping, read in large chunks and invoke with batches of at most batchSize.
      const result = await this.options.client.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: Math.min(10_000, Math.max(this.batchSize, ReadChunk) - buffer.length) }),
      );
      iterator = result.NextShardIterator;
      const records = result.Records ?? [];
      if (records.length > 0 && buffer.length === 0) windowStarted = Date.now();
      buffer.push(...records);
      while (this.running && buffer.length >= this.batchSize) {
        await this.deliver(shardId, buffer.splice(0, this.batchSize), this.maxRetryAttempts);
        windowStarted = Date.now();
      }
      const windowClosed = buffer.length > 0 && Date.now() - windowStarted >= this.batchWindowMs;
      if (this.running && windowClosed) {
        await this.deliver(shardId, buffer, this.maxRetryAttempts);
        buffer = [];
      } else if (records.length === 0) {
        await sleep(buffer.length > 0 ? Math.min(this.idlePollMs, this.batchWindowMs) : this.idlePollMs);
      }
    }
  }

  private async deliver(shardId: string, batch: _Record[], retriesLeft: number): Promise<void> {
    let outcome: { failedFrom: number; error?: Error };
    try {
      const response = await this.options.handler(toKinesisEvent(shardId, batch, this.options.streamName));
      const failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      const failedFrom = batch.findIndex((r) => failed.has(r.SequenceNumber!));
      outcome = { failedFrom };
    } catch (error) {
      outcome = { failedFrom: 0, error: error as Error };
    }
    if (outcome.failedFrom === -1) return this.checkpoint(shardId, batch[batch.length - 1]!);
    this.failedDeliveries++;
    this.options.logger.warn('batch failed', {
      consumer: this.options.consumer,
      shardId,
      records: batch.length - outcome.failedFrom,
      then: !this.running ? 'redelivered after a restart' : retriesLeft > 0 ? 'retried from the first failed record' : 'dead-lettered',
      ...(outcome.error ? { error: `${outcome.error.name}: ${outcome.error.message}` } : {}),
    });
    if (outcome.failedFrom > 0) await this.checkpoint(shardId, batch[outcome.failedFrom - 1]!);
    const remaining = batch.slice(outcome.failedFrom);
    if (retriesLeft <= 0 || !this.running) {
      if (!this.running) return;
      await this.deadLetter(shardId, remaining, outcome.error);
      return this.checkpoint(shardId, remaining[remaining.length - 1]!);
    }
    await sleep(backoffDelay(this.maxRetryAttempts - retriesLeft + 1, 100, 2_000));
    if (outcome.error && this.bisectOnError && remaining.length > 1) {
      const middle = Math.ceil(remaining.length / 2);
      await this.deliver(shardId, remaining.slice(0, middle), retriesLeft - 1);
      await this.deliver(shardId, remaining.slice(middle), retriesLeft - 1);
      return;
    }
    await this.deliver(shardId, remaining, retriesLeft - 1);
  }

  private async checkpoint(shardId: string, record: _Record): Promise<void> {
    await this.checkpoints.set(shardId, record.SequenceNumber!);
    this.positions.set(shardId, record.SequenceNumber!);
  }

  private async deadLetter(shardId: string, records: _Record[], error: Error | undefined): Promise<void> {
    await this.deadLetters.put({
      consumer: this.options.consumer,
      shardId,
      reason: error ? error.message : 'records reported as failed after every retry',
      ...(error?.stack ? { stack: error.stack } : {}),
      failedAt: new Date().toISOString(),
      records: records.map((r) => ({
        sequenceNumber: r.SequenceNumber!,
        ...(r.PartitionKey ? { partitionKey: r.PartitionKey } : {}),
        data: Buffer.from(r.Data ?? new Uint8Array()).toString('base64'),
      })),
    });
    this.options.logger.error('batch sent to the dead-letter store after its retries', {
      consumer: this.options.consumer,
      shardId,
      records: records.length,
    });
  }
}

/** Records read per GetRecords call when batches are smaller (the ESM reads ahead too). */
const ReadChunk = 1_000;

export function toKinesisEvent(shardId: string, records: readonly _Record[], streamName: string): KinesisStreamEvent {
  return {
    Records: records.map((r) => ({
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${shardId}:${r.SequenceNumber}`,
      eventName: 'aws:kinesis:record',
      eventSourceARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${streamName}`,
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/local',
      awsRegion: 'us-east-1',
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: r.PartitionKey ?? '',
        sequenceNumber: r.SequenceNumber!,
        data: Buffer.from(r.Data ?? new Uint8Array()).toString('base64'),
        approximateArrivalTimestamp: (r.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
      },
    })),
  };
}
