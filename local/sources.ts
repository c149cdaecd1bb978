/**
 * `npm run sources -- <command>`: manage write keys (one per source) and admin tokens.
 * Locally it uses the running emulators ($CDP_DATA_DIR/endpoints.json). With --aws it uses the
 * deployed table named by CDP_CREDENTIALS_TABLE and the usual AWS credential chain.
 */
import './node-support.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbCredentialStore } from '../lambdas/adapters/aws/dynamodb-credential-store.js';
import { createClients } from '../lambdas/composition.js';
import { generateSecret, hashSecret, SourceIdPattern, type CredentialKind } from '../lambdas/domain/credentials.js';
import { toolArguments } from './cli-args.js';
import { localRuntimeConfig, readEndpointsFile } from './endpoints-file.js';
import { localSettings } from './settings.js';

const Usage = 'npm run sources -- create <sourceId> [--name NAME] | create-admin <label> | revoke <secret> | list  [--aws]';
const { values, positionals } = toolArguments({
  usage: Usage,
  help: `
Manages the credentials of the API: a write key per source (it can only send events) and admin
tokens (they read and manage profiles). Secrets are printed once and stored as SHA-256 only.

  create <sourceId> [--name NAME]  a new write key for a source (1-64 letters, digits, - or _)
  create-admin <label>             a new admin token
  revoke <secret>                  revoke a key or token (refused everywhere within 60 s)
  list                             every credential, by hash
  --aws                            the deployed table named by CDP_CREDENTIALS_TABLE (a stack
                                   output), with the usual AWS credentials

Locally it uses the running CDP (CDP_DATA_DIR, default .cdp).`,
  options: { name: { type: 'string' }, aws: { type: 'boolean' } },
  positionals: true,
});
const [command, argument, ...extra] = positionals;

async function store(): Promise<DynamoDbCredentialStore> {
  if (values.aws === true) {
    const table = process.env.CDP_CREDENTIALS_TABLE;
    if (!table) throw new Error('set CDP_CREDENTIALS_TABLE to the stack output CredentialsTable');
    return new DynamoDbCredentialStore(new DynamoDBClient({}), table);
  }
  const endpoints = await readEndpointsFile(localSettings().dataDir);
  const clients = createClients(localRuntimeConfig(endpoints, 'cdp-sources'));
  return new DynamoDbCredentialStore(clients.dynamodb, endpoints.credentialsTable);
}

async function create(kind: CredentialKind, sourceId: string | undefined): Promise<void> {
  if (!sourceId || !SourceIdPattern.test(sourceId)) {
    throw new Error('give a source id of 1-64 letters, digits, "-" or "_"');
  }
  const secret = generateSecret(kind);
  await (await store()).create({
    keyHash: hashSecret(secret),
    kind,
    sourceId,
    name: values.name ?? sourceId,
    createdAt: new Date().toISOString(),
  });
  console.log(JSON.stringify({ kind, sourceId, secret, note: 'shown once; only its hash is stored' }));
}

const expects: Readonly<Record<string, number>> = { create: 1, 'create-admin': 1, revoke: 1, list: 0 };
const wanted = command === undefined ? undefined : expects[command];
if (wanted === undefined || (wanted === 1 && argument === undefined) || (wanted === 0 && argument !== undefined) || extra.length > 0) {
  console.error(`${command === undefined ? 'no command given' : wanted === undefined ? `unknown command "${command}"` : `wrong arguments for ${command}`}\nusage: ${Usage}\n(--help for more)`);
  process.exit(2);
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
      const revoked = await (await store()).revoke(hashSecret(argument!), new Date());
      console.log(revoked ? 'revoked' : 'no such active credential');
      if (!revoked) process.exitCode = 1;
      break;
    }
    default:
      for (const c of await (await store()).list()) console.log(JSON.stringify(c));
  }
} catch (error) {
  console.error(`sources: ${(error as Error).message}`);
  process.exitCode = 1;
}
