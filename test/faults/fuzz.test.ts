import fc from 'fast-check';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbLakeQuery } from '../../local/duckdb-lake-query.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { basicAuth, eventually } from '../helpers/local-process.js';
import { startInProcess } from './harness.js';

let runtime: LocalRuntime & { dataDir: string };
beforeAll(async () => {
  runtime = await startInProcess();
});
afterAll(async () => runtime?.stop());

const Runs = Number(process.env.FUZZ_RUNS ?? 300);
/** Lone surrogates replaced, so a value can be put in a URL at all. */
const wellFormed = (text: string): string => text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
const fuzzTag = `fz${Date.now().toString(36)}`;

const nastyKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' ', '\u0000', 'a'.repeat(300), '$set', 'type');
const nastyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('\ud800', '\udfff', '\u0000', '\u202e', '👩‍👩‍👧‍👦', 'NaN', 'null', "'; DROP TABLE events; --", '%00', '../../etc/passwd', 'x'.repeat(40_000)),
);
const nastyValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    nastyString,
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(nastyKey, fc.string({ maxLength: 8 })), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** A valid event with some of its fields replaced by hostile values. */
const mutatedEvent = fc
  .record({
    type: fc.constantFrom('track', 'identify', 'page', 'screen', 'group', 'alias', 'TRACK', '', 'unknown'),
    field: fc.constantFrom('userId', 'anonymousId', 'event', 'traits', 'properties', 'context', 'timestamp', 'messageId', 'previousId', 'groupId', 'sentAt', 'integrations'),
    value: nastyValue,
    extraKey: nastyKey,
    extraValue: nastyValue,
  })
  .map(({ type, field, value, extraKey, extraValue }) => {
    const event: Record<string, unknown> = { type, event: 'Fuzzed', userId: `${fuzzTag}-u`, anonymousId: `${fuzzTag}-a`, properties: { ok: 1 } };
    event[field] = value;
    Object.defineProperty(event, extraKey, { value: extraValue, enumerable: true, configurable: true, writable: true });
    return event;
  });

const deepNesting = fc.integer({ min: 50, max: 20_000 }).map((depth) => `{"type":"track","userId":"${fuzzTag}-d","event":"x","properties":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`);

const body = fc.oneof(
  fc.json().map((text) => Buffer.from(text)),
  mutatedEvent.map((e) => Buffer.from(JSON.stringify(e))),
  fc.array(mutatedEvent, { maxLength: 5 }).map((batch) => Buffer.from(JSON.stringify({ batch }))),
  deepNesting.map((text) => Buffer.from(text)),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  fc.constant(Buffer.from(`{"batch":[{"type":"track","userId":"${fuzzTag}-h","event":"x","properties":{"s":"${'y'.repeat(600_000)}"}}]}`)),
  fc.constant(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])),
);

/** Mostly well-formed around the body, so most requests reach the parser; the rest probe the edges. */
const mostly = <T>(usual: fc.Arbitrary<T>, rare: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ arbitrary: usual, weight: 8 }, { arbitrary: rare, weight: 1 });

