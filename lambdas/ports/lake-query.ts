/** Read-only SQL over the lake's tables (`events`, `raw_events`, `rejections`); rows as strings. */
export interface LakeQuery {
  query(sql: string): Promise<Record<string, unknown>[]>;
}
