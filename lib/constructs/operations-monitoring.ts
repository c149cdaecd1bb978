import { Duration, Fn, Validations } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Operation, type ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IRule } from 'aws-cdk-lib/aws-events';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { MetricsNamespace } from '../../lambdas/contracts.js';
import type { ProjectFunction } from './project-function.js';
import type { StreamConsumer } from './stream-consumer.js';


export interface OperationsMonitoringProps {
  /** Every function, by the name it has in the runbook. */
  readonly functions: Readonly<Record<string, ProjectFunction>>;
  /** The stream consumers, by name; their iterator age and dead letters are watched. */
  readonly consumers: Readonly<Record<string, StreamConsumer>>;
  readonly api: HttpApi;
  readonly tables: Readonly<Record<string, ITable>>;
  /** Activation: each destination's dead-letter queue (alarmed on depth) and the rules of declared destinations (graphed). @default none */
  readonly destinations?: { readonly deadLetterQueues: Readonly<Record<string, IQueue>>; readonly rules: Readonly<Record<string, IRule>> };
  /** Where alarm notifications are emailed, if anywhere. @default no subscription (subscribe to the topic yourself) */
  readonly alarmEmail?: string;
  /**
   * A consumer this far behind the stream's head is alarming: freshness is gone and, past the
   * stream's retention, data would be too. @default Duration.minutes(5)
   */
  readonly maxIteratorAge?: Duration;
  /** 5xx answers from the API in 5 minutes before the alarm fires. @default 5 */
  readonly apiServerErrorThreshold?: number;
}

/**
 * The alarms of docs/operations.md (one runbook entry each) and one dashboard. Every alarm
 * notifies one SNS topic, exposed so other channels can subscribe.
 */
export class OperationsMonitoring extends Construct {
  readonly topic: Topic;
  readonly dashboard: Dashboard;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: OperationsMonitoringProps) {
    super(scope, id);
    this.topic = new Topic(this, 'Alarms', { enforceSSL: true, displayName: 'CDP alarms' });
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry alarm names and metric values, never customer data; CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key, and a customer managed key for this alone is not worth its cost.',
    });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const action = new SnsAction(this.topic);
    const alarm = (id: string, metric: IMetric, threshold: number, description: string, evaluationPeriods = 1, runbook = id.toLowerCase()): Alarm => {
      const created = new Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `${description} Runbook: docs/operations.md#${runbook}`,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      this.alarms.push(created);
      return created;
    };

    const maxAge = props.maxIteratorAge ?? Duration.minutes(5);
    for (const [name, consumer] of Object.entries(props.consumers)) {
      const fn = consumer.function.function;
      alarm(`${name}IteratorAge`, fn.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) }), maxAge.toMilliseconds(),
        `The ${name} is more than ${maxAge.toHumanString()} behind the event stream.`, 5);
      alarm(`${name}DeadLetterQueue`, consumer.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }), 1,
        `Batches the ${name} gave up on after its retries are waiting in its dead-letter queue.`);
    }
    alarm('ResolverDeadLetters', deadLettered('resolver'), 1, 'The resolver isolated records that fail on their own and dead-lettered them.');
    for (const [destination, queue] of Object.entries(props.destinations?.deadLetterQueues ?? {})) {
      const key = destination.replace(/[^A-Za-z0-9]/g, '');
      alarm(`DestinationDeadLetters${key}`, queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }), 1,
        `Events for destination ${destination} failed every retry and wait in its dead-letter queue.`, 1, 'destinationdeadletters');
    }
    alarm('ActivationChangesRetained', custom('ActivationChangesRetained', 'cdp-publisher'), 1, 'The bus refused activation events; their changes stay in the outbox and are put again.', 3);
    alarm('SegmentBackfillFailures', custom('BackfillQueryFailures', 'cdp-segmenter'), 1, 'A segment backfill query over the lake failed; it is retried on the next run.');

    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(`${name}Errors`, fn.function.metricErrors({ period: Duration.minutes(5) }), 1, `The ${name} function failed invocations.`);
      alarm(`${name}Throttles`, fn.function.metricThrottles({ period: Duration.minutes(5) }), 1, `The ${name} function was throttled.`);
    }
    alarm('ApiServerErrors', props.api.metricServerError({ period: Duration.minutes(5) }), props.apiServerErrorThreshold ?? 5,
      'The API answered with 5xx (intake could not reach the stream, or a function failed).');
    for (const [name, table] of Object.entries(props.tables)) {
      alarm(`${name}TableThrottles`, tableThrottles(name, table), 1, `Requests to the ${name} table were throttled.`);
    }

    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    const fns = Object.entries(props.functions);
    const consumers = Object.entries(props.consumers);
    this.dashboard.addWidgets(
      new TextWidget({ markdown: '# Customer Data Platform\nAlarms and what to do: docs/operations.md', width: 24, height: 2 }),
    );
    this.dashboard.addWidgets(
      graph('Intake requests and errors', [props.api.metricCount(), props.api.metricClientError(), props.api.metricServerError()]),
      graph('Events accepted and refused', [custom('EventsAccepted', 'cdp-ingest'), custom('EventsRejected', 'cdp-ingest'), custom('ImportRowsAccepted', 'cdp-importer')]),
      graph('Consumer iterator age (ms)', consumers.map(([, c]) => c.function.function.metric('IteratorAge', { statistic: 'Maximum' }))),
    );
    this.dashboard.addWidgets(
      graph('Profiles', [custom('ProfileEventsApplied', 'cdp-resolver'), custom('ProfileMerges', 'cdp-resolver'), custom('IdentifierLinksDropped', 'cdp-resolver'), custom('ProfileDuplicatesSkipped', 'cdp-resolver')]),
      graph('Segments', [custom('SegmentDueProfiles', 'cdp-segmenter'), custom('OutboundChangesDelivered', 'cdp-publisher'), custom('BackfillQueryFailures', 'cdp-segmenter')]),
      graph('Dead letters', [deadLettered('resolver'), ...consumers.map(([, c]) => c.deadLetterQueue.metricApproximateNumberOfMessagesVisible())]),
      graph('DynamoDB throttles', Object.entries(props.tables).map(([name, table]) => tableThrottles(name, table))),
    );
    const rules = Object.entries(props.destinations?.rules ?? {});
    const ruleMetric = (name: string, rule: IRule, label: string): Metric =>
      new Metric({ namespace: 'AWS/Events', metricName: name, dimensionsMap: { EventBusName: busNameOf(rule), RuleName: rule.ruleName }, statistic: 'Sum', period: Duration.minutes(5), label });
    this.dashboard.addWidgets(
      graph('Activation: published, retained, refused', [
        custom('ActivationEventsPublished', 'cdp-publisher'), custom('ActivationChangesRetained', 'cdp-publisher'), custom('ActivationEventsRefused', 'cdp-publisher'),
      ]),
      graph('Destinations: delivered', rules.map(([id, rule]) => ruleMetric('Invocations', rule, `${id} delivered`))),
      graph('Destinations: failed and dead-lettered', [
        ...rules.flatMap(([id, rule]) => [ruleMetric('FailedInvocations', rule, `${id} failed`), ruleMetric('InvocationsSentToDlq', rule, `${id} to DLQ`)]),
        ...Object.entries(props.destinations?.deadLetterQueues ?? {}).map(([id, q]) => q.metricApproximateNumberOfMessagesVisible({ label: `${id} waiting in DLQ` })),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Function errors', fns.map(([, f]) => f.function.metricErrors())),
      graph('Function throttles', fns.map(([, f]) => f.function.metricThrottles())),
      graph('Function duration p99 (ms)', fns.map(([, f]) => f.function.metricDuration({ statistic: 'p99' }))),
    );
  }
}

