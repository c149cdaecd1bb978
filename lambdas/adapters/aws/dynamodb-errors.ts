import { BatchWriteItemCommand, ConditionalCheckFailedException, type ConsumedCapacity, type DeleteItemCommand, type DynamoDBClient, type PutItemCommand, type UpdateItemCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { backoffDelay, sleep } from '../../support/retry.js';

/** A refused condition, also when the error was made by another copy of the SDK (matched by name). */
export const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException';

/** Sends a conditional write; a refused condition is thrown as the store's own conflict error. */
export async function sendConditional(client: DynamoDBClient, command: PutItemCommand | UpdateItemCommand | DeleteItemCommand, conflict: () => Error): Promise<void> {
  try {
    await client.send(command as PutItemCommand);
  } catch (error) {
    if (isConditionFailure(error)) throw conflict();
    throw error;
  }
}

/**
 * Writes (puts and deletes) in batches of 25, putting again what DynamoDB leaves unprocessed, with
 * backoff; throws if some stay unprocessed. `consumed` sees each call's consumed capacity.
 */
export async function batchWriteAll(client: DynamoDBClient, tableName: string, requests: readonly WriteRequest[], consumed?: (capacity: ConsumedCapacity[] | undefined) => void): Promise<void> {
  for (let i = 0; i < requests.length; i += 25) {
    let pending: WriteRequest[] = requests.slice(i, i + 25);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await sleep(backoffDelay(attempt, 50, 2_000));
      if (attempt > 8) throw new Error(`${pending.length} writes to ${tableName} stayed unprocessed`);
      const result = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending }, ...(consumed ? { ReturnConsumedCapacity: 'TOTAL' } : {}) }));
      consumed?.(result.ConsumedCapacity);
      pending = result.UnprocessedItems?.[tableName] ?? [];
    }
  }
}
