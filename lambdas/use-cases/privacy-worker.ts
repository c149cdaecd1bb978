import { LakeLayout } from '../contracts.js';
import type { Identifier } from '../domain/identifiers.js';
import { fromLakeRow } from '../domain/lake.js';
import { gzipNdjson } from '../domain/ndjson.js';
import { datesBetween, eventDays, PersonMatcher, privacyHash, withoutRows } from '../domain/privacy.js';
import { auditEntry, nextStep, profileErasedChange, type PrivacyRequest, type PrivacyStep, type PrivacyWork, type StoreOutcome } from '../domain/privacy-request.js';
import type { ProfileConfig } from '../domain/profile-config.js';
import { profileView } from '../domain/profile-view.js';
import { SegmentEntered, SegmentExited, type MembershipDetail } from '../domain/segments/membership.js';
import { parseSplitRecord } from '../domain/split-record.js';
import type { DeadLetterStore } from '../ports/dead-letter-store.js';
import type { HeldDeliveries } from '../ports/event-bus.js';
import type { AppLogger } from '../ports/logger.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { SaltSource } from '../ports/privacy-salt.js';
import type { PrivacyRequestStore, SuppressionList } from '../ports/privacy-store.js';
import type { PendingOutbound, ProfileStore, VersionedProfile } from '../ports/profile-store.js';
import type { SegmentStore } from '../ports/segment-store.js';
import type { Telemetry } from '../ports/telemetry.js';
import { readLines, readObject } from './lake-rows.js';
import { importResultKey, isImportFile } from './import-file.js';
import { blankRows, importFileRows } from '../domain/csv.js';
import { gzipSync } from 'node:zlib';

export interface PrivacyWorkerDependencies {
  readonly requests: PrivacyRequestStore;
  readonly suppressions: SuppressionList;
  readonly salt: SaltSource;
  readonly profiles: ProfileStore;
  readonly segments: Pick<SegmentStore, 'adjustMemberCounts'>;
  readonly lake: ObjectStore;
  /** Cached query output (Athena's results bucket), emptied by an erasure. @default none */
  readonly queryResults?: ObjectStore;
  readonly deadLetters: readonly DeadLetterStore[];
  readonly deliveries: readonly HeldDeliveries[];
  /** Announces `Profile Erased` to the destinations. */
  readonly announcer: { announce(pending: PendingOutbound): Promise<{ readonly accepted: boolean; readonly published: number }> };
  readonly config: ProfileConfig;
  /** How long an erasure waits after suppressing (PrivacyTiming.settleMs). */
  readonly settleMs: number;
  readonly telemetry: Telemetry;
  readonly logger: AppLogger;
  readonly now: () => Date;
}

export interface PrivacyRunReport {
  /** Requests finished in this run. */
  readonly finished: number;
  /** Work left that could be done now (the budget ran out); a request waiting to settle is not. */
  readonly more: boolean;
}

/** A step's answer: done (go on), waiting (come back on a later run), or out of budget. */
type StepResult = 'done' | 'wait' | 'budget';

const Day = 86_400_000;
/** Failures of one step before the request is given up on (each is logged; the next run tries again). */
const MaxStepFailures = 5;

/** A lake area an erasure goes through: where to list, and which rows are the person's. */
interface LakeArea {
  readonly store: string;
  prefixes(work: PrivacyWork, now: number): string[];
  matches(row: Record<string, unknown>, person: PersonMatcher): boolean;
}

const inDates = (prefix: string, from: number | undefined, to: number): string[] =>
  from === undefined ? [] : datesBetween(from - Day, to).map((dt) => `${prefix}dt=${dt}/`);

