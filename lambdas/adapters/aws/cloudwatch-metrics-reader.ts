import { GetMetricDataCommand, ListMetricsCommand, type CloudWatchClient, type Metric, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { MetricsNamespace } from '../../contracts.js';
import type { MetricsReader } from '../../ports/metrics-reader.js';
import type { MetricName } from '../../ports/telemetry.js';

/** GetMetricData takes at most 500 queries a call. */
const QueriesPerCall = 500;

/**
 * The functions' counters (Powertools EMF, namespace `Cdp`) read back from CloudWatch. Every
 * function publishes under its own `service` dimension, so each metric is listed first and its
 * series summed.
 */
export class CloudWatchMetricsReader implements MetricsReader {
  constructor(private readonly client: CloudWatchClient) {}

  async perMinute(metrics: readonly MetricName[], from: Date, to: Date): Promise<Record<string, number[]>> {
    const first = Math.floor(from.getTime() / 60_000);
    const slots = Math.max(0, Math.ceil(to.getTime() / 60_000) - first);
    const result: Record<string, number[]> = Object.fromEntries(metrics.map((m) => [m, new Array<number>(slots).fill(0)]));
    for (const name of metrics) {
      // The counts without other dimensions than `service`: the totals.
      const series = (await this.list(name)).filter((m) => (m.Dimensions ?? []).every((d) => d.Name === 'service'));
      for (const data of await this.data(series, 60, from, to)) {
        data.timestamps.forEach((at, i) => {
          const slot = Math.floor(at.getTime() / 60_000) - first;
          if (slot >= 0 && slot < slots) result[name]![slot]! += data.values[i] ?? 0;
        });
      }
    }
    return result;
  }

  async totalsBy(metric: MetricName, dimension: string, from: Date, to: Date): Promise<Record<string, number>> {
    const series = (await this.list(metric)).filter((m) => (m.Dimensions ?? []).some((d) => d.Name === dimension));
    const period = Math.max(60, Math.ceil((to.getTime() - from.getTime()) / 60_000) * 60);
    const totals: Record<string, number> = {};
    for (const data of await this.data(series, period, from, to)) {
      const value = data.metric.Dimensions?.find((d) => d.Name === dimension)?.Value;
      if (value !== undefined) totals[value] = (totals[value] ?? 0) + data.values.reduce((a, b) => a + b, 0);
    }
    return totals;
  }

  private async list(name: string): Promise<Metric[]> {
    const metrics: Metric[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListMetricsCommand({ Namespace: MetricsNamespace, MetricName: name, RecentlyActive: 'PT3H', ...(token ? { NextToken: token } : {}) }));
      metrics.push(...(page.Metrics ?? []));
      token = page.NextToken;
    } while (token);
    return metrics;
  }

  private async data(metrics: readonly Metric[], period: number, from: Date, to: Date): Promise<Array<{ metric: Metric; timestamps: Date[]; values: number[] }>> {
    const out: Array<{ metric: Metric; timestamps: Date[]; values: number[] }> = [];
    for (let start = 0; start < metrics.length; start += QueriesPerCall) {
      const chunk = metrics.slice(start, start + QueriesPerCall);
      const queries: MetricDataQuery[] = chunk.map((metric, i) => ({ Id: `m${i}`, MetricStat: { Metric: metric, Period: period, Stat: 'Sum' }, ReturnData: true }));
      let token: string | undefined;
      do {
        const page = await this.client.send(new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: from, EndTime: to, ...(token ? { NextToken: token } : {}) }));
        for (const result of page.MetricDataResults ?? []) {
          const metric = chunk[Number(result.Id!.slice(1))]!;
          out.push({ metric, timestamps: result.Timestamps ?? [], values: result.Values ?? [] });
        }
        token = page.NextToken;
      } while (token);
    }
    return out;
  }
}
