import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CountingTelemetry } from '../../lambdas/adapters/local/counting-telemetry.js';
import { InMemoryDestinationStore } from '../../lambdas/adapters/memory/in-memory-destination-store.js';
import { InMemoryEventBus } from '../../lambdas/adapters/memory/in-memory-event-bus.js';
import { InMemoryObjectStore } from '../../lambdas/adapters/memory/in-memory-object-store.js';
import { InMemoryProfileStore } from '../../lambdas/adapters/memory/in-memory-profile-store.js';
import { InMemorySegmentStore } from '../../lambdas/adapters/memory/in-memory-segment-store.js';
import { silentLogger } from '../../lambdas/adapters/silent-observability.js';
import { LakeLayout, OutboxIndex } from '../../lambdas/contracts.js';
import type { ActivationEvent } from '../../lambdas/domain/activation-events.js';
import { parseDestination, type Destination } from '../../lambdas/domain/destinations.js';
import { defaultProfileConfig as config, limitOf } from '../../lambdas/domain/profile-config.js';
import { resolveEvents, type ResolveDependencies } from '../../lambdas/use-cases/resolve.js';
import { CachedSegmentSource } from '../../lambdas/use-cases/segment-source.js';
import { Publisher } from '../../lambdas/use-cases/publisher.js';
import { profileErasedChange } from '../../lambdas/domain/privacy-request.js';
import { collected } from '../helpers/events.js';

const NOW = Date.parse('2026-11-20T12:00:00Z');

const destination = (id: string, body: Record<string, unknown>): Destination => parseDestination(id, body, { allowLoopbackHttp: true }).destination;

async function world(destinations: Destination[], bus = new InMemoryEventBus()) {
  const profiles = new InMemoryProfileStore();
  const segments = new InMemorySegmentStore();
  const store = new InMemoryDestinationStore();
  for (const d of destinations) await store.save(d, { createdAt: NOW, updatedAt: NOW }, undefined);
  const now = () => new Date(NOW);
  await segments.save({ id: 'buyers', name: 'Buyers', condition: { event: 'Order Completed' }, version: 1, status: 'ready', createdAt: NOW, updatedAt: NOW }, undefined);
  await segments.save({ id: 'pros', name: 'Pros', condition: { trait: 'plan', op: 'eq', value: 'pro' }, version: 1, status: 'ready', createdAt: NOW, updatedAt: NOW }, undefined);
  const lakeObjects = new InMemoryObjectStore();
  const telemetry = new CountingTelemetry();
  const resolve: ResolveDependencies = { store: profiles, config, telemetry, logger: silentLogger, now, segments: new CachedSegmentSource(segments, config, { maxAgeMs: 0 }) };
  const publisher = new Publisher({ profiles, segments, destinations: store, bus, lakeObjects, telemetry, logger: silentLogger, now, definitionsMaxAgeMs: 0 });
  const pending = async () => (await Promise.all(Array.from({ length: OutboxIndex.buckets }, (_, b) => profiles.pendingOutbound(b)))).flat();
  return { profiles, segments, bus, lakeObjects, telemetry, resolve, publisher, pending };
}

const buyersHook = destination('buyers-hook', {
  type: 'webhook',
  url: 'https://hooks.example.com/buyers',
  auth: { type: 'api_key', header: 'x-api-key', value: 'secret' },
  pattern: { 'detail-type': ['Segment Entered', 'Segment Exited'], detail: { segmentId: ['buyers'] } },
  traits: ['email'],
});
const everything = destination('audit', { type: 'sqs', queueArn: 'arn:aws:sqs:eu-west-1:123456789012:audit', pattern: { source: ['cdp'] }, traits: ['plan'] });

const order = (userId: string, extra: Record<string, unknown> = {}) =>
  collected({ userId, event: 'Order Completed', properties: { revenue: 10 }, at: new Date(NOW - 1000).toISOString(), ...extra });

