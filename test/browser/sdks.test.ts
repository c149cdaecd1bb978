import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForBrowser, failedRequests, launchBrowser, serveWebsite, type Website } from '../helpers/browser.js';
import { eventually, queryCommand, startRuntimeProcess, type RuntimeProcess } from '../helpers/local-process.js';

/**
 * The browser SDKs, unmodified, on a website of another origin, in headless Chromium: Segment's
 * analytics.js (@segment/analytics-next) configured with nothing but the write key and the CDP's
 * URL as `cdnURL`; RudderStack's JS SDK with the write key, the CDP as data plane and its
 * `/v1/sourceConfig` as config URL.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'cdp-browser-ajs-'));
const screenshots = join(import.meta.dirname, '..', '..', '.artifacts', 'screenshots');
const run = randomUUID().slice(0, 6);
const userId = `web-${run}`;
const email = `web.${run}@example.com`;
const admin = { authorization: 'Bearer dev-admin-token' };

let runtime: RuntimeProcess;
/** What went wrong with each shop page's requests; a journey expects nothing. */
const problemsOf = new WeakMap<Page, string[]>();
let website: Website;
let browser: Browser;

// The website's own build: analytics.js from npm, exposed to the page.
const entry = `import { AnalyticsBrowser } from '@segment/analytics-next'; (window as any).AnalyticsBrowser = AnalyticsBrowser;`;
const html = `<!doctype html><html lang="en"><head><title>Shop</title><script src="/analytics.js"></script></head><body><h1>Shop</h1></body></html>`;
// RudderStack's npm build with its plugins bundled, as a website that does not load them from RudderStack's CDN uses it.
const rudderEntry = `import { RudderAnalytics } from '@rudderstack/analytics-js/bundled'; (window as any).RudderAnalytics = RudderAnalytics;`;
const rudderHtml = `<!doctype html><html lang="en"><head><title>Blog</title><script src="/rudder.js"></script></head><body><h1>Blog</h1></body></html>`;

/** Loads analytics.js on the website as its documentation says, with only the write key and cdnURL (and, in batched mode, its delivery strategy). */
async function openShop(context: BrowserContext, batching?: { size: number; timeout: number }): Promise<Page> {
  const page = await context.newPage();
  problemsOf.set(page, failedRequests(page));
  await page.goto(`${website.origin}/`);
  await page.evaluate(
    async ({ cdnURL, batching }) => {
      const w = globalThis as unknown as { AnalyticsBrowser: { load: (settings: object, options?: object) => Promise<[unknown]> }; analytics: unknown };
      const [analytics] = await w.AnalyticsBrowser.load(
        { writeKey: 'dev-write-key', cdnURL },
        batching ? { integrations: { 'Segment.io': { deliveryStrategy: { strategy: 'batching', config: batching } } } } : {},
      );
      w.analytics = analytics;
    },
    { cdnURL: runtime.url, batching },
  );
  return page;
}

type Call = readonly [method: 'page' | 'track' | 'identify' | 'group' | 'alias', ...args: unknown[]];

/** Makes analytics calls in the page, together, and returns the messageIds analytics.js gave their events. */
async function calls(page: Page, list: readonly Call[]): Promise<string[]> {
  return page.evaluate(async (made) => {
    const analytics = (globalThis as unknown as { analytics: Record<string, (...args: unknown[]) => Promise<{ event: { messageId: string } }>> }).analytics;
    const contexts = await Promise.all(made.map(([method, ...args]) => analytics[method]!(...args)));
    return contexts.map((ctx) => ctx.event.messageId);
  }, list as Call[]);
}

async function inLake(messageIds: readonly string[]): Promise<Map<string, number>> {
  const list = messageIds.map((id) => `'${id}'`).join(', ');
  const rows = await queryCommand(dataDir, `SELECT message_id, count(*) AS n FROM events WHERE message_id IN (${list}) GROUP BY message_id`);
  return new Map(rows.map((r) => [String(r.message_id), Number(r.n)]));
}

beforeAll(async () => {
  mkdirSync(screenshots, { recursive: true });
  runtime = await startRuntimeProcess(dataDir, { CDP_RESOLVER_BATCH_WINDOW_MS: '200', CDP_ARCHIVER_BATCH_WINDOW_MS: '300' });
  website = await serveWebsite({
    '/': ['text/html', html],
    '/analytics.js': ['text/javascript', await bundleForBrowser(entry)],
    '/blog': ['text/html', rudderHtml],
    '/rudder.js': ['text/javascript', await bundleForBrowser(rudderEntry)],
  });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await website?.close();
  await runtime?.kill('SIGTERM');
});

