import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  paginateScan,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { Credential, CredentialKind } from '../../domain/credentials.js';
import type { CredentialStore } from '../../ports/credential-store.js';

type Item = Record<string, AttributeValue>;

/** Write keys and admin tokens in DynamoDB, keyed by the SHA-256 of the secret. */
export class DynamoDbCredentialStore implements CredentialStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async find(keyHash: string): Promise<Credential | undefined> {
    const result = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { keyHash: { S: keyHash } } }),
    );
    return result.Item ? fromItem(result.Item) : undefined;
  }

  async create(credential: Credential): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: toItem(credential),
          ConditionExpression: 'attribute_not_exists(keyHash)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async revoke(keyHash: string, at: Date): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { keyHash: { S: keyHash } },
          UpdateExpression: 'SET revokedAt = :at',
          ConditionExpression: 'attribute_exists(keyHash) AND attribute_not_exists(revokedAt)',
          ExpressionAttributeValues: { ':at': { S: at.toISOString() } },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async list(): Promise<Credential[]> {
    const credentials: Credential[] = [];
    for await (const page of paginateScan({ client: this.client }, { TableName: this.tableName })) {
      for (const item of page.Items ?? []) credentials.push(fromItem(item));
    }
    return credentials;
  }

  async ping(): Promise<void> {
    await this.client.send(new DescribeTableCommand({ TableName: this.tableName }));
  }
}

function toItem(c: Credential): Item {
  return {
    keyHash: { S: c.keyHash },
    kind: { S: c.kind },
    sourceId: { S: c.sourceId },
    name: { S: c.name },
    createdAt: { S: c.createdAt },
    ...(c.revokedAt ? { revokedAt: { S: c.revokedAt } } : {}),
  };
}

function fromItem(item: Item): Credential {
  return {
    keyHash: item.keyHash?.S ?? '',
    kind: (item.kind?.S ?? 'write') as CredentialKind,
    sourceId: item.sourceId?.S ?? '',
    name: item.name?.S ?? '',
    createdAt: item.createdAt?.S ?? '',
    ...(item.revokedAt?.S ? { revokedAt: item.revokedAt.S } : {}),
  };
}
