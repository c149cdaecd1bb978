import type { Readable } from 'node:stream';

export interface PutObjectInput {
  readonly key: string;
  readonly body: Uint8Array | string;
  readonly contentType: string;
  readonly contentEncoding?: string;
}

/** The lake bucket, seen as keys and bytes. */
export interface ObjectStore {
  put(input: PutObjectInput): Promise<void>;
  /** Streams an object's body; undefined when it does not exist. */
  openRead(key: string): Promise<{ body: Readable; etag: string } | undefined>;
  exists(key: string): Promise<boolean>;
  /** Keys under `prefix` in order, from the first after `startAfter` when given. */
  listKeys(prefix: string, startAfter?: string): AsyncIterable<string>;
  /** Deletes an object, and in a versioned bucket every earlier version of it; how many versions went (0 when there was none). */
  delete(key: string): Promise<number>;
  /** In a versioned bucket, deletes every version of an object but the current one; how many went. */
  deleteEarlierVersions(key: string): Promise<number>;
  ping(): Promise<void>;
}
