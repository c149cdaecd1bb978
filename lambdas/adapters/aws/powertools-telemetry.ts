import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricName, Telemetry } from '../../ports/telemetry.js';

/** CloudWatch metrics in Embedded Metric Format, via Powertools. */
export class PowertoolsTelemetry implements Telemetry {
  constructor(private readonly metrics: Metrics) {}

  count(metric: MetricName, value = 1, dimensions?: Readonly<Record<string, string>>): void {
    if (value === 0) return;
    if (dimensions) {
      const single = this.metrics.singleMetric();
      for (const [name, dimension] of Object.entries(dimensions)) single.addDimension(name, dimension);
      single.addMetric(metric, MetricUnit.Count, value);
      return;
    }
    this.metrics.addMetric(metric, MetricUnit.Count, value);
  }
}
