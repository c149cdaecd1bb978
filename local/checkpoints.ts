import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Per-shard checkpoints of one consumer: the last sequence number fully processed. Written
 * atomically (temp file, fsync, rename) so a kill -9 leaves either the old or the new value.
 */
export class FileCheckpoints {
  constructor(private readonly directory: string) {}

  async get(shardId: string): Promise<string | undefined> {
    try {
      return (await readFile(join(this.directory, shardId), 'utf8')).trim() || undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async set(shardId: string, sequenceNumber: string): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const target = join(this.directory, shardId);
    const temporary = `${target}.tmp`;
    const file = await open(temporary, 'w');
    try {
      await file.writeFile(sequenceNumber);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, target);
  }
}
