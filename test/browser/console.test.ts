import { Analytics } from '@segment/analytics-node';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole } from '../../console/build.js';
import { startWebhookReceiver } from '../../local/webhook-receiver.js';
import { failedRequests, launchBrowser, serveWebsite } from '../helpers/browser.js';
import { eventually, startRuntimeProcess, type RuntimeProcess } from '../helpers/local-process.js';

/**
 * The web console in headless Chromium against `npm start`: sign-in (refusing a write key and a
 * wrong token), finding a visitor by email, and their profile page. The screenshots it takes are
 * docs/console.md's, so they never go stale. axe-core checks every page.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'cdp-browser-console-'));
const docsImages = join(import.meta.dirname, '..', '..', 'docs', 'images');
const run = randomUUID().slice(0, 6);
const visitor = { userId: `shopper-${run}`, email: `shopper.${run}@example.com`, laptop: `laptop-${run}`, phone: `phone-${run}` };
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let runtime: RuntimeProcess;
let browser: Browser;

/** axe-core's serious and critical findings on the page as it is now. */
async function accessibilityProblems(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: () => Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } }).axe;
    return (await axe.run()).violations;
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** A page in a context of its own; the console's CSP is bypassed only so that axe-core can be injected. */
async function consolePage(): Promise<Page> {
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  return context.newPage();
}

/** A property of the element that has the keyboard focus (evaluated in the page, which has a DOM). */
const focused = (page: Page, property: 'id' | 'textContent'): Promise<string | null> => page.evaluate(`document.activeElement && document.activeElement.${property}`);

async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

beforeAll(async () => {
  mkdirSync(docsImages, { recursive: true });
  // A destination gives up after two attempts, so the dead-letter scenario takes a second, not a day.
  runtime = await startRuntimeProcess(dataDir, { CDP_RESOLVER_BATCH_WINDOW_MS: '200', CDP_ARCHIVER_BATCH_WINDOW_MS: '300', CDP_BUS_MAX_ATTEMPTS: '2', CDP_BUS_BASE_DELAY_MS: '50', CDP_BUS_MAX_DELAY_MS: '200' });
  browser = await launchBrowser();
  // A visitor on two devices who signs in on both and orders: two profiles merged into one.
  const analytics = new Analytics({ writeKey: 'dev-write-key', host: runtime.url, flushAt: 20, flushInterval: 50 });
  analytics.page({ anonymousId: visitor.laptop, name: 'Home' });
  analytics.track({ anonymousId: visitor.phone, event: 'Product Viewed', properties: { sku: 'boots-42' } });
  await analytics.closeAndFlush();
  const admin = { authorization: 'Bearer dev-admin-token' };
  await eventually(async () => (await Promise.all([visitor.laptop, visitor.phone].map((d) => fetch(`${runtime.url}/v1/profiles/anonymous_id:${d}`, { headers: admin })))).every((r) => r.status === 200), 30_000, 'both devices profiled');
  const later = new Analytics({ writeKey: 'dev-write-key', host: runtime.url, flushAt: 20, flushInterval: 50 });
  later.identify({ anonymousId: visitor.laptop, userId: visitor.userId, traits: { email: visitor.email, name: 'Sam Shopper' } });
  later.identify({ anonymousId: visitor.phone, userId: visitor.userId });
  later.track({ userId: visitor.userId, event: 'Order Completed', properties: { revenue: 64, currency: 'EUR' } });
  await later.closeAndFlush();
  await eventually(async () => {
    const events = (await (await fetch(`${runtime.url}/v1/profiles/user_id:${visitor.userId}/events`, { headers: admin })).json()) as { events?: Array<{ event?: string }> };
    return events.events?.some((e) => e.event === 'Order Completed') === true;
  }, 30_000, 'the order in the lake');
  // The resolver and the archiver run apart: the order can be in the lake before the phone has merged.
  await eventually(async () => {
    const history = (await (await fetch(`${runtime.url}/v1/profiles/user_id:${visitor.userId}/merges`, { headers: admin })).json()) as { history?: Array<{ kind: string }> };
    return history.history?.some((e) => e.kind === 'merge') === true;
  }, 30_000, 'the two devices merged');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await runtime?.kill('SIGTERM');
});

