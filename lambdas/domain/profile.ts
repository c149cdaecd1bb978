import { mergeConsent, type Consent } from './consent.js';
import { createHash } from 'node:crypto';
import { compareStrings, sortByPriority, type Identifier } from './identifiers.js';
import { eventName, type CollectedEvent } from './intake.js';
import type { ProfileConfig } from './profile-config.js';
import { unionTracks, type Tracks } from './segments/tracks.js';

/** A trait value and the event time that set it. `value: null` is an unset that still carries its time. */
export interface TraitValue {
  readonly value: unknown;
  readonly at: number;
}

/** How an identifier came to be on a profile. */
export type LinkRule =
  /** It started the profile. */
  | 'first'
  /** An event carried it with an identifier already on the profile (the event's kind, as for merges). */
  | 'identify'
  | 'alias'
  | 'shared_identifier'
  /** It came with a profile merged into this one. */
  | 'merge'
  /** An admin split it off into this profile. */
  | 'split'
  /** It was claimed for this profile by a write that did not finish (a crash), and joined it on recovery. */
  | 'recovered';

/** Why an identifier is on a profile: every link can be explained. */
export interface LinkReason {
  readonly rule: LinkRule;
  /** The event that made the link; none for a split or a recovery. */
  readonly messageId?: string;
  /** Event time of the link; for a split or a recovery, when it was made. */
  readonly at: number;
  /** The identifier (`type:value`) the event carried with this one, already on the profile or joining it. */
  readonly with?: string;
  /** The profile it came from, for a merge or a split. */
  readonly from?: string;
}

export interface LinkedIdentifier extends Identifier {
  /** Earliest event time this identifier was seen on the profile. */
  readonly since: number;
  /** How it got here; absent on profiles written before links were recorded. */
  readonly by?: LinkReason;
}

export interface ComputedTraits {
  readonly firstSeen: number;
  readonly lastSeen: number;
  /** Per event name (`$page`, `$identify`, ... for non-track calls). */
  readonly eventCounts: Readonly<Record<string, number>>;
  readonly orders: number;
  /** Revenue in units of 1/10,000, so sums are exact and independent of order. */
  readonly revenueUnits: number;
  readonly lastOrderAt?: number;
  /** `YYYY-MM-DD` → [events, orders]; the time buckets windowed counts are read from. */
  readonly days: Readonly<Record<string, readonly [number, number]>>;
}

/** Message digests applied in one write, with the processing time of that write. */
export interface SeenGeneration {
  readonly at: number;
  readonly digests: readonly string[];
}

/** Segment memberships and what event conditions are evaluated from (lambdas/domain/segments, docs/segments.md). */
export interface SegmentState {
  /** Segment id → when the profile became a member (epoch ms). */
  readonly members: Readonly<Record<string, number>>;
  readonly tracks: Tracks;
  /** The next instant a membership may change with no new event (a window passing); absent when none will. */
  readonly due?: number;
  /** Memberships of profiles merged into this one, to be recorded as their exits: `[profile id, segment id]`. */
  readonly leaving?: ReadonlyArray<readonly [string, string]>;
}

export const emptySegmentState: SegmentState = { members: {}, tracks: {} };

/** The unified profile as stored: bounded in size by the configuration, whatever the traffic. */
export interface ProfileState {
  readonly id: string;
  readonly identifiers: readonly LinkedIdentifier[];
  readonly traits: Readonly<Record<string, TraitValue>>;
  readonly computed: ComputedTraits;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Profiles merged into this one, transitively: a merge is applied once. */
  readonly absorbed: readonly string[];
  /** Profiles split from this one, which must never merge back. */
  readonly apart: readonly string[];
  /** Recently applied messages, so a redelivered or resent event changes nothing. */
  readonly seen: readonly SeenGeneration[];
  /**
   * Identifiers (`type:value`) whose links were already recorded as dropped, so a shared device
   * seen on every visit adds one history entry, not one per event. The latest 20 are kept.
   */
  readonly droppedLinks?: readonly string[];
  /** Absent until a segment looks at the profile. */
  readonly segments?: SegmentState;
  /** Consent per purpose, from the latest events that carried it; absent until one did. */
  readonly consent?: Consent;
}