/** Where a person's rows are: events by event time, the rest by when they were recorded, refusals anywhere (they never reached a profile). */
const LakeAreas: readonly LakeArea[] = [
  {
    store: 'lake.events',
    prefixes: (w) => (w.eventDays ?? []).map((dt) => `${LakeLayout.eventsPrefix}dt=${dt}/`),
    matches: (row, person) => person.matchesIdentifierText(row.identifier) || (fromLakeRow(row) !== undefined && person.matchesEvent(fromLakeRow(row)!)),
  },
  {
    store: 'lake.identities',
    prefixes: (w, now) => inDates(LakeLayout.identitiesPrefix, w.recordedFrom, now + Day),
    matches: (row, person) => person.matchesIdentifierText(row.identifier) || person.hasProfile(row.profile_id),
  },
  {
    store: 'lake.segment_changes',
    prefixes: (w, now) => inDates(LakeLayout.segmentChangesPrefix, w.recordedFrom, now + Day),
    matches: (row, person) => person.hasProfile(row.profile_id),
  },
  { store: 'lake.rejected', prefixes: () => [LakeLayout.rejectionsPrefix], matches: (row, person) => person.matchesPayload(row.payload) },
];

const outcome = (request: PrivacyRequest, store: string): StoreOutcome => (request.stores[store] ??= { found: 0, removed: 0 });

/**
 * Works privacy requests through their steps (docs/privacy.md), saving after each, so a run that
 * stops anywhere (its budget, a crash) is taken up by the next at the same step. Every step is
 * safe to repeat. An erasure:
 * 1. resolve: finds the person's whole identity graph from the identifier;
 * 2. suppress: adds all their identifiers to the suppression list (so nothing new comes in), then
 * 3. settle: waits until every function's copy of the list has it and no batch read before is still writing;
 * 4. announce: publishes `Profile Erased` to the destinations that match it;
 * 5. profiles: deletes their profiles, owners, history and outbox, and their membership counts;
 * 6. lake: rewrites each lake object holding their rows without them (counting rows before and
 *    after), deleting earlier versions, and their splits; empties cached query results;
 * 7. dead-letters, deliveries: removes their records from dead-letter stores and held deliveries;
 * 8. verify: looks again; anything that came back sends the request back to `suppress`.
 */
export class PrivacyWorker {
  constructor(private readonly deps: PrivacyWorkerDependencies) {}

  async run(deadline: number): Promise<PrivacyRunReport> {
    let finished = 0;
    let more = false;
    for (const id of await this.deps.requests.open()) {
      if (Date.now() >= deadline) return { finished, more: true };
      const result = await this.advance(id, deadline);
      if (result === 'finished') finished++;
      if (result === 'budget') more = true;
    }
    return { finished, more };
  }

  /** Takes one request as far as it can go now. */
  private async advance(id: string, deadline: number): Promise<'finished' | 'wait' | 'budget'> {
    const stored = await this.deps.requests.get(id);
    if (!stored) return 'wait';
    const { request } = stored;
    let { revision } = stored;
    const save = async (): Promise<void> => {
      request.updatedAt = this.deps.now().toISOString();
      await this.deps.requests.update(request, revision);
      revision++;
    };
    if (request.status === 'pending') {
      request.status = 'running';
      await save();
    }
    while (request.step !== 'done') {
      const step = request.step;
      let result: StepResult;
      try {
        result = await this.step(request, step, deadline);
      } catch (error) {
        const failures = (request.work!.failures ?? 0) + 1;
        request.work!.failures = failures;
        request.error = `${step}: ${failureText(error)}`;
        this.deps.logger.error('a privacy request step failed; the next run tries again', { requestId: request.id, step, failures, error: failureText(error) });
        if (failures >= MaxStepFailures) return this.finish(request, save, 'failed');
        await save();
        return 'wait';
      }
      if (result !== 'done') {
        await save();
        return result;
      }
      request.step = nextStep(request.type, step);
      delete request.error;
      if (request.work) delete request.work.failures;
      await save();
    }
    return this.finish(request, save, 'done');
  }

