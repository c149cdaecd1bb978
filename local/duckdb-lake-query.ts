import type { LakeQuery } from '../lambdas/ports/lake-query.js';
import { queryLocalLake, type LakeFiles } from './lake-sql.js';

/** The local stand-in for Athena: DuckDB over s3rver's files, with the same table and view names. */
export class DuckDbLakeQuery implements LakeQuery {
  constructor(private readonly files: LakeFiles) {}

  query(sql: string): Promise<Record<string, unknown>[]> {
    return queryLocalLake(this.files, sql);
  }
}
