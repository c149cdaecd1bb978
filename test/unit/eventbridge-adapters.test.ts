import {
  CreateApiDestinationCommand,
  CreateConnectionCommand,
  DeleteApiDestinationCommand,
  DeleteConnectionCommand,
  DeleteRuleCommand,
  DescribeApiDestinationCommand,
  DescribeConnectionCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  ResourceNotFoundException,
  UpdateApiDestinationCommand,
} from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBridgeDestinationRouting } from '../../lambdas/adapters/aws/eventbridge-destination-routing.js';
import { EventBridgeEventBus } from '../../lambdas/adapters/aws/eventbridge-event-bus.js';
import type { ActivationEvent } from '../../lambdas/domain/activation-events.js';
import { parseDestination } from '../../lambdas/domain/destinations.js';

// No emulator implements EventBridge: its SDK calls are mocked (the local bus stands in for it end to end).
const eventbridge = mockClient(EventBridgeClient);
afterEach(() => eventbridge.reset());

const event = (eventId: string): ActivationEvent => ({
  source: 'cdp',
  'detail-type': 'Segment Entered',
  time: '2026-11-20T10:00:00.000Z',
  detail: { schemaVersion: 1, eventId, profileId: 'p1', at: '2026-11-20T10:00:00.000Z', identifiers: [], segmentId: 'vip', destinationId: 'crm' },
});
const notFound = () => new ResourceNotFoundException({ message: 'not found', $metadata: {} });

describe('the EventBridge bus', () => {
  it('reports each entry PutEvents refused (200 with FailedEntryCount), in order', async () => {
    eventbridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ EventId: 'e-1' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }, { EventId: 'e-3' }],
    });
    const bus = new EventBridgeEventBus(new EventBridgeClient({ region: 'eu-west-1' }), 'cdp-bus');
    const outcomes = await bus.putEvents([event('a'), event('b'), event('c')]);
    expect(outcomes).toEqual([{ ok: true }, { ok: false, code: 'ThrottlingException', message: 'Rate exceeded' }, { ok: true }]);
    const [call] = eventbridge.commandCalls(PutEventsCommand);
    expect(call!.args[0].input.Entries).toEqual([
      expect.objectContaining({ EventBusName: 'cdp-bus', Source: 'cdp', DetailType: 'Segment Entered', Detail: JSON.stringify(event('a').detail) }),
      expect.anything(),
      expect.anything(),
    ]);
    await expect(bus.putEvents(Array.from({ length: 11 }, (_, i) => event(String(i))))).rejects.toThrow(/at most 10/);
  });
});

describe('routing destinations on EventBridge', () => {
  const routing = new EventBridgeDestinationRouting(new EventBridgeClient({ region: 'eu-west-1' }), {
    busName: 'cdp-bus', namePrefix: 'cdpabc12345', deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:123456789012:dlq', invocationRoleArn: 'arn:aws:iam::123456789012:role/invoke', invocationRateLimitPerSecond: 50,
  });
  const webhook = parseDestination('crm', {
    type: 'webhook', url: 'https://hooks.example.com/cdp', auth: { type: 'api_key', header: 'x-api-key', value: 's3cret' },
    pattern: { 'detail-type': ['Segment Entered'], detail: { segmentId: ['vip'] } },
  }, { allowLoopbackHttp: false });

  it('creates a webhook\'s connection (the secret goes to EventBridge), API destination, rule and target with retries and the DLQ', async () => {
    eventbridge.on(DescribeConnectionCommand).rejects(notFound());
    eventbridge.on(CreateConnectionCommand).resolves({ ConnectionArn: 'arn:conn' });
    eventbridge.on(DescribeApiDestinationCommand).rejects(notFound());
    eventbridge.on(CreateApiDestinationCommand).resolves({ ApiDestinationArn: 'arn:api' });
    await routing.apply(webhook.destination, webhook.secret);
    expect(eventbridge.commandCalls(CreateConnectionCommand)[0]!.args[0].input).toMatchObject({
      Name: 'cdpabc12345-crm', AuthorizationType: 'API_KEY', AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-api-key', ApiKeyValue: 's3cret' } },
    });
    expect(eventbridge.commandCalls(CreateApiDestinationCommand)[0]!.args[0].input).toMatchObject({ ConnectionArn: 'arn:conn', InvocationEndpoint: 'https://hooks.example.com/cdp', HttpMethod: 'POST' });
    expect(JSON.parse(eventbridge.commandCalls(PutRuleCommand)[0]!.args[0].input.EventPattern!)).toEqual({
      $or: [
        { 'detail-type': ['Segment Entered'], source: ['cdp'], detail: { segmentId: ['vip'], destinationId: ['crm'] } },
        { 'detail-type': ['CDP Test Event'], source: ['cdp'], detail: { destinationId: ['crm'] } },
      ],
    });
    expect(eventbridge.commandCalls(PutTargetsCommand)[0]!.args[0].input.Targets).toEqual([
      { Id: 'destination', Arn: 'arn:api', RoleArn: 'arn:aws:iam::123456789012:role/invoke', RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 }, DeadLetterConfig: { Arn: 'arn:aws:sqs:eu-west-1:123456789012:dlq' } },
    ]);
  });

  it('updates what exists and keeps the stored secret when none is given; removes everything, tolerating what is already gone', async () => {
    eventbridge.on(DescribeConnectionCommand).resolves({ ConnectionArn: 'arn:conn' });
    eventbridge.on(DescribeApiDestinationCommand).resolves({});
    eventbridge.on(UpdateApiDestinationCommand).resolves({ ApiDestinationArn: 'arn:api' });
    await routing.apply(webhook.destination, undefined);
    expect(eventbridge.commandCalls(CreateConnectionCommand)).toHaveLength(0);
    expect(await routing.hasSecret('crm')).toBe(true);

    eventbridge.reset();
    eventbridge.on(RemoveTargetsCommand).rejects(notFound());
    eventbridge.on(DeleteRuleCommand).resolves({});
    eventbridge.on(DeleteApiDestinationCommand).rejects(notFound());
    eventbridge.on(DeleteConnectionCommand).resolves({});
    await routing.remove('crm');
    expect(eventbridge.commandCalls(DeleteConnectionCommand)[0]!.args[0].input).toEqual({ Name: 'cdpabc12345-crm' });
  });
});
