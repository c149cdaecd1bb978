import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The team's standard workload generator (`../shared/bench/workload.mjs`), kept byte for byte in
 * the repository so the benchmark, the soak test and their CI checks run on any clone; a test
 * fails if the copy drifts from the shared one.
 */
export const StandardWorkloadScript = resolve(import.meta.dirname, 'standard-workload.mjs');

/**
 * The workloads the benchmark knows by name: the standard one, and a sparser one, since real
 * traffic is sparser (most visitors come once): half the events per person, in requests of 50.
 */
export const NamedWorkloads = {
  standard: { eventsPerPerson: 100, batch: 100 },
  sparse: { eventsPerPerson: 50, batch: 50 },
} as const;
export type WorkloadName = keyof typeof NamedWorkloads;

/**
 * The standard benchmark workload as request bodies for `POST /v1/batch`, one per line: generated
 * (`batch` events each, its default 100), or read from `file`, a workload file of the same format.
 */
export function workloadBodies(options: { readonly events: number; readonly batch?: number; readonly eventsPerPerson?: number; readonly file?: string }): string[] {
  if (options.file) return readFileSync(options.file, 'utf8').split('\n').filter(Boolean);
  const args = [
    StandardWorkloadScript,
    '--events', String(options.events),
    ...(options.batch ? ['--batch', String(options.batch)] : []),
    // The generator's own rule for people, at this many events each (it never makes fewer than 50).
    ...(options.eventsPerPerson ? ['--users', String(Math.max(50, Math.round(options.events / options.eventsPerPerson)))] : []),
  ];
  return execFileSync(process.execPath, args, { maxBuffer: 2 ** 31 - 1 }).toString().split('\n').filter(Boolean);
}
