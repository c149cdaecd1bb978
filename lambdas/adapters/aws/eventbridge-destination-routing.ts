import {
  CreateApiDestinationCommand,
  CreateConnectionCommand,
  DeleteApiDestinationCommand,
  DeleteConnectionCommand,
  DeleteRuleCommand,
  DescribeApiDestinationCommand,
  DescribeConnectionCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  UpdateApiDestinationCommand,
  UpdateConnectionCommand,
  type CreateConnectionAuthRequestParameters,
  type EventBridgeClient,
} from '@aws-sdk/client-eventbridge';
import * as z from 'zod/mini';
import { DestinationRetryPolicy, type DestinationRoutingSettings } from '../../contracts.js';
import { destinationResourceName, rulePattern, type Destination, type DestinationSecret } from '../../domain/destinations.js';
import type { DestinationRouting } from '../../ports/destination-store.js';

/** Checks the settings the stack passed (contracts.ts, DestinationRoutingSettings). */
export const RoutingSettingsSchema = z.object({
  busName: z.string().check(z.minLength(1)),
  namePrefix: z.string().check(z.minLength(1), z.maxLength(15)),
  deadLetterQueueArn: z.string().check(z.minLength(1)),
  invocationRoleArn: z.string().check(z.minLength(1)),
  invocationRateLimitPerSecond: z.number().check(z.int(), z.minimum(1), z.maximum(300)),
});
export type RoutingSettings = DestinationRoutingSettings;

export const TargetId = 'destination';
/** A webhook without auth still needs a connection: it sends this header, naming the destination. */
const NoAuthHeader = 'x-cdp-destination';

const isNotFound = (error: unknown): boolean => (error as { name?: string }).name === 'ResourceNotFoundException';

async function ignoringNotFound(action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

function authParameters(destinationId: string, secret: DestinationSecret | undefined): { AuthorizationType: 'API_KEY' | 'BASIC'; AuthParameters: CreateConnectionAuthRequestParameters } {
  if (secret?.type === 'basic') return { AuthorizationType: 'BASIC', AuthParameters: { BasicAuthParameters: { Username: secret.username, Password: secret.password } } };
  const { header, value } = secret?.type === 'api_key' ? secret : { header: NoAuthHeader, value: destinationId };
  return { AuthorizationType: 'API_KEY', AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: header, ApiKeyValue: value } } };
}

/**
 * Destinations managed through the API, routed on the stack's bus: one rule per destination with
 * its pattern, one target with the retry policy and the stack's on-failure queue, and for a
 * webhook an API destination with its connection, where EventBridge keeps the secret (in Secrets
 * Manager). Every step creates or updates, so applying again after a failure completes the route.
 */
export class EventBridgeDestinationRouting implements DestinationRouting {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly settings: RoutingSettings,
  ) {}

  private name(id: string): string {
    return destinationResourceName(this.settings.namePrefix, id);
  }

  async apply(destination: Destination, secret: DestinationSecret | undefined): Promise<void> {
    const name = this.name(destination.id);
    await this.client.send(
      new PutRuleCommand({
        Name: name,
        EventBusName: this.settings.busName,
        EventPattern: JSON.stringify(rulePattern(destination)),
        State: 'ENABLED',
        Description: `CDP destination ${destination.id} (managed by the destination API)`,
      }),
    );
    let targetArn: string;
    let roleArn: string | undefined;
    if (destination.type === 'webhook') {
      targetArn = await this.webhook(name, destination, secret);
      roleArn = this.settings.invocationRoleArn;
    } else {
      targetArn = destination.type === 'sqs' ? destination.queueArn : destination.functionArn;
      // A destination that was a webhook before leaves nothing behind.
      await this.removeWebhook(name);
    }
    await this.client.send(
      new PutTargetsCommand({
        Rule: name,
        EventBusName: this.settings.busName,
        Targets: [
          {
            Id: TargetId,
            Arn: targetArn,
            ...(roleArn ? { RoleArn: roleArn } : {}),
            RetryPolicy: { MaximumEventAgeInSeconds: DestinationRetryPolicy.maximumEventAgeSeconds, MaximumRetryAttempts: DestinationRetryPolicy.maximumRetryAttempts },
            DeadLetterConfig: { Arn: this.settings.deadLetterQueueArn },
          },
        ],
      }),
    );
  }

  private async webhook(name: string, destination: Extract<Destination, { type: 'webhook' }>, secret: DestinationSecret | undefined): Promise<string> {
    const existing = await this.describeConnection(name);
    let connectionArn: string;
    if (!existing) {
      const created = await this.client.send(new CreateConnectionCommand({ Name: name, Description: `CDP destination ${destination.id}`, ...authParameters(destination.id, secret) }));
      connectionArn = created.ConnectionArn!;
    } else {
      // Without a new secret the connection keeps the one it has.
      if (secret || !destination.auth) await this.client.send(new UpdateConnectionCommand({ Name: name, ...authParameters(destination.id, secret) }));
      connectionArn = existing;
    }
    const api = { Name: name, ConnectionArn: connectionArn, InvocationEndpoint: destination.url, HttpMethod: 'POST' as const, InvocationRateLimitPerSecond: this.settings.invocationRateLimitPerSecond };
    try {
      await this.client.send(new DescribeApiDestinationCommand({ Name: name }));
      return (await this.client.send(new UpdateApiDestinationCommand(api))).ApiDestinationArn!;
    } catch (error) {
      if (!isNotFound(error)) throw error;
      return (await this.client.send(new CreateApiDestinationCommand(api))).ApiDestinationArn!;
    }
  }

  private async describeConnection(name: string): Promise<string | undefined> {
    try {
      return (await this.client.send(new DescribeConnectionCommand({ Name: name }))).ConnectionArn;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async hasSecret(id: string): Promise<boolean> {
    return (await this.describeConnection(this.name(id))) !== undefined;
  }

  async remove(id: string): Promise<void> {
    const name = this.name(id);
    await ignoringNotFound(() => this.client.send(new RemoveTargetsCommand({ Rule: name, EventBusName: this.settings.busName, Ids: [TargetId] })));
    await ignoringNotFound(() => this.client.send(new DeleteRuleCommand({ Name: name, EventBusName: this.settings.busName })));
    await this.removeWebhook(name);
  }

  private async removeWebhook(name: string): Promise<void> {
    await ignoringNotFound(() => this.client.send(new DeleteApiDestinationCommand({ Name: name })));
    await ignoringNotFound(() => this.client.send(new DeleteConnectionCommand({ Name: name })));
  }
}
