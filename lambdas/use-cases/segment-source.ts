import type { ProfileConfig } from '../domain/profile-config.js';
import { SegmentSet, type SegmentDefinition } from '../domain/segments/segment-set.js';
import type { AppLogger } from '../ports/logger.js';
import type { SegmentFields, SegmentStore, StoredSegment } from '../ports/segment-store.js';

/** The segments every profile write evaluates, as of a moment no older than the source's freshness. */
export interface SegmentSource {
  current(): Promise<SegmentSet>;
}

export const definitionOf = (s: StoredSegment): SegmentDefinition => ({
  id: s.id,
  version: s.version,
  status: s.status,
  ...(s.backfill ? { phase: s.backfill.phase } : {}),
  condition: s.condition,
});

/**
 * Writes a segment read from the store back with `changes`, conditional on the revision it was
 * read at (a SegmentConflictError otherwise); `withoutBackfill` drops its backfill progress.
 */
export function saveSegment(store: SegmentStore, segment: StoredSegment, changes: Partial<SegmentFields>, options: { readonly withoutBackfill?: boolean } = {}): Promise<void> {
  const { revision, memberCount: _count, ...fields } = segment;
  const next: SegmentFields = { ...fields, ...changes };
  if (options.withoutBackfill) delete (next as { backfill?: unknown }).backfill;
  return store.save(next, revision);
}

/**
 * Segment definitions read from their store at most once per `maxAgeMs` per function instance:
 * the bound on how long a change takes to reach every function (docs/segments.md), which the
 * backfill waits out before it relies on every writer keeping a new segment's tracks. A failed
 * read fails the caller rather than serving older definitions: a stale set could miss that bound.
 */
export class CachedSegmentSource implements SegmentSource {
  private cached: { set: SegmentSet; at: number } | undefined;
  private loading: Promise<SegmentSet> | undefined;
  private readonly reported = new Set<string>();

  constructor(
    private readonly store: SegmentStore,
    private readonly config: ProfileConfig,
    private readonly options: { readonly maxAgeMs: number; readonly now?: () => number; readonly logger?: AppLogger },
  ) {}

  async current(): Promise<SegmentSet> {
    const now = this.options.now?.() ?? Date.now();
    if (this.cached && now - this.cached.at < this.options.maxAgeMs) return this.cached.set;
    this.loading ??= this.load(now).finally(() => (this.loading = undefined));
    return this.loading;
  }

  /** Forgets what was read, so the next call reads again (after this function changed a segment). */
  invalidate(): void {
    this.cached = undefined;
  }

  private async load(now: number): Promise<SegmentSet> {
    const set = new SegmentSet((await this.store.list()).map(definitionOf), this.config);
    for (const problem of set.problems) {
      const key = `${problem.id}|${JSON.stringify(problem.issues)}`;
      if (this.reported.has(key)) continue;
      this.reported.add(key);
      this.options.logger?.error('a stored segment no longer compiles under the profile rules and is not evaluated', { segmentId: problem.id, issues: problem.issues });
    }
    this.cached = { set, at: now };
    return set;
  }
}

/** A fixed set of segments (tests, one-off tools). */
export class StaticSegmentSource implements SegmentSource {
  constructor(private readonly set: SegmentSet) {}

  async current(): Promise<SegmentSet> {
    return this.set;
  }
}
