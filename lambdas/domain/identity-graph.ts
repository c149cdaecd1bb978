import { consentOf, mergeConsent } from './consent.js';
import { createHash } from 'node:crypto';
import { extractIdentifiers, identifierDigest, identifierKey, type Identifier } from './identifiers.js';
import type { CollectedEvent } from './intake.js';
import {
  countEvent,
  emptyProfile,
  emptySegmentState,
  hasSeen,
  keptApart,
  linkIdentifiers,
  MaxRememberedDrops,
  mergeProfiles,
  mergeTraits,
  messageDigest,
  recordSeen,
  traitsOf,
  withConsent,
  type LinkReason,
  type LinkRule,
  type ProfileState,
} from './profile.js';
import { BuiltInIdentifierTypes, limitOf, type ProfileConfig } from './profile-config.js';
import type { TrackIndex } from './segments/tracks.js';

/** Why two profiles merged: which event, which identifier, which rule. */
export interface MergeReason {
  readonly rule: 'alias' | 'identify' | 'shared_identifier';
  readonly messageId: string;
  readonly eventType: string;
  /** Event time. */
  readonly at: number;
  readonly identifier: Identifier;
}

export type HistoryEntry =
  | {
      readonly kind: 'merge';
      readonly profileId: string;
      readonly absorbed: string;
      /** The identifiers the merge brought, each with how it had been linked to the absorbed profile. */
      readonly absorbedIdentifiers: ReadonlyArray<Identifier & { readonly by?: LinkReason }>;
      readonly reason: MergeReason;
    }
  | {
      readonly kind: 'link_dropped';
      readonly profileId: string;
      readonly identifier: Identifier;
      /** `limit:<type>` when the link would exceed a per-profile limit; `apart` after a split. */
      readonly reason: string;
      readonly messageId: string;
      readonly at: number;
    }
  | {
      readonly kind: 'split';
      readonly profileId: string;
      readonly into: string;
      readonly identifier: Identifier;
      readonly at: number;
    };

/**
 * An entry's place in its profile's history: time first, so history reads in order, and unique
 * per entry, so recording the same entry again (a replayed batch) changes nothing.
 */
export function historyEntryKey(entry: HistoryEntry): string {
  const at = new Date(entry.kind === 'merge' ? entry.reason.at : entry.at).toISOString();
  switch (entry.kind) {
    case 'merge':
      return `${at}#merge#${entry.absorbed}`;
    case 'link_dropped':
      return `${at}#drop#${identifierDigest(entry.identifier)}#${entry.messageId}`;
    case 'split':
      return `${at}#split#${entry.into}`;
  }
}

/** A profile as the store holds it: live (state), or merged away (redirect, state kept until the merge completes). */
export interface StoredProfile {
  readonly id: string;
  readonly state?: ProfileState;
  readonly redirect?: { readonly to: string; readonly reason?: MergeReason };
}

export type ApplyOutcome = 'applied' | 'duplicate' | 'unidentified';

export interface GraphStats {
  applied: number;
  duplicates: number;
  unidentified: number;
  merges: number;
  linksDropped: number;
  traitsRefused: number;
  /** Values carried as identifiers but refused, by `<type>:<reason>` (types other than the built-in ones as `other`). */
  identifiersRefused: Record<string, number>;
}

/** Deterministic, so a redelivered event that creates a profile creates the same one. */
export function newProfileId(seed: string): string {
  return createHash('sha256').update(seed).digest('base64url').slice(0, 22);
}

/** How a merged profile's identifiers are explained on the survivor. */
function mergeEntry(survivorId: string, loserId: string, loser: ProfileState, reason: MergeReason): HistoryEntry {
  return { kind: 'merge', profileId: survivorId, absorbed: loserId, absorbedIdentifiers: loser.identifiers.map(({ type, value, by }) => ({ type, value, ...(by ? { by } : {}) })), reason };
}

function mergedBy(reason: MergeReason | undefined, from: string, now: number): LinkReason {
  return reason
    ? { rule: 'merge', messageId: reason.messageId, at: reason.at, with: identifierKey(reason.identifier), from }
    : { rule: 'merge', at: now, from };
}

const mergeRule = (event: CollectedEvent): MergeReason['rule'] =>
  event.type === 'alias' ? 'alias' : event.type === 'identify' && event.userId && event.anonymousId ? 'identify' : 'shared_identifier';