  private async finish(request: PrivacyRequest, save: () => Promise<void>, status: 'done' | 'failed'): Promise<'finished'> {
    request.status = status;
    request.finishedAt = this.deps.now().toISOString();
    delete request.work;
    await this.deps.lake.put(auditEntry(request, status === 'done' ? 'finished' : 'failed', this.deps.now()));
    await save();
    this.deps.telemetry.count('PrivacyRequestsFinished', 1, { type: request.type, outcome: status });
    this.deps.logger.info('privacy request finished', { requestId: request.id, type: request.type, status, profiles: request.profiles ?? 0 });
    return 'finished';
  }

  private step(request: PrivacyRequest, step: PrivacyStep, deadline: number): Promise<StepResult> {
    const work = request.work!;
    switch (step) {
      case 'resolve':
        return this.resolve(request, work);
      case 'suppress':
        return this.suppress(request, work);
      case 'settle':
        return Promise.resolve(this.deps.now().getTime() >= (work.suppressedAt ?? 0) + this.deps.settleMs ? 'done' : 'wait');
      case 'announce':
        return this.announce(request, work);
      case 'profiles':
        return this.eraseProfiles(request, work);
      case 'lake':
        return request.type === 'access' ? this.collectEvents(request, work, deadline) : this.eraseLake(request, work, deadline);
      case 'dead-letters':
        return this.eraseDeadLetters(request, work);
      case 'deliveries':
        return this.eraseDeliveries(request, work);
      case 'verify':
        return this.verify(request, work);
      case 'export':
        return this.writeExport(request, work);
      case 'unsuppress':
        return this.unsuppress(request, work);
    }
  }

  // --- The person.

  /** The live profile an identifier leads to (following merges), every profile merged into it, and their states. */
  private async graph(identifiers: readonly Identifier[]): Promise<{ live?: VersionedProfile; profiles: VersionedProfile[] }> {
    const owners = await this.deps.profiles.owners(identifiers);
    const found = new Map<string, VersionedProfile>();
    let live: VersionedProfile | undefined;
    let frontier = [...new Set(owners.values())];
    for (let hop = 0; frontier.length > 0 && hop < 20; hop++) {
      const next: string[] = [];
      for (const profile of await this.deps.profiles.profiles(frontier.filter((id) => !found.has(id)))) {
        found.set(profile.id, profile);
        if (profile.redirect) next.push(profile.redirect.to);
        else if (profile.state) {
          live ??= profile;
          next.push(...profile.state.absorbed);
        }
      }
      frontier = next.filter((id) => !found.has(id));
    }
    // Absorbed profiles whose items are already gone still name the person in the lake.
    const ids = new Set([...found.keys(), ...(live?.state?.absorbed ?? [])]);
    for (const id of ids) if (!found.has(id)) found.set(id, { id, version: 0, outbox: [] });
    return { ...(live ? { live } : {}), profiles: [...found.values()] };
  }

  private async resolve(request: PrivacyRequest, work: PrivacyWork): Promise<StepResult> {
    const salt = await this.deps.salt.salt();
    const { live, profiles } = await this.graph([work.identifier, ...(work.identifiers ?? [])]);
    const states = profiles.flatMap((p) => (p.state ? [p.state] : []));
    const identifiers = uniqueIdentifiers([work.identifier, ...(work.identifiers ?? []), ...states.flatMap((s) => s.identifiers)]);
    work.identifiers = identifiers.map(({ type, value }) => ({ type, value }));
    work.hashes = [...new Set([...work.hashes, ...identifiers.map((id) => privacyHash(salt, id))])];
    work.profileIds = [...new Set([...work.profileIds, ...profiles.map((p) => p.id)])];
    if (live) work.profileId = live.id;
    work.eventDays = [...new Set([...(work.eventDays ?? []), ...states.flatMap((s) => eventDays(s.computed, this.deps.config.bucketDays))])].sort();
    const created = Math.min(...states.map((s) => s.createdAt));
    if (Number.isFinite(created)) work.recordedFrom = Math.min(work.recordedFrom ?? created, created);
    request.profiles = work.profileIds.length;
    return 'done';
  }

