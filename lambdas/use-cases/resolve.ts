import { IdentityGraph, type GraphChanges } from '../domain/identity-graph.js';
import { identifierKey, identifiersOf, parseIdentifierKey, type Identifier } from '../domain/identifiers.js';
import { decodeCollectedEvent, type CollectedEvent } from '../domain/intake.js';
import type { ProfileConfig } from '../domain/profile-config.js';
import { backoffDelay, sleep } from '../support/retry.js';
import type { DeadLetterStore } from '../ports/dead-letter-store.js';
import type { AppLogger } from '../ports/logger.js';
import { ConcurrentUpdateError, type ProfileStore, type VersionedProfile } from '../ports/profile-store.js';
import type { OutboundChange, ProfileDerivation } from '../domain/profile-write.js';
import { historyChange } from '../domain/activation-events.js';
import { ProfileWriter, type ProfileWriteReport } from './profile-writer.js';
import type { Telemetry } from '../ports/telemetry.js';
import type { DeliveredRecord } from '../ports/event-stream.js';
import { SegmentMembership } from '../domain/segments/membership.js';
import type { SegmentSet } from '../domain/segments/segment-set.js';
import type { TrackIndex } from '../domain/segments/tracks.js';
import { batchName, type IdentityLog } from './identity-log.js';
import type { SegmentSource } from './segment-source.js';
import type { SuppressionFilter } from './suppression.js';

export interface ResolveDependencies {
  readonly store: ProfileStore;
  readonly config: ProfileConfig;
  readonly telemetry: Telemetry;
  readonly logger: AppLogger;
  readonly now: () => Date;
  /** Reload-and-replan attempts when another writer got there first. @default 8 */
  readonly maxAttempts?: number;
  /** Concurrent writes per batch. @default 16 */
  readonly writeConcurrency?: number;
  /** What is kept up to date from each profile on every write. @default none */
  readonly derivations?: readonly ProfileDerivation[];
  /** The segments evaluated in every write (their memberships, tracks and due times). @default none */
  readonly segments?: SegmentSource;
  /** Where identifier placements are recorded for the lake's `identities`. @default not recorded */
  readonly identityLog?: IdentityLog;
  /** Skips events about suppressed people: the stream, a redrive or a rebuild never brings them back. @default none skipped */
  readonly suppression?: SuppressionFilter;
}

export interface IsolatingResolveDependencies extends ResolveDependencies {
  /** Where records that fail on their own are kept, so the rest of the shard moves on. */
  readonly deadLetters: DeadLetterStore;
}

/** Something the resolver cannot process; the batch is retried, bisected and dead-lettered. */
export class ResolveError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ResolveError';
  }
}

/**
 * Applies a delivered batch to the profile store with one conditional write per touched profile.
 * On a conflict (another resolver changed a profile or claimed an identifier) the whole batch is
 * re-planned from fresh reads; events already applied are recognised by their messageId digests
 * and skipped, so a retry, a redelivery or a crash at any step never applies an effect twice.
 */
export async function resolveBatch(records: readonly DeliveredRecord[], deps: ResolveDependencies): Promise<void> {
  const events: CollectedEvent[] = [];
  for (const record of records) {
    const event = decodeCollectedEvent(Buffer.from(record.data, 'base64').toString('utf8'));
    if (event) events.push(event);
    else deps.logger.warn('skipping an undecodable stream record (the archiver quarantines it)', { sequenceNumber: record.sequenceNumber });
  }
  await resolveEvents(events, deps);
}

/** Applies decoded events (a stream batch, or a page of the lake in a rebuild); see resolveBatch. */
export async function resolveEvents(events: readonly CollectedEvent[], deps: ResolveDependencies): Promise<void> {
  if (deps.suppression) events = await deps.suppression.keep(events, (event, person) => person.matchesEvent(event));
  if (events.length === 0) return;
  const maxAttempts = deps.maxAttempts ?? 8;
  for (let attempt = 1; ; attempt++) {
    try {
      await resolveOnce(events, deps);
      return;
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError)) throw error;
      deps.telemetry.count('ProfileWriteConflicts');
      if (attempt >= maxAttempts) throw new ResolveError(`gave up after ${attempt} conflicting attempts: ${error.message}`, { cause: error });
      await sleep(backoffDelay(attempt, 20, 1_000));
    }
  }
}