const request = fc.record({
  path: mostly(
    fc.constantFrom('/v1/batch', '/v1/import', '/v1/b', '/v1/track', '/v1/t', '/v1/identify', '/v1/page', '/v1/screen', '/v1/group', '/v1/alias'),
    fc.constantFrom('/v1/nope', '/v1/', '/v2/track', '/v1/track/extra'),
  ),
  method: mostly(fc.constant('POST'), fc.constantFrom('GET', 'PUT', 'DELETE')),
  contentType: mostly(
    fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-8'),
    fc.constantFrom('application/xml', 'multipart/form-data; boundary=x', '', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded'),
  ),
  authorization: mostly(fc.constant(basicAuth('dev-write-key')), fc.constantFrom(basicAuth('wrong'), 'Basic !!!', 'Bearer dev-admin-token', '', 'Basic ' + 'A'.repeat(5000))),
  encoding: mostly(fc.constantFrom('none', 'gzip'), fc.constantFrom('truncated-gzip', 'bogus')),
  body,
});

type FuzzRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

/** Inputs always tried first: one that must be accepted, then those that once broke intake. */
const Regressions: FuzzRequest[] = [
  { path: '/v1/track', method: 'POST', contentType: 'application/json', authorization: basicAuth('dev-write-key'), encoding: 'gzip', body: Buffer.from(`{"userId":"${fuzzTag}-ok","event":"Valid"}`) },
  // A 20,000-deep refused event overflowed the stack when its payload was recorded: a 500.
  { path: '/v1/track', method: 'POST', contentType: 'application/json', authorization: basicAuth('dev-write-key'), encoding: 'none', body: Buffer.from(`{"type":"track","userId":"${fuzzTag}-d","event":"x","properties":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}`) },
  // A lone surrogate escape was accepted as is and made a lake object no JSON reader would read.
  { path: '/v1/batch', method: 'POST', contentType: 'application/json', authorization: basicAuth('dev-write-key'), encoding: 'none', body: Buffer.from(`{"batch":[{"type":"track","userId":"${fuzzTag}-s\\ud800","event":"\\udc00x","properties":{"\\ud800":"\\ud83d"}}]}`) },
];

async function send(r: FuzzRequest): Promise<Response> {
  let payload: Buffer = r.body;
  const headers: Record<string, string> = { authorization: r.authorization };
  if (r.contentType) headers['content-type'] = r.contentType;
  if (r.encoding === 'gzip') payload = gzipSync(payload);
  if (r.encoding === 'truncated-gzip') payload = gzipSync(payload).subarray(0, Math.max(1, Math.floor(gzipSync(payload).length / 2)));
  if (r.encoding !== 'none') headers['content-encoding'] = r.encoding === 'bogus' ? 'br, compress' : 'gzip';
  return fetch(`${runtime.url}${r.path}`, { method: r.method, headers, ...(r.method === 'GET' ? {} : { body: payload }) });
}

const statuses = new Map<number, number>();

async function expectClientError(response: Response, what: string): Promise<void> {
  statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
  const text = await response.text();
  expect(response.status, `${what} → ${response.status} ${text.slice(0, 300)}`).toBeLessThan(500);
  if (response.status >= 400) {
    const answer = JSON.parse(text) as { error?: unknown; message?: unknown };
    // API Gateway's authorizer stage refuses admin requests with its own fixed bodies, before any function runs.
    const gateway = (response.status === 401 && answer.message === 'Unauthorized') || (response.status === 403 && answer.message === 'Forbidden');
    if (!gateway) expect(typeof answer.error, `${what} → ${text.slice(0, 300)}`).toBe('string');
  }
}

describe('hostile input (property-based)', () => {
  it(`intake: ${Runs} random and mutated requests each get a 2xx or a 4xx with a reason, never a 5xx; nothing undecodable reaches the stream`, async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        await expectClientError(await send(r), `${r.method} ${r.path} ${r.contentType} ${r.encoding} ${r.body.subarray(0, 120).toString('utf8')}`);
      }),
      { numRuns: Runs, examples: Regressions.map((r) => [r]) },
    );
    // The fuzz reached both sides: requests were accepted, and refused for several different reasons.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect([...statuses.keys()].filter((s) => s >= 400).length).toBeGreaterThanOrEqual(4);
    console.log(`intake answers: ${JSON.stringify(Object.fromEntries(statuses))}`);
    statuses.clear();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await fetch(`${runtime.url}/health`)).status).toBe(200);

    // Whatever was accepted reached the lake as events; nothing undecodable was quarantined.
    const marker = `${fuzzTag}-end`;
    const end = await fetch(`${runtime.url}/v1/track`, {
      method: 'POST', headers: { authorization: basicAuth('dev-write-key'), 'content-type': 'application/json' },
      body: JSON.stringify({ userId: marker, event: 'End' }),
    });
    expect(end.status).toBe(200);
    const lake = new DuckDbLakeQuery({ s3Directory: runtime.endpoints.s3Directory, bucket: runtime.endpoints.lakeBucket });
    await eventually(async () => Number((await lake.query(`SELECT count(*) AS n FROM events WHERE user_id = '${marker}'`))[0]!.n) === 1, 20_000, 'the marker in the lake');
    const quarantine = join(runtime.endpoints.s3Directory, runtime.endpoints.lakeBucket, 'quarantine');
    expect(existsSync(quarantine) ? readdirSync(quarantine, { recursive: true }) : []).toEqual([]);
  }, 240_000);

  it(`admin API: ${Runs} random references, methods, queries and bodies never get a 5xx`, async () => {
    const reference = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 30 }).map((s) => encodeURIComponent(wellFormed(s))),
      fc.tuple(fc.constantFrom('user_id', 'email', 'anonymous_id', 'phone', 'nope', ''), nastyString).map(([t, v]) => `${t}:${encodeURIComponent(wellFormed(String(v).slice(0, 300)))}`),
      fc.constantFrom('%', '%E0%A4%A', '..', '%2e%2e%2f', 'user_id:%00', 'email:a%27%20OR%201%3D1'),
    );
    const admin = fc.record({
      reference,
      suffix: fc.constantFrom('', '/events', '/merges', '/split', '/nope', '/events?limit=0', '/events?limit=abc', '/events?limit=501', '/events?cursor=%%%', '/events?cursor=eyJ4IjoxfQ'),
      method: mostly(fc.constantFrom('GET', 'POST'), fc.constantFrom('DELETE', 'PUT')),
      authorization: mostly(fc.constant('Bearer dev-admin-token'), fc.constantFrom('Bearer wrong', basicAuth('dev-write-key'), '')),
      body: fc.oneof(fc.json(), mutatedEvent.map((e) => JSON.stringify({ identifier: e })), fc.constant('{"identifier":{"type":"__proto__","value":"x"}}')),
    });
    await fc.assert(
      fc.asyncProperty(admin, async (a) => {
        const response = await fetch(`${runtime.url}/v1/profiles/${a.reference}${a.suffix}`, {
          method: a.method,
          headers: { authorization: a.authorization, 'content-type': 'application/json' },
          ...(a.method === 'GET' ? {} : { body: a.body }),
        });
        await expectClientError(response, `${a.method} ${a.reference}${a.suffix}`);
      }),
      { numRuns: Runs },
    );
    console.log(`admin API answers: ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect([...statuses.keys()].filter((s) => s >= 400).length).toBeGreaterThanOrEqual(3);
    expect((await fetch(`${runtime.url}/health`)).status).toBe(200);
  }, 240_000);
});