/**
 * The identity graph over a working set of profiles: the part of the store one batch touches,
 * or everything when folding the lake. Pure: the caller loads what it knows, applies events,
 * then persists `changes()`. Applying the same events in any order gives the same people.
 */
export class IdentityGraph {
  private readonly owners = new Map<string, string>();
  /** Owner items as the store holds them, before this graph changes anything. */
  private readonly loadedOwners = new Map<string, { identifier: Identifier; profileId: string }>();
  private readonly profiles = new Map<string, ProfileState>();
  private readonly redirects = new Map<string, string>();
  /** Why each loaded redirect's profile was merged, to explain its identifiers if the merge must be finished. */
  private readonly redirectReasons = new Map<string, MergeReason>();
  private readonly stored = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly claimed = new Map<string, Identifier>();
  private readonly frozen = new Map<string, MergeReason>();
  private readonly unfinished = new Set<string>();
  /** Profiles identifiers point at that were never written. */
  private readonly orphans = new Set<string>();
  /** Survivors that absorbed a profile here: every identifier they hold may have moved to them. */
  private readonly absorbing = new Set<string>();
  readonly history: HistoryEntry[] = [];
  /** Merges recorded again after an interrupted write (see GraphChanges.restoredHistory). */
  readonly restoredHistory: HistoryEntry[] = [];
  readonly stats: GraphStats = { applied: 0, duplicates: 0, unidentified: 0, merges: 0, linksDropped: 0, traitsRefused: 0, identifiersRefused: {} };

  constructor(
    private readonly config: ProfileConfig,
    private readonly now: number,
    /** The event tracks segments keep (segments/tracks.ts); none when no segment looks at events. */
    private readonly tracking?: TrackIndex,
  ) {}

  /** Records what the store says owns an identifier. */
  loadOwner(identifier: Identifier, profileId: string): void {
    this.owners.set(identifierKey(identifier), profileId);
    this.loadedOwners.set(identifierKey(identifier), { identifier: { type: identifier.type, value: identifier.value }, profileId });
  }

  loadProfile(profile: StoredProfile): void {
    this.stored.add(profile.id);
    if (profile.redirect) {
      this.redirects.set(profile.id, profile.redirect.to);
      if (profile.redirect.reason) this.redirectReasons.set(profile.id, profile.redirect.reason);
      // A redirect that still carries state is a merge that may not have reached its survivor.
      if (profile.state) this.unfinished.add(profile.id);
      if (profile.state) this.profiles.set(profile.id, profile.state);
    } else if (profile.state) {
      this.profiles.set(profile.id, profile.state);
    }
  }

  /**
   * Identifiers the store says belong to a profile that was never written (a crash or a lost race
   * between claiming and writing) join that profile now, so its limits are checked against them.
   */
  adoptOrphans(): void {
    for (const [key, owner] of this.owners) {
      const id = this.resolve(owner);
      if (this.stored.has(id) && this.profiles.has(id)) continue;
      this.orphans.add(id);
      const profile = this.state(id);
      const colon = key.indexOf(':');
      const identifier = { type: key.slice(0, colon), value: key.slice(colon + 1) };
      if (profile.identifiers.some((l) => identifierKey(l) === key)) continue;
      const recovered: LinkReason = { rule: 'recovered', at: this.now };
      this.profiles.set(id, { ...profile, identifiers: linkIdentifiers(profile, [identifier], this.now, this.config, () => recovered) });
    }
  }

  /** Profile ids that redirects point at but that were not loaded: the caller loads them next. */
  missingTargets(): string[] {
    return [...new Set(this.redirects.values())].filter((id) => !this.stored.has(id) && !this.profiles.has(id));
  }

  /**
   * Finishes merges a crash interrupted: a merged-away profile whose state its survivor has not
   * absorbed yet is absorbed now. Call after loading, before applying events.
   */
  completeMerges(): void {
    for (const loserId of this.unfinished) {
      const survivorId = this.resolve(loserId);
      const survivor = this.state(survivorId);
      const loser = this.profiles.get(loserId);
      if (!loser) continue;
      const reason = this.redirectReasons.get(loserId);
      if (survivor.absorbed.includes(loserId)) {
        // The survivor was written but the step that records the merge was not reached: recorded again, under the same key.
        if (reason) this.restoredHistory.push(mergeEntry(survivorId, loserId, loser, reason));
        continue;
      }
      this.profiles.set(survivorId, mergeProfiles(survivor, loser, this.config, this.now, mergedBy(reason, loserId, this.now)));
      this.dirty.add(survivorId);
      this.absorbing.add(survivorId);
      // The interrupted write never reached the history (it is written after the profiles): the merge is recorded now, under the same key.
      if (reason) this.history.push(mergeEntry(survivorId, loserId, loser, reason));
    }
  }

