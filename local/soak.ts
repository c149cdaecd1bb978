/**
 * `npm run soak`: a bounded soak test. Sends the standard workload at a steady rate through the
 * whole local runtime (loopback only) for SOAK_SECONDS, then waits for the consumers to drain,
 * and reports the sustained rate, errors, dead letters and memory: peak RSS and heap, and the
 * heap after a full GC early in the run against the end, to show memory stays bounded.
 *
 *   SOAK_SECONDS  how long to send (default 180)
 *   SOAK_RATE     events per second (default 500)
 *   SOAK_BATCH    events per request (default 50)
 *
 * The last line of output is one JSON object; the exit code is 1 if anything failed.
 */
import './node-support.js';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../lambdas/support/retry.js';
import { pipelineProgress, startLocalRuntime, type LocalRuntime } from './runtime.js';
import { localSettings } from './settings.js';
import { workloadBodies } from './bench/workload.js';
import { toolArguments } from './cli-args.js';

toolArguments({
  usage: 'npm run soak',
  help: `
A bounded soak test: sends the standard workload at a steady rate through the whole local runtime
(loopback only), waits for the consumers to drain, and reports the sustained rate, errors, dead
letters, peak RSS and heap, and the heap after a full GC early in the run against the end. The
last line is one JSON object; the exit code is 1 if anything failed.

Environment:
  SOAK_SECONDS   how long to send (default 180)
  SOAK_RATE      events per second (default 500)
  SOAK_BATCH     events per request (default 50)
  CDP_DATA_DIR   keep the run's data there (default: a temporary directory, removed after)
  CDP_WRITE_KEY  the write key the runtime accepts and the sender uses (default dev-write-key)`,
});

const env = process.env;
const positive = (name: string, fallback: number): number => {
  const value = env[name] === undefined || env[name] === '' ? fallback : Number(env[name]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${env[name]}"`);
  return value;
};
const seconds = positive('SOAK_SECONDS', 180);
const rate = positive('SOAK_RATE', 500);
const batchSize = positive('SOAK_BATCH', 50);
const MaxInFlight = 16;
// Merges are logged at INFO; a soak's output is the progress and the report.
env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const MiB = 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;

interface MemorySample {
  readonly at: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly afterGc?: number;
}

function sampleMemory(samples: MemorySample[], started: number): () => void {
  let tick = 0;
  const timer = setInterval(() => {
    const collect = gc !== undefined && tick++ % 10 === 0;
    if (collect) gc();
    const usage = process.memoryUsage();
    samples.push({ at: (Date.now() - started) / 1000, rss: usage.rss, heapUsed: usage.heapUsed, ...(collect ? { afterGc: usage.heapUsed } : {}) });
  }, 1_000);
  return () => clearInterval(timer);
}

async function deadLetterCount(runtime: LocalRuntime, dataDir: string): Promise<number> {
  let letters = 0;
  for await (const _ of runtime.composition.deadLetters.list()) letters++;
  const dlq = join(dataDir, 'dlq');
  if (existsSync(dlq)) letters += readdirSync(dlq, { recursive: true }).filter((f) => String(f).endsWith('.json')).length;
  return letters;
}

async function main(): Promise<number> {
  const batches = workloadBodies({ events: Math.ceil(seconds * rate), batch: batchSize });
  const events = batches.reduce((n, body) => n + (JSON.parse(body) as { batch: unknown[] }).batch.length, 0);
  const dataDir = env.CDP_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'cdp-soak-'));
  const settings = localSettings({ ...env, CDP_DATA_DIR: dataDir, CDP_PORT: '0' });
  const runtime = await startLocalRuntime(settings);
  const memory: MemorySample[] = [];
  const started = Date.now();
  const stopSampling = sampleMemory(memory, started);
  const statuses: Record<string, number> = {};
  let errors = 0;
  let lateMs = 0;
  const authorization = `Basic ${Buffer.from(`${settings.writeKey}:`).toString('base64')}`;

  process.stderr.write(`soak: ${events.toLocaleString('en-US')} events at ${rate}/s for ${seconds} s, ${batchSize} per request\n`);
  const progress = setInterval(() => {
    const p = pipelineProgress(runtime);
    const rss = memory.at(-1)?.rss ?? 0;
    process.stderr.write(`  ${Math.round((Date.now() - started) / 1000)} s: accepted ${p.accepted}, resolved ${p.resolved}, archived ${p.archived}, rss ${Math.round(rss / MiB)} MiB\n`);
  }, 15_000);

  let next = 0;
  const send = async (): Promise<void> => {
    while (next < batches.length) {
      const index = next++;
      const due = started + (index * batchSize * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      else lateMs = Math.max(lateMs, -wait);
      const response = await fetch(`${runtime.url}/v1/batch`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: batches[index]!,
      }).catch((error: Error) => ({ status: 0, text: async () => error.message }));
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      if (response.status !== 200) errors++;
      await response.text();
    }
  };
  await Promise.all(Array.from({ length: MaxInFlight }, send));
  const sendSeconds = (Date.now() - started) / 1000;

  const drainStarted = Date.now();
  let drained = false;
  while (Date.now() - drainStarted < 120_000) {
    const p = pipelineProgress(runtime);
    if (p.resolved >= p.accepted && p.archived >= p.accepted) {
      drained = true;
      break;
    }
    await sleep(100);
  }
  const drainMs = Date.now() - drainStarted;
  clearInterval(progress);
  stopSampling();
  const final = pipelineProgress(runtime);
  const deadLetters = await deadLetterCount(runtime, dataDir);
  const warnings = runtime.telemetry.snapshot();
  await runtime.stop();
  if (!env.CDP_DATA_DIR) rmSync(dataDir, { recursive: true, force: true });

  const afterGc = memory.filter((m) => m.afterGc !== undefined).map((m) => m.afterGc!);
  const warm = afterGc[Math.min(afterGc.length - 1, Math.floor(afterGc.length / 3))] ?? 0;
  const end = afterGc.at(-1) ?? 0;
  const report = {
    seconds: Math.round(sendSeconds * 10) / 10,
    targetRate: rate,
    events,
    accepted: final.accepted,
    sustainedEventsPerSecond: Math.round(final.accepted / sendSeconds),
    maxLateMs: Math.round(lateMs),
    errors,
    statuses,
    deadLetters,
    drained,
    drainMs,
    peakRssMiB: Math.round(Math.max(...memory.map((m) => m.rss)) / MiB),
    peakHeapMiB: Math.round(Math.max(...memory.map((m) => m.heapUsed)) / MiB),
    heapAfterGcWarmMiB: Math.round(warm / MiB),
    heapAfterGcEndMiB: Math.round(end / MiB),
    writeConflicts: warnings.ProfileWriteConflicts ?? 0,
  };
  const ok = errors === 0 && deadLetters === 0 && drained && final.accepted === events;
  console.log(
    [
      `sent ${report.events} events in ${report.seconds} s: ${report.sustainedEventsPerSecond} events/s sustained (target ${rate}), errors ${errors}, dead letters ${deadLetters}`,
      `drained in ${drainMs} ms; peak RSS ${report.peakRssMiB} MiB, peak heap ${report.peakHeapMiB} MiB, heap after GC ${report.heapAfterGcWarmMiB} MiB at a third of the run and ${report.heapAfterGcEndMiB} MiB at the end`,
      ok ? 'soak passed' : 'soak FAILED',
    ].join('\n'),
  );
  console.log(JSON.stringify(report));
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`soak failed: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
