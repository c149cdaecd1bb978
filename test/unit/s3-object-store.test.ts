import { DeleteObjectsCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../lambdas/adapters/aws/s3-object-store.js';

/**
 * The deployed lake is versioned: an object an erasure rewrites or deletes keeps its earlier
 * versions until they are deleted too. s3rver has no versioning, so this runs against a mock of
 * the S3 API (aws-sdk-client-mock), page by page as S3 lists versions.
 */
const s3 = mockClient(S3Client);
const key = 'events/dt=2026-11-20/shardId-0-1-9.ndjson.gz';

beforeEach(() => {
  s3.reset();
  s3.on(ListObjectVersionsCommand, { KeyMarker: undefined })
    .resolves({
      IsTruncated: true,
      NextKeyMarker: key,
      NextVersionIdMarker: 'v2',
      Versions: [
        { Key: key, VersionId: 'v3', IsLatest: true },
        { Key: key, VersionId: 'v2', IsLatest: false },
      ],
    })
    .on(ListObjectVersionsCommand, { KeyMarker: key, VersionIdMarker: 'v2' })
    .resolves({
      IsTruncated: false,
      Versions: [
        { Key: key, VersionId: 'v1', IsLatest: false },
        // Same prefix, another object: never touched.
        { Key: `${key}.extra`, VersionId: 'x1', IsLatest: false },
      ],
      DeleteMarkers: [{ Key: key, VersionId: 'm1', IsLatest: false }],
    });
  s3.on(DeleteObjectsCommand).resolves({});
});

const deleted = (): string[] => s3.commandCalls(DeleteObjectsCommand).flatMap((call) => call.args[0].input.Delete!.Objects!.map((o) => `${o.Key}@${o.VersionId}`));

describe('S3ObjectStore on a versioned bucket', () => {
  it('deletes every earlier version and delete marker of a rewritten object, across pages, keeping the current one', async () => {
    const store = new S3ObjectStore(new S3Client({ region: 'us-east-1' }), 'lake', true);
    expect(await store.deleteEarlierVersions(key)).toBe(3);
    expect(deleted()).toEqual([`${key}@v2`, `${key}@v1`, `${key}@m1`]);
  });

  it('deletes an object with all of its versions', async () => {
    const store = new S3ObjectStore(new S3Client({ region: 'us-east-1' }), 'lake', true);
    expect(await store.delete(key)).toBe(4);
    expect(deleted()).toEqual([`${key}@v3`, `${key}@v2`, `${key}@v1`, `${key}@m1`]);
  });

  it('lists no versions of an unversioned bucket (s3rver locally)', async () => {
    const store = new S3ObjectStore(new S3Client({ region: 'us-east-1' }), 'lake', false);
    expect(await store.deleteEarlierVersions(key)).toBe(0);
    expect(s3.commandCalls(ListObjectVersionsCommand)).toHaveLength(0);
  });
});
