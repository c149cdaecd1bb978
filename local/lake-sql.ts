import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Catalog, LakeEventColumns, LakeLayout, LakeRejectionColumns } from '../lambdas/contracts.js';
import { EventsViewSql } from '../lambdas/domain/lake-views.js';
import { typedLakeValue } from '../lambdas/domain/lake.js';

export interface LakeFiles {
  /** s3rver's directory and the lake bucket within it. */
  readonly s3Directory: string;
  readonly bucket: string;
}

/**
 * Runs SQL over the local lake with DuckDB, reading s3rver's files on disk. Defines the same
 * tables as the Glue catalog (`raw_events`, `events`, `rejections`), plus the Athena functions the
 * docs use (`json_extract_scalar`, `from_iso8601_timestamp`), so one SQL text runs on both engines.
 */
export async function queryLocalLake(files: LakeFiles, sql: string): Promise<Record<string, unknown>[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await queryOnce(files, sql);
    } catch (error) {
      // s3rver writes an object's file in place, so a query can catch one half written; it is whole a moment later.
      const halfWritten = /_S3rver_object/.test(String(error)) && /IO Error|GZIP|Malformed|unexpected end/i.test(String(error));
      if (!halfWritten || attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

async function queryOnce(files: LakeFiles, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const root = join(files.s3Directory, files.bucket);
    const table = async (name: string, prefix: string, columns: readonly string[], partitioned: boolean): Promise<void> => {
      const columnTypes = `{${columns.map((c) => `'${c}': 'VARCHAR'`).join(', ')}}`;
      const dir = join(root, prefix);
      const isObject = (name: string): boolean => name.endsWith('.ndjson.gz._S3rver_object');
      const hasFiles =
        existsSync(dir) &&
        readdirSync(dir)
          .filter((d) => d.startsWith('dt='))
          .some((d) => readdirSync(join(dir, d)).some(isObject));
      if (!hasFiles) {
        const list = [...columns, ...(partitioned ? ['dt'] : [])].map((c) => `"${c}" VARCHAR`).join(', ');
        await connection.run(`CREATE TABLE ${name} (${list})`);
        return;
      }
      const glob = join(dir, 'dt=*', '*.ndjson.gz._S3rver_object').replaceAll("'", "''");
      await connection.run(`CREATE VIEW ${name} AS SELECT * FROM read_json('${glob}', format = 'newline_delimited',
        compression = 'gzip', hive_partitioning = true, hive_types = {'dt': 'VARCHAR'}, columns = ${columnTypes})`);
    };
    await connection.run(`CREATE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p)`);
    await connection.run(`CREATE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)`);
    await table(Catalog.rawEventsTable, LakeLayout.eventsPrefix, LakeEventColumns, true);
    await table(Catalog.rejectionsTable, LakeLayout.rejectionsPrefix, LakeRejectionColumns, true);
    await connection.run(`CREATE VIEW ${Catalog.eventsView} AS ${EventsViewSql}`);
    const reader = await connection.runAndReadAll(sql);
    const types = reader.columnTypes().map(String);
    const names = reader.columnNames();
    return reader.getRowObjectsJson().map((row) => Object.fromEntries(names.map((name, i) => [name, typedLakeValue(types[i]!, row[name])])));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
