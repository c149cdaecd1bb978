import { DeleteItemCommand, PutItemCommand, paginateQuery, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DeadLetter, DeadLetterStore, StoredDeadLetter } from '../../ports/dead-letter-store.js';

const partition = (consumer: string): string => `dl#${consumer}`;

/**
 * Dead letters as items of the data table, one partition per consumer (`dl#<consumer>`), sorted
 * by shard and first sequence number, so a letter written twice is one letter. The consumer
 * already holds a client for this table, so isolating a poison record costs no extra SDK in its
 * bundle, and the event data it holds stays in a store that erasure covers.
 */
export class DynamoDbDeadLetterStore implements DeadLetterStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async put(letter: DeadLetter): Promise<void> {
    const first = letter.records[0]?.sequenceNumber ?? 'empty';
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { pk: { S: partition(letter.consumer) }, sk: { S: `${letter.shardId}#${first}` }, letter: { S: JSON.stringify(letter) } },
      }),
    );
  }

  async *list(consumer?: string): AsyncIterable<StoredDeadLetter> {
    for (const name of consumer ? [consumer] : DeadLetterConsumers) {
      const pages = paginateQuery(
        { client: this.client },
        { TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: partition(name) } }, ConsistentRead: true },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) yield { key: `${item.pk!.S!}|${item.sk!.S!}`, letter: JSON.parse(item.letter!.S!) as DeadLetter };
      }
    }
  }

  async remove(key: string): Promise<void> {
    const separator = key.indexOf('|');
    if (!key.startsWith('dl#') || separator < 0) throw new Error(`${key} is not a dead letter key`);
    await this.client.send(
      new DeleteItemCommand({ TableName: this.tableName, Key: { pk: { S: key.slice(0, separator) }, sk: { S: key.slice(separator + 1) } } }),
    );
  }
}

/** The consumers that keep dead letters in the table. */
export const DeadLetterConsumers = ['resolver'] as const;
