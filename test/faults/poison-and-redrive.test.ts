import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useEmulators } from '../helpers/emulators.js';
import { DynamoDbDeadLetterStore } from '../../lambdas/adapters/aws/dynamodb-dead-letter-store.js';
import { DynamoDbProfileStore } from '../../lambdas/adapters/aws/dynamodb-profile-store.js';
import { CountingTelemetry } from '../../lambdas/adapters/local/counting-telemetry.js';
import { redriveConsumers } from '../../lambdas/composition.js';
import { defaultProfileConfig } from '../../lambdas/domain/profile-config.js';
import type { ProfileState } from '../../lambdas/domain/profile.js';
import { createResolverHandler } from '../../lambdas/handlers/resolver.js';
import type { DeadLetter } from '../../lambdas/ports/dead-letter-store.js';
import { silentLogger } from '../../lambdas/adapters/silent-observability.js';
import type { ProfileStore, ProfileWrite } from '../../lambdas/ports/profile-store.js';
import { redriveDeadLetters } from '../../lambdas/use-cases/redrive.js';
import { FileDeadLetterStore } from '../../local/file-dead-letter-store.js';
import { StreamPoller } from '../../local/stream-poller.js';
import { eventually } from '../helpers/local-process.js';
import { interleaved, peopleWorkload } from '../helpers/people-workload.js';

const fixture = useEmulators('poison');
const { dataDir, settings } = fixture;

async function put(events: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  const at = new Date().toISOString();
  for (let i = 0; i < events.length; i += 100) {
    const records = events.slice(i, i + 100).map((e) => ({
      PartitionKey: 'one-shard',
      Data: Buffer.from(JSON.stringify({ receivedAt: at, sourceId: 'test', ...e })),
    }));
    await fixture.clients.kinesis.send(new PutRecordsCommand({ StreamName: settings.streamName, Records: records }));
  }
}

/** A person's live profile, following redirects from their user id. */
async function profileOf(store: DynamoDbProfileStore, userId: string): Promise<ProfileState | undefined> {
  let id = (await store.owners([{ type: 'user_id', value: userId }])).get(`user_id:${userId}`);
  for (let hops = 0; id && hops < 5; hops++) {
    const [stored] = await store.profiles([id]);
    if (stored?.state && !stored.redirect) return stored.state;
    id = stored?.redirect?.to;
  }
  return undefined;
}

/** A bug that only this data triggers: the store refuses profiles with a `crash` trait while `armed`. */
function poisonedBy(store: ProfileStore, trap: { armed: boolean }): ProfileStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'putProfile') {
        return (write: ProfileWrite) => {
          if (trap.armed && 'crash' in write.state.traits) throw new TypeError("Cannot read properties of undefined (reading 'crash')");
          return target.putProfile(write);
        };
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}

describe('a poison record', () => {
  it('is isolated and dead-lettered with its reason and stack while its batch and shard carry on; redrive applies it after the fix', async () => {
    const run = randomUUID().slice(0, 8);
    const store = new DynamoDbProfileStore(fixture.clients.dynamodb, settings.profilesTable, new CountingTelemetry());
    const deadLetters = new DynamoDbDeadLetterStore(fixture.clients.dynamodb, settings.profilesTable);
    const trap = { armed: true };
    const telemetry = new CountingTelemetry();
    const poller = new StreamPoller({
      consumer: 'resolver', client: fixture.clients.kinesis, streamName: settings.streamName, dataDir, logger: silentLogger,
      batchSize: 500, batchWindowMs: 300, maxRetryAttempts: 2,
      handler: createResolverHandler({
        store: poisonedBy(store, trap), deadLetters, config: defaultProfileConfig, telemetry, logger: silentLogger, now: () => new Date(),
      }),
    });

    const workload = peopleWorkload(run, 12, 16);
    const victim = workload.people[3]!;
    const poison = { type: 'identify', userId: victim.userId, traits: { crash: true }, messageId: `${run}-poison`, timestamp: '2026-11-20T12:00:00.000Z' };
    const events = interleaved(workload.events);
    // The poison sits in the middle of one batch, among other people's events and the victim's own.
    await put([...events.slice(0, 100), poison, ...events.slice(100)]);
    await poller.start();

    const settledOn = async (person: (typeof workload.people)[number], extra: Record<string, number> = {}): Promise<boolean> => {
      const profile = await profileOf(store, person.userId);
      const expected = { ...person.eventCounts };
      for (const [name, n] of Object.entries(extra)) expected[name] = (expected[name] ?? 0) + n;
      return JSON.stringify(sortedCounts(profile?.computed.eventCounts ?? {})) === JSON.stringify(sortedCounts(expected));
    };
    for (const person of workload.people) await eventually(() => settledOn(person), 30_000, `every other event applied for ${person.userId}`);

    const letters: DeadLetter[] = [];
    for await (const { letter } of deadLetters.list('resolver')) letters.push(letter);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ consumer: 'resolver', messageId: `${run}-poison`, reason: expect.stringContaining('TypeError') });
    expect(letters[0]!.stack).toContain('at ProfileWriter.write');
    expect(JSON.parse(Buffer.from(letters[0]!.records[0]!.data, 'base64').toString())).toMatchObject({ messageId: `${run}-poison` });
    expect(telemetry.snapshot()['RecordsDeadLettered{consumer=resolver}']).toBe(1);
    // Isolated inside the invocation: the poller (the event source mapping) never had to give up on a batch.
    const pollerLetters = [];
    for await (const letter of new FileDeadLetterStore(join(dataDir, 'dlq')).list()) pollerLetters.push(letter);
    expect(pollerLetters).toEqual([]);

    // The shard is not blocked: later events are applied.
    const later = peopleWorkload(`${run}-later`, 2, 6);
    await put(later.events);
    for (const person of later.people) await eventually(() => settledOn(person), 30_000, 'events after the poison');
    await poller.stop();

    // After the fix, a redrive applies the poison event once and removes its letter; a second redrive finds nothing.
    trap.armed = false;
    const consumers = redriveConsumers({ store, config: defaultProfileConfig, telemetry, logger: silentLogger, now: () => new Date() });
    const report = await redriveDeadLetters([deadLetters], consumers);
    expect(report).toMatchObject({ letters: 1, redriven: 1, records: 1, failed: [] });
    expect(await settledOn(victim, { $identify: 1 })).toBe(true);
    expect((await profileOf(store, victim.userId))!.traits.crash?.value).toBe(true);
    expect(await redriveDeadLetters([deadLetters], consumers)).toMatchObject({ letters: 0, redriven: 0 });
  });
});

const sortedCounts = (counts: Readonly<Record<string, number>>): Array<[string, number]> =>
  Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1));