export const MaxRememberedDrops = 20;

export const RevenueScale = 10_000;

/**
 * Dedupe memory per profile: every digest of its last 4 writes (so a batch retried while other
 * shards write the same person is still recognised), at least the latest 48, never more than
 * 1,024. Bounded by counts, not by time, so item size does not grow with traffic; the guarantee
 * is documented in docs/identity.md.
 */
export const SeenRetention = { recentWrites: 4, minDigests: 48, maxDigests: 1024 } as const;

/** 48 bits of SHA-256: collisions among one profile's remembered messages are vanishingly unlikely. */
export const MessageDigestBytes = 6;

export function messageDigest(messageId: string): string {
  return createHash('sha256').update(messageId).digest().subarray(0, MessageDigestBytes).toString('base64url');
}

export function emptyProfile(id: string, now: number): ProfileState {
  return {
    id,
    identifiers: [],
    traits: {},
    computed: { firstSeen: Number.POSITIVE_INFINITY, lastSeen: Number.NEGATIVE_INFINITY, eventCounts: {}, orders: 0, revenueUnits: 0, days: {} },
    createdAt: now,
    updatedAt: now,
    absorbed: [],
    apart: [],
    seen: [],
  };
}

export const hasSeen = (profile: ProfileState, digest: string): boolean => profile.seen.some((g) => g.digests.includes(digest));

/** Order-independent choice between two values of one trait: later wins; set-once traits keep the earliest. */
function preferred(current: TraitValue | undefined, incoming: TraitValue, setOnce: boolean): TraitValue {
  if (!current) return incoming;
  if (incoming.at !== current.at) return (incoming.at > current.at) !== setOnce ? incoming : current;
  // Same instant: a deterministic tie-break on the value itself keeps every order equivalent.
  const order = compareStrings(JSON.stringify(incoming.value) ?? '', JSON.stringify(current.value) ?? '');
  return (order > 0) !== setOnce ? incoming : current;
}

export interface TraitOutcome {
  readonly traits: Record<string, TraitValue>;
  /** Traits refused for size or count limits. */
  readonly refused: number;
}

export function mergeTraits(
  current: Readonly<Record<string, TraitValue>>,
  incoming: Readonly<Record<string, TraitValue>>,
  config: ProfileConfig,
): TraitOutcome {
  const traits: Record<string, TraitValue> = { ...current };
  let refused = 0;
  for (const [name, value] of Object.entries(incoming)) {
    if (!Object.hasOwn(traits, name) && Object.keys(traits).length >= config.maxTraits) {
      refused++;
      continue;
    }
    traits[name] = preferred(traits[name], value, config.setOnceTraits.includes(name));
  }
  return { traits, refused };
}

/** Traits an event sets: an identify call's `traits`, each stamped with the event's time. */
export function traitsOf(event: CollectedEvent, at: number, config: ProfileConfig): { traits: Record<string, TraitValue>; refused: number } {
  const traits: Record<string, TraitValue> = {};
  let refused = 0;
  if (event.type !== 'identify' || !event.traits) return { traits, refused };
  for (const [name, value] of Object.entries(event.traits)) {
    // A type stored hashed keeps no readable copy among the traits.
    if (value === undefined || config.hashedIdentifiers.includes(name)) continue;
    if (Buffer.byteLength(JSON.stringify(value)) > config.maxTraitBytes) {
      refused++;
      continue;
    }
    traits[name] = { value, at };
  }
  return { traits, refused };
}

export { eventName } from './intake.js';

const dayOf = (time: number): string => new Date(time).toISOString().slice(0, 10);

function revenueOf(event: CollectedEvent, config: ProfileConfig): number {
  for (const name of config.revenueProperties) {
    const raw = event.properties?.[name];
    const value = typeof raw === 'string' ? Number(raw) : raw;
    if (typeof value === 'number' && Number.isFinite(value) && Math.abs(value) < 1e9) return Math.round(value * RevenueScale);
  }
  return 0;
}

