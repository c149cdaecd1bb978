import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  ActivationTiming,
  Catalog,
  CredentialsTableDefinition,
  DestinationPartitionKey,
  type DestinationRoutingSettings,
  DueIndex,
  Env,
  LakeLayout,
  OutboxIndex,
  PrivacyPartitionKeys,
  PrivacyTiming,
  ProfilesTableDefinition,
  SegmentPartitionKey,
  SegmentTiming,
  StreamConsumers,
} from '../lambdas/contracts.js';
import type { DestinationDeclaration } from '../lambdas/domain/destinations.js';
import { ActivationBus } from './constructs/activation-bus.js';
import { identifierRuleProblems } from '../lambdas/domain/identifiers.js';
import { profileConfigFromJson } from '../lambdas/domain/profile-config.js';
import { StreamViewType, type ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction, IFunction } from 'aws-cdk-lib/aws-lambda';
import type { CfnEventBus } from 'aws-cdk-lib/aws-events';
import type { CfnBucket } from 'aws-cdk-lib/aws-s3';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { BatchImport } from './constructs/batch-import.js';
import { DataTable } from './constructs/data-table.js';
import { ApiRoutes } from './constructs/api-routes.js';
import { EventStream } from './constructs/event-stream.js';
import { CdpHttpApi } from './constructs/http-api.js';
import { LakeCatalog } from './constructs/lake-catalog.js';
import { LakeStorage } from './constructs/lake-storage.js';
import { OperationsMonitoring } from './constructs/operations-monitoring.js';
import { ProjectFunction } from './constructs/project-function.js';
import { ScheduledFunction } from './constructs/scheduled-function.js';
import { OutboxDoorbell } from './constructs/outbox-doorbell.js';
import { ConsoleSite } from './constructs/console-site.js';
import { PrivacySalt } from './constructs/privacy-salt.js';
import { StreamConsumer } from './constructs/stream-consumer.js';
import { grantObjectAccess, grantPrefixListing, grantTableItems } from './grants.js';
import { acknowledgeLambdaDefaults } from './nag-acknowledgements.js';

export interface CdpStackProps extends StackProps {
  /** @default 'provisioned' */
  readonly streamCapacity?: 'provisioned' | 'on-demand';
  /** @default 1 */
  readonly shardCount?: number;
  /** Archiver batching window; longer windows write fewer, larger lake objects. @default StreamConsumers.archiver: 60 s */
  readonly archiverBatchingWindow?: Duration;
  /** @default StreamConsumers.archiver: 10000 */
  readonly archiverBatchSize?: number;
  /** Resolver batch size; larger batches coalesce more events into each profile write. @default StreamConsumers.resolver: 1000 */
  readonly resolverBatchSize?: number;
  /**
   * Resolver batching window: the main term of profile freshness, and the lever on write cost
   * (more events coalesced per profile write). @default StreamConsumers.resolver: 2 s
   */
  readonly resolverBatchingWindow?: Duration;
  /**
   * Identity and profile rules (limits, priority, blocked values, set-once traits, ...), validated
   * at synth. See docs/identity.md. @default the defaults of lambdas/domain/profile-config.ts
   */
  readonly profileConfig?: Record<string, unknown>;
  /** Protect stateful resources from deletion. @default true */
  readonly retainData?: boolean;
  /** Email address for alarm notifications (docs/operations.md). @default none: subscribe to the AlarmTopic output */
  readonly alarmEmail?: string;
  /**
   * Concurrency reserved for the segmentation function, so runs never overlap; `0` reserves none,
   * for accounts whose quota cannot spare it (runs are still safe: every write is conditional). @default 1
   */
  readonly segmenterReservedConcurrency?: number;
  /**
   * Destinations declared in code (`-c destinations=path`, docs/activation.md): routed by rules
   * the stack deploys, read-only in the destination API. @default none
   */
  readonly destinations?: readonly DestinationDeclaration[];
  /** Concurrency reserved for the publisher, so runs never overlap; `0` reserves none. @default 1 */
  readonly publisherReservedConcurrency?: number;
  /** Days raw events are kept in the lake before S3 deletes them (docs/privacy.md). @default kept until erased */
  readonly lakeRetentionDays?: number;
  /** Deploy the web console (docs/console.md): a private bucket behind CloudFront, the API on its origin under `/v1/*`. @default true */
  readonly webConsole?: boolean;
}

