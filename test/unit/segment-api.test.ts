import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InMemoryCredentialStore } from '../../lambdas/adapters/memory/in-memory-credential-store.js';
import { InMemorySegmentStore } from '../../lambdas/adapters/memory/in-memory-segment-store.js';
import { noTelemetry, silentLogger } from '../../lambdas/adapters/silent-observability.js';
import { LakeLayout } from '../../lambdas/contracts.js';
import { hashSecret, type CredentialKind } from '../../lambdas/domain/credentials.js';
import { defaultProfileConfig as config } from '../../lambdas/domain/profile-config.js';
import { createSegmentApiHandler } from '../../lambdas/handlers/segments.js';
import { Authenticator } from '../../lambdas/use-cases/authenticate.js';
import { SegmentApiError, SegmentService, type BackfillTiming } from '../../lambdas/use-cases/segments.js';
import { DuckDbLakeQuery } from '../../local/duckdb-lake-query.js';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const timing: BackfillTiming = { definitionsMaxAgeMs: 10_000, archiverLagMs: 180_000 };
const pro = { trait: 'plan', op: 'eq', value: 'pro' };

function service(options: { lakeDir?: string; now?: () => number } = {}) {
  const store = new InMemorySegmentStore();
  const lake = new DuckDbLakeQuery({ s3Directory: options.lakeDir ?? mkdtempSync(join(tmpdir(), 'cdp-segment-api-')), bucket: 'lake' });
  const clock = options.now ?? (() => NOW);
  return { store, service: new SegmentService({ store, lake, config, timing, logger: silentLogger, now: () => new Date(clock()) }) };
}

async function refusal(promise: Promise<unknown>): Promise<SegmentApiError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(SegmentApiError);
  return error as SegmentApiError;
}

