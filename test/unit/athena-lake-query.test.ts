import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { AthenaLakeQuery } from '../../lambdas/adapters/aws/athena-lake-query.js';

// Athena has no local emulator, so this adapter is tested against a mocked client (the lake SQL itself runs on DuckDB locally).
const athena = mockClient(AthenaClient);
afterEach(() => athena.reset());

const target = { workGroup: 'cdp-lake', database: 'cdp' };
const client = () => new AthenaClient({ region: 'us-east-1' });
const cell = (value?: string) => (value === undefined ? {} : { VarCharValue: value });

describe('AthenaLakeQuery', () => {
  it('runs in the stack workgroup and database, waits for the query, and maps every page of results to rows by the header', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q1' });
    athena.on(GetQueryExecutionCommand)
      .resolvesOnce({ QueryExecution: { Status: { State: 'QUEUED' } } })
      .resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' } } })
      .resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    athena.on(GetQueryResultsCommand)
      .resolvesOnce({
        ResultSet: {
          ResultSetMetadata: { ColumnInfo: [{ Name: 'message_id', Type: 'varchar' }, { Name: 'user_id', Type: 'varchar' }, { Name: 'n', Type: 'bigint' }, { Name: 'revenue', Type: 'double' }] },
          Rows: [{ Data: [cell('message_id'), cell('user_id'), cell('n'), cell('revenue')] }, { Data: [cell('m1'), cell('u1'), cell('27'), cell('42.5')] }],
        },
        NextToken: 'page-2',
      })
      .resolvesOnce({
        ResultSet: {
          ResultSetMetadata: { ColumnInfo: [{ Name: 'message_id', Type: 'varchar' }, { Name: 'user_id', Type: 'varchar' }, { Name: 'n', Type: 'bigint' }, { Name: 'revenue', Type: 'double' }] },
          Rows: [{ Data: [cell('m2'), cell(), cell('9007199254740993'), cell()] }],
        },
      });

    const rows = await new AthenaLakeQuery(target, client()).query('SELECT message_id, user_id, n, revenue FROM events');

    // Numbers come back as numbers, by Athena's column types; an integer a double cannot hold stays text.
    expect(rows).toEqual([
      { message_id: 'm1', user_id: 'u1', n: 27, revenue: 42.5 },
      { message_id: 'm2', user_id: null, n: '9007199254740993', revenue: null },
    ]);
    expect(athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input).toEqual({
      QueryString: 'SELECT message_id, user_id, n, revenue FROM events', WorkGroup: 'cdp-lake', QueryExecutionContext: { Database: 'cdp' },
    });
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(3);
    expect(athena.commandCalls(GetQueryResultsCommand)[1]!.args[0].input).toMatchObject({ QueryExecutionId: 'q1', NextToken: 'page-2' });
  });

  it('reports a failed query with Athena\'s reason, and gives up on one that runs past its deadline', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q2' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'FAILED', StateChangeReason: 'SYNTAX_ERROR: line 1:8' } } });
    await expect(new AthenaLakeQuery(target, client()).query('SELEC 1')).rejects.toThrow('Athena query FAILED: SYNTAX_ERROR: line 1:8');

    athena.reset();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q3' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'RUNNING' } } });
    await expect(new AthenaLakeQuery(target, client(), 150).query('SELECT 1')).rejects.toThrow('Athena query q3 still running after 150 ms');
  });
});
