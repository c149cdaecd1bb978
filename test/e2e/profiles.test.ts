import { Analytics } from '@segment/analytics-node';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../lambdas/domain/identity-graph.js';
import type { LinkedEntry, ProfileView } from '../../lambdas/domain/profile-view.js';
import type { TimelineEvent } from '../../lambdas/domain/timeline.js';
import { basicAuth, eventually, startRuntimeProcess, type RuntimeProcess } from '../helpers/local-process.js';

/** Identifiers without their link explanations (tested in test/unit/link-explanations.test.ts). */
const plain = (identifiers: ProfileView['identifiers']) => identifiers.map(({ type, value }) => ({ type, value }));

interface HistoryPage {
  readonly profileId: string;
  readonly history: Array<HistoryEntry | LinkedEntry>;
}
interface TimelinePage {
  readonly events: TimelineEvent[];
  readonly nextCursor: string | null;
}

const dataDir = mkdtempSync(join(tmpdir(), 'cdp-profiles-'));
let runtime: RuntimeProcess;
const admin = { authorization: 'Bearer dev-admin-token' };

beforeAll(async () => {
  runtime = await startRuntimeProcess(dataDir, { CDP_RESOLVER_BATCH_WINDOW_MS: '200' });
});
afterAll(async () => {
  await runtime?.kill('SIGTERM');
});

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${runtime.url}${path}`, { ...init, headers: { ...admin, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });

async function profile(ref: string): Promise<ProfileView> {
  const response = await api(`/v1/profiles/${ref}`);
  expect(response.status, `${ref}: ${await response.clone().text()}`).toBe(200);
  return (await response.json()) as ProfileView;
}

/** Waits until the profile API shows `count` events for `ref` (the resolver runs asynchronously). */
async function settled(ref: string, count: number): Promise<ProfileView> {
  let last: ProfileView | undefined;
  await eventually(
    async () => {
      const response = await api(`/v1/profiles/${ref}`);
      last = (await response.json()) as ProfileView;
      if (response.status !== 200) return false;
      const counts = Object.values(last.computed.event_counts);
      const total = counts.reduce((a, b) => a + b, 0);
      if (total > count) throw new Error(`${ref} has ${total} events, expected ${count}: ${JSON.stringify(last)}`);
      return total === count;
    },
    20_000,
    `${count} events on ${ref}`,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last answer: ${JSON.stringify(last)}`);
  });
  return last!;
}

function client(): Analytics {
  return new Analytics({ writeKey: 'dev-write-key', host: runtime.url, flushAt: 50, flushInterval: 50, maxRetries: 2 });
}