describe("Segment's analytics.js in a browser, from another origin", () => {
  it('serves the settings analytics.js asks its cdnURL for, and refuses an unknown write key', async () => {
    const settings = (await (await fetch(`${runtime.url}/v1/projects/dev-write-key/settings`)).json()) as { integrations: Record<string, { apiHost: string; protocol: string }> };
    expect(settings.integrations['Segment.io']).toMatchObject({ apiHost: `${new URL(runtime.url).host}/v1`, protocol: 'http' });
    const unknown = await fetch(`${runtime.url}/v1/projects/not-a-key/settings`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ details: [{ field: 'writeKey' }] });
  });

  it('sends a visitor\'s journey on two devices (page, track, identify, group, alias), each event once in the lake, merged into one profile', async () => {
    const laptop = await browser.newContext();
    const shop = await openShop(laptop);
    const sent = await calls(shop, [
      ['page', 'Home'],
      ['track', 'Product Viewed', { sku: 'sku-1' }],
      ['identify', userId, { email, name: 'Web Visitor' }],
      ['track', 'Order Completed', { revenue: 42, currency: 'EUR' }],
      ['group', `acme-${run}`, { name: 'Acme' }],
    ]);
    await shop.screenshot({ path: join(screenshots, 'analytics-js-shop.png') });
    // The same person on a phone: anonymous, then joined to the account by alias.
    const phone = await browser.newContext();
    const phoneShop = await openShop(phone);
    sent.push(...(await calls(phoneShop, [['page', 'Home'], ['alias', userId]])));
    expect(sent).toHaveLength(7);

    await eventually(async () => (await inLake(sent)).size === sent.length, 30_000, 'every event in the lake');
    expect([shop, phoneShop].flatMap((p) => problemsOf.get(p) ?? [])).toEqual([]);
    expect([...(await inLake(sent)).values()].every((n) => n === 1)).toBe(true);

    const anonymousIds = await Promise.all([shop, phoneShop].map((p) => p.evaluate(() => (globalThis as unknown as { analytics: { user: () => { anonymousId: () => string } } }).analytics.user().anonymousId())));
    await eventually(async () => {
      const response = await fetch(`${runtime.url}/v1/profiles/user_id:${userId}`, { headers: admin });
      if (response.status !== 200) return false;
      const view = (await response.json()) as { identifiers: Array<{ type: string; value: string }> };
      const values = view.identifiers.map((i) => `${i.type}:${i.value}`);
      return [`email:${email}`, ...anonymousIds.map((a) => `anonymous_id:${a}`)].every((v) => values.includes(v));
    }, 30_000, 'one profile with the email and both devices');
    await laptop.close();
    await phone.close();
  });

  it('retries an event the API failed with a 503, through the CORS preflight its retry header needs, and keeps it once', async () => {
    // A proxy in front of the API fails the first track it sees, as a throttled or failing API would.
    let failed = 0;
    const proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const toApi = new URL(req.url ?? '/', runtime.url);
        const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => name !== 'host' && name !== 'connection')) as Record<string, string>;
        void fetch(toApi, { method: req.method, headers: { ...headers, 'x-forwarded-host': req.headers.host ?? '' }, ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body: Buffer.concat(chunks) }) }).then(async (answer) => {
          const passed = Object.fromEntries([...answer.headers].filter(([name]) => name.startsWith('access-control-') || name === 'content-type'));
          if (req.method === 'POST' && req.url === '/v1/t' && failed++ === 0) return void res.writeHead(503, passed).end('{"error":"busy"}');
          res.writeHead(answer.status, passed).end(Buffer.from(await answer.arrayBuffer()));
        });
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const context = await browser.newContext();
    try {
      const retryHeaders: string[] = [];
      context.on('request', (request) => {
        if (request.url().endsWith('/v1/t')) retryHeaders.push(request.headers()['x-retry-count'] ?? '');
      });
      const page = await context.newPage();
      await page.goto(`${website.origin}/`);
      const id = await page.evaluate(async (cdnURL) => {
        const w = globalThis as unknown as { AnalyticsBrowser: { load: (settings: object) => Promise<[{ track: (name: string) => Promise<{ event: { messageId: string } }> }]> } };
        const [analytics] = await w.AnalyticsBrowser.load({ writeKey: 'dev-write-key', cdnURL });
        return (await analytics.track('Retried')).event.messageId;
      }, proxyUrl);
      await eventually(async () => (await inLake([id])).get(id) === 1, 30_000, 'the retried event in the lake');
      expect(failed).toBeGreaterThanOrEqual(2);
      expect(retryHeaders.filter(Boolean).length).toBeGreaterThanOrEqual(1);
      await new Promise((r) => setTimeout(r, 1_000));
      expect((await inLake([id])).get(id)).toBe(1);
    } finally {
      await context.close();
      await new Promise<void>((resolve) => {
        proxy.close(() => resolve());
        proxy.closeAllConnections();
      });
    }
  });

  it('in batched mode, delivers what is still queued when the page is left (keepalive on unload), once', async () => {
    const context = await browser.newContext();
    // Batches of up to 50, sent every 10 minutes: only leaving the page sends these.
    const page = await openShop(context, { size: 50, timeout: 600_000 });
    // In batched mode a call resolves once its event is queued, not sent.
    expect(await calls(page, [['track', 'Search', { q: 'boots' }], ['track', 'Search', { q: 'socks' }], ['track', 'Search', { q: 'hats' }]])).toHaveLength(3);
    // Well past the archiver's window: nothing has been sent.
    await new Promise((r) => setTimeout(r, 1_500));
    const before = await queryCommand(dataDir, `SELECT count(*) AS n FROM events WHERE event = 'Search'`);
    expect(Number(before[0]!.n)).toBe(0);
    await page.goto('about:blank');
    await eventually(async () => Number((await queryCommand(dataDir, `SELECT count(*) AS n FROM events WHERE event = 'Search'`))[0]!.n) === 3, 30_000, 'the batch sent on leaving the page');
    const perMessage = await queryCommand(dataDir, `SELECT message_id, count(*) AS n FROM events WHERE event = 'Search' GROUP BY message_id`);
    expect(perMessage.map((r) => Number(r.n))).toEqual([1, 1, 1]);
    await context.close();
  });
});

