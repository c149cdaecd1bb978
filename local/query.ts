/**
 * `npm run query -- "<SQL>"`: runs SQL over the lake and prints one JSON object per row.
 * Locally (default) it reads the lake files of `$CDP_DATA_DIR` with DuckDB. With `--athena`
 * (or CDP_QUERY_ENGINE=athena) it runs on Athena in CDP_ATHENA_WORKGROUP / CDP_GLUE_DATABASE.
 */
import './node-support.js';
import { queryAthena } from './athena.js';
import { queryLocalLake } from './lake-sql.js';
import { readEndpointsFile } from './endpoints-file.js';
import { localSettings } from './settings.js';

const args = process.argv.slice(2);
const athena = args.includes('--athena') || process.env.CDP_QUERY_ENGINE === 'athena';
const sql = args.filter((a) => a !== '--athena').join(' ').trim();
if (!sql) {
  console.error('usage: npm run query -- [--athena] "SELECT ... FROM events"');
  process.exit(2);
}

try {
  let rows: Record<string, unknown>[];
  if (athena) {
    const workGroup = process.env.CDP_ATHENA_WORKGROUP;
    const database = process.env.CDP_GLUE_DATABASE;
    if (!workGroup || !database) throw new Error('set CDP_ATHENA_WORKGROUP and CDP_GLUE_DATABASE from the stack outputs');
    rows = await queryAthena({ workGroup, database }, sql);
  } else {
    const endpoints = await readEndpointsFile(localSettings().dataDir);
    rows = await queryLocalLake({ s3Directory: endpoints.s3Directory, bucket: endpoints.lakeBucket }, sql);
  }
  for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
} catch (error) {
  console.error(`query failed: ${(error as Error).message}`);
  process.exit(1);
}
