import { ExpiredIteratorException, GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient, type Shard } from '@aws-sdk/client-kinesis';
import type { DeliveredRecord } from '../../ports/event-stream.js';
import type { StreamPosition, StreamTail } from '../../ports/stream-tail.js';

export interface KinesisStreamTailOptions {
  readonly client: KinesisClient;
  readonly streamName: string;
}

/**
 * Reads the stream's newest records shard by shard, carrying each shard's iterator from one read
 * to the next (iterators live 5 minutes; after that it starts again after the last record read).
 * A read costs one ListShards and one GetRecords per shard, and happens only while someone
 * watches. The stream's two consumers poll each shard once a second, within the five reads a
 * second a shard allows, so a few watchers fit beside them (docs/console.md).
 */
export class KinesisStreamTail implements StreamTail {
  constructor(private readonly options: KinesisStreamTailOptions) {}

  async read(position: StreamPosition, limitPerShard: number): Promise<{ records: DeliveredRecord[]; position: StreamPosition }> {
    const next: Record<string, { after?: string; iterator?: string }> = {};
    const perShard = await Promise.all(
      (await this.openShards()).map(async (shard) => {
        const shardId = shard.ShardId!;
        const { records, iterator } = await this.readShard(shardId, position[shardId] ?? {}, limitPerShard);
        const after = records.at(-1)?.sequenceNumber ?? position[shardId]?.after;
        next[shardId] = { ...(after ? { after } : {}), ...(iterator ? { iterator } : {}) };
        return records;
      }),
    );
    return { records: perShard.flat(), position: next };
  }

  /** Shards that still take records; a closed shard's last records were read while it was open. */
  private async openShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.options.client.send(new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: this.options.streamName }));
      shards.push(...(page.Shards ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    return shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined);
  }

  private async readShard(shardId: string, from: { after?: string; iterator?: string }, limit: number): Promise<{ records: DeliveredRecord[]; iterator?: string }> {
    let iterator = from.iterator ?? (await this.iterator(shardId, from.after));
    let page;
    try {
      page = await this.options.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
    } catch (error) {
      if (!(error instanceof ExpiredIteratorException || (error as { name?: string }).name === 'ExpiredIteratorException') || !from.iterator) throw error;
      iterator = await this.iterator(shardId, from.after);
      page = await this.options.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
    }
    const records = (page.Records ?? []).map((record) => ({
      shardId,
      sequenceNumber: record.SequenceNumber!,
      data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
      ...(record.ApproximateArrivalTimestamp ? { approximateArrivalTimestamp: record.ApproximateArrivalTimestamp.getTime() } : {}),
    }));
    return { records, ...(page.NextShardIterator ? { iterator: page.NextShardIterator } : {}) };
  }

  /** After the last record read, or from the newest on. */
  private async iterator(shardId: string, after: string | undefined): Promise<string> {
    const { ShardIterator } = await this.options.client.send(
      new GetShardIteratorCommand({
        StreamName: this.options.streamName,
        ShardId: shardId,
        ...(after ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after } : { ShardIteratorType: 'LATEST' }),
      }),
    );
    return ShardIterator!;
  }
}
