import { buildSync } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const source = import.meta.dirname;

export interface ConsoleBuild {
  readonly directory: string;
  /** The script's size, minified and gzipped: what a browser downloads. */
  readonly scriptGzipBytes: number;
  readonly styleGzipBytes: number;
}

/**
 * Builds the web console (Preact, bundled and minified by esbuild, docs/console.md) into
 * `directory`: index.html, app.js and app.css. It takes well under a second, so `npm start`
 * builds it every time and never serves a stale copy, and the CDK app builds it at synth, without
 * Docker. Synchronous because CDK's local bundling is.
 */
export function buildConsole(directory: string): ConsoleBuild {
  mkdirSync(directory, { recursive: true });
  buildSync({
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
  copyFileSync(join(source, 'index.html'), join(directory, 'index.html'));
  copyFileSync(join(source, 'src', 'app.css'), join(directory, 'app.css'));
  const gzipped = (file: string) => gzipSync(readFileSync(join(directory, file)), { level: 9 }).byteLength;
  return { directory, scriptGzipBytes: gzipped('app.js'), styleGzipBytes: gzipped('app.css') };
}
