import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { InMemoryCredentialStore } from '../../lambdas/adapters/memory/in-memory-credential-store.js';
import { InMemoryObjectStore } from '../../lambdas/adapters/memory/in-memory-object-store.js';
import { InMemoryProfileStore } from '../../lambdas/adapters/memory/in-memory-profile-store.js';
import { noTelemetry, silentLogger } from '../../lambdas/adapters/silent-observability.js';
import { FunctionMemoryMb, HttpRoutes, UnmatchedRouteHandler } from '../../lambdas/contracts.js';
import { hashSecret, type CredentialKind } from '../../lambdas/domain/credentials.js';
import { defaultProfileConfig } from '../../lambdas/domain/profile-config.js';
import { createIngestHandler } from '../../lambdas/handlers/ingest.js';
import { createProfileApiHandler } from '../../lambdas/handlers/profiles.js';
import { matchRoute } from '../../lambdas/handlers/shared/routes.js';
import type { EventStream } from '../../lambdas/ports/event-stream.js';
import type { ObjectStore } from '../../lambdas/ports/object-store.js';
import { Authenticator } from '../../lambdas/use-cases/authenticate.js';
import { ProfileService } from '../../lambdas/use-cases/profiles.js';
import { RejectionLog } from '../../lambdas/use-cases/rejection-log.js';
import { resolveEvents } from '../../lambdas/use-cases/resolve.js';
import { collected } from '../helpers/events.js';

const NOW = new Date('2026-11-20T00:00:00Z');

function request(method: string, path: string, authorization?: string, body?: string): APIGatewayProxyEventV2 {
  return {
    rawPath: path,
    headers: authorization ? { authorization } : {},
    ...(body === undefined ? {} : { body, isBase64Encoded: false }),
    requestContext: { requestId: 'r-1', http: { method } },
  } as unknown as APIGatewayProxyEventV2;
}

const basic = (key: string): string => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
const bodyOf = (response: APIGatewayProxyStructuredResultV2): { error?: string; details?: Array<{ field: string; reason: string }> } =>
  JSON.parse(response.body ?? '{}') as { error?: string; details?: Array<{ field: string; reason: string }> };

async function credentials(): Promise<InMemoryCredentialStore> {
  const store = new InMemoryCredentialStore();
  const add = (secret: string, kind: CredentialKind) =>
    store.create({ keyHash: hashSecret(secret), kind, sourceId: kind, name: kind, createdAt: NOW.toISOString() });
  await add('wk_test', 'write');
  await add('at_test', 'admin');
  return store;
}

describe('the route table', () => {
  it('gives every path one function and one kind of auth, names only deployed functions, and no operation twice per function', () => {
    const byPath = new Map<string, Set<string>>();
    for (const route of HttpRoutes) byPath.set(route.path, (byPath.get(route.path) ?? new Set()).add(`${route.handler}|${route.auth}`));
    for (const [path, kinds] of byPath) expect(kinds.size, path).toBe(1);
    for (const route of HttpRoutes) expect(Object.keys(FunctionMemoryMb)).toContain(route.handler);
    expect(Object.keys(FunctionMemoryMb)).toContain(UnmatchedRouteHandler);
    const operations = HttpRoutes.map((r) => `${r.handler}|${r.operation}|${r.path}`);
    expect(new Set(operations).size).toBe(operations.length);
  });

  it('matches a method and path to its route, with path parameters, a 405 list, or nothing', () => {
    expect(matchRoute('GET', '/v1/profiles/email:a%40b.c/events')).toMatchObject({
      kind: 'matched',
      route: { operation: 'getProfileEvents', handler: 'profiles' },
      params: { ref: 'email:a%40b.c' },
    });
    expect(matchRoute('post', '/v1/t')).toMatchObject({ kind: 'matched', route: { operation: 'track' } });
    expect(matchRoute('GET', '/v1/track')).toEqual({ kind: 'wrong-method', allow: ['POST'] });
    expect(matchRoute('GET', '/v1/track/')).toEqual({ kind: 'unmatched' });
    expect(matchRoute('GET', '/v1/profiles/a/b/c')).toEqual({ kind: 'unmatched' });
  });
});

