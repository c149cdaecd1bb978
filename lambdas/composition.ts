/**
 * The composition root: the one place that builds SDK clients and adapters from configuration,
 * for AWS or for the local emulators, and assembles the use cases' dependencies from them. Each
 * handler module's entry point and the local runtime call these builders; neither chooses an
 * adapter itself. Cloud and local differ only in what is chosen here, never in the use cases.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { randomUUID } from 'node:crypto';
import { Env, MetricsNamespace } from './contracts.js';
import { DynamoDbCredentialStore } from './adapters/aws/dynamodb-credential-store.js';
import { DynamoDbProfileStore } from './adapters/aws/dynamodb-profile-store.js';
import { profileConfigFromJson } from './domain/profile-config.js';
import type { IdentityRules } from './domain/identifiers.js';
import { SaltedIdentifierHasher } from './use-cases/identifier-hashing.js';
import { KinesisEventStream } from './adapters/aws/kinesis-event-stream.js';
import { KinesisStreamTail } from './adapters/aws/kinesis-stream-tail.js';
import { CloudWatchMetricsReader } from './adapters/aws/cloudwatch-metrics-reader.js';
import { PowertoolsTelemetry } from './adapters/aws/powertools-telemetry.js';
import { S3ObjectStore } from './adapters/aws/s3-object-store.js';
import { CountingTelemetry } from './adapters/local/counting-telemetry.js';
import type { AppLogger } from './ports/logger.js';
import type { Telemetry } from './ports/telemetry.js';
import { Authenticator } from './use-cases/authenticate.js';
import { archiveBatch, type ArchiveDependencies } from './use-cases/archive.js';
import type { DeliveredRecord } from './ports/event-stream.js';
import type { RedriveConsumer } from './use-cases/redrive.js';
import type { ImportDependencies } from './use-cases/import-file.js';
import type { IngestDependencies } from './use-cases/ingest.js';
import { resolveBatch, type IsolatingResolveDependencies, type ResolveDependencies } from './use-cases/resolve.js';
import { ProfileService } from './use-cases/profiles.js';
import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { LakeQuery } from './ports/lake-query.js';
import { AthenaLakeQuery, type AthenaTarget } from './adapters/aws/athena-lake-query.js';
import { RejectionLog } from './use-cases/rejection-log.js';
import { DynamoDbDeadLetterStore } from './adapters/aws/dynamodb-dead-letter-store.js';
import type { DeadLetterStore } from './ports/dead-letter-store.js';
import { DynamoDbSegmentStore } from './adapters/aws/dynamodb-segment-store.js';
import { IdentityLog } from './use-cases/identity-log.js';
import { CachedSegmentSource } from './use-cases/segment-source.js';
import { SegmentService, type BackfillTiming } from './use-cases/segments.js';
import { Segmenter } from './use-cases/segmenter.js';
import type { LakeQueryJobs } from './ports/lake-query.js';
import { ActivationTiming, SegmentTiming } from './contracts.js';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { destinationResourceName, type Destination, type WebhookPolicy } from './domain/destinations.js';
import { DynamoDbDestinationStore } from './adapters/aws/dynamodb-destination-store.js';
import { EventBridgeEventBus } from './adapters/aws/eventbridge-event-bus.js';
import { EventBridgeDestinationRouting, RoutingSettingsSchema, type RoutingSettings } from './adapters/aws/eventbridge-destination-routing.js';
import type { DestinationRouting } from './ports/destination-store.js';
import type { DeliveryDeadLetters, DeliveryOutcomes, EventBus } from './ports/event-bus.js';
import { Publisher } from './use-cases/publisher.js';
import { DestinationService } from './use-cases/destinations.js';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { PrivacyTiming } from './contracts.js';
import { DynamoDbPrivacyStore } from './adapters/aws/dynamodb-privacy-store.js';
import { SecretsManagerSalt } from './adapters/aws/secrets-manager-salt.js';
import { SqsHeldDeliveries } from './adapters/aws/sqs-held-deliveries.js';
import { SqsDeliveryDeadLetters } from './adapters/aws/destination-dead-letters.js';
import { EventBridgeDeliveryOutcomes } from './adapters/aws/eventbridge-delivery-outcomes.js';
import { StaticSalt } from './adapters/local/static-salt.js';
import type { ExportLinks, SaltSource } from './ports/privacy-salt.js';
import type { HeldDeliveries } from './ports/event-bus.js';
import { SuppressionFilter } from './use-cases/suppression.js';
import { PrivacyService } from './use-cases/privacy.js';
import { PrivacyWorker, type PrivacyWorkerDependencies } from './use-cases/privacy-worker.js';

export interface LocalEndpoints {
  readonly dynamodb: string;
  readonly kinesis: string;
  readonly s3: string;
}

export interface RuntimeConfig {
  readonly streamName: string;
  readonly lakeBucket: string;
  readonly credentialsTable: string;
  readonly profilesTable: string;
  /** The profile configuration, with its identifier hasher when it stores any type hashed (withIdentifierHashing). */
  readonly profileConfig: IdentityRules;
  /** The lake's Athena workgroup and Glue database (AWS). */
  readonly athena?: AthenaTarget;
  /** Present when running against the local emulators. */
  readonly local?: LocalEndpoints;
  readonly serviceName: string;
  /** The activation bus (EventBridge), in AWS. */
  readonly eventBusName?: string;
  /** Destinations declared in the stack's config file (without secrets). @default none */
  readonly declaredDestinations?: readonly Destination[];
  /** How the destination API routes destinations on the bus, in AWS. */
  readonly destinationRouting?: RoutingSettings;
  /** The salt of privacy hashes: given (locally), or read from this Secrets Manager secret (AWS). */
  readonly privacySalt?: string;
  readonly privacySaltSecret?: string;
  /** Longest a function uses a copy of the suppression list. @default PrivacyTiming.suppressionMaxAgeMs */
  readonly suppressionMaxAgeMs?: number;
  /** The lake bucket keeps earlier versions of objects (the deployed lake). @default false */
  readonly lakeVersioned?: boolean;
  /** Athena's query results bucket (AWS), which an erasure empties. */
  readonly queryResultsBucket?: string;
  /** The activation dead-letter queues (AWS), by destination. */
  readonly deliveryDeadLetterQueues?: Readonly<Record<string, string>>;
}

