import { describe, expect, it } from 'vitest';
import { InMemoryDestinationStore } from '../../lambdas/adapters/memory/in-memory-destination-store.js';
import { DestinationError, parseDestination, rulePattern, type Destination, type DestinationSecret } from '../../lambdas/domain/destinations.js';
import type { DestinationRouting } from '../../lambdas/ports/destination-store.js';
import { DestinationService } from '../../lambdas/use-cases/destinations.js';
import { testEvent, type ActivationEvent } from '../../lambdas/domain/activation-events.js';
import { matchesEventPattern } from '../../lambdas/domain/event-pattern.js';
import type { DeliveryDeadLetters, DeliveryOutcomes, EventBus } from '../../lambdas/ports/event-bus.js';
import { destinationStoreContract } from '../contract/destination-store.js';

destinationStoreContract('in memory', async () => new InMemoryDestinationStore());

const aws = { allowLoopbackHttp: false };
const local = { allowLoopbackHttp: true };
const pattern = { 'detail-type': ['Segment Entered'] };

function problems(body: unknown, policy = aws, id = 'crm'): string[] {
  try {
    parseDestination(id, body, policy);
    return [];
  } catch (error) {
    if (!(error instanceof DestinationError)) throw error;
    return error.details.map((d) => `${d.field}: ${d.reason}`);
  }
}

