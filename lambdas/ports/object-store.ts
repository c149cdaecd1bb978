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
  listKeys(prefix: string): AsyncIterable<string>;
  ping(): Promise<void>;
}
