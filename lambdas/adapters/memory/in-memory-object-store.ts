import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ObjectStore, PutObjectInput } from '../../ports/object-store.js';

/** A bucket in memory, for unit tests: keys listed in order, as S3 lists them. */
export class InMemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, Buffer>();

  async put(input: PutObjectInput): Promise<void> {
    this.objects.set(input.key, Buffer.from(input.body));
  }

  async openRead(key: string): Promise<{ body: Readable; etag: string } | undefined> {
    const body = this.objects.get(key);
    return body ? { body: Readable.from([body]), etag: createHash('md5').update(body).digest('hex') } : undefined;
  }

  async exists(key: string): Promise<boolean> {
    return this.objects.has(key);
  }

  async *listKeys(prefix: string, startAfter = ''): AsyncIterable<string> {
    for (const key of [...this.objects.keys()].sort()) if (key.startsWith(prefix) && key > startAfter) yield key;
  }

  async delete(key: string): Promise<number> {
    return this.objects.delete(key) ? 1 : 0;
  }

  async deleteEarlierVersions(): Promise<number> {
    return 0;
  }

  async ping(): Promise<void> {}
}
