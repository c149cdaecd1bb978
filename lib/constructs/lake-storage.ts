import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, StorageClass } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { LakeLayout, PrivacyTiming } from '../../lambdas/contracts.js';

export interface LakeStorageProps {
  /** Days before raw events move to Infrequent Access. @default 90 */
  readonly infrequentAccessAfterDays?: number;
  /** Days raw events are kept; undefined keeps them for ever. @default undefined */
  readonly expireEventsAfterDays?: number;
  /** Days Athena query results are kept. @default 30 */
  readonly queryResultsRetentionDays?: number;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** Buckets of the lake: raw events, Athena results, and the access logs of both. All private, encrypted, TLS-only. */
export class LakeStorage extends Construct {
  readonly lakeBucket: Bucket;
  readonly queryResultsBucket: Bucket;
  readonly accessLogsBucket: Bucket;

  constructor(scope: Construct, id: string, props: LakeStorageProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const secure = {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy,
    };
    this.accessLogsBucket = new Bucket(this, 'AccessLogs', {
      ...secure,
      lifecycleRules: [{ expiration: Duration.days(365) }],
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket; logging it into itself would loop.',
    });
    this.lakeBucket = new Bucket(this, 'Lake', {
      ...secure,
      versioned: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'lake/',
      lifecycleRules: [
        {
          id: 'raw-events',
          prefix: LakeLayout.eventsPrefix,
          transitions: [
            { storageClass: StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(props.infrequentAccessAfterDays ?? 90) },
          ],
          ...(props.expireEventsAfterDays ? { expiration: Duration.days(props.expireEventsAfterDays) } : {}),
          // Versions replaced by redelivered batches (same key) or erased are not kept for ever.
          noncurrentVersionExpiration: Duration.days(30),
        },
        { id: 'privacy-exports', prefix: LakeLayout.privacyExportsPrefix, expiration: Duration.days(PrivacyTiming.exportRetentionDays), noncurrentVersionExpiration: Duration.days(1) },
        { id: 'other-prefixes-noncurrent', noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
    });
    this.queryResultsBucket = new Bucket(this, 'QueryResults', {
      ...secure,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'query-results/',
      lifecycleRules: [{ expiration: Duration.days(props.queryResultsRetentionDays ?? 30) }],
    });
  }
}
