import type { ActivationEvent } from '../domain/activation-events.js';

/** The outcome of one entry of a `putEvents` call, in the order of the entries. */
export type PutOutcome = { readonly ok: true } | { readonly ok: false; readonly code: string; readonly message: string };

/**
 * The bus activation events are published on: EventBridge in AWS, the local bus on one machine.
 * Like EventBridge's PutEvents, a call accepts at most `ActivationLimits.entriesPerPut` (contracts.ts) entries and may accept
 * some of them and refuse others; a refused entry is not on the bus and may be put again.
 */
export interface EventBus {
  putEvents(events: readonly ActivationEvent[]): Promise<PutOutcome[]>;
}

/**
 * Events a bus still holds for its destinations: given up on (dead letters) or, locally, waiting
 * for their next attempt. An erasure removes those about the person.
 */
export interface HeldDeliveries {
  /** Removes held events about any of these profiles (`detail.profileId`); how many. */
  eraseProfiles(profileIds: ReadonlySet<string>): Promise<number>;
}

/** What the destinations gave up on (their dead letters), and putting it back on the bus. */
export interface DeliveryDeadLetters {
  /**
   * How many each destination holds. In AWS the count is SQS's (approximate), and destinations
   * made through the API share one queue, counted under `(api-managed)`.
   */
  counts(): Promise<Record<string, number>>;
  /** Puts one destination's dead letters back on the bus, for it only; how many. */
  redrive(destinationId: string): Promise<number>;
}


/** What became of the deliveries to one destination over a window. */
export interface DeliveryOutcome {
  /** Attempts the destination accepted. */
  readonly delivered: number;
  /** Attempts that failed (each is retried until the retry policy gives up). */
  readonly failedAttempts: number;
  /** Events given up on and kept as dead letters. */
  readonly deadLettered: number;
}

/** Delivery attempts by destination, as the bus counts them: EventBridge's rule metrics in AWS, the local bus's counters locally. */
export interface DeliveryOutcomes {
  /** Each given destination's outcome over `[from, to)`; all zeros for one that had no deliveries. */
  outcomes(destinationIds: readonly string[], from: Date, to: Date): Promise<Record<string, DeliveryOutcome>>;
}
