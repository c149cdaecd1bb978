import { describe, expect, it } from 'vitest';
import { IdentityGraph, type HistoryEntry, type MergeReason } from '../../lambdas/domain/identity-graph.js';
import { defaultProfileConfig } from '../../lambdas/domain/profile-config.js';
import { emptyProfile, type ProfileState } from '../../lambdas/domain/profile.js';
import { dueBucket, outboxBucket, type OutboundChange } from '../../lambdas/domain/profile-write.js';
import { DueIndex, OutboxIndex } from '../../lambdas/contracts.js';
import { ConcurrentUpdateError, type ProfileStore } from '../../lambdas/ports/profile-store.js';
import { collected } from '../helpers/events.js';

const NOW = Date.parse('2026-11-20T00:00:00Z');

/** A realistic profile: identifiers, traits, counters and dedupe memory, built by the real graph. */
function person(userId: string): ProfileState {
  const graph = new IdentityGraph(defaultProfileConfig, NOW);
  graph.apply(collected({ type: 'identify', userId, anonymousId: `${userId}-device`, traits: { email: `${userId}@example.com`, plan: 'pro' } }));
  graph.apply(collected({ userId, event: 'Order Completed', properties: { revenue: 12.5 } }));
  return graph.liveProfiles()[0]!;
}

const reason = (id: string): MergeReason => ({ rule: 'identify', messageId: `m-${id}`, eventType: 'identify', at: NOW, identifier: { type: 'user_id', value: id } });
const change = (profileId: string, n: number): OutboundChange => ({ id: `${profileId}-c${n}`, kind: 'Test Change', profileId, at: NOW + n, detail: { n } });

/**
 * The behaviour every ProfileStore must have, run against each implementation: the DynamoDB one
 * on dynalite and the in-memory one, so tests that use the in-memory store test the real thing.
 * `store()` gives a store over an empty table.
 */
