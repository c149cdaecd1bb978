import type { CollectedEvent } from './intake.js';

/**
 * Consent per purpose (docs/privacy.md#consent), read from events as Segment's consent object
 * carries it: `context.consent.categoryPreferences`, e.g. `{ "Advertising": false, "Analytics": true }`.
 * The profile keeps each purpose's latest answer with the time of the event that gave it, so
 * events arriving out of order settle on the same answer.
 */
export interface ConsentValue {
  readonly granted: boolean;
  /** Time of the event that gave it (epoch ms). */
  readonly at: number;
}
export type Consent = Readonly<Record<string, ConsentValue>>;

/** Purposes kept per profile, and the longest purpose name: consent is small and bounded like the rest of the item. */
export const ConsentLimits = { purposes: 50, nameLength: 100 } as const;

/** The consent an event gives, stamped with its time; empty when it carries none. */
export function consentOf(event: CollectedEvent, at: number): Record<string, ConsentValue> {
  const consent = event.context?.consent;
  const preferences = consent !== null && typeof consent === 'object' ? (consent as { categoryPreferences?: unknown }).categoryPreferences : undefined;
  const given: Record<string, ConsentValue> = {};
  if (preferences === null || typeof preferences !== 'object' || Array.isArray(preferences)) return given;
  for (const [purpose, granted] of Object.entries(preferences)) {
    if (typeof granted !== 'boolean' || purpose === '' || purpose.length > ConsentLimits.nameLength) continue;
    given[purpose] = { granted, at };
  }
  return given;
}

/** Each purpose's later answer wins; at the same instant a refusal wins, so any order of events gives the same consent. */
export function mergeConsent(current: Consent | undefined, incoming: Consent | undefined): Consent | undefined {
  if (!incoming || Object.keys(incoming).length === 0) return current;
  const merged: Record<string, ConsentValue> = { ...current };
  for (const [purpose, value] of Object.entries(incoming)) {
    const known = merged[purpose];
    if (!known && Object.keys(merged).length >= ConsentLimits.purposes) continue;
    if (!known || value.at > known.at || (value.at === known.at && !value.granted)) merged[purpose] = value;
  }
  return merged;
}

/** Whether a profile consented to every one of the purposes (none asked: yes). A purpose never answered is not consent. */
export const consentsTo = (consent: Consent | undefined, purposes: readonly string[]): boolean => purposes.every((purpose) => consent?.[purpose]?.granted === true);
