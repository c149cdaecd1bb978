import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { endpointsFilePath, readEndpointsFile, type LocalEndpointsFile } from '../../local/endpoints-file.js';

const root = resolve(import.meta.dirname, '../..');
const execFileAsync = promisify(execFile);

export interface RuntimeProcess {
  readonly endpoints: LocalEndpointsFile;
  readonly url: string;
  readonly child: ChildProcess;
  /** Sends a signal and waits for the process to exit. */
  kill(signal: NodeJS.Signals): Promise<number | null>;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
}

/** Starts `npm start`'s entry point as its own process on a free port, and waits for /health. */
export async function startRuntimeProcess(dataDir: string, env: Record<string, string> = {}): Promise<RuntimeProcess> {
  const endpointsFile = endpointsFilePath(dataDir);
  rmSync(endpointsFile, { force: true });
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', 'local/start.ts'], {
    cwd: root,
    env: { ...process.env, CDP_DATA_DIR: dataDir, CDP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  let lastHealth = 'no answer yet';
  for (;;) {
    if (child.exitCode !== null) throw new Error(`runtime exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`runtime did not become healthy (last /health: ${lastHealth}):\n${output}`);
    if (existsSync(endpointsFile)) {
      const endpoints = await readEndpointsFile(dataDir);
      const health = await fetch(`${endpoints.api}/health`).catch((error: Error) => {
        lastHealth = error.message;
        return undefined;
      });
      if (health && health.status !== 200) lastHealth = `${health.status} ${await health.clone().text()}`;
      if (health?.status === 200) {
        return {
          endpoints,
          url: endpoints.api,
          child,
          kill: async (signal) => {
            child.kill(signal);
            return exited;
          },
          output: () => output,
        };
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Runs the real `npm run query` command (with a statement, or `--segment <id>` and its options) and parses its NDJSON output. */
export async function queryCommand(dataDir: string, ...args: string[]): Promise<Record<string, unknown>[]> {
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', 'local/query.ts', ...args], {
    cwd: root,
    env: { ...process.env, CDP_DATA_DIR: dataDir },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Runs a real `npm run <tool>` entry point (local/<file>.ts) against a data directory; its exit code and output. */
export async function toolCommand(dataDir: string, file: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return execFileAsync(process.execPath, ['--import', 'tsx', `local/${file}.ts`, ...args], { cwd: root, env: { ...process.env, CDP_DATA_DIR: dataDir }, maxBuffer: 16 * 1024 * 1024 });
}

/** Polls until `check` returns true, or fails after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const basicAuth = (key: string): string => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
