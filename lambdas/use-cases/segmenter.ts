import { DueIndex } from '../contracts.js';
import { messageDigest, type ProfileState } from '../domain/profile.js';
import type { ProfileConfig } from '../domain/profile-config.js';
import { SegmentMembership, type EvaluationScope } from '../domain/segments/membership.js';
import { SegmentSet } from '../domain/segments/segment-set.js';
import { seedSql, type SeedTrack } from '../domain/segments/sql.js';
import { unionTracks, type TrackEntry, type Tracks } from '../domain/segments/tracks.js';
import type { LakeQueryJobs, LakeQueryPage } from '../ports/lake-query.js';
import type { AppLogger } from '../ports/logger.js';
import type { ObjectStore } from '../ports/object-store.js';
import { ConcurrentUpdateError, type ProfileStore } from '../ports/profile-store.js';
import { SegmentConflictError, type BackfillJob, type SegmentStore, type StoredSegment } from '../ports/segment-store.js';
import type { Telemetry } from '../ports/telemetry.js';
import { definitionOf, saveSegment } from './segment-source.js';
import type { BackfillTiming } from './segments.js';
import { followRedirects } from './live-profile.js';
import { ProfileWriter } from './profile-writer.js';

export interface SegmenterDependencies {
  readonly profiles: ProfileStore;
  readonly segments: SegmentStore;
  /** Backfill queries over the lake, started in one run and read in later ones. */
  readonly lake: LakeQueryJobs;
  /** Where membership changes are recorded for `segment_changes`. */
  readonly lakeObjects: ObjectStore;
  readonly config: ProfileConfig;
  readonly timing: BackfillTiming;
  readonly telemetry: Telemetry;
  readonly logger: AppLogger;
  readonly now: () => Date;
  /** Profiles read per page of the due feed, the outbox feed and a backfill's scan. @default 100 */
  readonly pageSize?: number;
}

export interface SegmenterReport {
  /** Due profiles looked at again, and how many of those writes changed something. */
  readonly due: number;
  readonly dueWritten: number;
  /** Backfill work done: profiles seeded and evaluated. */
  readonly profilesSeeded: number;
  readonly profilesEvaluated: number;
  /** Segments that became ready, or were removed, in this run. */
  readonly finished: readonly string[];
  /** Whether work is left that the deadline cut short. */
  readonly more: boolean;
}

const MaxWriteAttempts = 8;
/** Where in a run's budget due profiles must stop; the backfill has the rest. */
const StepShares = { due: 0.4 } as const;

/**
 * The segmentation function's work, one run at a time (in AWS on a schedule, with one instance;
 * locally on a timer), each run bounded by a deadline:
 * 1. due profiles: those whose memberships a window passing may have changed are evaluated again,
 *    with the same conditional write and version as the resolver, so a racing event is never lost;
 * 2. backfills and deletions: tracks seeded from the lake, then every profile evaluated.
 */
export class Segmenter {
  private readonly pageSize: number;

  constructor(private readonly deps: SegmenterDependencies) {
    this.pageSize = deps.pageSize ?? 100;
  }

  async run(deadline: number): Promise<SegmenterReport> {
    const started = Date.now();
    const budget = Math.max(0, deadline - started);
    const stored = await this.deps.segments.list();
    const set = new SegmentSet(stored.map(definitionOf), this.deps.config);
    // The backfill may use what due profiles left, but due profiles under a backlog never take
    // its whole share: both move on in every run. (The outbox is the publisher's: use-cases/publisher.ts.)
    const due = await this.processDue(set, Math.min(deadline, started + budget * StepShares.due));
    const backfill = await this.backfill(stored, set, deadline);
    const report = { ...due, ...backfill, more: due.more || backfill.more };
    if (report.due) this.deps.telemetry.count('SegmentDueProfiles', report.due);
    if (report.due - report.dueWritten > 0) this.deps.telemetry.count('SegmentDueWithoutChange', report.due - report.dueWritten);
    return report;
  }