function pruneDays(days: Record<string, readonly [number, number]>, lastSeen: number, config: ProfileConfig): Record<string, readonly [number, number]> {
  // A profile that has seen no event yet (an identifier claimed before a crash, then merged) has no days to prune.
  if (!Number.isFinite(lastSeen)) return days;
  const oldest = dayOf(lastSeen - (config.bucketDays - 1) * 86_400_000);
  return Object.fromEntries(Object.entries(days).filter(([day]) => day >= oldest));
}

function addCount(counts: Readonly<Record<string, number>>, name: string, n: number, config: ProfileConfig): Record<string, number> {
  const key = Object.hasOwn(counts, name) || Object.keys(counts).length < config.maxEventNames ? name : '(other)';
  return { ...counts, [key]: (counts[key] ?? 0) + n };
}

export function countEvent(computed: ComputedTraits, event: CollectedEvent, at: number, config: ProfileConfig): ComputedTraits {
  const isOrder = event.type === 'track' && config.orderEvents.includes(event.event ?? '');
  const lastSeen = Math.max(computed.lastSeen, at);
  const day = dayOf(at);
  const bucket = computed.days[day] ?? [0, 0];
  return {
    firstSeen: Math.min(computed.firstSeen, at),
    lastSeen,
    eventCounts: addCount(computed.eventCounts, eventName(event), 1, config),
    orders: computed.orders + (isOrder ? 1 : 0),
    revenueUnits: computed.revenueUnits + (isOrder ? revenueOf(event, config) : 0),
    ...(isOrder || computed.lastOrderAt !== undefined
      ? { lastOrderAt: Math.max(computed.lastOrderAt ?? Number.NEGATIVE_INFINITY, isOrder ? at : Number.NEGATIVE_INFINITY) }
      : {}),
    days: pruneDays({ ...computed.days, [day]: [bucket[0] + 1, bucket[1] + (isOrder ? 1 : 0)] }, lastSeen, config),
  };
}

export function combineComputed(a: ComputedTraits, b: ComputedTraits, config: ProfileConfig): ComputedTraits {
  let eventCounts: Record<string, number> = { ...a.eventCounts };
  for (const [name, n] of Object.entries(b.eventCounts)) eventCounts = addCount(eventCounts, name, n, config);
  const days: Record<string, readonly [number, number]> = { ...a.days };
  for (const [day, [events, orders]] of Object.entries(b.days)) {
    const bucket = days[day] ?? [0, 0];
    days[day] = [bucket[0] + events, bucket[1] + orders];
  }
  const lastSeen = Math.max(a.lastSeen, b.lastSeen);
  const lastOrderAt = Math.max(a.lastOrderAt ?? Number.NEGATIVE_INFINITY, b.lastOrderAt ?? Number.NEGATIVE_INFINITY);
  return {
    firstSeen: Math.min(a.firstSeen, b.firstSeen),
    lastSeen,
    eventCounts,
    orders: a.orders + b.orders,
    revenueUnits: a.revenueUnits + b.revenueUnits,
    ...(Number.isFinite(lastOrderAt) ? { lastOrderAt } : {}),
    days: pruneDays(days, lastSeen, config),
  };
}

/** Keeps what dedupe needs and no more (see SeenRetention). */
export function compactSeen(seen: readonly SeenGeneration[]): SeenGeneration[] {
  const newestFirst = [...seen].sort((a, b) => b.at - a.at);
  const kept: SeenGeneration[] = [];
  let total = 0;
  for (const [index, generation] of newestFirst.entries()) {
    if (index >= SeenRetention.recentWrites && total >= SeenRetention.minDigests) break;
    const room = SeenRetention.maxDigests - total;
    if (room <= 0) break;
    const digests = generation.digests.length > room ? generation.digests.slice(-room) : generation.digests;
    kept.push({ at: generation.at, digests });
    total += digests.length;
  }
  return kept.reverse();
}

export function recordSeen(profile: ProfileState, digest: string, now: number): readonly SeenGeneration[] {
  const last = profile.seen.at(-1);
  if (last && last.at === now) return [...profile.seen.slice(0, -1), { at: now, digests: [...last.digests, digest] }];
  return [...compactSeen(profile.seen), { at: now, digests: [digest] }];
}

