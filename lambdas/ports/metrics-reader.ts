import type { MetricName } from './telemetry.js';

/** The counters of ports/telemetry.ts read back over time: CloudWatch in AWS, the local runtime's own counts locally. */
export interface MetricsReader {
  /** The sum of each counter in each minute of `[from, to)`, oldest first (0 for a minute without any), over every dimension. */
  perMinute(metrics: readonly MetricName[], from: Date, to: Date): Promise<Record<string, number[]>>;
  /** The sum of a counter over `[from, to)` for each value of one of its dimensions. */
  totalsBy(metric: MetricName, dimension: string, from: Date, to: Date): Promise<Record<string, number>>;
}
