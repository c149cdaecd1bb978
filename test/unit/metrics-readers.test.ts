import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudWatchMetricsReader } from '../../lambdas/adapters/aws/cloudwatch-metrics-reader.js';
import { EventBridgeDeliveryOutcomes } from '../../lambdas/adapters/aws/eventbridge-delivery-outcomes.js';
import { CountedDeliveryOutcomes } from '../../lambdas/adapters/local/counted-delivery-outcomes.js';
import { destinationResourceName } from '../../lambdas/domain/destinations.js';
import { CountingTelemetry } from '../../lambdas/adapters/local/counting-telemetry.js';
import type { MetricsReader } from '../../lambdas/ports/metrics-reader.js';
import { IntakeOverview, OverviewRangeError } from '../../lambdas/use-cases/overview.js';

// aws-sdk-client-mock: no emulator covers CloudWatch. One mock for the file: a second one on the same client class would undo the first.
const cloudwatch = mockClient(CloudWatchClient);
afterEach(() => cloudwatch.reset());

const at = (minute: number, second = 0) => new Date(Date.UTC(2026, 10, 24, 7, minute, second));

describe('the local counts by minute', () => {
  it('sums each counter by minute over every dimension, and by the values of one dimension', async () => {
    let now = at(0, 10).getTime();
    const telemetry = new CountingTelemetry(() => now);
    telemetry.count('EventsAccepted', 3);
    telemetry.count('EventsRejected', 1);
    telemetry.count('EventsRejectedByField', 1, { field: 'event' });
    now = at(2, 59).getTime();
    telemetry.count('EventsAccepted', 2);
    telemetry.count('EventsRejectedByField', 2, { field: 'userId' });
    telemetry.count('EventsRejectedByField', 1, { field: 'event' });
    expect(await telemetry.perMinute(['EventsAccepted', 'EventsRejected'], at(0), at(4))).toEqual({ EventsAccepted: [3, 0, 2, 0], EventsRejected: [1, 0, 0, 0] });
    expect(await telemetry.totalsBy('EventsRejectedByField', 'field', at(0), at(4))).toEqual({ event: 2, userId: 2 });
    // A window that leaves out the first minute leaves out its counts.
    expect(await telemetry.totalsBy('EventsRejectedByField', 'field', at(1), at(4))).toEqual({ event: 1, userId: 2 });
    expect(telemetry.snapshot()).toMatchObject({ EventsAccepted: 5 });
  });
});

describe('CloudWatch metrics read back', () => {
  it('adds up the series every function publishes under its own service, by minute and by a dimension', async () => {
    cloudwatch.on(ListMetricsCommand, { MetricName: 'EventsAccepted' }).resolves({
      Metrics: [
        { Namespace: 'Cdp', MetricName: 'EventsAccepted', Dimensions: [{ Name: 'service', Value: 'cdp-ingest' }] },
        { Namespace: 'Cdp', MetricName: 'EventsAccepted', Dimensions: [{ Name: 'service', Value: 'cdp-importer' }] },
      ],
    });
    cloudwatch.on(ListMetricsCommand, { MetricName: 'EventsRejectedByField' }).resolves({
      Metrics: [
        { Namespace: 'Cdp', MetricName: 'EventsRejectedByField', Dimensions: [{ Name: 'service', Value: 'cdp-ingest' }, { Name: 'field', Value: 'event' }] },
        { Namespace: 'Cdp', MetricName: 'EventsRejectedByField', Dimensions: [{ Name: 'service', Value: 'cdp-importer' }, { Name: 'field', Value: 'event' }] },
        { Namespace: 'Cdp', MetricName: 'EventsRejectedByField', Dimensions: [{ Name: 'service', Value: 'cdp-ingest' }, { Name: 'field', Value: 'userId' }] },
      ],
    });
    cloudwatch.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: Array<{ Id: string; MetricStat: { Period: number } }> }) => ({
      MetricDataResults: input.MetricDataQueries.map((q, i) => ({ Id: q.Id, Timestamps: q.MetricStat.Period === 60 ? [at(0), at(2)] : [at(0)], Values: q.MetricStat.Period === 60 ? [i + 1, 10] : [i + 4] })),
    }));
    const reader: MetricsReader = new CloudWatchMetricsReader(new CloudWatchClient({}));
    expect(await reader.perMinute(['EventsAccepted'], at(0), at(3))).toEqual({ EventsAccepted: [1 + 2, 0, 20] });
    expect(await reader.totalsBy('EventsRejectedByField', 'field', at(0), at(3))).toEqual({ event: 4 + 5, userId: 6 });
    const query = cloudwatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
    expect(query).toMatchObject({ StartTime: at(0), EndTime: at(3), MetricDataQueries: [expect.objectContaining({ MetricStat: expect.objectContaining({ Stat: 'Sum', Period: 60 }) }), expect.anything()] });
  });
});

