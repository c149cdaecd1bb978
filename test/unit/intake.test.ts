import { describe, expect, it } from 'vitest';
import { RequestRejectedError } from '../../lambdas/domain/errors.js';
import { validateEvent } from '../../lambdas/domain/events.js';
import { correctClockSkew, enrichEvent, partitionKeyOf } from '../../lambdas/domain/intake.js';
import { parseIntakeBody, prepareEvents } from '../../lambdas/domain/intake-request.js';
import { parseWellFormedJson } from '../../lambdas/domain/json-safety.js';
import { rejectionsByField } from '../../lambdas/use-cases/ingest.js';

const stamps = { receivedAt: new Date('2026-10-01T12:00:00.000Z'), sourceId: 'web', newMessageId: () => 'generated-id' };

describe('validateEvent', () => {
  it('accepts a minimal track call', () => {
    expect(validateEvent({ type: 'track', event: 'Signed Up', userId: 'u1' }).ok).toBe(true);
  });

  it.each([
    [{ type: 'track', userId: 'u1' }, 'event', 'is required for track calls'],
    [{ type: 'page' }, 'userId', 'userId or anonymousId is required'],
    [{ type: 'identify', userId: 'u1', traits: [] }, 'traits', 'must be an object'],
    [{ type: 'track', event: 'x', userId: 'u1', properties: 'a' }, 'properties', 'must be an object'],
    [{ type: 'page', userId: 'u1', context: 5 }, 'context', 'must be an object'],
    [{ type: 'page', userId: 'u1', timestamp: 'yesterday' }, 'timestamp', 'ISO-8601'],
    [{ type: 'page', userId: 'u1', messageId: 'm'.repeat(101) }, 'messageId', 'at most 100'],
    [{ type: 'bogus', userId: 'u1' }, 'type', 'must be one of'],
    [{ type: 'alias', userId: 'u1' }, 'previousId', 'required'],
    [{ type: 'page', userId: 'u1', properties: JSON.parse('{"__proto__":{"x":1}}') }, 'properties.__proto__', 'reserved'],
  ])('refuses %j at %s', (event, field, reason) => {
    const result = validateEvent(event, 4);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toContainEqual(expect.objectContaining({ index: 4, field, reason: expect.stringContaining(reason) }));
  });

  it('refuses an event over 32 KB', () => {
    const result = validateEvent({ type: 'track', event: 'x', userId: 'u', properties: { blob: 'x'.repeat(33 * 1024) } });
    expect(result.ok).toBe(false);
  });

  it('refuses nesting deeper than the limit without overflowing the stack', () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 5000; i++) deep = (deep.a = {});
    const result = validateEvent({ type: 'page', userId: 'u', properties: root });
    expect(result.ok).toBe(false);
  });

  it('stores numeric ids as strings', () => {
    const result = validateEvent({ type: 'identify', userId: 42 });
    expect(result.ok && result.event.userId).toBe('42');
  });
});

describe('clock skew', () => {
  it('moves the timestamp by the client clock offset', () => {
    // client clock is 1 hour behind: it says sentAt 11:00 when the server sees 12:00
    const corrected = correctClockSkew(stamps.receivedAt, '2026-10-01T10:59:50.000Z', '2026-10-01T11:00:00.000Z');
    expect(corrected.toISOString()).toBe('2026-10-01T11:59:50.000Z');
  });

  it('uses the timestamp as-is without sentAt, and receivedAt without either', () => {
    expect(correctClockSkew(stamps.receivedAt, '2026-09-30T00:00:00Z').toISOString()).toBe('2026-09-30T00:00:00.000Z');
    expect(correctClockSkew(stamps.receivedAt).toISOString()).toBe('2026-10-01T12:00:00.000Z');
  });

  it('stamps receivedAt, source and a messageId, keeping the original timestamp', () => {
    const validated = validateEvent({ type: 'track', event: 'x', anonymousId: 'a', timestamp: '2026-10-01T10:00:00Z' });
    if (!validated.ok) throw new Error('invalid');
    const result = enrichEvent(validated.event, { ...stamps, batchSentAt: '2026-10-01T10:00:10Z' });
    expect(result).toEqual({
      ok: true,
      event: expect.objectContaining({
        messageId: 'generated-id',
        sourceId: 'web',
        receivedAt: '2026-10-01T12:00:00.000Z',
        timestamp: '2026-10-01T11:59:50.000Z',
        originalTimestamp: '2026-10-01T10:00:00Z',
        sentAt: '2026-10-01T10:00:10Z',
      }),
    });
  });

  it('refuses events that land more than a day in the future', () => {
    const validated = validateEvent({ type: 'page', anonymousId: 'a', timestamp: '2026-10-05T00:00:00Z' });
    if (!validated.ok) throw new Error('invalid');
    const result = enrichEvent(validated.event, stamps, 2);
    expect(result).toEqual({ ok: false, issues: [expect.objectContaining({ index: 2, field: 'timestamp' })] });
  });
});

