/**
 * `npm run bench:activation`: the lag from an event accepted by the API to its segment entry
 * delivered to a webhook, through the whole local pipeline (resolver, publisher, local bus), with
 * the runtime's default settings. BENCH_PEOPLE (default 300) people each send one order, paced at
 * BENCH_RATE (default 20) per second; each enters a segment, and a webhook destination gets it.
 */
import '../node-support.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalRuntime } from '../runtime.js';
import { localSettings } from '../settings.js';
import { startWebhookReceiver } from '../webhook-receiver.js';

const people = Number(process.env.BENCH_PEOPLE ?? 300);
const rate = Number(process.env.BENCH_RATE ?? 20);
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const delivered = new Map<string, number>();
const receiver = await startWebhookReceiver({
  onDelivery: (d) => {
    const id = (d.event.detail.identifiers as Array<{ type: string; value: string }>).find((i) => i.type === 'user_id')?.value;
    if (id && !delivered.has(id)) delivered.set(id, d.at);
  },
});
const runtime = await startLocalRuntime(localSettings({ ...process.env, CDP_DATA_DIR: mkdtempSync(join(tmpdir(), 'cdp-bench-activation-')), CDP_PORT: '0' }));
const admin = { authorization: `Bearer ${runtime.settings.adminToken}`, 'content-type': 'application/json' };
const put = async (path: string, body: unknown) => {
  const response = await fetch(`${runtime.url}${path}`, { method: 'PUT', headers: admin, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
};
try {
  await put('/v1/segments/buyers', { name: 'Buyers', condition: { event: 'Order Completed' } });
  for (;;) {
    const segment = (await (await fetch(`${runtime.url}/v1/segments/buyers`, { headers: admin })).json()) as { status: string };
    if (segment.status === 'ready') break;
    await sleep(200);
  }
  await put('/v1/destinations/bench', { type: 'webhook', url: `${receiver.url}/bench`, pattern: { 'detail-type': ['Segment Entered'] } });
  await sleep(runtime.settings.segmentTiming.definitionsMaxAgeMs + 200);
  const accepted = new Map<string, number>();
  const auth = `Basic ${Buffer.from(`${runtime.settings.writeKey}:`).toString('base64')}`;
  const sends: Promise<void>[] = [];
  for (let i = 0; i < people; i++) {
    const userId = `lag-${i}`;
    sends.push(
      fetch(`${runtime.url}/v1/track`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ userId, event: 'Order Completed', properties: { revenue: 1 } }) }).then(async (r) => {
        if (!r.ok) throw new Error(`track answered ${r.status}`);
        accepted.set(userId, Date.now());
      }),
    );
    await sleep(1000 / rate);
  }
  await Promise.all(sends);
  const deadline = Date.now() + 60_000;
  while (delivered.size < people && Date.now() < deadline) await sleep(100);
  const lags = [...accepted].map(([id, at]) => (delivered.get(id) ?? Number.NaN) - at).filter(Number.isFinite).sort((a, b) => a - b);
  const pct = (p: number) => lags[Math.min(lags.length - 1, Math.floor((p / 100) * lags.length))];
  const t = runtime.telemetry.snapshot();
  console.log(JSON.stringify({
    people, rate, delivered: delivered.size, lagMs: { p50: pct(50), p90: pct(90), p99: pct(99), max: lags.at(-1) },
    changesDelivered: t.OutboundChangesDelivered ?? 0, eventsPublished: t.ActivationEventsPublished ?? 0, webhookDeliveries: receiver.deliveries.length,
    settings: { resolverWindowMs: runtime.settings.consumers.resolver.batchWindowMs, publisherIntervalMs: runtime.settings.publisherIntervalMs },
  }));
} finally {
  await runtime.stop();
  await receiver.close();
}
