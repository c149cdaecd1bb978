import { Analytics } from '@segment/analytics-node';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveDependencies, compose, resolveDependencies, type Composition } from '../../lambdas/composition.js';
import { toStreamRecord, type CollectedEvent } from '../../lambdas/domain/intake.js';
import { archiveBatch } from '../../lambdas/use-cases/archive.js';
import { resolveBatch } from '../../lambdas/use-cases/resolve.js';
import { FileDeadLetterStore } from '../../local/file-dead-letter-store.js';
import { localRuntimeConfig } from '../../local/endpoints-file.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../local/webhook-receiver.js';
import { eventually, startRuntimeProcess, type RuntimeProcess } from '../helpers/local-process.js';
import { fileTexts, lakeObjectTexts, tableItemTexts } from '../helpers/store-texts.js';

/**
 * Privacy end to end through `npm start`: two people with several devices, merges, an order,
 * a refused event and a dead letter each; A is erased by an old anonymous id, then every store is
 * read directly: nothing of A is left, all of B is. Then nothing brings A back: not the next
 * event, not a redelivered archiver batch, not a replay through the resolver.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'cdp-privacy-'));
const run = randomUUID().slice(0, 6);
const env = {
  CDP_RESOLVER_BATCH_WINDOW_MS: '200',
  CDP_ARCHIVER_BATCH_WINDOW_MS: '300',
  CDP_SEGMENTER_INTERVAL_MS: '300',
  CDP_PUBLISHER_INTERVAL_MS: '100',
  CDP_SUPPRESSION_MAX_AGE_MS: '500',
  CDP_PRIVACY_SETTLE_MS: '1500',
  CDP_PRIVACY_INTERVAL_MS: '200',
  // Every log line the handlers can write, debug included, is checked for personal data below.
  POWERTOOLS_LOG_LEVEL: 'DEBUG',
};
const admin = { authorization: 'Bearer dev-admin-token', 'content-type': 'application/json' };

/** Everything that would identify each person: ids, addresses, trait values. */
const A = { userId: `ana-${run}`, laptop: `ana-laptop-${run}`, phone: `ana-phone-${run}`, email: `ana.${run}@example.com`, name: `Ana Erasable ${run}`, city: `Lisbon-${run}` };
const B = { userId: `bea-${run}`, laptop: `bea-laptop-${run}`, phone: `bea-phone-${run}`, email: `bea.${run}@example.com`, name: `Bea Keeps ${run}`, city: `Porto-${run}` };
type Person = typeof A;
const secretsOf = (p: Person): string[] => Object.values(p);

let runtime: RuntimeProcess;
let receiver: WebhookReceiver;
let c: Composition;

const api = (path: string, init: RequestInit = {}) => fetch(`${runtime.url}${path}`, { ...init, headers: admin });

async function send(calls: (analytics: Analytics) => void): Promise<void> {
  const analytics = new Analytics({ writeKey: 'dev-write-key', host: runtime.url, flushAt: 50, flushInterval: 50, maxRetries: 2 });
  calls(analytics);
  await analytics.closeAndFlush();
}

/** A person's journey: browsing on two devices (two profiles, stored), then signing in on both (merges), an order. */
function browsing(analytics: Analytics, p: Person): void {
  analytics.page({ anonymousId: p.laptop, name: 'Home' });
  analytics.track({ anonymousId: p.phone, event: 'Product Viewed', properties: { sku: `sku-${p.city}` } });
}
function signingIn(analytics: Analytics, p: Person): void {
  // A grants advertising on the cookie banner; B refuses it.
  analytics.identify({ anonymousId: p.laptop, userId: p.userId, traits: { email: p.email, name: p.name, city: p.city }, context: { consent: { categoryPreferences: { Advertising: p === A, Analytics: true } } } });
  analytics.identify({ anonymousId: p.phone, userId: p.userId, traits: { email: p.email } });
  analytics.track({ userId: p.userId, event: 'Order Completed', properties: { revenue: 42, shipTo: p.city } });
}

