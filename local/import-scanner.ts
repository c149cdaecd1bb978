import type { S3Event } from 'aws-lambda';
import { LakeLayout } from '../lambdas/contracts.js';
import type { ImportHandler } from '../lambdas/handlers/importer.js';
import type { AppLogger } from '../lambdas/ports/logger.js';
import type { ObjectStore } from '../lambdas/ports/object-store.js';
import { importResultKey, isImportFile } from '../lambdas/use-cases/import-file.js';
import { RepeatingTask } from './repeating-task.js';

/**
 * Local stand-in for the bucket's `imports/` notification: lists the prefix and hands each file
 * without a result object to the import handler. A file is done once its result exists, so a
 * crash mid-import simply runs it again (with the same derived messageIds).
 */
export class ImportScanner {
  private readonly task: RepeatingTask;

  constructor(
    private readonly lake: ObjectStore,
    private readonly bucket: string,
    private readonly handler: ImportHandler,
    logger: AppLogger,
    intervalMs: number,
  ) {
    this.task = new RepeatingTask(() => this.scanOnce(), intervalMs, (error) => logger.warn('import scan failed; will retry', { error: String(error) }));
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One pass over `imports/`, as the loop makes every interval; stopping ends it between files. */
  async scanOnce(): Promise<void> {
    const keys = new Set<string>();
    for await (const key of this.lake.listKeys(LakeLayout.importsPrefix)) keys.add(key);
    for (const key of keys) {
      if (this.task.stopping || !isImportFile(key) || keys.has(importResultKey(key))) continue;
      await this.handler(notification(this.bucket, key));
    }
  }
}

function notification(bucket: string, key: string): S3Event {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'local' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': 'local', 'x-amz-id-2': 'local' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'imports',
          bucket: { name: bucket, ownerIdentity: { principalId: 'local' }, arn: `arn:aws:s3:::${bucket}` },
          object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size: 0, eTag: '', sequencer: '0' },
        },
      },
    ],
  };
}