describe('the publisher', () => {
  it('puts one event per change and matching destination, each with its own traits, then records, counts and acknowledges', async () => {
    const w = await world([buyersHook, everything]);
    await resolveEvents([collected({ type: 'identify', userId: 'ana', traits: { email: 'ana@example.com', plan: 'pro' }, at: new Date(NOW - 2000).toISOString() }), order('ana')], w.resolve);
    expect((await w.pending()).flatMap((p) => p.changes.map((c) => c.kind)).sort()).toEqual(['Segment Entered', 'Segment Entered']);

    const report = await w.publisher.run(Date.now() + 5_000);
    expect(report).toMatchObject({ changes: 2, published: 3, retained: 0, more: false });
    const byDestination = (id: string) => w.bus.accepted.filter((e) => e.detail.destinationId === id);
    // The webhook asked for buyers only, with email; the audit queue gets both entries, with plan.
    expect(byDestination('buyers-hook')).toEqual([
      expect.objectContaining({ source: 'cdp', 'detail-type': 'Segment Entered', detail: expect.objectContaining({ segmentId: 'buyers', segmentName: 'Buyers', traits: { email: 'ana@example.com' } }) }),
    ]);
    expect(byDestination('audit').map((e) => [e.detail.segmentId, e.detail.traits]).sort()).toEqual([
      ['buyers', { plan: 'pro' }],
      ['pros', { plan: 'pro' }],
    ]);
    const ana = byDestination('buyers-hook')[0]!.detail;
    expect(ana).toMatchObject({ schemaVersion: 1, identifiers: [{ type: 'user_id', value: 'ana' }, { type: 'email', value: 'ana@example.com' }] });
    // The same change has the same id for every destination: what consumers deduplicate on.
    expect(byDestination('audit').map((e) => e.detail.eventId)).toContain(ana.eventId);

    expect(await w.pending()).toEqual([]);
    expect((await w.segments.get('buyers'))!.memberCount).toBe(1);
    const rows = [...w.lakeObjects.objects].filter(([key]) => key.startsWith(LakeLayout.segmentChangesPrefix)).flatMap(([, body]) => gunzipSync(body).toString('utf8').trim().split('\n'));
    expect(rows.map((r) => (JSON.parse(r) as { segment_id: string }).segment_id).sort()).toEqual(['buyers', 'pros']);
    expect(w.telemetry.snapshot()).toMatchObject({ ActivationEventsPublished: 3, OutboundChangesDelivered: 2 });
  });

  it('acknowledges changes no destination wants (they are still recorded in the lake) and puts nothing', async () => {
    const w = await world([]);
    await resolveEvents([order('bob')], w.resolve);
    expect(await w.publisher.run(Date.now() + 5_000)).toMatchObject({ changes: 1, published: 0 });
    expect(w.bus.calls).toBe(0);
    expect(await w.pending()).toEqual([]);
  });

  it('puts entries the bus refused (FailedEntryCount) again, and never more than ten per call', async () => {
    const refusedOnce = new Set<string>();
    const bus = new InMemoryEventBus((event) => {
      const key = `${event.detail.eventId}|${String(event.detail.destinationId)}`;
      if (refusedOnce.has(key)) return undefined;
      refusedOnce.add(key);
      return { ok: false, code: 'ThrottlingException', message: 'Rate exceeded' };
    });
    const w = await world([everything], bus);
    await resolveEvents(Array.from({ length: 12 }, (_, i) => order(`p${i}`)), w.resolve);
    const report = await w.publisher.run(Date.now() + 5_000);
    expect(report).toMatchObject({ changes: 12, published: 12, retained: 0 });
    // Every entry refused once, then accepted (the bus throws on more than ten entries in a call).
    expect(new Set(bus.accepted.map((e) => e.detail.eventId)).size).toBe(12);
    expect(w.telemetry.snapshot().ActivationPutRetries).toBe(12);
  });

  it('splits what one page puts into calls of at most ten entries', async () => {
    const queues = Array.from({ length: 23 }, (_, i) => destination(`q${i}`, { type: 'sqs', queueArn: `arn:aws:sqs:eu-west-1:123456789012:q${i}`, pattern: { source: ['cdp'] } }));
    const w = await world(queues);
    await resolveEvents([order('fay')], w.resolve);
    expect(await w.publisher.run(Date.now() + 5_000)).toMatchObject({ changes: 1, published: 23 });
    expect(w.bus.calls).toBe(3);
  });

  it('leaves changes in the outbox while the bus refuses them, and puts them again later under the same ids', async () => {
    let refusing = true;
    const bus = new InMemoryEventBus(() => (refusing ? { ok: false, code: 'InternalFailure', message: 'try again' } : undefined));
    const w = await world([buyersHook], bus);
    await resolveEvents([order('cy')], w.resolve);
    const [before] = await w.pending();
    expect(await w.publisher.run(Date.now() + 5_000)).toMatchObject({ changes: 0, published: 0, retained: 1 });
    expect(await w.pending()).toEqual([before]);
    // Nothing reached the lake or the member count either: the change is delivered whole or not at all.
    expect((await w.segments.get('buyers'))!.memberCount).toBe(0);
    refusing = false;
    expect(await w.publisher.run(Date.now() + 5_000)).toMatchObject({ changes: 1, published: 1 });
    expect(bus.accepted.map((e) => e.detail.eventId)).toEqual([before!.changes[0]!.id]);
    expect(await w.pending()).toEqual([]);
  });

  it('drops (and counts) an event the bus will never accept, instead of holding the outbox forever', async () => {
    const bus = new InMemoryEventBus(() => ({ ok: false, code: 'MalformedDetail', message: 'Detail is malformed' }));
    const w = await world([buyersHook], bus);
    await resolveEvents([order('dee')], w.resolve);
    expect(await w.publisher.run(Date.now() + 5_000)).toMatchObject({ changes: 1, published: 0, retained: 0 });
    expect(w.telemetry.snapshot()).toMatchObject({ 'ActivationEventsRefused{destination=buyers-hook}': 1 });
    expect(await w.pending()).toEqual([]);
  });

  it('publishes Profile Merged and Identity Limit Reached, recorded in the write that merged or dropped', async () => {
    const all = destination('all', { type: 'sqs', queueArn: 'arn:aws:sqs:eu-west-1:123456789012:all', pattern: { 'detail-type': ['Profile Merged', 'Identity Limit Reached'] } });
    const w = await world([all]);
    const at = (s: number) => new Date(NOW - 10_000 + s * 1000).toISOString();
    await resolveEvents([collected({ anonymousId: 'anon-1', at: at(0) }), collected({ userId: 'eve', at: at(1) })], w.resolve);
    await resolveEvents([collected({ type: 'identify', userId: 'eve', anonymousId: 'anon-1', at: at(2) })], w.resolve);
    // Past the per-profile limit of emails (limitOf), the next one is dropped.
    const emails = Array.from({ length: limitOf(config, 'email') + 1 }, (_, i) => collected({ type: 'identify', userId: 'eve', traits: { email: `eve${i}@example.com` }, at: at(3 + i) }));
    await resolveEvents(emails, w.resolve);
    await w.publisher.run(Date.now() + 5_000);
    const kinds = w.bus.accepted.map((e: ActivationEvent) => e['detail-type']);
    expect(kinds.filter((k) => k === 'Profile Merged')).toHaveLength(1);
    const merged = w.bus.accepted.find((e) => e['detail-type'] === 'Profile Merged')!.detail;
    expect(merged).toMatchObject({ absorbedProfileId: expect.any(String), reason: { rule: 'identify', eventType: 'identify', identifier: expect.objectContaining({ type: expect.any(String) }) } });
    const limited = w.bus.accepted.filter((e) => e['detail-type'] === 'Identity Limit Reached').map((e) => e.detail);
    expect(limited).toEqual([expect.objectContaining({ identifierType: 'email', reason: 'limit:email' })]);

    // Replaying the same batches records the same changes again, under the same ids: nothing new goes out.
    const published = w.bus.accepted.length;
    await resolveEvents(emails, w.resolve);
    await w.publisher.run(Date.now() + 5_000);
    expect(w.bus.accepted.length).toBe(published);
  });

  it('announces a change kept in no outbox (Profile Erased) to the destinations that match it, with the identifiers and no traits', async () => {
    const w = await world([buyersHook, everything]);
    const change = profileErasedChange('pr_1', 'p-ana', NOW);
    const identifiers = [{ type: 'user_id', value: 'ana' }, { type: 'email', value: 'ana@example.com' }];
    expect(await w.publisher.announce({ profileId: 'p-ana', changes: [change], profile: { identifiers, traits: {} } })).toEqual({ accepted: true, published: 1 });
    expect(w.bus.accepted).toHaveLength(1);
    expect(w.bus.accepted[0]).toMatchObject({ 'detail-type': 'Profile Erased', detail: { destinationId: 'audit', eventId: change.id, profileId: 'p-ana', identifiers, requestId: 'pr_1' } });
    expect(w.bus.accepted[0]!.detail).not.toHaveProperty('traits');
  });

  it('sends a profile only to destinations whose consent purposes it granted, and a withdrawal holds from the next event on', async () => {
    const ads = destination('ads', { type: 'sqs', queueArn: 'arn:aws:sqs:eu-west-1:123456789012:ads', pattern: { 'detail-type': ['Segment Entered', 'Segment Exited'] }, purposes: ['Advertising'] });
    const w = await world([ads, everything]);
    const consent = (granted: boolean) => ({ consent: { categoryPreferences: { Advertising: granted, Analytics: true } } });
    await resolveEvents([order('ana', { context: consent(true) }), order('bea', { context: consent(false) }), order('cy')], w.resolve);
    await w.publisher.run(Date.now() + 5_000);
    const about = (id: string) => w.bus.accepted.filter((e) => e.detail.destinationId === id).map((e) => e.detail.identifiers[0]!.value).sort();
    expect(about('ads')).toEqual(['ana']);
    expect(about('audit')).toEqual(['ana', 'bea', 'cy']);
    expect(w.telemetry.snapshot()['ActivationEventsWithheld{destination=ads}']).toBe(2);
    // Every change was done with: nothing waits in the outbox for consent.
    expect(await w.pending()).toEqual([]);

    // Ana withdraws with her next event, which also puts her in another segment: that entry is not sent to ads.
    await resolveEvents([collected({ type: 'identify', userId: 'ana', traits: { plan: 'pro' }, context: consent(false), at: new Date(NOW - 500).toISOString() })], w.resolve);
    await w.publisher.run(Date.now() + 5_000);
    expect(about('ads')).toEqual(['ana']);
    expect(w.bus.accepted.filter((e) => e.detail.destinationId === 'audit' && e.detail.segmentId === 'pros')).toHaveLength(1);
  });
});
