import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clients } from '../../lambdas/composition.js';
import { FaultInjector } from '../../local/fault-injection.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../local/webhook-receiver.js';
import { eventually } from '../helpers/local-process.js';
import { sendUntilAccepted } from '../helpers/reliable-sender.js';
import { startInProcess } from './harness.js';

let runtime: (LocalRuntime & { dataDir: string }) | undefined;
let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await runtime?.stop();
  await receiver?.close();
  runtime = undefined;
});

describe('activation with DynamoDB calls failing', () => {
  it('delivers every membership change under one id, however reads of the outbox and acknowledgements fail (answers lost after the write included)', async () => {
    const injector = new FaultInjector({ rate: 0.2 });
    injector.enabled = false;
    runtime = await startInProcess({ clients: (clients: Clients) => clients.dynamodb.middlewareStack.use(injector.plugin('dynamodb')) }, { CDP_SEGMENTER_INTERVAL_MS: '300' });
    receiver = await startWebhookReceiver();
    const admin = { authorization: 'Bearer dev-admin-token', 'content-type': 'application/json' };
    const put = async (path: string, body: unknown) => expect((await fetch(`${runtime!.url}${path}`, { method: 'PUT', headers: admin, body: JSON.stringify(body) })).status).toBeLessThan(300);
    await put('/v1/segments/buyers', { name: 'Buyers', condition: { event: 'Order Completed' } });
    await eventually(async () => ((await (await fetch(`${runtime!.url}/v1/segments/buyers`, { headers: admin })).json()) as { status: string }).status === 'ready', 60_000, 'segment ready');
    await put('/v1/destinations/hook', { type: 'webhook', url: `${receiver.url}/hook`, pattern: { 'detail-type': ['Segment Entered'] } });

    injector.enabled = true;
    const run = randomUUID().slice(0, 6);
    const people = Array.from({ length: 40 }, (_, i) => `f${i}-${run}`);
    await sendUntilAccepted(runtime.url, people.map((userId) => ({ type: 'track', userId, event: 'Order Completed', messageId: `${userId}-order`, properties: { revenue: 5 } })), { batchSize: 10, concurrency: 2 });
    const idsOf = (userId: string) => new Set(receiver!.deliveries.filter((d) => (d.event.detail.identifiers as Array<{ value: string }>).some((i) => i.value === userId)).map((d) => d.event.detail.eventId));
    await eventually(async () => people.every((p) => idsOf(p).size > 0), 90_000, 'every entry delivered').catch((error: Error) => {
      throw new Error(`${error.message}: ${people.filter((p) => idsOf(p).size > 0).length} of ${people.length}`);
    });
    expect(people.map((p) => idsOf(p).size)).toEqual(people.map(() => 1));
    expect(injector.total).toBeGreaterThanOrEqual(8);
    console.log(JSON.stringify({ people: people.length, deliveries: receiver.deliveries.length, calls: injector.calls, injected: injector.total }));
  }, 180_000);
});
