/**
 * Names and shapes shared by the CDK app, the Lambda handlers, the local runtime and the tests.
 * Keeping them in one module is what lets `npm start` create the same resources the stack deploys.
 */

/** Environment variables the handlers read. */
export const Env = {
  streamName: 'CDP_STREAM_NAME',
  lakeBucket: 'CDP_LAKE_BUCKET',
  credentialsTable: 'CDP_CREDENTIALS_TABLE',
  profilesTable: 'CDP_PROFILES_TABLE',
  /** Where the profile API reads the lake (Athena), in AWS. */
  athenaWorkGroup: 'CDP_ATHENA_WORKGROUP',
  glueDatabase: 'CDP_GLUE_DATABASE',
  /** JSON overrides of the identity and profile rules (lambdas/domain/profile-config.ts). */
  profileConfig: 'CDP_PROFILE_CONFIG',
  /** `local` makes the composition root build emulator-friendly clients. */
  runtime: 'CDP_RUNTIME',
  dynamodbEndpoint: 'CDP_DYNAMODB_ENDPOINT',
  kinesisEndpoint: 'CDP_KINESIS_ENDPOINT',
  s3Endpoint: 'CDP_S3_ENDPOINT',
  /** The activation bus's name (EventBridge) in AWS. */
  eventBusName: 'CDP_EVENT_BUS_NAME',
  /** Destinations declared in the stack's config file, as JSON without secrets. */
  declaredDestinations: 'CDP_DECLARED_DESTINATIONS',
  /** What the destination API needs to route destinations it manages (JSON, lambdas/adapters/aws/eventbridge-destination-routing.ts). */
  destinationRouting: 'CDP_DESTINATION_ROUTING',
  /** The secret holding the salt of privacy hashes (Secrets Manager, in AWS). */
  privacySaltSecret: 'CDP_PRIVACY_SALT_SECRET',
  /** The salt itself, locally (a file in the data directory holds it). */
  privacySalt: 'CDP_PRIVACY_SALT',
  /** Whether the lake bucket keeps earlier versions of objects, which an erasure must delete too. */
  lakeVersioned: 'CDP_LAKE_VERSIONED',
  /** The Athena query results bucket: cached query output an erasure empties. */
  queryResultsBucket: 'CDP_QUERY_RESULTS_BUCKET',
  /** Queue URLs of the activation dead-letter queues, as JSON `{ "<destination>": "<url>" }`. */
  deliveryDeadLetterQueues: 'CDP_DELIVERY_DEAD_LETTER_QUEUES',
} as const;

/** The CloudWatch namespace of the functions' metrics (Powertools EMF); the dashboard and alarms read it. */
export const MetricsNamespace = 'Cdp';

/** Intake limits, matching (or tightening) Segment's HTTP Tracking API. */
export const IntakeLimits = {
  maxEventBytes: 32 * 1024,
  maxBatchBytes: 500 * 1024,
  maxBatchEvents: 2500,
  maxMessageIdLength: 100,
  /** Cap on a gzip body once inflated, so a small bomb cannot exhaust memory. */
  maxInflatedBytes: 2 * 1024 * 1024,
  /** Raw request bodies beyond this are refused before parsing (API Gateway's own cap is 10 MB). */
  maxRawBodyBytes: 2 * 1024 * 1024,
  /** Identifier strings longer than this are rejected; nobody's user id is longer. */
  maxIdentifierLength: 512,
  /** Accept events up to this far in the future (after skew correction). */
  maxFutureSkewMs: 24 * 60 * 60 * 1000,
  /** Oldest event time the lake partitions accept. */
  earliestTimestamp: '2000-01-01T00:00:00.000Z',
} as const;

/** Kinesis PutRecords limits. */
export const StreamLimits = {
  maxRecordsPerPut: 500,
  maxBytesPerPut: 5 * 1024 * 1024,
} as const;

