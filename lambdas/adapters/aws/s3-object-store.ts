import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  paginateListObjectsV2,
  ListObjectVersionsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { ObjectStore, PutObjectInput } from '../../ports/object-store.js';

/** The lake bucket on Amazon S3 (or s3rver locally). */
export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    /** The bucket keeps earlier versions (the deployed lake): deleting means deleting those too. s3rver has no versioning. */
    private readonly versioned = false,
  ) {}

  async put(input: PutObjectInput): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: input.key,
        Body: input.body,
        ContentType: input.contentType,
        ...(input.contentEncoding ? { ContentEncoding: input.contentEncoding } : {}),
      }),
    );
  }

  async openRead(key: string): Promise<{ body: Readable; etag: string } | undefined> {
    try {
      const result = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return { body: result.Body as Readable, etag: (result.ETag ?? '').replaceAll('"', '') };
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (error) {
      if (error instanceof NotFound || (error as { name?: string }).name === 'NotFound') return false;
      throw error;
    }
  }

  async *listKeys(prefix: string, startAfter?: string): AsyncIterable<string> {
    for await (const page of paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: prefix, ...(startAfter ? { StartAfter: startAfter } : {}) })) {
      for (const object of page.Contents ?? []) if (object.Key) yield object.Key;
    }
  }

  async delete(key: string): Promise<number> {
    if (this.versioned) return this.deleteVersions(key, () => true);
    const existed = await this.exists(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    return existed ? 1 : 0;
  }

  async deleteEarlierVersions(key: string): Promise<number> {
    return this.versioned ? this.deleteVersions(key, (latest) => !latest) : 0;
  }

  /** Deletes the versions (and delete markers) of exactly `key` that `which` picks, a thousand per call. */
  private async deleteVersions(key: string, which: (isLatest: boolean) => boolean): Promise<number> {
    const doomed: Array<{ Key: string; VersionId: string }> = [];
    let markers: { KeyMarker?: string; VersionIdMarker?: string } = {};
    for (;;) {
      const page = await this.client.send(new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: key, ...markers }));
      for (const version of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]) {
        if (version.Key === key && version.VersionId && which(version.IsLatest === true)) doomed.push({ Key: key, VersionId: version.VersionId });
      }
      if (!page.IsTruncated) break;
      markers = { ...(page.NextKeyMarker ? { KeyMarker: page.NextKeyMarker } : {}), ...(page.NextVersionIdMarker ? { VersionIdMarker: page.NextVersionIdMarker } : {}) };
    }
    for (let start = 0; start < doomed.length; start += 1000) {
      const result = await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: doomed.slice(start, start + 1000), Quiet: true } }));
      if (result.Errors?.length) throw new Error(`S3 kept ${result.Errors.length} versions of ${key}: ${result.Errors[0]!.Code ?? ''} ${result.Errors[0]!.Message ?? ''}`);
    }
    return doomed.length;
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }
}
