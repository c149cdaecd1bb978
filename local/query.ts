/**
 * `npm run query -- "<SQL>"`: runs SQL over the lake and prints one JSON object per row.
 * Locally (default) it reads the lake files of `$CDP_DATA_DIR` with DuckDB. With `--athena`
 * (or CDP_QUERY_ENGINE=athena) it runs on Athena in CDP_ATHENA_WORKGROUP / CDP_GLUE_DATABASE.
 * `--segment <id> [--at <ISO time>]` runs a segment's SQL: its members at that instant.
 */
import './node-support.js';
import { compose, configFromEnvironment, segmentService } from '../lambdas/composition.js';
import { SegmentApiError } from '../lambdas/use-cases/segments.js';
import { queryAthena } from './athena.js';
import { toolArguments } from './cli-args.js';
import { queryLocalLake } from './lake-sql.js';
import { localRuntimeConfig, readEndpointsFile } from './endpoints-file.js';
import { DuckDbLakeQuery } from './duckdb-lake-query.js';
import { localSettings } from './settings.js';

const { values, positionals } = toolArguments({
  usage: 'npm run query -- [--athena] "SELECT ... FROM events" | --segment <id> [--at <ISO time>]',
  help: `
Runs SQL over the lake and prints each row as one JSON object per line on stdout (numbers as
numbers); the row count goes to stderr. Tables: events (one row per messageId), raw_events
(every delivery), rejections (every refused event). See docs/lake.md.

  --athena        run on Athena in the deployed stack's workgroup (also CDP_QUERY_ENGINE=athena),
                  with CDP_ATHENA_WORKGROUP and CDP_GLUE_DATABASE from the stack outputs (and,
                  with --segment, CDP_PROFILES_TABLE, where segments are defined)
  --segment <id>  run that segment's SQL (GET /v1/segments/{id}/sql): one row per member,
                  {"profile_id": ...}
  --at <time>     with --segment: the instant "now" means (ISO-8601; default: now)

Locally the query runs on DuckDB over the lake files of the running CDP (CDP_DATA_DIR, default
.cdp). SQL that starts with "-" goes after a "--": npm run query -- -- "-- a comment
SELECT 1".`,
  options: { athena: { type: 'boolean' }, segment: { type: 'string' }, at: { type: 'string' } },
  positionals: true,
});
const athena = values.athena === true || process.env.CDP_QUERY_ENGINE === 'athena';
if (values.at !== undefined && values.segment === undefined) {
  console.error('--at goes with --segment');
  process.exit(2);
}

try {
  const endpoints = athena ? undefined : await readEndpointsFile(localSettings().dataDir);
  const files = endpoints ? { s3Directory: endpoints.s3Directory, bucket: endpoints.lakeBucket } : undefined;
  const sql = values.segment === undefined ? positionals.join(' ').trim() : await segmentStatement(values.segment, values.at);
  if (!sql) {
    console.error('usage: npm run query -- [--athena] "SELECT ... FROM events" | --segment <id> [--at <ISO time>]\n(--help for more)');
    process.exit(2);
  }
  let rows: Record<string, unknown>[];
  if (!files) {
    const workGroup = process.env.CDP_ATHENA_WORKGROUP;
    const database = process.env.CDP_GLUE_DATABASE;
    if (!workGroup || !database) throw new Error('set CDP_ATHENA_WORKGROUP and CDP_GLUE_DATABASE from the stack outputs');
    rows = await queryAthena({ workGroup, database }, sql);
  } else {
    rows = await queryLocalLake(files, sql);
  }
  for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
  process.stderr.write(`${rows.length} row${rows.length === 1 ? '' : 's'}\n`);
} catch (error) {
  console.error(`query failed: ${error instanceof SegmentApiError ? error.message : (error as Error).message}`);
  process.exit(1);
}

/** The segment's SQL, from its definition in the profiles table (the local one, or the stack's with --athena). */
async function segmentStatement(id: string, at: string | undefined): Promise<string> {
  const endpoints = athena ? undefined : await readEndpointsFile(localSettings().dataDir);
  const config = endpoints ? localRuntimeConfig(endpoints, 'cdp-query') : configFromEnvironment();
  if (!config.profilesTable) throw new Error('set CDP_PROFILES_TABLE from the stack outputs: segments are defined there');
  const composition = compose(config);
  const lake = endpoints ? new DuckDbLakeQuery({ s3Directory: endpoints.s3Directory, bucket: endpoints.lakeBucket }) : undefined;
  try {
    return (await segmentService(composition, lake).sql(id, at)).sql;
  } finally {
    const { dynamodb, kinesis, s3 } = composition.clients;
    for (const client of [dynamodb, kinesis, s3]) client.destroy();
  }
}
