import { SegmentConflictError, type BackfillJob, type SegmentFields, type SegmentStore, type StoredSegment } from '../../ports/segment-store.js';

/** Segment definitions in memory, with the DynamoDB store's conditions, for unit tests. */
export class InMemorySegmentStore implements SegmentStore {
  private readonly segments = new Map<string, StoredSegment>();
  private current: BackfillJob | undefined;

  async list(): Promise<StoredSegment[]> {
    return [...this.segments.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).map((s) => structuredClone(s));
  }

  async get(id: string): Promise<StoredSegment | undefined> {
    const segment = this.segments.get(id);
    return segment && structuredClone(segment);
  }

  async save(segment: SegmentFields, expectedRevision: number | undefined, memberCount?: number): Promise<void> {
    const stored = this.segments.get(segment.id);
    if (stored?.revision !== expectedRevision) throw new SegmentConflictError(`segment ${segment.id} changed since it was read`);
    this.segments.set(segment.id, structuredClone({ ...segment, revision: (expectedRevision ?? 0) + 1, memberCount: memberCount ?? stored?.memberCount ?? 0 }));
  }

  async remove(id: string, expectedRevision: number): Promise<void> {
    if (this.segments.get(id)?.revision !== expectedRevision) throw new SegmentConflictError(`segment ${id} changed since it was read`);
    this.segments.delete(id);
  }

  async adjustMemberCounts(deltas: ReadonlyMap<string, number>): Promise<void> {
    for (const [id, delta] of deltas) {
      const stored = this.segments.get(id);
      if (stored) this.segments.set(id, { ...stored, memberCount: stored.memberCount + delta });
    }
  }

  async job(): Promise<BackfillJob | undefined> {
    return this.current && structuredClone(this.current);
  }

  async saveJob(job: Omit<BackfillJob, 'revision'> | undefined, expectedRevision: number | undefined): Promise<void> {
    if (this.current?.revision !== expectedRevision) throw new SegmentConflictError('the backfill job changed since it was read');
    this.current = job && structuredClone({ ...job, revision: (expectedRevision ?? 0) + 1 });
  }
}