  /** Merged-away profiles whose state can be dropped once their survivor is written. */
  finishedLosers(): Array<{ id: string; to: string }> {
    return [...this.unfinished, ...this.frozen.keys()]
      .map((id) => ({ id, to: this.resolve(id) }));
  }

  /** Identifiers a profile listed before it was merged away (to move their owner records). */
  storedIdentifiersOf(profileId: string): Identifier[] {
    return (this.profiles.get(profileId)?.identifiers ?? []).map(({ type, value }) => ({ type, value }));
  }

  resolve(profileId: string): string {
    let id = profileId;
    for (let hops = 0; hops < 100; hops++) {
      const next = this.redirects.get(id);
      if (next === undefined) return id;
      id = next;
    }
    throw new Error(`redirect cycle at profile ${profileId}`);
  }

  ownerOf(identifier: Identifier): string | undefined {
    const owner = this.owners.get(identifierKey(identifier));
    return owner === undefined ? undefined : this.resolve(owner);
  }

  /** A live profile's state; an owner whose profile was never written starts empty. */
  state(profileId: string): ProfileState {
    const id = this.resolve(profileId);
    let profile = this.profiles.get(id);
    if (!profile) {
      profile = emptyProfile(id, this.now);
      this.profiles.set(id, profile);
    }
    return profile;
  }

  profile(profileId: string): ProfileState | undefined {
    const id = this.resolve(profileId);
    return this.profiles.get(id);
  }

  /** Applies one event. `only`, when given, restricts linking to those identifier keys (used by split). */
  apply(event: CollectedEvent, only?: ReadonlySet<string>): ApplyOutcome {
    const extracted = extractIdentifiers(event, this.config);
    for (const { type, reason } of extracted.refused) {
      const key = `${(BuiltInIdentifierTypes as readonly string[]).includes(type) ? type : 'other'}:${reason}`;
      this.stats.identifiersRefused[key] = (this.stats.identifiersRefused[key] ?? 0) + 1;
    }
    const ids = extracted.identifiers.filter((id) => !only || only.has(identifierKey(id)));
    const first = ids[0];
    if (!first) {
      this.stats.unidentified++;
      return 'unidentified';
    }
    const digest = messageDigest(event.messageId);
    if (ids.some((id) => {
      const owner = this.ownerOf(id);
      return owner !== undefined && hasSeen(this.state(owner), digest);
    })) {
      this.stats.duplicates++;
      return 'duplicate';
    }
    const at = Date.parse(event.timestamp);
    let target = this.ownerOf(first);
    // The identifier through which the event reached its profile: what new links are made "with".
    let anchor: Identifier | undefined = target === undefined ? undefined : first;
    const pending: Identifier[] = target === undefined ? [first] : [];
    // This event's identifiers already placed with the target: they count against its limits too.
    const placed: Identifier[] = [first];
    const dropped: Array<{ identifier: Identifier; reason: string }> = [];
    const held = (): Identifier[] => [...(target === undefined ? [] : this.state(target).identifiers), ...placed];

    for (const id of ids.slice(1)) {
      const owner = this.ownerOf(id);
      if (owner !== undefined && owner === target) {
        placed.push(id);
        continue;
      }
      if (owner === undefined) {
        const breach = this.limitBreach(held(), [id]);
        if (breach) dropped.push({ identifier: id, reason: breach });
        else {
          pending.push(id);
          placed.push(id);
        }
        continue;
      }
      const other = this.state(owner);
      if (target === undefined) {
        const breach = this.limitBreach(other.identifiers, placed);
        if (breach) dropped.push({ identifier: id, reason: breach });
        else {
          target = owner;
          anchor = id;
          placed.push(id);
        }
        continue;
      }
      const survivor = this.state(target);
      const breach = keptApart(survivor, other) ? 'apart' : this.limitBreach(held(), other.identifiers);
      if (breach) dropped.push({ identifier: id, reason: breach });
      else {
        this.merge(target, owner, { rule: mergeRule(event), messageId: event.messageId, eventType: event.type, at, identifier: id });
        placed.push(id);
      }
    }

    const created = target === undefined;
    const profileId = target ?? newProfileId(`${event.messageId}|${identifierKey(first)}`);
    const rule: LinkRule = event.type === 'identify' || event.type === 'alias' ? event.type : 'shared_identifier';
    const reasonOf = (id: Identifier): LinkReason => {
      const via = anchor ?? first;
      return (created && id === first) || (via.type === id.type && via.value === id.value)
        ? { rule: 'first', messageId: event.messageId, at }
        : { rule, messageId: event.messageId, at, with: identifierKey(via) };
    };
    for (const id of pending) {
      this.owners.set(identifierKey(id), profileId);
      this.claimed.set(identifierKey(id), id);
    }
    const profile = this.state(profileId);
    const linked = ids.filter((id) => this.ownerOf(id) === profileId);
    const incoming = traitsOf(event, at, this.config);
    const traits = mergeTraits(profile.traits, incoming.traits, this.config);
    this.stats.traitsRefused += incoming.refused + traits.refused;
    const tracks = this.tracking?.record(profile.segments?.tracks ?? {}, event, at, digest);
    this.profiles.set(profileId, {
      ...profile,
      ...(tracks && tracks !== profile.segments?.tracks && Object.keys(tracks).length > 0 ? { segments: { ...(profile.segments ?? emptySegmentState), tracks } } : {}),
      identifiers: linkIdentifiers(profile, linked, at, this.config, reasonOf),
      traits: traits.traits,
      ...withConsent(mergeConsent(profile.consent, consentOf(event, at))),
      computed: countEvent(profile.computed, event, at, this.config),
      updatedAt: this.now,
      seen: recordSeen(profile, digest, this.now),
    });
    this.dirty.add(profileId);
    for (const drop of dropped) {
      this.stats.linksDropped++;
      const current = this.state(profileId);
      const key = `${identifierKey(drop.identifier)}|${drop.reason}`;
      if (current.droppedLinks?.includes(key)) continue;
      this.profiles.set(profileId, { ...current, droppedLinks: [...(current.droppedLinks ?? []), key].slice(-MaxRememberedDrops) });
      this.history.push({ kind: 'link_dropped', profileId, identifier: drop.identifier, reason: drop.reason, messageId: event.messageId, at });
    }
    this.stats.applied++;
    return 'applied';
  }

