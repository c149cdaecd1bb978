import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.js';
import { interleaved, peopleWorkload } from '../helpers/people-workload.js';
import { sendUntilAccepted } from '../helpers/reliable-sender.js';
import { expectExactOutcome, startInProcess } from './harness.js';
import { DuckDbLakeQuery } from '../../local/duckdb-lake-query.js';
import { eventually } from '../helpers/local-process.js';

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

    // An admin splits a person's second device off, and then the device and the person meet again.
    const [person] = workload.people;
    const split = await fetch(`${runtime.url}/v1/profiles/user_id:${person!.userId}/split`, {
      method: 'POST',
      headers: { authorization: 'Bearer dev-admin-token', 'content-type': 'application/json' },
      body: JSON.stringify({ identifier: { type: 'anonymous_id', value: person!.devices[1] } }),
    });
    expect(split.status, await split.clone().text()).toBe(200);
    const rejoin = { type: 'identify', anonymousId: person!.devices[1], userId: person!.userId, messageId: `rejoin-${person!.userId}`, timestamp: new Date().toISOString() };
    await sendUntilAccepted(runtime.url, [rejoin]);
    await eventually(async () => (await runtime.composition.profiles.history([(await (await fetch(`${runtime.url}/v1/profiles/user_id:${person!.userId}`, { headers: { authorization: 'Bearer dev-admin-token' } })).json() as { id: string }).id])).some((h) => h.kind === 'link_dropped' && h.reason === 'apart'), 20_000, 'the rejoin dropped as apart');
    await eventually(async () => {
      const [row] = await new DuckDbLakeQuery({ s3Directory: runtime.endpoints.s3Directory, bucket: runtime.endpoints.lakeBucket }).query(`SELECT count(*) AS n FROM events WHERE message_id = 'rejoin-${person!.userId}'`);
      return row!.n === 1;
    }, 20_000, 'the rejoin in the lake');

    const events = workload.events.length + 1;
    const result = await rebuild('--into', 'cdp-profiles-rebuilt', '--verify');
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as { events: number; splits: number; verification: { same: number; onlyInA: number; onlyInB: number; splits: unknown } };
    expect(report.events).toBe(events);
    expect(report.splits).toBe(1);
    // The split person is two people in both tables, identical; the split held.
    expect(report.verification).toMatchObject({ same: workload.people.length + 1, onlyInA: 0, onlyInB: 0, splits: { total: 1, held: 1, failed: [] } });
    expect(result.stderr).toMatch(/rebuilding cdp-profiles-rebuilt: 100\.0% \(1,201\/1,201\) .*ETA 0s/);
    expect(result.stderr).toContain('verified: the 61 people in cdp-profiles-rebuilt are the cdp-profiles people');
    expect(result.stderr).toContain('verified: all 1 split people stayed split');

    const again = await rebuild('--into', 'cdp-profiles-rebuilt');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('cdp-profiles-rebuilt already holds profiles; rebuild into an empty table');
    expect((await rebuild('--bogus')).code).toBe(2);
  }, 120_000);
});