export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`environment variable ${name} is not set`);
    return value;
  };
  const local =
    env[Env.runtime] === 'local'
      ? { dynamodb: required(Env.dynamodbEndpoint), kinesis: required(Env.kinesisEndpoint), s3: required(Env.s3Endpoint) }
      : undefined;
  return withIdentifierHashing({
    streamName: env[Env.streamName] ?? '',
    lakeBucket: env[Env.lakeBucket] ?? '',
    credentialsTable: env[Env.credentialsTable] ?? '',
    profilesTable: env[Env.profilesTable] ?? '',
    profileConfig: profileConfigFromJson(env[Env.profileConfig]),
    ...athenaTarget(env),
    serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'cdp',
    ...(local ? { local } : {}),
    ...(env[Env.eventBusName] ? { eventBusName: env[Env.eventBusName] } : {}),
    ...(env[Env.declaredDestinations] ? { declaredDestinations: JSON.parse(env[Env.declaredDestinations]!) as Destination[] } : {}),
    ...(env[Env.destinationRouting] ? { destinationRouting: RoutingSettingsSchema.parse(JSON.parse(env[Env.destinationRouting]!)) } : {}),
    ...(env[Env.privacySalt] ? { privacySalt: env[Env.privacySalt] } : {}),
    ...(env[Env.privacySaltSecret] ? { privacySaltSecret: env[Env.privacySaltSecret] } : {}),
    ...(env[Env.lakeVersioned] === 'true' ? { lakeVersioned: true } : {}),
    ...(env[Env.queryResultsBucket] ? { queryResultsBucket: env[Env.queryResultsBucket] } : {}),
    ...(env[Env.deliveryDeadLetterQueues] ? { deliveryDeadLetterQueues: JSON.parse(env[Env.deliveryDeadLetterQueues]!) as Record<string, string> } : {}),
  });
}

/**
 * Gives the profile configuration its identifier hasher when it stores any type hashed and this
 * function has the salt. A function without the salt has none, and fails loudly should it ever
 * meet such an identifier.
 */