async function request(type: string, identifier: { type: string; value: string }): Promise<Record<string, unknown>> {
  const response = await api('/v1/privacy/requests', { method: 'POST', body: JSON.stringify({ type, identifier }) });
  expect(response.status, await response.clone().text()).toBe(202);
  const { id } = (await response.json()) as { id: string };
  let shown: Record<string, unknown> = {};
  await eventually(async () => {
    shown = (await (await api(`/v1/privacy/requests/${id}`)).json()) as Record<string, unknown>;
    expect(shown.status).not.toBe('failed');
    return shown.status === 'done';
  }, 60_000, `${type} request ${id} done`);
  return shown;
}

const lakeTexts = () => lakeObjectTexts(c);
const tableTexts = () => tableItemTexts(c);

const mentions = (texts: Iterable<string>, values: readonly string[]): string[] => [...texts].flatMap((text) => values.filter((v) => text.includes(v)));

const eventsOf = (texts: Map<string, string>, p: Person): number =>
  [...texts].filter(([key]) => key.startsWith('events/')).reduce((n, [, text]) => n + text.split('\n').filter((line) => line.includes(`"${p.userId}"`) || line.includes(p.laptop) || line.includes(p.phone)).length, 0);

const collectedEvent = (p: Person, n: number): CollectedEvent => ({
  type: 'track',
  event: 'Replayed',
  messageId: `replay-${p.userId}-${n}`,
  userId: p.userId,
  anonymousId: p.laptop,
  timestamp: new Date().toISOString(),
  receivedAt: new Date().toISOString(),
  sourceId: 'dev',
});

