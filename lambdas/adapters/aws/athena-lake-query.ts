import { AthenaClient, GetQueryExecutionCommand, StartQueryExecutionCommand, paginateGetQueryResults } from '@aws-sdk/client-athena';
import { typedLakeValue } from '../../domain/lake.js';
import type { LakeQuery } from '../../ports/lake-query.js';
import { sleep } from '../../support/retry.js';

export interface AthenaTarget {
  readonly workGroup: string;
  readonly database: string;
}

/** SQL on Athena in the stack's workgroup, which fixes the results location, encryption and scan cutoff. */
export class AthenaLakeQuery implements LakeQuery {
  constructor(
    private readonly target: AthenaTarget,
    private readonly client: AthenaClient = new AthenaClient({}),
    /** Give up waiting after this long. @default 25000 (inside API Gateway's 30 s) */
    private readonly timeoutMs = 25_000,
  ) {}

  async query(sql: string): Promise<Record<string, unknown>[]> {
    const { QueryExecutionId } = await this.client.send(
      new StartQueryExecutionCommand({ QueryString: sql, WorkGroup: this.target.workGroup, QueryExecutionContext: { Database: this.target.database } }),
    );
    const deadline = Date.now() + this.timeoutMs;
    for (let delay = 100; ; delay = Math.min(delay * 2, 1_000)) {
      const { QueryExecution } = await this.client.send(new GetQueryExecutionCommand({ QueryExecutionId }));
      const state = QueryExecution?.Status?.State;
      if (state === 'SUCCEEDED') break;
      if (state === 'FAILED' || state === 'CANCELLED') throw new Error(`Athena query ${state}: ${QueryExecution?.Status?.StateChangeReason ?? ''}`);
      if (Date.now() > deadline) throw new Error(`Athena query ${QueryExecutionId} still running after ${this.timeoutMs} ms`);
      await sleep(delay);
    }
    const rows: Record<string, unknown>[] = [];
    let header: string[] | undefined;
    let types: string[] = [];
    for await (const page of paginateGetQueryResults({ client: this.client }, { QueryExecutionId })) {
      types = page.ResultSet?.ResultSetMetadata?.ColumnInfo?.map((column) => column.Type ?? 'varchar') ?? types;
      for (const row of page.ResultSet?.Rows ?? []) {
        const values = (row.Data ?? []).map((d) => d.VarCharValue ?? null);
        if (!header) {
          header = values.map(String);
          continue;
        }
        rows.push(Object.fromEntries(header.map((name, i) => [name, typedLakeValue(types[i] ?? 'varchar', values[i])])));
      }
    }
    return rows;
  }
}