  private merge(survivorId: string, loserId: string, reason: MergeReason): void {
    const survivor = this.state(survivorId);
    const loser = this.state(loserId);
    this.profiles.set(survivorId, mergeProfiles(survivor, loser, this.config, this.now, mergedBy(reason, loserId, this.now)));
    this.redirects.set(loserId, survivorId);
    this.dirty.delete(loserId);
    this.dirty.add(survivorId);
    this.absorbing.add(survivorId);
    // A stored loser (or an orphan that identifiers already point at) must leave a redirect behind.
    if (this.stored.has(loserId) || this.orphans.has(loserId)) this.frozen.set(loserId, reason);
    this.stats.merges++;
    this.history.push(mergeEntry(survivorId, loserId, loser, reason));
  }

  /** `limit:<type>` when holding both sets of identifiers would exceed that type's limit. */
  private limitBreach(held: readonly Identifier[], added: readonly Identifier[]): string | undefined {
    const byType = new Map<string, Set<string>>();
    for (const id of [...held, ...added]) {
      const values = byType.get(id.type) ?? new Set<string>();
      values.add(id.value);
      byType.set(id.type, values);
    }
    for (const [type, values] of byType) if (values.size > limitOf(this.config, type)) return `limit:${type}`;
    return undefined;
  }

  /**
   * What to persist, listed in the order that keeps every step crash-safe: freeze merged-away
   * profiles, claim new identifiers, write live profiles, then tidy up (see docs/identity.md).
   */
  changes(): GraphChanges {
    const losers = this.finishedLosers();
    return {
      frozen: [...this.frozen].map(([id, reason]) => ({ id, to: this.resolve(id), reason, stored: this.stored.has(id) && !this.orphans.has(id) })),
      claims: [...this.claimed].map(([, identifier]) => ({ identifier, profileId: this.ownerOf(identifier)! })),
      profiles: [...this.dirty]
        .filter((id) => !this.redirects.has(id))
        .map((id) => ({ state: this.profiles.get(id)!, isNew: !this.stored.has(id) })),
      repoints: this.repoints(losers),
      releases: losers.map((loser) => loser.id),
      // History stays with the profile it happened to; a survivor's history includes its absorbed profiles'.
      history: [...this.history],
      restoredHistory: [...this.restoredHistory],
    };
  }

