import { gunzipSync } from 'node:zlib';
import type { ObjectStore } from '../ports/object-store.js';

/** A lake object's bytes, gunzipped when they are gzip (by their magic number, whatever the key says); undefined when it is gone. */
export async function readObject(store: ObjectStore, key: string): Promise<Buffer | undefined> {
  const opened = await store.openRead(key);
  if (!opened) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of opened.body) chunks.push(Buffer.from(chunk as Uint8Array));
  const bytes = Buffer.concat(chunks);
  return bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
}

/** The non-empty lines of a JSON-lines lake object; undefined when it is gone. */
export async function readLines(store: ObjectStore, key: string): Promise<string[] | undefined> {
  const bytes = await readObject(store, key);
  return bytes?.toString('utf8').split('\n').filter((line) => line.trim() !== '');
}
