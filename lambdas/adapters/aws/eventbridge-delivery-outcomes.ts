import { GetMetricDataCommand, type CloudWatchClient, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { DeliveryOutcome, DeliveryOutcomes } from '../../ports/event-bus.js';

/** GetMetricData takes at most 500 queries a call. */
const QueriesPerCall = 500;

/** EventBridge's per-rule metrics (namespace AWS/Events) that make up an outcome. */
const RuleMetrics = {
  attempts: 'InvocationAttempts',
  delivered: 'SuccessfulInvocationAttempts',
  deadLettered: 'InvocationsSentToDlq',
} as const;
type Part = keyof typeof RuleMetrics;

/**
 * Delivery outcomes from the metrics EventBridge keeps for each rule on the bus: every
 * destination has one rule, named by `ruleName`. Failed attempts are the attempts that did not
 * succeed. CloudWatch sends these a minute or two late, and only for rules that had any.
 */
export class EventBridgeDeliveryOutcomes implements DeliveryOutcomes {
  constructor(
    private readonly client: CloudWatchClient,
    private readonly busName: string,
    private readonly ruleName: (destinationId: string) => string,
  ) {}

  async outcomes(destinationIds: readonly string[], from: Date, to: Date): Promise<Record<string, DeliveryOutcome>> {
    const sums = destinationIds.map((): Record<Part, number> => ({ attempts: 0, delivered: 0, deadLettered: 0 }));
    const queries = destinationIds.flatMap((id, index) =>
      (Object.keys(RuleMetrics) as Part[]).map((part) => ({ index, part, rule: this.ruleName(id) })),
    );
    const period = Math.max(60, Math.ceil((to.getTime() - from.getTime()) / 60_000) * 60);
    for (let start = 0; start < queries.length; start += QueriesPerCall) {
      const chunk = queries.slice(start, start + QueriesPerCall);
      const metricQueries: MetricDataQuery[] = chunk.map((q, i) => ({
        Id: `q${i}`,
        MetricStat: {
          Metric: { Namespace: 'AWS/Events', MetricName: RuleMetrics[q.part], Dimensions: [{ Name: 'EventBusName', Value: this.busName }, { Name: 'RuleName', Value: q.rule }] },
          Period: period,
          Stat: 'Sum',
        },
        ReturnData: true,
      }));
      let token: string | undefined;
      do {
        const page = await this.client.send(new GetMetricDataCommand({ MetricDataQueries: metricQueries, StartTime: from, EndTime: to, ...(token ? { NextToken: token } : {}) }));
        for (const result of page.MetricDataResults ?? []) {
          const query = chunk[Number(result.Id!.slice(1))]!;
          sums[query.index]![query.part] += (result.Values ?? []).reduce((a, b) => a + b, 0);
        }
        token = page.NextToken;
      } while (token);
    }
    return Object.fromEntries(
      destinationIds.map((id, index) => {
        const sum = sums[index]!;
        return [id, { delivered: sum.delivered, failedAttempts: Math.max(0, sum.attempts - sum.delivered), deadLettered: sum.deadLettered }];
      }),
    );
  }
}
