import { SegmentTiming } from '../contracts.js';
import { configFromEnvironment, dynamoDbClient, lakeStore, lambdaObservability, profileStore, segmenter, segmentStore } from '../composition.js';
import type { Segmenter, SegmenterReport } from '../use-cases/segmenter.js';
import { lambdaHandler } from './shared/lambda.js';

/**
 * The segmentation function, run on a schedule with one instance at a time: due profiles,
 * membership changes to the lake, and backfills, each run for at most `budgetMs`; what is left
 * is picked up by the next run.
 */
export function createSegmenterHandler(work: Segmenter, budgetMs: number = SegmentTiming.runBudgetMs): (event: unknown) => Promise<SegmenterReport> {
  return async () => work.run(Date.now() + budgetMs);
}

export const handler = lambdaHandler(() => {
  const config = configFromEnvironment();
  const observability = lambdaObservability(config);
  const client = dynamoDbClient(config);
  const work = segmenter({ ...observability, config, profiles: profileStore(config, observability, client), segments: segmentStore(config, client), lake: lakeStore(config) });
  return { ...observability, handler: createSegmenterHandler(work) };
});
