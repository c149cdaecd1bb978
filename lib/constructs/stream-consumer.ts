import { Duration, Validations } from 'aws-cdk-lib';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ProjectFunction, type ProjectFunctionProps } from './project-function.js';

export interface StreamConsumerProps extends ProjectFunctionProps {
  readonly stream: IStream;
  /** Records per invocation; larger batches mean fewer, more coalesced writes. @default 1000 */
  readonly batchSize?: number;
  /** How long to gather a batch. @default Duration.seconds(60) */
  readonly maxBatchingWindow?: Duration;
  /** Retries of a failing batch before it goes to the dead-letter queue. @default 5 */
  readonly retryAttempts?: number;
  /** Concurrent batches per shard (order is kept per partition key). @default 1 */
  readonly parallelizationFactor?: number;
}

/**
 * A Lambda fed by the event stream with the safety settings Lambda leaves off by default:
 * bisect on error, partial batch responses, bounded retries and an encrypted on-failure queue,
 * so one poison record can never block a shard.
 */
export class StreamConsumer extends Construct {
  readonly function: ProjectFunction;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: StreamConsumerProps) {
    super(scope, id);
    const { stream, batchSize, maxBatchingWindow, retryAttempts, parallelizationFactor, ...functionProps } = props;
    this.function = new ProjectFunction(this, 'Handler', functionProps);
    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the on-failure destination of the event source mapping.',
    });
    this.function.function.addEventSource(
      new KinesisEventSource(stream, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: batchSize ?? 1000,
        maxBatchingWindow: maxBatchingWindow ?? Duration.seconds(60),
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: retryAttempts ?? 5,
        maxRecordAge: Duration.hours(24),
        parallelizationFactor: parallelizationFactor ?? 1,
        onFailure: new SqsDlq(this.deadLetterQueue),
      }),
    );
  }
}
