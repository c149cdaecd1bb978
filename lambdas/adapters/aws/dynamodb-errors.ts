import { ConditionalCheckFailedException, type DeleteItemCommand, type DynamoDBClient, type PutItemCommand, type UpdateItemCommand } from '@aws-sdk/client-dynamodb';

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
