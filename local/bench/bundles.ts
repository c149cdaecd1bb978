import { build } from 'esbuild';
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
}

/** Builds every handler as `cdk synth` does and measures its size and its load time in fresh processes. */
export async function measureBundles(runs = 5): Promise<BundleFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'cdp-bundles-'));
  const bundleBytes = {} as Record<HandlerName, number>;
  const coldInitMs = {} as Record<HandlerName, number>;
  try {
    for (const name of Object.keys(FunctionMemoryMb) as HandlerName[]) {
      const result = await build({
        entryPoints: [join(root, 'lambdas', 'handlers', `${name}.ts`)],
        bundle: true,
        platform: 'node',
        minify: BundleSettings.minify,
        target: BundleSettings.target,
        format: BundleSettings.format,
        write: false,
        logLevel: 'silent',
      });
      const code = result.outputFiles[0]!.contents;
      bundleBytes[name] = code.byteLength;
      const file = join(dir, `${name}.cjs`);
      writeFileSync(file, code);
      const samples: number[] = [];
      for (let i = 0; i < runs; i++) {
        const output = execFileSync(
          process.execPath,
          ['-e', `const t = process.hrtime.bigint(); require(${JSON.stringify(file)}); console.log(Number(process.hrtime.bigint() - t) / 1e6);`],
          { env: { ...process.env, AWS_REGION: 'us-east-1', NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'ignore'] },
        );
        samples.push(Number(output.toString().trim()));
      }
      samples.sort((a, b) => a - b);
      coldInitMs[name] = Math.round(samples[Math.floor(samples.length / 2)]! * 10) / 10;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { bundleBytes, coldInitMs };
}
