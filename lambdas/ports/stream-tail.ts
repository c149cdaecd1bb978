import type { DeliveredRecord } from './event-stream.js';

/** Where a reader stands on each shard: the last sequence number it read, and the iterator to go on with. */
export type StreamPosition = Readonly<Record<string, { readonly after?: string; readonly iterator?: string }>>;

/**
 * Reads the newest records of the event stream for someone watching it (the console's live
 * view), without being one of its consumers: nothing is read, and nothing costs, unless asked.
 */
export interface StreamTail {
  /**
   * Records after `position`, at most `limitPerShard` from each shard; a shard it does not name
   * is read from its newest record on. Returns the position to read from next time.
   */
  read(position: StreamPosition, limitPerShard: number): Promise<{ records: DeliveredRecord[]; position: StreamPosition }>;
}
