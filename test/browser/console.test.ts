import { Analytics } from '@segment/analytics-node';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failedRequests, launchBrowser } from '../helpers/browser.js';
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

async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

beforeAll(async () => {
  mkdirSync(docsImages, { recursive: true });
  runtime = await startRuntimeProcess(dataDir, { CDP_RESOLVER_BATCH_WINDOW_MS: '200', CDP_ARCHIVER_BATCH_WINDOW_MS: '300' });
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
    console.log(`console first load: ${Math.round(loadMs)} ms`);
    expect(loadMs).toBeLessThan(1_000);
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
    const graph = page.getByRole('img', { name: /1 merge into profile/ });
    await graph.waitFor();
    expect(await page.locator('figcaption').textContent()).toMatch(/joined .* by rule identify/);
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.screenshot({ path: join(docsImages, 'console-profile.png'), fullPage: true });
    expect(problems).toEqual([]);

    // An identifier no one has: the page says so.
    await page.goto(`${runtime.url}/console/#/profiles/${encodeURIComponent('email:nobody@example.com')}`);
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('No profile has this identifier');
    await page.context().close();
  });
});
