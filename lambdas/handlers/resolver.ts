import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { configFromEnvironment, createObservability, deadLetterStore, dynamoDbClient, isolatingResolveDependencies, lazily, profileStore } from '../composition.js';
import { resolveIsolating, type IsolatingResolveDependencies } from '../use-cases/resolve.js';
import type { KinesisHandler } from './archiver.js';
import { toDeliveredRecords } from './kinesis.js';

/**
 * Identity resolution over a stream batch. A record that fails on its own is isolated and
 * dead-lettered within the invocation, so the shard moves on; platform failures throw, so the
 * event source mapping retries (and bisects) the batch and, after its retries, records it on the
 * on-failure queue.
 */
export function createResolverHandler(deps: IsolatingResolveDependencies): KinesisHandler {
  return async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
    try {
      await resolveIsolating(toDeliveredRecords(event), deps);
      return { batchItemFailures: [] };
    } finally {
      deps.telemetry.flush();
    }
  };
}

const production = lazily(() => {
  const config = configFromEnvironment();
  const observability = createObservability(config);
  const client = dynamoDbClient(config);
  return createResolverHandler(
    isolatingResolveDependencies({ ...observability, config, profiles: profileStore(config, observability, client), deadLetters: deadLetterStore(config, client) }),
  );
});
export const handler: KinesisHandler = (event) => production()(event);
