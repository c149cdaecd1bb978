import { CreateTableCommand, DescribeTableCommand, ListTablesCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbProfileStore } from '../../lambdas/adapters/aws/dynamodb-profile-store.js';
import { CountingTelemetry } from '../../lambdas/adapters/local/counting-telemetry.js';
import { ProfilesTableDefinition } from '../../lambdas/contracts.js';
import { emptyProfile } from '../../lambdas/domain/profile.js';
import { outboxBucket } from '../../lambdas/domain/profile-write.js';
import { createLocalResources } from '../../local/bootstrap.js';
import { useEmulators } from '../helpers/emulators.js';

const fixture = useEmulators('bootstrap');

/** A profiles table as data dirs made before the outbox index have it: the key schema alone. */
async function oldTable(name: string, items: number): Promise<void> {
  const { dynamodb } = fixture.clients;
  await dynamodb.send(
    new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await untilActive(name);
  for (let i = 0; i < items; i++) {
    await dynamodb.send(new PutItemCommand({ TableName: name, Item: { pk: { S: `i#digest-${i}` }, sk: { S: 'owner' }, p: { S: `profile-${i}` } } }));
  }
}

/** dynalite makes a table ACTIVE on a timer, even with createTableMs 0: on a busy machine, writes before it are refused. */
async function untilActive(name: string): Promise<void> {
  while ((await fixture.clients.dynamodb.send(new DescribeTableCommand({ TableName: name }))).Table?.TableStatus !== 'ACTIVE') await new Promise((r) => setTimeout(r, 20));
}

async function itemCount(name: string): Promise<number> {
  return (await fixture.clients.dynamodb.send(new ScanCommand({ TableName: name, Select: 'COUNT' }))).Count ?? 0;
}

async function indexes(name: string): Promise<string[]> {
  const { Table } = await fixture.clients.dynamodb.send(new DescribeTableCommand({ TableName: name }));
  return (Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName!);
}

const allIndexes = (ProfilesTableDefinition.indexes ?? []).map((index) => index.name);

async function tableNames(): Promise<string[]> {
  return (await fixture.clients.dynamodb.send(new ListTablesCommand({}))).TableNames ?? [];
}

describe('the local bootstrap on a data dir from before the outbox and due indexes', () => {
  it('adds the due index to a table that has only the outbox index, keeping every item', async () => {
    const { dynamodb } = fixture.clients;
    const outbox = ProfilesTableDefinition.indexes![0]!;
    await dynamodb.send(
      new CreateTableCommand({
        TableName: 'outbox-only',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }, { AttributeName: 'ob', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
        GlobalSecondaryIndexes: [{ IndexName: outbox.name, KeySchema: [{ AttributeName: 'ob', KeyType: 'HASH' }, { AttributeName: 'pk', KeyType: 'RANGE' }], Projection: { ProjectionType: 'KEYS_ONLY' } }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await untilActive('outbox-only');
    await dynamodb.send(new PutItemCommand({ TableName: 'outbox-only', Item: { pk: { S: 'p#x' }, sk: { S: 'profile' }, ob: { S: '1' } } }));
    await createLocalResources(fixture.clients, { ...fixture.settings, profilesTable: 'outbox-only' });
    expect(await indexes('outbox-only')).toEqual(allIndexes);
    expect(await itemCount('outbox-only')).toBe(1);
  });

  it('rebuilds the profiles table with the index, keeping every item, and the outbox feed works', async () => {
    await oldTable('old-profiles', 60);
    await createLocalResources(fixture.clients, { ...fixture.settings, profilesTable: 'old-profiles' });
    expect(await indexes('old-profiles')).toEqual(allIndexes);
    expect(await itemCount('old-profiles')).toBe(60);
    expect(await tableNames()).not.toContain('old-profiles-migrating');

    const store = new DynamoDbProfileStore(fixture.clients.dynamodb, 'old-profiles', new CountingTelemetry());
    const change = { id: 'c1', kind: 'Test', profileId: 'fresh', at: 0, detail: {} };
    await store.putProfile({ state: emptyProfile('fresh', 0), expectedVersion: undefined, outbox: [change] });
    expect(await store.pendingOutbound(outboxBucket('fresh'))).toEqual([{ profileId: 'fresh', changes: [change], profile: { identifiers: [], traits: {} } }]);
    // A second start finds nothing to do.
    await createLocalResources(fixture.clients, { ...fixture.settings, profilesTable: 'old-profiles' });
    expect(await itemCount('old-profiles')).toBe(61);
  });

  it('finishes a migration that was interrupted while copying out', async () => {
    await oldTable('cut-out', 30);
    await oldTable('cut-out-migrating', 5);
    await createLocalResources(fixture.clients, { ...fixture.settings, profilesTable: 'cut-out' });
    expect(await indexes('cut-out')).toEqual(allIndexes);
    expect(await itemCount('cut-out')).toBe(30);
    expect(await tableNames()).not.toContain('cut-out-migrating');
  });

  it('finishes a migration that was interrupted after the original was dropped', async () => {
    await oldTable('cut-back-migrating', 30);
    await createLocalResources(fixture.clients, { ...fixture.settings, profilesTable: 'cut-back' });
    expect(await indexes('cut-back')).toEqual(allIndexes);
    expect(await itemCount('cut-back')).toBe(30);
    expect(await tableNames()).not.toContain('cut-back-migrating');
  });
});
