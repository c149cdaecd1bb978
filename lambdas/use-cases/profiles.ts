import { DomainError, type ValidationIssue } from '../domain/errors.js';
import { IdentityGraph, newProfileId, type HistoryEntry } from '../domain/identity-graph.js';
import { identifierKey, identifiersOf, type Identifier } from '../domain/identifiers.js';
import type { CollectedEvent } from '../domain/intake.js';
import { fromLakeRow } from '../domain/lake.js';
import { emptyProfile, type LinkedIdentifier, type ProfileState } from '../domain/profile.js';
import type { ProfileConfig } from '../domain/profile-config.js';
import { linkEntries, profileView, type LinkedEntry, type ProfileView } from '../domain/profile-view.js';
import { encodeCursor, timelineSql, toTimelineEvent, type TimelineCursor, type TimelineEvent } from '../domain/timeline.js';
import { ProfileCountSql } from '../domain/lake-views.js';
import type { LakeQuery } from '../ports/lake-query.js';
import type { ObjectStore } from '../ports/object-store.js';
import { splitRecordKey, type SplitRecord } from '../domain/split-record.js';
import type { AppLogger } from '../ports/logger.js';
import { ConcurrentUpdateError, type ProfileStore } from '../ports/profile-store.js';
import type { Telemetry } from '../ports/telemetry.js';
import type { OutboundChange, ProfileDerivation } from '../domain/profile-write.js';
import { followRedirects } from './live-profile.js';
import { ProfileWriter } from './profile-writer.js';
import { SegmentMembership } from '../domain/segments/membership.js';
import type { SegmentSet } from '../domain/segments/segment-set.js';
import type { IdentityLog } from './identity-log.js';
import type { SegmentSource } from './segment-source.js';

/** Base error of the profile API; `status` is the HTTP status it maps to, `details` what was wrong and where. */
export class ProfileApiError extends DomainError {
  readonly details: readonly ValidationIssue[];

  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
    field?: string,
    details?: readonly ValidationIssue[],
  ) {
    super(message);
    this.details = details ?? (field ? [{ field, reason: message }] : []);
  }

  /** A request body that does not match its schema: every issue found, the first named in the message. */
  static invalid(issues: readonly ValidationIssue[]): ProfileApiError {
    const first = issues[0];
    return new ProfileApiError(400, first ? `${first.field} ${first.reason}` : 'the request is not valid', undefined, issues);
  }
}

export interface ProfileServiceDependencies {
  readonly store: ProfileStore;
  readonly lake: LakeQuery;
  /** The lake's objects, where splits are recorded for a rebuild to replay. */
  readonly lakeObjects: ObjectStore;
  readonly config: ProfileConfig;
  readonly telemetry: Telemetry;
  readonly logger: AppLogger;
  readonly now: () => Date;
  /** What is kept up to date from each profile on every write. @default none */
  readonly derivations?: readonly ProfileDerivation[];
  /** Segments evaluated in every write (a split changes memberships like any write). @default none */
  readonly segments?: SegmentSource;
  /** Where a split's identifier moves are recorded for the lake's `identities`. @default not recorded */
  readonly identityLog?: IdentityLog;
}

/** How a caller names a profile: one of its identifiers, or its id (`profile:<id>`). */
export type ProfileRef = { readonly identifier: Identifier } | { readonly profileId: string };

export interface TimelinePage {
  readonly events: readonly TimelineEvent[];
  readonly nextCursor: string | null;
}

export interface SplitResult {
  readonly profile: ProfileView;
  readonly split: ProfileView;
}

/** Read and repair unified profiles: lookups through redirects, the lake timeline, history, and split. */
export class ProfileService {
  constructor(private readonly deps: ProfileServiceDependencies) {}

  async view(ref: ProfileRef): Promise<ProfileView> {
    const { state } = await this.find(ref);
    return profileView(state, this.deps.config, this.deps.now().getTime());
  }

  async timeline(ref: ProfileRef, limit: number, cursor?: TimelineCursor): Promise<TimelinePage> {
    const { state } = await this.find(ref);
    const sql = timelineSql({ identifiers: state.identifiers, since: state.computed.firstSeen, limit, ...(cursor ? { cursor } : {}) });
    if (!sql) return { events: [], nextCursor: null };
    const rows = await this.deps.lake.query(sql);
    const events = rows.slice(0, limit).map(toTimelineEvent);
    const last = events.at(-1);
    return { events, nextCursor: rows.length > limit && last ? encodeCursor({ timestamp: last.timestamp, messageId: last.messageId }) : null };
  }