  /** Evaluates every profile whose due time has come, bucket by bucket, until none is left or time is up. */
  private async processDue(set: SegmentSet, deadline: number): Promise<{ due: number; dueWritten: number; more: boolean }> {
    let due = 0;
    let dueWritten = 0;
    for (let bucket = 0; bucket < DueIndex.buckets; bucket++) {
      for (;;) {
        if (Date.now() >= deadline) return { due, dueWritten, more: true };
        const now = this.deps.now().getTime();
        const ids = await this.deps.profiles.dueProfiles(bucket, now, this.pageSize);
        if (ids.length === 0) break;
        let progressed = false;
        for (const id of ids) {
          const outcome = await this.evaluate(id, set, { mode: 'all' }, (state) => state.segments?.due !== undefined && state.segments.due <= now);
          if (outcome === 'skipped') continue;
          progressed = true;
          due++;
          if (outcome === 'written') dueWritten++;
        }
        // The index is eventually consistent: items it still lists may already be done.
        if (!progressed || ids.length < this.pageSize) break;
      }
    }
    return { due, dueWritten, more: false };
  }

  /**
   * Writes one profile through the profile writer with the given evaluation, retrying on
   * conflicts with fresh reads; `applies` decides from the current state whether it still should.
   */
  private async evaluate(
    profileId: string,
    set: SegmentSet,
    scope: EvaluationScope,
    applies: (state: ProfileState) => boolean,
    change: (state: ProfileState) => ProfileState = (state) => state,
  ): Promise<'written' | 'unchanged' | 'skipped'> {
    const writer = new ProfileWriter({ store: this.deps.profiles, telemetry: this.deps.telemetry, now: this.deps.now, derivations: [new SegmentMembership(set, this.deps.config, scope)] });
    for (let attempt = 1; ; attempt++) {
      const { stored } = await followRedirects(this.deps.profiles, profileId);
      if (!stored?.state || !applies(stored.state)) return 'skipped';
      try {
        const { written } = await writer.write({ profiles: [{ before: stored.state, expectedVersion: stored.version, pending: stored.outbox, after: change(stored.state) }] });
        return written.length > 0 ? 'written' : 'unchanged';
      } catch (error) {
        if (!(error instanceof ConcurrentUpdateError) || attempt >= MaxWriteAttempts) throw error;
        this.deps.telemetry.count('ProfileWriteConflicts');
      }
    }
  }

  /** Moves the backfill (and deletion) job on: start one, seed, evaluate, finish. */
  private async backfill(stored: readonly StoredSegment[], set: SegmentSet, deadline: number): Promise<{ profilesSeeded: number; profilesEvaluated: number; finished: string[]; more: boolean }> {
    const none = { profilesSeeded: 0, profilesEvaluated: 0, finished: [], more: false };
    let job = await this.deps.segments.job();
    const now = this.deps.now().getTime();
    if (!job) {
      const started = await this.startJob(stored, now);
      if (!started) return none;
      job = started;
    }
    let profilesSeeded = 0;
    if (job.phase === 'seeding') {
      const seeded = await this.seed(job, set, deadline);
      if (seeded.more) return { ...none, profilesSeeded: seeded.profiles, more: true };
      job = seeded.job;
      profilesSeeded = seeded.profiles;
    }
    if (now < (job.notBefore ?? 0)) return { ...none, profilesSeeded, more: true };
    return { ...(await this.evaluateAll(job, deadline)), profilesSeeded };
  }

  /** A job for every segment whose wait is over and every segment being deleted; undefined when there is none. */
  private async startJob(stored: readonly StoredSegment[], now: number): Promise<BackfillJob | undefined> {
    const ready = stored.filter((s) => s.status === 'backfilling' && s.backfill?.phase === 'waiting' && s.backfill.notBefore <= now);
    const removing = stored.filter((s) => s.status === 'deleting').map((s) => s.id);
    if (ready.length === 0 && removing.length === 0) return undefined;
    const job: Omit<BackfillJob, 'revision'> = {
      startedAt: now,
      segments: ready.map((s) => ({ id: s.id, version: s.version })),
      removing,
      phase: ready.length > 0 ? 'seeding' : 'evaluating',
      // Deletions wait until every function has seen them, so none records an entry after the scan passed it.
      notBefore: now + this.deps.timing.definitionsMaxAgeMs,
      profilesSeeded: 0,
      eventsSeeded: 0,
      profilesEvaluated: 0,
    };
    try {
      await this.deps.segments.saveJob(job, undefined);
    } catch (error) {
      if (error instanceof SegmentConflictError) return undefined;
      throw error;
    }
    for (const s of ready) await this.updateBackfill(s.id, s.version, { phase: 'seeding' });
    this.deps.logger.info('backfill started', { segments: job.segments.map((s) => s.id), removing });
    return (await this.deps.segments.job())!;
  }

