import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import type { DeliveredRecord } from '../../ports/event-stream.js';

/** A stream consumer: a Lambda fed by a Kinesis event source mapping with partial batch responses. */
export type KinesisHandler = (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse>;

/** Lambda's `eventID` is `<shardId>:<sequenceNumber>`. */
export function toDeliveredRecords(event: KinesisStreamEvent): DeliveredRecord[] {
  return event.Records.map((record) => ({
    shardId: record.eventID.split(':')[0] ?? 'unknown-shard',
    sequenceNumber: record.kinesis.sequenceNumber,
    data: record.kinesis.data,
    approximateArrivalTimestamp: Math.round(record.kinesis.approximateArrivalTimestamp * 1000),
  }));
}

export function toBatchResponse(failedSequenceNumbers: readonly string[]): KinesisStreamBatchResponse {
  return { batchItemFailures: failedSequenceNumbers.map((itemIdentifier) => ({ itemIdentifier })) };
}
