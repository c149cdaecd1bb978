import { ActivationLimits, LakeLayout, OutboxIndex } from '../contracts.js';
import { activationEvent, type ActivationEvent } from '../domain/activation-events.js';
import { consentsTo } from '../domain/consent.js';
import { rulePattern, type Destination } from '../domain/destinations.js';
import { matchesEventPattern, type EventPattern } from '../domain/event-pattern.js';
import { gzipNdjson } from '../domain/ndjson.js';
import { messageDigest } from '../domain/profile.js';
import type { OutboundChange } from '../domain/profile-write.js';
import { SegmentEntered, SegmentExited, type MembershipDetail } from '../domain/segments/membership.js';
import type { DestinationStore } from '../ports/destination-store.js';
import type { EventBus, PutOutcome } from '../ports/event-bus.js';
import type { AppLogger } from '../ports/logger.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { PendingOutbound, ProfileStore } from '../ports/profile-store.js';
import type { SegmentStore } from '../ports/segment-store.js';
import type { Telemetry } from '../ports/telemetry.js';
import { backoffDelay, sleep } from '../support/retry.js';

export interface PublisherDependencies {
  readonly profiles: ProfileStore;
  readonly segments: SegmentStore;
  readonly destinations: DestinationStore;
  /** Destinations declared in the stack's config file: routed like the stored ones. @default none */
  readonly declared?: readonly Destination[];
  readonly bus: EventBus;
  /** Where membership changes are recorded for `segment_changes`. */
  readonly lakeObjects: ObjectStore;
  readonly telemetry: Telemetry;
  readonly logger: AppLogger;
  readonly now: () => Date;
  /** Longest destinations and segment names read earlier are used. @default 10 s */
  readonly definitionsMaxAgeMs?: number;
  /** Profiles read per page of the outbox feed. @default 100 */
  readonly pageSize?: number;
  /** Attempts at putting an entry the bus refused for a passing reason, within one pass. @default 4 */
  readonly putAttempts?: number;
}

export interface PublishReport {
  /** Changes delivered (published to every destination they match) and acknowledged. */
  readonly changes: number;
  /** Bus entries accepted: one per change and destination it matches. */
  readonly published: number;
  /** Changes left in the outbox because the bus refused one of their entries; the next pass tries again. */
  readonly retained: number;
  /** Whether the deadline cut the pass short. */
  readonly more: boolean;
}

const MembershipKinds = new Set<string>([SegmentEntered, SegmentExited]);
/** A destination with its rule's pattern, built once per read of the definitions. */
interface Routed {
  readonly destination: Destination;
  readonly rule: EventPattern;
}
/** Entry failures that will never succeed: the event itself is refused. Others (throttling, internal) pass. */
const PermanentPutFailures = new Set(['MalformedDetail', 'InvalidArgument', 'ValidationException']);

/**
 * Activation's one consumer of the outbox (docs/activation.md). For each profile holding
 * undelivered changes, bucket by bucket:
 * 1. builds, for each change and each destination whose pattern matches it, the event with that
 *    destination's traits, and puts them on the bus in batches of ten, retrying refused entries;
 * 2. records membership changes in the lake (`segment_changes`) and adjusts member counts;
 * 3. acknowledges the changes whose every entry the bus accepted, which removes them from the
 *    profile's item.
 * A crash anywhere before 3 leaves the changes in the outbox, and the next pass publishes them
 * again under the same `eventId`: delivery is at least once, and the id makes it once for a
 * consumer that deduplicates.
 */
export class Publisher {
  private readonly pageSize: number;
  private readonly maxAgeMs: number;
  private cache: { at: number; destinations: readonly Routed[]; names: ReadonlyMap<string, string> } | undefined;

  constructor(private readonly deps: PublisherDependencies) {
    this.pageSize = deps.pageSize ?? 100;
    this.maxAgeMs = deps.definitionsMaxAgeMs ?? 10_000;
  }