/** The whole CDP: composes one construct per concern and wires their permissions. */
export class CdpStack extends Stack {
  constructor(scope: Construct, id: string, props: CdpStackProps = {}) {
    super(scope, id, props);
    const retain = props.retainData ?? true;
    const events = new EventStream(this, 'Events', { capacity: props.streamCapacity, shardCount: props.shardCount });
    const storage = new LakeStorage(this, 'Storage', {
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      ...(props.lakeRetentionDays ? { expireEventsAfterDays: props.lakeRetentionDays } : {}),
    });
    const salt = new PrivacySalt(this, 'Privacy', { removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY });
    const catalog = new LakeCatalog(this, 'Catalog', {
      lakeBucket: storage.lakeBucket,
      queryResultsBucket: storage.queryResultsBucket,
    });
    const credentials = new DataTable(this, 'Credentials', { definition: CredentialsTableDefinition, deletionProtection: retain });
    // New images ring the publisher (OutboxDoorbell below); they hold personal data, so only its filtered mapping reads them.
    const profiles = new DataTable(this, 'Profiles', { definition: ProfilesTableDefinition, deletionProtection: retain, stream: StreamViewType.NEW_IMAGE });
    const profileConfig = JSON.stringify(props.profileConfig ?? {});
    const problems = identifierRuleProblems(profileConfigFromJson(profileConfig));
    if (problems.length > 0) throw new Error(`invalid profile configuration: ${problems.join('; ')}`);
    const environment = {
      [Env.streamName]: events.stream.streamName,
      [Env.lakeBucket]: storage.lakeBucket.bucketName,
      [Env.credentialsTable]: credentials.table.tableName,
      [Env.profilesTable]: profiles.table.tableName,
      [Env.profileConfig]: profileConfig,
    };
    // Only functions that hash (privacy hashes, identifiers stored hashed) are told where the salt is, and may read it.
    const readSalt = (fn: LambdaFunction): void => {
      fn.addEnvironment(Env.privacySaltSecret, salt.secret.secretArn);
      salt.grantRead(fn);
    };
    // Every function that lets events in applies the suppression list: it reads the list's partition and the salt.
    const applySuppression = (fn: LambdaFunction): void => {
      grantPartitionItems(fn, profiles.table, PrivacyPartitionKeys.suppressions, ['Query']);
      readSalt(fn);
    };

    const ingest = new ProjectFunction(this, 'Ingest', { handlerFile: 'ingest', environment });
    events.stream.grantWrite(ingest.function);
    events.stream.grant(ingest.function, 'kinesis:DescribeStreamSummary');
    credentials.table.grant(ingest.function, 'dynamodb:GetItem', 'dynamodb:DescribeTable');
    grantObjectAccess(ingest.function, storage.lakeBucket, ['s3:PutObject'], LakeLayout.rejectionsPrefix);
    applySuppression(ingest.function);
    const api = new CdpHttpApi(this, 'Intake');

    const consumer = (name: keyof typeof StreamConsumers, batchSize?: number, window?: Duration): StreamConsumer => {
      const defaults = StreamConsumers[name];
      return new StreamConsumer(this, `${name[0]!.toUpperCase()}${name.slice(1)}`, {
        handlerFile: defaults.handler,
        stream: events.stream,
        environment,
        timeout: Duration.seconds(defaults.timeoutSeconds),
        batchSize: batchSize ?? defaults.batchSize,
        maxBatchingWindow: window ?? Duration.seconds(defaults.batchingWindowSeconds),
      });
    };
    const archiver = consumer('archiver', props.archiverBatchSize, props.archiverBatchingWindow);
    grantObjectAccess(archiver.function.function, storage.lakeBucket, ['s3:PutObject'], LakeLayout.eventsPrefix);
    grantObjectAccess(archiver.function.function, storage.lakeBucket, ['s3:PutObject'], LakeLayout.quarantinePrefix);
    applySuppression(archiver.function.function);

    const resolver = consumer('resolver', props.resolverBatchSize, props.resolverBatchingWindow);
    grantTableItems(resolver.function.function, profiles.table, ['BatchGetItem', 'PutItem', 'UpdateItem', 'BatchWriteItem']);
    grantPartitionItems(resolver.function.function, profiles.table, SegmentPartitionKey, ['Query']);
    grantObjectAccess(resolver.function.function, storage.lakeBucket, ['s3:PutObject'], LakeLayout.identitiesPrefix);
    applySuppression(resolver.function.function);
    const lakeEnvironment = { ...environment, [Env.athenaWorkGroup]: catalog.workGroup.name, [Env.glueDatabase]: catalog.databaseName };

    const authorizer = new ProjectFunction(this, 'AdminAuthorizer', { handlerFile: 'admin-authorizer', environment });
    credentials.table.grant(authorizer.function, 'dynamodb:GetItem');
    const profileFunction = new ProjectFunction(this, 'ProfileApi', { handlerFile: 'profiles', environment: lakeEnvironment, timeout: Duration.seconds(29) });
    credentials.table.grant(profileFunction.function, 'dynamodb:GetItem');
    grantTableItems(profileFunction.function, profiles.table, ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'BatchWriteItem']);
    grantLakeQuery(this, profileFunction, catalog, storage, EventTables);
    // Splits are recorded in the lake, so a rebuild from it replays them; a split moves identifiers, so it logs them.
    grantObjectAccess(profileFunction.function, storage.lakeBucket, ['s3:PutObject'], LakeLayout.splitsPrefix);
    grantObjectAccess(profileFunction.function, storage.lakeBucket, ['s3:PutObject'], LakeLayout.identitiesPrefix);
    applySuppression(profileFunction.function);

