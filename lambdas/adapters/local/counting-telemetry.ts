import type { MetricName, Telemetry } from '../../ports/telemetry.js';

/** Local stand-in for CloudWatch metrics: in-memory totals, shown by the local runtime. */
export class CountingTelemetry implements Telemetry {
  readonly totals = new Map<string, number>();

  count(metric: MetricName, value = 1, dimensions?: Readonly<Record<string, string>>): void {
    const key = dimensions ? `${metric}{${Object.entries(dimensions).map(([k, v]) => `${k}=${v}`).join(',')}}` : metric;
    this.totals.set(key, (this.totals.get(key) ?? 0) + value);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.totals);
  }
}
