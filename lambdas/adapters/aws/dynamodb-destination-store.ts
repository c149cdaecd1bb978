import { DeleteItemCommand, GetItemCommand, PutItemCommand, paginateQuery, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DestinationPartitionKey } from '../../contracts.js';
import type { Destination } from '../../domain/destinations.js';
import { DestinationConflictError, type DestinationStore, type StoredDestination } from '../../ports/destination-store.js';
import { sendConditional } from './dynamodb-errors.js';
import type { Item } from './profile-item-codec.js';

const destinationKey = (id: string): Item => ({ pk: { S: DestinationPartitionKey }, sk: { S: `d#${id}` } });

function decode(item: Item): StoredDestination {
  return {
    destination: JSON.parse(item.j!.S!) as Destination,
    managedBy: 'api',
    createdAt: Number(item.c!.N),
    updatedAt: Number(item.u!.N),
    revision: Number(item.r!.N),
  };
}

/**
 * Destination definitions in the profiles table, in one partition (`dst`): JSON (`j`) with a
 * revision (`r`) that conditional writes check. Secrets are never here: the bus keeps them.
 */
export class DynamoDbDestinationStore implements DestinationStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async list(): Promise<StoredDestination[]> {
    const found: StoredDestination[] = [];
    const pages = paginateQuery(
      { client: this.client },
      { TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: DestinationPartitionKey } }, ConsistentRead: true },
    );
    for await (const page of pages) for (const item of page.Items ?? []) found.push(decode(item));
    return found;
  }

  async get(id: string): Promise<StoredDestination | undefined> {
    const { Item: item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: destinationKey(id), ConsistentRead: true }));
    return item ? decode(item) : undefined;
  }

  async save(destination: Destination, times: { createdAt: number; updatedAt: number }, expectedRevision: number | undefined): Promise<void> {
    await this.conditional(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          ...destinationKey(destination.id),
          j: { S: JSON.stringify(destination) },
          c: { N: String(times.createdAt) },
          u: { N: String(times.updatedAt) },
          r: { N: String((expectedRevision ?? 0) + 1) },
        },
        ConditionExpression: expectedRevision === undefined ? 'attribute_not_exists(pk)' : 'r = :expected',
        ...(expectedRevision === undefined ? {} : { ExpressionAttributeValues: { ':expected': { N: String(expectedRevision) } } }),
      }),
      `destination ${destination.id} changed since it was read`,
    );
  }

  async remove(id: string, expectedRevision: number): Promise<void> {
    await this.conditional(
      new DeleteItemCommand({ TableName: this.tableName, Key: destinationKey(id), ConditionExpression: 'r = :expected', ExpressionAttributeValues: { ':expected': { N: String(expectedRevision) } } }),
      `destination ${id} changed since it was read`,
    );
  }

  private conditional(command: PutItemCommand | DeleteItemCommand, message: string): Promise<void> {
    return sendConditional(this.client, command, () => new DestinationConflictError(message));
  }
}
