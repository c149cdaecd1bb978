import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, paginateGetQueryResults, type ResultSet } from '@aws-sdk/client-athena';
import { typedLakeValue } from '../../domain/lake.js';
import { LakeQueryExpiredError, type LakeQuery, type LakeQueryJobs, type LakeQueryPage } from '../../ports/lake-query.js';
import { sleep } from '../../support/retry.js';

export interface AthenaTarget {
  readonly workGroup: string;
  readonly database: string;
}

/** SQL on Athena in the stack's workgroup, which fixes the results location, encryption and scan cutoff. */
export class AthenaLakeQuery implements LakeQuery, LakeQueryJobs {
  constructor(
    private readonly target: AthenaTarget,
    private readonly client: AthenaClient = new AthenaClient({}),
    /** Give up waiting after this long. @default 25000 (inside API Gateway's 30 s) */
    private readonly timeoutMs = 25_000,
  ) {}

  async query(sql: string): Promise<Record<string, unknown>[]> {
    const queryId = await this.start(sql);
    const deadline = Date.now() + this.timeoutMs;
    for (let delay = 100; ; delay = Math.min(delay * 2, 1_000)) {
      if ((await this.state(queryId)) === 'SUCCEEDED') break;
      if (Date.now() > deadline) throw new Error(`Athena query ${queryId} still running after ${this.timeoutMs} ms`);
      await sleep(delay);
    }
    const rows: Record<string, unknown>[] = [];
    let header: string[] | undefined;
    let types: string[] = [];
    for await (const page of paginateGetQueryResults({ client: this.client }, { QueryExecutionId: queryId })) {
      types = page.ResultSet?.ResultSetMetadata?.ColumnInfo?.map((column) => column.Type ?? 'varchar') ?? types;
      header = readRows(page.ResultSet, types, header, rows);
    }
    return rows;
  }

  async start(sql: string): Promise<string> {
    const { QueryExecutionId } = await this.client.send(
      new StartQueryExecutionCommand({ QueryString: sql, WorkGroup: this.target.workGroup, QueryExecutionContext: { Database: this.target.database } }),
    );
    if (!QueryExecutionId) throw new Error('Athena started a query without an id');
    return QueryExecutionId;
  }

  /** One page of results (the column names are read from the first page's header row, which every later page follows). */
  async page(queryId: string, token?: string): Promise<LakeQueryPage> {
    if ((await this.state(queryId)) !== 'SUCCEEDED') return { state: 'running' };
    const result = await this.client.send(new GetQueryResultsCommand({ QueryExecutionId: queryId, MaxResults: 1000, ...(token ? { NextToken: token } : {}) }));
    const types = result.ResultSet?.ResultSetMetadata?.ColumnInfo?.map((column) => column.Type ?? 'varchar') ?? [];
    const names = result.ResultSet?.ResultSetMetadata?.ColumnInfo?.map((column) => column.Name ?? '') ?? [];
    const rows: Record<string, unknown>[] = [];
    readRows(result.ResultSet, types, token ? names : undefined, rows);
    return { state: 'succeeded', rows, ...(result.NextToken ? { next: result.NextToken } : {}) };
  }

  private async state(queryId: string): Promise<'SUCCEEDED' | 'RUNNING'> {
    let execution;
    try {
      ({ QueryExecution: execution } = await this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: queryId })));
    } catch (error) {
      if ((error as Error).name === 'InvalidRequestException') throw new LakeQueryExpiredError(queryId);
      throw error;
    }
    const state = execution?.Status?.State;
    if (state === 'FAILED' || state === 'CANCELLED') throw new Error(`Athena query ${state}: ${execution?.Status?.StateChangeReason ?? ''}`);
    return state === 'SUCCEEDED' ? 'SUCCEEDED' : 'RUNNING';
  }
}

/** Adds a result page's rows to `rows`, typed by column; the first row of the first page is the header. Returns the header. */
function readRows(resultSet: ResultSet | undefined, types: readonly string[], header: string[] | undefined, rows: Record<string, unknown>[]): string[] | undefined {
  let names = header;
  for (const row of resultSet?.Rows ?? []) {
    const values = (row.Data ?? []).map((d) => d.VarCharValue ?? null);
    if (!names) {
      names = values.map(String);
      continue;
    }
    rows.push(Object.fromEntries(names.map((name, i) => [name, typedLakeValue(types[i] ?? 'varchar', values[i])])));
  }
  return names;
}