beforeAll(async () => {
  receiver = await startWebhookReceiver({ answer: () => 200 });
  runtime = await startRuntimeProcess(dataDir, env);
  c = compose(localRuntimeConfig(runtime.endpoints, 'privacy-test'));
  const put = async (kind: string, id: string, body: unknown): Promise<void> => {
    const response = await api(`/v1/${kind}/${id}`, { method: 'PUT', body: JSON.stringify(body) });
    expect(response.status, await response.clone().text()).toBeLessThan(300);
  };
  await put('segments', 'buyers', { name: 'Buyers', condition: { event: 'Order Completed' } });
  await put('destinations', 'crm', { type: 'webhook', url: `${receiver.url}/crm`, pattern: { 'detail-type': ['Segment Entered', 'Profile Erased'] }, traits: ['email', 'name'] });
  await put('destinations', 'ads', { type: 'webhook', url: `${receiver.url}/ads`, pattern: { 'detail-type': ['Segment Entered'] }, purposes: ['Advertising'] });
  await eventually(async () => ((await (await api('/v1/segments/buyers')).json()) as { status: string }).status === 'ready', 60_000, 'segment ready');

  await send((analytics) => [A, B].forEach((p) => browsing(analytics, p)));
  // Both devices profiled apart first, so signing in merges two stored profiles (the export's merge history).
  const devices = [A, B].flatMap((p) => [p.laptop, p.phone]);
  await eventually(async () => (await Promise.all(devices.map((d) => api(`/v1/profiles/anonymous_id:${d}`)))).every((r) => r.status === 200), 30_000, 'the devices profiled');
  await send((analytics) => [A, B].forEach((p) => signingIn(analytics, p)));
  // A refused event each (a track without its name), kept in rejected/ with its payload.
  for (const p of [A, B]) {
    const refused = await fetch(`${runtime.url}/v1/track`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from('dev-write-key:').toString('base64')}`, 'content-type': 'application/json' }, body: JSON.stringify({ userId: p.userId, properties: { city: p.city } }) });
    expect(refused.status).toBe(400);
  }
  // A dead letter each, as the resolver would leave for a record failing on its own.
  const letters = new FileDeadLetterStore(join(dataDir, 'dlq'));
  for (const p of [A, B]) {
    const data = Buffer.from(toStreamRecord(collectedEvent(p, 0)).data).toString('base64');
    await letters.put({ consumer: 'resolver', shardId: 'shardId-000000000000', reason: 'test', failedAt: new Date().toISOString(), records: [{ sequenceNumber: `1${p === A ? 1 : 2}`, data }] });
  }
  // Files dropped under imports/: each person a row in NDJSON and in CSV (one with a line break in a quoted cell), and A a refused row.
  const when = new Date(Date.now() - 60_000).toISOString();
  await c.lake.put({
    key: 'imports/crm-export.ndjson',
    contentType: 'application/x-ndjson',
    body: [
      JSON.stringify({ type: 'track', userId: A.userId, event: 'Imported Order', properties: { city: A.city }, timestamp: when }),
      JSON.stringify({ type: 'track', userId: A.userId, properties: { note: `refused ${A.name}` }, timestamp: when }),
      JSON.stringify({ type: 'track', userId: B.userId, event: 'Imported Order', properties: { city: B.city }, timestamp: when }),
    ].join('\n'),
  });
  await c.lake.put({
    key: 'imports/crm-export.csv',
    contentType: 'text/csv',
    body: `type,userId,event,properties.note,timestamp\ntrack,${A.userId},Imported Note,"two\nlines ${A.city}",${when}\ntrack,${B.userId},Imported Note,one line,${when}\n`,
  });
  await eventually(async () => receiver.deliveries.filter((d) => d.path === '/crm' && d.event['detail-type'] === 'Segment Entered').length >= 2, 60_000, 'both people in the segment, delivered');
  await eventually(async () => {
    const texts = await lakeTexts();
    return eventsOf(texts, A) >= 7 && eventsOf(texts, B) >= 7 && texts.has('imports/crm-export.csv.result.json') && texts.has('imports/crm-export.ndjson.result.json');
  }, 60_000, 'both journeys and imports in the lake');
  // The merge history is written just after the profiles it explains: waited for, as the export lists it.
  await eventually(async () => {
    const merges = (await (await api(`/v1/profiles/user_id:${A.userId}/merges`)).json()) as { history?: Array<{ kind: string }> };
    return merges.history?.some((entry) => entry.kind === 'merge') === true;
  }, 30_000, "A's merge recorded");
}, 180_000);

afterAll(async () => {
  c?.clients.dynamodb.destroy();
  c?.clients.s3.destroy();
  c?.clients.kinesis.destroy();
  await runtime?.kill('SIGTERM');
  await receiver?.close();
});

describe('privacy requests through npm start', () => {
  it('refuses requests it cannot act on, naming the field', async () => {
    const bad = await api('/v1/privacy/requests', { method: 'POST', body: JSON.stringify({ type: 'forget', identifier: { type: 'email', value: 'not-an-email' } }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { details: Array<{ field: string }> }).details.map((d) => d.field)).toContain('type');
    const badEmail = await api('/v1/privacy/requests', { method: 'POST', body: JSON.stringify({ type: 'erase', identifier: { type: 'email', value: 'not-an-email' } }) });
    expect(await badEmail.json()).toMatchObject({ details: [{ field: 'identifier.value' }] });
    expect((await api('/v1/privacy/requests/pr_nope')).status).toBe(404);
    const writeKey = await fetch(`${runtime.url}/v1/privacy/requests`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from('dev-write-key:').toString('base64')}` }, body: '{}' });
    expect(writeKey.status).toBe(403);
  });

  it('sends a person only to destinations whose consent purposes they granted', async () => {
    const toAds = () => receiver.deliveries.filter((d) => d.path === '/ads').map((d) => d.event.detail.identifiers as Array<{ value: string }>);
    // Both people's changes were published (the CRM has both); the ads deliveries travel on their own, so wait for none pending.
    await eventually(async () => toAds().length >= 1 && fileTexts(join(dataDir, 'bus', 'pending')).length === 0, 30_000, 'the ads destination served');
    const ads = toAds();
    expect(ads).toHaveLength(1);
    expect(ads[0]!.map((i) => i.value)).toContain(A.userId);
  });

  it('exports everything about a person: profile, identifiers, merges, segments and every event', async () => {
    const done = await request('access', { type: 'email', value: A.email.toUpperCase() });
    expect(mentions(fileTexts(join(dataDir, 'dlq')), [A.userId, B.userId])).toHaveLength(2);
    expect(JSON.stringify(done)).not.toContain(A.email);
    const exportUrl = (done.export as { url: string }).url;
    const exported = (await (await api(exportUrl)).json()) as { profile: { identifiers: Array<{ value: string }> }; events: Array<Record<string, string>>; history: unknown[]; segments: Array<{ segmentId: string }>; consent: unknown };
    expect(exported.profile.identifiers.map((i) => i.value)).toEqual(expect.arrayContaining([A.userId, A.email, A.laptop, A.phone]));
    expect(exported.segments.map((s) => s.segmentId)).toContain('buyers');
    expect(exported.consent).toMatchObject({ Advertising: { granted: true }, Analytics: { granted: true } });
    expect(exported.history.length).toBeGreaterThan(0);
    expect(exported.events).toHaveLength(7);
    expect(JSON.stringify(exported)).not.toContain(B.userId);
  });

  it('erases a person by an old anonymous id from every store, keeping every other person whole', async () => {
    const before = await lakeTexts();
    const bEventsBefore = eventsOf(before, B);
    const done = await request('erase', { type: 'anonymous_id', value: A.laptop });
    const stores = done.stores as Record<string, { found: number; removed: number; rowsBefore?: number; rowsAfter?: number }>;
    expect(stores.profiles!.removed).toBeGreaterThanOrEqual(1);
    expect(stores.identifiers!.removed).toBe(4);
    expect(stores['lake.events']!.removed).toBe(7);
    expect(stores['lake.events']!.rowsAfter).toBe(stores['lake.events']!.rowsBefore! - 7);
    expect(stores['lake.imports']).toMatchObject({ removed: 3, objectsRewritten: 2 });
    expect(stores['lake.identities']!.removed).toBeGreaterThan(0);
    expect(stores['lake.segment_changes']!.removed).toBe(1);
    expect(stores['lake.rejected']!.removed).toBe(2);
    expect(stores.dead_letters!.removed).toBe(1);
    expect(done.suppressed).toBe(4);
    expect(JSON.stringify(done)).not.toMatch(new RegExp(secretsOf(A).join('|')));

    // Destinations heard, so they can erase downstream.
    await eventually(async () => receiver.deliveries.some((d) => d.event['detail-type'] === 'Profile Erased'), 20_000, 'Profile Erased delivered');

    const tables = await tableTexts();
    const lake = await lakeTexts();
    const files = fileTexts(join(dataDir, 'dlq')).concat(fileTexts(join(dataDir, 'bus', 'pending')), fileTexts(join(dataDir, 'bus', 'dead-letters')), fileTexts(join(dataDir, 'checkpoints')));
    expect(mentions(tables, secretsOf(A))).toEqual([]);
    expect([...lake].filter(([, text]) => mentions([text], secretsOf(A)).length > 0).map(([key]) => key)).toEqual([]);
    expect(mentions(files, secretsOf(A))).toEqual([]);
    // B is whole: every event, the profile, the refusal and the dead letter.
    expect(eventsOf(lake, B)).toBe(bEventsBefore);
    expect(mentions(tables, [B.email, B.name, B.laptop, B.phone]).length).toBeGreaterThanOrEqual(4);
    expect(mentions([...lake].filter(([k]) => k.startsWith('rejected/')).map(([, t]) => t), [B.city])).toHaveLength(1);
    // B's imported rows stay where they were: every other row keeps its line number.
    expect(lake.get('imports/crm-export.ndjson')!.split('\n')[2]).toContain(B.userId);
    expect(lake.get('imports/crm-export.csv')!.split('\n')[3]).toContain(B.userId);
    expect(mentions(fileTexts(join(dataDir, 'dlq')), [B.userId])).toHaveLength(1);
    const profileB = await api(`/v1/profiles/email:${encodeURIComponent(B.email)}`);
    expect(profileB.status).toBe(200);
    expect((await api(`/v1/profiles/user_id:${A.userId}`)).status).toBe(404);
  }, 120_000);

  it('brings nothing back: not the next event, nor a redelivered archiver batch, nor a replay through the resolver', async () => {
    await send((analytics) => {
      analytics.track({ userId: A.userId, anonymousId: A.laptop, event: 'Came Back', properties: { city: A.city } });
      analytics.track({ userId: B.userId, event: 'Came Back' });
    });
    await eventually(async () => [...(await lakeTexts()).values()].some((t) => t.includes('Came Back')), 30_000, "B's new event archived");
    // A redelivered batch and a replay carry A's records again.
    const records = [collectedEvent(A, 1), collectedEvent(B, 1)].map((e, i) => ({ data: Buffer.from(toStreamRecord(e).data).toString('base64'), shardId: 'shardId-replayed', sequenceNumber: `9${i}` }));
    const failed = await archiveBatch(records, archiveDependencies(c));
    expect(failed).toEqual([]);
    await resolveBatch(records, resolveDependencies(c));

    const lake = await lakeTexts();
    expect(mentions(lake.values(), secretsOf(A))).toEqual([]);
    expect(mentions(await tableTexts(), secretsOf(A))).toEqual([]);
    expect([...lake.values()].some((t) => t.includes(`replay-${B.userId}-1`))).toBe(true);
    expect((await api(`/v1/profiles/user_id:${A.userId}`)).status).toBe(404);
  }, 60_000);

  it('unsuppress lets the person be collected again', async () => {
    const done = await request('unsuppress', { type: 'email', value: A.email });
    expect(done.suppressed).toBe(4);
    await new Promise((r) => setTimeout(r, 1_000));
    await send((analytics) => analytics.identify({ userId: A.userId, traits: { email: A.email } }));
    await eventually(async () => (await api(`/v1/profiles/user_id:${A.userId}`)).status === 200, 30_000, 'A collected again');
  }, 60_000);

  it('lists every request newest first, a page at a time, without the people they name', async () => {
    const listed: Array<Record<string, unknown>> = [];
    let cursor: string | null = null;
    do {
      const page = await api(`/v1/privacy/requests?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      const body = (await page.json()) as { requests: Array<Record<string, unknown>>; nextCursor: string | null };
      expect(body.requests.length).toBeLessThanOrEqual(2);
      listed.push(...body.requests);
      cursor = body.nextCursor;
    } while (cursor);
    // Access, erase and unsuppress made above, each once.
    expect(listed.map((r) => r.type)).toEqual(['unsuppress', 'erase', 'access']);
    const ids = listed.map((r) => r.id as string);
    expect(ids).toEqual([...ids].sort().reverse());
    expect(listed.every((r) => r.status === 'done' && !('work' in r))).toBe(true);
    expect(JSON.stringify(listed)).not.toContain(A.email);
    expect(JSON.stringify(listed)).not.toContain(A.laptop);
    const badCursor = await api('/v1/privacy/requests?cursor=nonsense');
    expect(badCursor.status).toBe(400);
    expect(await badCursor.json()).toMatchObject({ details: [{ field: 'cursor' }] });
    expect(await (await api('/v1/privacy/requests?limit=0')).json()).toMatchObject({ details: [{ field: 'limit' }] });
  });

  it("never logs a person's identifiers, trait values or a write key, in any handler's log line", () => {
    // Structured log lines (Powertools JSON) are the handlers'; the start banner prints the local dev credentials on purpose.
    const logLines = runtime.output().split('\n').filter((line) => line.startsWith('{') && line.includes('"level"'));
    expect(logLines.length).toBeGreaterThan(0);
    const leaks = logLines.filter((line) => mentions([line], [...secretsOf(A), ...secretsOf(B), 'dev-write-key', 'dev-admin-token']).length > 0);
    expect(leaks).toEqual([]);
  });
});
