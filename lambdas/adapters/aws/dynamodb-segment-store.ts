import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  paginateQuery,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { SegmentPartitionKey } from '../../contracts.js';
import { SegmentConflictError, type BackfillJob, type SegmentFields, type SegmentStore, type StoredSegment } from '../../ports/segment-store.js';
import { isConditionFailure, sendConditional } from './dynamodb-errors.js';
import type { Item } from './profile-item-codec.js';

const Partition = SegmentPartitionKey;
const DefinitionPrefix = 'd#';
const segmentKey = (id: string): Item => ({ pk: { S: Partition }, sk: { S: `${DefinitionPrefix}${id}` } });
const jobKey: Item = { pk: { S: Partition }, sk: { S: 'job' } };

function decodeSegment(item: Item): StoredSegment {
  return { ...(JSON.parse(item.s!.S!) as SegmentFields), revision: Number(item.r!.N), memberCount: Number(item.mc?.N ?? 0) };
}

/**
 * Segment definitions and the backfill job in the profiles table, in one partition (`seg`): a
 * deployment has tens or hundreds of segments, read together by every function every few
 * seconds. Each item is JSON (`s`, `j`) with a revision (`r`) that conditional writes check; the
 * member count (`mc`) is a counter of its own.
 */
export class DynamoDbSegmentStore implements SegmentStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async list(): Promise<StoredSegment[]> {
    const segments: StoredSegment[] = [];
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :d)',
        ExpressionAttributeValues: { ':pk': { S: Partition }, ':d': { S: DefinitionPrefix } },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) for (const item of page.Items ?? []) segments.push(decodeSegment(item));
    return segments;
  }

  async get(id: string): Promise<StoredSegment | undefined> {
    const { Item: item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: segmentKey(id), ConsistentRead: true }));
    return item ? decodeSegment(item) : undefined;
  }

  async save(segment: SegmentFields, expectedRevision: number | undefined, memberCount?: number): Promise<void> {
    const values = {
      ':s': { S: JSON.stringify(segment) },
      ':one': { N: '1' },
      ...(expectedRevision === undefined ? {} : { ':expected': { N: String(expectedRevision) } }),
      ...(memberCount === undefined ? {} : { ':mc': { N: String(memberCount) } }),
    };
    await this.conditional(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: segmentKey(segment.id),
        UpdateExpression: `SET s = :s, r = if_not_exists(r, :zero) + :one${memberCount === undefined ? '' : ', mc = :mc'}`,
        ConditionExpression: expectedRevision === undefined ? 'attribute_not_exists(pk)' : 'r = :expected',
        ExpressionAttributeValues: { ...values, ':zero': { N: '0' } },
      }),
      `segment ${segment.id} changed since it was read`,
    );
  }

  async remove(id: string, expectedRevision: number): Promise<void> {
    await this.conditional(
      new DeleteItemCommand({
        TableName: this.tableName,
        Key: segmentKey(id),
        ConditionExpression: 'r = :expected',
        ExpressionAttributeValues: { ':expected': { N: String(expectedRevision) } },
      }),
      `segment ${id} changed since it was read`,
    );
  }

  async adjustMemberCounts(deltas: ReadonlyMap<string, number>): Promise<void> {
    for (const [id, delta] of deltas) {
      if (delta === 0) continue;
      try {
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: segmentKey(id),
            UpdateExpression: 'ADD mc :delta',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: { ':delta': { N: String(delta) } },
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
  }

  async job(): Promise<BackfillJob | undefined> {
    const { Item: item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: jobKey, ConsistentRead: true }));
    return item?.j?.S ? { ...(JSON.parse(item.j.S) as Omit<BackfillJob, 'revision'>), revision: Number(item.r!.N) } : undefined;
  }

  async saveJob(job: Omit<BackfillJob, 'revision'> | undefined, expectedRevision: number | undefined): Promise<void> {
    const condition = expectedRevision === undefined ? 'attribute_not_exists(pk)' : 'r = :expected';
    const expected: Item = expectedRevision === undefined ? {} : { ':expected': { N: String(expectedRevision) } };
    if (!job) {
      if (expectedRevision === undefined) return;
      await this.conditional(
        new DeleteItemCommand({ TableName: this.tableName, Key: jobKey, ConditionExpression: condition, ExpressionAttributeValues: expected }),
        'the backfill job changed since it was read',
      );
      return;
    }
    await this.conditional(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { ...jobKey, j: { S: JSON.stringify(job) }, r: { N: String((expectedRevision ?? 0) + 1) } },
        ConditionExpression: condition,
        ...(expectedRevision === undefined ? {} : { ExpressionAttributeValues: expected }),
      }),
      'the backfill job changed since it was read',
    );
  }

  private conditional(command: UpdateItemCommand | DeleteItemCommand | PutItemCommand, message: string): Promise<void> {
    return sendConditional(this.client, command, () => new SegmentConflictError(message));
  }
}
