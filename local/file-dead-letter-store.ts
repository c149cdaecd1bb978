import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { DeadLetter, DeadLetterStore, StoredDeadLetter } from '../lambdas/ports/dead-letter-store.js';

/**
 * The local stand-in for the event source mapping's on-failure destination: one JSON file per
 * failed batch under `<dataDir>/dlq/<consumer>/`. Unlike the SQS message Lambda sends, which only
 * names the shard and sequence range, each file holds the records themselves, so a redrive does
 * not depend on the stream's retention.
 */
export class FileDeadLetterStore implements DeadLetterStore {
  constructor(private readonly directory: string) {}

  async put(letter: DeadLetter): Promise<void> {
    const directory = join(this.directory, letter.consumer);
    await mkdir(directory, { recursive: true });
    const first = letter.records[0]?.sequenceNumber ?? 'empty';
    await writeFile(join(directory, `${letter.shardId}-${first}.json`), JSON.stringify(letter, null, 2));
  }

  async *list(consumer?: string): AsyncIterable<StoredDeadLetter> {
    let consumers: string[];
    try {
      consumers = consumer ? [consumer] : await readdir(this.directory);
    } catch {
      return;
    }
    for (const name of consumers) {
      const directory = join(this.directory, name);
      const files = await readdir(directory).catch(() => [] as string[]);
      for (const file of files.filter((f) => f.endsWith('.json')).sort()) {
        const path = join(directory, file);
        yield { key: relative(this.directory, path).split(sep).join('/'), letter: JSON.parse(await readFile(path, 'utf8')) as DeadLetter };
      }
    }
  }

  async remove(key: string): Promise<void> {
    if (key.includes('..')) throw new Error(`${key} is not a dead letter`);
    await rm(join(this.directory, key), { force: true });
  }
}
