import { AthenaLakeQuery, type AthenaTarget } from '../lambdas/adapters/aws/athena-lake-query.js';

export type { AthenaTarget };

/** Runs SQL on Athena in the stack's workgroup (used by `npm run query -- --athena`). */
export async function queryAthena(target: AthenaTarget, sql: string): Promise<Record<string, unknown>[]> {
  return new AthenaLakeQuery(target, undefined, 10 * 60 * 1000).query(sql);
}
