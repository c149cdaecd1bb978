import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { configFromEnvironment, createObservability, lazily, profileStore, resolveDependencies } from '../composition.js';
import { resolveBatch, type ResolveDependencies } from '../use-cases/resolve.js';
import type { KinesisHandler } from './archiver.js';
import { toDeliveredRecords } from './kinesis.js';

/**
 * Identity resolution over a stream batch. Failures throw, so the event source mapping bisects
 * the batch until a poison record is isolated and sent to the on-failure destination.
 */
export function createResolverHandler(deps: ResolveDependencies): KinesisHandler {
  return async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
    try {
      await resolveBatch(toDeliveredRecords(event), deps);
      return { batchItemFailures: [] };
    } finally {
      deps.telemetry.flush();
    }
  };
}

const production = lazily(() => {
  const config = configFromEnvironment();
  const observability = createObservability(config);
  return createResolverHandler(resolveDependencies({ ...observability, config, profiles: profileStore(config, observability) }));
});
export const handler: KinesisHandler = (event) => production()(event);
