import { DeleteItemCommand, GetItemCommand, PutItemCommand, paginateQuery, QueryCommand, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { PrivacyPartitionKeys } from '../../contracts.js';
import type { PrivacyRequest } from '../../domain/privacy-request.js';
import { PrivacyRequestConflictError, type PrivacyRequestStore, type StoredPrivacyRequest, type Suppression, type SuppressionList } from '../../ports/privacy-store.js';
import { batchWriteAll, sendConditional } from './dynamodb-errors.js';
import type { Item } from './profile-item-codec.js';

const requestKey = (id: string): Item => ({ pk: { S: PrivacyPartitionKeys.requests }, sk: { S: `r#${id}` } });
const openKey = (id: string): Item => ({ pk: { S: PrivacyPartitionKeys.openRequests }, sk: { S: id } });
const suppressionKey = (hash: string): Item => ({ pk: { S: PrivacyPartitionKeys.suppressions }, sk: { S: hash } });

/**
 * The suppression list and privacy requests in the profiles table (docs/data-model.md):
 * `sup`/`<hash>` per suppressed identifier, `prq`/`r#<id>` per request (JSON `j`, revision `r`),
 * and `prq#open`/`<id>` while a request is unfinished, so the worker reads only those.
 */
export class DynamoDbPrivacyStore implements SuppressionList, PrivacyRequestStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async add(suppressions: readonly Suppression[]): Promise<void> {
    await this.batchWrite(suppressions.map((s) => ({ PutRequest: { Item: { ...suppressionKey(s.hash), rq: { S: s.requestId }, at: { N: String(s.at) } } } })));
  }

  async remove(hashes: readonly string[]): Promise<void> {
    await this.batchWrite(hashes.map((hash) => ({ DeleteRequest: { Key: suppressionKey(hash) } })));
  }

  async hashes(): Promise<Set<string>> {
    return new Set((await this.query(PrivacyPartitionKeys.suppressions, 'sk')).map((item) => item.sk!.S!));
  }

  async all(): Promise<Suppression[]> {
    return (await this.query(PrivacyPartitionKeys.suppressions)).map((item) => ({ hash: item.sk!.S!, requestId: item.rq?.S ?? '', at: Number(item.at?.N ?? 0) }));
  }

  private async query(pk: string, projection?: string): Promise<Item[]> {
    const found: Item[] = [];
    const pages = paginateQuery(
      { client: this.client },
      { TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: pk } }, ConsistentRead: true, ...(projection ? { ProjectionExpression: projection } : {}) },
    );
    for await (const page of pages) found.push(...(page.Items ?? []));
    return found;
  }

  async create(request: PrivacyRequest): Promise<void> {
    await sendConditional(
      this.client,
      new PutItemCommand({ TableName: this.tableName, Item: { ...requestKey(request.id), j: { S: JSON.stringify(request) }, r: { N: '1' } }, ConditionExpression: 'attribute_not_exists(pk)' }),
      () => new PrivacyRequestConflictError(request.id),
    );
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: openKey(request.id) }));
  }

  async get(id: string): Promise<StoredPrivacyRequest | undefined> {
    const { Item: item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: requestKey(id), ConsistentRead: true }));
    return item ? { request: JSON.parse(item.j!.S!) as PrivacyRequest, revision: Number(item.r!.N) } : undefined;
  }

  async update(request: PrivacyRequest, revision: number): Promise<void> {
    await sendConditional(
      this.client,
      new PutItemCommand({
        TableName: this.tableName,
        Item: { ...requestKey(request.id), j: { S: JSON.stringify(request) }, r: { N: String(revision + 1) } },
        ConditionExpression: 'r = :read',
        ExpressionAttributeValues: { ':read': { N: String(revision) } },
      }),
      () => new PrivacyRequestConflictError(request.id),
    );
    if (request.status === 'done' || request.status === 'failed') await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: openKey(request.id) }));
  }

  async open(limit = 20): Promise<string[]> {
    const { Items: items } = await this.client.send(
      new QueryCommand({ TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: PrivacyPartitionKeys.openRequests } }, ConsistentRead: true, Limit: limit }),
    );
    return (items ?? []).map((item) => item.sk!.S!);
  }

  async list(limit: number, after?: string): Promise<{ requests: PrivacyRequest[]; next?: string }> {
    const { Items: items, LastEvaluatedKey: last } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :r)',
        ExpressionAttributeValues: { ':pk': { S: PrivacyPartitionKeys.requests }, ':r': { S: 'r#' } },
        ScanIndexForward: false,
        Limit: limit,
        ...(after ? { ExclusiveStartKey: requestKey(after) } : {}),
      }),
    );
    const requests = (items ?? []).map((item) => JSON.parse(item.j!.S!) as PrivacyRequest);
    return { requests, ...(last && requests.length > 0 ? { next: requests.at(-1)!.id } : {}) };
  }

  private batchWrite(requests: WriteRequest[]): Promise<void> {
    return batchWriteAll(this.client, this.tableName, requests);
  }
}
