import { resolve } from 'node:path';
import { Env } from '../lambdas/contracts.js';
import { profileConfigFromJson, type ProfileConfig } from '../lambdas/domain/profile-config.js';

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
  /** Poller settings, mirroring the event source mapping's. */
  readonly archiverBatchSize: number;
  readonly archiverBatchWindowMs: number;
  readonly resolverBatchSize: number;
  readonly resolverBatchWindowMs: number;
  readonly maxRetryAttempts: number;
  readonly importScanIntervalMs: number;
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
    profileConfig: profileConfigFromJson(env[Env.profileConfig]),
    archiverBatchSize: int('CDP_ARCHIVER_BATCH_SIZE', 10_000),
    archiverBatchWindowMs: int('CDP_ARCHIVER_BATCH_WINDOW_MS', 1_000),
    resolverBatchSize: int('CDP_RESOLVER_BATCH_SIZE', 1_000),
    resolverBatchWindowMs: int('CDP_RESOLVER_BATCH_WINDOW_MS', 500),
    maxRetryAttempts: int('CDP_MAX_RETRY_ATTEMPTS', 5),
    importScanIntervalMs: int('CDP_IMPORT_SCAN_MS', 1_000),
  };
}
