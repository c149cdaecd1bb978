import type { HistoryEntry, MergeReason, StoredProfile } from '../domain/identity-graph.js';
import type { Identifier } from '../domain/identifiers.js';
import type { ProfileState } from '../domain/profile.js';
import type { OutboundChange } from '../domain/profile-write.js';

/** A stored profile with the version its conditional writes are checked against. */
export interface VersionedProfile extends StoredProfile {
  readonly version: number;
  /** Outbound changes recorded with the profile and not delivered yet. */
  readonly outbox: readonly OutboundChange[];
}

/** One conditional profile write: created when `expectedVersion` is undefined, else replaced at that version, with its outbox. */
export interface ProfileWrite {
  readonly state: ProfileState;
  readonly expectedVersion: number | undefined;
  /** Every undelivered outbound change of the profile after this write. */
  readonly outbox: readonly OutboundChange[];
}

/** A profile holding undelivered outbound changes, as the outbox feed lists it. */
export interface PendingOutbound {
  readonly profileId: string;
  readonly changes: readonly OutboundChange[];
  /** The profile's identifiers and traits now (absent for a profile merged away): what events about it carry. */
  readonly profile?: { readonly identifiers: readonly Identifier[]; readonly traits: ProfileState['traits']; readonly consent?: ProfileState['consent'] };
}

/** A page of profile items (live or merged away) and where the next one starts. */
export interface ProfilePage {
  readonly profiles: readonly VersionedProfile[];
  /** Opaque; absent on the last page. */
  readonly cursor?: string;
}

/** What an erasure removed from the profile store. */
export interface ErasedItems {
  /** Profile items (live, merged away, or redirects), with their pending outboxes. */
  readonly profiles: number;
  /** Identifier owner items. */
  readonly identifiers: number;
  /** Merge, split and dropped-link history entries. */
  readonly history: number;
}

/** Another writer changed what this write depended on; reload and try again. */
export class ConcurrentUpdateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConcurrentUpdateError';
  }
}

/**
 * Profiles, identifier ownership, merge history and the outbox. Every write that depends on what
 * was read is conditional and throws ConcurrentUpdateError when the condition no longer holds.
 * The same contract tests run against every implementation (test/contract/profile-store.ts).
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
  /** Writes a live profile and its outbox in one conditional write. Only the profile writer calls this. */
  putProfile(write: ProfileWrite): Promise<void>;
  /**
   * Moves an identifier to `to` if its owner item names one of `from` (at most 100 ids: a merged
   * profile and the profiles it absorbed, for instance); otherwise does nothing and says false.
   */
  repoint(identifier: Identifier, from: readonly string[], to: string): Promise<boolean>;
  /** Drops a merged-away profile's state once its survivor holds it. */
  release(id: string): Promise<void>;
  appendHistory(entries: readonly HistoryEntry[]): Promise<void>;
  history(profileIds: readonly string[]): Promise<HistoryEntry[]>;
  /**
   * The outbox feed: profiles holding undelivered changes in one of the feed's buckets
   * (`OutboxIndex.buckets` in contracts.ts), at most `limit`, eventually consistent.
   */
  pendingOutbound(bucket: number, limit?: number): Promise<PendingOutbound[]>;
  /**
   * Removes delivered changes from a profile's outbox. It is a change to the item (its version
   * moves on), so a writer that read the outbox before stays conditional on what it read.
   * Returns how many of the changes were still there.
   */
  acknowledgeOutbound(profileId: string, changeIds: readonly string[]): Promise<number>;
  /**
   * The due feed: ids of profiles in one of its buckets (`DueIndex.buckets` in contracts.ts)
   * whose due time is at or before `until`, at most `limit`, eventually consistent.
   */
  dueProfiles(bucket: number, until: number, limit?: number): Promise<string[]>;
  /**
   * One page of every profile item, live or merged away, in no particular order: for a backfill,
   * which must look at every profile. It reads the whole table; the pipeline never calls it.
   */
  scanProfiles(cursor?: string, limit?: number): Promise<ProfilePage>;
  /**
   * Removes a person: every item of the given profiles (the profile or its redirect, its pending
   * outbox, its history) and the owner items of the given identifiers that name one of those
   * profiles. An owner naming another profile is kept. Safe to repeat.
   */
  erase(profileIds: readonly string[], identifiers: readonly Identifier[]): Promise<ErasedItems>;
  ping(): Promise<void>;
}
