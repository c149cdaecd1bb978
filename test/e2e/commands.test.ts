import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEndpointsFile } from '../../local/endpoints-file.js';
import { basicAuth, eventually } from '../helpers/local-process.js';

const root = resolve(import.meta.dirname, '../..');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `npm run -s <script> -- <args>` as a user would. */
function npmRun(script: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile('npm', ['run', '-s', script, '--', ...args], { cwd: root, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** `npm start` as its own process (not a process group a signal could reach whole), and its banner once healthy. */
async function npmStart(dataDir: string): Promise<{ npm: ChildProcess; url: string; banner: () => string; exited: Promise<void> }> {
  const npm = spawn('npm', ['start'], { cwd: root, env: { ...process.env, CDP_DATA_DIR: dataDir, CDP_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  npm.stdout.on('data', (d: Buffer) => (output += d.toString()));
  npm.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
  let url = '';
  await eventually(async () => {
    url = (await readEndpointsFile(dataDir).catch(() => undefined))?.api ?? '';
    return url !== '' && (await fetch(`${url}/health`).catch(() => undefined))?.status === 200;
  }, 60_000, `npm start to be healthy:\n${output}`);
  await eventually(async () => output.includes('Ctrl-C stops cleanly'), 10_000, 'the banner');
  return { npm, url, banner: () => output, exited };
}

const stopsAnswering = (url: string): Promise<void> =>
  eventually(async () => (await fetch(`${url}/health`).catch(() => undefined)) === undefined, 15_000, 'the server to stop');

describe('the commands, as a user runs them', () => {
  it('every command answers --help with its usage and exit 0, and an unknown option with exit 2', async () => {
    for (const script of ['start', 'query', 'sources', 'redrive', 'rebuild', 'bench', 'soak', 'measure:resolver']) {
      const help = await npmRun(script, ['--help']);
      expect(help.code, `${script}: ${help.stderr}`).toBe(0);
      expect(help.stdout, script).toMatch(/^usage: npm (start|run )/);
      expect(help.stdout.split('\n').length, script).toBeGreaterThan(4);
      const wrong = await npmRun(script, ['--no-such-option']);
      expect(wrong.code, script).toBe(2);
      expect(wrong.stderr, script).toContain('usage: npm');
    }
  }, 120_000);

  it('npm start names its data dir in its hints, and npm run query prints typed rows and a row count', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cdp-commands-'));
    const { npm, url, banner, exited } = await npmStart(dataDir);
    try {
      expect(banner()).toContain(`CDP_DATA_DIR=${dataDir} npm run query`);
      const sent = await fetch(`${url}/v1/track`, {
        method: 'POST',
        headers: { authorization: basicAuth('dev-write-key'), 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'q1', event: 'Clicked', properties: { revenue: 4.5 } }),
      });
      expect(sent.status).toBe(200);
      const env = { CDP_DATA_DIR: dataDir };
      await eventually(async () => (await npmRun('query', ['SELECT count(*) AS n FROM events'], env)).stdout.trim() === '{"n":1}', 20_000, 'the event in the lake');
      const typed = await npmRun('query', ["SELECT count(*) AS n, max(json_extract_scalar(properties, '$.revenue')) AS revenue, sum(1.5) AS total FROM events"], env);
      expect(typed.stdout.trim()).toBe('{"n":1,"revenue":"4.5","total":1.5}');
      expect(typed.stderr.trim()).toBe('1 row');
      const empty = await npmRun('query', ["SELECT * FROM events WHERE user_id = 'nobody'"], env);
      expect(empty).toMatchObject({ code: 0, stdout: '' });
      expect(empty.stderr.trim()).toBe('0 rows');
      expect(empty.stderr).not.toContain('NodeVersionSupportWarning');
    } finally {
      npm.kill('SIGTERM');
      await exited;
    }
    await stopsAnswering(url);
  }, 120_000);

  it('npm start stops when only npm is sent SIGTERM, as a process manager does, and when npm is killed outright', async () => {
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      const dataDir = mkdtempSync(join(tmpdir(), 'cdp-signal-'));
      const { npm, url, banner, exited } = await npmStart(dataDir);
      npm.kill(signal);
      await exited;
      await stopsAnswering(url);
      if (signal === 'SIGTERM') await eventually(async () => banner().includes('SIGTERM: stopping'), 5_000, 'a clean stop');
    }
  }, 180_000);
});
