import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { archiveDependencies, configFromEnvironment, createObservability, lakeStore, lazily } from '../composition.js';
import { archiveBatch, type ArchiveDependencies } from '../use-cases/archive.js';
import { toDeliveredRecords, toBatchResponse } from './kinesis.js';

export type KinesisHandler = (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse>;

export function createArchiverHandler(deps: ArchiveDependencies): KinesisHandler {
  return async (event) => {
    try {
      return toBatchResponse(await archiveBatch(toDeliveredRecords(event), deps));
    } finally {
      deps.telemetry.flush();
    }
  };
}

const production = lazily(() => {
  const config = configFromEnvironment();
  return createArchiverHandler(archiveDependencies({ ...createObservability(config), lake: lakeStore(config) }));
});
export const handler: KinesisHandler = (event) => production()(event);
