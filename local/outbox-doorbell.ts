import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { OutboxIndex } from '../lambdas/contracts.js';

type Item = Readonly<Record<string, unknown>>;

/**
 * The local stand-in for the profile table's stream as the stack filters it for the publisher
 * (docs/activation.md): after every successful write of a profile item that carries an outbox,
 * `ring` is called. dynalite has no streams, so the table's own client reports its writes.
 * Every write that sets an outbox is a whole item (a put); acknowledgements are updates that
 * remove it, and ring nothing, as they carry no new change.
 */
export function ringOnOutboxWrites(client: DynamoDBClient, profilesTable: string, ring: () => void): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (carriesOutbox(context.commandName, args.input as Item, profilesTable)) ring();
      return result;
    },
    { step: 'initialize', name: 'cdpOutboxDoorbell' },
  );
}

function carriesOutbox(command: string | undefined, input: Item, table: string): boolean {
  const hasOutbox = (item: Item | undefined): boolean => item !== undefined && OutboxIndex.bucketAttribute in item;
  if (command === 'PutItemCommand') return input.TableName === table && hasOutbox(input.Item as Item | undefined);
  if (command === 'BatchWriteItemCommand') {
    const requests = (input.RequestItems as Record<string, Array<{ PutRequest?: { Item: Item } }>> | undefined)?.[table] ?? [];
    return requests.some((r) => hasOutbox(r.PutRequest?.Item));
  }
  return false;
}
