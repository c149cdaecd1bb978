import { createHash } from 'node:crypto';
import { parseIdentifierKey } from '../identifiers.js';
import type { ProfileConfig } from '../profile-config.js';
import { emptySegmentState, type ProfileState, type SegmentState } from '../profile.js';
import type { DerivationInput, DerivationResult, OutboundChange, ProfileDerivation } from '../profile-write.js';
import { evaluate, nextChange, type Subject } from './evaluate.js';
import type { SegmentInputs, SegmentSet } from './segment-set.js';
import type { TrackEntry, Tracks } from './tracks.js';

export const SegmentEntered = 'Segment Entered';
export const SegmentExited = 'Segment Exited';
export type MembershipKind = typeof SegmentEntered | typeof SegmentExited;

/** What an outbound membership change carries besides its profile and time. */
export type MembershipDetail = {
  readonly segmentId: string;
  /** The segment's version that decided it; absent for exits of deleted segments. */
  readonly segmentVersion?: number;
};

/** The same change (profile, segment, kind, instant) always has the same id. */
export function membershipChangeId(profileId: string, segmentId: string, kind: MembershipKind, at: number): string {
  return createHash('sha256').update(`${profileId}|${segmentId}|${kind}|${at}`).digest('base64url').slice(0, 22);
}

function change(profileId: string, segmentId: string, kind: MembershipKind, at: number, version?: number): OutboundChange {
  const detail: MembershipDetail = { segmentId, ...(version === undefined ? {} : { segmentVersion: version }) };
  return { id: membershipChangeId(profileId, segmentId, kind, at), kind, profileId, at, detail };
}

/** Which segments a write evaluates. */
export type EvaluationScope =
  /** Those whose inputs the write changed (or all, for a new profile or one whose due time has passed). */
  | { readonly mode: 'changed' }
  /** All: a due profile, looked at again because time passed. */
  | { readonly mode: 'all' }
  /** These, besides the changed ones: a backfill's segments. */
  | { readonly mode: 'also'; readonly segments: ReadonlySet<string> };

const sameEntries = (a: readonly TrackEntry[] | undefined, b: readonly TrackEntry[] | undefined): boolean =>
  a === b || JSON.stringify(a ?? []) === JSON.stringify(b ?? []);

function changedTracks(before: Tracks | undefined, after: Tracks): Set<string> {
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after)]);
  return new Set([...keys].filter((key) => !sameEntries(before?.[key], after[key])));
}

/**
 * Tracks no segment keeps any more are dropped, and entries older than the longest window that
 * reads them: they can never count again, and newer entries rank before them anyway.
 */
function prunedTracks(tracks: Tracks, set: SegmentSet, now: number): Tracks {
  let changed = false;
  const out: Record<string, readonly TrackEntry[]> = {};
  for (const [key, entries] of Object.entries(tracks)) {
    const horizon = set.horizon(key);
    if (horizon === undefined) {
      changed = true;
      continue;
    }
    const kept = Number.isFinite(horizon) ? entries.filter(([at]) => at > now - horizon) : entries;
    if (kept.length !== entries.length) changed = true;
    if (kept.length > 0) out[key] = kept;
    else changed = true;
  }
  return changed ? out : tracks;
}

/**
 * Segment membership as part of every profile write (ProfileDerivation): evaluates the segments
 * whose inputs the write changed, records entries and exits in the outbox of the same
 * conditional write, and keeps the profile's due time, the next instant a window passing may
 * change a membership, so the segmentation function can look at it then.
 */
export class SegmentMembership implements ProfileDerivation {
  readonly name = 'segments';

  constructor(
    private readonly set: SegmentSet,
    private readonly config: ProfileConfig,
    private readonly scope: EvaluationScope = { mode: 'changed' },
  ) {}

  derive({ before, after, diff, now }: DerivationInput): DerivationResult {
    const current = after.segments ?? emptySegmentState;
    const tracks = prunedTracks(current.tracks, this.set, now);
    const profile: ProfileState = { ...after, segments: { ...current, tracks } };
    const subject: Subject = { profile, config: this.config, segment: (id) => this.set.conditionOf(id) };
    const dueBefore = before?.segments?.due;
    const everything = this.scope.mode === 'all' || diff.created || (dueBefore !== undefined && dueBefore <= now);
    const changed = everything ? new Set<string>() : changedTracks(before?.segments?.tracks, tracks);
    const also = this.scope.mode === 'also' ? this.scope.segments : undefined;
    const selected = everything ? this.set.evaluated : this.set.evaluated.filter((s) => touched(s.inputs, diff, changed) || also?.has(s.id));

    const members: Record<string, number> = { ...current.members };
    const outbound: OutboundChange[] = [];
    for (const [profileId, segmentId] of current.leaving ?? []) outbound.push(change(profileId, segmentId, SegmentExited, now));
    for (const segmentId of Object.keys(members)) {
      if (this.set.holds(segmentId) || this.set.evaluated.some((s) => s.id === segmentId)) continue;
      // Deleted, or being deleted: the membership ends.
      delete members[segmentId];
      outbound.push(change(after.id, segmentId, SegmentExited, now));
    }
    let due = everything || dueBefore === undefined || dueBefore <= now ? undefined : dueBefore;
    for (const segment of selected) {
      const member = evaluate(segment.node, subject, now);
      const was = Object.hasOwn(members, segment.id);
      if (member && !was) {
        members[segment.id] = now;
        outbound.push(change(after.id, segment.id, SegmentEntered, now, segment.version));
      } else if (!member && was) {
        delete members[segment.id];
        outbound.push(change(after.id, segment.id, SegmentExited, now, segment.version));
      }
      const next = nextChange(segment.node, subject, now);
      if (next !== undefined && (due === undefined || next < due)) due = next;
    }

    const segments: SegmentState = { members, tracks, ...(due === undefined ? {} : { due }) };
    const empty = Object.keys(members).length === 0 && Object.keys(tracks).length === 0 && due === undefined;
    const { segments: _dropped, ...rest } = after;
    return { state: empty ? rest : { ...after, segments }, outbound };
  }
}

function touched(inputs: SegmentInputs, diff: DerivationInput['diff'], changedTracks: ReadonlySet<string>): boolean {
  if (inputs.computed && diff.computedChanged) return true;
  if (inputs.traits.size > 0 && diff.traitsChanged.some((name) => inputs.traits.has(name))) return true;
  if (inputs.identifierTypes.size > 0) {
    for (const key of [...diff.identifiersAdded, ...diff.identifiersRemoved]) if (inputs.identifierTypes.has(parseIdentifierKey(key)?.type ?? '')) return true;
  }
  for (const key of inputs.tracks) if (changedTracks.has(key)) return true;
  return false;
}