describe('delivery outcomes by destination', () => {
  it('reads each destination rule\'s attempts, successes and dead letters on the bus (AWS)', async () => {
    const long = 'x'.repeat(64);
    const values: Record<string, Record<string, number[]>> = {
      [destinationResourceName('cdpabc', 'crm')]: { InvocationAttempts: [5, 3], SuccessfulInvocationAttempts: [4, 2], InvocationsSentToDlq: [1] },
      [destinationResourceName('cdpabc', long)]: { InvocationAttempts: [2], SuccessfulInvocationAttempts: [2] },
    };
    cloudwatch.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: Array<{ Id: string; MetricStat: { Metric: { Namespace: string; MetricName: string; Dimensions: Array<{ Name: string; Value: string }> } } }> }) => ({
      MetricDataResults: input.MetricDataQueries.map((q) => {
        const { Namespace, MetricName, Dimensions } = q.MetricStat.Metric;
        const bus = Dimensions.find((d) => d.Name === 'EventBusName')?.Value;
        const rule = Dimensions.find((d) => d.Name === 'RuleName')!.Value;
        const series = Namespace === 'AWS/Events' && bus === 'the-bus' ? (values[rule]?.[MetricName] ?? []) : [];
        return { Id: q.Id, Timestamps: series.map(() => at(0)), Values: series };
      }),
    }));
    const outcomes = new EventBridgeDeliveryOutcomes(new CloudWatchClient({}), 'the-bus', (id) => destinationResourceName('cdpabc', id));
    expect(await outcomes.outcomes(['crm', long, 'quiet'], at(0), at(60))).toEqual({
      crm: { delivered: 6, failedAttempts: 2, deadLettered: 1 },
      [long]: { delivered: 2, failedAttempts: 0, deadLettered: 0 },
      quiet: { delivered: 0, failedAttempts: 0, deadLettered: 0 },
    });
    // One period over the whole window: one value a series.
    expect(cloudwatch.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries![0]!.MetricStat!.Period).toBe(3600);
  });

  it('reads the local bus\'s counters', async () => {
    const telemetry = new CountingTelemetry(() => at(1).getTime());
    telemetry.count('DestinationDeliveries', 1, { destination: 'crm' });
    telemetry.count('DestinationDeliveryFailures', 3, { destination: 'crm' });
    telemetry.count('DestinationDeadLetters', 1, { destination: 'crm' });
    telemetry.count('DestinationDeliveries', 7, { destination: 'other' });
    expect(await new CountedDeliveryOutcomes(telemetry).outcomes(['crm', 'new'], at(0), at(5))).toEqual({
      crm: { delivered: 1, failedAttempts: 3, deadLettered: 1 },
      new: { delivered: 0, failedAttempts: 0, deadLettered: 0 },
    });
  });

  it('names a destination\'s rule within EventBridge\'s 64 characters, distinctly for ids that share a start', () => {
    expect(destinationResourceName('cdpabc', 'crm')).toBe('cdpabc-crm');
    const a = destinationResourceName('cdpabcdefgh', 'a'.repeat(60) + 'one');
    const b = destinationResourceName('cdpabcdefgh', 'a'.repeat(60) + 'two');
    expect(a).toHaveLength(64);
    expect(a).toMatch(/^cdpabcdefgh-a+\.[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
  });
});

describe('the overview', () => {
  it('reads whole minutes up to the current one, and refuses a window out of range', async () => {
    let now = at(0, 30).getTime();
    const telemetry = new CountingTelemetry(() => now);
    telemetry.count('EventsAccepted', 4);
    telemetry.count('DestinationEventsPublished', 2, { destination: 'crm' });
    now = at(9, 5).getTime();
    telemetry.count('EventsRejected', 1);
    const overview = await new IntakeOverview(telemetry, () => new Date(now)).read(10);
    expect(overview).toMatchObject({ from: at(0).toISOString(), to: at(10).toISOString(), publishedByDestination: { crm: 2 } });
    expect(overview.perMinute).toHaveLength(10);
    expect(overview.perMinute[0]).toEqual({ at: at(0).toISOString(), accepted: 4, refused: 0 });
    expect(overview.perMinute[9]).toEqual({ at: at(9).toISOString(), accepted: 0, refused: 1 });
    await expect(new IntakeOverview(telemetry).read(2)).rejects.toBeInstanceOf(OverviewRangeError);
    await expect(new IntakeOverview(telemetry).read(Number('x'))).rejects.toBeInstanceOf(OverviewRangeError);
  });
});
