import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ActivationSource, type ActivationEvent } from '../../domain/activation-events.js';
import type { EventBus } from '../../ports/event-bus.js';

/**
 * Puts the events in a destination's dead-letter queue back on the bus, and deletes each message
 * once the bus has accepted it. An EventBridge dead letter is the event as the target would have
 * received it; the copy put back carries the same `detail` (with its `destinationId`), so only
 * that destination's rule matches it, and the same `eventId`, so consumers can deduplicate.
 * Messages that are not CDP events are left where they are. Returns how many were redriven.
 */
export async function redriveQueueToBus(sqs: SQSClient, queueUrl: string, bus: EventBus, dryRun: boolean): Promise<number> {
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
      if (event.source !== ActivationSource || typeof event.detail?.eventId !== 'string') continue;
      moved++;
      if (dryRun) continue;
      const [outcome] = await bus.putEvents([{ source: event.source, 'detail-type': event['detail-type'], time: event.time, detail: event.detail }]);
      if (outcome?.ok) await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
    }
    if (dryRun) return moved;
  }
}
