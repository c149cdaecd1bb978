import { ActivationTiming } from '../contracts.js';
import { configFromEnvironment, destinationStore, dynamoDbClient, eventBridgeBus, lakeStore, lambdaObservability, profileStore, publisher, segmentStore } from '../composition.js';
import type { PublishReport, Publisher } from '../use-cases/publisher.js';
import { lambdaHandler } from './shared/lambda.js';

export type PublisherRunReport = PublishReport;

/**
 * The publisher: one pass over the outbox feed per invocation, within `budgetMs`. In AWS it is
 * invoked when a profile write leaves changes in the outbox (the profile table's stream, filtered
 * to items that carry an outbox, rings it), and once a minute by a schedule that sweeps up what a
 * failed run or a refusing bus left; it costs nothing while no segment changes (docs/activation.md).
 * Locally the runtime rings it after such writes, and sweeps on a timer.
 */
export function createPublisherHandler(work: Publisher, budgetMs: number = ActivationTiming.runBudgetMs): (event: unknown) => Promise<PublisherRunReport> {
  // Changes written while a pass runs ring again, so one pass per invocation misses nothing.
  return async () => work.run(Date.now() + budgetMs);
}

export const handler = lambdaHandler(() => {
  const config = configFromEnvironment();
  const observability = lambdaObservability(config);
  const client = dynamoDbClient(config);
  const work = publisher(
    { ...observability, config, profiles: profileStore(config, observability, client), segments: segmentStore(config, client), destinations: destinationStore(config, client), lake: lakeStore(config) },
    eventBridgeBus(config),
  );
  return { ...observability, handler: createPublisherHandler(work) };
});