export function withIdentifierHashing(config: RuntimeConfig): RuntimeConfig {
  const rules = config.profileConfig;
  if (rules.hashedIdentifiers.length === 0 || rules.identifierHasher || !(config.privacySalt || config.privacySaltSecret)) return config;
  return { ...config, profileConfig: { ...rules, identifierHasher: new SaltedIdentifierHasher(saltSource(config)) } };
}

/** Reads what the configuration needs before its first event: the salt of hashed identifiers, if any. */
export async function prepareRuntime(config: Pick<RuntimeConfig, 'profileConfig'>): Promise<void> {
  const hasher = config.profileConfig.identifierHasher;
  if (hasher instanceof SaltedIdentifierHasher) await hasher.load();
}

function athenaTarget(env: NodeJS.ProcessEnv): { athena?: AthenaTarget } {
  const workGroup = env[Env.athenaWorkGroup];
  const database = env[Env.glueDatabase];
  return workGroup && database ? { athena: { workGroup, database } } : {};
}

export interface Clients {
  readonly dynamodb: DynamoDBClient;
  readonly kinesis: KinesisClient;
  readonly s3: S3Client;
}

// s3rver accepts only its own fixed key pair; the other emulators accept any.
const LocalCredentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const localCommon = { region: 'us-east-1', credentials: LocalCredentials, maxAttempts: 5 };

/*
 * One factory per SDK client. Handlers reference only the factories they use, so each bundle
 * carries only those SDK clients (the SDK packages are side-effect free and tree-shaken).
 */
export function dynamoDbClient(config: Pick<RuntimeConfig, 'local'>): DynamoDBClient {
  return config.local ? new DynamoDBClient({ ...localCommon, endpoint: config.local.dynamodb }) : new DynamoDBClient({});
}

export function kinesisClient(config: Pick<RuntimeConfig, 'local'>): KinesisClient {
  if (!config.local) return new KinesisClient({});
  // kinesalite speaks HTTP/1.1 only.
  return new KinesisClient({
    ...localCommon,
    endpoint: config.local.kinesis,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 30_000 }),
  });
}

