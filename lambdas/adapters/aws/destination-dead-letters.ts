import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ActivationSource, type ActivationEvent } from '../../domain/activation-events.js';
import type { DeliveryDeadLetters, EventBus } from '../../ports/event-bus.js';

/**
 * Puts the events in a destination's dead-letter queue back on the bus, and deletes each message
 * once the bus has accepted it. An EventBridge dead letter is the event as the target would have
 * received it; the copy put back carries the same `detail` (with its `destinationId`), so only
 * that destination's rule matches it, and the same `eventId`, so consumers can deduplicate.
 * Messages that are not CDP events are left where they are. Returns how many were redriven.
 */
export async function redriveQueueToBus(sqs: SQSClient, queueUrl: string, bus: EventBus, dryRun: boolean, only: (event: ActivationEvent) => boolean = () => true): Promise<number> {
  let moved = 0;
  for (;;) {
    const { Messages: messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60 }));
    if (messages.length === 0) return moved;
    for (const message of messages) {
      let event: ActivationEvent;
      try {
        event = JSON.parse(message.Body ?? '') as ActivationEvent;
      } catch {
        continue;
      }
      // Another destination's letter in a shared queue is left alone: it is visible again once its visibility timeout passes.
      if (event.source !== ActivationSource || typeof event.detail?.eventId !== 'string' || !only(event)) continue;
      moved++;
      if (dryRun) continue;
      const [outcome] = await bus.putEvents([{ source: event.source, 'detail-type': event['detail-type'], time: event.time, detail: event.detail }]);
      if (outcome?.ok) await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
    }
    if (dryRun) return moved;
  }
}

/** The queue API-managed destinations share; declared destinations each have their own, under their id. */
export const SharedDeadLetterQueue = '(api-managed)';

/** The destinations' dead-letter queues (SQS), counted and redriven onto the bus. */
export class SqsDeliveryDeadLetters implements DeliveryDeadLetters {
  constructor(
    private readonly sqs: SQSClient,
    /** Queue URL by declared destination id, and the shared one under `(api-managed)`. */
    private readonly queues: Readonly<Record<string, string>>,
    private readonly bus: EventBus,
  ) {}

  async counts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const [id, url] of Object.entries(this.queues)) {
      const { Attributes: attributes } = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }));
      const n = Number(attributes?.ApproximateNumberOfMessages ?? 0);
      if (n > 0) counts[id] = n;
    }
    return counts;
  }

  async redrive(destinationId: string): Promise<number> {
    const url = this.queues[destinationId] ?? this.queues[SharedDeadLetterQueue];
    if (!url) return 0;
    return redriveQueueToBus(this.sqs, url, this.bus, false, (event) => event.detail.destinationId === destinationId);
  }
}