  /** Seeds tracks from the lake, a page of the query's results at a time; then hands the job to evaluation. */
  private async seed(job: BackfillJob, set: SegmentSet, deadline: number): Promise<{ job: BackfillJob; profiles: number; more: boolean }> {
    const tracks = this.seedTracks(job, set);
    let current = job;
    // Segments without event conditions (traits, identifiers, computed traits) have nothing to read from the lake.
    if (tracks.length === 0) return { job: await this.seeded(current, {}), profiles: 0, more: false };
    if (!current.query) {
      const sql = seedSql(tracks, this.deps.now().getTime(), current.seededThrough);
      const id = await this.deps.lake.start(sql);
      current = await this.saveJob(current, { query: { id } });
    }
    let profiles = 0;
    for (;;) {
      if (Date.now() >= deadline) return { job: current, profiles, more: true };
      let page: LakeQueryPage;
      try {
        page = await this.deps.lake.page(current.query!.id, current.query!.token);
      } catch (error) {
        // Failed, or forgotten by the engine: start it again next run, from the last profile seeded.
        this.deps.telemetry.count('BackfillQueryFailures');
        this.deps.logger.error('a backfill query failed; it is started again on the next run', { error: error instanceof Error ? error.message : String(error) });
        current = await this.saveJob(current, { query: undefined });
        return { job: current, profiles, more: true };
      }
      if (page.state === 'running') return { job: current, profiles, more: true };
      const byProfile = new Map<string, Record<string, TrackEntry[]>>();
      let events = 0;
      for (const row of page.rows) {
        const profileId = String(row.profile_id);
        const key = String(row.track);
        const entry: TrackEntry = row.v === null || row.v === undefined ? [Date.parse(String(row.timestamp)), messageDigest(String(row.message_id))] : [Date.parse(String(row.timestamp)), messageDigest(String(row.message_id)), Number(row.v)];
        const seeds = byProfile.get(profileId) ?? {};
        (seeds[key] ??= []).push(entry);
        byProfile.set(profileId, seeds);
        events++;
      }
      for (const [profileId, seeds] of byProfile) await this.evaluate(profileId, set, { mode: 'changed' }, () => true, (state) => withTracks(state, seeds));
      profiles += byProfile.size;
      const last = [...byProfile.keys()].at(-1);
      // Rows come ordered by profile: one profile's rows may straddle two pages, and counts once.
      const continued = current.seededThrough !== undefined && byProfile.has(current.seededThrough) ? 1 : 0;
      const progress = { profilesSeeded: current.profilesSeeded + byProfile.size - continued, eventsSeeded: current.eventsSeeded + events };
      if (page.next === undefined) return { job: await this.seeded(current, progress), profiles, more: false };
      current = await this.saveJob(current, { ...progress, query: { id: current.query!.id, token: page.next }, ...(last === undefined ? {} : { seededThrough: last }) });
      for (const s of current.segments) await this.updateBackfill(s.id, s.version, progress);
    }
  }

  /** Seeded: live writes evaluate the segments from now on; the scan waits until every function knows. */
  private async seeded(job: BackfillJob, progress: { profilesSeeded?: number; eventsSeeded?: number }): Promise<BackfillJob> {
    const current = await this.saveJob(job, { ...progress, phase: 'evaluating', notBefore: this.deps.now().getTime() + this.deps.timing.definitionsMaxAgeMs, query: undefined });
    for (const s of current.segments) {
      await this.updateBackfill(s.id, s.version, { phase: 'evaluating', profilesSeeded: current.profilesSeeded, eventsSeeded: current.eventsSeeded });
    }
    return current;
  }

