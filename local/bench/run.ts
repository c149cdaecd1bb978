/**
 * `npm run bench`: drives the standard workload through the local runtime over HTTP, counts every
 * billable unit, prices it per million events, and measures throughput, freshness, bundle sizes
 * and cold init. The last line of output is one JSON object (docs/benchmarks.md).
 */
import '../node-support.js';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../../lambdas/support/retry.js';
import { localSettings } from '../settings.js';
import { pipelineProgress, startLocalRuntime, type LocalRuntime } from '../runtime.js';
import { measureBundles, type BundleFigures } from './bundles.js';
import { NamedWorkloads, workloadBodies, type WorkloadName } from './workload.js';
import { benchSegments } from './segments.js';
import { priceRun, type MeteredCounts } from './cost-model.js';
import { captureLogs, Meter } from './metering.js';
import { Anchors } from './prices.js';
import type { BenchReport, WorkloadFigures } from './report.js';
import { toolArguments } from '../cli-args.js';
import { percentile } from './stats.js';
import { runHotKey } from './hot-key.js';
import { startWebhookReceiver, type WebhookReceiver } from '../webhook-receiver.js';

toolArguments({
  usage: 'npm run bench',
  help: `
Drives the standard workload over HTTP through the local runtime, counts every billable unit
(requests, Kinesis, DynamoDB capacity, S3, Lambda time, logs), prices it per million events, and
measures throughput, freshness, bundle sizes and cold init. The last line is one JSON object.
See docs/benchmarks.md.

Environment:
  BENCH_EVENTS             events to replay (default 200000; 20000 for a one-minute run)
  BENCH_RATE               events per second the cost is priced at; sizes the batches (default 100)
  BENCH_CONCURRENCY        requests in flight (default 4)
  BENCH_FRESHNESS_SECONDS  how long to send paced traffic for the freshness figures (default 10)
  BENCH_WORKLOADS          named workloads to run, one after the other (default standard,sparse):
                           standard is about 100 events a person in requests of 100, sparse about
                           50 a person in requests of 50 (most visitors come once)
  BENCH_WORKLOAD           a workload file instead of the named ones
  BENCH_SEGMENTS           segments defined before the run (default 0; the issue's axis is 1, 10, 100)
  BENCH_HOT_KEY=1          run the hot-key scenario instead: one device at HOT_KEY_RATE events/s
                           (default 2000) for HOT_KEY_SECONDS (default 60) beside ordinary traffic
  BENCH_RESOLVER_WINDOW_S  the resolver's batching window in whole seconds (default 2, as deployed):
                           sizes its batches at BENCH_RATE, and paces the local consumer
  CDP_SHARDS               stream shards (default 1, as deployed)`,
});
import { ActivationTiming, SegmentTiming, StreamConsumers, type HandlerName, type StreamConsumerDefinition } from '../../lambdas/contracts.js';

