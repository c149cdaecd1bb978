/**
 * `npm run sources -- <command>`: manage write keys (one per source) and admin tokens.
 *   create <sourceId> [--name "Web shop"]   new write key for a source (printed once, stored hashed)
 *   create-admin <label>                    new admin token
 *   revoke <secret>                         revoke a key or token (effective within 60 s)
 *   list                                    list credentials (hashes only)
 * Locally it uses the running emulators ($CDP_DATA_DIR/endpoints.json). With --aws it uses the
 * deployed table named by CDP_CREDENTIALS_TABLE and the usual AWS credential chain.
 */
import './node-support.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbCredentialStore } from '../lambdas/adapters/aws/dynamodb-credential-store.js';
import { createClients } from '../lambdas/composition.js';
import { generateSecret, hashSecret, type CredentialKind } from '../lambdas/domain/credentials.js';
import { localRuntimeConfig, readEndpointsFile } from './endpoints-file.js';
import { localSettings } from './settings.js';

const args = process.argv.slice(2);
const aws = args.includes('--aws');
const positional = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--name');
const nameIndex = args.indexOf('--name');
const [command, argument] = positional;

async function store(): Promise<DynamoDbCredentialStore> {
  if (aws) {
    const table = process.env.CDP_CREDENTIALS_TABLE;
    if (!table) throw new Error('set CDP_CREDENTIALS_TABLE to the stack output CredentialsTable');
    return new DynamoDbCredentialStore(new DynamoDBClient({}), table);
  }
  const endpoints = await readEndpointsFile(localSettings().dataDir);
  const clients = createClients(localRuntimeConfig(endpoints, 'cdp-sources'));
  return new DynamoDbCredentialStore(clients.dynamodb, endpoints.credentialsTable);
}

async function create(kind: CredentialKind, sourceId: string | undefined): Promise<void> {
  if (!sourceId || !/^[A-Za-z0-9_-]{1,64}$/.test(sourceId)) {
    throw new Error('give a source id of 1-64 letters, digits, "-" or "_"');
  }
  const secret = generateSecret(kind);
  await (await store()).create({
    keyHash: hashSecret(secret),
    kind,
    sourceId,
    name: nameIndex >= 0 ? (args[nameIndex + 1] ?? sourceId) : sourceId,
    createdAt: new Date().toISOString(),
  });
  console.log(JSON.stringify({ kind, sourceId, secret, note: 'shown once; only its hash is stored' }));
}

try {
  switch (command) {
    case 'create':
      await create('write', argument);
      break;
    case 'create-admin':
      await create('admin', argument);
      break;
    case 'revoke': {
      if (!argument) throw new Error('give the key or token to revoke');
      const revoked = await (await store()).revoke(hashSecret(argument), new Date());
      console.log(revoked ? 'revoked' : 'no such active credential');
      if (!revoked) process.exitCode = 1;
      break;
    }
    case 'list':
      for (const c of await (await store()).list()) console.log(JSON.stringify(c));
      break;
    default:
      console.error('usage: npm run sources -- create <sourceId> [--name N] | create-admin <label> | revoke <secret> | list  [--aws]');
      process.exitCode = 2;
  }
} catch (error) {
  console.error(`sources: ${(error as Error).message}`);
  process.exitCode = 1;
}