/** Object layout of the lake bucket. */
export const LakeLayout = {
  eventsPrefix: 'events/',
  rejectionsPrefix: 'rejected/',
  quarantinePrefix: 'quarantine/',
  importsPrefix: 'imports/',
  /** The identity log, one object per resolver batch (or split), partitioned by the date it was recorded. */
  identitiesPrefix: 'identities/',
  /** Segment entries and exits, one object per delivery run, partitioned by the date of the change. */
  segmentChangesPrefix: 'segment-changes/',
  /** Admin identity operations (splits), one JSON object each, replayed by a rebuild. */
  splitsPrefix: 'identity/splits/',
  importResultSuffix: '.result.json',
  /**
   * File types imported from `imports/`, each also accepted with `.gz`, matched without regard to
   * case. S3 notification suffix filters are case-sensitive, so the stack notifies on the prefix
   * and the importer checks the name.
   */
  importFileSuffixes: ['.ndjson', '.jsonl', '.json', '.csv'],
  athenaResultsPrefix: 'athena-results/',
  /** Access exports (one JSON object per request), kept for `PrivacyTiming.exportRetentionDays`. */
  privacyExportsPrefix: 'privacy/exports/',
  /** The privacy audit log: one object per request and outcome, never rewritten or deleted by the CDP. */
  privacyAuditPrefix: 'privacy/audit/',
} as const;

/** Columns of the lake's `raw_events` table, in order. All strings; objects are JSON text. */
export const LakeEventColumns = [
  'message_id',
  'type',
  'event',
  'name',
  'category',
  'user_id',
  'anonymous_id',
  'group_id',
  'previous_id',
  'timestamp',
  'original_timestamp',
  'sent_at',
  'received_at',
  'source_id',
  'properties',
  'traits',
  'context',
  'integrations',
  /**
   * The event's strongest identifier (`type:value`, normalized as identity resolution does):
   * the one its profile holds, so `identities` names the profile. Absent on events archived
   * before it was added.
   */
  'identifier',
] as const;
export type LakeEventColumn = (typeof LakeEventColumns)[number];

/** Columns of the lake's `rejections` table. */
export const LakeRejectionColumns = [
  'received_at',
  'source_id',
  'request_id',
  'channel',
  'index',
  'field',
  'reason',
  'payload',
] as const;

/** Columns of the lake's `identity_log` table (append-only; `identities` is its latest row per identifier). */
export const LakeIdentityColumns = ['identifier', 'profile_id', 'recorded_at'] as const;

/** Columns of the lake's `segment_changes` table. `kind` is `entered` or `exited`; times are ISO-8601. */
export const LakeSegmentChangeColumns = ['change_id', 'kind', 'segment_id', 'segment_version', 'profile_id', 'at', 'recorded_at'] as const;

/** Glue/Athena names. */
export const Catalog = {
  rawEventsTable: 'raw_events',
  eventsView: 'events',
  rejectionsTable: 'rejections',
  /** Every identifier's profile as the resolver recorded it, append-only. */
  identityLogTable: 'identity_log',
  /** The latest row of `identity_log` per identifier: which profile each identifier belongs to now. */
  identitiesView: 'identities',
  /** Segment entries and exits, as they were recorded. */
  segmentChangesTable: 'segment_changes',
  /** Current members: the latest change per segment and profile, when it is an entry. */
  segmentMembersView: 'segment_members',
} as const;

interface KeyAttribute {
  readonly name: string;
  readonly type: 'S';
}

/** A DynamoDB key schema and its global secondary indexes, shared by the CDK constructs and the local runtime's bootstrap. */
export interface TableDefinition {
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly indexes?: readonly IndexDefinition[];
}

/** A global secondary index; `projected` non-key attributes are copied into it (INCLUDE), else keys only. */
export interface IndexDefinition {
  readonly name: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly projected?: readonly string[];
}

/** DynamoDB key schema of the credentials table (write keys and admin tokens, stored hashed). */
export const CredentialsTableDefinition: TableDefinition = {
  partitionKey: { name: 'keyHash', type: 'S' },
};

/**
 * The outbox feed: a profile item holding undelivered outbound changes carries `ob`, one of
 * `buckets` values, and so appears in this sparse index until they are delivered. It is the
 * same feed in AWS and locally, where dynalite has no DynamoDB Streams (docs/data-model.md).
 */
export const OutboxIndex = { name: 'outbox', bucketAttribute: 'ob', buckets: 8 } as const;

/**
 * The due feed: a profile whose segment memberships may change at a known instant with no new
 * event (a window passing) carries `db`, one of `buckets` values, and `dt`, that instant as 13
 * zero-padded digits of epoch milliseconds, so the segmentation function finds the profiles due
 * now with one query per bucket, never a scan (docs/segments.md).
 */
export const DueIndex = { name: 'due', bucketAttribute: 'db', timeAttribute: 'dt', buckets: 8 } as const;

