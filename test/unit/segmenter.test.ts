import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CountingTelemetry } from '../../lambdas/adapters/local/counting-telemetry.js';
import { InMemoryObjectStore } from '../../lambdas/adapters/memory/in-memory-object-store.js';
import { InMemoryProfileStore } from '../../lambdas/adapters/memory/in-memory-profile-store.js';
import { InMemorySegmentStore } from '../../lambdas/adapters/memory/in-memory-segment-store.js';
import { noTelemetry, silentLogger } from '../../lambdas/adapters/silent-observability.js';
import { LakeLayout, OutboxIndex } from '../../lambdas/contracts.js';
import type { CollectedEvent } from '../../lambdas/domain/intake.js';
import { defaultProfileConfig as config } from '../../lambdas/domain/profile-config.js';
import type { ProfileState } from '../../lambdas/domain/profile.js';
import type { LakeQueryJobs } from '../../lambdas/ports/lake-query.js';
import { resolveEvents, type ResolveDependencies } from '../../lambdas/use-cases/resolve.js';
import { CachedSegmentSource } from '../../lambdas/use-cases/segment-source.js';
import { Segmenter } from '../../lambdas/use-cases/segmenter.js';
import { Publisher } from '../../lambdas/use-cases/publisher.js';
import { InMemoryDestinationStore } from '../../lambdas/adapters/memory/in-memory-destination-store.js';
import { InMemoryEventBus } from '../../lambdas/adapters/memory/in-memory-event-bus.js';
import { SegmentService, type BackfillTiming } from '../../lambdas/use-cases/segments.js';
import { DuckDbLakeQuery } from '../../local/duckdb-lake-query.js';
import { collected } from '../helpers/events.js';
import { writeLocalLake } from '../helpers/segment-fixtures.js';

const START = Date.parse('2026-11-20T12:00:00Z');
const DAY = 86_400_000;
const timing: BackfillTiming = { definitionsMaxAgeMs: 1_000, archiverLagMs: 2_000 };

/** One CDP's stores in memory, the lake on disk for DuckDB, and a clock the test moves. */
function world() {
  let clock = START;
  const now = () => new Date(clock);
  const profiles = new InMemoryProfileStore();
  const segments = new InMemorySegmentStore();
  const lakeObjects = new InMemoryObjectStore();
  const lakeDir = mkdtempSync(join(tmpdir(), 'cdp-segmenter-'));
  const lake = new DuckDbLakeQuery({ s3Directory: lakeDir, bucket: 'lake' });
  const telemetry = new CountingTelemetry();
  const source = new CachedSegmentSource(segments, config, { maxAgeMs: 0 });
  const resolve: ResolveDependencies = { store: profiles, config, telemetry: noTelemetry, logger: silentLogger, now, segments: source };
  const service = new SegmentService({ store: segments, lake, config, timing, logger: silentLogger, now });
  const segmenter = (jobs: LakeQueryJobs = lake, pageSize = 100) =>
    new Segmenter({ profiles, segments, lake: jobs, lakeObjects, config, timing, telemetry, logger: silentLogger, now, pageSize });
  const deps = { profiles, segments, lake, lakeObjects, config, timing, telemetry, logger: silentLogger, now };
  // The outbox's consumer: membership changes reach the lake and the member counts through it.
  const publisher = (pageSize = 100) =>
    new Publisher({ profiles, segments, destinations: new InMemoryDestinationStore(), bus: new InMemoryEventBus(), lakeObjects, telemetry, logger: silentLogger, now, pageSize, definitionsMaxAgeMs: 0 });
  return {
    profiles, segments, lakeObjects, lakeDir, lake, telemetry, service, resolve, segmenter, publisher, deps,
    advance: (ms: number) => (clock += ms),
    now: () => clock,
    /** Events already in the lake (as the archiver wrote them), for profiles as they stand. */
    archive: async (events: readonly CollectedEvent[], name?: string) => {
      const live = (await profiles.scanProfiles(undefined, 1000)).profiles.filter((p) => p.state && !p.redirect).map((p) => p.state!);
      writeLocalLake(lakeDir, 'lake', { events, profiles: live, config, recordedAt: new Date(clock).toISOString(), ...(name ? { name } : {}) });
    },
    /** Runs the segmentation function until it reports nothing left, as its schedule would. */
    settle: async (jobs: LakeQueryJobs = lake, pageSize = 100) => {
      for (let run = 0; run < 50; run++) {
        const report = await segmenter(jobs, pageSize).run(Date.now() + 10_000);
        await publisher(pageSize).run(Date.now() + 10_000);
        const undelivered = (await Promise.all(Array.from({ length: OutboxIndex.buckets }, (_, b) => profiles.pendingOutbound(b)))).flat();
        if (!report.more && undelivered.length === 0 && (await segments.job()) === undefined && (await segments.list()).every((s) => s.status === 'ready')) return run + 1;
        clock += 1_000;
      }
      throw new Error('the segmenter did not settle in 50 runs');
    },
    members: async (segmentId: string): Promise<string[]> => {
      const all = (await profiles.scanProfiles(undefined, 1000)).profiles.filter((p) => p.state && !p.redirect);
      return all.filter((p) => p.state!.segments?.members[segmentId] !== undefined).map((p) => userOf(p.state!)).sort();
    },
    /** Membership changes recorded in the lake's segment-changes/ objects. */
    changes: async (): Promise<Array<{ kind: string; segment_id: string; profile_id: string; change_id: string }>> => {
      const keys = [...lakeObjects.objects.keys()].filter((k) => k.startsWith(LakeLayout.segmentChangesPrefix));
      const rows = [];
      for (const key of keys) {
        const text = gunzipSync(lakeObjects.objects.get(key)!).toString('utf8');
        rows.push(...text.trim().split('\n').map((line) => JSON.parse(line) as { kind: string; segment_id: string; profile_id: string; change_id: string }));
      }
      return rows;
    },
  };
}

