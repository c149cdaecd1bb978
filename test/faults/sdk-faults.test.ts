import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clients } from '../../lambdas/composition.js';
import { FaultInjector } from '../../local/fault-injection.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { eventually } from '../helpers/local-process.js';
import { interleaved, peopleWorkload } from '../helpers/people-workload.js';
import { sendUntilAccepted } from '../helpers/reliable-sender.js';
import { expectExactOutcome, expectNoDeadLetters, startInProcess } from './harness.js';

let runtime: (LocalRuntime & { dataDir: string }) | undefined;
afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
});

describe.each(['kinesis', 'dynamodb', 's3'] as const)('AWS SDK calls to %s failing', (service) => {
  it('with throttling, 5xx and timeouts (before and after the call lands): no loss, no double effect, nothing dead-lettered', async () => {
    const injector = new FaultInjector({ rate: 0.2 });
    injector.enabled = false;
    // Small archiver batches, so the lake sees many writes and so many faults.
    runtime = await startInProcess(
      { clients: (clients: Clients) => clients[service].middlewareStack.use(injector.plugin(service)) },
      { CDP_ARCHIVER_BATCH_SIZE: '25' },
    );
    injector.enabled = true;

    const started = Date.now();
    const workload = peopleWorkload(randomUUID().slice(0, 8), 40, 24);
    const sent = await sendUntilAccepted(runtime.url, interleaved(workload.events), { batchSize: 40, concurrency: 4 });
    const outcome = await expectExactOutcome(runtime, workload);
    await expectNoDeadLetters(runtime);

    const kinds = new Set([...injector.injected.keys()].map((k) => k.split('.').pop()));
    expect([...kinds].sort()).toEqual(['server-error', 'throttle', 'timeout-after', 'timeout-before']);
    expect(injector.total).toBeGreaterThanOrEqual(8);
    console.log(JSON.stringify({ service, events: workload.events.length, calls: injector.calls, injected: injector.total, retriedRequests: sent.retries, seconds: (Date.now() - started) / 1000, ...outcome }));
  }, 180_000);
});

describe('a DynamoDB outage', () => {
  it('every call failing for 3 s or more while the resolver works: past the SDK\'s retries, the poller (the ESM) retries the batches; no loss, no double effect', async () => {
    const injector = new FaultInjector({ rate: 1, kinds: ['server-error', 'throttle'] });
    injector.enabled = false;
    runtime = await startInProcess({ clients: (clients: Clients) => clients.dynamodb.middlewareStack.use(injector.plugin('dynamodb')) });
    const workload = peopleWorkload(randomUUID().slice(0, 8), 30, 20);
    const [first, ...rest] = interleaved(workload.events);
    // The write key is cached after the first request, so intake keeps accepting during the outage.
    await sendUntilAccepted(runtime.url, [first!]);
    injector.enabled = true;
    await sendUntilAccepted(runtime.url, rest, { batchSize: 40, concurrency: 4 });
    // The outage lasts until the resolver's batches have failed past the SDK's attempts (3 s at least), however slow the machine.
    const failedDeliveries = (): number => runtime!.pollers.reduce((n, p) => n + p.failedDeliveries, 0);
    await new Promise((r) => setTimeout(r, 3_000));
    await eventually(async () => failedDeliveries() > 0, 60_000, 'a resolver batch failing during the outage');
    injector.enabled = false;
    const outcome = await expectExactOutcome(runtime, workload);
    await expectNoDeadLetters(runtime);
    expect(failedDeliveries()).toBeGreaterThan(0);
    console.log(JSON.stringify({ outage: 'dynamodb', failedDeliveries: failedDeliveries(), events: workload.events.length, injected: injector.total, ...outcome }));
  }, 180_000);
});