    const segmentFunction = new ProjectFunction(this, 'SegmentApi', { handlerFile: 'segments', environment: lakeEnvironment, timeout: Duration.seconds(29) });
    credentials.table.grant(segmentFunction.function, 'dynamodb:GetItem');
    grantPartitionItems(segmentFunction.function, profiles.table, SegmentPartitionKey, ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem']);
    // Members come from the segment changes; a preview counts a condition over events and identities.
    grantLakeQuery(this, segmentFunction, catalog, storage, [...SegmentChangeTables, ...EventTables, ...IdentityTables]);

    const segmenter = new ScheduledFunction(this, 'Segmenter', {
      handlerFile: 'segmenter',
      environment: lakeEnvironment,
      every: Duration.minutes(SegmentTiming.scheduleMinutes),
      timeout: Duration.seconds(SegmentTiming.timeoutSeconds),
      reservedConcurrency: props.segmenterReservedConcurrency === 0 ? undefined : (props.segmenterReservedConcurrency ?? 1),
    });
    const segmenterFunction = segmenter.function.function;
    // Due profiles come from the due index; only a backfill scans the table.
    grantTableItems(segmenterFunction, profiles.table, ['GetItem', 'BatchGetItem', 'Query', 'Scan', 'PutItem', 'UpdateItem', 'BatchWriteItem'], [DueIndex.name]);
    grantPartitionItems(segmenterFunction, profiles.table, SegmentPartitionKey, ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem']);
    grantLakeQuery(this, segmenter.function, catalog, storage, [...EventTables, ...IdentityTables]);

    // Activation: the bus, the publisher of the outbox, and the destination API.
    const activation = new ActivationBus(this, 'Activation', { destinations: props.destinations ?? [] });
    const declaredDestinations = JSON.stringify((props.destinations ?? []).map((d) => d.destination));
    const publisher = new ScheduledFunction(this, 'Publisher', {
      handlerFile: 'publisher',
      environment: { ...environment, [Env.eventBusName]: activation.bus.eventBusName, [Env.declaredDestinations]: declaredDestinations },
      every: Duration.minutes(ActivationTiming.scheduleMinutes),
      timeout: Duration.seconds(ActivationTiming.timeoutSeconds),
      reservedConcurrency: props.publisherReservedConcurrency === 0 ? undefined : (props.publisherReservedConcurrency ?? 1),
    });
    const publisherFunction = publisher.function.function;
    // The outbox feed is an index; the publisher reads outboxes and profiles, and acknowledges with an update.
    grantTableItems(publisherFunction, profiles.table, ['GetItem', 'BatchGetItem', 'Query', 'UpdateItem'], [OutboxIndex.name]);
    grantPartitionItems(publisherFunction, profiles.table, SegmentPartitionKey, ['Query', 'UpdateItem']);
    grantPartitionItems(publisherFunction, profiles.table, DestinationPartitionKey, ['Query']);
    grantObjectAccess(publisherFunction, storage.lakeBucket, ['s3:PutObject'], LakeLayout.segmentChangesPrefix);
    activation.bus.grantPutEventsTo(publisherFunction);
    new OutboxDoorbell(this, 'PublisherDoorbell', { table: profiles.table, handler: publisherFunction });

    const routing: DestinationRoutingSettings = {
      busName: activation.bus.eventBusName,
      namePrefix: activation.namePrefix,
      deadLetterQueueArn: activation.runtimeDeadLetterQueue.queueArn,
      invocationRoleArn: activation.invocationRole.roleArn,
      invocationRateLimitPerSecond: activation.webhookRateLimitPerSecond,
    };
    // Every destination's dead letters: its own queue when declared, the shared one when made through the API.
    const deliveryQueues = { ...activation.deadLetterQueues, '(api-managed)': activation.runtimeDeadLetterQueue };
    const deliveryQueueUrls = JSON.stringify(Object.fromEntries(Object.entries(deliveryQueues).map(([id, queue]) => [id, queue.queueUrl])));
    const destinationFunction = new ProjectFunction(this, 'DestinationApi', {
      handlerFile: 'destinations',
      environment: {
        ...environment,
        [Env.declaredDestinations]: declaredDestinations,
        [Env.destinationRouting]: JSON.stringify(routing),
        [Env.eventBusName]: activation.bus.eventBusName,
        [Env.deliveryDeadLetterQueues]: deliveryQueueUrls,
      },
      timeout: Duration.seconds(29),
    });
    // Counting and redriving dead letters (GET /v1/destination-dead-letters, POST /v1/destinations/{id}/redrive).
    for (const queue of Object.values(deliveryQueues)) queue.grantConsumeMessages(destinationFunction.function);
    credentials.table.grant(destinationFunction.function, 'dynamodb:GetItem');
    grantPartitionItems(destinationFunction.function, profiles.table, DestinationPartitionKey, ['GetItem', 'Query', 'PutItem', 'DeleteItem']);
    grantDestinationRouting(this, destinationFunction, activation);
    // Test events (POST /v1/destinations/{id}/test) go on the bus like any activation event.
    activation.bus.grantPutEventsTo(destinationFunction.function);
    // Delivery outcomes (GET /v1/destination-deliveries) are the rules' metrics; CloudWatch's read actions take no resource narrower than *.
    readMetrics(destinationFunction, ['cloudwatch:GetMetricData']);

    // Privacy: the request API, and the worker that carries requests out (docs/privacy.md).
    const privacyFunction = new ProjectFunction(this, 'PrivacyApi', { handlerFile: 'privacy', environment, timeout: Duration.seconds(29) });
    credentials.table.grant(privacyFunction.function, 'dynamodb:GetItem');
    grantPartitionItems(privacyFunction.function, profiles.table, [PrivacyPartitionKeys.requests, PrivacyPartitionKeys.openRequests], ['GetItem', 'PutItem']);
    // Listing requests newest first (GET /v1/privacy/requests).
    grantPartitionItems(privacyFunction.function, profiles.table, PrivacyPartitionKeys.requests, ['Query']);
    grantObjectAccess(privacyFunction.function, storage.lakeBucket, ['s3:PutObject'], LakeLayout.privacyAuditPrefix);
    grantObjectAccess(privacyFunction.function, storage.lakeBucket, ['s3:GetObject'], LakeLayout.privacyExportsPrefix);
    readSalt(privacyFunction.function);
    const heldDeliveries = deliveryQueues;
    const privacyWorker = new ScheduledFunction(this, 'PrivacyWorker', {
      handlerFile: 'privacy-worker',
      environment: {
        ...environment,
        [Env.eventBusName]: activation.bus.eventBusName,
        [Env.declaredDestinations]: declaredDestinations,
        [Env.lakeVersioned]: 'true',
        [Env.queryResultsBucket]: storage.queryResultsBucket.bucketName,
        [Env.deliveryDeadLetterQueues]: deliveryQueueUrls,
      },
      every: Duration.minutes(PrivacyTiming.scheduleMinutes),
      timeout: Duration.seconds(PrivacyTiming.timeoutSeconds),
    });
    grantPrivacyWork(privacyWorker.function, { profiles: profiles.table, storage, salt, bus: activation, queues: Object.values(heldDeliveries) });
    privacyWorker.function.function.addEnvironment(Env.privacySaltSecret, salt.secret.secretArn);

    // Sources: write keys, and the console's live view (the stream's tail and the newest refusals, read only while watched).
    const sourceFunction = new ProjectFunction(this, 'SourceApi', { handlerFile: 'sources', environment, timeout: Duration.seconds(29) });
    credentials.table.grant(sourceFunction.function, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Scan');
    events.stream.grant(sourceFunction.function, 'kinesis:ListShards', 'kinesis:GetShardIterator', 'kinesis:GetRecords');
    grantObjectAccess(sourceFunction.function, storage.lakeBucket, ['s3:GetObject'], LakeLayout.rejectionsPrefix);
    grantPrefixListing(sourceFunction.function, storage.lakeBucket, LakeLayout.rejectionsPrefix);
    // The console's overview reads the functions' counters back.
    readMetrics(sourceFunction, ['cloudwatch:GetMetricData', 'cloudwatch:ListMetrics']);

    new ApiRoutes(this, 'Routes', {
      api: api.api,
      functions: { ingest, profiles: profileFunction, segments: segmentFunction, destinations: destinationFunction, privacy: privacyFunction, sources: sourceFunction },
      adminAuthorizer: authorizer,
    });

    const imports = new BatchImport(this, 'Import', { bucket: storage.lakeBucket, environment });
    const importer = imports.function.function;
    grantObjectAccess(importer, storage.lakeBucket, ['s3:GetObject', 's3:PutObject'], LakeLayout.importsPrefix);
    grantObjectAccess(importer, storage.lakeBucket, ['s3:PutObject'], LakeLayout.rejectionsPrefix);
    grantPrefixListing(importer, storage.lakeBucket, LakeLayout.importsPrefix);
    events.stream.grantWrite(importer);
    applySuppression(importer);

    const monitoring = new OperationsMonitoring(this, 'Operations', {
      functions: {
        Ingest: ingest, Archiver: archiver.function, Resolver: resolver.function, Importer: imports.function,
        AdminAuthorizer: authorizer, ProfileApi: profileFunction, SegmentApi: segmentFunction, Segmenter: segmenter.function,
        Publisher: publisher.function, DestinationApi: destinationFunction, PrivacyApi: privacyFunction, PrivacyWorker: privacyWorker.function,
      },
      destinations: { deadLetterQueues: { ...activation.deadLetterQueues, '(api-managed)': activation.runtimeDeadLetterQueue }, rules: activation.rules },
      consumers: { Archiver: archiver, Resolver: resolver },
      api: api.api,
      tables: { Profiles: profiles.table, Credentials: credentials.table },
      ...(props.alarmEmail ? { alarmEmail: props.alarmEmail } : {}),
    });

    acknowledgeLambdaDefaults(this);

    new CfnOutput(this, 'ApiUrl', { value: api.api.apiEndpoint, description: 'Point SDKs here (host)' });
    if (props.webConsole ?? true) {
      const site = new ConsoleSite(this, 'Console', { api: api.api, accessLogsBucket: storage.accessLogsBucket });
      new CfnOutput(this, 'ConsoleUrl', { value: site.url, description: 'The web console (sign in with an admin token); the API is on the same origin under /v1/*' });
    }
    new CfnOutput(this, 'StreamName', { value: events.stream.streamName });
    new CfnOutput(this, 'LakeBucket', { value: storage.lakeBucket.bucketName });
    new CfnOutput(this, 'CredentialsTable', { value: credentials.table.tableName });
    new CfnOutput(this, 'GlueDatabase', { value: catalog.databaseName });
    new CfnOutput(this, 'AthenaWorkGroup', { value: catalog.workGroup.name });
    new CfnOutput(this, 'ArchiverDeadLetterQueue', { value: archiver.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'ResolverDeadLetterQueue', { value: resolver.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'EventBusName', { value: activation.bus.eventBusName, description: 'The activation bus: add your own rules to it' });
    new CfnOutput(this, 'DestinationsDeadLetterQueue', { value: activation.runtimeDeadLetterQueue.queueUrl, description: 'Events the destinations managed through the API gave up on' });
    new CfnOutput(this, 'ProfilesTable', { value: profiles.table.tableName });
    new CfnOutput(this, 'AlarmTopic', { value: monitoring.topic.topicArn, description: 'Subscribe to be told when an alarm fires' });
    new CfnOutput(this, 'Dashboard', { value: monitoring.dashboard.dashboardName });
  }
}

/** Glue tables (and views) and the lake prefix their data lives under. */
interface LakeTables {
  readonly names: readonly string[];
  readonly prefix: string;
}
const EventTables: LakeTables[] = [{ names: [Catalog.rawEventsTable, Catalog.eventsView], prefix: LakeLayout.eventsPrefix }];
const IdentityTables: LakeTables[] = [{ names: [Catalog.identityLogTable, Catalog.identitiesView], prefix: LakeLayout.identitiesPrefix }];
const SegmentChangeTables: LakeTables[] = [{ names: [Catalog.segmentChangesTable, Catalog.segmentMembersView], prefix: LakeLayout.segmentChangesPrefix }];

/**
 * Segment definitions, the backfill job and destination definitions share the profiles table,
 * each in its own partition; this grants items of one partition only (IAM's LeadingKeys
 * condition), never a profile.
 */
function grantPartitionItems(fn: IFunction, table: ITableV2, partitionKey: string | readonly string[], actions: string[]): void {
  fn.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: actions.map((action) => `dynamodb:${action}`),
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': typeof partitionKey === 'string' ? [partitionKey] : [...partitionKey] } },
    }),
  );
}

/**
 * The privacy worker finds a person anywhere, so it reads and deletes across the profiles table
 * and the lake (every version: the bucket is versioned), empties cached query results, goes
 * through the activation dead-letter queues, announces erasures on the bus, and reads the salt.
 */
function grantPrivacyWork(fn: ProjectFunction, on: { profiles: ITableV2; storage: LakeStorage; salt: PrivacySalt; bus: ActivationBus; queues: readonly IQueue[] }): void {
  const role = fn.function;
  grantTableItems(role, on.profiles, ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);
  role.addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: ['s3:ListBucket', 's3:ListBucketVersions'], resources: [on.storage.lakeBucket.bucketArn, on.storage.queryResultsBucket.bucketArn] }));
  role.addToRolePolicy(
    new PolicyStatement({ effect: Effect.ALLOW, actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'], resources: [on.storage.lakeBucket.arnForObjects('*')] }),
  );
  // The audit log is append-only: whatever else the worker may delete, never an entry of it.
  role.addToRolePolicy(
    new PolicyStatement({ effect: Effect.DENY, actions: ['s3:DeleteObject', 's3:DeleteObjectVersion'], resources: [on.storage.lakeBucket.arnForObjects(`${LakeLayout.privacyAuditPrefix}*`)] }),
  );
  role.addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: ['s3:DeleteObject'], resources: [on.storage.queryResultsBucket.arnForObjects('*')] }));
  for (const queue of on.queues) queue.grant(role, 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility');
  on.bus.bus.grantPutEventsTo(role);
  on.salt.grantRead(role);
  const stack = Stack.of(fn);
  for (const bucket of [on.storage.lakeBucket, on.storage.queryResultsBucket]) {
    const logicalId = stack.getLogicalId(bucket.node.defaultChild as CfnBucket);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/*]`,
      reason: 'An erasure removes a person wherever they are: every lake prefix (events, identities, segment changes, refusals, splits, exports) and every cached query result, with earlier versions.',
    });
  }
}

/**
 * What the destination API needs to route destinations: rules and targets on the bus, connections
 * and API destinations, all by the stack's name prefix; passing the invocation role; and the
 * Secrets Manager secrets EventBridge keeps connections' credentials in.
 */
/** Lets a function read CloudWatch metrics. Its read actions take no resource narrower than *. */
function readMetrics(fn: ProjectFunction, actions: readonly string[]): void {
  fn.function.addToRolePolicy(new PolicyStatement({ actions: [...actions], resources: ['*'] }));
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: `${actions.join(' and ')} support no resource-level permissions; they only read metrics, which hold counts, not people.`,
  });
}

