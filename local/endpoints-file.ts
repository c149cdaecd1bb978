import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RuntimeConfig } from '../lambdas/composition.js';
import { Env } from '../lambdas/contracts.js';
import { profileConfigFromJson } from '../lambdas/domain/profile-config.js';
import { localPrivacySalt } from './privacy-salt.js';

/** What `npm start` writes to `$CDP_DATA_DIR/endpoints.json` for tools and tests. */
export interface LocalEndpointsFile {
  readonly api: string;
  readonly dynamodb: string;
  readonly kinesis: string;
  readonly s3: string;
  readonly s3Directory: string;
  readonly streamName: string;
  readonly lakeBucket: string;
  readonly credentialsTable: string;
  readonly profilesTable: string;
  /** The file holding the salt of privacy hashes (local/privacy-salt.ts). */
  readonly privacySaltFile: string;
}

export const endpointsFilePath = (dataDir: string): string => join(dataDir, 'endpoints.json');

/** Atomic, so tools polling for the file never read it half-written. */
export async function writeEndpointsFile(dataDir: string, endpoints: LocalEndpointsFile): Promise<void> {
  const path = endpointsFilePath(dataDir);
  await writeFile(`${path}.tmp`, JSON.stringify(endpoints, null, 2));
  await rename(`${path}.tmp`, path);
}

export async function readEndpointsFile(dataDir: string): Promise<LocalEndpointsFile> {
  try {
    return JSON.parse(await readFile(endpointsFilePath(dataDir), 'utf8')) as LocalEndpointsFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`no local CDP found in ${dataDir}: start it with \`npm start\` (or set CDP_DATA_DIR)`, { cause: error });
    }
    throw error;
  }
}

/** Composition settings for a tool talking to a running local CDP. */
export function localRuntimeConfig(endpoints: LocalEndpointsFile, serviceName: string): RuntimeConfig {
  return {
    streamName: endpoints.streamName,
    lakeBucket: endpoints.lakeBucket,
    credentialsTable: endpoints.credentialsTable,
    profilesTable: endpoints.profilesTable,
    profileConfig: profileConfigFromJson(process.env[Env.profileConfig]),
    serviceName,
    local: { dynamodb: endpoints.dynamodb, kinesis: endpoints.kinesis, s3: endpoints.s3 },
    privacySalt: localPrivacySalt(endpoints.privacySaltFile),
  };
}