/**
 * DynamoDB key schema of the profiles table (docs/data-model.md). Items:
 * `p#<profileId>`/`profile` (the profile or its redirect), `p#<profileId>`/`h#...` (history),
 * `i#<identifier digest>`/`owner` (which profile an identifier belongs to),
 * `seg`/`d#<segmentId>` (segment definitions), `seg`/`job` (the backfill under way).
 */
export const ProfilesTableDefinition: TableDefinition = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  indexes: [
    {
      name: OutboxIndex.name,
      partitionKey: { name: OutboxIndex.bucketAttribute, type: 'S' },
      sortKey: { name: 'pk', type: 'S' },
      // Keys only: with the outbox projected, every change to a pending outbox would be an index write too.
    },
    {
      name: DueIndex.name,
      partitionKey: { name: DueIndex.bucketAttribute, type: 'S' },
      sortKey: { name: DueIndex.timeAttribute, type: 'S' },
    },
  ],
};

/**
 * Each Lambda handler (a file in lambdas/handlers/) and its memory in MB: the stack deploys these
 * sizes, and the benchmark prices GB-seconds with them.
 */
export const FunctionMemoryMb = {
  ingest: 512,
  archiver: 512,
  resolver: 1024,
  importer: 1024,
  profiles: 512,
  segments: 512,
  segmenter: 1024,
  destinations: 256,
  publisher: 256,
  privacy: 256,
  sources: 256,
  'privacy-worker': 1024,
  'admin-authorizer': 256,
} as const;


export type HandlerName = keyof typeof FunctionMemoryMb;

/**
 * The stream's consumers: one Lambda each, fed by an event source mapping in AWS and by a poller
 * locally. Batch size and window are the deployed defaults (stack props override them); the local
 * runtime keeps the batch sizes and uses shorter windows (docs/architecture.md).
 */
export const StreamConsumers = {
  archiver: { handler: 'archiver', batchSize: 10_000, batchingWindowSeconds: 60, timeoutSeconds: 120 },
  resolver: { handler: 'resolver', batchSize: 1_000, batchingWindowSeconds: 2, timeoutSeconds: 120 },
} as const satisfies Readonly<Record<string, StreamConsumerDefinition>>;
export type StreamConsumerName = keyof typeof StreamConsumers;

export interface StreamConsumerDefinition {
  readonly handler: HandlerName;
  /** Records per invocation, at most. */
  readonly batchSize: number;
  /** How long the event source mapping gathers records before invoking with a smaller batch. */
  readonly batchingWindowSeconds: number;
  readonly timeoutSeconds: number;
}

/**
 * Segment timing (docs/segments.md): how fresh every function's definitions are, how often the
 * segmentation function runs in AWS and how long each run may work, and how long a backfill
 * waits for the archiver.
 */
/** The partition key of segment definitions and the backfill job in the profiles table (docs/data-model.md). */
export const SegmentPartitionKey = 'seg';

/** The partition key of destination definitions (without their secrets) in the profiles table. */
export const DestinationPartitionKey = 'dst';

/** Partition keys of privacy items in the profiles table (docs/data-model.md). */
export const PrivacyPartitionKeys = { suppressions: 'sup', requests: 'prq', openRequests: 'prq#open' } as const;

/**
 * Privacy timing (docs/privacy.md): how stale a function's copy of the suppression list may be,
 * and how long an erasure waits after suppressing before it erases, so that no batch that read
 * the list before is still writing: the list's age plus the longest a stream consumer runs.
 */
export const PrivacyTiming = {
  suppressionMaxAgeMs: 30_000,
  settleMs: 30_000 + Math.max(StreamConsumers.archiver.timeoutSeconds, StreamConsumers.resolver.timeoutSeconds) * 1000,
  scheduleMinutes: 1,
  runBudgetMs: 45_000,
  timeoutSeconds: 60,
  /** How long a presigned link to an access export works. */
  exportLinkSeconds: 15 * 60,
  exportRetentionDays: 7,
} as const;

export const SegmentTiming = {
  /** Longest any function evaluates with definitions read earlier. */
  definitionsMaxAgeMs: 10_000,
  /** The segmentation function's schedule: the precision of time-based exits in AWS. */
  scheduleMinutes: 1,
  /** Work per run, inside its timeout (the next run picks up the rest). */
  runBudgetMs: 45_000,
  timeoutSeconds: 60,
  /** The archiver's batching window and timeout: an event the resolver applied is in the lake within this. */
  archiverLagMs: (StreamConsumers.archiver.batchingWindowSeconds + StreamConsumers.archiver.timeoutSeconds) * 1000,
} as const;

