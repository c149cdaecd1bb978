import type { HandlerName } from '../../lambdas/contracts.js';
import type { MeteredCounts } from './cost-model.js';

/** What `npm run bench` prints as its last line (docs/benchmarks.md). */
export interface BenchReport {
  readonly events: number;
  readonly eventsPerSecond: number;
  readonly costPerMillionUsd: number;
  readonly costPerMillionUsdOnDemand: number;
  readonly ddbWruPerEvent: number;
  readonly ddbRruPerEvent: number;
  readonly lambdaGbSecondsPerMillion: number;
  readonly freshnessP50Ms: number;
  readonly freshnessP99Ms: number;
  /** Reserved until segments are measured. */
  readonly segmentFreshnessP50Ms: number | null;
  readonly segmentFreshnessP99Ms: number | null;
  readonly bundleBytes: Readonly<Record<HandlerName, number>>;
  readonly coldInitMs: Readonly<Record<HandlerName, number>>;
  readonly counts: Omit<MeteredCounts, 'events' | 'kinesisOnDemandBytesIn' | 'streamConsumers'>;
  /** USD per million events, item by item. */
  readonly costLines: Readonly<Record<string, number>>;
  readonly settings: {
    readonly rate: number;
    readonly shards: number;
    readonly segments: number;
    readonly concurrency: number;
    readonly resolverBatch: number;
    readonly resolverWindowS: number;
    readonly archiverBatch: number;
    readonly archiverWindowS: number;
    readonly freshnessSamples: number;
    readonly workload: string;
  };
}