/**
 * Resolves a delivered batch and isolates any record that fails for a reason of its own (a bug
 * its data triggers): the batch is bisected until that record is alone, the record goes to the
 * dead-letter store with the error, and every other record is applied. Failures of the platform
 * (throttling, timeouts, 5xx, conflicts that would not settle) are thrown instead, so the whole
 * batch is retried by the event source mapping and nothing is dead-lettered for a passing outage.
 */
export async function resolveIsolating(records: readonly DeliveredRecord[], deps: IsolatingResolveDependencies): Promise<void> {
  try {
    await resolveBatch(records, deps);
  } catch (error) {
    if (isPlatformFailure(error)) throw error;
    if (records.length > 1) {
      const middle = Math.ceil(records.length / 2);
      await resolveIsolating(records.slice(0, middle), deps);
      await resolveIsolating(records.slice(middle), deps);
      return;
    }
    await deadLetter(records[0]!, error instanceof Error ? error : new Error(String(error)), deps);
  }
}

async function deadLetter(record: DeliveredRecord, error: Error, deps: IsolatingResolveDependencies): Promise<void> {
  const messageId = decodeCollectedEvent(Buffer.from(record.data, 'base64').toString('utf8'))?.messageId;
  await deps.deadLetters.put({
    consumer: 'resolver',
    shardId: record.shardId,
    reason: `${error.name}: ${error.message}`,
    ...(error.stack ? { stack: error.stack } : {}),
    failedAt: deps.now().toISOString(),
    ...(messageId ? { messageId } : {}),
    records: [{ sequenceNumber: record.sequenceNumber, data: record.data }],
  });
  deps.telemetry.count('RecordsDeadLettered', 1, { consumer: 'resolver' });
  // The message id is the correlation id; the event's contents stay out of the logs.
  deps.logger.error('a record failed on its own and was dead-lettered; the rest of the batch was applied', {
    correlationId: messageId,
    shardId: record.shardId,
    sequenceNumber: record.sequenceNumber,
    error: `${error.name}: ${error.message}`,
  });
}