  private async suppress(request: PrivacyRequest, work: PrivacyWork): Promise<StepResult> {
    const at = this.deps.now().getTime();
    await this.deps.suppressions.add(work.hashes.map((hash) => ({ hash, requestId: request.id, at })));
    work.suppressedAt = at;
    request.suppressed = work.hashes.length;
    return 'done';
  }

  /** Lifts the suppression of the identifier, and of every identifier suppressed with it (by the same request). */
  private async unsuppress(request: PrivacyRequest, work: PrivacyWork): Promise<StepResult> {
    const all = await this.deps.suppressions.all();
    const by = all.find((s) => s.hash === request.subject)?.requestId;
    const lifted = all.filter((s) => s.hash === request.subject || (by !== undefined && s.requestId === by)).map((s) => s.hash);
    await this.deps.suppressions.remove(lifted);
    request.suppressed = lifted.length;
    work.hashes = lifted;
    return 'done';
  }

  private async announce(request: PrivacyRequest, work: PrivacyWork): Promise<StepResult> {
    if (!work.profileId) return 'done';
    const change = profileErasedChange(request.id, work.profileId, this.deps.now().getTime());
    const { accepted, published } = await this.deps.announcer.announce({ profileId: work.profileId, changes: [change], profile: { identifiers: work.identifiers ?? [work.identifier], traits: {} } });
    if (!accepted) return 'wait';
    // The destinations told (one event each): they erase downstream.
    request.stores.activation = { found: published, removed: published };
    return 'done';
  }

  // --- Erasure.

  private async eraseProfiles(request: PrivacyRequest, work: PrivacyWork): Promise<StepResult> {
    const stored = await this.deps.profiles.profiles(work.profileIds);
    const deltas = memberCountDeltas(stored);
    const erased = await this.deps.profiles.erase(work.profileIds, work.identifiers ?? [work.identifier]);
    if (deltas.size > 0) await this.deps.segments.adjustMemberCounts(deltas);
    add(outcome(request, 'profiles'), erased.profiles);
    add(outcome(request, 'identifiers'), erased.identifiers);
    add(outcome(request, 'history'), erased.history);
    add(outcome(request, 'segment_memberships'), [...deltas.values()].reduce((n, d) => n - d, 0));
    return 'done';
  }

  private async matcher(work: PrivacyWork): Promise<PersonMatcher> {
    return new PersonMatcher(await this.deps.salt.salt(), this.deps.config, work.hashes, work.profileIds);
  }

  /** Goes through the lake areas object by object from the saved cursor, calling `visit` on each; 'budget' when the deadline stops it. */
  private async eachLakeObject(work: PrivacyWork, areas: readonly LakeArea[], deadline: number, visit: (area: LakeArea, key: string) => Promise<void>): Promise<StepResult> {
    const now = this.deps.now().getTime();
    for (let index = work.lake?.area ?? 0; index < areas.length; index++) {
      const area = areas[index]!;
      const after = work.lake?.area === index ? work.lake.after : undefined;
      for (const prefix of area.prefixes(work, now)) {
        for await (const key of this.deps.lake.listKeys(prefix)) {
          if (after !== undefined && key <= after) continue;
          if (Date.now() >= deadline) return 'budget';
          await visit(area, key);
          work.lake = { area: index, after: key };
        }
      }
      work.lake = { area: index + 1 };
    }
    delete work.lake;
    return 'done';
  }

