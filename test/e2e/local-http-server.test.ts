import type { APIGatewayProxyEventV2, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpHandler } from '../../lambdas/handlers/shared/http.js';
import { createApiServer, listen } from '../../local/http-server.js';

/** Functions that say who served them and with what event, so routing can be checked. */
const seen: Array<{ fn: string; event: APIGatewayProxyEventV2 }> = [];
const echo = (fn: string): HttpHandler => async (event) => {
  seen.push({ fn, event });
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fn }) };
};
const authorizations: APIGatewayRequestAuthorizerEventV2[] = [];

const site = mkdtempSync(join(tmpdir(), 'cdp-site-'));
mkdirSync(join(site, 'assets'));
writeFileSync(join(site, 'index.html'), '<h1>console</h1>');
writeFileSync(join(site, 'assets', 'app.js'), 'console.log(1)');
writeFileSync(join(tmpdir(), 'outside-the-site.txt'), 'secret');

const server = createApiServer({
  functions: { ingest: echo('ingest'), profiles: echo('profiles') },
  adminAuthorizer: async (event) => {
    authorizations.push(event);
    return { isAuthorized: event.identitySource?.[0] === 'Bearer good' };
  },
  unmatched: 'ingest',
  staticSites: [{ prefix: '/console', directory: site }],
});
let base = '';
beforeAll(async () => {
  base = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A raw request, so the path reaches the server exactly as written (fetch would normalise `..`). */
function raw(path: string, method = 'GET', headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const req = request({ host: url.hostname, port: url.port, path, method, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the local API server', () => {
  it('sends each path to the function the route table names, as API Gateway events with ANY route keys', async () => {
    seen.length = 0;
    expect((await raw('/v1/t', 'POST')).body).toBe('{"fn":"ingest"}');
    expect((await raw('/v1/profiles/email:a%40b.c/events?limit=5', 'GET', { authorization: 'Bearer good' })).body).toBe('{"fn":"profiles"}');
    expect((await raw('/nowhere', 'DELETE')).body).toBe('{"fn":"ingest"}');
    expect(seen.map(({ fn, event }) => [fn, event.routeKey, event.requestContext.http.method])).toEqual([
      ['ingest', 'ANY /v1/t', 'POST'],
      ['profiles', 'ANY /v1/profiles/{ref}/events', 'GET'],
      ['ingest', '$default', 'DELETE'],
    ]);
    expect(seen[1]!.event).toMatchObject({ pathParameters: { ref: 'email:a@b.c' }, rawPath: '/v1/profiles/email:a%40b.c/events', queryStringParameters: { limit: '5' } });
  });

  it('runs the authorizer before admin paths only: 401 without the header, 403 when it refuses, whatever the method', async () => {
    seen.length = 0;
    authorizations.length = 0;
    expect(await raw('/v1/profiles/user_id:x')).toMatchObject({ status: 401, body: '{"message":"Unauthorized"}' });
    expect(await raw('/v1/profiles/user_id:x', 'DELETE', { authorization: 'Bearer bad' })).toMatchObject({ status: 403, body: '{"message":"Forbidden"}' });
    expect(seen).toEqual([]);
    expect(authorizations.map((a) => [a.routeKey, a.identitySource])).toEqual([['ANY /v1/profiles/{ref}', ['Bearer bad']]]);
    await raw('/v1/batch', 'POST', { authorization: 'Bearer bad' });
    expect(authorizations).toHaveLength(1);
  });

  it('leaves CORS to the functions, as API Gateway without a CORS configuration does: an admin preflight stops at the authorizer', async () => {
    const before = seen.length;
    const intake = await raw('/v1/batch', 'OPTIONS', { origin: 'https://shop.example', 'access-control-request-method': 'POST' });
    expect(intake.status).toBe(200);
    expect(seen.slice(before).map((s) => [s.fn, s.event.requestContext.http.method])).toEqual([['ingest', 'OPTIONS']]);
    const admin = await raw('/v1/profiles/email:a%40b.c', 'OPTIONS', { origin: 'https://elsewhere.example', 'access-control-request-method': 'GET' });
    expect(admin.status).toBe(401);
    expect(admin.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('serves a static site under its prefix, its index for the directory, and nothing outside it', async () => {
    // Without its slash, the site's relative links would resolve outside it: redirected.
    expect(await raw('/console')).toMatchObject({ status: 301, headers: { location: '/console/' } });
    expect(await raw('/console/')).toMatchObject({ status: 200, body: '<h1>console</h1>' });
    expect(await raw('/console/assets/app.js')).toMatchObject({ status: 200, headers: { 'content-type': 'text/javascript; charset=utf-8' } });
    expect(await raw('/console/assets/app.js', 'HEAD')).toMatchObject({ status: 200, body: '', headers: { 'content-length': '14' } });
    expect((await raw('/console/missing.js')).status).toBe(404);
    // Dot segments are resolved before routing (`/console/../x` is `/x`, which the API answers);
    // encoded ones that survive that are refused by the static handler.
    for (const escape of ['/console/../outside-the-site.txt', '/console/%2e%2e/outside-the-site.txt']) {
      expect((await raw(escape)).body, escape).toBe('{"fn":"ingest"}');
    }
    for (const escape of ['/console/..%2foutside-the-site.txt', '/console/assets/..%2f..%2f..%2foutside-the-site.txt', '/console/%00', '/console/%E0%A4%A']) {
      const answer = await raw(escape);
      expect(answer.status, escape).toBe(404);
      expect(answer.body, escape).not.toContain('secret');
    }
  });
});
