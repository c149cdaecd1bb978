import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HandlerName } from '../../lambdas/contracts.js';
import { startLocalRuntime, type LocalRuntime, type RuntimeInstrumentation } from '../runtime.js';
import { localSettings } from '../settings.js';
import { percentile } from './stats.js';

export interface HotKeyOptions {
  /** The busy device's events per second. @default 2000 */
  readonly rate?: number;
  /** How long it keeps sending. @default 60 */
  readonly seconds?: number;
  /** Everyone else's events per second, spread over 100 visitors. @default 20 */
  readonly othersRate?: number;
  /** The resolver's batching window. @default 1000 */
  readonly resolverWindowMs?: number;
}

/** What the hot-key scenario measured (docs/scaling.md#one-very-busy-key). */
export interface HotKeyFigures {
  readonly rate: number;
  readonly seconds: number;
  readonly resolverWindowMs: number;
  readonly achievedEventsPerSecond: number;
  readonly sendSeconds: number;
  readonly hotSent: number;
  readonly othersSent: number;
  /** Events on the hot profile once everything settled. */
  readonly hotCounted: number;
  readonly resolverInvocations: number;
  readonly recordsResolved: number;
  readonly recordsPerInvocation: number;
  /** Landed writes of one profile item in one resolver invocation, at most. */
  readonly maxWritesOfOneProfilePerInvocation: number;
  /** Conditional writes the resolver lost to another writer (the publisher's acknowledgements). */
  readonly conflicts: number;
  readonly membershipChangesAcknowledged: number;
  /** Records the resolver failed (reported or thrown). */
  readonly failedRecords: number;
  readonly othersFreshnessP50Ms: number;
  readonly othersFreshnessP99Ms: number;
  readonly resolverBatchP50Ms: number;
  readonly resolverBatchP99Ms: number;
}

const TickMs = 100;

/**
 * One very busy device (a bot, a load test, a kiosk) beside ordinary traffic, through the whole
 * local runtime: paced requests of the hot device's events and of 100 other visitors', with a
 * windowed segment that everyone enters and leaves, so the publisher keeps acknowledging changes
 * on items the resolver keeps writing. Counts every landed profile write per resolver invocation,
 * every lost conditional write, and the others' freshness (stream arrival to their batch's end).
 */
export async function runHotKey(options: HotKeyOptions = {}): Promise<HotKeyFigures> {
  const rate = options.rate ?? 2_000;
  const seconds = options.seconds ?? 60;
  const othersRate = options.othersRate ?? 20;
  const resolverWindowMs = options.resolverWindowMs ?? 1_000;
  const run = randomUUID().slice(0, 8);
  const hotDevice = `kiosk-${run}`;
  const probe = new ResolverProbe(hotDevice);
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const runtime = await startLocalRuntime(
    localSettings({
      CDP_DATA_DIR: mkdtempSync(join(tmpdir(), 'cdp-hot-key-')),
      CDP_PORT: '0',
      CDP_IMPORT_SCAN_MS: '60000',
      CDP_RESOLVER_BATCH_SIZE: '1000',
      CDP_RESOLVER_BATCH_WINDOW_MS: String(resolverWindowMs),
      CDP_ARCHIVER_BATCH_SIZE: '10000',
      CDP_ARCHIVER_BATCH_WINDOW_MS: '5000',
    }),
    probe.instrumentation(),
  );
  try {
    const admin = { authorization: `Bearer ${runtime.settings.adminToken}`, 'content-type': 'application/json' };
    const segment = `${runtime.url}/v1/segments/viewing-${run}`;
    const created = await fetch(segment, { method: 'PUT', headers: admin, body: JSON.stringify({ name: 'Viewing now', condition: { event: 'Product Viewed', within: 'PT5S' } }) });
    if (!created.ok) throw new Error(`segment refused: ${created.status} ${await created.text()}`);
    await until(async () => ((await (await fetch(segment, { headers: admin })).json()) as { status: string }).status === 'ready', 60_000, 'the segment ready');

    const sent = await sendPaced(runtime, { hotDevice, run, rate, seconds, othersRate });
    const hotCounted = await until(async () => {
      const response = await fetch(`${runtime.url}/v1/profiles/anonymous_id:${hotDevice}`, { headers: admin });
      if (response.status !== 200) return undefined;
      const count = ((await response.json()) as { computed: { event_counts: Record<string, number> } }).computed.event_counts['Product Viewed'] ?? 0;
      return count >= sent.hot ? count : undefined;
    }, 120_000, `${sent.hot} events on the hot profile`);

    const { invocations } = probe;
    const recordsResolved = invocations.reduce((n, i) => n + i.records, 0);
    const others = invocations.flatMap((i) => i.othersArrivals.map((a) => i.end - a)).sort((a, b) => a - b);
    const batchMs = invocations.map((i) => i.ms).sort((a, b) => a - b);
    return {
      rate,
      seconds,
      resolverWindowMs,
      achievedEventsPerSecond: Math.round((sent.hot + sent.others) / sent.seconds),
      sendSeconds: Math.round(sent.seconds * 10) / 10,
      hotSent: sent.hot,
      othersSent: sent.others,
      hotCounted,
      resolverInvocations: invocations.length,
      recordsResolved,
      recordsPerInvocation: Math.round(recordsResolved / Math.max(1, invocations.length)),
      maxWritesOfOneProfilePerInvocation: Math.max(0, ...invocations.map((i) => i.maxWritesOfOneProfile)),
      conflicts: invocations.reduce((n, i) => n + i.conflicts, 0),
      membershipChangesAcknowledged: runtime.telemetry.snapshot().OutboundChangesDelivered ?? 0,
      failedRecords: invocations.reduce((n, i) => n + i.failed, 0),
      othersFreshnessP50Ms: Math.round(percentile(others, 50)),
      othersFreshnessP99Ms: Math.round(percentile(others, 99)),
      resolverBatchP50Ms: Math.round(percentile(batchMs, 50)),
      resolverBatchP99Ms: Math.round(percentile(batchMs, 99)),
    };
  } finally {
    await runtime.stop();
  }
}