  private async eraseLake(request: PrivacyRequest, work: PrivacyWork, deadline: number): Promise<StepResult> {
    const person = await this.matcher(work);
    // Every store is in the receipt, those that held nothing of the person too.
    for (const store of [...LakeAreas.map((a) => a.store), 'lake.splits', 'lake.imports', 'privacy_exports', ...(this.deps.queryResults ? ['query_results'] : [])]) outcome(request, store);
    const areas = await this.eachLakeObject(work, LakeAreas, deadline, async (area, key) => {
      const lines = await readLines(this.deps.lake, key);
      if (!lines) return;
      const store = outcome(request, area.store);
      store.objectsRead = (store.objectsRead ?? 0) + 1;
      const { kept, removed } = withoutRows(lines, (row) => area.matches(row, person));
      if (removed === 0) return;
      store.found += removed;
      if (kept.length === 0) {
        store.versionsDeleted = (store.versionsDeleted ?? 0) + Math.max(0, (await this.deps.lake.delete(key)) - 1);
      } else {
        await this.deps.lake.put({ key, ...gzipNdjson(kept) });
        const after = (await readLines(this.deps.lake, key))?.length ?? 0;
        // Another person's row must never be lost: the rewrite is read back and counted.
        if (after !== lines.length - removed) throw new Error(`${key} holds ${after} rows after the rewrite, not ${lines.length - removed}`);
        store.versionsDeleted = (store.versionsDeleted ?? 0) + (await this.deps.lake.deleteEarlierVersions(key));
      }
      store.removed += removed;
      store.objectsRewritten = (store.objectsRewritten ?? 0) + 1;
      store.rowsBefore = (store.rowsBefore ?? 0) + lines.length;
      store.rowsAfter = (store.rowsAfter ?? 0) + lines.length - removed;
    });
    if (areas !== 'done') return areas;
    await this.eraseSplits(request, person);
    await this.eraseImports(request, person);
    await this.eraseExports(request, person);
    await this.emptyQueryResults(request);
    return 'done';
  }

  /** Admins' splits naming one of the person's profiles or identifiers (they hold identifiers, to be replayed by a rebuild). */
  private async eraseSplits(request: PrivacyRequest, person: PersonMatcher): Promise<void> {
    const store = outcome(request, 'lake.splits');
    for await (const key of this.deps.lake.listKeys(LakeLayout.splitsPrefix)) {
      const split = parseSplitRecord((await readObject(this.deps.lake, key))?.toString('utf8') ?? '');
      if (!split) continue;
      const about = person.hasProfile(split.profileId) || person.hasProfile(split.into) || [split.identifier, ...split.remaining].some((id) => person.hasIdentifier(id));
      if (!about) continue;
      store.found++;
      await this.deps.lake.delete(key);
      store.removed++;
    }
  }

  /**
   * Files under `imports/` hold raw rows: the person's are blanked out (every other row keeps its
   * line number, which the import result names), and their refusals leave the result beside it.
   * A file already imported is not imported again: its result exists.
   */
  private async eraseImports(request: PrivacyRequest, person: PersonMatcher): Promise<void> {
    const store = outcome(request, 'lake.imports');
    for await (const key of this.deps.lake.listKeys(LakeLayout.importsPrefix)) {
      if (!isImportFile(key)) continue;
      const text = (await readObject(this.deps.lake, key))?.toString('utf8');
      if (text === undefined) continue;
      store.objectsRead = (store.objectsRead ?? 0) + 1;
      const theirs = importFileRows(text, /\.csv(\.gz)?$/i.test(key)).filter((row) => row.value !== undefined && person.matchesPayload(row.value));
      if (theirs.length === 0) continue;
      const blanked = blankRows(text, theirs);
      await this.deps.lake.put({ key, body: /\.gz$/i.test(key) ? gzipSync(blanked) : blanked, contentType: /\.csv(\.gz)?$/i.test(key) ? 'text/csv' : 'application/x-ndjson' });
      await this.deps.lake.deleteEarlierVersions(key);
      const lines = new Set(theirs.map((row) => row.line));
      const resultText = (await readObject(this.deps.lake, importResultKey(key)))?.toString('utf8');
      if (resultText !== undefined) {
        const result = JSON.parse(resultText) as { rejections?: Array<{ index?: number }> };
        result.rejections = (result.rejections ?? []).filter((issue) => issue.index === undefined || !lines.has(issue.index));
        await this.deps.lake.put({ key: importResultKey(key), body: JSON.stringify(result, null, 2), contentType: 'application/json' });
        await this.deps.lake.deleteEarlierVersions(importResultKey(key));
      }
      store.found += theirs.length;
      store.removed += theirs.length;
      store.objectsRewritten = (store.objectsRewritten ?? 0) + 1;
    }
  }

