import type { HistoryEntry, MergeReason, StoredProfile } from '../domain/identity-graph.js';
import type { Identifier } from '../domain/identifiers.js';
import type { ProfileState } from '../domain/profile.js';

/** A stored profile with the version its conditional writes are checked against. */
export interface VersionedProfile extends StoredProfile {
  readonly version: number;
}

/** Another writer changed what this write depended on; reload and try again. */
export class ConcurrentUpdateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConcurrentUpdateError';
  }
}

/**
 * Profiles, identifier ownership and merge history. Every write that depends on what was read
 * is conditional and throws ConcurrentUpdateError when the condition no longer holds.
 */
export interface ProfileStore {
  /** Owner profile id per identifier key (`type:value`), for those that have one. */
  owners(identifiers: readonly Identifier[]): Promise<Map<string, string>>;
  profiles(ids: readonly string[]): Promise<VersionedProfile[]>;
  /** Marks a profile merged into `to`, keeping its state until the survivor has absorbed it. */
  freeze(id: string, to: string, reason: MergeReason, expectedVersion: number): Promise<void>;
  /** Leaves a redirect where a profile was claimed but never written (after a crash or a lost race). */
  redirect(id: string, to: string, reason: MergeReason): Promise<void>;
  /** Takes ownership of an unowned identifier (a no-op when `profileId` already owns it). */
  claim(identifier: Identifier, profileId: string): Promise<void>;
  /** Writes a live profile: created when `expectedVersion` is undefined, else replaced at that version. */
  putProfile(state: ProfileState, expectedVersion: number | undefined): Promise<void>;
  /** Moves an identifier from one owner to another; does nothing if `from` no longer owns it. */
  repoint(identifier: Identifier, from: string, to: string): Promise<boolean>;
  /** Drops a merged-away profile's state once its survivor holds it. */
  release(id: string): Promise<void>;
  appendHistory(entries: readonly HistoryEntry[]): Promise<void>;
  history(profileIds: readonly string[]): Promise<HistoryEntry[]>;
  ping(): Promise<void>;
}
