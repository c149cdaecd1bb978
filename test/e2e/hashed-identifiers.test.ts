import { Analytics } from '@segment/analytics-node';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose, type Composition } from '../../lambdas/composition.js';
import { HashedValuePattern } from '../../lambdas/domain/identifiers.js';
import { localRuntimeConfig } from '../../local/endpoints-file.js';
import { basicAuth, eventually, startRuntimeProcess, type RuntimeProcess } from '../helpers/local-process.js';
import { fileTexts, lakeObjectTexts, tableItemTexts } from '../helpers/store-texts.js';

/**
 * Email configured to be stored hashed, through `npm start`: people are still found and merged by
 * their address, while no store (stream, lake, profiles, refused events) keeps it readable.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'cdp-hashed-'));
const run = randomUUID().slice(0, 6);
const email = `Hana.${run}@Example.com`;
const canonical = email.toLowerCase();
const admin = { authorization: 'Bearer dev-admin-token', 'content-type': 'application/json' };
let runtime: RuntimeProcess;
let c: Composition;

const api = (path: string, init: RequestInit = {}) => fetch(`${runtime.url}${path}`, { ...init, headers: admin });

beforeAll(async () => {
  runtime = await startRuntimeProcess(dataDir, {
    CDP_PROFILE_CONFIG: JSON.stringify({ hashedIdentifiers: ['email'] }),
    CDP_RESOLVER_BATCH_WINDOW_MS: '200',
    CDP_ARCHIVER_BATCH_WINDOW_MS: '300',
    CDP_PRIVACY_SETTLE_MS: '1000',
    CDP_PRIVACY_INTERVAL_MS: '200',
  });
  c = compose(localRuntimeConfig(runtime.endpoints, 'hashed-test'));
  const analytics = new Analytics({ writeKey: 'dev-write-key', host: runtime.url, flushAt: 20, flushInterval: 50 });
  // Two devices that share only the email: they merge by it.
  analytics.identify({ anonymousId: `laptop-${run}`, traits: { email, name: `Hana ${run}` } });
  analytics.track({ anonymousId: `phone-${run}`, event: 'Signed In', context: { traits: { email: ` ${canonical} ` } } });
  await analytics.closeAndFlush();
  // A refused event (no event name) carrying the address: kept in rejected/, hashed.
  const refused = await fetch(`${runtime.url}/v1/track`, { method: 'POST', headers: { authorization: basicAuth('dev-write-key'), 'content-type': 'application/json' }, body: JSON.stringify({ anonymousId: `laptop-${run}`, traits: { email } }) });
  expect(refused.status).toBe(400);
  await eventually(async () => {
    const view = (await (await api(`/v1/profiles/anonymous_id:phone-${run}`)).json()) as { identifiers?: Array<{ type: string }> };
    return view.identifiers?.some((i) => i.type === 'anonymous_id') === true && view.identifiers.filter((i) => i.type === 'anonymous_id').length === 2;
  }, 30_000, 'both devices merged by the hashed email');
  await eventually(async () => [...(await lakeObjectTexts(c)).keys()].filter((k) => k.startsWith('events/') || k.startsWith('rejected/')).length >= 2, 30_000, 'events and the refusal in the lake');
}, 120_000);

afterAll(async () => {
  c?.clients.dynamodb.destroy();
  c?.clients.s3.destroy();
  c?.clients.kinesis.destroy();
  await runtime?.kill('SIGTERM');
});

describe('identifiers stored hashed, through npm start', () => {
  it('finds the person by the address as written, and shows only its hash', async () => {
    const response = await api(`/v1/profiles/email:${encodeURIComponent(email)}`);
    expect(response.status).toBe(200);
    const view = (await response.json()) as { identifiers: Array<{ type: string; value: string }>; traits: Record<string, unknown> };
    const hashed = view.identifiers.find((i) => i.type === 'email');
    expect(hashed?.value).toMatch(HashedValuePattern);
    expect(view.traits).toMatchObject({ name: `Hana ${run}` });
    expect(view.traits).not.toHaveProperty('email');
    // The hash itself is a reference too, and the timeline finds the events by it.
    expect((await api(`/v1/profiles/email:${hashed!.value}`)).status).toBe(200);
    const events = (await (await api(`/v1/profiles/email:${encodeURIComponent(email)}/events`)).json()) as { events: Array<{ type: string }> };
    expect(events.events.map((e) => e.type).sort()).toEqual(['identify', 'track']);
  });

  it('keeps the address readable nowhere: not in the tables, the lake, refused events or the runtime\'s files', async () => {
    const needles = [canonical, email, `Hana.${run}`];
    const found = [...(await tableItemTexts(c)), ...(await lakeObjectTexts(c)).values(), ...fileTexts(dataDir)].filter((text) => needles.some((n) => text.toLowerCase().includes(n.toLowerCase())));
    expect(found).toEqual([]);
    // What is not hashed stays readable: the name, and the anonymous ids.
    expect([...(await lakeObjectTexts(c)).values()].some((text) => text.includes(`Hana ${run}`))).toBe(true);
  });

  it('erases the person by the address as written', async () => {
    const response = await api('/v1/privacy/requests', { method: 'POST', body: JSON.stringify({ type: 'erase', identifier: { type: 'email', value: email } }) });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    await eventually(async () => ((await (await api(`/v1/privacy/requests/${id}`)).json()) as { status: string }).status === 'done', 60_000, 'erasure done');
    expect((await api(`/v1/profiles/anonymous_id:laptop-${run}`)).status).toBe(404);
    expect([...(await lakeObjectTexts(c)).values()].some((text) => text.includes(`Hana ${run}`) || text.includes(`laptop-${run}`))).toBe(false);
  });
});