  async run(deadline: number): Promise<PublishReport> {
    const totals = { changes: 0, published: 0, retained: 0 };
    for (let bucket = 0; bucket < OutboxIndex.buckets; bucket++) {
      for (;;) {
        if (Date.now() >= deadline) return this.report(totals, true);
        const pending = await this.deps.profiles.pendingOutbound(bucket, this.pageSize);
        if (pending.length === 0) break;
        const page = await this.publishPage(pending);
        totals.changes += page.changes;
        totals.published += page.published;
        totals.retained += page.retained;
        // A page whose every change stayed (the bus refusing) would be read again at once: leave it for the next pass.
        if (pending.length < this.pageSize || page.changes === 0) break;
      }
    }
    return this.report(totals, false);
  }

  private report(totals: { changes: number; published: number; retained: number }, more: boolean): PublishReport {
    if (totals.changes) this.deps.telemetry.count('OutboundChangesDelivered', totals.changes);
    if (totals.published) this.deps.telemetry.count('ActivationEventsPublished', totals.published);
    if (totals.retained) this.deps.telemetry.count('ActivationChangesRetained', totals.retained);
    return { ...totals, more };
  }

  private async definitions(): Promise<{ destinations: readonly Routed[]; names: ReadonlyMap<string, string> }> {
    const now = Date.now();
    if (this.cache && now - this.cache.at < this.maxAgeMs) return this.cache;
    const [stored, segments] = await Promise.all([this.deps.destinations.list(), this.deps.segments.list()]);
    const declared = this.deps.declared ?? [];
    const declaredIds = new Set(declared.map((d) => d.id));
    this.cache = {
      at: now,
      destinations: [...declared, ...stored.map((s) => s.destination).filter((d) => !declaredIds.has(d.id))].map((destination) => ({ destination, rule: rulePattern(destination) })),
      names: new Map(segments.map((s) => [s.id, s.name])),
    };
    return this.cache;
  }

  /**
   * Publishes changes kept in no outbox (`Profile Erased`: its profile is being removed) to every
   * destination they match, as a pass does. Their ids are
   * deterministic, so announcing again after a refusal is recognisable downstream. Says whether
   * the bus took every entry, and how many destinations got one.
   */
  async announce(pending: PendingOutbound): Promise<{ readonly accepted: boolean; readonly published: number }> {
    const { published, refused } = await this.publish([pending]);
    if (published > 0) this.deps.telemetry.count('ActivationEventsPublished', published);
    return { accepted: refused.size === 0, published };
  }

  /** Builds and puts the events of each change for each destination it matches; the ids of changes with an entry refused for a passing reason. */
  private async publish(pending: readonly PendingOutbound[]): Promise<{ published: number; refused: Set<string> }> {
    const { destinations, names } = await this.definitions();
    const entries: Array<{ changeId: string; event: ActivationEvent; destinationId: string }> = [];
    for (const { changes, profile } of pending) {
      for (const change of changes) {
        for (const { destination, rule } of destinations) {
          const event = activationEvent(change, { profile: profile ?? { identifiers: [], traits: {} }, segmentNames: names, traits: destination.traits, destinationId: destination.id });
          if (!matchesEventPattern(rule, event)) continue;
          // A profile that has not consented to every purpose the destination needs is not sent there; the change is still done with.
          if (destination.purposes && !consentsTo(profile?.consent, destination.purposes)) {
            this.deps.telemetry.count('ActivationEventsWithheld', 1, { destination: destination.id });
            continue;
          }
          entries.push({ changeId: change.id, event, destinationId: destination.id });
        }
      }
    }
    const refused = new Set<string>();
    const outcomes = await this.put(entries.map((e) => e.event));
    let published = 0;
    outcomes.forEach((outcome, i) => {
      const entry = entries[i]!;
      if (outcome.ok) {
        published++;
        this.deps.telemetry.count('DestinationEventsPublished', 1, { destination: entry.destinationId });
      } else if (PermanentPutFailures.has(outcome.code)) {
        // Never accepted however often it is put: counted and logged (ids only), not retried forever.
        this.deps.telemetry.count('ActivationEventsRefused', 1, { destination: entry.destinationId });
        this.deps.logger.error('the bus refused an activation event for good', { eventId: entry.changeId, destination: entry.destinationId, code: outcome.code, reason: outcome.message });
      } else {
        refused.add(entry.changeId);
      }
    });
    return { published, refused };
  }