const userOf = (state: ProfileState): string => state.identifiers.find((i) => i.type === 'user_id')?.value ?? state.id;
const order = (userId: string, daysAgo: number, clock: number, revenue = 10): CollectedEvent =>
  collected({ userId, event: 'Order Completed', properties: { revenue }, at: new Date(clock - daysAgo * DAY).toISOString() });

afterEach(() => vi.restoreAllMocks());

describe('the segmentation function', () => {
  it('records a time-only exit when its due time comes, in the profile, the lake and the member count', async () => {
    const w = world();
    await w.service.put('browsing', { name: 'Browsing now', condition: { event: 'Product Viewed', within: 'PT20S' } });
    await w.settle();
    await resolveEvents([collected({ userId: 'ana', event: 'Product Viewed', at: new Date(w.now()).toISOString() })], w.resolve);
    expect(await w.members('browsing')).toEqual(['ana']);
    const [ana] = (await w.profiles.scanProfiles()).profiles;
    expect(ana!.state!.segments!.due).toBe(w.now() + 20_000);

    // Not due yet: nothing changes.
    w.advance(19_000);
    expect((await w.segmenter().run(Date.now() + 5_000)).due).toBe(0);
    expect(await w.members('browsing')).toEqual(['ana']);
    w.advance(1_000);
    const report = await w.segmenter().run(Date.now() + 5_000);
    expect(report).toMatchObject({ due: 1, dueWritten: 1 });
    expect(await w.members('browsing')).toEqual([]);
    const [after] = (await w.profiles.scanProfiles()).profiles;
    expect(after!.state!.segments?.due).toBeUndefined();
    // The entry (written by the resolver) and the exit both reach the lake through the publisher, once each, and the outbox is empty.
    await w.publisher().run(Date.now() + 5_000);
    expect((await w.changes()).map((c) => c.kind).sort()).toEqual(['entered', 'exited']);
    const [published] = (await w.profiles.scanProfiles()).profiles;
    expect(published!.outbox.length + (await w.profiles.pendingOutbound(0)).length).toBe(0);
    expect((await w.segments.get('browsing'))!.memberCount).toBe(0);
  });

  it('backfills a segment created after the events from the lake, resumably, a page at a time across runs', async () => {
    const w = world();
    const events = [
      order('ana', 1, w.now()), order('ana', 2, w.now()), order('ana', 3, w.now()),
      order('bob', 1, w.now()),
      order('cy', 1, w.now()), order('cy', 40, w.now()),
      order('dee', 5, w.now()), order('dee', 29, w.now()),
      collected({ userId: 'eve', event: 'Product Viewed', at: new Date(w.now() - DAY).toISOString() }),
    ];
    await resolveEvents(events, w.resolve);
    await w.archive(events);
    const put = await w.service.put('repeat', { name: 'Two or more orders in 30 days', condition: { event: 'Order Completed', within: 'P30D', count: { op: 'gte', value: 2 } } });
    expect(put.segment.backfill!.notBefore).toBe(new Date(w.now() + 3_000).toISOString());

    // Before the wait is over, nothing is read.
    await w.segmenter().run(Date.now() + 5_000);
    expect((await w.segments.get('repeat'))!.backfill!.phase).toBe('waiting');
    w.advance(3_000);

    // Pages of 2 rows, and runs cut short after a few steps (the clock the deadline reads ticks once per read):
    // progress is kept between runs.
    const paged = smallPages(w.lake, 2);
    let tick = Date.now();
    vi.spyOn(Date, 'now').mockImplementation(() => (tick += 1));
    // Due profiles stop at 40 % of a run's budget; the backfill has the rest: about 3 reads here.
    const budget = 5;
    const phases: string[] = [];
    let runs = 0;
    for (; runs < 200; runs++) {
      await w.segmenter(paged, 2).run(tick + budget);
      const stored = (await w.segments.get('repeat'))!;
      phases.push(stored.backfill ? `${stored.backfill.phase}:${stored.backfill.profilesSeeded}` : stored.status);
      if (stored.status === 'ready') break;
      w.advance(500);
    }
    vi.restoreAllMocks();
    const seeding = phases.filter((p) => p.startsWith('seeding:'));
    expect(new Set(seeding).size, phases.join(' ')).toBeGreaterThanOrEqual(2);
    // ana, bob, cy and dee have orders in the lake (eve has none): each counted once, though ana's rows straddle two pages.
    expect(phases.filter((p) => p.startsWith('evaluating:')).every((p) => p === 'evaluating:4'), phases.join(' ')).toBe(true);
    expect(phases.at(-1)).toBe('ready');
    expect(await w.members('repeat')).toEqual(['ana', 'dee']);
    await w.settle();
    expect((await w.changes()).filter((c) => c.kind === 'entered').map((c) => c.profile_id).sort()).toHaveLength(2);
    expect((await w.segments.get('repeat'))!).toMatchObject({ status: 'ready', memberCount: 2 });
  });

  it('neither double-counts an event that is both in the lake and applied live, nor misses one only applied live', async () => {
    const w = world();
    const history = [order('bob', 2, w.now()), order('cy', 3, w.now()), order('cy', 40, w.now()), order('ana', 1, w.now()), order('ana', 2, w.now()), order('ana', 3, w.now())];
    await resolveEvents(history, w.resolve);
    await w.archive(history, 'history');
    await w.service.put('exactly-two', { name: 'Exactly two orders in 30 days', condition: { event: 'Order Completed', within: 'P30D', count: { op: 'eq', value: 2 } } });
    // Once the definitions are out, writers keep the new segment's tracks: these are applied live.
    const both = order('bob', 0, w.now());
    const liveOnly = order('cy', 0, w.now());
    await resolveEvents([both, liveOnly], w.resolve);
    // The archiver has written one of them to the lake before the backfill reads it; the other not yet.
    await w.archive([both], 'late');
    w.advance(3_000);
    await w.settle();
    // bob: 1 in the lake + 1 in both = 2 (3 if counted twice); cy: 1 in the window + 1 live only = 2 (1 if missed); ana: 3.
    expect(await w.members('exactly-two')).toEqual(['bob', 'cy']);
  });

  it('has the publisher deliver every pending change in one run, however many pages each bucket of the outbox feed takes', async () => {
    const w = world();
    await w.service.put('buyers', { name: 'Buyers', condition: { event: 'Order Completed' } });
    await w.settle();
    const people = Array.from({ length: 20 }, (_, i) => `p${i}`);
    await resolveEvents(people.map((p) => order(p, 0, w.now())), w.resolve);
    const report = await w.publisher(1).run(Date.now() + 10_000);
    expect(report).toMatchObject({ changes: 20, more: false });
    expect((await w.changes()).filter((c) => c.segment_id === 'buyers')).toHaveLength(20);
    expect((await w.segments.get('buyers'))!.memberCount).toBe(20);
  });

  it('backfills segments without event conditions without querying the lake, alone or together', async () => {
    const w = world();
    await resolveEvents([collected({ type: 'identify', userId: 'ana', traits: { plan: 'pro' } }), collected({ type: 'identify', userId: 'bob', traits: { plan: 'free' } })], w.resolve);
    const started: string[] = [];
    const watched: LakeQueryJobs = { start: (sql) => (started.push(sql), w.lake.start(sql)), page: (id, token) => w.lake.page(id, token) };
    await w.service.put('pros', { name: 'Pros', condition: { trait: 'plan', op: 'eq', value: 'pro' } });
    await w.service.put('known', { name: 'Known', condition: { identifier: 'user_id' } });
    w.advance(3_000);
    await w.settle(watched);
    expect(started).toEqual([]);
    expect(await w.members('pros')).toEqual(['ana']);
    expect(await w.members('known')).toEqual(['ana', 'bob']);
  });

  it('deletes a segment: its members exit, the lake records it, and the segment is gone', async () => {
    const w = world();
    await w.service.put('buyers', { name: 'Buyers', condition: { event: 'Order Completed' } });
    await w.settle();
    await resolveEvents([order('ana', 0, w.now()), order('bob', 0, w.now())], w.resolve);
    expect(await w.members('buyers')).toEqual(['ana', 'bob']);
    await w.service.delete('buyers');
    await w.settle();
    w.advance(2_000);
    await w.segmenter().run(Date.now() + 5_000);
    await w.publisher().run(Date.now() + 5_000);
    expect(await w.members('buyers')).toEqual([]);
    expect(await w.segments.get('buyers')).toBeUndefined();
    const changes = await w.changes();
    expect(changes.filter((c) => c.kind === 'exited').map((c) => c.segment_id)).toEqual(['buyers', 'buyers']);
    expect(new Set(changes.map((c) => c.change_id)).size).toBe(changes.length);
  });

  it('starts a failed backfill query again on the next run from the last profile seeded, counting the failure, and still finishes', async () => {
    const w = world();
    const events = [order('ana', 1, w.now()), order('ana', 2, w.now()), order('ana', 3, w.now()), order('bob', 1, w.now()), order('bob', 2, w.now()), order('bob', 3, w.now())];
    await resolveEvents(events, w.resolve);
    await w.archive(events);
    await w.service.put('three', { name: 'Three orders', condition: { event: 'Order Completed', count: { op: 'gte', value: 3 } } });
    w.advance(3_000);
    // Pages of 2 rows: the first holds two of the first profile's three; the second page fails.
    const paged = smallPages(w.lake, 2);
    let pages = 0;
    const flaky: LakeQueryJobs = {
      start: (sql) => paged.start(sql),
      page: async (id, token) => {
        if (++pages === 2) throw new Error('Athena: query exhausted resources');
        return paged.page(id, token);
      },
    };
    await w.settle(flaky, 2);
    expect(w.telemetry.totals.get('BackfillQueryFailures')).toBe(1);
    // The restarted query reads the straddling profile again whole: its third order is not lost.
    expect(await w.members('three')).toEqual(['ana', 'bob']);
    expect((await w.segments.get('three'))!.memberCount).toBe(2);
  });
});

/** The same results in pages of `size` rows, as a slow, paging engine would hand them out. */
function smallPages(lake: DuckDbLakeQuery, size: number): LakeQueryJobs {
  const rows = new Map<string, Record<string, unknown>[]>();
  return {
    start: async (sql) => {
      const id = await lake.start(sql);
      const all: Record<string, unknown>[] = [];
      for (let token: string | undefined, first = true; first || token !== undefined; first = false) {
        const page = await lake.page(id, token);
        if (page.state !== 'succeeded') throw new Error('DuckDB pages are ready at once');
        all.push(...page.rows);
        token = page.next;
      }
      rows.set(id, all);
      return id;
    },
    page: async (id, token) => {
      const all = rows.get(id)!;
      const offset = Number(token ?? 0);
      return { state: 'succeeded', rows: all.slice(offset, offset + size), ...(offset + size < all.length ? { next: String(offset + size) } : {}) };
    },
  };
}