/**
 * Activation (docs/activation.md): the publisher's sweep (a run every `scheduleMinutes`, besides
 * the runs profile writes with changes ring) and how long one pass may take.
 */
export const ActivationTiming = {
  scheduleMinutes: 1,
  runBudgetMs: 50_000,
  timeoutSeconds: 60,
  definitionsMaxAgeMs: 10_000,
} as const;

/** What the stack hands the destination API to route destinations with (env `CDP_DESTINATION_ROUTING`, JSON). */
export interface DestinationRoutingSettings {
  readonly busName: string;
  /** Prefix of rule, connection and API destination names: unique per stack, short (names are at most 64 characters). */
  readonly namePrefix: string;
  /** The on-failure queue of targets the API creates. */
  readonly deadLetterQueueArn: string;
  /** The role EventBridge assumes to call API destinations. */
  readonly invocationRoleArn: string;
  /** Calls per second EventBridge makes to each webhook. */
  readonly invocationRateLimitPerSecond: number;
}

/** PutEvents' limit on entries per call. */
export const ActivationLimits = { entriesPerPut: 10 } as const;

export const DestinationRetryPolicy = {
  /** EventBridge's own bounds: 60 s to 24 h, 0 to 185 retries. */
  maximumEventAgeSeconds: 24 * 60 * 60,
  maximumRetryAttempts: 185,
} as const;

/** What every stream consumer does with a failing batch, in AWS and locally. */
export const StreamConsumerRetries = { retryAttempts: 5, maxRecordAgeHours: 24 } as const;

/** Who may call a route: a source's write key (checked by the function), an admin token (authorizer and function), or anyone. */
export type RouteAuth = 'write-key' | 'admin' | 'none';

export interface HttpRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** API Gateway's route path; `{name}` is a path parameter matching one segment. */
  readonly path: string;
  readonly handler: HandlerName;
  readonly auth: RouteAuth;
  /** What the handler does for this route. */
  readonly operation: string;
}

/**
 * Request headers browsers may send cross-origin, the same in API Gateway's CORS configuration and
 * the local server. A header missing from the preflight's answer makes the browser drop the
 * request: analytics.js adds `x-retry-count` when it retries; RudderStack's SDK sends
 * `anonymousid` and `sentat` always, and its `rsa-*` headers on retries.
 */
export const CorsAllowedHeaders = [
  'authorization',
  'content-type',
  'content-encoding',
  'x-retry-count',
  'anonymousid',
  'sentat',
  'rsa-recovered',
  'rsa-retry-attempt',
  'rsa-retry-reason',
  'rsa-since-first-attempt',
  'rsa-since-last-attempt',
] as const;

/**
 * What intake answers browsers, on every response and to every preflight: any origin may send
 * events, with the headers the browser SDKs send. Admin routes answer no CORS at all: their
 * preflights stop at the authorizer, so a browser calls them only from the console's own origin.
 */
export const IntakeCorsHeaders: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': CorsAllowedHeaders.join(','),
  'access-control-allow-methods': 'GET,POST,OPTIONS',
  'access-control-max-age': '600',
};

/**
 * Path segment after `/v1/` → intake call, for every call of Segment's HTTP Tracking API and the
 * one-letter paths analytics.js uses.
 */
export const IntakeCallPaths = {
  batch: 'batch', import: 'batch', b: 'batch',
  identify: 'identify', i: 'identify',
  track: 'track', t: 'track',
  page: 'page', p: 'page',
  screen: 'screen', s: 'screen',
  group: 'group', g: 'group',
  alias: 'alias', a: 'alias',
} as const;

/**
 * Every HTTP route of the API, read by the CDK app (API Gateway routes and authorizers), by the
 * handlers (which operation a request is) and by the local server (which function serves it).
 * A request no route matches is answered by {@link UnmatchedRouteHandler}.
 */
