import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface ToolSpec<O extends Options> {
  /** How to call it, on one line: `npm run query -- [--athena] "<SQL>"`. */
  readonly usage: string;
  /** What it does, its options and the environment it reads: printed, after the usage, by --help. */
  readonly help: string;
  readonly options?: O;
  /** Whether the tool takes positional arguments (a command, SQL text). @default false */
  readonly positionals?: boolean;
}

/**
 * A tool's command line, parsed strictly with Node's parseArgs. `--help` (or `-h`) prints the
 * usage and help on stdout and exits 0; an unknown option, a missing value or a stray argument
 * prints the error and the usage on stderr and exits 2.
 */
export function toolArguments<O extends Options>(spec: ToolSpec<O>) {
  const options = { ...spec.options, help: { type: 'boolean', short: 'h' } } as O & { help: { type: 'boolean'; short: 'h' } };
  let parsed;
  try {
    parsed = parseArgs({ args: process.argv.slice(2), options, strict: true, allowPositionals: spec.positionals ?? false });
  } catch (error) {
    console.error(`${(error as Error).message}\nusage: ${spec.usage}\n(--help for more)`);
    process.exit(2);
  }
  if ((parsed.values as { help?: boolean }).help === true) {
    console.log(`usage: ${spec.usage}\n\n${spec.help.trim()}`);
    process.exit(0);
  }
  return parsed;
}
