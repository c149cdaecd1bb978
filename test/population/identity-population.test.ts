import { Analytics } from '@segment/analytics-node';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { pipelineProgress, type LocalRuntime } from '../../local/runtime.js';
import { startInProcess } from '../faults/harness.js';
import { identityPopulation, scorePairs, type PopulationCall } from '../helpers/identity-population.js';
import { eventually } from '../helpers/local-process.js';

/** People in the population; `POPULATION_PEOPLE=1500 npm run test:population` for the full size. */
const People = Number(process.env.POPULATION_PEOPLE ?? 60);
const admin = { authorization: 'Bearer dev-admin-token', 'content-type': 'application/json' };

let runtime: (LocalRuntime & { dataDir: string }) | undefined;
afterAll(async () => runtime?.stop());

/** Sends the calls through both SDKs, alternating at random, and waits until the resolver has seen them all. */
async function send(runtime: LocalRuntime, calls: readonly PopulationCall[]): Promise<void> {
  const before = pipelineProgress(runtime).resolved;
  const segment = new Analytics({ writeKey: 'dev-write-key', host: runtime.url, flushAt: 100, flushInterval: 200, maxRetries: 5 });
  const rudder = new RudderAnalytics('dev-write-key', { dataPlaneUrl: runtime.url, flushAt: 100, flushInterval: 200, logLevel: 'error' });
  calls.forEach(({ call, message }, i) => {
    const messageId = randomUUID();
    // Both SDKs take the same call shapes; which one sends an event is the population's shuffle.
    const client = (i * 7919) % 2 === 0 ? segment : rudder;
    (client[call] as (m: Record<string, unknown>) => void).call(client, { ...message, messageId, timestamp: new Date(String(message.timestamp)) });
  });
  await Promise.all([segment.closeAndFlush(), new Promise<void>((resolve) => void rudder.flush(() => resolve()))]);
  await eventually(async () => pipelineProgress(runtime).resolved - before >= calls.length, 120_000, `${calls.length} events resolved`);
}

describe(`a messy population of ${People} people through both SDKs`, () => {
  it('resolves every identifier to its true person, splits included: precision 1.0 and recall 1.0', async () => {
    const population = identityPopulation({ people: People, run: randomUUID().slice(0, 6) });
    runtime = await startInProcess({}, { CDP_PROFILE_CONFIG: JSON.stringify(population.profileConfig), CDP_RESOLVER_BATCH_WINDOW_MS: '100' });
    await send(runtime, population.before);

    const refused: string[] = [];
    for (const split of population.splits) {
      // A 409 means the profile changed under the split (the publisher acknowledging its outbox, say): retried, as its message asks.
      let response: Response;
      for (let attempt = 1; ; attempt++) {
        response = await fetch(`${runtime.url}/v1/profiles/${split.ref}/split`, { method: 'POST', headers: admin, body: JSON.stringify({ identifier: split.identifier }) });
        if (response.status !== 409 || attempt === 3) break;
      }
      if (response.status !== 200) refused.push(`${split.ref} ${split.identifier.value}: ${response.status} ${await response.text()}`);
    }
    await send(runtime, population.after);

    const resolved = new Map<string, string | undefined>();
    const listed = new Map<string, Set<string>>();
    for (const key of population.truth.keys()) {
      const response = await fetch(`${runtime.url}/v1/profiles/${encodeURIComponent(key)}`, { headers: admin });
      if (response.status !== 200) {
        resolved.set(key, undefined);
        continue;
      }
      const view = (await response.json()) as { id: string; identifiers: Array<{ type: string; value: string }> };
      resolved.set(key, view.id);
      listed.set(view.id, new Set(view.identifiers.map((i) => `${i.type}:${i.value}`)));
    }
    // A lookup and the profile it answers with agree: the profile lists the identifier it was found by.
    const inconsistent = [...resolved].filter(([key, id]) => id !== undefined && !listed.get(id)!.has(key)).map(([key]) => key);
    const score = scorePairs(population.truth, resolved);
    console.log(`population of ${People}: ${JSON.stringify({ ...score, splitsRefused: refused.length, inconsistent: inconsistent.length })}`);
    expect(refused).toEqual([]);
    expect(inconsistent).toEqual([]);
    expect(score).toMatchObject({ precision: 1, recall: 1, unresolved: 0 });
  }, 30 * 60_000);
});