  /** Earlier access exports about the person: a copy of everything, so they go too. */
  private async eraseExports(request: PrivacyRequest, person: PersonMatcher): Promise<void> {
    const store = outcome(request, 'privacy_exports');
    for await (const key of this.deps.lake.listKeys(LakeLayout.privacyExportsPrefix)) {
      if (!key.endsWith('.json')) continue;
      let exported: { identifiers?: Identifier[]; profile?: { id?: string } | null };
      try {
        exported = JSON.parse((await readObject(this.deps.lake, key))?.toString('utf8') ?? '{}') as typeof exported;
      } catch {
        continue;
      }
      const about = person.hasProfile(exported.profile?.id) || (exported.identifiers ?? []).some((id) => person.hasIdentifier(id));
      if (!about) continue;
      store.found++;
      await this.deps.lake.delete(key);
      store.removed++;
    }
  }

  /** Athena's query results are a cache of lake rows (timelines, segment members): all of it goes. */
  private async emptyQueryResults(request: PrivacyRequest): Promise<void> {
    if (!this.deps.queryResults) return;
    const store = outcome(request, 'query_results');
    for await (const key of this.deps.queryResults.listKeys('')) {
      store.found++;
      await this.deps.queryResults.delete(key);
      store.removed++;
    }
  }

  private async eraseDeadLetters(request: PrivacyRequest, work: PrivacyWork): Promise<StepResult> {
    const person = await this.matcher(work);
    const store = outcome(request, 'dead_letters');
    for (const letters of this.deps.deadLetters) {
      for await (const { key, letter } of letters.list()) {
        const about = letter.records.some((record) => person.matchesPayload(Buffer.from(record.data, 'base64').toString('utf8')));
        if (!about) continue;
        store.found++;
        await letters.remove(key);
        store.removed++;
      }
    }
    return 'done';
  }

  private async eraseDeliveries(request: PrivacyRequest, work: PrivacyWork): Promise<StepResult> {
    const store = outcome(request, 'held_deliveries');
    for (const held of this.deps.deliveries) {
      const removed = await held.eraseProfiles(new Set(work.profileIds));
      store.found += removed;
      store.removed += removed;
    }
    return 'done';
  }

  /** Anything of the person's back (an event that raced the suppression)? Then round again from `suppress`. */
  private async verify(request: PrivacyRequest, work: PrivacyWork): Promise<StepResult> {
    const before = new Set(work.hashes);
    const owners = await this.deps.profiles.owners(work.identifiers ?? [work.identifier]);
    const profiles = await this.deps.profiles.profiles(work.profileIds);
    if (owners.size === 0 && profiles.length === 0) return 'done';
    this.deps.logger.warn('data of an erased person came back while erasing; erasing again', { requestId: request.id, owners: owners.size, profiles: profiles.length });
    await this.resolve(request, work);
    if (work.hashes.some((hash) => !before.has(hash))) {
      request.step = 'suppress';
    } else {
      request.step = 'profiles';
    }
    return 'wait';
  }

  // --- Access.

  private partsPrefix(request: PrivacyRequest): string {
    return `${LakeLayout.privacyExportsPrefix}${request.id}/parts/`;
  }

  private async collectEvents(request: PrivacyRequest, work: PrivacyWork, deadline: number): Promise<StepResult> {
    const person = await this.matcher(work);
    const events = LakeAreas.filter((area) => area.store === 'lake.events');
    return this.eachLakeObject(work, events, deadline, async (area, key) => {
      const lines = await readLines(this.deps.lake, key);
      if (!lines) return;
      const store = outcome(request, area.store);
      store.objectsRead = (store.objectsRead ?? 0) + 1;
      const theirs = lines.filter((line) => {
        const row = JSON.parse(line) as unknown;
        return row !== null && typeof row === 'object' && area.matches(row as Record<string, unknown>, person);
      });
      if (theirs.length === 0) return;
      // Named by the object read, so a run repeated after a crash writes the same part again.
      await this.deps.lake.put({ key: `${this.partsPrefix(request)}${Buffer.from(key).toString('base64url')}.ndjson.gz`, ...gzipNdjson(theirs) });
      store.found += theirs.length;
    });
  }

