import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { Analytics as SegmentAnalytics } from '@segment/analytics-node';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../lambdas/adapters/aws/s3-object-store.js';
import { silentLogger } from '../../lambdas/adapters/silent-observability.js';
import { ImportScanner } from '../../local/import-scanner.js';
import { createClients } from '../../lambdas/composition.js';
import { localRuntimeConfig } from '../../local/endpoints-file.js';
import { basicAuth, eventually, queryCommand, startRuntimeProcess, type RuntimeProcess } from '../helpers/local-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'cdp-e2e-'));
let runtime: RuntimeProcess;
const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${runtime.url}${path}`, {
    method: 'POST',
    headers: { authorization: basicAuth('dev-write-key'), 'content-type': 'application/json', ...headers },
    body,
  });
const countOf = async (where: string): Promise<number> =>
  Number((await queryCommand(dataDir, `SELECT count(*) AS n FROM events WHERE ${where}`))[0]?.n ?? 0);

beforeAll(async () => {
  runtime = await startRuntimeProcess(dataDir);
});
afterAll(async () => {
  await runtime?.kill('SIGTERM');
});

describe('intake to lake through the local runtime', () => {
  it("gets Segment's analytics-node events into the lake exactly once", async () => {
    const run = randomUUID();
    const analytics = new SegmentAnalytics({ writeKey: 'dev-write-key', host: runtime.url, flushAt: 3, maxRetries: 2 });
    analytics.identify({ userId: `seg-${run}`, traits: { email: 'Ana@Example.com', plan: 'plus' } });
    analytics.track({ userId: `seg-${run}`, event: 'Order Completed', properties: { revenue: 42.5 } });
    analytics.page({ anonymousId: `anon-${run}`, name: 'Home' });
    analytics.screen({ anonymousId: `anon-${run}`, name: 'Cart' });
    analytics.group({ userId: `seg-${run}`, groupId: 'acme' });
    analytics.alias({ userId: `seg-${run}`, previousId: `anon-${run}` });
    await analytics.closeAndFlush();
    await eventually(async () => (await countOf(`user_id = 'seg-${run}' OR anonymous_id = 'anon-${run}'`)) === 6, 20_000, 'segment events');
    const rows = await queryCommand(
      dataDir,
      `SELECT type, json_extract_scalar(properties, '$.revenue') AS revenue, source_id FROM events WHERE user_id = 'seg-${run}' AND type = 'track'`,
    );
    expect(rows).toEqual([{ type: 'track', revenue: '42.5', source_id: 'dev' }]);
  });

  it("gets RudderStack's Node SDK events (gzip) into the lake exactly once", async () => {
    const run = randomUUID();
    const client = new RudderAnalytics('dev-write-key', { dataPlaneUrl: runtime.url, flushAt: 2, logLevel: 'error' });
    client.track({ userId: `rs-${run}`, event: 'Product Viewed', properties: { sku: 'sku-1' } });
    client.identify({ userId: `rs-${run}`, traits: { city: 'Porto' } });
    client.page({ userId: `rs-${run}`, name: 'Home' });
    await new Promise<void>((resolve) => void client.flush(() => resolve()));
    await eventually(async () => (await countOf(`user_id = 'rs-${run}'`)) === 3, 20_000, 'rudderstack events');
  });

  it('keeps one row per messageId when a gzip batch is delivered twice', async () => {
    const run = randomUUID();
    const batch = {
      sentAt: new Date().toISOString(),
      batch: Array.from({ length: 50 }, (_, i) => ({
        type: 'track', event: 'Dup Test', anonymousId: `dup-${run}`, messageId: `${run}-${i}`, timestamp: new Date().toISOString(),
      })),
    };
    const body = gzipSync(JSON.stringify(batch));
    for (let i = 0; i < 2; i++) {
      const response = await post('/v1/batch', body, { 'content-encoding': 'gzip' });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ success: true, accepted: 50, rejected: 0 });
    }
    await eventually(async () => (await countOf(`anonymous_id = 'dup-${run}'`)) === 50, 20_000, 'deduplicated batch');
    const raw = await queryCommand(dataDir, `SELECT count(*) AS n FROM raw_events WHERE anonymous_id = 'dup-${run}'`);
    expect(Number(raw[0]?.n)).toBe(100);
  });

  it('answers each hostile or malformed request with a 4xx and a reason, and the lake stays untouched', async () => {
    const run = randomUUID();
    const cases: Array<[string, string | Buffer, Record<string, string>, number]> = [
      ['/v1/track', JSON.stringify({ userId: `bad-${run}`, event: 'x' }), { authorization: basicAuth('wrong-key') }, 401],
      ['/v1/track', JSON.stringify({ userId: `bad-${run}`, event: 'x' }), { authorization: '' }, 401],
      ['/v1/batch', '{"batch": [', {}, 400],
      ['/v1/batch', gzipSync('{"batch":[]}').subarray(0, 10), { 'content-encoding': 'gzip' }, 400],
      ['/v1/batch', gzipSync(Buffer.alloc(5 * 1024 * 1024, 32)), { 'content-encoding': 'gzip' }, 413],
      ['/v1/track', JSON.stringify({ userId: `bad-${run}`, event: 'x' }), { 'content-type': 'application/xml' }, 415],
      ['/v1/track', JSON.stringify({ userId: `bad-${run}` }), {}, 400],
      ['/v1/track', `{"userId":"bad-${run}","event":"x","properties":{"__proto__":{"polluted":1}}}`, {}, 400],
      ['/v1/batch', JSON.stringify({ batch: Array.from({ length: 2501 }, () => ({ type: 'page', userId: `bad-${run}` })) }), {}, 413],
      // An event over 32 KB is refused as that event, alone as in a batch; a body over 500 KB as a request.
      ['/v1/identify', JSON.stringify({ userId: `bad-${run}`, traits: { bio: 'x'.repeat(40_000) } }), {}, 400],
      ['/v1/track', JSON.stringify({ userId: `bad-${run}`, event: 'x', properties: { blob: 'x'.repeat(600_000) } }), {}, 413],
    ];
    for (const [path, body, headers, status] of cases) {
      const response = await post(path, body, headers);
      expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(status);
      const answer = (await response.json()) as { error: string; details: unknown[] };
      expect(answer.error).toEqual(expect.any(String));
      expect(answer.details.length).toBeGreaterThan(0);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const big = await post('/v1/track', JSON.stringify({ userId: `bad-${run}`, event: 'Big', properties: { blob: 'x'.repeat(40_000) } }));
    expect(await big.json()).toEqual({
      error: 'no event in the request is valid',
      details: [{ index: 0, field: '', reason: expect.stringMatching(/^event is 4\d{4} bytes; the limit is 32768$/) }],
    });
    const partial = await post('/v1/batch', JSON.stringify({ batch: [{ type: 'track', userId: `ok-${run}`, event: 'Fine' }, { type: 'track', userId: `bad-${run}` }] }));
    expect(await partial.json()).toEqual({
      success: true, accepted: 1, rejected: 1, details: [{ index: 1, field: 'event', reason: 'is required for track calls' }],
    });
    await eventually(async () => (await countOf(`user_id = 'ok-${run}'`)) === 1, 20_000, 'valid half of a partial batch');
    expect(await countOf(`user_id = 'bad-${run}'`)).toBe(0);
    const recorded = await queryCommand(dataDir, `SELECT reason FROM rejections WHERE payload LIKE '%bad-${run}%' AND field = 'event'`);
    expect(recorded.length).toBeGreaterThanOrEqual(2);
  });

  it('imports NDJSON and CSV files dropped under imports/ and reports rejected rows beside them', async () => {
    const run = randomUUID();
    const { s3 } = createClients(localRuntimeConfig(runtime.endpoints, 'test'));
    const bucket = runtime.endpoints.lakeBucket;
    const ndjson = [
      JSON.stringify({ type: 'identify', userId: `imp-${run}`, traits: { email: 'i@example.com' }, timestamp: '2026-10-01T10:00:00Z' }),
      '{not json',
      JSON.stringify({ type: 'track', userId: `imp-${run}`, timestamp: '2026-10-01T10:00:00Z' }),
    ].join('\n');
    const csv = 'type,userId,event,properties.revenue:number,timestamp\n' +
      `track,imp-${run},Order Completed,19.99,2026-10-02T10:00:00Z\n` +
      `track,imp-${run},Order Completed,abc,2026-10-02T10:00:00Z\n`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `imports/crm/${run}.ndjson`, Body: ndjson }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `imports/pos/${run}.csv`, Body: csv }));
    const result = async (key: string): Promise<Record<string, unknown> | undefined> => {
      try {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${key}.result.json` }));
        return JSON.parse(await object.Body!.transformToString()) as Record<string, unknown>;
      } catch {
        return undefined;
      }
    };
    await eventually(async () => Boolean((await result(`imports/crm/${run}.ndjson`)) && (await result(`imports/pos/${run}.csv`))), 20_000, 'import results');
    expect(await result(`imports/crm/${run}.ndjson`)).toMatchObject({
      status: 'completed', sourceId: 'crm', rows: 3, accepted: 1, rejected: 2,
      rejections: [{ index: 2, field: '', reason: 'line is not valid JSON' }, { index: 3, field: 'event', reason: 'is required for track calls' }],
    });
    expect(await result(`imports/pos/${run}.csv`)).toMatchObject({
      status: 'completed', sourceId: 'pos', rows: 2, accepted: 1, rejected: 1,
      rejections: [{ index: 3, field: 'properties.revenue', reason: '"abc" is not a number' }],
    });
    await eventually(async () => (await countOf(`user_id = 'imp-${run}'`)) === 2, 20_000, 'imported rows in the lake');
    // A scan now finds nothing to import: the results written beside the files are not import files.
    const handed: string[] = [];
    const scanner = new ImportScanner(new S3ObjectStore(s3, bucket), bucket, async (event) => {
      handed.push(...event.Records.map((r) => decodeURIComponent(r.s3.object.key)));
      return [];
    }, silentLogger, 60_000);
    await scanner.scanOnce();
    expect(handed.filter((key) => key.includes(run))).toEqual([]);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'imports/' }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!).filter((k) => k.includes(run)).sort();
    expect(keys).toEqual([`imports/crm/${run}.ndjson`, `imports/crm/${run}.ndjson.result.json`, `imports/pos/${run}.csv`, `imports/pos/${run}.csv.result.json`]);
  });
});
