import { CreateTableCommand, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamSummaryCommand, ResourceInUseException as StreamInUse } from '@aws-sdk/client-kinesis';
import { BucketAlreadyExists, BucketAlreadyOwnedByYou, CreateBucketCommand } from '@aws-sdk/client-s3';
import type { Clients } from '../lambdas/composition.js';
import { CredentialsTableDefinition, ProfilesTableDefinition, type TableDefinition } from '../lambdas/contracts.js';
import { sleep } from '../lambdas/support/retry.js';
import type { LocalSettings } from './settings.js';

/**
 * Creates the tables, stream and bucket from the same definitions the CDK constructs use.
 * Idempotent: a restart on the same data dir finds them and carries on.
 */
export async function createLocalResources(clients: Clients, settings: LocalSettings): Promise<void> {
  await createTable(clients, settings.credentialsTable, CredentialsTableDefinition);
  await createTable(clients, settings.profilesTable, ProfilesTableDefinition);
  await ignore(StreamInUse, () =>
    clients.kinesis.send(new CreateStreamCommand({ StreamName: settings.streamName, ShardCount: settings.shardCount })),
  );
  for (;;) {
    const summary = await clients.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: settings.streamName }));
    if (summary.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
    await sleep(50);
  }
  // s3rver answers BucketAlreadyExists where S3 would say BucketAlreadyOwnedByYou.
  await ignore([BucketAlreadyOwnedByYou, BucketAlreadyExists], () =>
    clients.s3.send(new CreateBucketCommand({ Bucket: settings.lakeBucket })),
  );
}

type ErrorType = abstract new (...args: never[]) => Error;

/** Runs a create call, treating "already exists" errors as success. */
/** An on-demand table with the key schema of a contract's table definition. */
async function createTable(
  clients: Clients,
  name: string,
  definition: TableDefinition,
): Promise<void> {
  const keys = [
    { ...definition.partitionKey, role: 'HASH' as const },
    ...(definition.sortKey ? [{ ...definition.sortKey, role: 'RANGE' as const }] : []),
  ];
  await ignore(ResourceInUseException, () =>
    clients.dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
        KeySchema: keys.map((k) => ({ AttributeName: k.name, KeyType: k.role })),
        BillingMode: 'PAY_PER_REQUEST',
      }),
    ),
  );
}

async function ignore(types: ErrorType | ErrorType[], action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (error) {
    const expected = [types].flat();
    if (!expected.some((type) => error instanceof type || (error as Error).name === type.name)) throw error;
  }
}
