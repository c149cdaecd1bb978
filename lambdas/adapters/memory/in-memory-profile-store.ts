import { historyEntryKey, type HistoryEntry, type MergeReason } from '../../domain/identity-graph.js';
import { identifierDigest, identifierKey, type Identifier } from '../../domain/identifiers.js';
import { withConsent, type ProfileState } from '../../domain/profile.js';
import { dueBucket, outboxBucket, type OutboundChange } from '../../domain/profile-write.js';
import { ConcurrentUpdateError, type ErasedItems, type PendingOutbound, type ProfilePage, type ProfileStore, type ProfileWrite, type VersionedProfile } from '../../ports/profile-store.js';

interface ProfileItem {
  version: number;
  state?: ProfileState;
  redirect?: { to: string; reason: MergeReason };
  outbox: OutboundChange[];
}

/**
 * The profile store in memory, with the DynamoDB store's conditions, for unit tests and folds
 * that need no persistence: it passes the same contract tests (test/contract/profile-store.ts),
 * so the real resolver runs against it. What it returns is a copy, as a read from a database is.
 */
export class InMemoryProfileStore implements ProfileStore {
  private readonly items = new Map<string, ProfileItem>();
  private readonly ownerOf = new Map<string, string>();
  private readonly histories = new Map<string, Map<string, HistoryEntry>>();

  async owners(identifiers: readonly Identifier[]): Promise<Map<string, string>> {
    const owners = new Map<string, string>();
    for (const identifier of identifiers) {
      const owner = this.ownerOf.get(identifierDigest(identifier));
      if (owner !== undefined) owners.set(identifierKey(identifier), owner);
    }
    return owners;
  }

  async profiles(ids: readonly string[]): Promise<VersionedProfile[]> {
    return [...new Set(ids)].flatMap((id) => {
      const item = this.items.get(id);
      if (!item) return [];
      return [
        structuredClone({
          id,
          version: item.version,
          outbox: item.outbox,
          ...(item.state ? { state: item.state } : {}),
          ...(item.redirect ? { redirect: item.redirect } : {}),
        }),
      ];
    });
  }

  async freeze(id: string, to: string, reason: MergeReason, expectedVersion: number): Promise<void> {
    const item = this.items.get(id);
    if (!item || item.version !== expectedVersion || item.redirect) throw new ConcurrentUpdateError(`profile ${id} changed before it could be merged into ${to}`);
    item.redirect = structuredClone({ to, reason });
    item.version++;
  }

  async redirect(id: string, to: string, reason: MergeReason): Promise<void> {
    if (this.items.has(id)) throw new ConcurrentUpdateError(`profile ${id} was written by another writer`);
    this.items.set(id, { version: 1, redirect: structuredClone({ to, reason }), outbox: [] });
  }

  async claim(identifier: Identifier, profileId: string): Promise<void> {
    const digest = identifierDigest(identifier);
    const owner = this.ownerOf.get(digest);
    if (owner !== undefined && owner !== profileId) throw new ConcurrentUpdateError(`identifier ${identifier.type} was claimed by another profile`);
    this.ownerOf.set(digest, profileId);
  }

  async putProfile(write: ProfileWrite): Promise<void> {
    const id = write.state.id;
    const item = this.items.get(id);
    const holds = write.expectedVersion === undefined ? item === undefined : item?.version === write.expectedVersion;
    if (!holds) throw new ConcurrentUpdateError(`profile ${id} was changed by another writer`);
    // Like PutItem, the write replaces the whole item: a redirect it overwrites is gone.
    this.items.set(id, { version: (write.expectedVersion ?? 0) + 1, state: structuredClone(write.state), outbox: structuredClone([...write.outbox]) });
  }

  async repoint(identifier: Identifier, from: readonly string[], to: string): Promise<boolean> {
    const digest = identifierDigest(identifier);
    const owner = this.ownerOf.get(digest);
    if (owner === undefined || !from.slice(0, 100).includes(owner)) return false;
    this.ownerOf.set(digest, to);
    return true;
  }

  async release(id: string): Promise<void> {
    const item = this.items.get(id);
    if (!item?.redirect || !item.state) return;
    delete item.state;
    item.version++;
  }

  async appendHistory(entries: readonly HistoryEntry[]): Promise<void> {
    for (const entry of entries) {
      const history = this.histories.get(entry.profileId) ?? new Map<string, HistoryEntry>();
      history.set(historyEntryKey(entry), structuredClone(entry));
      this.histories.set(entry.profileId, history);
    }
  }

  async history(profileIds: readonly string[]): Promise<HistoryEntry[]> {
    return [...new Set(profileIds)].flatMap((id) =>
      [...(this.histories.get(id) ?? new Map<string, HistoryEntry>())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, entry]) => structuredClone(entry)),
    );
  }

  async pendingOutbound(bucket: number, limit = 100): Promise<PendingOutbound[]> {
    return [...this.items]
      .filter(([id, item]) => item.outbox.length > 0 && outboxBucket(id) === bucket)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, limit)
      .map(([profileId, item]) => ({
        profileId,
        changes: structuredClone(item.outbox),
        ...(item.state ? { profile: structuredClone({ identifiers: item.state.identifiers, traits: item.state.traits, ...withConsent(item.state.consent) }) } : {}),
      }));
  }

  async acknowledgeOutbound(profileId: string, changeIds: readonly string[]): Promise<number> {
    const item = this.items.get(profileId);
    if (!item) return 0;
    const delivered = new Set(changeIds);
    const remaining = item.outbox.filter((change) => !delivered.has(change.id));
    const removed = item.outbox.length - remaining.length;
    if (removed > 0) {
      item.outbox = remaining;
      item.version++;
    }
    return removed;
  }

  async dueProfiles(bucket: number, until: number, limit = 100): Promise<string[]> {
    return [...this.items]
      .filter(([id, item]) => !item.redirect && item.state?.segments?.due !== undefined && item.state.segments.due <= until && dueBucket(id) === bucket)
      .sort(([, a], [, b]) => a.state!.segments!.due! - b.state!.segments!.due!)
      .slice(0, limit)
      .map(([id]) => id);
  }

  async scanProfiles(cursor?: string, limit = 200): Promise<ProfilePage> {
    const ids = [...this.items.keys()].sort();
    const start = cursor === undefined ? 0 : ids.findIndex((id) => id > cursor);
    const page = start === -1 ? [] : ids.slice(start, start + limit);
    const profiles = await this.profiles(page);
    const last = page.at(-1);
    return { profiles, ...(last !== undefined && start + limit < ids.length ? { cursor: last } : {}) };
  }

  /** Every live profile, as DynamoDbProfileStore.scanLiveProfiles lists them. */
  async *scanLiveProfiles(): AsyncIterable<ProfileState> {
    for (const item of this.items.values()) if (item.state && !item.redirect) yield structuredClone(item.state);
  }

  async erase(profileIds: readonly string[], identifiers: readonly Identifier[]): Promise<ErasedItems> {
    const ids = new Set(profileIds);
    let owners = 0;
    for (const identifier of identifiers) {
      const digest = identifierDigest(identifier);
      const owner = this.ownerOf.get(digest);
      if (owner !== undefined && ids.has(owner)) {
        this.ownerOf.delete(digest);
        owners++;
      }
    }
    let profiles = 0;
    let history = 0;
    for (const id of ids) {
      if (this.items.delete(id)) profiles++;
      history += this.histories.get(id)?.size ?? 0;
      this.histories.delete(id);
    }
    return { profiles, identifiers: owners, history };
  }

  async ping(): Promise<void> {}
}