/** Failures of the platform rather than of a record: retrying the same batch later can succeed. */
export function isPlatformFailure(error: unknown): boolean {
  if (error instanceof ConcurrentUpdateError || error instanceof ResolveError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { $metadata?: unknown; name?: string; code?: string };
  if (e.$metadata !== undefined) return true;
  return TransientNames.has(e.name ?? '') || TransientNames.has(e.code ?? '');
}

const TransientNames = new Set(['TimeoutError', 'AbortError', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

/** What the store held for each profile loaded into a graph: the state a write replaces, its version and its outbox. */
export type LoadedProfiles = ReadonlyMap<string, VersionedProfile>;

/** Loads the part of the graph these events touch: owners, their profiles, and redirect targets. */
export async function loadGraph(
  store: ProfileStore,
  config: ProfileConfig,
  now: number,
  identifiers: readonly Identifier[],
  tracking?: TrackIndex,
): Promise<{ graph: IdentityGraph; loaded: LoadedProfiles }> {
  const graph = new IdentityGraph(config, now, tracking);
  const loaded = new Map<string, VersionedProfile>();
  const owners = await store.owners(identifiers);
  for (const [key, profileId] of owners) graph.loadOwner(parseIdentifierKey(key)!, profileId);
  const requested = new Set<string>();
  let wanted = [...new Set(owners.values())];
  while (wanted.length > 0) {
    for (const id of wanted) requested.add(id);
    for (const profile of await store.profiles(wanted)) {
      loaded.set(profile.id, profile);
      graph.loadProfile(profile);
    }
    wanted = graph.missingTargets().filter((id) => !requested.has(id));
  }
  graph.completeMerges();
  graph.adoptOrphans();
  return { graph, loaded };
}

async function resolveOnce(events: readonly CollectedEvent[], deps: ResolveDependencies): Promise<void> {
  const identifiers = new Map<string, Identifier>();
  for (const event of events) for (const id of identifiersOf(event, deps.config)) identifiers.set(identifierKey(id), id);
  const segments = await deps.segments?.current();
  // The time of the reads every write below is conditional on: what the identity log is stamped with.
  const readAt = deps.now().getTime();
  const { graph, loaded } = await loadGraph(deps.store, deps.config, readAt, [...identifiers.values()], segments?.tracking);
  const replayed = events.filter((event) => graph.apply(event) === 'duplicate');
  await persist(graph.changes(), loaded, deps, segments);
  await deps.identityLog?.record(graph.placements(events, replayed), readAt, batchName(events.map((e) => e.messageId)));

  const { stats } = graph;
  deps.telemetry.count('ProfileEventsApplied', stats.applied);
  if (stats.duplicates) deps.telemetry.count('ProfileDuplicatesSkipped', stats.duplicates);
  if (stats.unidentified) deps.telemetry.count('UnidentifiedEvents', stats.unidentified);
  if (stats.merges) deps.telemetry.count('ProfileMerges', stats.merges);
  if (stats.linksDropped) deps.telemetry.count('IdentifierLinksDropped', stats.linksDropped);
  if (stats.traitsRefused) deps.telemetry.count('TraitsRefused', stats.traitsRefused);
  for (const [reason, n] of Object.entries(stats.identifiersRefused)) deps.telemetry.count('IdentifiersRefused', n, { reason });
  for (const entry of graph.history) {
    if (entry.kind === 'merge') deps.logger.info('profiles merged', { survivor: entry.profileId, absorbed: entry.absorbed, rule: entry.reason.rule, messageId: entry.reason.messageId });
    if (entry.kind === 'link_dropped') deps.logger.info('identifier link dropped', { profileId: entry.profileId, identifierType: entry.identifier.type, reason: entry.reason, messageId: entry.messageId });
  }
}

/**
 * Writes what a graph changed through the profile writer, each write conditional on what was
 * loaded, with segment memberships evaluated in the same writes.
 */
export async function persist(changes: GraphChanges, loaded: LoadedProfiles, deps: ResolveDependencies, segments?: SegmentSet): Promise<ProfileWriteReport> {
  const writer = new ProfileWriter({
    store: deps.store,
    telemetry: deps.telemetry,
    now: deps.now,
    derivations: [...(deps.derivations ?? []), ...(segments ? [new SegmentMembership(segments, deps.config)] : [])],
    ...(deps.writeConcurrency ? { concurrency: deps.writeConcurrency } : {}),
  });
  const announced = new Map<string, OutboundChange[]>();
  for (const entry of changes.history) {
    const change = historyChange(entry);
    if (change) announced.set(change.profileId, [...(announced.get(change.profileId) ?? []), change]);
  }
  return writer.write({
    frozen: changes.frozen.map((f) => ({ ...f, expectedVersion: loaded.get(f.id)?.version ?? 0 })),
    claims: changes.claims,
    profiles: changes.profiles.map(({ state, isNew }) => {
      const stored = isNew ? undefined : loaded.get(state.id);
      const outbound = announced.get(state.id);
      return { before: stored?.state, expectedVersion: stored?.version, pending: stored?.outbox ?? [], after: state, ...(outbound ? { outbound } : {}) };
    }),
    repoints: changes.repoints,
    releases: changes.releases,
    // Restored entries were announced by the write that decided them; they are only recorded.
    history: [...changes.history, ...changes.restoredHistory],
  });
}
