/**
 * Read-only SQL over the lake's tables (`events`, `raw_events`, `rejections`). Rows map column
 * names to JSON values typed by the column's SQL type: numbers for numeric columns (integers
 * beyond 2^53 as text), booleans, and text for everything else, on Athena and DuckDB alike.
 */
export interface LakeQuery {
  query(sql: string): Promise<Record<string, unknown>[]>;
}
