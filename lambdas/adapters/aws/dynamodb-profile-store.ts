import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DescribeTableCommand,
  PutItemCommand,
  paginateQuery,
  paginateScan,
  UpdateItemCommand,
  type AttributeValue,
  type BatchGetItemCommandOutput,
  type ConsumedCapacity,
  type DynamoDBClient,
  type KeysAndAttributes,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { HistoryEntry, MergeReason } from '../../domain/identity-graph.js';
import { identifierDigest, identifierKey, type Identifier } from '../../domain/identifiers.js';
import { MessageDigestBytes, type ProfileState, type SeenGeneration } from '../../domain/profile.js';
import { ConcurrentUpdateError, type ProfileStore, type VersionedProfile } from '../../ports/profile-store.js';
import type { Telemetry } from '../../ports/telemetry.js';
import { backoffDelay, sleep } from '../../support/retry.js';

type Item = Record<string, AttributeValue>;

const ProfileSortKey = 'profile';
const OwnerSortKey = 'owner';
const HistoryPrefix = 'h#';

function encodedItem(state: ProfileState): Item {
  const { d, s } = encodeState(state);
  return { d: { B: d }, ...(s.length > 0 ? { s: { B: s } } : {}) };
}

const profileKey = (id: string): Item => ({ pk: { S: `p#${id}` }, sk: { S: ProfileSortKey } });
const ownerKey = (identifier: Identifier): Item => ({ pk: { S: `i#${identifierDigest(identifier)}` }, sk: { S: OwnerSortKey } });

/**
 * Profile state is stored as deflated JSON (`d`) plus the dedupe memory packed as raw bytes (`s`):
 * items stay small, and DynamoDB bills per KB written.
 */
export function encodeState(state: ProfileState): { d: Uint8Array; s: Uint8Array } {
  const { seen, ...rest } = state;
  const json = JSON.stringify(rest, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value));
  return { d: deflateRawSync(Buffer.from(json)), s: packSeen(seen) };
}

export function decodeState(d: Uint8Array, s?: Uint8Array): ProfileState {
  const state = JSON.parse(inflateRawSync(d).toString('utf8')) as ProfileState;
  const computed = state.computed as { firstSeen: number | null; lastSeen: number | null };
  return {
    ...state,
    seen: s ? unpackSeen(s) : [],
    computed: {
      ...state.computed,
      firstSeen: computed.firstSeen ?? Number.POSITIVE_INFINITY,
      lastSeen: computed.lastSeen ?? Number.NEGATIVE_INFINITY,
    },
  };
}

/** Per generation: 6-byte time (ms), 2-byte count, then the 6-byte digests. */
function packSeen(seen: readonly SeenGeneration[]): Uint8Array {
  const size = seen.reduce((n, g) => n + 8 + g.digests.length * MessageDigestBytes, 0);
  const out = Buffer.alloc(size);
  let offset = 0;
  for (const generation of seen) {
    out.writeUIntBE(generation.at, offset, 6);
    out.writeUInt16BE(generation.digests.length, offset + 6);
    offset += 8;
    for (const digest of generation.digests) offset += Buffer.from(digest, 'base64url').copy(out, offset, 0, MessageDigestBytes);
  }
  return out;
}

function unpackSeen(bytes: Uint8Array): SeenGeneration[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const seen: SeenGeneration[] = [];
  for (let offset = 0; offset + 8 <= buffer.length; ) {
    const at = buffer.readUIntBE(offset, 6);
    const count = buffer.readUInt16BE(offset + 6);
    offset += 8;
    const digests: string[] = [];
    for (let i = 0; i < count; i++, offset += MessageDigestBytes) digests.push(buffer.subarray(offset, offset + MessageDigestBytes).toString('base64url'));
    seen.push({ at, digests });
  }
  return seen;
}

function historySortKey(entry: HistoryEntry): string {
  const at = new Date(entry.kind === 'merge' ? entry.reason.at : entry.at).toISOString();
  switch (entry.kind) {
    case 'merge':
      return `${HistoryPrefix}${at}#merge#${entry.absorbed}`;
    case 'link_dropped':
      return `${HistoryPrefix}${at}#drop#${identifierDigest(entry.identifier)}#${entry.messageId}`;
    case 'split':
      return `${HistoryPrefix}${at}#split#${entry.into}`;
  }
}