describe('unified profiles through the local runtime', () => {
  it('anonymous browsing, sign-up, then logins on several devices end in one profile', async () => {
    const run = randomUUID().slice(0, 8);
    const [laptop, phone, tablet] = [`laptop-${run}`, `phone-${run}`, `tablet-${run}`] as const;
    const userId = `user-${run}`;
    const analytics = client();
    analytics.track({ anonymousId: laptop, event: 'Product Viewed', timestamp: new Date('2026-11-01T10:00:00Z') });
    analytics.track({ anonymousId: laptop, event: 'Order Completed', properties: { revenue: 30 }, timestamp: new Date('2026-11-01T10:05:00Z') });
    analytics.identify({ anonymousId: laptop, userId, traits: { email: `Ana.${run}@Example.com`, plan: 'free' }, timestamp: new Date('2026-11-01T10:06:00Z') });
    analytics.page({ anonymousId: phone, name: 'Home', timestamp: new Date('2026-11-02T08:00:00Z') });
    analytics.track({ anonymousId: phone, event: 'Order Completed', properties: { revenue: 12.5 }, timestamp: new Date('2026-11-02T08:01:00Z') });
    analytics.identify({ anonymousId: phone, userId, timestamp: new Date('2026-11-02T08:02:00Z') });
    analytics.identify({ anonymousId: tablet, traits: { email: `ana.${run}@example.com` }, timestamp: new Date('2026-11-03T08:02:00Z') });
    await analytics.closeAndFlush();

    const view = await settled(`user_id:${userId}`, 7);
    expect(plain(view.identifiers)).toEqual([
      { type: 'user_id', value: userId },
      { type: 'email', value: `ana.${run}@example.com` },
      ...[laptop, phone, tablet].sort().map((value) => ({ type: 'anonymous_id', value })),
    ]);
    expect(view.traits).toEqual({ email: `ana.${run}@example.com`, plan: 'free' });
    expect(view.computed).toMatchObject({ orders_count: 2, total_revenue: 42.5, average_order_value: 21.25 });
    // Event times are corrected for the client's clock skew (receivedAt - (sentAt - timestamp)), so allow the milliseconds in flight.
    expect(Math.abs(Date.parse(view.computed.first_seen ?? '') - Date.parse('2026-11-01T10:00:00Z'))).toBeLessThan(5_000);
    // Any identifier, including those of merged-away profiles, reaches the same person.
    for (const ref of [`anonymous_id:${phone}`, `email:${encodeURIComponent(`ANA.${run}@example.com`)}`, `anonymous_id:${tablet}`]) {
      expect((await profile(ref)).id).toBe(view.id);
    }
    const merges = (await (await api(`/v1/profiles/user_id:${userId}/merges`)).json()) as HistoryPage;
    // Which profiles merge into which depends on how events fall into batches and shards; a login always explains itself.
    expect(merges.history).toContainEqual(expect.objectContaining({ kind: 'merge', reason: expect.objectContaining({ rule: 'identify' }) }));
    // Every identifier says how it got here, however the devices fell into batches, and /merges lists each link.
    for (const identifier of view.identifiers) {
      expect(identifier.linkedBy, identifier.value).toMatchObject({ rule: expect.stringMatching(/^(first|identify|merge)$/), at: expect.any(String) });
    }
    expect(merges.history.filter((h) => h.kind === 'linked').map((h) => (h).identifier.value).sort()).toEqual(view.identifiers.map((i) => i.value).sort());

    // The timeline comes from the lake, newest first, in pages.
    const events: TimelineEvent[] = [];
    let cursor: string | null = null;
    await eventually(async () => ((await (await api(`/v1/profiles/user_id:${userId}/events?limit=100`)).json()) as { events: unknown[] }).events.length === 7, 20_000, 'lake timeline');
    do {
      const page = (await (await api(`/v1/profiles/user_id:${userId}/events?limit=3${cursor ? `&cursor=${cursor}` : ''}`)).json()) as TimelinePage;
      events.push(...page.events);
      cursor = page.nextCursor;
    } while (cursor);
    expect(events).toHaveLength(7);
    expect(events.map((e) => e.timestamp)).toEqual([...events.map((e) => e.timestamp)].sort().reverse());
    expect(new Set(events.map((e) => e.messageId)).size).toBe(7);
  });

  it('a shared device never merges two user ids, and junk identifiers link nobody', async () => {
    const run = randomUUID().slice(0, 8);
    const shared = `kiosk-${run}`;
    const analytics = client();
    analytics.identify({ anonymousId: shared, userId: `ana-${run}`, traits: { email: `ana-${run}@example.com` } });
    analytics.identify({ anonymousId: shared, userId: `bob-${run}`, traits: { email: `bob-${run}@example.com` } });
    for (const junk of ['null', 'anonymous', '0', '00000']) {
      analytics.track({ userId: `carol-${run}`, anonymousId: junk, event: 'Clicked' });
      analytics.track({ userId: `dave-${run}`, anonymousId: junk, event: 'Clicked' });
    }
    await analytics.closeAndFlush();
    const ana = await settled(`user_id:ana-${run}`, 1);
    const bob = await settled(`user_id:bob-${run}`, 1);
    expect(ana.id).not.toBe(bob.id);
    expect(plain(bob.identifiers)).toEqual([{ type: 'user_id', value: `bob-${run}` }, { type: 'email', value: `bob-${run}@example.com` }]);
    const merges = (await (await api(`/v1/profiles/user_id:bob-${run}/merges`)).json()) as HistoryPage;
    expect(merges.history).toContainEqual(expect.objectContaining({ kind: 'link_dropped', reason: 'limit:user_id', identifier: { type: 'anonymous_id', value: shared } }));
    const carol = await settled(`user_id:carol-${run}`, 4);
    const dave = await settled(`user_id:dave-${run}`, 4);
    expect(carol.id).not.toBe(dave.id);
    expect(plain(carol.identifiers)).toEqual([{ type: 'user_id', value: `carol-${run}` }]);
    const placeholder = await api('/v1/profiles/anonymous_id:null');
    expect(placeholder.status).toBe(400);
    expect(await placeholder.json()).toMatchObject({ details: [{ field: 'ref', reason: expect.stringContaining('placeholder') }] });
  });

  it('a late, older event does not overwrite a newer trait', async () => {
    const run = randomUUID().slice(0, 8);
    const analytics = client();
    analytics.identify({ userId: `late-${run}`, traits: { plan: 'pro', city: 'Porto' }, timestamp: new Date('2026-11-10T00:00:00Z') });
    await analytics.closeAndFlush();
    await settled(`user_id:late-${run}`, 1);
    const late = client();
    late.identify({ userId: `late-${run}`, traits: { plan: 'free', city: null, initial_referrer: 'news' }, timestamp: new Date('2026-11-01T00:00:00Z') });
    await late.closeAndFlush();
    const view = await settled(`user_id:late-${run}`, 2);
    expect(view.traits).toEqual({ plan: 'pro', city: 'Porto', initial_referrer: 'news' });
  });

  it('an admin splits a wrong merge, with the events the identifier brought', async () => {
    const run = randomUUID().slice(0, 8);
    const analytics = client();
    const borrowed = `borrowed-${run}`;
    analytics.track({ anonymousId: borrowed, event: 'Order Completed', properties: { revenue: 99 }, timestamp: new Date('2026-11-05T10:00:00Z') });
    analytics.track({ anonymousId: borrowed, event: 'Product Viewed', timestamp: new Date('2026-11-05T10:01:00Z') });
    analytics.identify({ anonymousId: borrowed, userId: `eve-${run}`, timestamp: new Date('2026-11-05T10:02:00Z') });
    analytics.track({ userId: `eve-${run}`, event: 'Order Completed', properties: { revenue: 10 }, timestamp: new Date('2026-11-06T10:00:00Z') });
    await analytics.closeAndFlush();
    const merged = await settled(`user_id:eve-${run}`, 4);
    expect(merged.computed.orders_count).toBe(2);
    await eventually(async () => ((await (await api(`/v1/profiles/user_id:eve-${run}/events`)).json()) as { events: unknown[] }).events.length === 4, 20_000, 'lake has the events');

    const split = async () =>
      api(`/v1/profiles/user_id:eve-${run}/split`, { method: 'POST', body: JSON.stringify({ identifier: { type: 'anonymous_id', value: borrowed } }) });
    const response = await split();
    expect(response.status, await response.clone().text()).toBe(200);
    const result = (await response.json()) as { profile: ProfileView; split: ProfileView };
    expect(plain(result.profile.identifiers)).toEqual([{ type: 'user_id', value: `eve-${run}` }]);
    expect(result.profile.computed).toMatchObject({ orders_count: 1, total_revenue: 10, event_counts: { 'Order Completed': 1, $identify: 1 } });
    expect(plain(result.split.identifiers)).toEqual([{ type: 'anonymous_id', value: borrowed }]);
    expect(result.split.computed).toMatchObject({ orders_count: 1, total_revenue: 99, event_counts: { 'Order Completed': 1, 'Product Viewed': 1 } });
    expect((await profile(`anonymous_id:${borrowed}`)).id).toBe(result.split.id);
    // Idempotent, and the two never merge again, even when the device and the user meet again.
    expect((await split()).status).toBe(200);
    const again = client();
    again.identify({ anonymousId: borrowed, userId: `eve-${run}`, timestamp: new Date('2026-11-07T10:00:00Z') });
    await again.closeAndFlush();
    const after = await settled(`user_id:eve-${run}`, 3);
    expect(after.id).toBe(result.profile.id);
    expect((await profile(`anonymous_id:${borrowed}`)).id).toBe(result.split.id);
    const history = (await (await api(`/v1/profiles/user_id:eve-${run}/merges`)).json()) as HistoryPage;
    expect(history.history.map((h) => h.kind)).toContain('split');
    expect(history.history).toContainEqual(expect.objectContaining({ kind: 'link_dropped', reason: 'apart' }));
  });

  it('identifier values reach lake SQL only as escaped literals', async () => {
    const run = randomUUID().slice(0, 8);
    const hostile = `o'brien-${run}' OR '1'='1`;
    const analytics = client();
    analytics.track({ userId: hostile, event: 'Clicked' });
    analytics.track({ userId: `someone-else-${run}`, event: 'Clicked' });
    await analytics.closeAndFlush();
    await settled(`user_id:${encodeURIComponent(hostile)}`, 1);
    let events: Array<{ userId: string }> = [];
    await eventually(async () => {
      const page = (await (await api(`/v1/profiles/user_id:${encodeURIComponent(hostile)}/events`)).json()) as { events: Array<{ userId: string }> };
      events = page.events;
      return events.length > 0;
    }, 20_000, 'timeline');
    expect(events.map((e) => e.userId)).toEqual([hostile]);
  });

  it('refuses at the gateway, as API Gateway\'s authorizer does, anything but an admin token', async () => {
    const cases: Array<[Record<string, string>, number, string]> = [
      [{}, 401, 'Unauthorized'],
      [{ authorization: basicAuth('dev-write-key') }, 403, 'Forbidden'],
      [{ authorization: 'Bearer dev-write-key' }, 403, 'Forbidden'],
      [{ authorization: 'Bearer wrong' }, 403, 'Forbidden'],
    ];
    for (const [headers, status, message] of cases) {
      for (const path of ['/v1/profiles/user_id:x', '/v1/profiles/user_id:x/split']) {
        const response = await fetch(`${runtime.url}${path}`, { headers });
        expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(status);
        expect(await response.json()).toEqual({ message });
      }
    }
  });

  it('refuses bad requests with the field at fault and why', async () => {
    const cases: Array<[string, RequestInit, number, string]> = [
      ['/v1/profiles/nocolon', {}, 400, 'ref'],
      ['/v1/profiles/user_id:%E0%A4%A', {}, 400, 'ref'],
      ['/v1/profiles/user_id:x/events?cursor=bm90LWEtY3Vyc29y', {}, 400, 'cursor'],
      ['/v1/profiles/email:not-an-email', {}, 400, 'ref'],
      ['/v1/profiles/user_id:x/events?limit=0', {}, 400, 'limit'],
      ['/v1/profiles/user_id:x/split', { method: 'POST', body: '{' }, 400, 'body'],
      ['/v1/profiles/user_id:x/split', { method: 'POST', body: '[]' }, 400, 'body'],
      ['/v1/profiles/user_id:x/split', { method: 'POST', body: '{"identifier":{"type":"Email"}}' }, 400, 'identifier.type'],
      ['/v1/profiles/user_id:nobody-has-this', {}, 404, ''],
      ['/v1/profiles/user_id:x/merges', { method: 'POST' }, 405, ''],
      ['/v1/profiles', {}, 404, ''],
      ['/v1/nothing-here', { method: 'DELETE' }, 404, ''],
    ];
    for (const [path, init, status, field] of cases) {
      const response = await api(path, init);
      const body = (await response.json()) as { error: string; details: Array<{ field: string; reason: string }> };
      expect(response.status, path).toBe(status);
      expect(body.error.length).toBeGreaterThan(5);
      if (field) expect(body.details[0]?.field, path).toBe(field);
      for (const detail of body.details) expect(detail.reason, path).not.toBe('Invalid input');
    }
  });
});
