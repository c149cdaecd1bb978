import type { KinesisStreamEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { HandlerName } from '../../lambdas/contracts.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { interleaved, peopleWorkload } from '../helpers/people-workload.js';
import { sendUntilAccepted } from '../helpers/reliable-sender.js';
import { expectExactOutcome, expectNoDeadLetters, startInProcess } from './harness.js';

let runtime: (LocalRuntime & { dataDir: string }) | undefined;
afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
});

describe('duplicate and late delivery', () => {
  it('every batch delivered twice to the resolver and the archiver, and the previous batch again after it: profiles, counters and the lake are unchanged', async () => {
    const deliveries = new Map<string, number>();
    const previous = new Map<string, KinesisStreamEvent>();
    runtime = await startInProcess(
      {
        handler: <H extends (event: never) => Promise<unknown>>(name: HandlerName, handler: H): H => {
          if (name !== 'resolver' && name !== 'archiver') return handler;
          const consume = handler as unknown as (event: KinesisStreamEvent) => Promise<unknown>;
          const redelivering = async (event: KinesisStreamEvent): Promise<unknown> => {
            const answer = await consume(event);
            await consume(event);
            const late = previous.get(name);
            if (late) await consume(late);
            previous.set(name, event);
            deliveries.set(name, (deliveries.get(name) ?? 0) + 1);
            return answer;
          };
          return redelivering as unknown as H;
        },
      },
      // Small batches, so there are many of them to redeliver.
      { CDP_ARCHIVER_BATCH_SIZE: '50', CDP_RESOLVER_BATCH_SIZE: '50' },
    );

    const workload = peopleWorkload(randomUUID().slice(0, 8), 40, 24);
    await sendUntilAccepted(runtime.url, interleaved(workload.events), { batchSize: 40, concurrency: 4 });
    const outcome = await expectExactOutcome(runtime, workload);
    await expectNoDeadLetters(runtime);
    // The archiver's object keys come from sequence numbers, so redelivery rewrites objects instead of adding rows.
    expect(outcome.rawRows).toBe(workload.events.length);
    expect(deliveries.get('resolver')).toBeGreaterThan(10);
    expect(deliveries.get('archiver')).toBeGreaterThan(10);
    const duplicates = runtime.telemetry.snapshot().ProfileDuplicatesSkipped ?? 0;
    // Every immediate redelivery was recognised (late ones too, bar the last batch of each shard).
    expect(duplicates).toBeGreaterThanOrEqual(workload.events.length);
  });
});