  /** How many profiles the lake knows now, and how many of them are identified (more than an anonymous id). */
  async count(): Promise<{ profiles: number; identified: number; at: string }> {
    const at = this.deps.now().toISOString();
    const [row] = await this.deps.lake.query(ProfileCountSql);
    return { profiles: Number(row?.profiles ?? 0), identified: Number(row?.identified ?? 0), at };
  }

  /** The merge, split and dropped-link history of the profile and of every profile it absorbed, newest first. */
  async history(ref: ProfileRef): Promise<{ profileId: string; history: Array<HistoryEntry | LinkedEntry> }> {
    const { state } = await this.find(ref);
    const entries: Array<HistoryEntry | LinkedEntry> = [...(await this.deps.store.history([state.id, ...state.absorbed])), ...linkEntries(state)];
    const time = (e: HistoryEntry | LinkedEntry): number => (e.kind === 'merge' ? e.reason.at : e.at);
    return { profileId: state.id, history: entries.sort((a, b) => time(b) - time(a)) };
  }

  /**
   * Detaches an identifier, with the events it brought, into a profile of its own. Both profiles
   * are re-derived from the lake with the same rules the resolver applies, and are kept apart
   * from then on. Idempotent: repeating a split finishes it. It answers only once the identifier
   * has moved; when it cannot move it (another profile took it meanwhile), it answers 409.
   *
   * The writes go in the order that keeps every crash safe: the split-off profile (listing the
   * identifier and kept apart from the original), then the identifier's owner item (from then on
   * events carrying it go to the split-off profile, and never rejoin the original), then the
   * original without it, then history.
   */
  async split(ref: ProfileRef, identifier: Identifier): Promise<SplitResult> {
    const { config, store } = this.deps;
    const now = this.deps.now().getTime();
    const { state: current, version, outbox } = await this.find(ref);
    const key = identifierKey(identifier);
    const splitId = newProfileId(`split|${current.id}|${key}`);
    const segments = await this.deps.segments?.current();
    const writer = this.writer(segments);
    const owner = await this.ownerOf(identifier);
    const moveOwner = async (): Promise<void> => {
      if (owner?.live === splitId) return;
      // An identifier listed with no owner item (never claimed, or lost) is claimed for the split-off profile.
      const { repointsRefused } = await writer.write(
        owner ? { repoints: [{ identifier, from: [owner.raw], to: splitId }] } : { claims: [{ identifier, profileId: splitId }] },
      );
      if (repointsRefused > 0) throw new ProfileApiError(409, 'the identifier moved while it was being split; retry the request', 'identifier');
    };
    if (current.apart.includes(splitId)) {
      // Split before: finish it if the identifier is still with this profile; elsewhere, it is done.
      if (owner?.live === current.id) await moveOwner();
      // A first attempt that stopped before recording the split left no record; one that recorded it keeps its time.
      if (!(await this.deps.lakeObjects.exists(splitRecordKey(splitId)))) {
        await this.recordSplit({ kind: 'split', at: now, profileId: current.id, into: splitId, identifier, remaining: current.identifiers.map(({ type, value }) => ({ type, value })) });
      }
      const [split] = await store.profiles([splitId]);
      return { profile: profileView(current, config, now), split: profileView(split?.state ?? emptyProfile(splitId, now), config, now) };
    }
    if (owner && owner.live !== current.id && owner.live !== splitId) {
      throw new ProfileApiError(409, `${identifier.type} ${JSON.stringify(identifier.value)} now belongs to another profile; look it up again`, 'identifier');
    }
    const linked = current.identifiers.find((id) => identifierKey(id) === key);
    if (!linked) throw new ProfileApiError(400, `${identifier.type} ${JSON.stringify(identifier.value)} is not an identifier of this profile`, 'identifier');
    if (current.identifiers.length < 2) throw new ProfileApiError(400, 'the profile has a single identifier; there is nothing to split', 'identifier');

    const events = await this.lakeEventsOf(current);
    const graph = new IdentityGraph(config, now, segments?.tracking);
    const remaining = current.identifiers.filter((id) => identifierKey(id) !== key);
    for (const id of remaining) graph.loadOwner(id, current.id);
    graph.loadOwner(identifier, splitId);
    graph.loadProfile({ id: current.id, state: { ...emptyProfile(current.id, current.createdAt), absorbed: current.absorbed, apart: [...current.apart, splitId] } });
    graph.loadProfile({ id: splitId, state: { ...emptyProfile(splitId, now), apart: [current.id] } });
    const only = new Set(current.identifiers.map(identifierKey));
    for (const event of events) graph.apply(event, only);

    // The live profile's identifier list and dedupe memory stay authoritative; the lake supplies traits, counters and
    // when each identifier was first seen on its side. Drops seen during the replay are not history (the split entry
    // is); forget them so the next real one is recorded.
    const seenSince = (side: string, id: LinkedIdentifier): LinkedIdentifier => {
      const replayed = graph.state(side).identifiers.find((r) => r.type === id.type && r.value === id.value);
      return replayed ? { ...id, since: replayed.since } : id;
    };
    const rebuilt: ProfileState = {
      ...graph.state(current.id),
      identifiers: remaining.map((id) => seenSince(current.id, id)),
      seen: current.seen,
      droppedLinks: [],
      updatedAt: now,
    };
    const split: ProfileState = {
      ...graph.state(splitId),
      identifiers: [{ ...seenSince(splitId, linked), by: { rule: 'split', at: now, from: current.id } }],
      seen: current.seen,
      droppedLinks: [],
      updatedAt: now,
    };
    const [existingSplit] = await store.profiles([splitId]);
    const entry = { kind: 'split', identifier: { type: identifier.type, value: identifier.value }, at: now, into: splitId } as const;
    try {
      await writer.write({ profiles: [{ before: existingSplit?.state, expectedVersion: existingSplit?.version, pending: existingSplit?.outbox ?? [], after: split }] });
      await moveOwner();
      await writer.write({
        profiles: [{ before: current, expectedVersion: version, pending: outbox, after: rebuilt }],
        history: [
          { ...entry, profileId: current.id },
          { ...entry, profileId: splitId },
        ],
      });
    } catch (error) {
      if (error instanceof ConcurrentUpdateError) throw new ProfileApiError(409, 'the profile changed while it was being split; retry the request');
      throw error;
    }
    // Only a recorded split answers 200: a rebuild from the lake must be able to replay it.
    await this.recordSplit({ kind: 'split', at: now, profileId: current.id, into: splitId, identifier, remaining: remaining.map(({ type, value }) => ({ type, value })) });
    // The lake's identities follow: the identifier is the split-off profile's, the rest stay.
    const placements = new Map([...remaining.map((id): [string, string] => [identifierKey(id), current.id]), [key, splitId]]);
    await this.deps.identityLog?.record(placements, now, `split-${splitId}`);
    this.deps.logger.info('profile split', { profileId: current.id, into: splitId, identifierType: identifier.type, events: events.length });
    return { profile: profileView(rebuilt, config, now), split: profileView(split, config, now) };
  }