describe('destination definitions', () => {
  it('takes the contract\'s shape and keeps the secret apart from what is stored', () => {
    const { destination, secret } = parseDestination('crm', {
      type: 'webhook', url: 'https://hooks.example.com/cdp', auth: { type: 'api_key', header: 'x-api-key', value: 'k' },
      pattern: { 'detail-type': ['Segment Entered', 'Segment Exited'], detail: { segmentId: ['vip'] } }, traits: ['email', 'plan', 'email'],
    }, aws);
    expect(destination).toEqual({ id: 'crm', type: 'webhook', url: 'https://hooks.example.com/cdp', auth: { type: 'api_key', header: 'x-api-key' }, pattern: { 'detail-type': ['Segment Entered', 'Segment Exited'], detail: { segmentId: ['vip'] } }, traits: ['email', 'plan'] });
    expect(secret).toEqual({ type: 'api_key', header: 'x-api-key', value: 'k' });
    expect(JSON.stringify(destination)).not.toContain('"k"');
  });

  it('refuses what cannot work, naming each field', () => {
    expect(problems({ type: 'webhook', url: 'http://hooks.example.com', pattern })).toEqual(['url: must use https']);
    expect(problems({ type: 'webhook', url: 'http://127.0.0.1:9000/x', pattern }, local)).toEqual([]);
    expect(problems({ type: 'webhook', url: 'http://127.0.0.1:9000/x', pattern }, aws)).toEqual(['url: must use https']);
    expect(problems({ type: 'webhook', url: 'http://example.com/x', pattern }, local)).toEqual(['url: must use https (plain http only to 127.0.0.1 or localhost)']);
    expect(problems({ type: 'webhook', url: 'https://u:p@x.example.com', pattern })).toEqual(['url: must not carry credentials; use auth']);
    expect(problems({ type: 'sqs', queueArn: 'not-an-arn', pattern })).toEqual(['queueArn: must be an SQS queue ARN']);
    expect(problems({ type: 'lambda', functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:f', pattern: { detail: { segmentId: 'vip' } } })).toEqual([
      'pattern.detail.segmentId: must be an array of values to match, or an object for a nested field',
    ]);
    expect(problems({ type: 'sqs', queueArn: 'arn:aws:sqs:eu-west-1:123456789012:q', pattern: { detail: { destinationId: ['x'] } } })).toEqual([
      'pattern.detail.destinationId: is set by the CDP for each destination; leave it out',
    ]);
    expect(problems({ type: 'email', pattern })).toEqual(['type: must be one of "webhook", "sqs", "lambda"']);
    expect(problems({ type: 'sqs', queueArn: 'arn:aws:sqs:eu-west-1:123456789012:q', pattern }, aws, 'bad id!')).toEqual(['id: must be 1 to 64 letters, digits, - or _, starting with a letter or digit']);
  });

  it('narrows a rule to the CDP\'s events for the destination, keeping $or and nested fields', () => {
    const rule = rulePattern({ id: 'x', pattern: { $or: [{ detail: { segmentId: ['a'] } }, { 'detail-type': ['Profile Merged'] }] } });
    expect(rule).toEqual({
      $or: [
        { $or: [{ detail: { segmentId: ['a'] } }, { 'detail-type': ['Profile Merged'] }], source: ['cdp'], detail: { destinationId: ['x'] } },
        // Its test events, whatever its own pattern asks for.
        { source: ['cdp'], 'detail-type': ['CDP Test Event'], detail: { destinationId: ['x'] } },
      ],
    });
    const test = testEvent('x', new Date(0), 'test-1');
    expect(matchesEventPattern(rule, test)).toBe(true);
    expect(matchesEventPattern(rule, testEvent('y', new Date(0), 'test-2'))).toBe(false);
    expect(matchesEventPattern(rulePattern({ id: 'y', pattern: { 'detail-type': ['Segment Entered'] } }), test)).toBe(false);
  });
});

describe('the destination service', () => {
  function service(declared: Destination[] = []) {
    const applied: Array<{ id: string; secret: DestinationSecret | undefined }> = [];
    const secrets = new Set<string>();
    const routing: DestinationRouting = {
      apply: async (d, secret) => {
        applied.push({ id: d.id, secret });
        if (secret) secrets.add(d.id);
      },
      hasSecret: async (id) => secrets.has(id),
      remove: async (id) => void secrets.delete(id),
    };
    const put: ActivationEvent[] = [];
    const bus: EventBus = { putEvents: async (events) => events.map((e) => (put.push(e), { ok: true as const })) };
    const letters: Record<string, number> = { crm: 2 };
    const deadLetters: DeliveryDeadLetters = { counts: async () => ({ ...letters }), redrive: async (id) => { const n = letters[id] ?? 0; delete letters[id]; return n; } };
    const asked: Array<{ ids: readonly string[]; from: Date; to: Date }> = [];
    const deliveries: DeliveryOutcomes = {
      outcomes: async (ids, from, to) => (asked.push({ ids, from, to }), Object.fromEntries(ids.map((id) => [id, { delivered: id.length, failedAttempts: 0, deadLettered: 0 }]))),
    };
    return { applied, put, asked, svc: new DestinationService({ store: new InMemoryDestinationStore(), routing, bus, deadLetters, deliveries, declared, webhooks: aws, now: () => new Date(90_000) }) };
  }
  const body = (value?: string) => ({ type: 'webhook', url: 'https://h.example.com', auth: { type: 'api_key', header: 'x-key', ...(value ? { value } : {}) }, pattern });

  it('sends a test event for a destination that exists, and 404 for one that does not', async () => {
    const { svc, put } = service();
    await svc.put('crm', { type: 'webhook', url: 'https://h.example.com', pattern });
    const sent = await svc.sendTest('crm');
    expect(put).toEqual([expect.objectContaining({ 'detail-type': 'CDP Test Event', detail: expect.objectContaining({ destinationId: 'crm', eventId: sent.eventId, test: true }) })]);
    await expect(svc.sendTest('nope')).rejects.toMatchObject({ status: 404 });
    // Its dead letters, counted and redriven; an unknown destination is a 404, not a silent 0.
    expect(await svc.deadLetterCounts()).toEqual({ crm: 2 });
    expect(await svc.redrive('crm')).toEqual({ redriven: 2 });
    expect(await svc.deadLetterCounts()).toEqual({});
    await expect(svc.redrive('nope')).rejects.toMatchObject({ status: 404 });
  });

  it('reports deliveries for every destination, declared and stored, over whole minutes', async () => {
    const declared = parseDestination('from-file', { type: 'sqs', queueArn: 'arn:aws:sqs:eu-west-1:123456789012:q', pattern }, aws).destination;
    const { svc, asked } = service([declared]);
    await svc.put('crm', { type: 'webhook', url: 'https://h.example.com', pattern });
    expect(await svc.deliveryOutcomes(5)).toEqual({
      from: new Date(-180_000).toISOString(),
      to: new Date(120_000).toISOString(),
      deliveries: { crm: { delivered: 3, failedAttempts: 0, deadLettered: 0 }, 'from-file': { delivered: 9, failedAttempts: 0, deadLettered: 0 } },
    });
    expect(asked[0]!.ids).toEqual(['crm', 'from-file']);
    await expect(svc.deliveryOutcomes(4)).rejects.toThrow(/minutes/);
  });

  it('keeps the stored secret on a PUT without one, and asks for it when there is none to keep', async () => {
    const { svc, applied } = service();
    await expect(svc.put('a', body())).rejects.toMatchObject({ status: 400, details: [{ field: 'auth.value' }] });
    expect((await svc.put('a', body('one'))).created).toBe(true);
    expect((await svc.put('a', body())).created).toBe(false);
    expect(applied.map((a) => a.secret?.type === 'api_key' ? a.secret.value : undefined)).toEqual(['one', undefined]);
    await svc.delete('a');
    await expect(svc.get('a')).rejects.toMatchObject({ status: 404 });
  });

  it('lists destinations declared in the stack, read-only', async () => {
    const declared = parseDestination('from-file', { type: 'sqs', queueArn: 'arn:aws:sqs:eu-west-1:123456789012:q', pattern }, aws).destination;
    const { svc } = service([declared]);
    expect((await svc.list()).map((d) => [d.id, d.managedBy])).toEqual([['from-file', 'config']]);
    await expect(svc.put('from-file', body('x'))).rejects.toMatchObject({ status: 409 });
    await expect(svc.delete('from-file')).rejects.toMatchObject({ status: 409 });
  });
});
