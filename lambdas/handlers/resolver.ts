import { configFromEnvironment, deadLetterStore, dynamoDbClient, isolatingResolveDependencies, lakeStore, lambdaObservability, privacyParts, profileStore, segmentStore } from '../composition.js';
import { resolveIsolating, type IsolatingResolveDependencies } from '../use-cases/resolve.js';
import { lambdaHandler } from './shared/lambda.js';
import { toDeliveredRecords, type KinesisHandler } from './shared/kinesis.js';

/**
 * Identity resolution over a stream batch. A record that fails on its own is isolated and
 * dead-lettered within the invocation, so the shard moves on; platform failures throw, so the
 * event source mapping retries (and bisects) the batch and, after its retries, records it on the
 * on-failure queue.
 */
export function createResolverHandler(deps: IsolatingResolveDependencies): KinesisHandler {
  return async (event) => {
    await resolveIsolating(toDeliveredRecords(event), deps);
    return { batchItemFailures: [] };
  };
}

export const handler = lambdaHandler(() => {
  const config = configFromEnvironment();
  const observability = lambdaObservability(config);
  const client = dynamoDbClient(config);
  return {
    ...observability,
    handler: createResolverHandler(
      isolatingResolveDependencies({
        ...observability,
        config,
        profiles: profileStore(config, observability, client),
        deadLetters: deadLetterStore(config, client),
        ...privacyParts(config, client),
        segments: segmentStore(config, client),
        lake: lakeStore(config),
      }),
    ),
  };
});