describe('partition keys', () => {
  it('keys by device identity first so a device stays in order', () => {
    expect(partitionKeyOf({ anonymousId: 'a1', userId: 'u1', messageId: 'm' })).toBe('a1');
    expect(partitionKeyOf({ userId: 'u1', messageId: 'm' })).toBe('u1');
  });

  it('hashes identities longer than Kinesis allows', () => {
    expect(partitionKeyOf({ userId: 'u'.repeat(300), messageId: 'm' })).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('parseIntakeBody / prepareEvents', () => {
  it('reports each bad event with its index and accepts the rest', () => {
    const body = parseIntakeBody('batch', JSON.stringify({ batch: [{ type: 'track', userId: 'u', event: 'A' }, { type: 'track', userId: 'u' }] }));
    const prepared = prepareEvents(body, stamps);
    expect(prepared.accepted).toHaveLength(1);
    expect(prepared.rejectedIndexes).toEqual([1]);
    expect(prepared.issues).toEqual([{ index: 1, field: 'event', reason: 'is required for track calls' }]);
  });

  it('takes the call type from the route and merges batch context under event context', () => {
    const body = parseIntakeBody('batch', JSON.stringify({ context: { ip: '1.1.1.1', locale: 'pt' }, batch: [{ type: 'page', userId: 'u', context: { locale: 'en' } }] }));
    expect(prepareEvents(body, stamps).accepted[0]?.context).toEqual({ ip: '1.1.1.1', locale: 'en' });
    const single = parseIntakeBody('identify', JSON.stringify({ type: 'track', userId: 'u' }));
    expect(single.rawEvents[0]).toMatchObject({ type: 'identify' });
  });

  it.each([
    ['not json', 400],
    ['[1,2]', 400],
    ['{"batch":{}}', 400],
    ['{"batch":[]}', 400],
    [JSON.stringify({ batch: Array.from({ length: 2501 }, () => ({})) }), 413],
    [JSON.stringify({ batch: [{ type: 'page', userId: 'u', properties: { x: 'y'.repeat(510 * 1024) } }] }), 413],
  ])('rejects the whole request %#', (body, status) => {
    expect(() => parseIntakeBody('batch', body)).toThrow(RequestRejectedError);
    try {
      parseIntakeBody('batch', body);
    } catch (error) {
      expect((error as RequestRejectedError).status).toBe(status);
      expect((error as RequestRejectedError).details.length).toBeGreaterThan(0);
    }
  });
});

describe('parseWellFormedJson', () => {
  it('replaces lone surrogates in keys and values with U+FFFD and keeps real pairs', () => {
    const text = '{"a":"x\\ud800y","\\udc00k":["\\ud83d\\ude00","\\udbff"],"n":{"deep":"\\ud800"}}';
    expect(parseWellFormedJson(text)).toEqual({ a: 'x\ufffdy', '\ufffdk': ['😀', '\ufffd'], n: { deep: '\ufffd' } });
    expect(JSON.stringify(parseWellFormedJson(text))).not.toMatch(/\\ud[89a-f]/i);
    expect(parseWellFormedJson('"\\ud800"')).toBe('\ufffd');
    expect(parseWellFormedJson('{"plain":"😀"}')).toEqual({ plain: '😀' });
  });
});

describe('rejectionsByField', () => {
  it('counts refusals by top-level field, with unusual fields as "other", so the metric dimension stays bounded', () => {
    const issues = [
      { field: 'event', reason: 'is required' },
      { field: 'properties.a.b', reason: 'too deep' },
      { field: 'properties[0]', reason: 'x' },
      { field: 'zz-custom', reason: 'x' },
      { field: '', reason: 'not an object' },
    ];
    expect(Object.fromEntries(rejectionsByField(issues))).toEqual({ event: 2, properties: 2, other: 1 });
  });
});

describe('analytics.js settings', () => {
  it('points analytics.js at the API it was fetched from, behind a proxy too, and refuses a host that is not one', async () => {
    const { analyticsJsSettings, apiHostOf } = await import('../../lambdas/domain/sdk-settings.js');
    expect(apiHostOf({ host: '127.0.0.1:4000' })).toEqual({ apiHost: '127.0.0.1:4000/v1', protocol: 'http' });
    expect(apiHostOf({ host: 'abc.execute-api.eu-west-1.amazonaws.com', forwardedProto: 'https' })).toEqual({ apiHost: 'abc.execute-api.eu-west-1.amazonaws.com/v1', protocol: 'https' });
    expect(apiHostOf({ host: 'internal:8080', forwardedHost: 'cdp.example.com, proxy.local', forwardedProto: 'https,http' })).toEqual({ apiHost: 'cdp.example.com/v1', protocol: 'https' });
    for (const host of ['evil.com/steal?', 'a b', '', 'x.com@y.com']) expect(apiHostOf({ host })).toBeUndefined();
    expect(analyticsJsSettings({ writeKey: 'wk', apiHost: 'h/v1', protocol: 'https' })).toMatchObject({ integrations: { 'Segment.io': { apiKey: 'wk', apiHost: 'h/v1', protocol: 'https' } } });
  });
});

describe('empty identifiers', () => {
  it('reads an empty userId or anonymousId as none, as RudderStack\'s browser SDK sends them, and still needs one of the two', () => {
    const anonymous = validateEvent({ type: 'track', event: 'Viewed', userId: '', anonymousId: 'device-1' });
    expect(anonymous).toMatchObject({ ok: true, event: { userId: null, anonymousId: 'device-1' } });
    const neither = validateEvent({ type: 'track', event: 'Viewed', userId: '', anonymousId: '' }, 0);
    expect(neither).toEqual({ ok: false, issues: [{ index: 0, field: 'userId', reason: 'userId or anonymousId is required' }] });
  });
});
