import {
  AthenaClient,
  GetQueryExecutionCommand,
  StartQueryExecutionCommand,
  paginateGetQueryResults,
} from '@aws-sdk/client-athena';
import { sleep } from '../lambdas/adapters/retry.js';

export interface AthenaTarget {
  readonly workGroup: string;
  readonly database: string;
}

/** Runs SQL on Athena in the stack's workgroup (which fixes the results location and scan cutoff). */
export async function queryAthena(target: AthenaTarget, sql: string, client = new AthenaClient({})): Promise<Record<string, unknown>[]> {
  const { QueryExecutionId } = await client.send(
    new StartQueryExecutionCommand({ QueryString: sql, WorkGroup: target.workGroup, QueryExecutionContext: { Database: target.database } }),
  );
  for (let delay = 200; ; delay = Math.min(delay * 2, 2_000)) {
    const { QueryExecution } = await client.send(new GetQueryExecutionCommand({ QueryExecutionId }));
    const state = QueryExecution?.Status?.State;
    if (state === 'SUCCEEDED') break;
    if (state === 'FAILED' || state === 'CANCELLED') throw new Error(`Athena query ${state}: ${QueryExecution?.Status?.StateChangeReason ?? ''}`);
    await sleep(delay);
  }
  const rows: Record<string, unknown>[] = [];
  let header: string[] | undefined;
  for await (const page of paginateGetQueryResults({ client }, { QueryExecutionId })) {
    for (const row of page.ResultSet?.Rows ?? []) {
      const values = (row.Data ?? []).map((d) => d.VarCharValue ?? null);
      if (!header) {
        header = values.map(String);
        continue;
      }
      rows.push(Object.fromEntries(header.map((name, i) => [name, values[i]])));
    }
  }
  return rows;
}
