import { Analytics } from '@segment/analytics-node';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type ReceivedDelivery, type WebhookReceiver } from '../../local/webhook-receiver.js';
import { eventually, startRuntimeProcess, toolCommand, type RuntimeProcess } from '../helpers/local-process.js';

/**
 * Activation end to end through `npm start`: segments, destinations through the API, the
 * publisher, the local bus and a webhook receiver, with the Segment SDK sending the events.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'cdp-activation-'));
const run = randomUUID().slice(0, 6);
const user = (name: string): string => `${name}-${run}`;
const env = {
  CDP_RESOLVER_BATCH_WINDOW_MS: '200',
  CDP_ARCHIVER_BATCH_WINDOW_MS: '500',
  CDP_SEGMENTER_INTERVAL_MS: '300',
  // No sweep within the test: every delivery must come from the doorbell that profile writes ring.
  CDP_PUBLISHER_INTERVAL_MS: '600000',
  // Quick retries, so failing receivers show their whole story within seconds.
  CDP_BUS_BASE_DELAY_MS: '100',
  CDP_BUS_MAX_DELAY_MS: '400',
  CDP_BUS_MAX_ATTEMPTS: '4',
};
let runtime: RuntimeProcess;
let receiver: WebhookReceiver;
let downIsUp = false;
const admin = { authorization: 'Bearer dev-admin-token', 'content-type': 'application/json' };

beforeAll(async () => {
  receiver = await startWebhookReceiver({
    answer: (path, previous) => {
      if (path === '/flaky') return previous < 3 ? 503 : 200;
      if (path === '/down') return downIsUp ? 200 : 500;
      return 200;
    },
  });
  runtime = await startRuntimeProcess(dataDir, env);
});
afterAll(async () => {
  await runtime?.kill('SIGTERM');
  await receiver?.close();
});

const api = (path: string, init: RequestInit = {}) => fetch(`${runtime.url}${path}`, { ...init, headers: admin });

async function send(calls: (analytics: Analytics) => void): Promise<void> {
  const analytics = new Analytics({ writeKey: 'dev-write-key', host: runtime.url, flushAt: 50, flushInterval: 50, maxRetries: 2 });
  calls(analytics);
  await analytics.closeAndFlush();
}

async function put(kind: 'segments' | 'destinations', id: string, body: unknown): Promise<void> {
  const response = await api(`/v1/${kind}/${id}`, { method: 'PUT', body: JSON.stringify(body) });
  expect(response.status, await response.clone().text()).toBeLessThan(300);
}

const hook = (path: string, segmentIds: string[], kinds = ['Segment Entered', 'Segment Exited']) => ({
  type: 'webhook',
  url: `${receiver.url}${path}`,
  auth: { type: 'api_key', header: 'x-api-key', value: `key-for-${path.slice(1)}` },
  pattern: { 'detail-type': kinds, detail: { segmentId: segmentIds } },
  traits: ['email'],
});

const filesIn = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);

const about = (deliveries: ReceivedDelivery[], userId: string): ReceivedDelivery[] =>
  deliveries.filter((d) => (d.event.detail.identifiers as Array<{ value: string }>).some((i) => i.value === userId));

describe('activation through the local bus', () => {
  beforeAll(async () => {
    await put('segments', 'buyers', { name: 'Buyers', condition: { event: 'Order Completed' } });
    await put('segments', 'browsing', { name: 'Browsing now', condition: { event: 'Product Viewed', within: 'PT3S' } });
    await eventually(async () => {
      const { segments } = (await (await api('/v1/segments')).json()) as { segments: Array<{ status: string }> };
      return segments.length === 2 && segments.every((s) => s.status === 'ready');
    }, 60_000, 'segments ready');
    await put('destinations', 'ok', hook('/ok', ['buyers', 'browsing']));
    await put('destinations', 'flaky', hook('/flaky', ['buyers'], ['Segment Entered']));
    await put('destinations', 'down', hook('/down', ['buyers'], ['Segment Entered']));
  }, 120_000);

  it('shows destinations without their secrets, and refuses bad ones field by field', async () => {
    const shown = (await (await api('/v1/destinations/ok')).json()) as Record<string, unknown>;
    expect(shown).toMatchObject({ id: 'ok', type: 'webhook', auth: { type: 'api_key', header: 'x-api-key' }, managedBy: 'api' });
    expect(JSON.stringify(await (await api('/v1/destinations')).json())).not.toContain('key-for-');
    const bad = await api('/v1/destinations/bad', { method: 'PUT', body: JSON.stringify({ type: 'webhook', url: 'http://hooks.example.com/x', pattern: { 'detail-type': 'Segment Entered' } }) });
    expect(bad.status).toBe(400);
    const fields = ((await bad.json()) as { details: Array<{ field: string }> }).details.map((d) => d.field).sort();
    expect(fields).toEqual(['pattern.detail-type', 'url']);
    expect((await api('/v1/destinations/nope')).status).toBe(404);
  });

  it('delivers an entry and an exit once each, with stable ids, the secret in its header and the traits asked for', async () => {
    const ana = user('ana');
    await send((a) => {
      a.identify({ userId: ana, traits: { email: `${ana}@example.com`, plan: 'pro' } });
      a.track({ userId: ana, event: 'Order Completed', properties: { revenue: 20 } });
    });
    await eventually(async () => about(receiver.accepted('/ok'), ana).length >= 1, 30_000, 'ana entered buyers');
    const [entered] = about(receiver.accepted('/ok'), ana);
    expect(entered!.headers['x-api-key']).toBe('key-for-ok');
    expect(entered!.event).toMatchObject({
      source: 'cdp',
      'detail-type': 'Segment Entered',
      detail: { schemaVersion: 1, segmentId: 'buyers', segmentName: 'Buyers', traits: { email: `${ana}@example.com` }, destinationId: 'ok' },
    });
    // The flaky receiver failed three times and got it on the fourth attempt: the same event.
    await eventually(async () => about(receiver.accepted('/flaky'), ana).length === 1, 30_000, 'flaky receiver got it');
    const flaky = about(receiver.deliveries.filter((d) => d.path === '/flaky'), ana);
    expect(flaky.map((d) => d.status)).toEqual([503, 503, 503, 200]);
    expect(new Set(flaky.map((d) => d.event.detail.eventId))).toEqual(new Set([entered!.event.detail.eventId]));

    // A receiver that always fails: the event ends in the dead letters, and a redrive delivers it once it is back.
    await eventually(async () => filesIn(join(dataDir, 'bus', 'dead-letters', 'down')).length === 1, 30_000, 'dead letter').catch(async (error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(receiver.deliveries.filter((d) => d.path === '/down').map((d) => d.status))}`);
    });
    expect(about(receiver.deliveries.filter((d) => d.path === '/down'), ana).map((d) => d.status)).toEqual([500, 500, 500, 500]);
    downIsUp = true;
    const { stdout } = await toolCommand(dataDir, 'redrive', '--destinations');
    expect(JSON.parse(stdout)).toMatchObject({ redriven: { down: 1 } });
    await eventually(async () => about(receiver.accepted('/down'), ana).length === 1, 30_000, 'redriven delivery');
    expect(about(receiver.accepted('/down'), ana)[0]!.event.detail.eventId).toBe(entered!.event.detail.eventId);

    // Nothing else about ana went anywhere; and she was delivered once to /ok.
    expect(about(receiver.accepted('/ok'), ana)).toHaveLength(1);
  }, 120_000);

  it('delivers an exit caused only by time passing', async () => {
    const bob = user('bob');
    await send((a) => a.track({ userId: bob, event: 'Product Viewed', properties: { sku: 'x' } }));
    await eventually(async () => about(receiver.accepted('/ok'), bob).length === 2, 30_000, 'bob entered and exited browsing');
    const [entered, exited] = about(receiver.accepted('/ok'), bob).sort((a, b) => (a.event.detail.at as string).localeCompare(b.event.detail.at as string));
    expect([entered!.event['detail-type'], exited!.event['detail-type']]).toEqual(['Segment Entered', 'Segment Exited']);
    expect(exited!.event.detail).toMatchObject({ segmentId: 'browsing', profileId: entered!.event.detail.profileId });
    expect(exited!.event.detail.eventId).not.toBe(entered!.event.detail.eventId);
    // The window is 3 s from the event's time; the entry's `at` is when it was evaluated, a little later.
    expect(Date.parse(exited!.event.detail.at as string) - Date.parse(entered!.event.detail.at as string)).toBeGreaterThanOrEqual(2_000);
    // And never twice: a moment later there is still one of each.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(about(receiver.accepted('/ok'), bob)).toHaveLength(2);
  }, 60_000);

  it('loses nothing when the runtime is killed with SIGKILL mid-delivery, and every change keeps its one id', async () => {
    const slow = await startWebhookReceiver({ delayMs: 150 });
    try {
      await put('destinations', 'slow', { ...hook('/slow', ['buyers'], ['Segment Entered']), url: `${slow.url}/slow` });
      const people = Array.from({ length: 40 }, (_, i) => user(`p${i}`));
      await send((a) => {
        for (const p of people) a.track({ userId: p, event: 'Order Completed', properties: { revenue: 1 } });
      });
      await eventually(async () => slow.deliveries.length >= 3, 30_000, 'deliveries under way');
      await runtime.kill('SIGKILL');
      const before = new Set(slow.deliveries.map((d) => d.event.detail.eventId)).size;
      expect(before).toBeLessThan(people.length);
      runtime = await startRuntimeProcess(dataDir, env);
      await eventually(async () => new Set(slow.deliveries.map((d) => d.event.detail.eventId)).size >= people.length, 60_000, 'every entry delivered after the restart').catch((error: Error) => {
        const pending = filesIn(join(dataDir, 'bus', 'pending', 'slow'));
        throw new Error(`${error.message}: ${new Set(slow.deliveries.map((d) => d.event.detail.eventId)).size} of ${people.length} (${before} before the kill), ${pending.length} pending`);
      });
      const idsByPerson = new Map<string, Set<string>>();
      for (const p of people) idsByPerson.set(p, new Set(about(slow.deliveries, p).map((d) => d.event.detail.eventId)));
      // Each person's entry arrived, always under one id (a redelivery repeats the id, never invents one).
      expect([...idsByPerson.values()].map((ids) => ids.size)).toEqual(people.map(() => 1));
    } finally {
      await slow.close();
    }
  }, 180_000);
});
