/**
 * `npm run query -- "<SQL>"`: runs SQL over the lake and prints one JSON object per row.
 * Locally (default) it reads the lake files of `$CDP_DATA_DIR` with DuckDB. With `--athena`
 * (or CDP_QUERY_ENGINE=athena) it runs on Athena in CDP_ATHENA_WORKGROUP / CDP_GLUE_DATABASE.
 */
import './node-support.js';
import { queryAthena } from './athena.js';
import { toolArguments } from './cli-args.js';
import { queryLocalLake } from './lake-sql.js';
import { readEndpointsFile } from './endpoints-file.js';
import { localSettings } from './settings.js';

const { values, positionals } = toolArguments({
  usage: 'npm run query -- [--athena] "SELECT ... FROM events"',
  help: `
Runs SQL over the lake and prints each row as one JSON object per line on stdout (numbers as
numbers); the row count goes to stderr. Tables: events (one row per messageId), raw_events
(every delivery), rejections (every refused event). See docs/lake.md.

  --athena  run on Athena in the deployed stack's workgroup (also CDP_QUERY_ENGINE=athena),
            with CDP_ATHENA_WORKGROUP and CDP_GLUE_DATABASE from the stack outputs

Locally the query runs on DuckDB over the lake files of the running CDP (CDP_DATA_DIR, default
.cdp). SQL that starts with "-" goes after a "--": npm run query -- -- "-- a comment
SELECT 1".`,
  options: { athena: { type: 'boolean' } },
  positionals: true,
});
const sql = positionals.join(' ').trim();
if (!sql) {
  console.error('usage: npm run query -- [--athena] "SELECT ... FROM events"\n(--help for more)');
  process.exit(2);
}

try {
  let rows: Record<string, unknown>[];
  if (values.athena === true || process.env.CDP_QUERY_ENGINE === 'athena') {
    const workGroup = process.env.CDP_ATHENA_WORKGROUP;
    const database = process.env.CDP_GLUE_DATABASE;
    if (!workGroup || !database) throw new Error('set CDP_ATHENA_WORKGROUP and CDP_GLUE_DATABASE from the stack outputs');
    rows = await queryAthena({ workGroup, database }, sql);
  } else {
    const endpoints = await readEndpointsFile(localSettings().dataDir);
    rows = await queryLocalLake({ s3Directory: endpoints.s3Directory, bucket: endpoints.lakeBucket }, sql);
  }
  for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
  process.stderr.write(`${rows.length} row${rows.length === 1 ? '' : 's'}\n`);
} catch (error) {
  console.error(`query failed: ${(error as Error).message}`);
  process.exit(1);
}
