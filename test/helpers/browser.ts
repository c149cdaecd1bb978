import chromium from '@sparticuz/chromium';
import { build } from 'esbuild';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium as playwright, type Browser, type Page } from 'playwright-core';

/**
 * Headless Chromium from the @sparticuz/chromium package (no browser to install by hand), launched
 * by Playwright. Its Lambda flags are left out: they disable web security, which would hide CORS bugs.
 */
export async function launchBrowser(): Promise<Browser> {
  return playwright.launch({ executablePath: await chromium.executablePath(), args: ['--no-sandbox', '--disable-gpu'], headless: true });
}

/** A browser bundle of `source` (an entry module's text), as a website's own build would make it. */
export async function bundleForBrowser(source: string): Promise<string> {
  const result = await build({
    stdin: { contents: source, resolveDir: process.cwd(), loader: 'ts' },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    minify: true,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

export interface Website {
  /** `http://localhost:<port>`: another origin than the API's `http://127.0.0.1:<port>`. */
  readonly origin: string;
  close(): Promise<void>;
}

/** A website on its own origin, serving `files` (path → [content type, body]). */
export async function serveWebsite(files: Readonly<Record<string, readonly [string, string]>>): Promise<Website> {
  const server: Server = createServer((req, res) => {
    const file = files[(req.url ?? '/').split('?')[0]!];
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file[0] }).end(file[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://localhost:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** Requests of a page that the browser refused (CORS, network) or that were answered with an error, as they happen. */
export function failedRequests(page: Page): string[] {
  const problems: string[] = [];
  page.on('requestfailed', (r) => problems.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => void (r.status() >= 400 && problems.push(`${r.request().method()} ${r.url()}: ${r.status()}`)));
  return problems;
}