  private async writeExport(request: PrivacyRequest, work: PrivacyWork): Promise<StepResult> {
    const events: unknown[] = [];
    const parts: string[] = [];
    for await (const key of this.deps.lake.listKeys(this.partsPrefix(request))) {
      parts.push(key);
      for (const line of (await readLines(this.deps.lake, key)) ?? []) events.push(JSON.parse(line));
    }
    // The same event delivered twice is in two objects; the export lists it once.
    const unique = [...new Map(events.map((e) => [(e as { message_id?: string }).message_id ?? JSON.stringify(e), e])).values()];
    const now = this.deps.now().getTime();
    const { live, profiles } = await this.graph(work.identifiers ?? [work.identifier]);
    const history = await this.deps.profiles.history(profiles.map((p) => p.id));
    const state = live?.state;
    const profile = state ? profileView(state, this.deps.config, now) : null;
    const exported = {
      request: { id: request.id, type: request.type, createdAt: request.createdAt, exportedAt: new Date(now).toISOString() },
      profile,
      identifiers: state ? state.identifiers : [work.identifier],
      mergedProfiles: profiles.filter((p) => p.id !== live?.id).map((p) => p.id),
      history,
      segments: state?.segments ? Object.entries(state.segments.members).map(([segmentId, since]) => ({ segmentId, since: new Date(since).toISOString() })) : [],
      consent: profile?.consent ?? {},
      events: unique,
    };
    const key = `${LakeLayout.privacyExportsPrefix}${request.id}.json`;
    await this.deps.lake.put({ key, body: JSON.stringify(exported, null, 2), contentType: 'application/json' });
    for (const part of parts) await this.deps.lake.delete(part);
    request.exportKey = key;
    request.stores.profiles = { found: profiles.length, removed: 0 };
    request.stores.export = { found: unique.length, removed: 0 };
    return 'done';
  }
}

/**
 * What is kept and logged of a step's failure. A JSON parser's message quotes the text it choked
 * on, which may be a person's data: only its kind is kept.
 */
function failureText(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown failure';
  return error instanceof SyntaxError ? 'SyntaxError: a lake object is not readable JSON' : `${error.name}: ${error.message}`;
}

function add(store: StoreOutcome, n: number): void {
  store.found += n;
  store.removed += n;
}

function uniqueIdentifiers(ids: readonly Identifier[]): Identifier[] {
  return [...new Map(ids.map((id) => [`${id.type}:${id.value}`, id])).values()];
}

/**
 * Member counts to take back for erased profiles: a membership counts once its entry was
 * delivered, so an entry still in the outbox was never counted and an exit still there was never
 * subtracted.
 */
export function memberCountDeltas(profiles: readonly VersionedProfile[]): Map<string, number> {
  const deltas = new Map<string, number>();
  const bump = (segmentId: string, by: number): void => {
    deltas.set(segmentId, (deltas.get(segmentId) ?? 0) + by);
  };
  for (const profile of profiles) {
    for (const segmentId of Object.keys(profile.state?.segments?.members ?? {})) bump(segmentId, -1);
    for (const change of profile.outbox) {
      const { segmentId } = change.detail as Partial<MembershipDetail>;
      if (segmentId === undefined) continue;
      if (change.kind === SegmentEntered) bump(segmentId, 1);
      if (change.kind === SegmentExited) bump(segmentId, -1);
    }
  }
  for (const [segmentId, delta] of deltas) if (delta === 0) deltas.delete(segmentId);
  return deltas;
}