/** The bus a rule is on, as its ARN names it (`rule/<bus>/<name>`). */
function busNameOf(rule: IRule): string {
  return Fn.select(1, Fn.split('/', rule.ruleArn));
}

const graph = (title: string, left: IMetric[]): GraphWidget => new GraphWidget({ title, left, width: 8, height: 6 });

const custom = (metricName: string, service: string): Metric =>
  new Metric({ namespace: MetricsNamespace, metricName, dimensionsMap: { service }, statistic: 'Sum', period: Duration.minutes(5) });

const deadLettered = (consumer: string): Metric =>
  new Metric({
    namespace: MetricsNamespace,
    metricName: 'RecordsDeadLettered',
    dimensionsMap: { service: `cdp-${consumer}`, consumer },
    statistic: 'Sum',
    period: Duration.minutes(5),
  });

/** Throttled requests summed over the operations the CDP uses; ids are unique per table so graphs can hold several. */
function tableThrottles(name: string, table: ITable): IMetric {
  const operations = [Operation.GET_ITEM, Operation.PUT_ITEM, Operation.UPDATE_ITEM, Operation.BATCH_GET_ITEM, Operation.BATCH_WRITE_ITEM, Operation.QUERY];
  const prefix = name.replace(/[^A-Za-z0-9]/g, '').toLowerCase();
  const usingMetrics = Object.fromEntries(
    operations.map((operation) => [
      `${prefix}${operation.toLowerCase()}`,
      table.metric('ThrottledRequests', { dimensionsMap: { TableName: table.tableName, Operation: operation }, statistic: 'Sum', period: Duration.minutes(5) }),
    ]),
  );
  return new MathExpression({ expression: Object.keys(usingMetrics).join(' + '), usingMetrics, label: `${name} throttled requests`, period: Duration.minutes(5) });
}