/**
 * Profiles, identifier owners and history in one DynamoDB table (docs/data-model.md). Reads are
 * eventually consistent: every write that depends on them is conditional on a version, so a stale
 * read costs a retry, never a lost update. Consumed capacity is counted for the benchmark.
 */
export class DynamoDbProfileStore implements ProfileStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly telemetry: Telemetry,
  ) {}

  async owners(identifiers: readonly Identifier[]): Promise<Map<string, string>> {
    const byDigest = new Map(identifiers.map((id) => [identifierDigest(id), identifierKey(id)]));
    const items = await this.batchGet([...byDigest.keys()].map((digest) => ({ pk: { S: `i#${digest}` }, sk: { S: OwnerSortKey } })));
    const owners = new Map<string, string>();
    for (const item of items) {
      const key = byDigest.get(item.pk!.S!.slice(2));
      if (key && item.p?.S) owners.set(key, item.p.S);
    }
    return owners;
  }

  async profiles(ids: readonly string[]): Promise<VersionedProfile[]> {
    const items = await this.batchGet([...new Set(ids)].map(profileKey));
    return items.map((item) => ({
      id: item.pk!.S!.slice(2),
      version: Number(item.v?.N ?? 0),
      ...(item.d?.B ? { state: decodeState(item.d.B, item.s?.B) } : {}),
      ...(item.to?.S ? { redirect: { to: item.to.S, ...(item.r?.S ? { reason: JSON.parse(item.r.S) as MergeReason } : {}) } } : {}),
    }));
  }

  async freeze(id: string, to: string, reason: MergeReason, expectedVersion: number): Promise<void> {
    await this.conditional(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: profileKey(id),
        UpdateExpression: 'SET #to = :to, #r = :r, #v = #v + :one',
        ConditionExpression: '#v = :expected AND attribute_not_exists(#to)',
        ExpressionAttributeNames: { '#to': 'to', '#r': 'r', '#v': 'v' },
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

  async putProfile(state: ProfileState, expectedVersion: number | undefined): Promise<void> {
    await this.conditional(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { ...profileKey(state.id), v: { N: String((expectedVersion ?? 0) + 1) }, ...encodedItem(state) },
        ...(expectedVersion === undefined
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : { ConditionExpression: 'v = :expected', ExpressionAttributeValues: { ':expected': { N: String(expectedVersion) } } }),
        ReturnConsumedCapacity: 'TOTAL',
      }),
      `profile ${state.id} was changed by another writer`,
    );
  }

  async repoint(identifier: Identifier, from: string, to: string): Promise<boolean> {
    try {
      await this.conditional(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...ownerKey(identifier), p: { S: to } },
          ConditionExpression: 'p = :from',
          ExpressionAttributeValues: { ':from': { S: from } },
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
    let requests: WriteRequest[] = entries.map((entry) => ({
      PutRequest: { Item: { pk: { S: `p#${entry.profileId}` }, sk: { S: historySortKey(entry) }, e: { S: JSON.stringify(entry) } } },
    }));
    // Idempotent keys: a replayed batch rewrites the same history items.
    const unique = new Map(requests.map((r) => [`${r.PutRequest!.Item!.pk!.S}|${r.PutRequest!.Item!.sk!.S}`, r]));
    requests = [...unique.values()];
    for (let i = 0; i < requests.length; i += 25) {
      let pending: WriteRequest[] = requests.slice(i, i + 25);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) await sleep(backoffDelay(attempt, 50, 2_000));
        if (attempt > 8) throw new Error('history writes stayed unprocessed');
        const result = await this.client.send(
          new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending }, ReturnConsumedCapacity: 'TOTAL' }),
        );
        this.record(result.ConsumedCapacity, 'write');
        pending = result.UnprocessedItems?.[this.tableName] ?? [];
      }
    }
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
        for (const item of page.Items ?? []) if (item.e?.S) entries.push(JSON.parse(item.e.S) as HistoryEntry);
      }
    }
    return entries;
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

  async ping(): Promise<void> {
    await this.client.send(new DescribeTableCommand({ TableName: this.tableName }));
  }

  private async batchGet(keys: Item[]): Promise<Item[]> {
    const items: Item[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      let pending: KeysAndAttributes | undefined = { Keys: keys.slice(i, i + 100) };
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
      if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException') {
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