describe('the web console', () => {
  it('is served at /console, loads in under a second, and refuses a write key and a wrong token', async () => {
    const page = await consolePage();
    const problems = failedRequests(page);
    await page.goto(`${runtime.url}/console`);
    const loadMs = await page.evaluate(() => {
      const [navigation] = (performance as unknown as { getEntriesByType: (type: string) => Array<{ loadEventEnd: number; startTime: number }> }).getEntriesByType('navigation');
      return navigation!.loadEventEnd - navigation!.startTime;
    });
    const bundle = buildConsole(mkdtempSync(join(tmpdir(), 'cdp-console-build-')));
    console.log(`console first load: ${Math.round(loadMs)} ms; app.js ${bundle.scriptGzipBytes} B and app.css ${bundle.styleGzipBytes} B gzipped`);
    expect(loadMs).toBeLessThan(1_000);
    expect(bundle.scriptGzipBytes).toBeLessThan(40 * 1024);
    await expect.poll(() => page.getByRole('heading', { name: 'Sign in' }).isVisible()).toBe(true);
    expect(await accessibilityProblems(page)).toEqual([]);

    await signIn(page, 'dev-write-key');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not a valid admin token');
    await signIn(page, 'wrong-token');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not a valid admin token');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.screenshot({ path: join(docsImages, 'console-sign-in.png') });
    // The refusals were the API's 403s; nothing else failed.
    expect(problems.filter((p) => !p.endsWith(': 403'))).toEqual([]);
    await page.context().close();
  });

  it('works from the keyboard alone: sign in, skip to the content, move between pages, search', async () => {
    const page = await consolePage();
    await page.goto(`${runtime.url}/console/`);
    await page.keyboard.press('Tab');
    expect(await focused(page, 'id')).toBe('token');
    await page.keyboard.type('dev-admin-token');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Profiles' }).waitFor();
    // The first stop is the skip link; it lands on the page's content.
    await page.keyboard.press('Tab');
    expect(await focused(page, 'textContent')).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await focused(page, 'id')).toBe('main');
    expect(await page.getByRole('heading', { name: 'Profiles' }).isVisible()).toBe(true);
    // Through the navigation to Segments, and back to Profiles to search by keyboard.
    await page.getByRole('link', { name: 'Segments' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Segments' }).waitFor();
    await page.getByRole('link', { name: 'Profiles' }).focus();
    await page.keyboard.press('Enter');
    await page.getByLabel('Value').focus();
    await page.keyboard.type(visitor.email);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Identifiers' }).waitFor();
    // Every control on the page can be reached: none is taken out of the tab order.
    expect(await page.locator('button[tabindex="-1"], a[tabindex="-1"], input[tabindex="-1"]').count()).toBe(0);
    await page.context().close();
  });

  it('lets a page of another origin send events but not call an admin route, even with a valid admin token', async () => {
    const elsewhere = await serveWebsite({ '/': ['text/html', '<!doctype html><title>elsewhere</title>'] });
    try {
      const page = await (await browser.newContext()).newPage();
      await page.goto(elsewhere.origin);
      const outcome = await page.evaluate(async (api) => {
        const attempt = async (path: string, init: RequestInit) => {
          try {
            return String((await fetch(`${api}${path}`, init)).status);
          } catch (error) {
            return (error as Error).name;
          }
        };
        return {
          admin: await attempt('/v1/segments', { headers: { authorization: 'Bearer dev-admin-token' } }),
          intake: await attempt('/v1/track', { method: 'POST', headers: { authorization: `Basic ${btoa('dev-write-key:')}`, 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'elsewhere', event: 'Cross Origin' }) }),
        };
      }, runtime.url);
      expect(outcome).toEqual({ admin: 'TypeError', intake: '200' });
      await page.context().close();
    } finally {
      await elsewhere.close();
    }
  });

  it('finds the visitor by email and shows the merged identifiers, the order in the timeline and the merge graph', async () => {
    const page = await consolePage();
    const problems = failedRequests(page);
    await page.goto(`${runtime.url}/console/`);
    await signIn(page, 'dev-admin-token');
    await page.getByRole('heading', { name: 'Profiles' }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByLabel('Identifier type').selectOption('email');
    await page.getByLabel('Value').fill(visitor.email.toUpperCase());
    await page.keyboard.press('Enter');

    await page.getByRole('heading', { name: 'Identifiers' }).waitFor();
    const identifiers = await page.getByRole('table').textContent();
    for (const value of [visitor.userId, visitor.email, visitor.laptop, visitor.phone]) expect(identifiers).toContain(value);
    await page.getByRole('listitem').filter({ hasText: 'Order Completed' }).first().waitFor();
    // Two devices make one or two merges: into one device's profile, or both into the user's, as the batches fell.
    await page.getByRole('img', { name: /[12] merges? into profile/ }).waitFor();
    expect(await page.locator('figcaption').textContent()).toMatch(new RegExp(`\\(anonymous_id:(${visitor.laptop}|${visitor.phone})\\) joined .* by rule identify`));
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.screenshot({ path: join(docsImages, 'console-profile.png'), fullPage: true });
    expect(problems).toEqual([]);

    // An identifier no one has: the page says so.
    await page.goto(`${runtime.url}/console/#/profiles/${encodeURIComponent('email:nobody@example.com')}`);
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('No profile has this identifier');
    await page.context().close();
  });

  it('builds a segment in the builder, its JSON view in step both ways, previews its count, and shows the visitor as a member', async () => {
    const page = await consolePage();
    const problems = failedRequests(page);
    await page.goto(`${runtime.url}/console/#/segments/new`);
    await signIn(page, 'dev-admin-token');
    await page.getByRole('heading', { name: 'New segment' }).waitFor();
    const json = page.getByLabel('As JSON');
    // The form writes the JSON: a window and a property test.
    await page.getByLabel('Within').fill('P7D');
    await page.getByRole('button', { name: 'Add property test' }).click();
    await page.getByLabel('Property', { exact: true }).fill('revenue');
    await page.getByLabel('Operator').selectOption('gte');
    await page.getByLabel('Value').fill('50');
    await page.getByLabel('Value').press('Tab');
    expect(JSON.parse(await json.inputValue())).toEqual({ all: [{ event: 'Order Completed', within: 'P7D', where: [{ property: 'revenue', op: 'gte', value: 50 }] }] });
    // The JSON writes the form: a second condition, nested in a not.
    const edited = { all: [{ event: 'Order Completed', within: 'P7D', where: [{ property: 'revenue', op: 'gte', value: 50 }] }, { not: { trait: 'plan', op: 'eq', value: 'staff' } }] };
    await json.fill(JSON.stringify(edited, null, 2));
    await page.getByRole('group', { name: 'Condition condition.all[1].not' }).waitFor();
    expect(await page.getByRole('group', { name: 'Condition condition.all[1].not' }).getByLabel('Trait').inputValue()).toBe('plan');
    await json.fill('{ "all": [');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Not applied');
    await json.fill(JSON.stringify(edited));

    await page.getByRole('button', { name: 'Preview count' }).click();
    await expect.poll(() => page.getByText(/people match|person matches/).textContent(), { timeout: 15_000 }).toContain('1 person matches');
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.screenshot({ path: join(docsImages, 'console-segment-builder.png'), fullPage: true });

    await page.getByLabel('Id').fill(`big-spenders-${run}`);
    await page.getByLabel('Name').fill('Big spenders');
    await page.getByRole('button', { name: 'Save segment' }).click();
    await page.getByRole('heading', { name: 'Big spenders' }).waitFor();
    await expect.poll(() => page.getByTestId('segment-status').textContent(), { timeout: 30_000 }).toBe('ready');
    const profileId = ((await (await fetch(`${runtime.url}/v1/profiles/user_id:${visitor.userId}`, { headers: { authorization: 'Bearer dev-admin-token' } })).json()) as { id: string }).id;
    // Members come from the lake's record of entries: refreshed until it has the visitor's.
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: 'Refresh members' }).click();
          await page.getByRole('button', { name: 'Refresh members' }).and(page.locator(':enabled')).waitFor();
          return (await page.getByRole('list', { name: 'Members' }).count()) > 0 ? page.getByRole('list', { name: 'Members' }).textContent() : '';
        },
        { timeout: 30_000, interval: 1_000 },
      )
      .toContain(profileId);
    expect(await page.locator('pre code').textContent()).toMatch(/SELECT/i);
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.screenshot({ path: join(docsImages, 'console-segment.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('shows a refused event in the live view within seconds, with its reason per field, and filters and pauses', async () => {
    const page = await consolePage();
    await page.goto(`${runtime.url}/console/#/live`);
    await signIn(page, 'dev-admin-token');
    await page.getByText(/events shown/).waitFor();
    const sentAt = Date.now();
    const track = (body: unknown) =>
      fetch(`${runtime.url}/v1/track`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from('dev-write-key:').toString('base64')}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await track({ userId: visitor.userId, properties: { forgot: 'the event name' } })).status).toBe(400);
    expect((await track({ userId: visitor.userId, event: 'Wishlist Added', properties: { sku: 'boots-42' } })).status).toBe(200);
    const refused = page.locator('li.refused').filter({ hasText: visitor.userId });
    await refused.first().waitFor({ timeout: 5_000 });
    const lagMs = Date.now() - sentAt;
    console.log(`live view lag in the browser: ${lagMs} ms`);
    expect(lagMs).toBeLessThan(5_000);
    expect(await refused.first().getByRole('list', { name: 'Why it was refused' }).textContent()).toMatch(/event/);
    await page.locator('li.accepted').filter({ hasText: 'Wishlist Added' }).first().waitFor({ timeout: 5_000 });
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.screenshot({ path: join(docsImages, 'console-live.png') });

    // Filters: refused only; then by event name.
    await page.getByLabel('Outcome').selectOption('refused');
    expect(await page.locator('li.accepted').count()).toBe(0);
    await page.getByLabel('Outcome').selectOption('');
    await page.getByLabel('Event name').fill('wishlist');
    expect(await page.locator('ol.live > li').count()).toBe(1);
    // Paused, nothing new is shown.
    await page.getByRole('button', { name: 'Pause' }).click();
    expect((await track({ userId: visitor.userId, event: 'Wishlist Added', properties: { sku: 'hat-7' } })).status).toBe(200);
    await page.waitForTimeout(3_000);
    expect(await page.locator('ol.live > li').count()).toBe(1);
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => page.locator('ol.live > li').count(), { timeout: 5_000 }).toBe(2);
    await page.context().close();
  });

  it('shows the last hour on the overview: events per minute, refusals by field, segment sizes', async () => {
    const page = await consolePage();
    const problems = failedRequests(page);
    await page.goto(`${runtime.url}/console/#/overview`);
    await signIn(page, 'dev-admin-token');
    await page.getByRole('img', { name: /Events per minute over the last 60 minutes/ }).waitFor();
    // The refused event of the live view's test, and the visitor's events, are counted.
    expect(await page.getByRole('definition').first().textContent()).toMatch(/^\d+$/);
    expect(await page.getByLabel('Refused events by field').textContent()).toContain('event');
    expect(await page.getByText(/\d+ accepted, \d+ refused/).textContent()).not.toContain(' 0 accepted');
    expect(await page.getByLabel('Members by segment').textContent()).toContain('Big spenders');
    // The visitors of the SDK tests and this file, merged: identified ones among them.
    expect(await page.getByTestId('profile-count').textContent()).toMatch(/^[1-9]\d* profiles?, [1-9]\d* identified/);
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.screenshot({ path: join(docsImages, 'console-overview.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('makes a write key for a source, shown once with the SDK snippets filled in, and revokes it', async () => {
    const page = await consolePage();
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: runtime.url });
    await page.goto(`${runtime.url}/console/#/sources`);
    await signIn(page, 'dev-admin-token');
    await page.getByRole('heading', { name: 'Sources' }).waitFor();
    await page.getByLabel('Source id').fill(`web-${run}`);
    await page.getByLabel('Name').fill('Web shop');
    await page.getByRole('button', { name: 'Make write key' }).click();
    const key = (await page.getByTestId('new-write-key').textContent())!;
    expect(key).toMatch(/^wk_/);
    expect(await page.getByRole('region', { name: /Write key for/ }).textContent()).toContain(`AnalyticsBrowser.load({ writeKey: '${key}', cdnURL: '${runtime.url}' })`);
    await page.getByRole('button', { name: 'Copy write key' }).click();
    expect(await page.evaluate(() => (navigator as unknown as { clipboard: { readText: () => Promise<string> } }).clipboard.readText())).toBe(key);
    // The key works at once.
    const sent = await fetch(`${runtime.url}/v1/track`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}`, 'content-type': 'application/json' }, body: JSON.stringify({ userId: visitor.userId, event: 'New Key Used' }) });
    expect(sent.status).toBe(200);
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.screenshot({ path: join(docsImages, 'console-sources.png'), fullPage: true });

    // Shown once: after a reload only its hash is listed.
    await page.reload();
    await page.getByRole('heading', { name: `web-${run}` }).waitFor();
    expect(await page.content()).not.toContain(key);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Revoke Web shop' }).click();
    await expect.poll(() => page.getByRole('table', { name: `Write keys of web-${run}` }).textContent()).toContain('revoked');
    await page.context().close();
  });

  it('wires a webhook with a pattern, sends it a test event that arrives, then deletes it', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const page = await consolePage();
      const problems = failedRequests(page);
      await page.goto(`${runtime.url}/console/#/destinations`);
      await signIn(page, 'dev-admin-token');
      await page.getByRole('button', { name: 'New webhook' }).click();
      await page.getByLabel('Id', { exact: true }).fill(`crm-${run}`);
      await page.getByLabel('URL').fill(`${receiver.url}/crm`);
      await page.getByLabel('Pattern (EventBridge)').fill(JSON.stringify({ 'detail-type': ['Segment Entered'], detail: { segmentId: [`big-spenders-${run}`] } }));
      await page.getByLabel('Traits to send').fill('email, name');
      // A pattern that is not JSON is refused before it is sent.
      await page.getByLabel('Pattern (EventBridge)').fill('{ nope');
      await page.getByRole('button', { name: 'Save destination' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('The pattern is not JSON');
      await page.getByLabel('Pattern (EventBridge)').fill(JSON.stringify({ 'detail-type': ['Segment Entered'], detail: { segmentId: [`big-spenders-${run}`] } }));
      await page.getByRole('button', { name: 'Save destination' }).click();
      await page.getByRole('heading', { name: `crm-${run}` }).waitFor();

      await page.getByRole('button', { name: `Send test event to crm-${run}` }).click();
      await expect.poll(() => page.getByRole('status').filter({ hasText: 'Test event' }).textContent()).toMatch(/Test event test-.* sent/);
      await expect.poll(() => receiver.accepted('/crm').map((d) => d.event['detail-type']), { timeout: 15_000 }).toContain('CDP Test Event');
      expect(await accessibilityProblems(page)).toEqual([]);
      await page.screenshot({ path: join(docsImages, 'console-destinations.png'), fullPage: true });
      expect(problems).toEqual([]);

      page.once('dialog', (dialog) => void dialog.accept());
      await page.getByRole('button', { name: `Delete crm-${run}` }).click();
      await expect.poll(() => page.getByRole('heading', { name: `crm-${run}` }).count()).toBe(0);
      await page.context().close();
    } finally {
      await receiver.close();
    }
  });

  it('shows a destination\'s dead letters and redrives them once the webhook is back', async () => {
    // Down for its first two requests (both attempts of the test event), then up.
    const receiver = await startWebhookReceiver({ answer: (_path, previous) => (previous < 2 ? 503 : 200) });
    try {
      const put = await fetch(`${runtime.url}/v1/destinations/flaky-${run}`, {
        method: 'PUT',
        headers: { authorization: 'Bearer dev-admin-token', 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'webhook', url: `${receiver.url}/flaky`, pattern: { 'detail-type': ['Profile Merged'] } }),
      });
      expect(put.status).toBe(201);
      const page = await consolePage();
      await page.goto(`${runtime.url}/console/#/destinations`);
      await signIn(page, 'dev-admin-token');
      await page.getByRole('button', { name: `Send test event to flaky-${run}` }).click();
      await expect.poll(() => receiver.deliveries.filter((d) => d.path === '/flaky').length, { timeout: 15_000 }).toBe(2);
      // Given up on after its two attempts: a dead letter, which the page shows once it is opened again.
      const deadLetters = async () => ((await (await fetch(`${runtime.url}/v1/destination-dead-letters`, { headers: { authorization: 'Bearer dev-admin-token' } })).json()) as { deadLetters: Record<string, number> }).deadLetters;
      await expect.poll(async () => (await deadLetters())[`flaky-${run}`], { timeout: 15_000 }).toBe(1);
      await page.reload();
      await expect.poll(() => page.getByTestId(`dead-letters-flaky-${run}`).textContent()).toContain('1 dead letter');
      // The bus's count of the last hour: both attempts failed and the event was given up on.
      expect(await page.getByTestId(`deliveries-flaky-${run}`).textContent()).toBe('Last hour: 0 delivered · 2 failed attempts · 1 given up on');
      expect(await accessibilityProblems(page)).toEqual([]);
      await page.getByRole('button', { name: `Redrive flaky-${run}` }).click();
      await page.getByRole('status').filter({ hasText: '1 dead letter put back' }).waitFor({ timeout: 10_000 });
      await expect.poll(() => receiver.accepted('/flaky').map((d) => d.event['detail-type']), { timeout: 15_000 }).toEqual(['CDP Test Event']);
      await expect.poll(() => page.getByTestId(`dead-letters-flaky-${run}`).textContent()).toBe('No dead letters.');
      await page.getByRole('button', { name: 'Refresh counts' }).click();
      await expect.poll(() => page.getByTestId(`deliveries-flaky-${run}`).textContent()).toBe('Last hour: 1 delivered · 2 failed attempts · 1 given up on');
      await page.context().close();
    } finally {
      await receiver.close();
    }
  });

  it('submits a privacy request and shows its receipt, and splits an identifier off a profile after a confirmation', async () => {
    const page = await consolePage();
    await page.goto(`${runtime.url}/console/#/privacy`);
    await signIn(page, 'dev-admin-token');
    await page.getByLabel('Identifier', { exact: true }).fill(visitor.email);
    await page.getByRole('button', { name: 'Submit request' }).click();
    await expect.poll(() => page.getByTestId('privacy-status').textContent(), { timeout: 30_000 }).toBe('done');
    await page.getByRole('table', { name: /Receipt/ }).waitFor();
    expect(await page.getByRole('link', { name: 'Download the export' }).count()).toBe(1);
    await page.getByRole('button', { name: 'Refresh the list' }).click();
    await page.getByRole('table', { name: 'Privacy requests, newest first' }).getByText('done').first().waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.screenshot({ path: join(docsImages, 'console-privacy.png'), fullPage: true });
    // Another session, which followed nothing, finds it in the list of every request and opens its receipt.
    const requestId = (await page.getByRole('article', { name: /^Privacy request / }).getAttribute('aria-label'))!.replace('Privacy request ', '');
    const other = await consolePage();
    await other.goto(`${runtime.url}/console/#/privacy`);
    await signIn(other, 'dev-admin-token');
    await other.getByRole('button', { name: `Show the receipt of ${requestId}` }).click();
    await expect.poll(() => other.getByTestId('privacy-status').textContent(), { timeout: 10_000 }).toBe('done');
    await other.context().close();

    // A split: the phone is not the shopper's after all.
    await page.goto(`${runtime.url}/console/#/profiles/${encodeURIComponent(`user_id:${visitor.userId}`)}`);
    await page.getByRole('heading', { name: 'Identifiers' }).waitFor();
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.getByRole('button', { name: `Split off anonymous_id:${visitor.phone}` }).click();
    expect(await page.getByRole('table').textContent()).toContain(visitor.phone);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: `Split off anonymous_id:${visitor.phone}` }).click();
    await expect.poll(() => page.getByRole('table').textContent(), { timeout: 15_000 }).not.toContain(visitor.userId);
    expect(await page.getByRole('table').textContent()).toContain(visitor.phone);
    await page.context().close();
  });
});