describe("RudderStack's JS SDK in a browser, from another origin", () => {
  it('sends a visitor\'s journey (page, track, identify, group, alias), each event once in the lake, merged into one profile', async () => {
    const reader = `rs-${run}`;
    const context = await browser.newContext();
    const page = await context.newPage();
    // A request the browser refuses (CORS) or the API answers with an error fails the test, with its reason.
    const problems = failedRequests(page);
    await page.goto(`${website.origin}/blog`);
    const anonymousId = await page.evaluate(
      async ({ api, reader }) => {
        type Rudder = Record<string, (...args: unknown[]) => unknown>;
        const w = globalThis as unknown as { RudderAnalytics: new () => Rudder };
        const analytics = new w.RudderAnalytics();
        analytics.load!('dev-write-key', api, { configUrl: `${api}/v1/sourceConfig`, logLevel: 'ERROR' });
        await new Promise<void>((resolve) => analytics.ready!(() => resolve()));
        analytics.page!('Blog', 'Home');
        analytics.track!('Article Read', { slug: 'cdp' });
        analytics.identify!(reader, { email: `${reader}@example.com` });
        analytics.track!('Order Completed', { revenue: 9 });
        analytics.group!(`team-${reader}`, { name: 'Team' });
        analytics.alias!(`${reader}-crm`);
        return analytics.getAnonymousId!() as string;
      },
      { api: runtime.url, reader },
    );
    await page.screenshot({ path: join(screenshots, 'rudderstack-js-blog.png') });
    const journey = () => queryCommand(dataDir, `SELECT message_id, type, count(*) AS n FROM events WHERE anonymous_id = '${anonymousId}' GROUP BY message_id, type`);
    await eventually(async () => {
      expect(problems).toEqual([]);
      return (await journey()).length === 6;
    }, 30_000, 'the six events in the lake');
    const rows = await journey();
    expect(rows.map((r) => String(r.type)).sort()).toEqual(['alias', 'group', 'identify', 'page', 'track', 'track']);
    expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
    await eventually(async () => {
      const response = await fetch(`${runtime.url}/v1/profiles/anonymous_id:${anonymousId}`, { headers: admin });
      if (response.status !== 200) return false;
      const values = ((await response.json()) as { identifiers: Array<{ type: string; value: string }> }).identifiers.map((i) => `${i.type}:${i.value}`);
      return [`email:${reader}@example.com`, `anonymous_id:${anonymousId}`].every((v) => values.includes(v)) && values.some((v) => v.startsWith('user_id:'));
    }, 30_000, 'one profile with the device, the email and the user id');
    await context.close();
  });

  it('answers the SDK\'s source configuration only for a valid write key', async () => {
    const ok = await fetch(`${runtime.url}/v1/sourceConfig?writeKey=dev-write-key`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ source: { id: 'dev', enabled: true, destinations: [] } });
    const refused = await fetch(`${runtime.url}/v1/sourceConfig?writeKey=nope`);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ details: [{ field: 'writeKey' }] });
  });
});
