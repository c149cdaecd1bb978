import { Duration } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { FilterCriteria, FilterRule, StartingPosition, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { OutboxIndex } from '../../lambdas/contracts.js';

export interface OutboxDoorbellProps {
  /** The profile table, with a stream of new images. */
  readonly table: ITableV2;
  /** What to invoke when a profile write leaves changes in the outbox: the publisher. */
  readonly handler: IFunction;
  /** Longest a write waits to be batched with others before the handler is invoked. @default no wait */
  readonly batchingWindow?: Duration;
}

/**
 * Invokes the publisher when a profile item is written with changes in its outbox (the outbox
 * index's bucket attribute present in the new image), and never otherwise: the table's stream,
 * filtered by the event source mapping, so a quiet CDP invokes nothing (docs/activation.md).
 * The stream only rings; the publisher reads the outbox feed itself, so a lost or failed ring
 * costs nothing but latency until the publisher's next scheduled sweep.
 */
export class OutboxDoorbell extends Construct {
  readonly source: DynamoEventSource;

  constructor(scope: Construct, id: string, props: OutboxDoorbellProps) {
    super(scope, id);
    this.source = new DynamoEventSource(props.table, {
      startingPosition: StartingPosition.LATEST,
      batchSize: 100,
      ...(props.batchingWindow ? { maxBatchingWindow: props.batchingWindow } : {}),
      // A failed ring is not worth repeating: the sweep publishes what it would have.
      retryAttempts: 0,
      maxRecordAge: Duration.minutes(1),
      filters: [
        FilterCriteria.filter({
          eventName: FilterRule.or('INSERT', 'MODIFY'),
          dynamodb: { NewImage: { [OutboxIndex.bucketAttribute]: { S: FilterRule.exists() } } },
        }),
      ],
    });
    props.handler.addEventSource(this.source);
  }
}
