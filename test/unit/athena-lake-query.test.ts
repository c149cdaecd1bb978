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
      .resolvesOnce({ ResultSet: { Rows: [{ Data: [cell('message_id'), cell('user_id')] }, { Data: [cell('m1'), cell('u1')] }] }, NextToken: 'page-2' })
      .resolvesOnce({ ResultSet: { Rows: [{ Data: [cell('m2'), cell()] }] } });

    const rows = await new AthenaLakeQuery(target, client()).query('SELECT message_id, user_id FROM events');

    expect(rows).toEqual([{ message_id: 'm1', user_id: 'u1' }, { message_id: 'm2', user_id: null }]);
    expect(athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input).toEqual({
      QueryString: 'SELECT message_id, user_id FROM events', WorkGroup: 'cdp-lake', QueryExecutionContext: { Database: 'cdp' },
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