describe('the profile API function on its own (it checks the token itself, wherever it is mounted)', () => {
  async function handler() {
    const store = new InMemoryProfileStore();
    const resolveDeps = { store, config: defaultProfileConfig, telemetry: noTelemetry, logger: silentLogger, now: () => NOW };
    await resolveEvents([collected({ type: 'identify', userId: 'ana', traits: { plan: 'pro' } })], resolveDeps);
    const service = new ProfileService({ ...resolveDeps, lake: { query: async () => [] }, lakeObjects: new InMemoryObjectStore() });
    return createProfileApiHandler({ authenticator: new Authenticator(await credentials()), config: defaultProfileConfig, service, telemetry: noTelemetry, logger: silentLogger });
  }

  it('answers 401 without a credential and 403 with anything but an admin token, saying why', async () => {
    const profiles = await handler();
    const none = await profiles(request('GET', '/v1/profiles/user_id:ana'));
    expect(none).toMatchObject({ statusCode: 401, headers: { 'www-authenticate': 'Bearer realm="cdp-admin"' } });
    for (const authorization of [basic('wk_test'), 'Bearer wk_test']) {
      const response = await profiles(request('GET', '/v1/profiles/user_id:ana', authorization));
      expect(response.statusCode).toBe(403);
      expect(bodyOf(response)).toMatchObject({ details: [{ field: 'authorization', reason: expect.stringContaining('write keys can only send events') }] });
    }
    const unknown = await profiles(request('GET', '/v1/profiles/user_id:ana', 'Bearer at_nope'));
    expect(unknown.statusCode).toBe(403);
    expect(bodyOf(unknown).error).toBe('the admin token is unknown or revoked');
  });

  it('serves an admin token, and refuses a bad split body field by field', async () => {
    const profiles = await handler();
    const found = await profiles(request('GET', '/v1/profiles/user_id:ana', 'Bearer at_test'));
    expect(found.statusCode).toBe(200);
    expect(JSON.parse(found.body!)).toMatchObject({ identifiers: [{ type: 'user_id', value: 'ana' }], traits: { plan: 'pro' } });
    const bad = await profiles(request('POST', '/v1/profiles/user_id:ana/split', 'Bearer at_test', '{"identifier":{"type":"Email","value":7}}'));
    expect(bad.statusCode).toBe(400);
    expect(bodyOf(bad).details).toEqual([
      { field: 'identifier.type', reason: 'must be an identifier type such as email or user_id' },
      { field: 'identifier.value', reason: 'must be a string, not a number (7)' },
    ]);
    const wrongMethod = await profiles(request('DELETE', '/v1/profiles/user_id:ana', 'Bearer at_test'));
    expect(wrongMethod).toMatchObject({ statusCode: 405, headers: { allow: 'GET' } });
  });
});

describe('the ingest function as the $default route', () => {
  const objects: ObjectStore = {
    put: async () => undefined,
    openRead: async () => undefined,
    exists: async () => false,
    listKeys: async function* () {},
    delete: async () => 0,
    deleteEarlierVersions: async () => 0,
    ping: async () => undefined,
  };
  const stream: EventStream = { put: async () => undefined, ping: async () => undefined };

  it('answers unknown paths with a JSON 404, wrong methods with 405 and Allow, and /health', async () => {
    const ingest = createIngestHandler({
      authenticator: new Authenticator(await credentials()),
      stream,
      rejectionLog: new RejectionLog(objects, silentLogger, noTelemetry),
      telemetry: noTelemetry,
      logger: silentLogger,
      now: () => NOW,
      newMessageId: () => 'm-1',
      healthChecks: { stream: () => stream.ping() },
    });
    const unknown = await ingest(request('GET', '/v2/anything'));
    expect(unknown.statusCode).toBe(404);
    expect(bodyOf(unknown).error).toBe('no route for GET /v2/anything');
    expect(await ingest(request('GET', '/v1/batch'))).toMatchObject({ statusCode: 405, headers: { allow: 'POST' } });
    expect(await ingest(request('GET', '/health'))).toMatchObject({ statusCode: 200 });
    const accepted = await ingest(request('POST', '/v1/t', basic('wk_test'), JSON.stringify({ userId: 'u1', event: 'Clicked' })));
    expect(JSON.parse(accepted.body!)).toEqual({ success: true, accepted: 1, rejected: 0 });

    // Intake answers browsers from any site itself (the API has no CORS configuration): preflights, and every answer, errors included.
    const preflight = await ingest(request('OPTIONS', '/v1/t'));
    expect(preflight).toMatchObject({ statusCode: 204, headers: { 'access-control-allow-origin': '*', 'access-control-allow-headers': expect.stringContaining('x-retry-count') } });
    for (const answer of [accepted, unknown, await ingest(request('POST', '/v1/t', basic('wk_unknown'), '{}'))]) {
      expect(answer.headers).toMatchObject({ 'access-control-allow-origin': '*' });
    }
  });
});
