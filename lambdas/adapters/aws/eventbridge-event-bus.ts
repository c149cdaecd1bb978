import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { ActivationEvent } from '../../domain/activation-events.js';
import type { EventBus, PutOutcome } from '../../ports/event-bus.js';
import { ActivationLimits } from '../../contracts.js';

/**
 * The stack's custom EventBridge bus. PutEvents answers 200 even when it refused some entries
 * (`FailedEntryCount`, and an `ErrorCode` on each refused entry, in order): each is reported as
 * its own outcome, for the publisher to put again.
 */
export class EventBridgeEventBus implements EventBus {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async putEvents(events: readonly ActivationEvent[]): Promise<PutOutcome[]> {
    if (events.length > ActivationLimits.entriesPerPut) throw new Error(`PutEvents takes at most ${ActivationLimits.entriesPerPut} entries, got ${events.length}`);
    if (events.length === 0) return [];
    const result = await this.client.send(
      new PutEventsCommand({
        Entries: events.map((event) => ({
          EventBusName: this.busName,
          Source: event.source,
          DetailType: event['detail-type'],
          Detail: JSON.stringify(event.detail),
          Time: new Date(event.time),
        })),
      }),
    );
    const entries = result.Entries ?? [];
    return events.map((_, i): PutOutcome => {
      const entry = entries[i];
      if (entry?.EventId && !entry.ErrorCode) return { ok: true };
      return { ok: false, code: entry?.ErrorCode ?? 'MissingResult', message: entry?.ErrorMessage ?? 'PutEvents returned no result for this entry' };
    });
  }
}
