/**
 * `npm run bench:privacy`: how long an erasure (and an access export) of one person takes on a
 * lake holding the standard workload (BENCH_EVENTS, default 200,000), sent over HTTP through the
 * whole local pipeline. The settle wait (2.5 min in AWS, for functions' copies of the
 * suppression list) is set to 0 here and reported apart: what is measured is the work.
 */
import '../node-support.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrivacyTiming } from '../../lambdas/contracts.js';
import { pipelineProgress, startLocalRuntime } from '../runtime.js';
import { localSettings } from '../settings.js';
import { workloadBodies } from './workload.js';

const events = Number(process.env.BENCH_EVENTS ?? 200_000);
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const bodies = workloadBodies({ events });
// The person: the user with the most events in the workload.
const perUser = new Map<string, number>();
for (const body of bodies) {
  for (const event of (JSON.parse(body) as { batch: Array<{ userId?: string }> }).batch) if (event.userId) perUser.set(event.userId, (perUser.get(event.userId) ?? 0) + 1);
}
const [userId, userEvents] = [...perUser].sort((a, b) => b[1] - a[1])[0]!;

const runtime = await startLocalRuntime(
  localSettings({ ...process.env, CDP_DATA_DIR: mkdtempSync(join(tmpdir(), 'cdp-bench-privacy-')), CDP_PORT: '0', CDP_PRIVACY_SETTLE_MS: '0', CDP_PRIVACY_INTERVAL_MS: '100' }),
);
const auth = `Basic ${Buffer.from(`${runtime.settings.writeKey}:`).toString('base64')}`;
const admin = { authorization: `Bearer ${runtime.settings.adminToken}`, 'content-type': 'application/json' };
try {
  const loading = Date.now();
  for (let i = 0; i < bodies.length; i += 8) {
    await Promise.all(
      bodies.slice(i, i + 8).map(async (body) => {
        const response = await fetch(`${runtime.url}/v1/batch`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body });
        if (!response.ok) throw new Error(`batch answered ${response.status}: ${await response.text()}`);
      }),
    );
  }
  for (;;) {
    const p = pipelineProgress(runtime);
    if (p.archived >= p.accepted && p.resolved >= p.accepted) break;
    await sleep(500);
  }
  const loadedMs = Date.now() - loading;
  let objects = 0;
  for await (const _ of runtime.composition.lake.listKeys('events/')) objects++;

  const timed = async (type: string): Promise<{ ms: number; request: Record<string, unknown> }> => {
    const started = Date.now();
    const response = await fetch(`${runtime.url}/v1/privacy/requests`, { method: 'POST', headers: admin, body: JSON.stringify({ type, identifier: { type: 'user_id', value: userId } }) });
    const { id } = (await response.json()) as { id: string };
    for (;;) {
      const request = (await (await fetch(`${runtime.url}/v1/privacy/requests/${id}`, { headers: admin })).json()) as Record<string, unknown>;
      if (request.status === 'done' || request.status === 'failed') return { ms: Date.now() - started, request };
      await sleep(50);
    }
  };
  const access = await timed('access');
  const erase = await timed('erase');
  const stores = erase.request.stores as Record<string, Record<string, number>>;
  console.log(
    JSON.stringify(
      {
        lake: { events, eventObjects: objects, loadedSeconds: Math.round(loadedMs / 1000) },
        person: { userEvents, profiles: erase.request.profiles, suppressed: erase.request.suppressed },
        accessMs: access.ms,
        accessExportedEvents: (access.request.stores as Record<string, { found: number }>).export?.found,
        eraseMs: erase.ms,
        eraseStatus: erase.request.status,
        settleInAwsMs: PrivacyTiming.settleMs,
        lakeEvents: stores['lake.events'],
        lakeIdentities: stores['lake.identities'],
        stores: Object.fromEntries(Object.entries(stores).map(([name, s]) => [name, s.removed])),
      },
      null,
      2,
    ),
  );
} finally {
  await runtime.stop();
}
