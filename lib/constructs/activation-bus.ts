import { Aws, Duration, Names, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import { ApiDestination, Archive, Authorization, Connection, EventBus, HttpMethod, Rule, type IRuleTarget } from 'aws-cdk-lib/aws-events';
import { ApiDestination as ApiDestinationTarget, LambdaFunction, SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Function as LambdaFn } from 'aws-cdk-lib/aws-lambda';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ActivationSource } from '../../lambdas/domain/activation-events.js';
import { DestinationRetryPolicy } from '../../lambdas/contracts.js';
import { destinationResourceName, rulePattern, type DestinationDeclaration } from '../../lambdas/domain/destinations.js';

export interface ActivationBusProps {
  /** Destinations declared in the stack's destinations file (`-c destinations=path`). @default none */
  readonly destinations?: readonly DestinationDeclaration[];
  /** How long the archive keeps events for replay. @default Duration.days(30) */
  readonly archiveRetention?: Duration;
  /** Calls per second EventBridge makes to each webhook. @default 50 */
  readonly webhookRateLimitPerSecond?: number;
}

/** A Secrets Manager dynamic reference: the only form a secret may take in the destinations file. */
const SecretReference = /^\{\{resolve:secretsmanager:[^}]+\}\}$/;

/**
 * The activation bus (docs/activation.md): a custom EventBridge bus with an archive for replay,
 * one rule per destination declared in the stack's file (its pattern, narrowed to the CDP's
 * events for it), each target with the retry policy and its own encrypted dead-letter queue; and
 * what the destination API needs to route destinations at runtime: a name prefix, the role
 * EventBridge calls API destinations with, and a shared dead-letter queue.
 */
export class ActivationBus extends Construct {
  readonly bus: EventBus;
  readonly archive: Archive;
  /** Dead-letter queue of each declared destination, by id. */
  readonly deadLetterQueues: Readonly<Record<string, Queue>>;
  /** Dead-letter queue of the destinations the API manages. */
  readonly runtimeDeadLetterQueue: Queue;
  /** The role EventBridge assumes to call API destinations the destination API creates. */
  readonly invocationRole: Role;
  /** Names of the rules, connections and API destinations the destination API creates start with this and `-`. */
  readonly namePrefix: string;
  readonly rules: Readonly<Record<string, Rule>>;
  readonly webhookRateLimitPerSecond: number;

  constructor(scope: Construct, id: string, props: ActivationBusProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.bus = new EventBus(this, 'Bus', { eventBusName: Names.uniqueResourceName(this, { maxLength: 64 }) });
    this.archive = this.bus.archive('Archive', {
      description: 'Every activation event, for replay after a destination outage',
      eventPattern: { source: [ActivationSource] },
      retention: props.archiveRetention ?? Duration.days(30),
    });
    // Short and stable per stack: rule, connection and API destination names are at most 64 characters.
    this.namePrefix = `cdp${Names.uniqueId(this).replace(/[^A-Za-z0-9]/g, '').slice(-8).toLowerCase()}`;
    this.webhookRateLimitPerSecond = props.webhookRateLimitPerSecond ?? 50;

    this.runtimeDeadLetterQueue = this.deadLetterQueue('RuntimeDeadLetters');
    this.runtimeDeadLetterQueue.addToResourcePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.runtimeDeadLetterQueue.queueArn],
        conditions: { ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'events', resource: 'rule', resourceName: `${this.bus.eventBusName}/${this.namePrefix}-*` }) } },
      }),
    );
    this.invocationRole = new Role(this, 'ApiDestinationInvocation', {
      assumedBy: new ServicePrincipal('events.amazonaws.com'),
      description: 'EventBridge calls the webhooks of destinations managed through the destination API',
    });
    this.invocationRole.addToPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['events:InvokeApiDestination'],
        // Pseudo-parameters rather than formatArn: the acknowledgement names them whatever region the app is given.
        resources: [`arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:api-destination/${this.namePrefix}-*`],
      }),
    );
    Validations.of(this.invocationRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:api-destination/${this.namePrefix}-*]`,
      reason: `The destination API creates API destinations at runtime under generated names; the role may invoke only those with this stack's prefix ${this.namePrefix}-.`,
    });

    const queues: Record<string, Queue> = {};
    const rules: Record<string, Rule> = {};
    for (const { destination, secret } of props.destinations ?? []) {
      const key = destination.id.replace(/[^A-Za-z0-9]/g, '');
      const deadLetterQueue = this.deadLetterQueue(`DeadLetters${key}`);
      queues[destination.id] = deadLetterQueue;
      const targetProps = { deadLetterQueue, retryAttempts: DestinationRetryPolicy.maximumRetryAttempts, maxEventAge: Duration.seconds(DestinationRetryPolicy.maximumEventAgeSeconds) };
      let target: IRuleTarget;
      if (destination.type === 'webhook') {
        if (secret) {
          const value = secret.type === 'api_key' ? secret.value : secret.password;
          if (!SecretReference.test(value)) {
            throw new Error(`destination ${destination.id}: a secret in the destinations file must be a Secrets Manager reference, {{resolve:secretsmanager:<name>:SecretString:<key>}}, so it stays out of the template`);
          }
        }
        const connection = new Connection(this, `Connection${key}`, {
          description: `CDP destination ${destination.id}`,
          authorization: !secret
            ? Authorization.apiKey('x-cdp-destination', SecretValue.unsafePlainText(destination.id))
            : secret.type === 'api_key'
              ? Authorization.apiKey(secret.header, SecretValue.unsafePlainText(secret.value))
              : Authorization.basic(secret.username, SecretValue.unsafePlainText(secret.password)),
        });
        const api = new ApiDestination(this, `Webhook${key}`, {
          connection,
          endpoint: destination.url,
          httpMethod: HttpMethod.POST,
          rateLimitPerSecond: this.webhookRateLimitPerSecond,
          description: `CDP destination ${destination.id}`,
        });
        target = new ApiDestinationTarget(api, targetProps);
      } else if (destination.type === 'sqs') {
        target = new SqsQueue(Queue.fromQueueArn(this, `Queue${key}`, destination.queueArn), targetProps);
      } else {
        target = new LambdaFunction(LambdaFn.fromFunctionArn(this, `Function${key}`, destination.functionArn), targetProps);
      }
      rules[destination.id] = new Rule(this, `Rule${key}`, {
        eventBus: this.bus,
        // Named as the destination API names its rules, so delivery metrics (by rule) lead back to the destination.
        ruleName: destinationResourceName(this.namePrefix, destination.id),
        description: `CDP destination ${destination.id} (declared in the destinations file)`,
        eventPattern: rulePattern(destination),
        targets: [target],
      });
    }
    this.deadLetterQueues = queues;
    this.rules = rules;
  }

  private deadLetterQueue(id: string): Queue {
    const queue = new Queue(this, id, { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
    Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is itself the dead-letter queue of an EventBridge target.' });
    return queue;
  }
}
