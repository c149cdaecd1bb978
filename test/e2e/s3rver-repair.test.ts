import { HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createClients } from '../../lambdas/composition.js';
import { startEmulators } from '../../local/emulators.js';

const bucket = 'lake';

/** The files s3rver keeps for `key` in `bucket`, by suffix. */
function s3rverFile(dataDir: string, key: string, suffix: string): string {
  return join(dataDir, 's3', bucket, `${key}._S3rver_${suffix}`);
}

describe('a restart after s3rver was killed in the middle of a PUT', () => {
  it('removes the unfinished, unacknowledged objects, so listings and HeadBucket answer again, and keeps every finished one', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cdp-s3rver-repair-'));
    let emulators = await startEmulators(dataDir);
    let s3 = createClients({ local: emulators.endpoints }).s3;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const key of ['events/a.json', 'events/b.json', 'events/c.json', 'events/d.json']) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `{"key":"${key}"}` }));
    }
    s3.destroy();
    await emulators.close();

    // What a SIGKILL leaves: metadata opened but not written, metadata never written, and an md5 cut short.
    writeFileSync(s3rverFile(dataDir, 'events/b.json', 'metadata.json'), '');
    writeFileSync(s3rverFile(dataDir, 'events/c.json', 'metadata.json'), '{"content-ty');
    writeFileSync(s3rverFile(dataDir, 'events/d.json', 'object.md5'), '8f1');
    emulators = await startEmulators(dataDir);
    s3 = createClients({ local: emulators.endpoints }).s3;
    try {
      expect(emulators.unfinishedObjectsRemoved).toEqual(['lake/events/b.json', 'lake/events/c.json']);
      await s3.send(new HeadBucketCommand({ Bucket: bucket }));
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'events/' }));
      expect(listed.Contents?.map((o) => o.Key)).toEqual(['events/a.json', 'events/d.json']);
      const d = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'events/d.json' }));
      expect(await d.Body!.transformToString()).toBe('{"key":"events/d.json"}');
      expect(d.ETag).toMatch(/^"[0-9a-f]{32}"$/);
      expect(readdirSync(join(dataDir, 's3', bucket, 'events')).filter((f) => f.startsWith('b.json') || f.startsWith('c.json'))).toEqual([]);
    } finally {
      s3.destroy();
      await emulators.close();
    }
  });
});