  private async publishPage(pending: readonly PendingOutbound[]): Promise<{ changes: number; published: number; retained: number }> {
    const { published, refused } = await this.publish(pending);

    const delivered = pending.map((p) => ({ profileId: p.profileId, changes: p.changes.filter((c) => !refused.has(c.id)) }));
    const memberships = delivered.flatMap((p) => p.changes.filter((c) => MembershipKinds.has(c.kind)));
    if (memberships.length > 0) {
      await this.recordMembershipChanges(memberships);
      const deltas = new Map<string, number>();
      for (const change of memberships) {
        const { segmentId } = change.detail as MembershipDetail;
        deltas.set(segmentId, (deltas.get(segmentId) ?? 0) + (change.kind === SegmentEntered ? 1 : -1));
      }
      await this.deps.segments.adjustMemberCounts(deltas);
    }
    let changes = 0;
    for (const p of delivered) {
      if (p.changes.length === 0) continue;
      await this.deps.profiles.acknowledgeOutbound(p.profileId, p.changes.map((c) => c.id));
      changes += p.changes.length;
    }
    return { changes, published, retained: refused.size };
  }

  /** Puts events in batches of ten, putting refused entries again (with backoff) while attempts last; the outcome of each. */
  private async put(events: readonly ActivationEvent[]): Promise<PutOutcome[]> {
    const outcomes: PutOutcome[] = new Array<PutOutcome>(events.length);
    let waiting = events.map((_, i) => i);
    const attempts = this.deps.putAttempts ?? 4;
    for (let attempt = 1; waiting.length > 0; attempt++) {
      const next: number[] = [];
      for (let start = 0; start < waiting.length; start += ActivationLimits.entriesPerPut) {
        const batch = waiting.slice(start, start + ActivationLimits.entriesPerPut);
        let results: PutOutcome[];
        try {
          results = await this.deps.bus.putEvents(batch.map((i) => events[i]!));
        } catch (error) {
          // The call as a whole failed (network, throttled): every entry of the batch may be put again.
          this.deps.logger.warn('putting activation events failed; trying again', { error: String(error), attempt });
          results = batch.map(() => ({ ok: false, code: 'CallFailed', message: String(error) }));
        }
        batch.forEach((index, j) => {
          outcomes[index] = results[j]!;
          if (!results[j]!.ok && !PermanentPutFailures.has((results[j] as { code: string }).code)) next.push(index);
        });
      }
      if (next.length > 0) this.deps.telemetry.count('ActivationPutRetries', next.length);
      if (next.length === 0 || attempt >= attempts) break;
      await sleep(backoffDelay(attempt, 100, 2_000));
      waiting = next;
    }
    return outcomes;
  }

  private async recordMembershipChanges(changes: readonly OutboundChange[]): Promise<void> {
    const recordedAt = this.deps.now().toISOString();
    const byDate = new Map<string, string[]>();
    for (const change of changes) {
      const { segmentId, segmentVersion } = change.detail as MembershipDetail;
      const at = new Date(change.at).toISOString();
      const row = {
        change_id: change.id,
        kind: change.kind === SegmentEntered ? 'entered' : 'exited',
        segment_id: segmentId,
        segment_version: segmentVersion === undefined ? null : String(segmentVersion),
        profile_id: change.profileId,
        at,
        recorded_at: recordedAt,
      };
      const lines = byDate.get(at.slice(0, 10)) ?? [];
      lines.push(JSON.stringify(row));
      byDate.set(at.slice(0, 10), lines);
    }
    // One object per date and page; named by its content, so a page published again rewrites its own object.
    for (const [dt, lines] of byDate) {
      await this.deps.lakeObjects.put({ key: `${LakeLayout.segmentChangesPrefix}dt=${dt}/${messageDigest(lines.join('\n'))}.ndjson.gz`, ...gzipNdjson(lines) });
    }
  }
}
