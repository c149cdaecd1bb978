import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The standard benchmark workload as request bodies for `POST /v1/batch`, one per line: generated
 * by `../shared/bench/workload.mjs` (`batch` events each, its default 100), or read from `file`,
 * a workload file of the same format.
 */
export function workloadBodies(options: { readonly events: number; readonly batch?: number; readonly file?: string }): string[] {
  if (options.file) return readFileSync(options.file, 'utf8').split('\n').filter(Boolean);
  const script = resolve(import.meta.dirname, '../../../shared/bench/workload.mjs');
  const args = [script, '--events', String(options.events), ...(options.batch ? ['--batch', String(options.batch)] : [])];
  return execFileSync(process.execPath, args, { maxBuffer: 2 ** 31 - 1 }).toString().split('\n').filter(Boolean);
}
