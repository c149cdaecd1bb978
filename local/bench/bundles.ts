import { build, type BuildOptions } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FunctionMemoryMb, type HandlerName } from '../../lambdas/contracts.js';
import { BundleSettings } from '../../lib/constructs/project-function.js';

const root = resolve(import.meta.dirname, '../..');

export interface BundleFigures {
  readonly bundleBytes: Record<HandlerName, number>;
  /** Median time to load the bundle in a fresh Node process (what a cold start pays before the handler runs). */
  readonly coldInitMs: Record<HandlerName, number>;
  /** Median time from a fresh Node process's start to a handler that imports nothing being loaded, in the same run: what any function pays. */
  readonly baselineColdInitMs: number;
  /** Each function's time from process start to loaded over the baseline's: steadier than milliseconds on a shared machine. */
  readonly coldInitRatio: Record<HandlerName, number>;
}

const MinimalHandler = 'export const handler = async () => ({ statusCode: 200 });';

/** A handler (a file under lambdas/handlers/, or source text) bundled as `cdk synth` bundles it (BundleSettings). */
export async function bundleHandler(handler: { readonly name: string } | { readonly source: string }): Promise<Uint8Array> {
  const options: BuildOptions = {
    bundle: true,
    platform: 'node',
    minify: BundleSettings.minify,
    target: BundleSettings.target,
    format: BundleSettings.format,
    mainFields: [...BundleSettings.mainFields],
    alias: BundleSettings.alias,
    write: false,
    logLevel: 'silent',
  };
  const input = 'name' in handler ? { entryPoints: [join(root, 'lambdas', 'handlers', `${handler.name}.ts`)] } : { stdin: { contents: handler.source, loader: 'ts' as const } };
  const result = await build({ ...options, ...input });
  return result.outputFiles![0]!.contents;
}

/** Builds every handler as `cdk synth` does and measures its size, and its load time in fresh processes against a minimal handler's. */
export async function measureBundles(runs = 5): Promise<BundleFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'cdp-bundles-'));
  const bundleBytes = {} as Record<HandlerName, number>;
  const coldInitMs = {} as Record<HandlerName, number>;
  const coldInitRatio = {} as Record<HandlerName, number>;
  try {
    const baselineFile = join(dir, 'baseline.cjs');
    writeFileSync(baselineFile, await bundleHandler({ source: MinimalHandler }));
    const baselineColdInitMs = medianLoad(baselineFile, runs).sinceStartMs;
    for (const name of Object.keys(FunctionMemoryMb) as HandlerName[]) {
      const code = await bundleHandler({ name });
      bundleBytes[name] = code.byteLength;
      const file = join(dir, `${name}.cjs`);
      writeFileSync(file, code);
      const load = medianLoad(file, runs);
      coldInitMs[name] = load.loadMs;
      coldInitRatio[name] = Math.round((load.sinceStartMs / baselineColdInitMs) * 100) / 100;
    }
    return { bundleBytes, coldInitMs, baselineColdInitMs, coldInitRatio };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Medians, over fresh Node processes, of the time to require a bundle and of the time from the process's start until it is loaded. */
function medianLoad(file: string, runs: number): { loadMs: number; sinceStartMs: number } {
  const loads: number[] = [];
  const sinceStarts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const output = execFileSync(
      process.execPath,
      ['-e', `const t = process.hrtime.bigint(); require(${JSON.stringify(file)}); console.log(Number(process.hrtime.bigint() - t) / 1e6, performance.now());`],
      { env: { ...process.env, AWS_REGION: 'us-east-1', NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const [load, sinceStart] = output.toString().trim().split(' ').map(Number);
    loads.push(load!);
    sinceStarts.push(sinceStart!);
  }
  const median = (values: number[]): number => Math.round([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]! * 10) / 10;
  return { loadMs: median(loads), sinceStartMs: median(sinceStarts) };
}
