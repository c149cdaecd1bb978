import type { BackfillPhase, SegmentStatus } from '../domain/segments/segment-set.js';

/** How far a segment's backfill has come (docs/segments.md, "Backfill"). */
export interface BackfillProgress {
  readonly phase: BackfillPhase;
  /** When the current phase may start its work (epoch ms). */
  readonly notBefore: number;
  /** When the definition this backfill evaluates was stored. */
  readonly requestedAt: number;
  /** Tracks seeded from the lake: events added to profiles' tracks. */
  readonly eventsSeeded: number;
  /** Profiles seeded so far. */
  readonly profilesSeeded: number;
  /** Profiles evaluated so far. */
  readonly profilesEvaluated: number;
}

/** A segment as stored: its definition, its lifecycle, and its backfill. */
export interface StoredSegment {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  /** The condition exactly as it was PUT. */
  readonly condition: unknown;
  /** Moves on with every change of the condition (not of the name or description). */
  readonly version: number;
  readonly status: SegmentStatus;
  readonly backfill?: BackfillProgress;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Moves on with every write: what conditional updates check. */
  readonly revision: number;
  /** Members, as counted from recorded entries and exits (adjustMemberCounts). */
  readonly memberCount: number;
}

export type SegmentFields = Omit<StoredSegment, 'revision' | 'memberCount'>;

/** The backfill under way: which segments at which versions, and where it stands (use-cases/segmenter.ts). */
export interface BackfillJob {
  readonly startedAt: number;
  /** Segments being backfilled, at the version the job evaluates. */
  readonly segments: ReadonlyArray<{ readonly id: string; readonly version: number }>;
  /** Segments being deleted: the scan records their members' exits, then they are removed. */
  readonly removing?: readonly string[];
  readonly phase: 'seeding' | 'evaluating';
  /** Evaluating starts no earlier: once every function evaluates the segments on its own writes. */
  readonly notBefore?: number;
  /** Seeding: the lake query under way, and the last profile id whose seeds were applied. */
  readonly query?: { readonly id: string; readonly token?: string };
  readonly seededThrough?: string;
  /** Evaluating: where the scan of the profiles table stands. */
  readonly cursor?: string;
  readonly profilesSeeded: number;
  readonly eventsSeeded: number;
  readonly profilesEvaluated: number;
  readonly revision: number;
}

/** Another writer changed the segment (or job) since it was read. */
export class SegmentConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SegmentConflictError';
  }
}

/**
 * Segment definitions and the backfill job: written by the segment API and the segmentation
 * function, read by every function that writes profiles. Conditional on revisions.
 */
export interface SegmentStore {
  list(): Promise<StoredSegment[]>;
  get(id: string): Promise<StoredSegment | undefined>;
  /**
   * Writes a segment if its stored revision is `expectedRevision` (undefined: only if there is
   * none), leaving its member count alone unless `memberCount` is given.
   */
  save(segment: SegmentFields, expectedRevision: number | undefined, memberCount?: number): Promise<void>;
  remove(id: string, expectedRevision: number): Promise<void>;
  /** Adds to member counts (negative for exits); segments that no longer exist are skipped. */
  adjustMemberCounts(deltas: ReadonlyMap<string, number>): Promise<void>;
  job(): Promise<BackfillJob | undefined>;
  /** Writes the job if its revision is `expectedRevision` (undefined: only if there is none); undefined `job` removes it. */
  saveJob(job: Omit<BackfillJob, 'revision'> | undefined, expectedRevision: number | undefined): Promise<void>;
}
