import type { S3Event } from 'aws-lambda';
import { configFromEnvironment, createObservability, eventStream, importDependencies, lakeStore, lazily, rejectionLog } from '../composition.js';
import { importFile, importResultKey, isImportFile, type ImportDependencies, type ImportResult } from '../use-cases/import-file.js';

export type ImportHandler = (event: S3Event) => Promise<ImportResult[]>;

/**
 * S3 notifications arrive at least once; a file whose result object already exists is skipped.
 * A failed import (stream unavailable) throws, so Lambda's async retries run it again.
 */
export function createImportHandler(deps: ImportDependencies): ImportHandler {
  return async (event) => {
    const results: ImportResult[] = [];
    try {
      for (const record of event.Records) {
        const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
        if (!isImportFile(key) || (await deps.lake.exists(importResultKey(key)))) continue;
        const result = await importFile(key, deps);
        if (result) results.push(result);
        if (result?.status === 'failed') throw new Error(`import of ${key} failed: ${result.error}`);
      }
      return results;
    } finally {
      deps.telemetry.flush();
    }
  };
}

const production = lazily(() => {
  const config = configFromEnvironment();
  const observability = createObservability(config);
  const lake = lakeStore(config);
  return createImportHandler(
    importDependencies({ ...observability, lake, stream: eventStream(config), rejectionLog: rejectionLog(lake, observability) }),
  );
});
export const handler: ImportHandler = (event) => production()(event);
