import type { MetricsReader } from '../../ports/metrics-reader.js';
import type { MetricName, Telemetry } from '../../ports/telemetry.js';

const MinuteMs = 60_000;
/** How long counts by minute are kept: the console's overview reads the last hour. */
const KeptMinutes = 24 * 60;

interface Count {
  readonly metric: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** Minute (epoch ms / 60 000) → sum. */
  readonly minutes: Map<number, number>;
}

/** Local stand-in for CloudWatch metrics: in-memory totals, shown by the local runtime, and counts by minute for the console. */
export class CountingTelemetry implements Telemetry, MetricsReader {
  readonly totals = new Map<string, number>();
  private readonly byMinute = new Map<string, Count>();
  private prunedAt = 0;

  constructor(private readonly now: () => number = Date.now) {}

  count(metric: MetricName, value = 1, dimensions?: Readonly<Record<string, string>>): void {
    const key = dimensions ? `${metric}{${Object.entries(dimensions).map(([k, v]) => `${k}=${v}`).join(',')}}` : metric;
    this.totals.set(key, (this.totals.get(key) ?? 0) + value);
    const minute = Math.floor(this.now() / MinuteMs);
    const count = this.byMinute.get(key) ?? { metric, dimensions: dimensions ?? {}, minutes: new Map<number, number>() };
    count.minutes.set(minute, (count.minutes.get(minute) ?? 0) + value);
    this.byMinute.set(key, count);
    if (minute !== this.prunedAt) this.prune(minute);
  }

  /** Drops minutes older than the ones kept; once a minute, not on every count. */
  private prune(minute: number): void {
    this.prunedAt = minute;
    for (const count of this.byMinute.values()) for (const old of count.minutes.keys()) if (old < minute - KeptMinutes) count.minutes.delete(old);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.totals);
  }

  async perMinute(metrics: readonly MetricName[], from: Date, to: Date): Promise<Record<string, number[]>> {
    const first = Math.floor(from.getTime() / MinuteMs);
    const slots = Math.max(0, Math.ceil(to.getTime() / MinuteMs) - first);
    const result: Record<string, number[]> = Object.fromEntries(metrics.map((m) => [m, new Array<number>(slots).fill(0)]));
    for (const count of this.byMinute.values()) {
      const series = result[count.metric];
      if (!series) continue;
      for (const [minute, value] of count.minutes) if (minute >= first && minute < first + slots) series[minute - first]! += value;
    }
    return result;
  }

  async totalsBy(metric: MetricName, dimension: string, from: Date, to: Date): Promise<Record<string, number>> {
    const first = Math.floor(from.getTime() / MinuteMs);
    const last = Math.ceil(to.getTime() / MinuteMs);
    const totals: Record<string, number> = {};
    for (const count of this.byMinute.values()) {
      const value = count.dimensions[dimension];
      if (count.metric !== metric || value === undefined) continue;
      for (const [minute, n] of count.minutes) if (minute >= first && minute < last) totals[value] = (totals[value] ?? 0) + n;
    }
    return totals;
  }
}
