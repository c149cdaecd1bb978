import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  paginateScan,
  ResourceInUseException,
  ResourceNotFoundException,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
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

/**
 * An on-demand table with the key schema and indexes of a contract's table definition. A table
 * from an older data dir that lacks one of the indexes is rebuilt with them, keeping every item:
 * dynalite accepts but ignores an index added by UpdateTable.
 */
async function createTable(clients: Clients, name: string, definition: TableDefinition): Promise<void> {
  const staging = `${name}-migrating`;
  const missing = await missingIndexes(clients.dynamodb, name, definition);
  if (await exists(clients.dynamodb, staging)) {
    // A migration was interrupted. Copying is idempotent, so each state just carries on.
    if (missing === undefined || missing.length === 0) {
      // Interrupted while copying back: the staging table holds everything.
      await create(clients.dynamodb, name, definition);
      await copyItems(clients.dynamodb, staging, name);
    }
    // Otherwise it was interrupted while copying out: the original still holds everything.
    await drop(clients.dynamodb, staging);
    return createTable(clients, name, definition);
  }
  if (missing === undefined) return create(clients.dynamodb, name, definition);
  if (missing.length === 0) return;
  console.error(`migrating local table ${name}: adding index ${missing.join(', ')}`);
  await create(clients.dynamodb, staging, definition);
  await copyItems(clients.dynamodb, name, staging);
  await drop(clients.dynamodb, name);
  await create(clients.dynamodb, name, definition);
  await copyItems(clients.dynamodb, staging, name);
  await drop(clients.dynamodb, staging);
}

/** Deletes a table and waits until it is gone: dynalite finishes a deletion after answering. */
async function drop(client: DynamoDBClient, name: string): Promise<void> {
  await ignore(ResourceNotFoundException, () => client.send(new DeleteTableCommand({ TableName: name })));
  while (await exists(client, name)) await sleep(20);
}

async function create(client: DynamoDBClient, name: string, definition: TableDefinition): Promise<void> {
  const keySchema = (key: { partitionKey: { name: string }; sortKey?: { name: string } }) => [
    { AttributeName: key.partitionKey.name, KeyType: 'HASH' as const },
    ...(key.sortKey ? [{ AttributeName: key.sortKey.name, KeyType: 'RANGE' as const }] : []),
  ];
  const indexes = definition.indexes ?? [];
  const attributes = new Map<string, 'S'>();
  for (const key of [definition, ...indexes]) {
    attributes.set(key.partitionKey.name, key.partitionKey.type);
    if (key.sortKey) attributes.set(key.sortKey.name, key.sortKey.type);
  }
  const command = new CreateTableCommand({
    TableName: name,
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
    KeySchema: keySchema(definition),
    BillingMode: 'PAY_PER_REQUEST',
    ...(indexes.length > 0
      ? {
          GlobalSecondaryIndexes: indexes.map((index) => ({
            IndexName: index.name,
            KeySchema: keySchema(index),
            Projection: index.projected ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projected] } : { ProjectionType: 'KEYS_ONLY' },
          })),
        }
      : {}),
  });
  // dynalite answers before a table is ACTIVE, and a table it is still deleting refuses creation.
  for (let current = await status(client, name); current !== 'ACTIVE'; current = await status(client, name)) {
    if (current === undefined) await ignore(ResourceInUseException, () => client.send(command));
    else await sleep(20);
  }
}

async function exists(client: DynamoDBClient, name: string): Promise<boolean> {
  return (await status(client, name)) !== undefined;
}

async function status(client: DynamoDBClient, name: string): Promise<string | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: name }))).Table?.TableStatus ?? 'UNKNOWN';
  } catch (error) {
    if (error instanceof ResourceNotFoundException || (error as Error).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

/** The definition's indexes the table lacks; undefined when there is no such table. */
async function missingIndexes(client: DynamoDBClient, name: string, definition: TableDefinition): Promise<string[] | undefined> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    const present = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
    return (definition.indexes ?? []).map((index) => index.name).filter((index) => !present.has(index));
  } catch (error) {
    if (error instanceof ResourceNotFoundException || (error as Error).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

async function copyItems(client: DynamoDBClient, from: string, to: string): Promise<void> {
  for await (const page of paginateScan({ client }, { TableName: from, ConsistentRead: true })) {
    const items = page.Items ?? [];
    for (let i = 0; i < items.length; i += 25) {
      let pending: WriteRequest[] = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      while (pending.length > 0) {
        const result = await client.send(new BatchWriteItemCommand({ RequestItems: { [to]: pending } }));
        pending = result.UnprocessedItems?.[to] ?? [];
      }
    }
  }
}

/** Runs a create call, treating "already exists" errors as success. */
async function ignore(types: ErrorType | ErrorType[], action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (error) {
    const expected = [types].flat();
    if (!expected.some((type) => error instanceof type || (error as Error).name === type.name)) throw error;
  }
}
