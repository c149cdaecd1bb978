import type { ActivationEvent } from '../../domain/activation-events.js';
import type { EventBus, PutOutcome } from '../../ports/event-bus.js';

/** A bus in memory for unit tests: it keeps what it accepts, and `refuse` decides which entries it refuses (as PutEvents may). */
export class InMemoryEventBus implements EventBus {
  readonly accepted: ActivationEvent[] = [];
  calls = 0;

  constructor(public refuse: (event: ActivationEvent, call: number) => PutOutcome | undefined = () => undefined) {}

  async putEvents(events: readonly ActivationEvent[]): Promise<PutOutcome[]> {
    this.calls++;
    if (events.length > 10) throw new Error(`PutEvents takes at most 10 entries, got ${events.length}`);
    return events.map((event) => {
      const refused = this.refuse(event, this.calls);
      if (refused && !refused.ok) return refused;
      this.accepted.push(structuredClone(event));
      return { ok: true };
    });
  }
}
