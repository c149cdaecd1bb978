import type { APIGatewayProxyEventV2, APIGatewayRequestAuthorizerEventV2, Context } from 'aws-lambda';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bundleHandler } from '../../local/bench/bundles.js';
import { Env } from '../../lambdas/contracts.js';
import { hashSecret } from '../../lambdas/domain/credentials.js';
import { DynamoDbCredentialStore } from '../../lambdas/adapters/aws/dynamodb-credential-store.js';
import { useEmulators } from '../helpers/emulators.js';

const fixture = useEmulators('lambda-entry');

function context(requestId: string, functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Every JSON line the function writes to stdout: its logs and its EMF metrics, as CloudWatch would receive them. */
function captureStdout(): () => Array<Record<string, unknown>> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter((l) => l.startsWith('{')));
    return true;
  });
  return () => {
    spy.mockRestore();
    return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  };
}

beforeAll(async () => {
  const { endpoints } = fixture.emulators;
  vi.stubEnv(Env.runtime, 'local');
  vi.stubEnv(Env.dynamodbEndpoint, endpoints.dynamodb);
  vi.stubEnv(Env.kinesisEndpoint, endpoints.kinesis);
  vi.stubEnv(Env.s3Endpoint, endpoints.s3);
  vi.stubEnv(Env.credentialsTable, fixture.settings.credentialsTable);
  vi.stubEnv(Env.streamName, fixture.settings.streamName);
  vi.stubEnv(Env.lakeBucket, fixture.settings.lakeBucket);
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
  // Lambda sets this; Powertools reports a cold start only for on-demand initialisation.
  vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
  await new DynamoDbCredentialStore(fixture.clients.dynamodb, fixture.settings.credentialsTable).create({
    keyHash: hashSecret('entry-admin'), kind: 'admin', sourceId: 'admin', name: 'entry test', createdAt: new Date().toISOString(),
  });
});
afterAll(() => vi.unstubAllEnvs());

describe('deployed entry points (Powertools through middy)', () => {
  it('the admin authorizer logs with the Lambda context and flushes a ColdStart metric once', async () => {
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'cdp-admin-authorizer');
    const { handler } = await import('../../lambdas/handlers/admin-authorizer.js');
    const request = (token: string) => ({ type: 'REQUEST', routeKey: 'ANY /v1/profiles/{ref}', headers: { authorization: `Bearer ${token}` } }) as unknown as APIGatewayRequestAuthorizerEventV2;

    const first = captureStdout();
    expect(await handler(request('not-a-token'), context('req-1', 'authorizer'))).toEqual({ isAuthorized: false });
    const firstLines = first();
    expect(firstLines).toContainEqual(
      expect.objectContaining({ message: 'admin request refused', function_request_id: 'req-1', cold_start: true, function_name: 'authorizer' }),
    );
    const coldStart = firstLines.find((l) => '_aws' in l && 'ColdStart' in l);
    expect(coldStart).toMatchObject({ ColdStart: 1, service: 'cdp-admin-authorizer' });

    const second = captureStdout();
    expect(await handler(request('entry-admin'), context('req-2', 'authorizer'))).toEqual({ isAuthorized: true });
    expect(await handler(request('nope'), context('req-3', 'authorizer'))).toEqual({ isAuthorized: false });
    const secondLines = second();
    expect(secondLines).toContainEqual(expect.objectContaining({ message: 'admin request refused', function_request_id: 'req-3', cold_start: false }));
    expect(secondLines.filter((l) => 'ColdStart' in l)).toEqual([]);
  });

  it('the ingest function publishes the metrics an invocation counted, after it', async () => {
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'cdp-ingest');
    const { handler } = await import('../../lambdas/handlers/ingest.js');
    const event = {
      rawPath: '/v1/track',
      headers: { authorization: `Basic ${Buffer.from('unknown-key:').toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'u1', event: 'Clicked' }),
      isBase64Encoded: false,
      requestContext: { requestId: 'api-1', http: { method: 'POST' } },
    } as unknown as APIGatewayProxyEventV2;
    const capture = captureStdout();
    const response = await handler(event, context('req-ingest', 'ingest'));
    const lines = capture();
    expect(response).toMatchObject({ statusCode: 401 });
    expect(lines.find((l) => '_aws' in l && 'AuthFailures' in l)).toMatchObject({ AuthFailures: 1, service: 'cdp-ingest' });
  });
});

describe('the deployed bundles', () => {
  /** A handler bundled exactly as `cdk synth` bundles it (BundleSettings), loaded as Lambda loads it. */
  async function bundled(name: string): Promise<{ handler: (event: unknown, context: Context) => Promise<unknown>; bytes: number }> {
    const code = await bundleHandler({ name });
    const file = join(mkdtempSync(join(tmpdir(), 'cdp-bundle-')), `${name}.cjs`);
    writeFileSync(file, code);
    return { ...(createRequire(import.meta.url)(file) as { handler: (event: unknown, context: Context) => Promise<unknown> }), bytes: code.byteLength };
  }

  it('run from the SDK\'s ES module builds and the environment-only credential chain, against the emulators', async () => {
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'cdp-admin-authorizer');
    const authorizer = await bundled('admin-authorizer');
    const request = (token: string) => ({ type: 'REQUEST', routeKey: 'ANY /v1/profiles/{ref}', headers: { authorization: `Bearer ${token}` } });
    const capture = captureStdout();
    try {
      expect(await authorizer.handler(request('entry-admin'), context('bundle-1', 'authorizer'))).toEqual({ isAuthorized: true });
      expect(await authorizer.handler(request('nope'), context('bundle-2', 'authorizer'))).toEqual({ isAuthorized: false });
    } finally {
      capture();
    }
    // Without the default chain's SSO, STS and profile clients, and tree-shaken.
    expect(authorizer.bytes).toBeLessThan(400_000);
  });
});