/**
 * The profile's identifiers with `ids` linked in. A new identifier gets its explanation from
 * `reasonOf`; one already there keeps its own, and its earliest time, unless its own only says
 * it was recovered (claimed by a writer that had not written the profile yet): the event at hand
 * explains it better.
 */
export function linkIdentifiers(
  profile: ProfileState,
  ids: readonly Identifier[],
  at: number,
  config: ProfileConfig,
  reasonOf?: (id: Identifier) => LinkReason | undefined,
): LinkedIdentifier[] {
  const linked = profile.identifiers.map((id) => ({ ...id }));
  for (const id of ids) {
    const existing = linked.findIndex((l) => l.type === id.type && l.value === id.value);
    if (existing === -1) {
      const by = reasonOf?.(id);
      linked.push({ type: id.type, value: id.value, since: at, ...(by ? { by } : {}) });
    } else {
      const current = linked[existing]!;
      const better = current.by?.rule === 'recovered' ? reasonOf?.(id) : undefined;
      linked[existing] = { ...current, since: Math.min(current.since, at), ...(better && better.rule !== 'recovered' ? { by: better } : {}) };
    }
  }
  return sortByPriority(linked, config);
}

/**
 * Survivor absorbs loser: identifiers, traits, counters and dedupe memory combine exactly once.
 * The loser's identifiers are explained by the merge (`via`) on the survivor.
 */
export function mergeProfiles(survivor: ProfileState, loser: ProfileState, config: ProfileConfig, now: number, via?: LinkReason): ProfileState {
  if (survivor.absorbed.includes(loser.id)) return survivor;
  let identifiers = survivor.identifiers as LinkedIdentifier[];
  for (const id of loser.identifiers) identifiers = linkIdentifiers({ ...survivor, identifiers }, [id], id.since, config, () => via ?? id.by);
  return {
    ...survivor,
    identifiers,
    traits: mergeTraits(survivor.traits, loser.traits, { ...config, maxTraits: Number.MAX_SAFE_INTEGER }).traits,
    computed: combineComputed(survivor.computed, loser.computed, config),
    createdAt: Math.min(survivor.createdAt, loser.createdAt),
    updatedAt: now,
    absorbed: unique([...survivor.absorbed, loser.id, ...loser.absorbed]),
    apart: unique([...survivor.apart, ...loser.apart]),
    seen: compactSeen([...survivor.seen, ...loser.seen]),
    ...mergedSegments(survivor.segments, loser),
    ...withConsent(mergeConsent(survivor.consent, loser.consent)),
  };
}

/**
 * The survivor keeps its memberships and takes both profiles' tracks; the loser's memberships are
 * to be recorded as exits of the loser (the survivor's own are re-evaluated by the write).
 */
function mergedSegments(survivor: SegmentState | undefined, loser: ProfileState): { segments?: SegmentState } {
  const other = loser.segments;
  if (!survivor && !other) return {};
  const base = survivor ?? emptySegmentState;
  const leaving = [...(base.leaving ?? []), ...(other?.leaving ?? []), ...Object.keys(other?.members ?? {}).map((id) => [loser.id, id] as const)];
  const dues = [base.due, other?.due].filter((d): d is number => d !== undefined);
  return {
    segments: {
      members: base.members,
      tracks: unionTracks(base.tracks, other?.tracks),
      ...(dues.length > 0 ? { due: Math.min(...dues) } : {}),
      ...(leaving.length > 0 ? { leaving } : {}),
    },
  };
}

const unique = <T>(values: readonly T[]): T[] => [...new Set(values)];

/** `{ consent }` when there is any, else nothing: a profile no event gave consent for carries no field. */
export const withConsent = (consent: Consent | undefined): { consent?: Consent } => (consent && Object.keys(consent).length > 0 ? { consent } : {});

/** Two profiles that were split apart, directly or through what they absorbed, must not merge again. */
export function keptApart(a: ProfileState, b: ProfileState): boolean {
  const family = (p: ProfileState): string[] => [p.id, ...p.absorbed];
  return family(b).some((id) => a.apart.includes(id)) || family(a).some((id) => b.apart.includes(id));
}
