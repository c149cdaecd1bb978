import {
  BatchGetItemCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  paginateQuery,
  paginateScan,
  UpdateItemCommand,
  type BatchGetItemCommandOutput,
  type ConsumedCapacity,
  type DynamoDBClient,
  type KeysAndAttributes,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { DueIndex, OutboxIndex } from '../../contracts.js';
import type { HistoryEntry, MergeReason } from '../../domain/identity-graph.js';
import { identifierDigest, identifierKey, type Identifier } from '../../domain/identifiers.js';
import type { ProfileState } from '../../domain/profile.js';
import { ConcurrentUpdateError, type ErasedItems, type PendingOutbound, type ProfilePage, type ProfileStore, type ProfileWrite, type VersionedProfile } from '../../ports/profile-store.js';
import type { Telemetry } from '../../ports/telemetry.js';
import { batchWriteAll, isConditionFailure } from './dynamodb-errors.js';
import { backoffDelay, sleep } from '../../support/retry.js';
import {
  decodeHistoryItem,
  decodeOutbox,
  decodePendingOutbound,
  decodeProfileItem,
  decodeState,
  historyItem,
  HistoryPrefix,
  outboxAttributes,
  ownerKey,
  ownerKeyOfDigest,
  profileItem,
  profileKey,
  ProfileSortKey,
  dueTimeText,
  profileIdOf,
  type Item,
} from './profile-item-codec.js';

/** DynamoDB's IN takes at most 100 operands. */
const MaxRepointSources = 100;

/**
 * Profiles, identifier owners, history and the outbox in one DynamoDB table
 * (docs/data-model.md; the item layout is profile-item-codec.ts). Reads are eventually
 * consistent: every write that depends on them is conditional on a version, so a stale read costs
 * a retry, never a lost update. Consumed capacity is counted for the benchmark.
 */
export class DynamoDbProfileStore implements ProfileStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly telemetry: Telemetry,
  ) {}

  async owners(identifiers: readonly Identifier[]): Promise<Map<string, string>> {
    const byDigest = new Map(identifiers.map((id) => [identifierDigest(id), identifierKey(id)]));
    const items = await this.batchGet([...byDigest.keys()].map(ownerKeyOfDigest));
    const owners = new Map<string, string>();
    for (const item of items) {
      const key = byDigest.get(item.pk!.S!.slice(2));
      if (key && item.p?.S) owners.set(key, item.p.S);
    }
    return owners;
  }

  async profiles(ids: readonly string[]): Promise<VersionedProfile[]> {
    return (await this.batchGet([...new Set(ids)].map(profileKey))).map(decodeProfileItem);
  }

  async freeze(id: string, to: string, reason: MergeReason, expectedVersion: number): Promise<void> {
    await this.conditional(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: profileKey(id),
        // A merged-away profile is never due: its survivor carries its memberships' times.
        UpdateExpression: 'SET #to = :to, #r = :r, #v = #v + :one REMOVE #db, #dt',
        ConditionExpression: '#v = :expected AND attribute_not_exists(#to)',
        ExpressionAttributeNames: { '#to': 'to', '#r': 'r', '#v': 'v', '#db': DueIndex.bucketAttribute, '#dt': DueIndex.timeAttribute },
        ExpressionAttributeValues: { ':to': { S: to }, ':r': { S: JSON.stringify(reason) }, ':one': { N: '1' }, ':expected': { N: String(expectedVersion) } },
        ReturnConsumedCapacity: 'TOTAL',
      }),
      `profile ${id} changed before it could be merged into ${to}`,
    );
  }

  async redirect(id: string, to: string, reason: MergeReason): Promise<void> {
    await this.conditional(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { ...profileKey(id), v: { N: '1' }, to: { S: to }, r: { S: JSON.stringify(reason) } },
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnConsumedCapacity: 'TOTAL',
      }),
      `profile ${id} was written by another writer`,
    );
  }

  async claim(identifier: Identifier, profileId: string): Promise<void> {
    await this.conditional(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { ...ownerKey(identifier), p: { S: profileId } },
        ConditionExpression: 'attribute_not_exists(pk) OR p = :p',
        ExpressionAttributeValues: { ':p': { S: profileId } },
        ReturnConsumedCapacity: 'TOTAL',
      }),
      `identifier ${identifier.type} was claimed by another profile`,
    );
  }

  async putProfile(write: ProfileWrite): Promise<void> {
    await this.conditional(
      new PutItemCommand({
        TableName: this.tableName,
        Item: profileItem(write),
        ...(write.expectedVersion === undefined
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : { ConditionExpression: 'v = :expected', ExpressionAttributeValues: { ':expected': { N: String(write.expectedVersion) } } }),
        ReturnConsumedCapacity: 'TOTAL',
      }),
      `profile ${write.state.id} was changed by another writer`,
    );
  }

  async repoint(identifier: Identifier, from: readonly string[], to: string): Promise<boolean> {
    const owners = [...new Set(from)].slice(0, MaxRepointSources);
    if (owners.length === 0) return false;
    const values = Object.fromEntries(owners.map((id, i) => [`:f${i}`, { S: id }]));
    try {
      await this.conditional(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...ownerKey(identifier), p: { S: to } },
          ConditionExpression: `p IN (${Object.keys(values).join(', ')})`,
          ExpressionAttributeValues: values,
          ReturnConsumedCapacity: 'TOTAL',
        }),
        'moved',
      );
      return true;
    } catch (error) {
      if (error instanceof ConcurrentUpdateError) return false;
      throw error;
    }
  }

  async release(id: string): Promise<void> {
    try {
      await this.conditional(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: profileKey(id),
          UpdateExpression: 'REMOVE d, s SET #v = #v + :one',
          ConditionExpression: 'attribute_exists(#to) AND attribute_exists(d)',
          ExpressionAttributeNames: { '#to': 'to', '#v': 'v' },
          ExpressionAttributeValues: { ':one': { N: '1' } },
          ReturnConsumedCapacity: 'TOTAL',
        }),
        'released',
      );
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError)) throw error;
    }
  }

  async appendHistory(entries: readonly HistoryEntry[]): Promise<void> {
    // Idempotent keys: a replayed batch rewrites the same history items.
    const unique = new Map(entries.map(historyItem).map((item) => [`${item.pk!.S}|${item.sk!.S}`, item]));
    const requests: WriteRequest[] = [...unique.values()].map((Item) => ({ PutRequest: { Item } }));
    await batchWriteAll(this.client, this.tableName, requests, (consumed) => this.record(consumed, 'write'));
  }

  async history(profileIds: readonly string[]): Promise<HistoryEntry[]> {
    const entries: HistoryEntry[] = [];
    for (const id of new Set(profileIds)) {
      const pages = paginateQuery(
        { client: this.client },
        {
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :h)',
          ExpressionAttributeValues: { ':pk': { S: `p#${id}` }, ':h': { S: HistoryPrefix } },
          ReturnConsumedCapacity: 'TOTAL',
        },
      );
      for await (const page of pages) {
        this.record(page.ConsumedCapacity ? [page.ConsumedCapacity] : undefined, 'read');
        for (const item of page.Items ?? []) {
          const entry = decodeHistoryItem(item);
          if (entry) entries.push(entry);
        }
      }
    }
    return entries;
  }

  async pendingOutbound(bucket: number, limit = 100): Promise<PendingOutbound[]> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: OutboxIndex.name,
        KeyConditionExpression: '#b = :b',
        ExpressionAttributeNames: { '#b': OutboxIndex.bucketAttribute },
        ExpressionAttributeValues: { ':b': { S: String(bucket) } },
        Limit: limit,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    this.record(result.ConsumedCapacity ? [result.ConsumedCapacity] : undefined, 'read');
    // The index holds keys only (a change to the outbox is then no index write): read the outboxes.
    const keys = (result.Items ?? []).map((item) => ({ pk: item.pk!, sk: item.sk! }));
    // Consistent: the index lags, and an outbox read from it must not hand back changes already acknowledged.
    const items = await this.batchGet(keys, { projection: 'pk, sk, o, d, s', consistent: true });
    return items.map(decodePendingOutbound).filter((p) => p.changes.length > 0).sort((a, b) => (a.profileId < b.profileId ? -1 : 1));
  }

  async acknowledgeOutbound(profileId: string, changeIds: readonly string[]): Promise<number> {
    const delivered = new Set(changeIds);
    for (let attempt = 1; ; attempt++) {
      const { Item: item, ConsumedCapacity } = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: profileKey(profileId), ConsistentRead: true, ProjectionExpression: 'v, o', ReturnConsumedCapacity: 'TOTAL' }),
      );
      this.record(ConsumedCapacity ? [ConsumedCapacity] : undefined, 'read');
      const outbox = item ? decodeOutbox(item) : [];
      const remaining = outbox.filter((change) => !delivered.has(change.id));
      const removed = outbox.length - remaining.length;
      if (removed === 0) return 0;
      const kept = outboxAttributes(profileId, remaining);
      try {
        await this.conditional(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: profileKey(profileId),
            UpdateExpression: kept.o ? 'SET #v = #v + :one, o = :o' : `SET #v = #v + :one REMOVE o, ${OutboxIndex.bucketAttribute}`,
            ConditionExpression: '#v = :expected',
            ExpressionAttributeNames: { '#v': 'v' },
            ExpressionAttributeValues: { ':one': { N: '1' }, ':expected': item!.v!, ...(kept.o ? { ':o': kept.o } : {}) },
            ReturnConsumedCapacity: 'TOTAL',
          }),
          `profile ${profileId} changed while its outbox was acknowledged`,
        );
        return removed;
      } catch (error) {
        if (!(error instanceof ConcurrentUpdateError) || attempt >= 8) throw error;
        await sleep(backoffDelay(attempt, 20, 1_000));
      }
    }
  }

  async dueProfiles(bucket: number, until: number, limit = 100): Promise<string[]> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: DueIndex.name,
        KeyConditionExpression: '#b = :b AND #t <= :until',
        ExpressionAttributeNames: { '#b': DueIndex.bucketAttribute, '#t': DueIndex.timeAttribute },
        ExpressionAttributeValues: { ':b': { S: String(bucket) }, ':until': { S: dueTimeText(until) } },
        Limit: limit,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    this.record(result.ConsumedCapacity ? [result.ConsumedCapacity] : undefined, 'read');
    return (result.Items ?? []).map(profileIdOf);
  }

  async scanProfiles(cursor?: string, limit = 200): Promise<ProfilePage> {
    const result = await this.client.send(
      new ScanCommand({
        TableName: this.tableName,
        FilterExpression: 'sk = :profile',
        ExpressionAttributeValues: { ':profile': { S: ProfileSortKey } },
        Limit: limit,
        ...(cursor ? { ExclusiveStartKey: JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Item } : {}),
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    this.record(result.ConsumedCapacity ? [result.ConsumedCapacity] : undefined, 'read');
    const next = result.LastEvaluatedKey ? Buffer.from(JSON.stringify(result.LastEvaluatedKey)).toString('base64url') : undefined;
    return { profiles: (result.Items ?? []).map(decodeProfileItem), ...(next ? { cursor: next } : {}) };
  }

  /**
   * Every live profile in the table, for operators' tools (rebuild and its verification), never
   * for the pipeline: a scan reads the whole table.
   */
  async *scanLiveProfiles(): AsyncIterable<ProfileState> {
    const pages = paginateScan(
      { client: this.client },
      {
        TableName: this.tableName,
        FilterExpression: 'sk = :profile AND attribute_exists(d) AND attribute_not_exists(#to)',
        ExpressionAttributeNames: { '#to': 'to' },
        ExpressionAttributeValues: { ':profile': { S: ProfileSortKey } },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) for (const item of page.Items ?? []) yield decodeState(item.d!.B!, item.s?.B);
  }

  async erase(profileIds: readonly string[], identifiers: readonly Identifier[]): Promise<ErasedItems> {
    const ids = [...new Set(profileIds)];
    let owners = 0;
    for (let start = 0; start < ids.length; start += MaxRepointSources) {
      const names = ids.slice(start, start + MaxRepointSources);
      const values = Object.fromEntries(names.map((id, i) => [`:p${i}`, { S: id }]));
      for (const identifier of identifiers) {
        try {
          const command = new DeleteItemCommand({ TableName: this.tableName, Key: ownerKey(identifier), ConditionExpression: `p IN (${Object.keys(values).join(', ')})`, ExpressionAttributeValues: values });
          await this.client.send(command);
          owners++;
        } catch (error) {
          // Owned by someone else, or already gone.
          if (!isConditionFailure(error)) throw error;
        }
      }
    }
    let profiles = 0;
    let history = 0;
    for (const id of ids) {
      const keys: Item[] = [];
      const pages = paginateQuery(
        { client: this.client },
        { TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: `p#${id}` } }, ProjectionExpression: 'pk, sk', ConsistentRead: true },
      );
      for await (const page of pages) keys.push(...(page.Items ?? []));
      await batchWriteAll(this.client, this.tableName, keys.map((Key) => ({ DeleteRequest: { Key } })), (consumed) => this.record(consumed, 'write'));
      for (const key of keys) {
        if (key.sk!.S === ProfileSortKey) profiles++;
        else history++;
      }
    }
    return { profiles, identifiers: owners, history };
  }

  async ping(): Promise<void> {
    await this.client.send(new DescribeTableCommand({ TableName: this.tableName }));
  }

  private async batchGet(keys: Item[], options: { projection?: string; consistent?: boolean } = {}): Promise<Item[]> {
    const items: Item[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      let pending: KeysAndAttributes | undefined = {
        Keys: keys.slice(i, i + 100),
        ...(options.projection ? { ProjectionExpression: options.projection } : {}),
        ...(options.consistent ? { ConsistentRead: true } : {}),
      };
      for (let attempt = 0; pending?.Keys?.length; attempt++) {
        if (attempt > 0) await sleep(backoffDelay(attempt, 50, 2_000));
        if (attempt > 8) throw new Error('profile reads stayed unprocessed');
        const result: BatchGetItemCommandOutput = await this.client.send(
          new BatchGetItemCommand({ RequestItems: { [this.tableName]: pending }, ReturnConsumedCapacity: 'TOTAL' }),
        );
        this.record(result.ConsumedCapacity, 'read');
        items.push(...(result.Responses?.[this.tableName] ?? []));
        pending = result.UnprocessedKeys?.[this.tableName];
      }
    }
    return items;
  }

  private async conditional(command: PutItemCommand | UpdateItemCommand, message: string): Promise<void> {
    try {
      const result = await this.client.send(command as PutItemCommand);
      this.record(result.ConsumedCapacity ? [result.ConsumedCapacity] : undefined, 'write');
    } catch (error) {
      if (isConditionFailure(error)) {
        // A failed condition still consumes write capacity.
        this.telemetry.count('DynamoDbWriteUnits', 1);
        throw new ConcurrentUpdateError(message);
      }
      throw error;
    }
  }

  private record(consumed: readonly ConsumedCapacity[] | undefined, kind: 'read' | 'write'): void {
    const units = (consumed ?? []).reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
    if (units > 0) this.telemetry.count(kind === 'read' ? 'DynamoDbReadUnits' : 'DynamoDbWriteUnits', units);
  }
}
