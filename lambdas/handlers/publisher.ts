import { ActivationTiming } from '../contracts.js';
import { configFromEnvironment, destinationStore, dynamoDbClient, eventBridgeBus, lakeStore, lambdaObservability, profileStore, publisher, segmentStore } from '../composition.js';
import type { PublishReport, Publisher } from '../use-cases/publisher.js';
import { sleep } from '../support/retry.js';
import { lambdaHandler } from './shared/lambda.js';

export interface PublisherRunReport extends PublishReport {
  /** Passes over the outbox feed in this run. */
  readonly passes: number;
}

/**
 * The publisher, run on a schedule with one instance at a time: it passes over the outbox feed
 * again and again for `budgetMs`, pausing `idlePollMs` after a pass that found nothing, so a
 * change recorded while it runs is published within about that pause (docs/activation.md).
 * Locally the runtime calls it with a short budget on a timer.
 */
export function createPublisherHandler(work: Publisher, budgetMs: number = ActivationTiming.runBudgetMs, idlePollMs: number = ActivationTiming.idlePollMs): (event: unknown) => Promise<PublisherRunReport> {
  return async () => {
    const deadline = Date.now() + budgetMs;
    const totals = { changes: 0, published: 0, retained: 0, passes: 0 };
    let more: boolean;
    do {
      const report = await work.run(deadline);
      totals.changes += report.changes;
      totals.published += report.published;
      totals.retained += report.retained;
      totals.passes++;
      more = report.more;
      if (report.changes === 0 && !more && Date.now() + idlePollMs < deadline) await sleep(idlePollMs);
    } while (Date.now() + idlePollMs < deadline);
    return { ...totals, more };
  };
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
