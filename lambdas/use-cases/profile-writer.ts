import type { HistoryEntry, MergeReason } from '../domain/identity-graph.js';
import type { Identifier } from '../domain/identifiers.js';
import { planProfileWrite, type PlannedProfileWrite, type ProfileDerivation, type ProfileWriteRequest } from '../domain/profile-write.js';
import type { ProfileStore } from '../ports/profile-store.js';
import type { Telemetry } from '../ports/telemetry.js';

/**
 * Everything one operation changes in the profile store. The writer applies it in the order that
 * keeps each step safe to crash after (docs/identity.md): freeze merged-away profiles, claim new
 * identifiers, write live profiles, then move identifiers, drop merged-away state and record
 * history, which only tidy up or explain what the profile writes already decided.
 */
export interface ProfileChangeSet {
  /** Profiles merged away: `stored` ones are frozen at their version, the others (never written) get a redirect. */
  readonly frozen?: ReadonlyArray<{ readonly id: string; readonly to: string; readonly reason: MergeReason; readonly stored: boolean; readonly expectedVersion: number }>;
  readonly claims?: ReadonlyArray<{ readonly identifier: Identifier; readonly profileId: string }>;
  readonly profiles?: readonly ProfileWriteRequest[];
  /** Identifiers to move to `to`, from whichever of `from` their owner item names. */
  readonly repoints?: ReadonlyArray<{ readonly identifier: Identifier; readonly from: readonly string[]; readonly to: string }>;
  /** Merged-away profiles whose survivors now hold their state. */
  readonly releases?: readonly string[];
  readonly history?: readonly HistoryEntry[];
}

export interface ProfileWriteReport {
  /** The profile writes made, with what each changed and added to the outbox. */
  readonly written: readonly PlannedProfileWrite[];
  /** Profile writes left out because they would have changed nothing. */
  readonly skipped: number;
  /** Identifiers whose owner had moved on before they could be repointed. */
  readonly repointsRefused: number;
}

export interface ProfileWriterDependencies {
  readonly store: ProfileStore;
  /** What is kept up to date from each profile on every write (segment memberships, ...). @default none */
  readonly derivations?: readonly ProfileDerivation[];
  readonly telemetry: Telemetry;
  readonly now: () => Date;
  /** Concurrent store calls per step. @default 16 */
  readonly concurrency?: number;
}

/**
 * The one way profiles are written, whichever path changes them: the resolver, a split, and what
 * comes next (time-based re-evaluation, erasure). For each profile it runs the derivations,
 * diffs the result against the stored state, skips a write that changes nothing, carries the
 * outbound changes in the same conditional write as the state that caused them, and makes that
 * write. A refused condition throws ConcurrentUpdateError for the caller to re-plan.
 */
export class ProfileWriter {
  constructor(private readonly deps: ProfileWriterDependencies) {}

  async write(changes: ProfileChangeSet): Promise<ProfileWriteReport> {
    const { store, telemetry } = this.deps;
    const limit = this.deps.concurrency ?? 16;
    await inParallel(changes.frozen ?? [], limit, (f) =>
      f.stored ? store.freeze(f.id, f.to, f.reason, f.expectedVersion) : store.redirect(f.id, f.to, f.reason),
    );
    await inParallel(changes.claims ?? [], limit, (c) => store.claim(c.identifier, c.profileId));

    const now = this.deps.now().getTime();
    const planned = (changes.profiles ?? []).map((request) => planProfileWrite(request, this.deps.derivations ?? [], now));
    const written = planned.filter((write): write is PlannedProfileWrite => write !== undefined);
    await inParallel(written, limit, (write) => store.putProfile({ state: write.state, expectedVersion: write.expectedVersion, outbox: write.outbox }));
    telemetry.count('ProfileWrites', written.length);
    telemetry.count('ProfileWritesSkipped', planned.length - written.length);
    telemetry.count('OutboundChangesRecorded', written.reduce((n, write) => n + write.added.length, 0));

    // Before the tidying: until a loser is released, a re-plan sees its merge unfinished and records it again.
    if (changes.history && changes.history.length > 0) await store.appendHistory(changes.history);
    let repointsRefused = 0;
    await inParallel(changes.repoints ?? [], limit, async (r) => {
      if (!(await store.repoint(r.identifier, r.from, r.to))) repointsRefused++;
    });
    await inParallel(changes.releases ?? [], limit, (id) => store.release(id));
    return { written, skipped: planned.length - written.length, repointsRefused };
  }
}

async function inParallel<T>(items: readonly T[], limit: number, action: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await action(items[next++]!);
  });
  await Promise.all(workers);
}
