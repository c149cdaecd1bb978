import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

describe('npm run soak (reduced for CI)', () => {
  it('sustains a steady rate with no errors, no dead letters, a full drain and a bounded heap, with the write key it was given', async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile('npm', ['run', '-s', 'soak'], { cwd: root, env: { ...process.env, SOAK_SECONDS: '20', SOAK_RATE: '250', CDP_WRITE_KEY: 'soak-write-key' }, maxBuffer: 64 * 1024 * 1024 }, (error, out, err) =>
        done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout: out, stderr: err }),
      );
    });
    expect(code, `${stdout}\n${stderr.slice(-2000)}`).toBe(0);
    const report = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, number | boolean>;
    expect(report).toMatchObject({ errors: 0, deadLetters: 0, drained: true, accepted: report.events });
    expect(report.events).toBe(5000);
    expect(report.heapAfterGcEndMiB as number).toBeLessThanOrEqual(2 * (report.heapAfterGcWarmMiB as number) + 32);
  }, 120_000);
});