const env = process.env;
const int = (name: string, fallback: number): number => {
  const value = env[name] === undefined || env[name] === '' ? fallback : Number(env[name]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${env[name]}"`);
  return value;
};

const resolverWindowSeconds = int('BENCH_RESOLVER_WINDOW_S', StreamConsumers.resolver.batchingWindowSeconds);
if (!Number.isInteger(resolverWindowSeconds)) throw new Error(`BENCH_RESOLVER_WINDOW_S must be whole seconds, as an event source mapping's window is, got "${env.BENCH_RESOLVER_WINDOW_S}"`);

/** The deployed defaults (lambdas/contracts.ts); batches are sized from them and the rate, not from replay speed. */
const Deployed = { shards: 1, resolver: { ...StreamConsumers.resolver, batchingWindowSeconds: resolverWindowSeconds }, archiver: StreamConsumers.archiver } as const;

const settings = {
  events: int('BENCH_EVENTS', 200_000),
  rate: int('BENCH_RATE', 100),
  concurrency: int('BENCH_CONCURRENCY', 4),
  freshnessSeconds: int('BENCH_FRESHNESS_SECONDS', 10),
  segments: env.BENCH_SEGMENTS === undefined || env.BENCH_SEGMENTS === '0' ? 0 : int('BENCH_SEGMENTS', 0),
  shards: int('CDP_SHARDS', Deployed.shards),
  workloads: (env.BENCH_WORKLOAD ? ['file'] : parseWorkloads(env.BENCH_WORKLOADS ?? 'standard,sparse')) as Array<WorkloadName | 'file'>,
};

function parseWorkloads(text: string): WorkloadName[] {
  const names = text.split(',').map((n) => n.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(n in NamedWorkloads));
  if (names.length === 0 || unknown.length > 0) throw new Error(`BENCH_WORKLOADS must name workloads among ${Object.keys(NamedWorkloads).join(', ')}, got "${text}"`);
  return names as WorkloadName[];
}
const perShardRate = settings.rate / settings.shards;
/** What the event source mapping would hand each consumer at this rate: a window's worth, up to the batch size. */
const batchAtRate = (consumer: StreamConsumerDefinition): number => Math.min(consumer.batchSize, Math.ceil(perShardRate * consumer.batchingWindowSeconds));
const resolverBatch = batchAtRate(Deployed.resolver);
const archiverBatch = batchAtRate(Deployed.archiver);
/** Lambda's own START/END/REPORT records per invocation in JSON log format (not emitted locally). */
const PlatformLogBytesPerInvocation = 550;

async function post(runtime: LocalRuntime, body: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(`${runtime.url}/v1/batch`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${runtime.settings.writeKey}:`).toString('base64')}`, 'content-type': 'application/json' },
      body,
    });
    const text = await response.text();
    if (response.status === 200) {
      const result = JSON.parse(text) as { rejected: number };
      if (result.rejected > 0) throw new Error(`the workload had rejected events: ${text.slice(0, 500)}`);
      return;
    }
    if (response.status !== 503 || attempt >= 5) throw new Error(`intake answered ${response.status}: ${text.slice(0, 300)}`);
    await sleep(500 * (attempt + 1));
  }
}

/** Progress on stderr, so stdout stays the report. */
function reportProgress(runtime: LocalRuntime, events: number, started: number): () => void {
  const timer = setInterval(() => {
    const p = pipelineProgress(runtime);
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write(`  ${seconds.toFixed(0)} s: accepted ${p.accepted}/${events}, resolved ${p.resolved}, archived ${p.archived}\n`);
  }, 10_000);
  return () => clearInterval(timer);
}

async function settled(runtime: LocalRuntime, events: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = pipelineProgress(runtime);
    if (p.resolved >= events && p.archived >= events) return;
    if (Date.now() > deadline) throw new Error(`timed out: accepted ${p.accepted}, resolved ${p.resolved}, archived ${p.archived} of ${events}`);
    await sleep(100);
  }
}

const round = (value: number, digits = 4): number => Math.round(value * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  if (env.BENCH_HOT_KEY === '1') {
    // The hot-key scenario instead of the workloads (docs/scaling.md#one-very-busy-key).
    const figures = await runHotKey({ rate: int('HOT_KEY_RATE', 2_000), seconds: int('HOT_KEY_SECONDS', 60) });
    console.table(figures);
    console.log(JSON.stringify(figures));
    return;
  }
  const runs: Array<{ name: string; report: WorkloadReport }> = [];
  for (const name of settings.workloads) {
    process.stderr.write(`workload ${name}\n`);
    const lines = name === 'file' ? workloadBodies({ events: settings.events, file: env.BENCH_WORKLOAD! }) : workloadBodies({ events: settings.events, ...NamedWorkloads[name] });
    runs.push({ name, report: await runWorkload(name, lines) });
  }
  process.stderr.write('  measuring bundles and cold starts\n');
  const bundles = await measureBundles();
  printBundles(bundles);
  const workloads = Object.fromEntries(runs.map(({ name, report }) => [name, figuresOf(report)]));
  if (runs.length > 1) console.table(workloads);
  const report: BenchReport = { ...runs[0]!.report, ...bundles, workloads };
  console.log(JSON.stringify(report));
}

