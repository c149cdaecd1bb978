import type { HandlerName } from '../../lambdas/contracts.js';
import type { MeteredCounts } from './cost-model.js';

/** One workload's figures, for comparing workloads of the same run. */
export interface WorkloadFigures {
  readonly events: number;
  /** API requests (`/v1/batch` calls) it took. */
  readonly requests: number;
  readonly costPerMillionUsd: number;
  readonly costPerMillionUsdOnDemand: number;
  readonly ddbWruPerEvent: number;
  readonly ddbRruPerEvent: number;
  readonly freshnessP50Ms: number;
  readonly freshnessP99Ms: number;
  readonly eventsPerSecond: number;
}

/**
 * What `npm run bench` prints as its last line (docs/benchmarks.md): the first workload's full
 * report, the bundles, and every workload's figures side by side.
 */
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
  /** From an event's arrival on the stream to the membership change it caused (null without segments). */
  readonly segmentFreshnessP50Ms: number | null;
  readonly segmentFreshnessP99Ms: number | null;
  /** DynamoDB write units (table and index) per event, by the function that caused them. */
  readonly ddbWruPerEventByFunction: Readonly<Record<string, number>>;
  /** Segment entries and exits recorded per event of the throughput run. */
  readonly membershipChangesPerEvent: number;
  /** One segment backfilled over the whole lake after the run: the wait it owes (definitions cache and archiver), then the work. */
  readonly backfill: {
    readonly totalMs: number;
    readonly waitMs: number;
    readonly workMs: number;
    readonly profilesSeeded: number;
    readonly profilesEvaluated: number;
    readonly members: number;
  };
  readonly bundleBytes: Readonly<Record<HandlerName, number>>;
  readonly coldInitMs: Readonly<Record<HandlerName, number>>;
  /** A handler that imports nothing, loaded the same way in the same run. */
  readonly baselineColdInitMs: number;
  /** Each function's cold init over the baseline's. */
  readonly coldInitRatio: Readonly<Record<HandlerName, number>>;
  /** Every workload of the run, by name (`standard`, `sparse`, or `file`). */
  readonly workloads: Readonly<Record<string, WorkloadFigures>>;
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
    readonly segmentFreshnessSamples: number;
    readonly workload: string;
  };
}