  private async recordSplit(record: SplitRecord): Promise<void> {
    await this.deps.lakeObjects.put({
      key: splitRecordKey(record.into),
      body: JSON.stringify({ ...record, identifier: { type: record.identifier.type, value: record.identifier.value } }),
      contentType: 'application/json',
    });
  }

  private ownerOf(identifier: Identifier): Promise<{ raw: string; live: string } | undefined> {
    return ownerOf(this.deps.store, identifier);
  }

  private async lakeEventsOf(profile: ProfileState): Promise<CollectedEvent[]> {
    const sql = timelineSql({ identifiers: profile.identifiers, since: profile.computed.firstSeen, limit: 1_000_000 });
    if (!sql) return [];
    const events = (await this.deps.lake.query(sql)).map(fromLakeRow).filter((e): e is CollectedEvent => e !== undefined);
    return events.filter((e) => identifiersOf(e, this.deps.config).length > 0).reverse();
  }

  private writer(segments: SegmentSet | undefined): ProfileWriter {
    const { store, telemetry, now, derivations, config } = this.deps;
    return new ProfileWriter({ store, telemetry, now, derivations: [...(derivations ?? []), ...(segments ? [new SegmentMembership(segments, config)] : [])] });
  }

  /** The live profile a reference leads to, following merge redirects. */
  async find(ref: ProfileRef): Promise<{ state: ProfileState; version: number; outbox: readonly OutboundChange[] }> {
    const id = 'profileId' in ref ? ref.profileId : (await this.deps.store.owners([ref.identifier])).get(identifierKey(ref.identifier));
    const stored = id === undefined ? undefined : (await followRedirects(this.deps.store, id)).stored;
    if (stored?.state) return { state: stored.state, version: stored.version, outbox: stored.outbox };
    throw new ProfileApiError(404, 'no profile has that identifier');
  }
}

/** The profile an identifier's owner item names, and the live profile that leads to through merges. */
export async function ownerOf(store: ProfileStore, identifier: Identifier): Promise<{ raw: string; live: string } | undefined> {
  const raw = (await store.owners([identifier])).get(identifierKey(identifier));
  if (raw === undefined) return undefined;
  return { raw, live: (await followRedirects(store, raw)).id };
}
