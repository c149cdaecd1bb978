import { fromLakeRow } from '../domain/lake.js';
import type { CollectedEvent } from '../domain/intake.js';
import { lakeCountSql, lakePageSql, type LakePosition } from '../domain/timeline.js';
import type { LakeQuery } from '../ports/lake-query.js';
import { resolveEvents, type ResolveDependencies } from './resolve.js';
import { LakeLayout } from '../contracts.js';
import { identifierKey, type Identifier } from '../domain/identifiers.js';
import { emptyProfile, keptApart } from '../domain/profile.js';
import { parseSplitRecord, type SplitRecord } from '../domain/split-record.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { ProfileStore } from '../ports/profile-store.js';
import { ProfileWriter } from './profile-writer.js';
import { ownerOf } from './profiles.js';

export interface RebuildProgress {
  readonly done: number;
  readonly total: number;
  readonly elapsedMs: number;
}

export interface RebuildOptions {
  /** Admins' splits, from the lake (`identity/splits/`), replayed so split people stay split. @default none */
  readonly splits?: readonly SplitRecord[];
  /** Events read from the lake per query. @default 10000 */
  readonly pageSize?: number;
  /** Events applied per resolver pass, like a stream batch. @default 1000 */
  readonly batchSize?: number;
  readonly onProgress?: (progress: RebuildProgress) => void;
}

export interface RebuildReport {
  readonly events: number;
  readonly skipped: number;
  readonly elapsedMs: number;
}

/**
 * Rebuilds the profile store from the lake: every event of the `events` view, in arrival order,
 * through the same resolver the stream feeds. The lake is the source of truth, so this is the
 * recovery path when the profile store is lost. The target must start empty: its dedupe memory
 * is what stops an event from counting twice, and an old store's memory is bounded.
 */
export async function rebuildProfiles(lake: LakeQuery, deps: ResolveDependencies, options: RebuildOptions = {}): Promise<RebuildReport> {
  const pageSize = options.pageSize ?? 10_000;
  const batchSize = options.batchSize ?? 1_000;
  const started = Date.now();
  await seedSplits(options.splits ?? [], deps);
  const [countRow] = await lake.query(lakeCountSql);
  const total = Number(countRow?.n ?? 0);
  let done = 0;
  let skipped = 0;
  let after: LakePosition | undefined;
  for (;;) {
    const rows = await lake.query(lakePageSql(after, pageSize));
    if (rows.length === 0) break;
    const events: CollectedEvent[] = [];
    for (const row of rows) {
      const event = fromLakeRow(row);
      if (event) events.push(event);
      else skipped++;
    }
    for (let i = 0; i < events.length; i += batchSize) {
      await resolveEvents(events.slice(i, i + batchSize), deps);
      done += Math.min(batchSize, events.length - i);
      options.onProgress?.({ done, total, elapsedMs: Date.now() - started });
    }
    const last = rows[rows.length - 1]!;
    after = { receivedAt: String(last.received_at), messageId: String(last.message_id) };
    if (rows.length < pageSize) break;
  }
  return { events: done, skipped, elapsedMs: Date.now() - started };
}

/**
 * Before any event, the empty store is given what the admins' splits decided, in the order they
 * were made: each split-off identifier owned by its own profile, the identifiers that stayed owned
 * by the original, and the two kept apart. Folding the lake over that gives what each split's own
 * replay gave: events that join the two sides are recorded as dropped links, not merges.
 */
async function seedSplits(splits: readonly SplitRecord[], deps: ResolveDependencies): Promise<void> {
  if (splits.length === 0) return;
  const owners = new Map<string, { identifier: Identifier; profileId: string }>();
  const apart = new Map<string, Set<string>>();
  const keepApart = (a: string, b: string): void => void apart.set(a, (apart.get(a) ?? new Set()).add(b));
  for (const split of [...splits].sort((a, b) => a.at - b.at)) {
    for (const identifier of split.remaining) owners.set(identifierKey(identifier), { identifier, profileId: split.profileId });
    owners.set(identifierKey(split.identifier), { identifier: split.identifier, profileId: split.into });
    keepApart(split.profileId, split.into);
    keepApart(split.into, split.profileId);
  }
  const at = deps.now().getTime();
  await new ProfileWriter({ store: deps.store, telemetry: deps.telemetry, now: deps.now }).write({
    claims: [...owners.values()],
    profiles: [...apart].map(([id, others]) => ({ before: undefined, expectedVersion: undefined, pending: [], after: { ...emptyProfile(id, at), apart: [...others] } })),
  });
}

export interface SplitVerification {
  readonly total: number;
  readonly held: number;
  /** Splits whose two sides ended up in one profile, or not kept apart. */
  readonly failed: ReadonlyArray<{ readonly into: string; readonly identifier: Identifier; readonly reason: string }>;
}

/** Checks, in a rebuilt store, that every split person stayed split: the identifier split off leads to another profile than those that stayed, and the two are kept apart. */
export async function verifySplits(store: ProfileStore, splits: readonly SplitRecord[]): Promise<SplitVerification> {
  const failed: Array<{ into: string; identifier: Identifier; reason: string }> = [];
  for (const split of splits) {
    const away = await ownerOf(store, split.identifier);
    const stayed = (await Promise.all(split.remaining.map((identifier) => ownerOf(store, identifier)))).filter((o) => o !== undefined);
    const fail = (reason: string): void => void failed.push({ into: split.into, identifier: split.identifier, reason });
    if (!away) fail('the identifier split off has no profile');
    else if (stayed.some((o) => o.live === away.live)) fail('the identifier split off is back with those that stayed');
    else {
      const [awayProfile, ...stayedProfiles] = await store.profiles([away.live, ...new Set(stayed.map((o) => o.live))]);
      if (stayedProfiles.some((p) => !keptApart(awayProfile!.state!, p.state!))) fail('the two sides are not kept apart');
    }
  }
  return { total: splits.length, held: splits.length - failed.length, failed };
}

/** Every split recorded in the lake, in the order made. */
export async function readSplits(objects: ObjectStore): Promise<SplitRecord[]> {
  const splits: SplitRecord[] = [];
  for await (const key of objects.listKeys(LakeLayout.splitsPrefix)) {
    const opened = await objects.openRead(key);
    if (!opened) continue;
    const chunks: Buffer[] = [];
    for await (const chunk of opened.body) chunks.push(Buffer.from(chunk as Uint8Array));
    const record = parseSplitRecord(Buffer.concat(chunks).toString('utf8'));
    if (record) splits.push(record);
  }
  return splits.sort((a, b) => a.at - b.at);
}
