import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/** A refused condition, also when the error was made by another copy of the SDK (matched by name). */
export const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException';