describe('the segment service', () => {
  it('creates a segment at version 1, backfilling, waiting out the definitions cache and the archiver before it reads the lake', async () => {
    const { service: segments } = service();
    const { segment, created } = await segments.put('pros', { name: 'Pros', description: 'on the pro plan', condition: pro });
    expect(created).toBe(true);
    expect(segment).toEqual({
      id: 'pros', name: 'Pros', description: 'on the pro plan', condition: pro, version: 1, status: 'backfilling', memberCount: 0,
      backfill: { phase: 'waiting', requestedAt: new Date(NOW).toISOString(), notBefore: new Date(NOW + 190_000).toISOString(), profilesSeeded: 0, eventsSeeded: 0, profilesEvaluated: 0 },
      createdAt: new Date(NOW).toISOString(), updatedAt: new Date(NOW).toISOString(),
    });
    expect(await segments.list()).toEqual([segment]);
    expect(await segments.get('pros')).toEqual(segment);
  });

  it('backfills a changed condition at a new version, but not a new name, and not the same condition with its keys reordered', async () => {
    const { store, service: segments } = service();
    await segments.put('pros', { name: 'Pros', condition: pro });
    const stored = (await store.get('pros'))!;
    const { revision, memberCount: _c, backfill: _b, ...fields } = stored;
    await store.save({ ...fields, status: 'ready' }, revision);

    const renamed = await segments.put('pros', { name: 'Professionals', condition: { value: 'pro', op: 'eq', trait: 'plan' } });
    expect(renamed).toMatchObject({ created: false, segment: { name: 'Professionals', version: 1, status: 'ready', backfill: null } });
    const changed = await segments.put('pros', { name: 'Professionals', condition: { trait: 'plan', op: 'in', value: ['pro', 'team'] } });
    expect(changed.segment).toMatchObject({ version: 2, status: 'backfilling', backfill: { phase: 'waiting' } });
  });

  it('refuses a bad body with every problem, each with its JSON path', async () => {
    const { service: segments } = service();
    const error = await refusal(segments.put('pros', { name: '', condition: { all: [pro, { event: 'Order Completed', within: 'P30X' }] }, colour: 'red' }));
    expect(error.status).toBe(400);
    expect(error.details.map((d) => d.field).sort()).toEqual(['colour', 'condition.all[1].within', 'name']);
    expect((await refusal(segments.put('Pros!', { name: 'x', condition: pro }))).details).toEqual([{ field: 'id', reason: expect.stringContaining('lower-case') as string }]);
    expect((await refusal(segments.put('pros', 'not an object'))).details[0]!.field).toBe('body');
  });

  it('refuses a condition naming an unknown segment, itself, or making a cycle', async () => {
    const { service: segments } = service();
    const unknown = await refusal(segments.put('a', { name: 'A', condition: { segment: 'nope' } }));
    expect(unknown.details).toEqual([{ field: 'condition.segment', reason: expect.stringContaining('nope') as string }]);
    expect((await refusal(segments.put('a', { name: 'A', condition: { not: { segment: 'a' } } }))).details[0]!.field).toBe('condition.not.segment');
    await segments.put('a', { name: 'A', condition: pro });
    await segments.put('b', { name: 'B', condition: { segment: 'a' } });
    const cycle = await refusal(segments.put('a', { name: 'A', condition: { any: [pro, { segment: 'b' }] } }));
    expect(cycle.status).toBe(400);
    expect(cycle.details[0]).toMatchObject({ field: 'condition.any[1].segment', reason: expect.stringContaining('cycle') as string });
  });

  it('backfills the segments that name a changed one again, at their next version', async () => {
    const { service: segments } = service();
    await segments.put('a', { name: 'A', condition: pro });
    await segments.put('b', { name: 'B', condition: { not: { segment: 'a' } } });
    await segments.put('c', { name: 'C', condition: pro });
    await segments.put('a', { name: 'A', condition: { trait: 'plan', op: 'eq', value: 'team' } });
    expect((await segments.list()).map((s) => [s.id, s.version])).toEqual([['a', 2], ['b', 2], ['c', 1]]);
  });

  it('deletes by marking the segment deleting (the segmentation function records the exits), and refuses while another names it', async () => {
    const { service: segments } = service();
    await segments.put('a', { name: 'A', condition: pro });
    await segments.put('b', { name: 'B', condition: { segment: 'a' } });
    const named = await refusal(segments.delete('a'));
    expect(named.status).toBe(409);
    expect(named.message).toContain('b');
    expect(await segments.delete('b')).toMatchObject({ id: 'b', status: 'deleting' });
    expect(await segments.delete('a')).toMatchObject({ status: 'deleting' });
    // Deleting twice is the same request.
    expect(await segments.delete('a')).toMatchObject({ status: 'deleting' });
    expect((await refusal(segments.put('a', { name: 'A', condition: pro }))).status).toBe(409);
    expect((await refusal(segments.delete('zzz'))).status).toBe(404);
    expect((await refusal(segments.sql('a'))).status).toBe(404);
  });

  it('answers 409, not a lost update, when another request changed the segment in between', async () => {
    const { store, service: segments } = service();
    await segments.put('a', { name: 'A', condition: pro });
    const original = store.save.bind(store);
    store.save = async (segment, expected, count) => {
      const current = (await store.get(segment.id))!;
      await original({ ...current, name: 'someone else' }, current.revision);
      return original(segment, expected, count);
    };
    expect((await refusal(segments.put('a', { name: 'A2', condition: { identifier: 'email' } }))).status).toBe(409);
    expect((await segments.get('a')).name).toBe('someone else');
  });

  it('gives the SQL at the instant asked for, or now, and refuses a time without a zone', async () => {
    const { service: segments } = service();
    await segments.put('recent', { name: 'Recent buyers', condition: { event: 'Order Completed', within: 'P30D' } });
    const at = await segments.sql('recent', '2026-10-01T00:00:00Z');
    expect(at.at).toBe('2026-10-01T00:00:00.000Z');
    expect(at.sql).toContain('2026-10-01');
    expect((await segments.sql('recent')).at).toBe(new Date(NOW).toISOString());
    expect((await refusal(segments.sql('recent', '2026-10-01T00:00:00'))).details[0]!.field).toBe('at');
  });

  it('lists members from the lake: the latest change per profile, entries only, a retried delivery once, by profile id with a cursor', async () => {
    const lakeDir = mkdtempSync(join(tmpdir(), 'cdp-members-'));
    const rows = [
      ['e1', 'entered', 'p-1', '2026-11-01T00:00:00.000Z'],
      ['e1', 'entered', 'p-1', '2026-11-01T00:00:00.000Z'],
      ['x1', 'exited', 'p-2', '2026-11-02T00:00:00.000Z'],
      ['e2', 'entered', 'p-2', '2026-11-01T00:00:00.000Z'],
      ['e3', 'entered', 'p-3', '2026-11-03T00:00:00.000Z'],
      ['x3', 'exited', 'p-3', '2026-11-04T00:00:00.000Z'],
      ['e4', 'entered', 'p-3', '2026-11-05T00:00:00.000Z'],
      ['e5', 'entered', 'p-4', '2026-11-06T00:00:00.000Z'],
      ['o1', 'entered', 'p-9', '2026-11-06T00:00:00.000Z', 'other'],
    ].map(([change_id, kind, profile_id, at, segment_id]) => ({ change_id, kind, segment_id: segment_id ?? 'pros', segment_version: '1', profile_id, at, recorded_at: at }));
    const dir = join(lakeDir, 'lake', LakeLayout.segmentChangesPrefix, 'dt=2026-11-01');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a.ndjson.gz._S3rver_object'), gzipSync(rows.map((r) => JSON.stringify(r)).join('\n')));
    const { service: segments } = service({ lakeDir });
    await segments.put('pros', { name: 'Pros', condition: pro });

    const first = await segments.members('pros', 2);
    expect(first.members).toEqual([{ profileId: 'p-1', since: '2026-11-01T00:00:00.000Z' }, { profileId: 'p-3', since: '2026-11-05T00:00:00.000Z' }]);
    expect(first.nextCursor).not.toBeNull();
    const second = await segments.members('pros', 2, first.nextCursor!);
    expect(second).toEqual({ members: [{ profileId: 'p-4', since: '2026-11-06T00:00:00.000Z' }], nextCursor: null });
    expect((await refusal(segments.members('pros', 2, 'not-a-cursor!'))).details[0]!.field).toBe('cursor');
    expect((await refusal(segments.members('nobody', 2))).status).toBe(404);
  });
});

