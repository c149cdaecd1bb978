import { archiveDependencies, configFromEnvironment, lakeStore, lambdaObservability, privacyParts } from '../composition.js';
import { archiveBatch, type ArchiveDependencies } from '../use-cases/archive.js';
import { lambdaHandler } from './shared/lambda.js';
import { toBatchResponse, toDeliveredRecords, type KinesisHandler } from './shared/kinesis.js';

/** Writes each delivered batch to the lake; records whose object could not be written are reported failed and redelivered. */
export function createArchiverHandler(deps: ArchiveDependencies): KinesisHandler {
  return async (event) => toBatchResponse(await archiveBatch(toDeliveredRecords(event), deps));
}

export const handler = lambdaHandler(() => {
  const config = configFromEnvironment();
  const observability = lambdaObservability(config);
  return { ...observability, handler: createArchiverHandler(archiveDependencies({ ...observability, config, lake: lakeStore(config), ...privacyParts(config) })) };
});