  /** Every track the job's segments read (and the segments they name), with how far back each is read. */
  private seedTracks(job: BackfillJob, set: SegmentSet): SeedTrack[] {
    const tracks = new Map<string, SeedTrack>();
    for (const { id } of job.segments) {
      for (const event of set.eventConditions(id)) tracks.set(event.key, { key: event.key, spec: event.track, horizon: set.horizon(event.key) ?? Number.POSITIVE_INFINITY });
    }
    return [...tracks.values()];
  }

  /** Evaluates every profile for the job's segments (recording entries and exits), then finishes the job. */
  private async evaluateAll(job: BackfillJob, deadline: number): Promise<{ profilesSeeded: number; profilesEvaluated: number; finished: string[]; more: boolean }> {
    // Read again: the job's segments are evaluated (past seeding) only in definitions read now.
    const set = new SegmentSet((await this.deps.segments.list()).map(definitionOf), this.deps.config);
    const scope: EvaluationScope = { mode: 'also', segments: new Set(job.segments.map((s) => s.id)) };
    let current = job;
    let evaluated = 0;
    for (;;) {
      if (Date.now() >= deadline) return { profilesSeeded: 0, profilesEvaluated: evaluated, finished: [], more: true };
      const page = await this.deps.profiles.scanProfiles(current.cursor, this.pageSize);
      for (const profile of page.profiles) {
        if (!profile.state || profile.redirect) continue;
        await this.evaluate(profile.id, set, scope, () => true);
        evaluated++;
      }
      const progress = { profilesEvaluated: current.profilesEvaluated + page.profiles.filter((p) => p.state && !p.redirect).length };
      if (page.cursor === undefined) {
        const finished = await this.finish(current);
        return { profilesSeeded: 0, profilesEvaluated: evaluated, finished, more: false };
      }
      current = await this.saveJob(current, { ...progress, cursor: page.cursor });
      for (const s of current.segments) await this.updateBackfill(s.id, s.version, progress);
    }
  }

  private async finish(job: BackfillJob): Promise<string[]> {
    const finished: string[] = [];
    for (const { id, version } of job.segments) {
      const segment = await this.deps.segments.get(id);
      // Changed again meanwhile: it waits for a backfill of its own.
      if (!segment || segment.version !== version || segment.status !== 'backfilling') continue;
      await this.ignoringConflicts(() => saveSegment(this.deps.segments, segment, { status: 'ready', updatedAt: this.deps.now().getTime() }, { withoutBackfill: true }));
      finished.push(id);
    }
    for (const id of job.removing ?? []) {
      const segment = await this.deps.segments.get(id);
      if (segment?.status !== 'deleting') continue;
      await this.ignoringConflicts(() => this.deps.segments.remove(id, segment.revision));
      finished.push(id);
    }
    await this.deps.segments.saveJob(undefined, job.revision);
    this.deps.logger.info('backfill finished', { segments: finished, profilesEvaluated: job.profilesEvaluated });
    return finished;
  }

  private async saveJob(job: BackfillJob, changes: Partial<Omit<BackfillJob, 'revision'>>): Promise<BackfillJob> {
    const { revision, ...rest } = job;
    const next = { ...rest, ...changes };
    if (changes.query === undefined && 'query' in changes) delete next.query;
    await this.deps.segments.saveJob(next, revision);
    return { ...next, revision: revision + 1 };
  }

  /** Shows a backfill's progress on its segment, if the segment is still at the job's version. */
  private async updateBackfill(id: string, version: number, changes: Partial<NonNullable<StoredSegment['backfill']>>): Promise<void> {
    const segment = await this.deps.segments.get(id);
    if (!segment?.backfill || segment.version !== version) return;
    await this.ignoringConflicts(() => saveSegment(this.deps.segments, segment, { backfill: { ...segment.backfill!, ...changes } }));
  }

  private async ignoringConflicts(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (!(error instanceof SegmentConflictError)) throw error;
    }
  }
}

/** A profile with seeded entries added to its tracks: the same events are kept once. */
function withTracks(state: ProfileState, seeds: Tracks): ProfileState {
  const segments = state.segments ?? { members: {}, tracks: {} };
  return { ...state, segments: { ...segments, tracks: unionTracks(segments.tracks, seeds) } };
}
