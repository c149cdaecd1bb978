import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { Env, LakeLayout } from '../lambdas/contracts.js';
import { BatchImport } from './constructs/batch-import.js';
import { CredentialsTable } from './constructs/credentials-table.js';
import { EventStream } from './constructs/event-stream.js';
import { IntakeApi } from './constructs/intake-api.js';
import { LakeCatalog } from './constructs/lake-catalog.js';
import { LakeStorage } from './constructs/lake-storage.js';
import { ProjectFunction } from './constructs/project-function.js';
import { StreamConsumer } from './constructs/stream-consumer.js';
import { grantObjectAccess, grantPrefixListing } from './grants.js';
import { acknowledgeLambdaDefaults } from './nag-acknowledgements.js';

export interface CdpStackProps extends StackProps {
  /** @default 'provisioned' */
  readonly streamCapacity?: 'provisioned' | 'on-demand';
  /** @default 1 */
  readonly shardCount?: number;
  /** Archiver batching window; longer windows write fewer, larger lake objects. @default Duration.seconds(60) */
  readonly archiverBatchingWindow?: Duration;
  /** @default 10000 */
  readonly archiverBatchSize?: number;
  /** Protect stateful resources from deletion. @default true */
  readonly retainData?: boolean;
}

/** The whole CDP: composes one construct per concern and wires their permissions. */
export class CdpStack extends Stack {
  constructor(scope: Construct, id: string, props: CdpStackProps = {}) {
    super(scope, id, props);
    const retain = props.retainData ?? true;
    const events = new EventStream(this, 'Events', { capacity: props.streamCapacity, shardCount: props.shardCount });
    const storage = new LakeStorage(this, 'Storage', { removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY });
    const catalog = new LakeCatalog(this, 'Catalog', {
      lakeBucket: storage.lakeBucket,
      queryResultsBucket: storage.queryResultsBucket,
    });
    const credentials = new CredentialsTable(this, 'Credentials', { deletionProtection: retain });
    const environment = {
      [Env.streamName]: events.stream.streamName,
      [Env.lakeBucket]: storage.lakeBucket.bucketName,
      [Env.credentialsTable]: credentials.table.tableName,
    };

    const ingest = new ProjectFunction(this, 'Ingest', { handlerFile: 'ingest', environment, memorySize: 512 });
    events.stream.grantWrite(ingest.function);
    events.stream.grant(ingest.function, 'kinesis:DescribeStreamSummary');
    credentials.table.grant(ingest.function, 'dynamodb:GetItem', 'dynamodb:DescribeTable');
    grantObjectAccess(ingest.function, storage.lakeBucket, ['s3:PutObject'], LakeLayout.rejectionsPrefix);
    const api = new IntakeApi(this, 'Intake', { ingestFunction: ingest });

    const archiver = new StreamConsumer(this, 'Archiver', {
      handlerFile: 'archiver',
      stream: events.stream,
      environment,
      memorySize: 512,
      timeout: Duration.minutes(2),
      batchSize: props.archiverBatchSize ?? 10_000,
      maxBatchingWindow: props.archiverBatchingWindow ?? Duration.seconds(60),
    });
    grantObjectAccess(archiver.function.function, storage.lakeBucket, ['s3:PutObject'], LakeLayout.eventsPrefix);
    grantObjectAccess(archiver.function.function, storage.lakeBucket, ['s3:PutObject'], LakeLayout.quarantinePrefix);

    const imports = new BatchImport(this, 'Import', { bucket: storage.lakeBucket, environment });
    const importer = imports.function.function;
    grantObjectAccess(importer, storage.lakeBucket, ['s3:GetObject', 's3:PutObject'], LakeLayout.importsPrefix);
    grantObjectAccess(importer, storage.lakeBucket, ['s3:PutObject'], LakeLayout.rejectionsPrefix);
    grantPrefixListing(importer, storage.lakeBucket, LakeLayout.importsPrefix);
    events.stream.grantWrite(importer);

    acknowledgeLambdaDefaults(this);

    new CfnOutput(this, 'ApiUrl', { value: api.api.apiEndpoint, description: 'Point SDKs here (host)' });
    new CfnOutput(this, 'StreamName', { value: events.stream.streamName });
    new CfnOutput(this, 'LakeBucket', { value: storage.lakeBucket.bucketName });
    new CfnOutput(this, 'CredentialsTable', { value: credentials.table.tableName });
    new CfnOutput(this, 'GlueDatabase', { value: catalog.databaseName });
    new CfnOutput(this, 'AthenaWorkGroup', { value: catalog.workGroup.name });
    new CfnOutput(this, 'ArchiverDeadLetterQueue', { value: archiver.deadLetterQueue.queueUrl });
  }
}
