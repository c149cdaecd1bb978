import { createHash } from 'node:crypto';
import { eventName, type CollectedEvent } from '../intake.js';
import { compare, readAs, readNumber, type Comparison } from './values.js';

/**
 * Event conditions are evaluated from tracks: per profile, per kind of event a segment looks for
 * (its name, its `where` tests, and the property a sum, min or max adds up), the latest matching
 * events, each as its event time, its message digest and, for sums, its value. A track keeps
 * what its conditions need and no more: a count compared with k needs the latest k + 1 events,
 * and sums, minimums and maximums use the latest {@link ValueTrackSize}. Tracks are sets of
 * events cut to their latest ones, so applying events in any order, merging two profiles, or
 * adding history from the lake gives the same track, and an event is never counted twice.
 */

/** A test on an event property (`where`). */
export interface PropertyTest {
  /** Dotted path into the event's properties (traits for `$identify` and `$group`). */
  readonly path: readonly string[];
  readonly comparison: Comparison;
}

export interface TrackSpec {
  /** As `event_counts` names it: the track event's name, or `$page`, `$screen`, `$identify`, `$group`, `$alias`. */
  readonly event: string;
  readonly where: readonly PropertyTest[];
  /** The property summed (or its minimum or maximum taken); only events where it reads as a number are kept. */
  readonly value?: readonly string[];
  /** How many of the latest matching events are kept. */
  readonly size: number;
}

/** One kept event: event time (epoch ms), message digest, and the value for value tracks. */
export type TrackEntry = readonly [at: number, digest: string, value?: number];

export type Tracks = Readonly<Record<string, readonly TrackEntry[]>>;

/** Events kept by value tracks (sum, min, max): the latest 32 matching events with a numeric value. */
export const ValueTrackSize = 32;

/** Largest value a count may be compared with: the track then keeps 32 events. */
export const MaxCountValue = 31;

/** Ties at the last place are all kept, up to twice the size, so the cut never depends on arrival order. */
const TieAllowance = 2;

/** A track's identity: the same spec in two segments is one track. Its size is part of the key (`<hash>.<size>`). */
export function trackKey(spec: TrackSpec): string {
  const canonical = JSON.stringify({ e: spec.event, w: spec.where, v: spec.value ?? null });
  return `${createHash('sha256').update(canonical).digest('base64url').slice(0, 10)}.${spec.size}`;
}

export const sizeOfKey = (key: string): number => Number(key.slice(key.lastIndexOf('.') + 1));

/** Where `where` and value paths read: properties for track, page and screen calls; traits for identify and group. */
export function eventFields(event: CollectedEvent): Readonly<Record<string, unknown>> | undefined {
  return event.type === 'identify' || event.type === 'group' ? event.traits : event.properties;
}

export function valueAtPath(root: unknown, path: readonly string[]): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** The value an event contributes to a track, or undefined when the event does not match it. */
export function matchTrack(spec: TrackSpec, event: CollectedEvent): { value?: number } | undefined {
  const fields = eventFields(event);
  for (const test of spec.where) {
    // `where` takes no `{ ago }` times (the parser refuses them), so whether an event matches never changes.
    if (!compare(test.comparison, readAs(test.comparison.operand, valueAtPath(fields, test.path)), 0)) return undefined;
  }
  if (!spec.value) return {};
  const value = readNumber(valueAtPath(fields, spec.value));
  return value === undefined ? undefined : { value };
}

/** Specs by event name, so an event that no segment looks for costs one map lookup. */
export class TrackIndex {
  private readonly byEvent = new Map<string, Array<{ key: string; spec: TrackSpec }>>();

  constructor(specs: Iterable<TrackSpec>) {
    const seen = new Set<string>();
    for (const spec of specs) {
      const key = trackKey(spec);
      if (seen.has(key)) continue;
      seen.add(key);
      const list = this.byEvent.get(spec.event) ?? [];
      list.push({ key, spec });
      this.byEvent.set(spec.event, list);
    }
  }

  get size(): number {
    let n = 0;
    for (const list of this.byEvent.values()) n += list.length;
    return n;
  }

  /** Adds an event to every track it matches; the same object back when it matches none. */
  record(tracks: Tracks, event: CollectedEvent, at: number, digest: string): Tracks {
    const candidates = this.byEvent.get(eventName(event));
    if (!candidates) return tracks;
    let next: Record<string, readonly TrackEntry[]> | undefined;
    for (const { key, spec } of candidates) {
      const match = matchTrack(spec, event);
      if (!match) continue;
      const entry: TrackEntry = match.value === undefined ? [at, digest] : [at, digest, match.value];
      next ??= { ...tracks };
      next[key] = addEntries(next[key] ?? [], [entry], spec.size);
    }
    return next ?? tracks;
  }
}

const newestFirst = (a: TrackEntry, b: TrackEntry): number => b[0] - a[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);

/**
 * The entries with fewer than `size` entries strictly newer (so ties at the last place stay),
 * at most twice `size`, newest first, one per digest.
 */
export function addEntries(current: readonly TrackEntry[], added: readonly TrackEntry[], size: number): TrackEntry[] {
  const byDigest = new Map<string, TrackEntry>();
  for (const entry of [...current, ...added]) if (!byDigest.has(entry[1])) byDigest.set(entry[1], entry);
  const sorted = [...byDigest.values()].sort(newestFirst);
  const kept: TrackEntry[] = [];
  let newer = 0;
  for (let i = 0; i < sorted.length && i < size * TieAllowance; i++) {
    if (i > 0 && sorted[i]![0] !== sorted[i - 1]![0]) newer = i;
    if (newer >= size) break;
    kept.push(sorted[i]!);
  }
  return kept;
}

/** Two profiles' tracks together (a merge, or history from the lake): the same events are kept once. */
export function unionTracks(a: Tracks | undefined, b: Tracks | undefined): Tracks {
  if (!b || Object.keys(b).length === 0) return a ?? {};
  if (!a || Object.keys(a).length === 0) return b;
  const out: Record<string, readonly TrackEntry[]> = { ...a };
  for (const [key, entries] of Object.entries(b)) out[key] = out[key] ? addEntries(out[key], entries, sizeOfKey(key)) : entries;
  return out;
}

/** Entries in the window `(now - within, now]` (all up to `now` without a window). */
export function entriesIn(entries: readonly TrackEntry[] | undefined, now: number, within: number | undefined): TrackEntry[] {
  return (entries ?? []).filter(([at]) => at <= now && (within === undefined || at > now - within));
}
