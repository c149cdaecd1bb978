import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FunctionMemoryMb, type HandlerName } from '../../lambdas/contracts.js';
import type { BenchReport } from '../../local/bench/report.js';

const root = resolve(import.meta.dirname, '../..');
/** Every Lambda the stack deploys must be measured. */
const Handlers = Object.keys(FunctionMemoryMb) as HandlerName[];

describe('npm run bench (short mode)', () => {
  it('produces a complete, self-consistent report as its last line', { timeout: 420_000 }, async () => {
    const { stdout } = await promisify(execFile)('npm', ['run', '-s', 'bench'], {
      cwd: root,
      env: { ...process.env, BENCH_EVENTS: '10000', BENCH_WORKLOADS: 'standard,sparse', BENCH_FRESHNESS_SECONDS: '5', BENCH_SEGMENTS: '10' },
      maxBuffer: 64 * 1024 * 1024,
    });
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as BenchReport;
    for (const key of ['events', 'eventsPerSecond', 'costPerMillionUsd', 'costPerMillionUsdOnDemand', 'ddbWruPerEvent', 'ddbRruPerEvent', 'lambdaGbSecondsPerMillion', 'freshnessP50Ms', 'freshnessP99Ms'] as const) {
      expect(typeof report[key], key).toBe('number');
      expect(report[key], key).toBeGreaterThan(0);
    }
    expect(Object.keys(report.bundleBytes).sort()).toEqual([...Handlers].sort());
    expect(Object.keys(report.coldInitMs).sort()).toEqual([...Handlers].sort());
    for (const name of Handlers) expect(report.bundleBytes[name]).toBeGreaterThan(10_000);
    // Cold inits come with a minimal handler's from the same run, and each function's ratio to it: more than nothing costs.
    expect(report.baselineColdInitMs).toBeGreaterThan(0);
    for (const name of Handlers) expect(report.coldInitRatio[name]).toBeGreaterThan(1);

    // The counts agree with the first workload, the standard one: 10,000 events in 100 requests of 100.
    const { counts, settings } = report;
    expect(settings.workload).toBe('standard');
    expect(report.events).toBe(10_000);
    expect(counts.kinesisRecords).toBe(10_000);
    expect(counts.apiRequestUnits).toBe(100);
    expect(counts.lambda.ingest?.invocations).toBe(100);
    expect(counts.lambda.resolver?.invocations).toBeGreaterThanOrEqual(10_000 / settings.resolverBatch);
    expect(counts.lambda.archiver?.invocations).toBeGreaterThanOrEqual(10_000 / settings.archiverBatch);
    expect(report.ddbWruPerEvent).toBeCloseTo(counts.dynamoWru / 10_000, 3);
    // Both workloads of the run, side by side: the sparse one in requests of 50, with more people.
    expect(Object.keys(report.workloads)).toEqual(['standard', 'sparse']);
    const { standard, sparse } = report.workloads as Record<'standard' | 'sparse', BenchReport['workloads'][string]>;
    expect(standard).toMatchObject({ events: 10_000, requests: 100, costPerMillionUsd: report.costPerMillionUsd, ddbWruPerEvent: report.ddbWruPerEvent });
    expect(sparse).toMatchObject({ events: 10_000, requests: 200 });
    for (const figures of [standard, sparse]) for (const [key, value] of Object.entries(figures)) expect(value, key).toBeGreaterThan(0);
    // Fewer events per person means more people, so more identifiers to claim per event.
    expect(sparse.ddbWruPerEvent).toBeGreaterThan(standard.ddbWruPerEvent);
    expect(counts.s3Puts).toBeGreaterThan(0);
    expect(counts.s3BytesStored).toBeGreaterThan(0);
    // Paced traffic fills a resolver batch in about one batching window, so the first events of each
    // batch wait most of it; a measure that missed the window, or timed from the wrong clock, falls outside.
    const windowMs = settings.resolverWindowS * 1000;
    expect(report.freshnessP99Ms).toBeGreaterThanOrEqual(windowMs / 2);
    expect(report.freshnessP99Ms).toBeLessThan(windowMs + 10_000);
    expect(settings.freshnessSamples).toBe(5 * 10 * 10);
    // Segments: defined, evaluated, delivered, timed, and one more backfilled over the lake.
    expect(settings.segments).toBe(10);
    expect(report.membershipChangesPerEvent).toBeGreaterThan(0);
    expect(report.segmentFreshnessP50Ms).toBeGreaterThan(0);
    expect(report.segmentFreshnessP99Ms).toBeGreaterThanOrEqual(report.segmentFreshnessP50Ms!);
    expect(report.backfill.members).toBeGreaterThan(0);
    expect(report.backfill.profilesSeeded).toBeGreaterThan(0);
    expect(report.backfill.workMs).toBeGreaterThan(0);
    const byFunction = report.ddbWruPerEventByFunction;
    expect(byFunction.resolver).toBeGreaterThan(0);
    expect(byFunction.segmenter).toBeGreaterThan(0);
    expect(Object.values(byFunction).reduce((a, b) => a + b, 0)).toBeCloseTo(report.ddbWruPerEvent, 2);
    // The totals are the sums of their lines.
    const lines = report.costLines;
    const shared = Object.entries(lines).filter(([item]) => !item.startsWith('Kinesis')).reduce((n, [, v]) => n + v, 0);
    const provisioned = Object.entries(lines).filter(([item]) => /^Kinesis (PUT|shard)/.test(item)).reduce((n, [, v]) => n + v, 0);
    const onDemand = Object.entries(lines).filter(([item]) => item.startsWith('Kinesis on-demand')).reduce((n, [, v]) => n + v, 0);
    expect(report.costPerMillionUsd).toBeCloseTo(shared + provisioned, 3);
    expect(report.costPerMillionUsdOnDemand).toBeCloseTo(shared + onDemand, 3);
  });
});
