import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Catalog, LakeEventColumns, LakeIdentityColumns, LakeLayout, LakeRejectionColumns, LakeSegmentChangeColumns } from '../lambdas/contracts.js';
import { EventsViewSql, IdentitiesViewSql, SegmentMembersViewSql } from '../lambdas/domain/lake-views.js';
import { typedLakeValue } from '../lambdas/domain/lake.js';

export interface LakeFiles {
  /** s3rver's directory and the lake bucket within it. */
  readonly s3Directory: string;
  readonly bucket: string;
}

/**
 * Runs SQL over the local lake with DuckDB, reading s3rver's files on disk. Defines the same
 * tables and views as the Glue catalog (`raw_events`, `events`, `rejections`, `identity_log`,
 * `identities`, `segment_changes`, `segment_members`), plus the Athena (Trino) functions DuckDB
 * lacks, with Trino's meaning (`json_extract_scalar`, `json_format`, `regexp_like`,
 * `from_iso8601_timestamp`), in UTC as Athena is, so one SQL text runs on both engines.
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
    await connection.run(`SET TimeZone = 'UTC'`);
    await connection.run(`CREATE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p)`);
    await connection.run(`CREATE MACRO json_format(j) AS CAST(j AS VARCHAR)`);
    await connection.run(`CREATE MACRO regexp_like(s, p) AS regexp_matches(s, p)`);
    await connection.run(`CREATE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)`);
    await table(Catalog.rawEventsTable, LakeLayout.eventsPrefix, LakeEventColumns, true);
    await table(Catalog.rejectionsTable, LakeLayout.rejectionsPrefix, LakeRejectionColumns, true);
    await table(Catalog.identityLogTable, LakeLayout.identitiesPrefix, LakeIdentityColumns, true);
    await table(Catalog.segmentChangesTable, LakeLayout.segmentChangesPrefix, LakeSegmentChangeColumns, true);
    await connection.run(`CREATE VIEW ${Catalog.eventsView} AS ${EventsViewSql}`);
    await connection.run(`CREATE VIEW ${Catalog.identitiesView} AS ${IdentitiesViewSql}`);
    await connection.run(`CREATE VIEW ${Catalog.segmentMembersView} AS ${SegmentMembersViewSql}`);
    const reader = await connection.runAndReadAll(sql);
    const types = reader.columnTypes().map(String);
    const names = reader.columnNames();
    return reader.getRowObjectsJson().map((row) => Object.fromEntries(names.map((name, i) => [name, typedLakeValue(types[i]!, row[name])])));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
