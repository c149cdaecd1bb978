import { createHash } from 'node:crypto';
import { DueIndex, OutboxIndex } from '../contracts.js';
import { identifierKey } from './identifiers.js';
import type { ProfileState } from './profile.js';

/**
 * A change other systems must hear about, recorded in the same conditional write as the profile
 * state that caused it (the outbox), and removed once delivered. Activation publishes these.
 */
export interface OutboundChange {
  /** Deterministic: the same change always gets the same id, so a replayed write records it once and consumers can deduplicate. */
  readonly id: string;
  /** What happened, e.g. `Segment Entered`. */
  readonly kind: string;
  readonly profileId: string;
  /** When the change happened (epoch milliseconds). */
  readonly at: number;
  readonly detail: Readonly<Record<string, unknown>>;
}

/** What a write changes in a profile; derivations read it to decide what follows. */
export interface ProfileDiff {
  /** The profile did not exist before this write. */
  readonly created: boolean;
  readonly identifiersAdded: readonly string[];
  readonly identifiersRemoved: readonly string[];
  /** Traits whose value (or the time that set it) changed, appeared or went. */
  readonly traitsChanged: readonly string[];
  readonly computedChanged: boolean;
  /** Anything at all differs, bookkeeping (dedupe memory, timestamps) included. */
  readonly changed: boolean;
}

/**
 * Something kept up to date from a profile's state on every write, whichever path writes it
 * (stream, split, time-based re-evaluation, erasure): segment memberships, for one. It returns
 * the state with what it maintains brought up to date, and the outbound changes that follow.
 * Derivations must be pure and deterministic: the same input gives the same state and the same
 * change ids, so a replayed write is a no-op.
 */
export interface ProfileDerivation {
  readonly name: string;
  derive(input: DerivationInput): DerivationResult;
}

export interface DerivationInput {
  /** The stored state before this write; undefined for a new profile. */
  readonly before: ProfileState | undefined;
  /** The state about to be written, with the derivations before this one applied. */
  readonly after: ProfileState;
  readonly diff: ProfileDiff;
  /** Processing time of the write. */
  readonly now: number;
}

export interface DerivationResult {
  readonly state: ProfileState;
  readonly outbound: readonly OutboundChange[];
}

/** One profile, as the writer is asked to write it. */
export interface ProfileWriteRequest {
  /** The stored state this write replaces; undefined to create the profile. */
  readonly before: ProfileState | undefined;
  /** The stored item's version; undefined to create the profile. */
  readonly expectedVersion: number | undefined;
  /** Outbound changes the stored item still holds, not yet delivered. */
  readonly pending: readonly OutboundChange[];
  readonly after: ProfileState;
  /** Changes the operation itself announces (a merge, a dropped link), recorded with the write. @default none */
  readonly outbound?: readonly OutboundChange[];
}

/** The conditional write to make: the full state, the version it is conditional on, and the outbox to store with it. */
export interface PlannedProfileWrite {
  readonly state: ProfileState;
  readonly expectedVersion: number | undefined;
  /** Every undelivered change: those already stored, then the new ones. */
  readonly outbox: readonly OutboundChange[];
  /** The changes this write adds to the outbox. */
  readonly added: readonly OutboundChange[];
  readonly diff: ProfileDiff;
}

/** Which bucket of the outbox feed a profile's undelivered changes are listed in: spread evenly, fixed per profile. */
export function outboxBucket(profileId: string): number {
  return createHash('sha256').update(profileId).digest()[0]! % OutboxIndex.buckets;
}

/** Which bucket of the due feed a profile is listed in (DueIndex in contracts.ts). */
export const dueBucket = (profileId: string): number => outboxBucket(profileId) % DueIndex.buckets;

/** Most undelivered changes one profile holds; older ones are dropped first (and counted) if delivery stalls. */
export const MaxPendingOutbound = 50;

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export function diffProfiles(before: ProfileState | undefined, after: ProfileState): ProfileDiff {
  const beforeIds = new Set((before?.identifiers ?? []).map(identifierKey));
  const afterIds = new Set(after.identifiers.map(identifierKey));
  const traitNames = new Set([...Object.keys(before?.traits ?? {}), ...Object.keys(after.traits)]);
  const traitsChanged = [...traitNames].filter((name) => !same(before?.traits[name], after.traits[name])).sort();
  return {
    created: before === undefined,
    identifiersAdded: [...afterIds].filter((id) => !beforeIds.has(id)),
    identifiersRemoved: [...beforeIds].filter((id) => !afterIds.has(id)),
    traitsChanged,
    computedChanged: !same(before?.computed, after.computed),
    changed: before === undefined || !same(before, after),
  };
}

/**
 * Plans one profile write: runs the derivations over the new state, diffs it against the stored
 * one, and adds what must go out to what the item already holds. Undefined when the write would
 * change nothing (a re-evaluation that found nothing new, a repeated operation), so no write is
 * made at all.
 */
export function planProfileWrite(
  request: ProfileWriteRequest,
  derivations: readonly ProfileDerivation[],
  now: number,
): PlannedProfileWrite | undefined {
  let state = request.after;
  const added: OutboundChange[] = [...(request.outbound ?? [])];
  for (const derivation of derivations) {
    const result = derivation.derive({ before: request.before, after: state, diff: diffProfiles(request.before, state), now });
    state = result.state;
    added.push(...result.outbound);
  }
  const diff = diffProfiles(request.before, state);
  const known = new Set(request.pending.map((change) => change.id));
  const fresh = added.filter((change) => !known.has(change.id) && known.add(change.id));
  if (!diff.changed && fresh.length === 0) return undefined;
  return {
    state,
    expectedVersion: request.expectedVersion,
    outbox: [...request.pending, ...fresh].slice(-MaxPendingOutbound),
    added: fresh,
    diff,
  };
}
