import { DescribeStreamSummaryCommand, PutRecordsCommand, type KinesisClient, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { StreamLimits } from '../../contracts.js';
import { StreamUnavailableError, type EventStream, type StreamRecord } from '../../ports/event-stream.js';
import { backoffDelay, sleep } from '../../support/retry.js';

export interface KinesisEventStreamOptions {
  readonly client: KinesisClient;
  readonly streamName: string;
  /** Give up (and let the caller answer 503) when records are still unwritten after this long. @default 15000 */
  readonly deadlineMs?: number;
}

/** Kinesis Data Streams via PutRecords, retrying only the entries that failed. */
export class KinesisEventStream implements EventStream {
  private readonly deadlineMs: number;

  constructor(private readonly options: KinesisEventStreamOptions) {
    this.deadlineMs = options.deadlineMs ?? 15_000;
  }

  async put(records: readonly StreamRecord[]): Promise<void> {
    const deadline = Date.now() + this.deadlineMs;
    for (const chunk of chunkForPutRecords(records)) {
      await this.putChunk(chunk, deadline);
    }
  }

  private async putChunk(chunk: PutRecordsRequestEntry[], deadline: number): Promise<void> {
    let pending = chunk;
    let lastError: unknown;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) {
        const delay = backoffDelay(attempt, 50, 2_000);
        if (Date.now() + delay > deadline) {
          throw new StreamUnavailableError(`${pending.length} records still unwritten after ${attempt} attempts`, pending.length, {
            cause: lastError,
          });
        }
        await sleep(delay);
      }
      try {
        const result = await this.options.client.send(
          new PutRecordsCommand({ StreamName: this.options.streamName, Records: pending }),
        );
        if (!result.FailedRecordCount) return;
        const entries = result.Records ?? [];
        pending = pending.filter((_, i) => entries[i]?.ErrorCode !== undefined || entries[i] === undefined);
        lastError = new Error(entries.find((e) => e.ErrorCode)?.ErrorMessage ?? 'PutRecords partial failure');
      } catch (error) {
        lastError = error;
      }
    }
  }

  async ping(): Promise<void> {
    const summary = await this.options.client.send(new DescribeStreamSummaryCommand({ StreamName: this.options.streamName }));
    const status = summary.StreamDescriptionSummary?.StreamStatus;
    if (status !== 'ACTIVE' && status !== 'UPDATING') throw new Error(`stream is ${status}`);
  }
}

/** Splits records into PutRecords calls within the count and byte limits. */
export function chunkForPutRecords(records: readonly StreamRecord[]): PutRecordsRequestEntry[][] {
  const chunks: PutRecordsRequestEntry[][] = [];
  let current: PutRecordsRequestEntry[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = record.data.byteLength + Buffer.byteLength(record.partitionKey);
    if (current.length === StreamLimits.maxRecordsPerPut || (current.length > 0 && bytes + size > StreamLimits.maxBytesPerPut)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push({ PartitionKey: record.partitionKey, Data: record.data });
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
