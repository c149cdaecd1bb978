import { describe, expect, it } from 'vitest';
import { SegmentConflictError, type BackfillJob, type SegmentFields, type SegmentStore } from '../../lambdas/ports/segment-store.js';

const NOW = Date.parse('2026-11-20T00:00:00Z');

const segment = (id: string, changes: Partial<SegmentFields> = {}): SegmentFields => ({
  id,
  name: `Segment ${id}`,
  condition: { trait: 'plan', op: 'eq', value: 'pro' },
  version: 1,
  status: 'backfilling',
  backfill: { phase: 'waiting', requestedAt: NOW, notBefore: NOW + 1000, eventsSeeded: 0, profilesSeeded: 0, profilesEvaluated: 0 },
  createdAt: NOW,
  updatedAt: NOW,
  ...changes,
});

const job = (changes: Partial<Omit<BackfillJob, 'revision'>> = {}): Omit<BackfillJob, 'revision'> => ({
  startedAt: NOW,
  segments: [{ id: 'vip', version: 1 }],
  phase: 'seeding',
  profilesSeeded: 0,
  eventsSeeded: 0,
  profilesEvaluated: 0,
  ...changes,
});

/**
 * The behaviour every SegmentStore must have, run against the DynamoDB one on dynalite and the
 * in-memory one. `store()` gives a store over an empty table.
 */
export function segmentStoreContract(name: string, store: () => Promise<SegmentStore>): void {
  describe(`SegmentStore contract: ${name}`, () => {
    it('creates a segment only where none is, and changes it only at the revision read', async () => {
      const s = await store();
      await s.save(segment('vip'), undefined, 0);
      await expect(s.save(segment('vip'), undefined, 0)).rejects.toBeInstanceOf(SegmentConflictError);
      const stored = await s.get('vip');
      expect(stored).toEqual({ ...segment('vip'), revision: 1, memberCount: 0 });
      await s.save(segment('vip', { name: 'Very important', version: 2 }), 1);
      await expect(s.save(segment('vip', { name: 'Lost update' }), 1)).rejects.toBeInstanceOf(SegmentConflictError);
      expect(await s.get('vip')).toMatchObject({ name: 'Very important', version: 2, revision: 2 });
      expect(await s.get('nobody')).toBeUndefined();
    });

    it('lists every segment by id, and nothing else the table holds', async () => {
      const s = await store();
      for (const id of ['b', 'a', 'c-1']) await s.save(segment(id, { condition: { identifier: 'email' } }), undefined, 0);
      await s.saveJob(job(), undefined);
      expect((await s.list()).map((x) => x.id)).toEqual(['a', 'b', 'c-1']);
      expect((await s.list())[0]!.condition).toEqual({ identifier: 'email' });
    });

    it('keeps member counts through saves, adds deltas (negative too) and skips segments that are gone', async () => {
      const s = await store();
      await s.save(segment('vip'), undefined, 0);
      await s.adjustMemberCounts(new Map([['vip', 3], ['gone', 5]]));
      await s.adjustMemberCounts(new Map([['vip', -1]]));
      const stored = await s.get('vip');
      expect(stored!.memberCount).toBe(2);
      const { revision, memberCount: _count, ...fields } = stored!;
      await s.save({ ...fields, status: 'ready' }, revision);
      expect(await s.get('vip')).toMatchObject({ status: 'ready', memberCount: 2 });
      expect(await s.get('gone')).toBeUndefined();
    });

    it('removes a segment only at the revision read', async () => {
      const s = await store();
      await s.save(segment('vip'), undefined, 0);
      await expect(s.remove('vip', 7)).rejects.toBeInstanceOf(SegmentConflictError);
      await s.remove('vip', 1);
      expect(await s.get('vip')).toBeUndefined();
      expect(await s.list()).toEqual([]);
    });

    it('keeps one backfill job, written only at the revision read, and removes it the same way', async () => {
      const s = await store();
      expect(await s.job()).toBeUndefined();
      await s.saveJob(undefined, undefined);
      await s.saveJob(job(), undefined);
      await expect(s.saveJob(job({ removing: ['x'] }), undefined)).rejects.toBeInstanceOf(SegmentConflictError);
      expect(await s.job()).toEqual({ ...job(), revision: 1 });
      await s.saveJob(job({ phase: 'evaluating', cursor: 'abc', query: { id: 'q1', token: 't' } }), 1);
      await expect(s.saveJob(job({ phase: 'seeding' }), 1)).rejects.toBeInstanceOf(SegmentConflictError);
      expect(await s.job()).toMatchObject({ phase: 'evaluating', cursor: 'abc', query: { id: 'q1', token: 't' }, revision: 2 });
      await expect(s.saveJob(undefined, 1)).rejects.toBeInstanceOf(SegmentConflictError);
      await s.saveJob(undefined, 2);
      expect(await s.job()).toBeUndefined();
    });
  });
}
