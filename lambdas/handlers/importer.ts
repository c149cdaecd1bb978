import type { S3Event } from 'aws-lambda';
import { configFromEnvironment, eventStream, importDependencies, lakeStore, lambdaObservability, privacyParts, rejectionLog } from '../composition.js';
import { importFile, importResultKey, isImportFile, type ImportDependencies, type ImportResult } from '../use-cases/import-file.js';
import { lambdaHandler } from './shared/lambda.js';

export type ImportHandler = (event: S3Event) => Promise<ImportResult[]>;

/**
 * S3 notifies every object created under `imports/`; only import files are imported (names are
 * matched without regard to case, which S3's suffix filters cannot do). Notifications arrive at
 * least once; a file whose result object already exists is skipped. A failed import (stream
 * unavailable) throws, so Lambda's async retries run it again.
 */
export function createImportHandler(deps: ImportDependencies): ImportHandler {
  return async (event) => {
    const results: ImportResult[] = [];
    for (const record of event.Records) {
      const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
      if (!isImportFile(key) || (await deps.lake.exists(importResultKey(key)))) continue;
      const result = await importFile(key, deps);
      if (result) results.push(result);
      if (result?.status === 'failed') throw new Error(`import of ${key} failed: ${result.error}`);
    }
    return results;
  };
}

export const handler = lambdaHandler(() => {
  const config = configFromEnvironment();
  const observability = lambdaObservability(config);
  const lake = lakeStore(config);
  return {
    ...observability,
    handler: createImportHandler(importDependencies({ ...observability, config, lake, stream: eventStream(config), rejectionLog: rejectionLog(lake, { ...observability, config, ...privacyParts(config) }) })),
  };
});