export function profileStoreContract(name: string, store: () => Promise<ProfileStore>): void {
  describe(`ProfileStore contract: ${name}`, () => {
    it('creates a profile only where none is, and replaces it only at the version read', async () => {
      const s = await store();
      const ana = person('ana');
      await s.putProfile({ state: ana, expectedVersion: undefined, outbox: [] });
      await expect(s.putProfile({ state: ana, expectedVersion: undefined, outbox: [] })).rejects.toBeInstanceOf(ConcurrentUpdateError);
      const [stored] = await s.profiles([ana.id]);
      expect(stored).toMatchObject({ id: ana.id, version: 1, outbox: [] });
      expect(stored!.state).toEqual(ana);
      const renamed = { ...ana, traits: { ...ana.traits, plan: { value: 'free', at: NOW } } };
      await s.putProfile({ state: renamed, expectedVersion: 1, outbox: [] });
      await expect(s.putProfile({ state: ana, expectedVersion: 1, outbox: [] })).rejects.toBeInstanceOf(ConcurrentUpdateError);
      const [after] = await s.profiles([ana.id]);
      expect(after).toMatchObject({ version: 2, state: { traits: { plan: { value: 'free' } } } });
    });

    it('keeps a profile that has seen no event exactly, infinite first and last seen included', async () => {
      const s = await store();
      const empty = emptyProfile('empty-1', NOW);
      await s.putProfile({ state: empty, expectedVersion: undefined, outbox: [] });
      expect((await s.profiles([empty.id, empty.id, 'nobody']))).toEqual([{ id: empty.id, version: 1, outbox: [], state: empty }]);
    });

    it('claims an identifier once; the owner may claim again, another profile may not', async () => {
      const s = await store();
      const id = { type: 'email', value: 'ana@example.com' };
      await s.claim(id, 'p-ana');
      await s.claim(id, 'p-ana');
      await expect(s.claim(id, 'p-bob')).rejects.toBeInstanceOf(ConcurrentUpdateError);
      expect(await s.owners([id, { type: 'email', value: 'nobody@example.com' }])).toEqual(new Map([['email:ana@example.com', 'p-ana']]));
    });

    it('repoints an identifier only away from one of the owners named, and says whether it moved', async () => {
      const s = await store();
      const id = { type: 'anonymous_id', value: 'device-1' };
      await s.claim(id, 'p-old');
      expect(await s.repoint(id, ['p-elsewhere'], 'p-new')).toBe(false);
      expect(await s.repoint(id, [], 'p-new')).toBe(false);
      expect(await s.repoint(id, ['p-survivor', 'p-absorbed', 'p-old'], 'p-new')).toBe(true);
      expect((await s.owners([id])).get('anonymous_id:device-1')).toBe('p-new');
      expect(await s.repoint(id, ['p-old'], 'p-newer')).toBe(false);
      expect(await s.repoint({ type: 'anonymous_id', value: 'unowned' }, ['p-old'], 'p-new')).toBe(false);
    });

    it('freezes a merged-away profile at its version, keeping its state until released', async () => {
      const s = await store();
      const loser = person('loser');
      await s.putProfile({ state: loser, expectedVersion: undefined, outbox: [] });
      await expect(s.freeze(loser.id, 'survivor', reason('x'), 7)).rejects.toBeInstanceOf(ConcurrentUpdateError);
      await s.freeze(loser.id, 'survivor', reason('x'), 1);
      await expect(s.freeze(loser.id, 'other', reason('y'), 2)).rejects.toBeInstanceOf(ConcurrentUpdateError);
      expect(await s.profiles([loser.id])).toEqual([{ id: loser.id, version: 2, outbox: [], state: loser, redirect: { to: 'survivor', reason: reason('x') } }]);
      await s.release(loser.id);
      await s.release(loser.id);
      expect(await s.profiles([loser.id])).toEqual([{ id: loser.id, version: 3, outbox: [], redirect: { to: 'survivor', reason: reason('x') } }]);
      // Releasing a live profile does nothing.
      const live = person('live');
      await s.putProfile({ state: live, expectedVersion: undefined, outbox: [] });
      await s.release(live.id);
      expect((await s.profiles([live.id]))[0]).toMatchObject({ version: 1, state: live });
    });

    it('leaves a redirect only where no profile was ever written', async () => {
      const s = await store();
      await s.redirect('orphan', 'survivor', reason('o'));
      await expect(s.redirect('orphan', 'other', reason('o'))).rejects.toBeInstanceOf(ConcurrentUpdateError);
      expect(await s.profiles(['orphan'])).toEqual([{ id: 'orphan', version: 1, outbox: [], redirect: { to: 'survivor', reason: reason('o') } }]);
    });

    it('records history once per entry, in time order, per profile', async () => {
      const s = await store();
      const early: HistoryEntry = { kind: 'split', profileId: 'p-h', into: 'p-split', identifier: { type: 'email', value: 'a@b.c' }, at: NOW - 1000 };
      const late: HistoryEntry = { kind: 'merge', profileId: 'p-h', absorbed: 'p-gone', absorbedIdentifiers: [{ type: 'anonymous_id', value: 'd' }], reason: reason('h') };
      const elsewhere: HistoryEntry = { kind: 'link_dropped', profileId: 'p-other', identifier: { type: 'user_id', value: 'u' }, reason: 'limit:user_id', messageId: 'm-1', at: NOW };
      await s.appendHistory([late, early, elsewhere]);
      await s.appendHistory([late]);
      expect(await s.history(['p-h'])).toEqual([early, late]);
      expect(await s.history(['p-h', 'p-other', 'p-h'])).toEqual([early, late, elsewhere]);
    });

    it('erases a person: their profiles, merged away too, their history and outbox, and only the owners naming them', async () => {
      const s = await store();
      const ana = person('ana');
      const gone = person('ana-old');
      const bob = person('bob');
      for (const p of [ana, gone, bob]) await s.putProfile({ state: p, expectedVersion: undefined, outbox: p === ana ? [change(ana.id, 1)] : [] });
      await s.freeze(gone.id, ana.id, reason('m'), 1);
      const shared = { type: 'anonymous_id', value: 'kiosk' };
      for (const id of ana.identifiers) await s.claim(id, ana.id);
      for (const id of bob.identifiers) await s.claim(id, bob.id);
      await s.claim(shared, bob.id);
      await s.appendHistory([{ kind: 'merge', profileId: ana.id, absorbed: gone.id, absorbedIdentifiers: [], reason: reason('m') }]);
      await s.appendHistory([{ kind: 'merge', profileId: bob.id, absorbed: 'x', absorbedIdentifiers: [], reason: reason('b') }]);

      const erased = await s.erase([ana.id, gone.id], [...ana.identifiers, shared]);
      expect(erased).toEqual({ profiles: 2, identifiers: ana.identifiers.length, history: 1 });
      expect(await s.profiles([ana.id, gone.id])).toEqual([]);
      expect(await s.owners(ana.identifiers)).toEqual(new Map());
      expect(await s.history([ana.id])).toEqual([]);
      expect((await s.pendingOutbound(outboxBucket(ana.id))).map((p) => p.profileId)).not.toContain(ana.id);
      // Another person's items, and an identifier of theirs named by mistake, are untouched.
      expect((await s.owners([shared])).get('anonymous_id:kiosk')).toBe(bob.id);
      expect(await s.profiles([bob.id])).toHaveLength(1);
      expect(await s.history([bob.id])).toHaveLength(1);
      expect(await s.erase([ana.id, gone.id], ana.identifiers)).toEqual({ profiles: 0, identifiers: 0, history: 0 });
    });

    it('stores the outbox in the profile write and lists it in its bucket of the feed until acknowledged', async () => {
      const s = await store();
      const ana = person('outbox-ana');
      const pending = [change(ana.id, 1), change(ana.id, 2), change(ana.id, 3)];
      await s.putProfile({ state: ana, expectedVersion: undefined, outbox: pending });
      expect((await s.profiles([ana.id]))[0]!.outbox).toEqual(pending);
      const bucket = outboxBucket(ana.id);
      // With the profile as it is now: what the events about it carry.
      expect(await s.pendingOutbound(bucket)).toEqual([{ profileId: ana.id, changes: pending, profile: { identifiers: ana.identifiers, traits: ana.traits } }]);
      for (let other = 0; other < OutboxIndex.buckets; other++) {
        if (other !== bucket) expect((await s.pendingOutbound(other)).map((p) => p.profileId)).not.toContain(ana.id);
      }

      // Acknowledging moves the version on, so a writer that read the old outbox must re-plan.
      expect(await s.acknowledgeOutbound(ana.id, [pending[0]!.id, 'never-recorded'])).toBe(1);
      await expect(s.putProfile({ state: ana, expectedVersion: 1, outbox: pending })).rejects.toBeInstanceOf(ConcurrentUpdateError);
      expect(await s.profiles([ana.id])).toMatchObject([{ version: 2, outbox: pending.slice(1) }]);
      expect(await s.acknowledgeOutbound(ana.id, ['never-recorded'])).toBe(0);
      expect(await s.acknowledgeOutbound(ana.id, pending.slice(1).map((c) => c.id))).toBe(2);
      expect(await s.profiles([ana.id])).toMatchObject([{ version: 3, outbox: [] }]);
      expect((await s.pendingOutbound(bucket)).map((p) => p.profileId)).not.toContain(ana.id);
      expect(await s.acknowledgeOutbound('nobody', ['x'])).toBe(0);
    });

    it('a write with an empty outbox takes the profile out of the feed; the feed pages by limit', async () => {
      const s = await store();
      const bucket = outboxBucket('feed-0');
      const inBucket = Array.from({ length: 40 }, (_, i) => `feed-${i}`).filter((id) => outboxBucket(id) === bucket);
      for (const id of inBucket) await s.putProfile({ state: emptyProfile(id, NOW), expectedVersion: undefined, outbox: [change(id, 1)] });
      expect((await s.pendingOutbound(bucket, 2)).length).toBe(Math.min(2, inBucket.length));
      expect((await s.pendingOutbound(bucket)).map((p) => p.profileId).sort()).toEqual([...inBucket].sort());
      await s.putProfile({ state: emptyProfile('feed-0', NOW), expectedVersion: 1, outbox: [] });
      expect((await s.pendingOutbound(bucket)).map((p) => p.profileId)).not.toContain('feed-0');
    });

    it('lists a profile in the due feed from its due time on, until a write clears it or it is merged away', async () => {
      const s = await store();
      const due = (id: string, at?: number): ProfileState => ({ ...emptyProfile(id, NOW), segments: { members: {}, tracks: {}, ...(at === undefined ? {} : { due: at }) } });
      await s.putProfile({ state: due('due-a', NOW + 1000), expectedVersion: undefined, outbox: [] });
      await s.putProfile({ state: due('due-b', NOW + 5000), expectedVersion: undefined, outbox: [] });
      await s.putProfile({ state: due('due-c'), expectedVersion: undefined, outbox: [] });
      const listed = async (until: number): Promise<string[]> => {
        const ids: string[] = [];
        for (let b = 0; b < DueIndex.buckets; b++) ids.push(...(await s.dueProfiles(b, until)));
        return ids.sort();
      };
      expect(await listed(NOW)).toEqual([]);
      expect(await listed(NOW + 1000)).toEqual(['due-a']);
      expect(await listed(NOW + 60_000)).toEqual(['due-a', 'due-b']);
      expect(await s.dueProfiles(dueBucket('due-a'), NOW + 60_000)).toContain('due-a');
      await s.putProfile({ state: due('due-a'), expectedVersion: 1, outbox: [] });
      await s.freeze('due-b', 'due-c', reason('b'), 1);
      expect(await listed(NOW + 60_000)).toEqual([]);
    });

    it('pages through every profile item, live and merged away, with a cursor', async () => {
      const s = await store();
      const ids = Array.from({ length: 7 }, (_, i) => `scan-${i}`);
      for (const id of ids) await s.putProfile({ state: emptyProfile(id, NOW), expectedVersion: undefined, outbox: [] });
      await s.freeze('scan-3', 'scan-4', reason('s'), 1);
      await s.claim({ type: 'email', value: 'scan@example.com' }, 'scan-0');
      await s.appendHistory([{ kind: 'split', profileId: 'scan-0', into: 'scan-9', identifier: { type: 'email', value: 'x@y.z' }, at: NOW }]);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await s.scanProfiles(cursor, 3);
        seen.push(...page.profiles.map((p) => p.id));
        cursor = page.cursor;
        pages++;
      } while (cursor !== undefined && pages < 20);
      expect(seen.sort()).toEqual(ids);
      expect(pages).toBeGreaterThan(1);
    });
  });
}
