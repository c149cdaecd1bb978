import { build } from 'esbuild';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const source = resolve(import.meta.dirname, '..', 'console');

export interface ConsoleBuild {
  readonly directory: string;
  /** The script's size, minified and gzipped: what a browser downloads. */
  readonly scriptGzipBytes: number;
  readonly styleGzipBytes: number;
}

/**
 * Builds the web console (Preact, bundled and minified by esbuild, docs/console.md) into
 * `directory`: index.html, app.js and app.css, served at /console. It takes well under a second,
 * so `npm start` builds it every time and never serves a stale copy.
 */
export async function buildConsole(directory: string): Promise<ConsoleBuild> {
  await mkdir(directory, { recursive: true });
  await build({
    entryPoints: [join(source, 'src', 'main.tsx')],
    outfile: join(directory, 'app.js'),
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome111', 'firefox111', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: join(source, 'tsconfig.json'),
    legalComments: 'none',
    logLevel: 'silent',
  });
  await copyFile(join(source, 'index.html'), join(directory, 'index.html'));
  await copyFile(join(source, 'src', 'app.css'), join(directory, 'app.css'));
  const gzipped = async (file: string) => gzipSync(await readFile(join(directory, file)), { level: 9 }).byteLength;
  return { directory, scriptGzipBytes: await gzipped('app.js'), styleGzipBytes: await gzipped('app.css') };
}
