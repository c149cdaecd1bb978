import { randomUUID } from 'node:crypto';
import { LakeQueryExpiredError, type LakeQuery, type LakeQueryJobs, type LakeQueryPage } from '../lambdas/ports/lake-query.js';
import { queryLocalLake, type LakeFiles } from './lake-sql.js';

/** Rows per page of a started query, as Athena's GetQueryResults pages them. */
const PageSize = 1000;

/**
 * The local stand-in for Athena: DuckDB over s3rver's files, with the same table and view names.
 * A started query runs to completion at once and its rows are kept in memory until read; after
 * a restart they are gone, and the caller starts the query again, as after Athena forgets one.
 */
export class DuckDbLakeQuery implements LakeQuery, LakeQueryJobs {
  private readonly results = new Map<string, Record<string, unknown>[]>();

  constructor(private readonly files: LakeFiles) {}

  query(sql: string): Promise<Record<string, unknown>[]> {
    return queryLocalLake(this.files, sql);
  }

  async start(sql: string): Promise<string> {
    const id = randomUUID();
    this.results.set(id, await queryLocalLake(this.files, sql));
    return id;
  }

  async page(queryId: string, token?: string): Promise<LakeQueryPage> {
    const rows = this.results.get(queryId);
    if (!rows) throw new LakeQueryExpiredError(queryId);
    const offset = token === undefined ? 0 : Number(token);
    const next = offset + PageSize;
    if (next >= rows.length) this.results.delete(queryId);
    return { state: 'succeeded', rows: rows.slice(offset, next), ...(next < rows.length ? { next: String(next) } : {}) };
  }
}