describe('the segment API function', () => {
  function request(method: string, path: string, options: { token?: string; body?: string; query?: Record<string, string> } = {}): APIGatewayProxyEventV2 {
    return {
      rawPath: path,
      headers: options.token ? { authorization: options.token } : {},
      ...(options.body === undefined ? {} : { body: options.body, isBase64Encoded: false }),
      ...(options.query ? { queryStringParameters: options.query } : {}),
      requestContext: { requestId: 'r-1', http: { method } },
    } as unknown as APIGatewayProxyEventV2;
  }
  const bodyOf = (r: APIGatewayProxyStructuredResultV2) => JSON.parse(r.body ?? '{}') as { error?: string; details?: Array<{ field: string; reason: string }>; [k: string]: unknown };

  async function handler() {
    const credentials = new InMemoryCredentialStore();
    const add = (secret: string, kind: CredentialKind) => credentials.create({ keyHash: hashSecret(secret), kind, sourceId: kind, name: kind, createdAt: new Date(NOW).toISOString() });
    await add('wk_test', 'write');
    await add('at_test', 'admin');
    const { service: segments } = service();
    return createSegmentApiHandler({ authenticator: new Authenticator(credentials), service: segments, telemetry: noTelemetry, logger: silentLogger });
  }
  const admin = 'Bearer at_test';

  it('answers 401 without a token and 403 with a write key', async () => {
    const api = await handler();
    expect((await api(request('GET', '/v1/segments'))).statusCode).toBe(401);
    const writeKey = await api(request('GET', '/v1/segments', { token: `Basic ${Buffer.from('wk_test:').toString('base64')}` }));
    expect(writeKey.statusCode).toBe(403);
    expect(bodyOf(writeKey).error).toContain('segment API needs an admin token');
  });

  it('creates with 201, changes with 200, reads, lists, gives SQL, and deletes with 202', async () => {
    const api = await handler();
    const body = JSON.stringify({ name: 'Pros', condition: pro });
    const created = await api(request('PUT', '/v1/segments/pros', { token: admin, body }));
    expect(created.statusCode).toBe(201);
    expect(bodyOf(created)).toMatchObject({ id: 'pros', version: 1, status: 'backfilling', memberCount: 0 });
    expect((await api(request('PUT', '/v1/segments/pros', { token: admin, body }))).statusCode).toBe(200);
    expect(bodyOf(await api(request('GET', '/v1/segments/pros', { token: admin })))).toMatchObject({ id: 'pros', name: 'Pros' });
    expect(bodyOf(await api(request('GET', '/v1/segments', { token: admin }))).segments).toHaveLength(1);
    const sql = await api(request('GET', '/v1/segments/pros/sql', { token: admin, query: { at: '2026-11-01T00:00:00Z' } }));
    expect(sql.statusCode).toBe(200);
    expect(bodyOf(sql).sql).toMatch(/^WITH|SELECT/);
    expect((await api(request('DELETE', '/v1/segments/pros', { token: admin }))).statusCode).toBe(202);
  });

  it('answers bad input with 400 naming the field, unknown segments with 404, and wrong methods with 405', async () => {
    const api = await handler();
    const notJson = await api(request('PUT', '/v1/segments/pros', { token: admin, body: '{"name":' }));
    expect(notJson.statusCode).toBe(400);
    expect(bodyOf(notJson).details).toEqual([{ field: 'body', reason: expect.stringContaining('JSON') as string }]);
    const bad = await api(request('PUT', '/v1/segments/pros', { token: admin, body: JSON.stringify({ name: 'P', condition: { trait: 'plan', op: 'between', value: 3 } }) }));
    expect(bad.statusCode).toBe(400);
    expect(bodyOf(bad).details![0]!.field).toBe('condition.value');
    expect((await api(request('GET', '/v1/segments/nobody', { token: admin }))).statusCode).toBe(404);
    const limit = await api(request('GET', '/v1/segments/nobody/members', { token: admin, query: { limit: '0' } }));
    expect(bodyOf(limit).details).toEqual([{ field: 'limit', reason: expect.stringContaining('1 to 1000') as string }]);
    const wrong = await api(request('POST', '/v1/segments/pros', { token: admin }));
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers).toMatchObject({ allow: 'GET, PUT, DELETE' });
    expect((await api(request('GET', '/v1/segments/%E0%A4%A', { token: admin }))).statusCode).toBe(400);
  });
});
