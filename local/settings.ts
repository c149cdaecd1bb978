import { resolve } from 'node:path';
import { Env, StreamConsumers, type StreamConsumerName } from '../lambdas/contracts.js';
import { identifierRuleProblems } from '../lambdas/domain/identifiers.js';
import { profileConfigFromJson, type ProfileConfig } from '../lambdas/domain/profile-config.js';
import { DefaultLocalBusRetry, type LocalBusRetry } from './local-bus.js';

/** Everything the local runtime can be told through its environment, with the documented defaults. */
export interface LocalSettings {
  readonly dataDir: string;
  readonly port: number;
  readonly host: string;
  readonly writeKey: string;
  readonly adminToken: string;
  readonly shardCount: number;
  readonly streamName: string;
  readonly lakeBucket: string;
  readonly credentialsTable: string;
  readonly profilesTable: string;
  readonly profileConfig: ProfileConfig;
  /** Each stream consumer's poller, mirroring its event source mapping (`CDP_<NAME>_BATCH_SIZE`, `CDP_<NAME>_BATCH_WINDOW_MS`). */
  readonly consumers: Readonly<Record<StreamConsumerName, ConsumerSettings>>;
  readonly maxRetryAttempts: number;
  readonly importScanIntervalMs: number;
  /** How often the segmentation function runs (`CDP_SEGMENTER_INTERVAL_MS`): the precision of time-based exits. */
  readonly segmenterIntervalMs: number;
  /** Segment timing: how fresh definitions are, and how long a backfill waits for the archiver. */
  readonly segmentTiming: { readonly definitionsMaxAgeMs: number; readonly archiverLagMs: number };
  /** How often the publisher sweeps the outbox (`CDP_PUBLISHER_INTERVAL_MS`); writes with changes ring it at once. */
  readonly publisherIntervalMs: number;
  /** Privacy (docs/privacy.md): how stale the suppression list may be, how long an erasure waits after suppressing, how often the worker runs. */
  readonly privacy: { readonly suppressionMaxAgeMs: number; readonly settleMs: number; readonly intervalMs: number };
  /** The local bus's retry policy for every destination (`CDP_BUS_MAX_ATTEMPTS`, `CDP_BUS_MAX_AGE_MS`, `CDP_BUS_BASE_DELAY_MS`, `CDP_BUS_MAX_DELAY_MS`). */
  readonly busRetry: LocalBusRetry;
  /** Static sites the local server serves beside the API (the web console). @default none */
  readonly staticSites?: ReadonlyArray<{ readonly prefix: string; readonly directory: string }>;
}

export interface ConsumerSettings {
  readonly batchSize: number;
  readonly batchWindowMs: number;
}

/**
 * Locally the consumers gather batches for much less time than deployed (60 s and 2 s), so a
 * developer sees events in the lake and in profiles within a second or so.
 */
export const LocalBatchingWindowMs: Readonly<Record<StreamConsumerName, number>> = { archiver: 1_000, resolver: 500 };

function checkedProfileConfig(json: string | undefined): ProfileConfig {
  const config = profileConfigFromJson(json);
  const problems = identifierRuleProblems(config);
  if (problems.length > 0) throw new Error(`invalid ${Env.profileConfig}: ${problems.join('; ')}`);
  return config;
}

export function localSettings(env: NodeJS.ProcessEnv = process.env): LocalSettings {
  const int = (name: string, fallback: number): number => {
    const value = env[name];
    if (value === undefined || value === '') return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
    return n;
  };
  return {
    dataDir: resolve(env.CDP_DATA_DIR ?? '.cdp'),
    port: int('CDP_PORT', 4000),
    host: env.CDP_HOST ?? '127.0.0.1',
    writeKey: env.CDP_WRITE_KEY ?? 'dev-write-key',
    adminToken: env.CDP_ADMIN_TOKEN ?? 'dev-admin-token',
    shardCount: int('CDP_SHARDS', 2),
    streamName: 'cdp-events',
    lakeBucket: 'cdp-lake',
    credentialsTable: 'cdp-credentials',
    profilesTable: 'cdp-profiles',
    profileConfig: checkedProfileConfig(env[Env.profileConfig]),
    consumers: Object.fromEntries(
      Object.entries(StreamConsumers).map(([name, consumer]) => [
        name,
        {
          batchSize: int(`CDP_${name.toUpperCase()}_BATCH_SIZE`, consumer.batchSize),
          batchWindowMs: int(`CDP_${name.toUpperCase()}_BATCH_WINDOW_MS`, LocalBatchingWindowMs[name as StreamConsumerName]),
        },
      ]),
    ) as Record<StreamConsumerName, ConsumerSettings>,
    maxRetryAttempts: int('CDP_MAX_RETRY_ATTEMPTS', 5),
    importScanIntervalMs: int('CDP_IMPORT_SCAN_MS', 1_000),
    segmenterIntervalMs: int('CDP_SEGMENTER_INTERVAL_MS', 1_000),
    publisherIntervalMs: int('CDP_PUBLISHER_INTERVAL_MS', 5_000),
    busRetry: {
      maxAttempts: Math.max(1, int('CDP_BUS_MAX_ATTEMPTS', DefaultLocalBusRetry.maxAttempts)),
      maxAgeMs: int('CDP_BUS_MAX_AGE_MS', DefaultLocalBusRetry.maxAgeMs),
      baseDelayMs: int('CDP_BUS_BASE_DELAY_MS', DefaultLocalBusRetry.baseDelayMs),
      maxDelayMs: int('CDP_BUS_MAX_DELAY_MS', DefaultLocalBusRetry.maxDelayMs),
    },
    privacy: {
      suppressionMaxAgeMs: int('CDP_SUPPRESSION_MAX_AGE_MS', 1_000),
      // The list's age, and the longest a local consumer batch takes to write.
      settleMs: int('CDP_PRIVACY_SETTLE_MS', 3_000),
      intervalMs: int('CDP_PRIVACY_INTERVAL_MS', 500),
    },
    segmentTiming: {
      definitionsMaxAgeMs: int('CDP_SEGMENT_DEFINITIONS_MAX_AGE_MS', 1_000),
      // The local archiver's window, and time to write what it gathered.
      archiverLagMs: int(`CDP_ARCHIVER_BATCH_WINDOW_MS`, LocalBatchingWindowMs.archiver) + 2_000,
    },
  };
}
