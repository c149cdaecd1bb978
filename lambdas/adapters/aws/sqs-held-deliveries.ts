import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { HeldDeliveries } from '../../ports/event-bus.js';

/** How long each message read stays hidden while the queue is gone through; those kept are shown again at once after. */
const VisibilitySeconds = 120;

function profileIdOf(body: string | undefined): unknown {
  try {
    return (JSON.parse(body ?? '') as { detail?: { profileId?: unknown } }).detail?.profileId;
  } catch {
    return undefined;
  }
}

/**
 * The activation dead-letter queues (one per declared destination, and the API-managed ones'),
 * which hold the EventBridge events their targets gave up on. SQS cannot delete a message by
 * content: every message is received, those about the person are deleted, and the rest are made
 * visible again.
 */
export class SqsHeldDeliveries implements HeldDeliveries {
  constructor(
    private readonly sqs: SQSClient,
    /** Queue URL per destination. */
    private readonly queues: Readonly<Record<string, string>>,
  ) {}

  async eraseProfiles(profileIds: ReadonlySet<string>): Promise<number> {
    let removed = 0;
    for (const queueUrl of new Set(Object.values(this.queues))) {
      const kept: Array<{ Id: string; ReceiptHandle: string }> = [];
      for (;;) {
        const { Messages: messages = [] } = await this.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: VisibilitySeconds, WaitTimeSeconds: 1 }));
        if (messages.length === 0) break;
        const doomed = messages.filter((m) => profileIds.has(profileIdOf(m.Body) as string));
        for (const m of messages) if (!doomed.includes(m) && m.ReceiptHandle) kept.push({ Id: String(kept.length), ReceiptHandle: m.ReceiptHandle });
        if (doomed.length > 0) {
          const result = await this.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: doomed.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
          if (result.Failed?.length) throw new Error(`SQS kept ${result.Failed.length} messages an erasure deleted: ${result.Failed[0]!.Code ?? ''}`);
          removed += doomed.length;
        }
      }
      for (let start = 0; start < kept.length; start += 10) {
        await this.sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: kept.slice(start, start + 10).map((k, i) => ({ ...k, Id: String(i), VisibilityTimeout: 0 })) }));
      }
    }
    return removed;
  }
}
