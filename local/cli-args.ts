import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * A tool's `--options`, parsed strictly with Node's parseArgs: an unknown option, a missing value
 * or a stray argument prints the error and the usage and exits with 2.
 */
export function toolOptions<O extends NonNullable<ParseArgsConfig['options']>>(options: O, usage: string) {
  try {
    return parseArgs({ args: process.argv.slice(2), options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    console.error(`${(error as Error).message}\nusage: ${usage}`);
    process.exit(2);
  }
}
