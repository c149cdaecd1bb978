import { PrivacyTiming } from '../contracts.js';
import {
  configFromEnvironment,
  deadLetterStore,
  destinationStore,
  dynamoDbClient,
  eventBridgeBus,
  lakeStore,
  lambdaObservability,
  privacyParts,
  privacyWorker,
  profileStore,
  publisher,
  s3Client,
  segmentStore,
  sqsHeldDeliveries,
} from '../composition.js';
import { S3ObjectStore } from '../adapters/aws/s3-object-store.js';
import type { PrivacyRunReport, PrivacyWorker } from '../use-cases/privacy-worker.js';
import { lambdaHandler } from './shared/lambda.js';

/**
 * The privacy worker, run on a schedule with one instance at a time: it takes each open request
 * as far as it can within `budgetMs`; the next run carries on from the step saved.
 */
export function createPrivacyWorkerHandler(work: PrivacyWorker, budgetMs: number = PrivacyTiming.runBudgetMs): (event: unknown) => Promise<PrivacyRunReport> {
  return async () => work.run(Date.now() + budgetMs);
}

export const handler = lambdaHandler(() => {
  const config = configFromEnvironment();
  const observability = lambdaObservability(config);
  const client = dynamoDbClient(config);
  const s3 = s3Client(config);
  const stores = {
    ...observability,
    config,
    profiles: profileStore(config, observability, client),
    segments: segmentStore(config, client),
    lake: lakeStore(config, s3),
    deadLetters: deadLetterStore(config, client),
    ...privacyParts(config, client),
  };
  const announcer = publisher({ ...stores, destinations: destinationStore(config, client) }, eventBridgeBus(config));
  const work = privacyWorker(stores, {
    announcer,
    deliveries: [sqsHeldDeliveries(config)],
    ...(config.queryResultsBucket ? { queryResults: new S3ObjectStore(s3, config.queryResultsBucket) } : {}),
  });
  return { ...observability, handler: createPrivacyWorkerHandler(work) };
});
