import { Duration } from 'aws-cdk-lib';
import { Stream, StreamEncryption, StreamMode } from 'aws-cdk-lib/aws-kinesis';
import { Construct } from 'constructs';

export interface EventStreamProps {
  /** `on-demand` scales by itself but costs more per GB and a fixed stream-hour. @default 'provisioned' */
  readonly capacity?: 'provisioned' | 'on-demand';
  /** Shards when provisioned; each takes 1 MB/s or 1,000 records/s. @default 1 */
  readonly shardCount?: number;
  /** How long records stay readable (replay, redrive). @default Duration.hours(24) */
  readonly retention?: Duration;
}

/** The encrypted Kinesis Data Stream every accepted event is appended to. */
export class EventStream extends Construct {
  readonly stream: Stream;

  constructor(scope: Construct, id: string, props: EventStreamProps = {}) {
    super(scope, id);
    const onDemand = props.capacity === 'on-demand';
    this.stream = new Stream(this, 'Stream', {
      encryption: StreamEncryption.MANAGED,
      streamMode: onDemand ? StreamMode.ON_DEMAND : StreamMode.PROVISIONED,
      ...(onDemand ? {} : { shardCount: props.shardCount ?? 1 }),
      retentionPeriod: props.retention ?? Duration.hours(24),
    });
  }
}