function grantDestinationRouting(stack: Stack, fn: ProjectFunction, activation: ActivationBus): void {
  const prefix = activation.namePrefix;
  const role = fn.function;
  // Pseudo-parameters rather than formatArn: the acknowledgements below name them whatever region the app is given.
  const events = `arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}`;
  role.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['events:PutRule', 'events:DeleteRule', 'events:PutTargets', 'events:RemoveTargets'],
      resources: [`${events}:rule/${activation.bus.eventBusName}/${prefix}-*`],
    }),
  );
  role.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['events:CreateConnection', 'events:UpdateConnection', 'events:DeleteConnection', 'events:DescribeConnection'],
      resources: [`${events}:connection/${prefix}-*`],
    }),
  );
  role.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['events:CreateApiDestination', 'events:UpdateApiDestination', 'events:DeleteApiDestination', 'events:DescribeApiDestination'],
      resources: [`${events}:api-destination/${prefix}-*`],
    }),
  );
  role.addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: ['iam:PassRole'], resources: [activation.invocationRole.roleArn] }));
  role.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['secretsmanager:CreateSecret', 'secretsmanager:UpdateSecret', 'secretsmanager:PutSecretValue', 'secretsmanager:DescribeSecret', 'secretsmanager:DeleteSecret'],
      resources: [`arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:events!connection/${prefix}-*`],
    }),
  );
  const arn = '<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>';
  const busLogicalId = stack.getLogicalId(activation.bus.node.defaultChild as CfnEventBus);
  for (const resource of [
    `arn:${arn}:rule/<${busLogicalId}>/${prefix}-*`,
    `arn:${arn}:connection/${prefix}-*`,
    `arn:${arn}:api-destination/${prefix}-*`,
    `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:events!connection/${prefix}-*`,
  ]) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${resource}]`,
      reason: `Destinations are routed at runtime under generated names: rules, connections, API destinations and the connections' secrets are limited to this stack's prefix ${prefix}-.`,
    });
  }
}

/** Athena in the lake's workgroup, reading only the given tables and their prefixes, and writing only query results. */
function grantLakeQuery(stack: Stack, fn: ProjectFunction, catalog: LakeCatalog, storage: LakeStorage, tables: readonly LakeTables[]): void {
  const role = fn.function;
  role.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults'],
      resources: [stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: catalog.workGroup.name })],
    }),
  );
  role.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
      resources: [
        stack.formatArn({ service: 'glue', resource: 'catalog' }),
        stack.formatArn({ service: 'glue', resource: 'database', resourceName: catalog.databaseName }),
        ...tables.flatMap((t) => t.names).map((t) => stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${catalog.databaseName}/${t}` })),
      ],
    }),
  );
  for (const { prefix } of tables) {
    grantObjectAccess(role, storage.lakeBucket, ['s3:GetObject'], prefix);
    grantPrefixListing(role, storage.lakeBucket, prefix);
  }
  grantObjectAccess(role, storage.queryResultsBucket, ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'], LakeLayout.athenaResultsPrefix);
  role.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['s3:GetBucketLocation'],
      resources: [storage.lakeBucket.bucketArn, storage.queryResultsBucket.bucketArn],
    }),
  );
}
