import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { comparePeople } from '../../lambdas/domain/profile-content.js';
import type { ProfileState } from '../../lambdas/domain/profile.js';
import { peopleWorkload } from '../helpers/people-workload.js';
import { sendUntilAccepted } from '../helpers/reliable-sender.js';
import { expectExactOutcome, startInProcess } from './harness.js';

/** Runs the workload through a fresh runtime in the given order and returns everyone it built. */
async function peopleBuiltFrom(workload: ReturnType<typeof peopleWorkload>, events: ReadonlyArray<Record<string, unknown>>): Promise<ProfileState[]> {
  const runtime = await startInProcess();
  try {
    await sendUntilAccepted(runtime.url, events, { batchSize: 25, concurrency: 1 });
    await expectExactOutcome(runtime, workload);
    const people: ProfileState[] = [];
    for await (const profile of runtime.composition.profiles.scanLiveProfiles()) people.push(profile);
    return people;
  } finally {
    await runtime.stop();
  }
}

/** A deterministic shuffle, so a failure can be replayed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('out-of-order and late events, end to end', () => {
  it('the same events sent in order, reversed, or shuffled (late events arriving after later ones) build the same people', async () => {
    const workload = peopleWorkload(randomUUID().slice(0, 8), 25, 16);
    const inOrder = await peopleBuiltFrom(workload, workload.events);
    for (const [name, events] of [['reversed', [...workload.events].reverse()], ['shuffled', shuffled(workload.events, 7)]] as const) {
      const other = await peopleBuiltFrom(workload, events);
      expect(comparePeople(inOrder, other), name).toMatchObject({ same: workload.people.length, onlyInA: 0, onlyInB: 0 });
    }
  }, 180_000);
});