export const HttpRoutes: readonly HttpRoute[] = [
  { method: 'GET', path: '/health', handler: 'ingest', auth: 'none', operation: 'health' },
  ...Object.entries(IntakeCallPaths).map(([segment, call]): HttpRoute => ({
    method: 'POST', path: `/v1/${segment}`, handler: 'ingest', auth: 'write-key', operation: call,
  })),
  // analytics.js's settings, fetched from its cdnURL: the write key travels in the path (docs/sdks.md).
  { method: 'GET', path: '/v1/projects/{writeKey}/settings', handler: 'ingest', auth: 'write-key', operation: 'analyticsJsSettings' },
  // RudderStack's JS SDK's source configuration, at its configUrl: the write key travels as Basic auth or ?writeKey=.
  { method: 'GET', path: '/v1/sourceConfig', handler: 'ingest', auth: 'write-key', operation: 'rudderStackSourceConfig' },
  { method: 'GET', path: '/v1/profile-count', handler: 'profiles', auth: 'admin', operation: 'countProfiles' },
  { method: 'GET', path: '/v1/profiles/{ref}', handler: 'profiles', auth: 'admin', operation: 'getProfile' },
  { method: 'GET', path: '/v1/profiles/{ref}/events', handler: 'profiles', auth: 'admin', operation: 'getProfileEvents' },
  { method: 'GET', path: '/v1/profiles/{ref}/merges', handler: 'profiles', auth: 'admin', operation: 'getProfileMerges' },
  { method: 'POST', path: '/v1/profiles/{ref}/split', handler: 'profiles', auth: 'admin', operation: 'splitProfile' },
  { method: 'GET', path: '/v1/segments', handler: 'segments', auth: 'admin', operation: 'listSegments' },
  { method: 'GET', path: '/v1/segments/{id}', handler: 'segments', auth: 'admin', operation: 'getSegment' },
  { method: 'PUT', path: '/v1/segments/{id}', handler: 'segments', auth: 'admin', operation: 'putSegment' },
  { method: 'DELETE', path: '/v1/segments/{id}', handler: 'segments', auth: 'admin', operation: 'deleteSegment' },
  { method: 'GET', path: '/v1/segments/{id}/members', handler: 'segments', auth: 'admin', operation: 'listSegmentMembers' },
  { method: 'GET', path: '/v1/segments/{id}/sql', handler: 'segments', auth: 'admin', operation: 'getSegmentSql' },
  { method: 'POST', path: '/v1/segment-previews', handler: 'segments', auth: 'admin', operation: 'previewSegment' },
  { method: 'GET', path: '/v1/destinations', handler: 'destinations', auth: 'admin', operation: 'listDestinations' },
  { method: 'GET', path: '/v1/destinations/{id}', handler: 'destinations', auth: 'admin', operation: 'getDestination' },
  { method: 'PUT', path: '/v1/destinations/{id}', handler: 'destinations', auth: 'admin', operation: 'putDestination' },
  { method: 'DELETE', path: '/v1/destinations/{id}', handler: 'destinations', auth: 'admin', operation: 'deleteDestination' },
  { method: 'POST', path: '/v1/destinations/{id}/test', handler: 'destinations', auth: 'admin', operation: 'testDestination' },
  { method: 'POST', path: '/v1/destinations/{id}/redrive', handler: 'destinations', auth: 'admin', operation: 'redriveDestination' },
  { method: 'GET', path: '/v1/destination-dead-letters', handler: 'destinations', auth: 'admin', operation: 'listDeadLetters' },
  { method: 'GET', path: '/v1/destination-deliveries', handler: 'destinations', auth: 'admin', operation: 'listDeliveries' },
  { method: 'POST', path: '/v1/privacy/requests', handler: 'privacy', auth: 'admin', operation: 'createPrivacyRequest' },
  { method: 'GET', path: '/v1/privacy/requests', handler: 'privacy', auth: 'admin', operation: 'listPrivacyRequests' },
  { method: 'GET', path: '/v1/privacy/requests/{id}', handler: 'privacy', auth: 'admin', operation: 'getPrivacyRequest' },
  { method: 'GET', path: '/v1/privacy/requests/{id}/export', handler: 'privacy', auth: 'admin', operation: 'getPrivacyExport' },
  { method: 'GET', path: '/v1/sources', handler: 'sources', auth: 'admin', operation: 'listSources' },
  { method: 'POST', path: '/v1/sources/{sourceId}/write-keys', handler: 'sources', auth: 'admin', operation: 'createWriteKey' },
  { method: 'DELETE', path: '/v1/sources/{sourceId}/write-keys/{keyHash}', handler: 'sources', auth: 'admin', operation: 'revokeWriteKey' },
  // The console's live view of intake: the stream's tail and the newest refusals, read only while someone watches.
  { method: 'GET', path: '/v1/live', handler: 'sources', auth: 'admin', operation: 'liveEvents' },
  { method: 'GET', path: '/v1/overview', handler: 'sources', auth: 'admin', operation: 'overview' },
];

/** Answers requests no route matches (API Gateway's `$default` route), with a JSON 404. */
export const UnmatchedRouteHandler: HandlerName = 'ingest';
