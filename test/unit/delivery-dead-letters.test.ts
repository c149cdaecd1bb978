import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { SqsDeliveryDeadLetters } from '../../lambdas/adapters/aws/destination-dead-letters.js';
import type { ActivationEvent } from '../../lambdas/domain/activation-events.js';
import type { EventBus } from '../../lambdas/ports/event-bus.js';

/** SQS has no emulator here: aws-sdk-client-mock stands in for the dead-letter queues. */
const sqs = mockClient(SQSClient);
afterEach(() => sqs.reset());

const letter = (destinationId: string, eventId: string) =>
  JSON.stringify({ source: 'cdp', 'detail-type': 'Segment Entered', time: '2026-11-24T07:00:00.000Z', detail: { schemaVersion: 1, eventId, profileId: 'p', at: '2026-11-24T07:00:00.000Z', identifiers: [], destinationId } });

describe('the destinations\' dead-letter queues', () => {
  it('counts each queue, and redrives one destination\'s letters from the shared queue, leaving the others', async () => {
    const queues = { '(api-managed)': 'https://sqs/shared', declared: 'https://sqs/declared' };
    sqs.on(GetQueueAttributesCommand, { QueueUrl: 'https://sqs/shared' }).resolves({ Attributes: { ApproximateNumberOfMessages: '3' } });
    sqs.on(GetQueueAttributesCommand, { QueueUrl: 'https://sqs/declared' }).resolves({ Attributes: { ApproximateNumberOfMessages: '0' } });
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [{ Body: letter('crm', 'e1'), ReceiptHandle: 'r1' }, { Body: letter('ads', 'e2'), ReceiptHandle: 'r2' }, { Body: 'not json', ReceiptHandle: 'r3' }] })
      .resolves({ Messages: [] });
    sqs.on(DeleteMessageCommand).resolves({});
    const put: ActivationEvent[] = [];
    const bus: EventBus = { putEvents: async (events) => events.map((e) => (put.push(e), { ok: true as const })) };
    const letters = new SqsDeliveryDeadLetters(new SQSClient({}), queues, bus);

    expect(await letters.counts()).toEqual({ '(api-managed)': 3 });
    expect(await letters.redrive('crm')).toBe(1);
    expect(put.map((e) => [e.detail.destinationId, e.detail.eventId])).toEqual([['crm', 'e1']]);
    expect(sqs.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input.ReceiptHandle)).toEqual(['r1']);
  });
});