  /**
   * Owner items to move to live profiles. Redirects already route lookups, but anything that
   * moves an identifier by its live profile's id (a split) needs the owner item to name that
   * profile. A merged-away profile's identifiers may still name it, or any profile it absorbed
   * (a merge of those was racing this one, or crashed before moving them), so each moves from
   * that whole chain. An owner item loaded here that names a merged-away profile is repaired too.
   */
  private repoints(losers: ReadonlyArray<{ id: string; to: string }>): GraphChanges['repoints'] {
    const moves = new Map<string, { identifier: Identifier; from: Set<string>; to: string }>();
    const move = (identifier: Identifier, from: readonly string[], to: string): void => {
      const key = identifierKey(identifier);
      if (this.claimed.has(key)) return;
      const entry = moves.get(key) ?? { identifier, from: new Set<string>(), to };
      if (entry.to !== to) return;
      for (const id of from) if (id !== to) entry.from.add(id);
      moves.set(key, entry);
    };
    for (const loser of losers) {
      const chain = [loser.id, ...(this.profiles.get(loser.id)?.absorbed ?? [])];
      for (const identifier of this.storedIdentifiersOf(loser.id)) move(identifier, chain, loser.to);
    }
    for (const { identifier, profileId } of this.loadedOwners.values()) {
      const live = this.resolve(profileId);
      if (live !== profileId && this.profiles.get(live)?.identifiers.some((l) => l.type === identifier.type && l.value === identifier.value)) {
        move(identifier, [profileId], live);
      }
    }
    return [...moves.values()].filter((m) => m.from.size > 0).map((m) => ({ identifier: m.identifier, from: [...m.from], to: m.to }));
  }

  /**
   * Where identifiers stand after applying `events`, for the lake's identity log: each identifier
   * the events carried, with the live profile that owns it; every identifier of a profile that
   * absorbed another here; and every identifier of the profiles of `replayed` events (already
   * applied before: a retry after a crash may be all that is left to record a merge).
   */
  placements(events: readonly CollectedEvent[], replayed: readonly CollectedEvent[] = []): Map<string, string> {
    const out = new Map<string, string>();
    const profiles = new Set(this.absorbing);
    for (const event of events) {
      for (const id of extractIdentifiers(event, this.config).identifiers) {
        const owner = this.ownerOf(id);
        if (owner !== undefined) out.set(identifierKey(id), owner);
      }
    }
    for (const event of replayed) {
      const first = extractIdentifiers(event, this.config).identifiers[0];
      const owner = first && this.ownerOf(first);
      if (owner !== undefined) profiles.add(owner);
    }
    for (const id of profiles) {
      const live = this.resolve(id);
      for (const identifier of this.profiles.get(live)?.identifiers ?? []) out.set(identifierKey(identifier), live);
    }
    return out;
  }

  /** Every live profile in the working set (for folds over the lake and for tests). */
  liveProfiles(): ProfileState[] {
    return [...this.profiles.values()].filter((p) => !this.redirects.has(p.id));
  }
}

export interface GraphChanges {
  /** `stored: false` for a profile never written, which gets a plain redirect item. */
  readonly frozen: ReadonlyArray<{ id: string; to: string; reason: MergeReason; stored: boolean }>;
  readonly claims: ReadonlyArray<{ identifier: Identifier; profileId: string }>;
  readonly profiles: ReadonlyArray<{ state: ProfileState; isNew: boolean }>;
  /** Owner items that still name merged-away profiles, to move to their survivors (from any of `from`). */
  readonly repoints: ReadonlyArray<{ identifier: Identifier; from: readonly string[]; to: string }>;
  /** Merged-away profiles whose survivors now hold their state. */
  readonly releases: readonly string[];
  readonly history: readonly HistoryEntry[];
  /**
   * Merges an earlier write decided and announced, whose history entry a lost race or a crash
   * kept from being written: written again (same keys), never announced again.
   */
  readonly restoredHistory: readonly HistoryEntry[];
}