interface Invocation {
  readonly records: number;
  readonly ms: number;
  readonly end: number;
  readonly othersArrivals: readonly number[];
  readonly maxWritesOfOneProfile: number;
  readonly conflicts: number;
  readonly failed: number;
}

/** Watches the resolver: its invocations, and the profile writes each one lands or loses. */
class ResolverProbe {
  readonly invocations: Invocation[] = [];
  private readonly scope = new AsyncLocalStorage<{ readonly writes: Map<string, number>; conflicts: number }>();

  constructor(private readonly hotDevice: string) {}

  instrumentation(): RuntimeInstrumentation {
    return {
      clients: (clients) => {
        clients.dynamodb.middlewareStack.add(
          (next, context) => async (args) => {
            const scope = this.scope.getStore();
            const item = (args.input as { Item?: { pk?: { S?: string }; sk?: { S?: string } } }).Item;
            try {
              const result = await next(args);
              // Only writes that landed: a conditional put refused for a conflict wrote nothing.
              if (scope && context.commandName === 'PutItemCommand' && item?.sk?.S === 'profile') scope.writes.set(item.pk!.S!, (scope.writes.get(item.pk!.S!) ?? 0) + 1);
              return result;
            } catch (error) {
              if (scope && (error as Error).name === 'ConditionalCheckFailedException') scope.conflicts++;
              throw error;
            }
          },
          { step: 'initialize', name: 'hotKeyProbe' },
        );
      },
      handler: <H extends (event: never) => Promise<unknown>>(name: HandlerName, handler: H): H => {
        if (name !== 'resolver') return handler;
        const resolve = handler as unknown as (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse | undefined>;
        const probed = async (event: KinesisStreamEvent): Promise<unknown> => {
          const scope = { writes: new Map<string, number>(), conflicts: 0 };
          const started = performance.now();
          let failed = event.Records.length;
          try {
            const response = await this.scope.run(scope, () => resolve(event));
            failed = response?.batchItemFailures?.length ?? 0;
            return response;
          } finally {
            this.invocations.push({
              records: event.Records.length,
              ms: performance.now() - started,
              end: Date.now(),
              othersArrivals: event.Records.filter((r) => !Buffer.from(r.kinesis.data, 'base64').toString('utf8').includes(this.hotDevice)).map((r) => r.kinesis.approximateArrivalTimestamp * 1000),
              maxWritesOfOneProfile: Math.max(0, ...scope.writes.values()),
              conflicts: scope.conflicts,
              failed,
            });
          }
        };
        return probed as unknown as H;
      },
    };
  }
}

/** Every tick, one request with the hot device's share and one with the others', as the SDKs send them (retried until accepted). */
async function sendPaced(
  runtime: LocalRuntime,
  load: { hotDevice: string; run: string; rate: number; seconds: number; othersRate: number },
): Promise<{ hot: number; others: number; seconds: number }> {
  const auth = `Basic ${Buffer.from(`${runtime.settings.writeKey}:`).toString('base64')}`;
  let n = 0;
  const event = (anonymousId: string): Record<string, unknown> => ({
    type: 'track',
    event: 'Product Viewed',
    anonymousId,
    messageId: `${load.run}-${n++}`,
    timestamp: new Date().toISOString(),
    properties: { sku: `sku-${n % 20}` },
  });
  const post = async (batch: ReadonlyArray<Record<string, unknown>>): Promise<void> => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const response = await fetch(`${runtime.url}/v1/batch`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ batch }) }).catch(() => undefined);
      if (response?.status === 200) return;
      if (response && response.status < 500) throw new Error(`a batch was refused: ${response.status} ${await response.text()}`);
      await new Promise((r) => setTimeout(r, 100 * 2 ** Math.min(attempt, 4)));
    }
    throw new Error('a batch was never accepted');
  };
  const inFlight = new Set<Promise<void>>();
  let hot = 0;
  let others = 0;
  const started = Date.now();
  for (let tick = 0; tick < (load.seconds * 1000) / TickMs; tick++) {
    const hotBatch = Array.from({ length: Math.round((load.rate * TickMs) / 1000) }, () => event(load.hotDevice));
    const othersBatch = Array.from({ length: Math.max(1, Math.round((load.othersRate * TickMs) / 1000)) }, () => event(`visitor-${load.run}-${n % 100}`));
    hot += hotBatch.length;
    others += othersBatch.length;
    for (const batch of [hotBatch, othersBatch]) {
      const sending: Promise<void> = post(batch).finally(() => inFlight.delete(sending));
      inFlight.add(sending);
    }
    const due = started + (tick + 1) * TickMs;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
  }
  await Promise.all(inFlight);
  return { hot, others, seconds: (Date.now() - started) / 1000 };
}

async function until<T>(check: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
