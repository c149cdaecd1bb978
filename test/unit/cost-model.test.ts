import { describe, expect, it } from 'vitest';
import { priceRun, type MeteredCounts } from '../../local/bench/cost-model.js';
import { ProfilesTableDefinition } from '../../lambdas/contracts.js';
import { IndexWriteModel, updateEffects } from '../../local/bench/index-writes.js';

const million: MeteredCounts = {
  events: 1_000_000,
  apiRequestUnits: 10_000,
  kinesisRecords: 1_000_000,
  kinesisPutPayloadUnits: 1_000_000,
  kinesisOnDemandBytesIn: 2 * 1024 ** 3,
  streamConsumers: 2,
  lambda: { ingest: { invocations: 10_000, billedMs: 200_000 }, resolver: { invocations: 5_000, billedMs: 100_000 } },
  dynamoWru: 150_000,
  dynamoRru: 100_000,
  s3Puts: 1_000,
  s3Gets: 0,
  s3Lists: 0,
  s3BytesStored: 1024 ** 3,
  eventBridgeEntries: 10_000,
  logBytes: 1024 ** 3,
};

describe('cost model', () => {
  it('prices each billable unit with the aws-cost.md sheet', () => {
    const report = priceRun(million, { eventsPerSecond: 100, shards: 1 });
    const line = (prefix: string) => report.lines.find((l) => l.item.startsWith(prefix))!.usdPerMillion;
    expect(line('API Gateway')).toBeCloseTo(0.01, 10);
    expect(line('Lambda invocations')).toBeCloseTo(0.003, 10);
    // 200 s at 0.5 GB + 100 s at 1 GB = 200 GB-s
    expect(report.lambdaGbSecondsPerMillion).toBeCloseTo(200, 10);
    expect(line('Lambda GB-seconds')).toBeCloseTo(200 * 0.0000133334, 10);
    expect(line('DynamoDB write')).toBeCloseTo(0.09375, 10);
    expect(line('DynamoDB read')).toBeCloseTo(0.0125, 10);
    expect(line('S3 PUT')).toBeCloseTo(0.005, 10);
    expect(line('S3 storage')).toBeCloseTo(0.023, 10);
    expect(line('EventBridge')).toBeCloseTo(0.01, 10);
    expect(line('CloudWatch')).toBeCloseTo(0.5, 10);
    expect(line('Kinesis PUT payload')).toBeCloseTo(0.014, 10);
    // 1 shard × 730 h × $0.015 over 100 events/s × 730 h × 3600 s
    expect(line('Kinesis shard-hours')).toBeCloseTo((10.95 / 262.8e6) * 1e6, 10);
    expect(line('Kinesis on-demand GB in')).toBeCloseTo(0.16, 10);
    expect(line('Kinesis on-demand GB read')).toBeCloseTo(0.16, 10);
  });

  it('totals are the sums of their lines, and fixed costs shrink as the rate grows', () => {
    const slow = priceRun(million, { eventsPerSecond: 100, shards: 1 });
    const common = slow.lines.filter((l) => !l.item.startsWith('Kinesis')).reduce((n, l) => n + l.usdPerMillion, 0);
    const provisioned = slow.lines.filter((l) => l.item.startsWith('Kinesis PUT') || l.item.startsWith('Kinesis shard')).reduce((n, l) => n + l.usdPerMillion, 0);
    expect(slow.totalUsdPerMillion).toBeCloseTo(common + provisioned, 10);
    const fast = priceRun(million, { eventsPerSecond: 1_000, shards: 1 });
    expect(fast.totalUsdPerMillion).toBeLessThan(slow.totalUsdPerMillion);
    expect(fast.totalUsdPerMillionOnDemand).toBeLessThan(slow.totalUsdPerMillionOnDemand);
  });
});

describe('the index write model (dynalite reports only table units)', () => {
  it('charges a put when an item enters an index, an update when a projected attribute changes, delete and put when its key moves, and a delete when it leaves', () => {
    // The profiles table's indexes, with the outbox projected, so every kind of index write shows.
    const model = new IndexWriteModel({ ...ProfilesTableDefinition, indexes: ProfilesTableDefinition.indexes!.map((i) => (i.name === 'outbox' ? { ...i, projected: ['o'] } : i)) });
    const key = { pk: { S: 'p#1' }, sk: { S: 'profile' } };
    model.written(key, { ...key, v: { N: '1' }, d: { S: 'state' } });
    expect(model.total).toBe(0);
    model.written(key, { ...key, v: { N: '2' }, o: { S: '[1]' }, ob: { S: '3' }, db: { S: '1' }, dt: { S: '2026-11-01T00:00:00.000Z' } });
    expect(Object.fromEntries(model.units)).toEqual({ outbox: 1, due: 1 });
    // The outbox projects o: a new change there is an update (a new version alone is not); the due index is keys only, and its key moved.
    model.written(key, { ...key, v: { N: '3' }, o: { S: '[1]' }, ob: { S: '3' }, db: { S: '1' }, dt: { S: '2026-11-01T00:00:00.000Z' } });
    expect(Object.fromEntries(model.units)).toEqual({ outbox: 1, due: 1 });
    model.written(key, { ...key, v: { N: '4' }, o: { S: '[1,2]' }, ob: { S: '3' }, db: { S: '1' }, dt: { S: '2026-11-02T00:00:00.000Z' } });
    expect(Object.fromEntries(model.units)).toEqual({ outbox: 2, due: 3 });
    const acknowledged = updateEffects({ UpdateExpression: 'SET #v = #v + :one REMOVE o, ob', ExpressionAttributeNames: { '#v': 'v' }, ExpressionAttributeValues: { ':one': { N: '1' } } });
    expect(acknowledged).toEqual({ removed: ['o', 'ob'], set: {} });
    model.updated(key, acknowledged.removed, acknowledged.set);
    expect(Object.fromEntries(model.units)).toEqual({ outbox: 3, due: 3 });
    model.written(key, undefined);
    expect(Object.fromEntries(model.units)).toEqual({ outbox: 3, due: 4 });
  });

  it('reads the removed and plainly set attributes of an update expression, through attribute names', () => {
    expect(
      updateEffects({
        UpdateExpression: 'SET #to = :to, #r = :r, #v = #v + :one REMOVE #db, #dt',
        ExpressionAttributeNames: { '#to': 'to', '#r': 'r', '#v': 'v', '#db': 'db', '#dt': 'dt' },
        ExpressionAttributeValues: { ':to': { S: 'a' }, ':r': { S: 'b' }, ':one': { N: '1' } },
      }),
    ).toEqual({ removed: ['db', 'dt'], set: { to: { S: 'a' }, r: { S: 'b' } } });
  });
});