export function s3Client(config: Pick<RuntimeConfig, 'local'>): S3Client {
  if (!config.local) return new S3Client({});
  // s3rver stores objects corrupted unless checksums are only sent when required.
  return new S3Client({
    ...localCommon,
    endpoint: config.local.s3,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** All SDK clients (the local runtime and tools); locally they point at the emulators. */
export function createClients(config: Pick<RuntimeConfig, 'local'>): Clients {
  return { dynamodb: dynamoDbClient(config), kinesis: kinesisClient(config), s3: s3Client(config) };
}

export interface Observability {
  readonly logger: AppLogger;
  readonly telemetry: Telemetry;
}

/** Observability of the local runtime and the operators' tools: JSON logs, and counters kept in memory. */
export function createObservability(config: Pick<RuntimeConfig, 'serviceName'>, telemetry: Telemetry = new CountingTelemetry()): Observability {
  return { logger: new Logger({ serviceName: config.serviceName }), telemetry };
}

/**
 * Observability of a deployed function: Powertools' logger and CloudWatch metrics (EMF), which
 * the function's entry point wires to the Lambda context (lambdas/handlers/shared/lambda.ts).
 */
export interface LambdaObservability extends Observability {
  readonly logger: PowertoolsLogger;
  readonly metrics: Metrics;
  /** What the function reads before its first event (prepareRuntime); every handler's wiring carries it. */
  readonly prepare: () => Promise<void>;
}

export function lambdaObservability(config: Pick<RuntimeConfig, 'serviceName' | 'profileConfig'>): LambdaObservability {
  const metrics = new Metrics({ namespace: MetricsNamespace, serviceName: config.serviceName });
  return { logger: new Logger({ serviceName: config.serviceName }), metrics, telemetry: new PowertoolsTelemetry(metrics), prepare: () => prepareRuntime(config) };
}

export interface Composition extends Observability {
  readonly config: RuntimeConfig;
  readonly clients: Clients;
  readonly lake: S3ObjectStore;
  readonly stream: KinesisEventStream;
  readonly credentials: DynamoDbCredentialStore;
  readonly profiles: DynamoDbProfileStore;
  readonly rejectionLog: RejectionLog;
  readonly deadLetters: DeadLetterStore;
  readonly segments: DynamoDbSegmentStore;
  readonly destinations: DynamoDbDestinationStore;
  readonly privacy: DynamoDbPrivacyStore;
  readonly salt: SaltSource;
}

export function compose(given: RuntimeConfig, options: { clients?: Clients; telemetry?: Telemetry } = {}): Composition {
  const config = withIdentifierHashing(given);
  const clients = options.clients ?? createClients(config);
  const observability = createObservability(config, options.telemetry);
  const lake = lakeStore(config, clients.s3);
  const privacy = privacyParts(config, clients.dynamodb);
  return {
    config,
    clients,
    ...observability,
    lake,
    ...privacy,
    stream: eventStream(config, clients.kinesis),
    credentials: credentialStore(config, clients.dynamodb),
    profiles: profileStore(config, observability, clients.dynamodb),
    rejectionLog: rejectionLog(lake, { ...observability, ...privacy, config }),
    deadLetters: deadLetterStore(config, clients.dynamodb),
    segments: segmentStore(config, clients.dynamodb),
    destinations: destinationStore(config, clients.dynamodb),
  };
}

/* One builder per adapter; a handler's production wiring calls only the ones it needs. */
export const lakeStore = (config: RuntimeConfig, client = s3Client(config)): S3ObjectStore => new S3ObjectStore(client, config.lakeBucket, config.lakeVersioned ?? false);
export const eventStream = (config: RuntimeConfig, client = kinesisClient(config)): KinesisEventStream =>
  new KinesisEventStream({ client, streamName: config.streamName });
/** The functions' counters read back from CloudWatch (AWS); the local runtime reads its own counts. */
export const cloudWatchMetrics = (): CloudWatchMetricsReader => new CloudWatchMetricsReader(new CloudWatchClient({}));
export const streamTail = (config: RuntimeConfig, client = kinesisClient(config)): KinesisStreamTail => new KinesisStreamTail({ client, streamName: config.streamName });
export const credentialStore = (config: RuntimeConfig, client = dynamoDbClient(config)): DynamoDbCredentialStore =>
  new DynamoDbCredentialStore(client, config.credentialsTable);
export const rejectionLog = (lake: S3ObjectStore, c: Observability & Pick<Composition, 'privacy' | 'salt' | 'config'>): RejectionLog =>
  new RejectionLog(lake, c.logger, c.telemetry, suppressionFilter(c, 'rejections'), c.config.profileConfig);

export const privacyStore = (config: RuntimeConfig, client = dynamoDbClient(config)): DynamoDbPrivacyStore => new DynamoDbPrivacyStore(client, config.profilesTable);

/** What every function that applies the suppression list needs: the list and the salt. */
export const privacyParts = (config: RuntimeConfig, client = dynamoDbClient(config)): Pick<Composition, 'privacy' | 'salt'> => ({ privacy: privacyStore(config, client), salt: saltSource(config) });

/** The salt of privacy hashes: as configured locally, else from the stack's secret (fetched only when first needed). */
export function saltSource(config: RuntimeConfig): SaltSource {
  if (config.privacySalt) return new StaticSalt(config.privacySalt);
  const secret = config.privacySaltSecret;
  // Asked for only once someone is suppressed: a function configured without it fails then, loudly.
  if (!secret) return { salt: () => Promise.reject(new Error(`neither ${Env.privacySalt} nor ${Env.privacySaltSecret} is set`)) };
  // One per secret and process: the suppression filter and the identifier hasher share one read.
  let source = secretSalts.get(secret);
  if (!source) secretSalts.set(secret, (source = new SecretsManagerSalt(new SecretsManagerClient({}), secret)));
  return source;
}
const secretSalts = new Map<string, SaltSource>();

/** The suppression list as one stage applies it (docs/privacy.md). */
export const suppressionFilter = (c: Pick<Composition, 'privacy' | 'salt' | 'config' | 'telemetry'>, stage: string): SuppressionFilter =>
  new SuppressionFilter(c.privacy, c.salt, c.config.profileConfig, { maxAgeMs: c.config.suppressionMaxAgeMs ?? PrivacyTiming.suppressionMaxAgeMs, telemetry: c.telemetry, stage });

/** Where an access export is fetched in AWS: a presigned link to the private object, valid for a few minutes. */
export function presignedExportLinks(config: RuntimeConfig, client = s3Client(config)): ExportLinks {
  return {
    link: async (_id, key) => ({
      url: await getSignedUrl(client, new GetObjectCommand({ Bucket: config.lakeBucket, Key: key }), { expiresIn: PrivacyTiming.exportLinkSeconds }),
      expiresAt: new Date(Date.now() + PrivacyTiming.exportLinkSeconds * 1000).toISOString(),
    }),
  };
}

/** Where an access export is fetched locally: the API's own admin route, which streams it. */
export const apiExportLinks: ExportLinks = { link: async (id) => ({ url: `/v1/privacy/requests/${encodeURIComponent(id)}/export` }) };

export function privacyService(c: Pick<Composition, 'privacy' | 'salt' | 'lake' | 'config'>, exportLinks: ExportLinks): PrivacyService {
  return new PrivacyService({ requests: c.privacy, salt: c.salt, lake: c.lake, exportLinks, config: c.config.profileConfig, now: () => new Date(), newId: () => randomUUID().replaceAll('-', '').slice(0, 20) });
}

/** The activation dead-letter queues as held deliveries (AWS). */
/** The destinations' dead-letter queues (AWS), redriven onto `bus`. */
export const sqsDeliveryDeadLetters = (config: RuntimeConfig, bus: EventBus): DeliveryDeadLetters => new SqsDeliveryDeadLetters(new SQSClient({}), config.deliveryDeadLetterQueues ?? {}, bus);
export const sqsHeldDeliveries = (config: RuntimeConfig): HeldDeliveries => new SqsHeldDeliveries(new SQSClient({}), config.deliveryDeadLetterQueues ?? {});

/** The privacy worker; locally the runtime passes its bus as the announcer and held deliveries, and a short settle time. */
export function privacyWorker(
  c: Pick<Composition, 'privacy' | 'salt' | 'profiles' | 'segments' | 'lake' | 'deadLetters' | 'config' | 'telemetry' | 'logger'>,
  options: { announcer: PrivacyWorkerDependencies['announcer']; deliveries: readonly HeldDeliveries[]; deadLetters?: readonly DeadLetterStore[]; queryResults?: S3ObjectStore; settleMs?: number },
): PrivacyWorker {
  return new PrivacyWorker({
    requests: c.privacy,
    suppressions: c.privacy,
    salt: c.salt,
    profiles: c.profiles,
    segments: c.segments,
    lake: c.lake,
    ...(options.queryResults ? { queryResults: options.queryResults } : {}),
    deadLetters: [c.deadLetters, ...(options.deadLetters ?? [])],
    deliveries: options.deliveries,
    announcer: options.announcer,
    config: c.config.profileConfig,
    settleMs: options.settleMs ?? PrivacyTiming.settleMs,
    telemetry: c.telemetry,
    logger: c.logger,
    now: () => new Date(),
  });
}
export const deadLetterStore = (config: RuntimeConfig, client = dynamoDbClient(config)): DeadLetterStore =>
  new DynamoDbDeadLetterStore(client, config.profilesTable);
export const segmentStore = (config: RuntimeConfig, client = dynamoDbClient(config)): DynamoDbSegmentStore => new DynamoDbSegmentStore(client, config.profilesTable);
export const profileStore = (config: RuntimeConfig, observability: Observability, client = dynamoDbClient(config)): DynamoDbProfileStore =>
  new DynamoDbProfileStore(client, config.profilesTable, observability.telemetry);

export function ingestDependencies(c: Pick<Composition, 'credentials' | 'stream' | 'rejectionLog' | 'telemetry' | 'logger' | 'privacy' | 'salt' | 'config'>): IngestDependencies {
  return {
    suppression: suppressionFilter(c, 'intake'),
    identityRules: c.config.profileConfig,
    authenticator: new Authenticator(c.credentials),
    stream: c.stream,
    rejectionLog: c.rejectionLog,
    telemetry: c.telemetry,
    logger: c.logger,
    now: () => new Date(),
    newMessageId: randomUUID,
  };
}

export const archiveDependencies = (c: Pick<Composition, 'lake' | 'telemetry' | 'logger' | 'config' | 'privacy' | 'salt'>): ArchiveDependencies => ({
  suppression: suppressionFilter(c, 'archiver'),
  lake: c.lake,
  config: c.config.profileConfig,
  telemetry: c.telemetry,
  logger: c.logger,
});

export const importDependencies = (c: Pick<Composition, 'lake' | 'stream' | 'rejectionLog' | 'telemetry' | 'logger' | 'config'>): ImportDependencies => ({
  identityRules: c.config.profileConfig,
  lake: c.lake,
  stream: c.stream,
  rejectionLog: c.rejectionLog,
  telemetry: c.telemetry,
  logger: c.logger,
  now: () => new Date(),
});

export const resolveDependencies = (c: Pick<Composition, 'profiles' | 'config' | 'telemetry' | 'logger' | 'privacy' | 'salt'>): ResolveDependencies => ({
  suppression: suppressionFilter(c, 'resolver'),
  store: c.profiles,
  config: c.config.profileConfig,
  telemetry: c.telemetry,
  logger: c.logger,
  now: () => new Date(),
});

/** Segment timing as deployed (contracts.ts); the local runtime passes its own. */
export const DeployedSegmentTiming: BackfillTiming = { definitionsMaxAgeMs: SegmentTiming.definitionsMaxAgeMs, archiverLagMs: SegmentTiming.archiverLagMs };

/**
 * The stream's resolver: profiles with segment memberships evaluated in every write, and the
 * lake's identity log kept. (`resolveDependencies` alone is the plain fold a rebuild uses.)
 */
export const streamResolveDependencies = (
  c: Pick<Composition, 'profiles' | 'config' | 'telemetry' | 'logger' | 'segments' | 'lake' | 'privacy' | 'salt'>,
  timing: BackfillTiming = DeployedSegmentTiming,
): ResolveDependencies => ({
  ...resolveDependencies(c),
  segments: new CachedSegmentSource(c.segments, c.config.profileConfig, { maxAgeMs: timing.definitionsMaxAgeMs, logger: c.logger }),
  identityLog: new IdentityLog(c.lake),
});

export const isolatingResolveDependencies = (
  c: Pick<Composition, 'profiles' | 'config' | 'telemetry' | 'logger' | 'deadLetters' | 'segments' | 'lake' | 'privacy' | 'salt'>,
  timing: BackfillTiming = DeployedSegmentTiming,
): IsolatingResolveDependencies => ({ ...streamResolveDependencies(c, timing), deadLetters: c.deadLetters });

/** How a redrive hands dead letters back to each stream consumer: the same use cases, without isolation. */
export function redriveConsumers(resolve: ResolveDependencies, archive?: ArchiveDependencies): Record<string, RedriveConsumer> {
  return {
    resolver: (records) => resolveBatch(records, resolve),
    ...(archive
      ? {
          archiver: async (records: readonly DeliveredRecord[]) => {
            const failed = await archiveBatch(records, archive);
            if (failed.length > 0) throw new Error(`${failed.length} records could not be written to the lake`);
          },
        }
      : {}),
  };
}

function athenaLake(config: RuntimeConfig): AthenaLakeQuery {
  if (!config.athena) throw new Error(`environment variables ${Env.athenaWorkGroup} and ${Env.glueDatabase} are not set`);
  return new AthenaLakeQuery(config.athena);
}

/** The profile service; its lake is Athena unless the local runtime passes DuckDB. */
export function profileService(
  c: Pick<Composition, 'profiles' | 'config' | 'telemetry' | 'logger' | 'lake' | 'segments' | 'privacy' | 'salt'>,
  lake?: LakeQuery,
  timing: BackfillTiming = DeployedSegmentTiming,
): ProfileService {
  const deps = streamResolveDependencies(c, timing);
  return new ProfileService({ ...deps, lake: lake ?? athenaLake(c.config), lakeObjects: c.lake });
}

/** The segment API's service; its lake is Athena unless the local runtime passes DuckDB. */
export function segmentService(
  c: Pick<Composition, 'config' | 'logger' | 'segments'>,
  lake?: LakeQuery,
  timing: BackfillTiming = DeployedSegmentTiming,
): SegmentService {
  return new SegmentService({ store: c.segments, lake: lake ?? athenaLake(c.config), config: c.config.profileConfig, timing, logger: c.logger, now: () => new Date() });
}

/** The segmentation function's work; its lake is Athena unless the local runtime passes DuckDB. */
export function segmenter(
  c: Pick<Composition, 'profiles' | 'config' | 'telemetry' | 'logger' | 'segments' | 'lake'>,
  lake?: LakeQueryJobs,
  timing: BackfillTiming = DeployedSegmentTiming,
): Segmenter {
  return new Segmenter({
    profiles: c.profiles,
    segments: c.segments,
    lake: lake ?? athenaLake(c.config),
    lakeObjects: c.lake,
    config: c.config.profileConfig,
    timing,
    telemetry: c.telemetry,
    logger: c.logger,
    now: () => new Date(),
  });
}

export const destinationStore = (config: RuntimeConfig, client = dynamoDbClient(config)): DynamoDbDestinationStore => new DynamoDbDestinationStore(client, config.profilesTable);

/** Webhooks may use plain http to this machine only when running locally. */
export const webhookPolicy = (config: Pick<RuntimeConfig, 'local'>): WebhookPolicy => ({ allowLoopbackHttp: config.local !== undefined });

/** The stack's EventBridge bus (AWS); the local runtime passes its own bus. */
export function eventBridgeBus(config: RuntimeConfig): EventBus {
  if (!config.eventBusName) throw new Error(`environment variable ${Env.eventBusName} is not set`);
  return new EventBridgeEventBus(new EventBridgeClient({}), config.eventBusName);
}

/** How the destination API routes destinations: EventBridge rules and connections (AWS); the local runtime passes its bus. */
export function eventBridgeRouting(config: RuntimeConfig): DestinationRouting {
  if (!config.destinationRouting) throw new Error(`environment variable ${Env.destinationRouting} is not set`);
  return new EventBridgeDestinationRouting(new EventBridgeClient({}), config.destinationRouting);
}

/** The outbox's publisher onto the bus. */
export function publisher(
  c: Pick<Composition, 'profiles' | 'config' | 'telemetry' | 'logger' | 'segments' | 'lake'> & { readonly destinations: DynamoDbDestinationStore },
  bus: EventBus,
  options: { readonly definitionsMaxAgeMs?: number } = {},
): Publisher {
  return new Publisher({
    profiles: c.profiles,
    segments: c.segments,
    destinations: c.destinations,
    declared: c.config.declaredDestinations ?? [],
    bus,
    lakeObjects: c.lake,
    telemetry: c.telemetry,
    logger: c.logger,
    now: () => new Date(),
    definitionsMaxAgeMs: options.definitionsMaxAgeMs ?? ActivationTiming.definitionsMaxAgeMs,
  });
}

/** What the destination API works through on the bus: EventBridge and SQS in AWS, the local bus locally. */
export interface DestinationBus {
  readonly routing: DestinationRouting;
  /** Where test events go. */
  readonly bus: EventBus;
  readonly deadLetters: DeliveryDeadLetters;
  readonly deliveries: DeliveryOutcomes;
}

/** The destination API's bus in AWS: rules and connections, the SQS dead-letter queues, and the rules' metrics. */
export function eventBridgeDestinationBus(config: RuntimeConfig): DestinationBus {
  const bus = eventBridgeBus(config);
  const routing = config.destinationRouting;
  if (!routing) throw new Error(`environment variable ${Env.destinationRouting} is not set`);
  return {
    routing: eventBridgeRouting(config),
    bus,
    deadLetters: sqsDeliveryDeadLetters(config, bus),
    deliveries: new EventBridgeDeliveryOutcomes(new CloudWatchClient({}), routing.busName, (id) => destinationResourceName(routing.namePrefix, id)),
  };
}

export function destinationService(c: Pick<Composition, 'config'> & { readonly destinations: DynamoDbDestinationStore }, on: DestinationBus): DestinationService {
  return new DestinationService({
    store: c.destinations,
    ...on,
    declared: c.config.declaredDestinations ?? [],
    webhooks: webhookPolicy(c.config),
    now: () => new Date(),
  });
}
