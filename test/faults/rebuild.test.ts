import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.js';
import { interleaved, peopleWorkload } from '../helpers/people-workload.js';
import { sendUntilAccepted } from '../helpers/reliable-sender.js';
import { expectExactOutcome, startInProcess } from './harness.js';

const root = resolve(import.meta.dirname, '../..');
let runtime: LocalRuntime & { dataDir: string };
beforeAll(async () => {
  runtime = await startInProcess();
});
afterAll(async () => runtime?.stop());

function rebuild(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--import', 'tsx', 'local/rebuild.ts', ...args], { cwd: root, env: { ...process.env, CDP_DATA_DIR: runtime.dataDir } }, (error, stdout, stderr) =>
      done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('npm run rebuild (the lake is the source of truth)', () => {
  it('rebuilds, from the lake alone, the same people streaming built, with progress; refuses a table that holds profiles', async () => {
    const workload = peopleWorkload(randomUUID().slice(0, 8), 60, 20);
    await sendUntilAccepted(runtime.url, interleaved(workload.events), { batchSize: 40, concurrency: 4 });
    await expectExactOutcome(runtime, workload);

    const result = await rebuild('--into', 'cdp-profiles-rebuilt', '--verify');
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as { events: number; verification: { same: number; onlyInA: number; onlyInB: number } };
    expect(report.events).toBe(workload.events.length);
    expect(report.verification).toEqual({ same: workload.people.length, onlyInA: 0, onlyInB: 0 });
    expect(result.stderr).toMatch(/rebuilding cdp-profiles-rebuilt: 100\.0% \(1,200\/1,200\) .*ETA 0s/);
    expect(result.stderr).toContain('verified: the 60 people in cdp-profiles-rebuilt are the cdp-profiles people');

    const again = await rebuild('--into', 'cdp-profiles-rebuilt');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('cdp-profiles-rebuilt already holds profiles; rebuild into an empty table');
    expect((await rebuild('--bogus')).code).toBe(2);
  }, 120_000);
});