type WorkloadReport = Omit<BenchReport, 'bundleBytes' | 'coldInitMs' | 'baselineColdInitMs' | 'coldInitRatio' | 'workloads'>;

/** The figures that compare workloads, side by side in the report. */
function figuresOf(r: WorkloadReport): WorkloadFigures {
  return {
    events: r.events,
    requests: r.counts.apiRequestUnits,
    costPerMillionUsd: r.costPerMillionUsd,
    costPerMillionUsdOnDemand: r.costPerMillionUsdOnDemand,
    ddbWruPerEvent: r.ddbWruPerEvent,
    ddbRruPerEvent: r.ddbRruPerEvent,
    freshnessP50Ms: r.freshnessP50Ms,
    freshnessP99Ms: r.freshnessP99Ms,
    eventsPerSecond: r.eventsPerSecond,
  };
}

/** One workload through a fresh local runtime: its cost, throughput and freshness. */
async function runWorkload(name: string, lines: string[]): Promise<WorkloadReport> {
  const events = lines.reduce((n, line) => n + (JSON.parse(line) as { batch: unknown[] }).batch.length, 0);
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO'; // as deployed, so log volume is what CloudWatch would ingest
  const runtimeSettings = localSettings({ CDP_DATA_DIR: '', CDP_PORT: '0', CDP_SHARDS: String(settings.shards) });
  const meter = new Meter(runtimeSettings.profilesTable);
  const stopLogs = captureLogs();
  const dataDir = mkdtempSync(join(tmpdir(), 'cdp-bench-'));
  let runtime: LocalRuntime | undefined;
  let receiver: WebhookReceiver | undefined;
  try {
    runtime = await startLocalRuntime(
      {
        ...localSettings({ CDP_DATA_DIR: dataDir, CDP_PORT: '0', CDP_SHARDS: String(settings.shards) }),
        consumers: {
          resolver: { batchSize: resolverBatch, batchWindowMs: Deployed.resolver.batchingWindowSeconds * 1000 },
          // The archiver's window only sets how many objects it writes (counted); waiting 60 s would only slow the run.
          archiver: { batchSize: archiverBatch, batchWindowMs: 1000 },
        },
        // S3 notifications trigger imports in AWS; the local scanner's listing is not part of that bill.
        importScanIntervalMs: 3_600_000,
        // The segmentation function runs once per minute of traffic at BENCH_RATE (see scheduleSegmenter), not of replay.
        segmenterIntervalMs: 3_600_000,
        // Profile writes with changes ring the publisher; its once-a-minute sweep is priced by publisherWithSweeps.
        publisherIntervalMs: 60_000,
      },
      meter.instrumentation(),
    );
    const definitions = benchSegments(settings.segments);
    for (const segment of definitions) await admin(runtime, 'PUT', `/v1/segments/${segment.id}`, { name: segment.name, condition: segment.condition });
    if (definitions.length > 0) await segmentsReady(runtime);
    // With segments, a webhook hears every entry and exit: activation's share of the bill.
    receiver = definitions.length > 0 ? await startWebhookReceiver() : undefined;
    if (receiver) await admin(runtime, 'PUT', '/v1/destinations/bench-hook', { type: 'webhook', url: `${receiver.url}/hook`, pattern: { 'detail-type': ['Segment Entered', 'Segment Exited'] } });
    const publishedBefore = runtime.telemetry.snapshot().ActivationEventsPublished ?? 0;
    const baseline = snapshot(meter);
    const segmenterBefore = meter.lambdaUsage().segmenter ?? { invocations: 0, billedMs: 0 };
    const publisherBefore = meter.lambdaUsage().publisher ?? { invocations: 0, billedMs: 0 };
    const writesBefore = new Map(meter.writeUnitsByFunction);

    // Throughput: the whole workload, as fast as the machine takes it.
    const started = performance.now();
    const stopProgress = reportProgress(runtime, events, started);
    const stopSchedule = scheduleSegmenter(runtime);
    let next = 0;
    await Promise.all(
      Array.from({ length: settings.concurrency }, async () => {
        while (next < lines.length) await post(runtime!, lines[next++]!);
      }),
    );
    await settled(runtime, events, 10 * 60 * 1000).finally(() => {
      stopProgress();
      stopSchedule();
    });
    const elapsedS = (performance.now() - started) / 1000;
    // What the schedule would do meanwhile: due profiles, and membership changes to the lake.
    while ((await runtime.runSegmenter()).more);
    while ((await runtime.runPublisher()).changes > 0);
    const published = (runtime.telemetry.snapshot().ActivationEventsPublished ?? 0) - publishedBefore;
    const counts = since(snapshot(meter), baseline);
    const lambda = publisherWithSweeps(scheduledSegmenter(meter.lambdaUsage(), segmenterBefore, events), publisherBefore, events);
    const invocations = Object.values(lambda).reduce((n, u) => n + u.invocations, 0);
    const membershipChanges = runtime.telemetry.snapshot().OutboundChangesRecorded ?? 0;
    const writeUnitsByFunction = Object.fromEntries([...meter.writeUnitsByFunction].map(([fn, units]) => [fn, round((units - (writesBefore.get(fn) ?? 0)) / events)]));

    // Freshness: paced traffic at BENCH_RATE, timed from stream arrival to the profile write.
    const latencies: number[] = [];
    // Membership changes are written with the profile: their lag is that of the batches that changed one.
    const segmentLatencies: number[] = [];
    let changesSoFar = runtime.telemetry.snapshot().OutboundChangesRecorded ?? 0;
    const telemetry = runtime.telemetry;
    meter.onResolved = (arrivals, doneAt) => {
      latencies.push(...arrivals.map((a) => doneAt - a));
      const changes = telemetry.snapshot().OutboundChangesRecorded ?? 0;
      if (changes > changesSoFar) segmentLatencies.push(...arrivals.map((a) => doneAt - a));
      changesSoFar = changes;
    };
    const perTick = Math.max(1, Math.round(settings.rate / 10));
    const fresh = lines.flatMap((line) => (JSON.parse(line) as { batch: Array<Record<string, unknown>> }).batch);
    const ticks = settings.freshnessSeconds * 10;
    const sends: Promise<void>[] = [];
    process.stderr.write(`  freshness: ${ticks * perTick} events over ${settings.freshnessSeconds} s\n`);
    for (let tick = 0; tick < ticks; tick++) {
      const batch = Array.from({ length: perTick }, (_, i) => {
        const event = fresh[(tick * perTick + i) % fresh.length]!;
        return { ...event, messageId: `fresh-${tick}-${i}-${String(event.messageId)}`, timestamp: new Date().toISOString() };
      });
      sends.push(post(runtime, JSON.stringify({ batch })));
      await sleep(100);
    }
    await Promise.all(sends);
    await settled(runtime, events + ticks * perTick, 60_000);
    latencies.sort((a, b) => a - b);
    segmentLatencies.sort((a, b) => a - b);

    // Backfill: one more segment over everything the lake now holds.
    process.stderr.write('  backfilling a segment over the whole lake\n');
    const backfill = await measureBackfill(runtime);
    const bytesStored = storedBytes(join(runtime.endpoints.s3Directory, runtime.endpoints.lakeBucket, 'events'));
    await Promise.race([runtime.stop(), sleep(15_000)]);
    runtime = undefined;
    const logBytes = stopLogs() + invocations * PlatformLogBytesPerInvocation;

    const metered: MeteredCounts = {
      events,
      apiRequestUnits: counts.apiRequestUnits,
      kinesisRecords: counts.kinesisRecords,
      kinesisPutPayloadUnits: counts.kinesisPutPayloadUnits,
      kinesisOnDemandBytesIn: counts.kinesisOnDemandBytesIn,
      streamConsumers: Object.keys(StreamConsumers).length,
      lambda,
      dynamoWru: counts.dynamoWru,
      dynamoRru: counts.dynamoRru,
      s3Puts: counts.s3Puts,
      s3Gets: counts.s3Gets,
      s3Lists: counts.s3Lists,
      s3BytesStored: bytesStored,
      // PutEvents entries, and as many API destination calls (priced at a fifth of an entry).
      eventBridgeEntries: Math.round(published * 1.2),
      logBytes: Math.round((logBytes * events) / (events + ticks * perTick)),
    };
    const cost = priceRun(metered, { eventsPerSecond: settings.rate, shards: settings.shards });
    const report: WorkloadReport = {
      events,
      eventsPerSecond: Math.round(events / elapsedS),
      costPerMillionUsd: round(cost.totalUsdPerMillion),
      costPerMillionUsdOnDemand: round(cost.totalUsdPerMillionOnDemand),
      ddbWruPerEvent: round(metered.dynamoWru / events),
      ddbRruPerEvent: round(metered.dynamoRru / events),
      lambdaGbSecondsPerMillion: round(cost.lambdaGbSecondsPerMillion, 2),
      freshnessP50Ms: Math.round(percentile(latencies, 50)),
      freshnessP99Ms: Math.round(percentile(latencies, 99)),
      segmentFreshnessP50Ms: settings.segments > 0 && segmentLatencies.length > 0 ? Math.round(percentile(segmentLatencies, 50)) : null,
      segmentFreshnessP99Ms: settings.segments > 0 && segmentLatencies.length > 0 ? Math.round(percentile(segmentLatencies, 99)) : null,
      membershipChangesPerEvent: round(membershipChanges / events),
      ddbWruPerEventByFunction: writeUnitsByFunction,
      backfill,
      counts: {
        apiRequestUnits: metered.apiRequestUnits,
        kinesisRecords: metered.kinesisRecords,
        kinesisPutPayloadUnits: metered.kinesisPutPayloadUnits,
        lambda,
        dynamoWru: round(metered.dynamoWru, 1),
        dynamoRru: round(metered.dynamoRru, 1),
        s3Puts: metered.s3Puts,
        s3Gets: metered.s3Gets,
        s3Lists: metered.s3Lists,
        s3BytesStored: bytesStored,
        eventBridgeEntries: metered.eventBridgeEntries,
        logBytes: metered.logBytes,
      },
      costLines: Object.fromEntries(cost.lines.map((l) => [l.item, round(l.usdPerMillion, 5)])),
      settings: {
        rate: settings.rate,
        shards: settings.shards,
        segments: settings.segments,
        concurrency: settings.concurrency,
        resolverBatch,
        resolverWindowS: Deployed.resolver.batchingWindowSeconds,
        archiverBatch,
        archiverWindowS: Deployed.archiver.batchingWindowSeconds,
        freshnessSamples: latencies.length,
        segmentFreshnessSamples: segmentLatencies.length,
        workload: name === 'file' ? env.BENCH_WORKLOAD! : name,
      },
    };
    print(report, cost.lines);
    process.stderr.write(`  DynamoDB capacity by command (whole run): ${JSON.stringify(Object.fromEntries(meter.capacityByCommand))}, index writes ${JSON.stringify(Object.fromEntries(meter.indexWrites.units))}\n`);
    return report;
  } finally {
    stopLogs();
    // A failed run must still end: stop what is running, but never wait on it for long.
    await Promise.race([runtime?.stop(), sleep(15_000)]);
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function admin(runtime: LocalRuntime, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${runtime.settings.adminToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as unknown;
}

/**
 * The replay runs far faster than BENCH_RATE, so a wall-clock schedule would let outboxes fill up
 * (and be rewritten) for many minutes of traffic between runs: the segmentation function runs
 * instead after each minute's worth of events at BENCH_RATE has been resolved, as the deployed
 * schedule would at that rate.
 */
function scheduleSegmenter(runtime: LocalRuntime): () => void {
  const eventsPerRun = settings.rate * SegmentTiming.scheduleMinutes * 60;
  let next = eventsPerRun;
  const timer = setInterval(() => {
    if (pipelineProgress(runtime).resolved < next) return;
    next += eventsPerRun;
    void runtime.runSegmenter().catch((error: Error) => process.stderr.write(`  segmenter run failed: ${error.message}\n`));
  }, 100);
  return () => clearInterval(timer);
}

/** Runs the segmentation function until every segment is ready (their backfills done). */
async function segmentsReady(runtime: LocalRuntime, timeoutMs = 30 * 60 * 1000): Promise<{ profilesSeeded: number; profilesEvaluated: number }> {
  const deadline = Date.now() + timeoutMs;
  const work = { profilesSeeded: 0, profilesEvaluated: 0 };
  for (;;) {
    const { segments } = (await admin(runtime, 'GET', '/v1/segments')) as { segments: Array<{ status: string }> };
    if (segments.every((s) => s.status === 'ready')) return work;
    if (Date.now() > deadline) throw new Error('segments did not become ready');
    const report = await runtime.runSegmenter();
    work.profilesSeeded += report.profilesSeeded;
    work.profilesEvaluated += report.profilesEvaluated;
    if (!report.more) await sleep(250);
  }
}

/** Defines one segment over the whole lake and times its backfill: the wait it owes the definition cache and the archiver, then the work. */
async function measureBackfill(runtime: LocalRuntime): Promise<NonNullable<BenchReport['backfill']>> {
  const requested = Date.now();
  const created = (await admin(runtime, 'PUT', '/v1/segments/bench-backfill', {
    name: 'Spent over 150 in 90 days',
    condition: { event: 'Order Completed', within: 'P90D', sum: { property: 'revenue', op: 'gt', value: 150 } },
  })) as { backfill: { notBefore: string } };
  const work = await segmentsReady(runtime);
  const done = Date.now();
  while ((await runtime.runSegmenter()).more);
  const segment = (await admin(runtime, 'GET', '/v1/segments/bench-backfill')) as { memberCount: number };
  const waitMs = Math.max(0, Date.parse(created.backfill.notBefore) - requested);
  return { totalMs: done - requested, waitMs, workMs: done - requested - waitMs, ...work, members: segment.memberCount };
}

/**
 * The segmentation function runs once a minute in AWS whatever the traffic: its runs are priced
 * at that schedule over the time the events would take at BENCH_RATE, each costing what the
 * measured runs cost on average (at least one run).
 */
function scheduledSegmenter(
  usage: Partial<Record<HandlerName, { invocations: number; billedMs: number }>>,
  before: { invocations: number; billedMs: number },
  events: number,
): Partial<Record<HandlerName, { invocations: number; billedMs: number }>> {
  const measured = usage.segmenter ?? { invocations: 0, billedMs: 0 };
  const runs = measured.invocations - before.invocations;
  const billedMs = measured.billedMs - before.billedMs;
  const scheduled = Math.max(1, Math.ceil(events / settings.rate / (SegmentTiming.scheduleMinutes * 60)));
  const perRun = runs > 0 ? billedMs / runs : 0;
  return { ...usage, segmenter: { invocations: scheduled, billedMs: Math.max(billedMs, Math.round(perRun * scheduled)) } };
}

/**
 * The publisher runs when a profile write leaves changes in the outbox (measured: the local
 * doorbell rings it as the table's stream does in AWS), and is swept once a minute whatever the
 * traffic: the sweeps are priced at that schedule over the time the events would take at
 * BENCH_RATE, each costing what the measured runs cost on average.
 */
function publisherWithSweeps(
  usage: Partial<Record<HandlerName, { invocations: number; billedMs: number }>>,
  before: { invocations: number; billedMs: number },
  events: number,
): Partial<Record<HandlerName, { invocations: number; billedMs: number }>> {
  const measured = usage.publisher ?? { invocations: 0, billedMs: 0 };
  const runs = measured.invocations - before.invocations;
  const billedMs = measured.billedMs - before.billedMs;
  const sweeps = Math.max(1, Math.ceil(events / settings.rate / (ActivationTiming.scheduleMinutes * 60)));
  const perRun = runs > 0 ? billedMs / runs : 0;
  return { ...usage, publisher: { invocations: runs + sweeps, billedMs: billedMs + Math.round(perRun * sweeps) } };
}

/** Bytes of the lake objects s3rver holds on disk (the object files, not its metadata). */
function storedBytes(directory: string): number {
  let total = 0;
  for (const entry of readdirSync(directory, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('._S3rver_object')) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

interface Snapshot {
  apiRequestUnits: number;
  kinesisRecords: number;
  kinesisPutPayloadUnits: number;
  kinesisOnDemandBytesIn: number;
  dynamoWru: number;
  dynamoIndexWru: number;
  dynamoRru: number;
  s3Puts: number;
  s3Gets: number;
  s3Lists: number;
}

function snapshot(meter: Meter): Snapshot {
  return {
    apiRequestUnits: meter.apiRequestUnits,
    kinesisRecords: meter.kinesisRecords,
    kinesisPutPayloadUnits: meter.kinesisPutPayloadUnits,
    kinesisOnDemandBytesIn: meter.kinesisOnDemandBytesIn,
    dynamoWru: meter.dynamoWriteUnits,
    dynamoIndexWru: meter.indexWrites.total,
    dynamoRru: meter.dynamoRru,
    s3Puts: meter.count('s3', 'PutObjectCommand'),
    s3Gets: meter.count('s3', 'GetObjectCommand') + meter.count('s3', 'HeadObjectCommand'),
    s3Lists: meter.count('s3', 'ListObjectsV2Command'),
  };
}

function since(now: Snapshot, before: Snapshot): Snapshot {
  return Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - before[k as keyof Snapshot]])) as unknown as Snapshot;
}

function print(r: WorkloadReport, lines: ReadonlyArray<{ item: string; usdPerMillion: number }>): void {
  console.log(`\nCDP benchmark, workload ${r.settings.workload}: ${r.events} events, ${r.settings.rate} events/s priced, ${r.settings.shards} shard(s); ` +
    `resolver batches of ${r.settings.resolverBatch} (window ${r.settings.resolverWindowS} s), archiver ${r.settings.archiverBatch} (window ${r.settings.archiverWindowS} s)\n`);
  console.table(Object.fromEntries(lines.map((l) => [l.item, { 'USD per million events': round(l.usdPerMillion, 5) }])));
  console.table({
    'cost per million events (provisioned Kinesis)': r.costPerMillionUsd,
    'cost per million events (on-demand Kinesis)': r.costPerMillionUsdOnDemand,
    'theoretical floor / AWS game analytics / Snowplow / naive': `${Anchors.theoreticalFloor} / ${Anchors.awsGameAnalytics} / ${Anchors.snowplowQuickStart} / ${Anchors.naiveDesign}`,
    'DynamoDB WRU per event': r.ddbWruPerEvent,
    'DynamoDB RRU per event': r.ddbRruPerEvent,
    'Lambda GB-seconds per million events': r.lambdaGbSecondsPerMillion,
    'end-to-end throughput (events/s)': r.eventsPerSecond,
    'freshness to profile p50 / p99 (ms)': `${r.freshnessP50Ms} / ${r.freshnessP99Ms}`,
    'segments / membership changes per event': `${r.settings.segments} / ${r.membershipChangesPerEvent}`,
    'event to membership change p50 / p99 (ms)': `${r.segmentFreshnessP50Ms ?? '-'} / ${r.segmentFreshnessP99Ms ?? '-'}`,
    'backfill over the lake: wait + work (ms)': `${r.backfill.waitMs} + ${r.backfill.workMs}`,
  });
}

function printBundles(b: BundleFigures): void {
  console.table(Object.fromEntries(Object.entries(b.bundleBytes).map(([name, bytes]) => [name, {
    'bundle bytes': bytes,
    'cold init ms': b.coldInitMs[name as HandlerName],
    [`start to loaded, over a minimal handler's ${b.baselineColdInitMs} ms`]: b.coldInitRatio[name as HandlerName],
  }])));
}

await main().catch((error: Error) => {
  console.error(`benchmark failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
process.exit(0);
