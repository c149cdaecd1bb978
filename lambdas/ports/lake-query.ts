/**
 * Read-only SQL over the lake's tables (`events`, `raw_events`, `rejections`). Rows map column
 * names to JSON values typed by the column's SQL type: numbers for numeric columns (integers
 * beyond 2^53 as text), booleans, and text for everything else, on Athena and DuckDB alike.
 */
export interface LakeQuery {
  query(sql: string): Promise<Record<string, unknown>[]>;
}

/** A page of a lake query's results, or word that it is still running. */
export type LakeQueryPage =
  | { readonly state: 'running' }
  | { readonly state: 'succeeded'; readonly rows: Record<string, unknown>[]; /** Absent on the last page. */ readonly next?: string };

/**
 * Lake queries too long to wait for in one call: started once, their results read a page at a
 * time, possibly by a later invocation. A query id the engine no longer knows throws
 * LakeQueryExpiredError; the caller starts the query again.
 */
export interface LakeQueryJobs {
  start(sql: string): Promise<string>;
  page(queryId: string, token?: string): Promise<LakeQueryPage>;
}

export class LakeQueryExpiredError extends Error {
  constructor(queryId: string) {
    super(`lake query ${queryId} is no longer known; start it again`);
    this.name = 'LakeQueryExpiredError';
  }
}
