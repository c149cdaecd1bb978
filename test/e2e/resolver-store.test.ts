import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbProfileStore } from '../../lambdas/adapters/aws/dynamodb-profile-store.js';
import { CountingTelemetry } from '../../lambdas/adapters/local/counting-telemetry.js';
import type { CollectedEvent } from '../../lambdas/domain/intake.js';
import { defaultProfileConfig } from '../../lambdas/domain/profile-config.js';
import type { ProfileState } from '../../lambdas/domain/profile.js';
import { silentLogger } from '../../lambdas/adapters/silent-observability.js';
import type { ProfileStore } from '../../lambdas/ports/profile-store.js';
import type { DeliveredRecord } from '../../lambdas/ports/event-stream.js';
import { resolveBatch, type ResolveDependencies } from '../../lambdas/use-cases/resolve.js';
import { createLocalResources } from '../../local/bootstrap.js';
import { useEmulators } from '../helpers/emulators.js';
import { collected, peopleContent } from '../helpers/events.js';

const fixture = useEmulators('resolver');
let table = fixture.settings.profilesTable;
let tableCount = 0;

/** A fresh table per test, so tests never see each other's profiles. */
beforeEach(async () => {
  table = `profiles-${++tableCount}`;
  await createLocalResources(fixture.clients, { ...fixture.settings, profilesTable: table });
});

const toRecords = (events: readonly CollectedEvent[]): DeliveredRecord[] =>
  events.map((event, i) => ({ shardId: 'shard-0', sequenceNumber: String(i), data: Buffer.from(JSON.stringify(event)).toString('base64') }));

function deps(store: ProfileStore, telemetry = new CountingTelemetry()): ResolveDependencies {
  return { store, config: defaultProfileConfig, telemetry, logger: silentLogger, now: () => new Date('2026-10-20T00:00:00Z') };
}

const storeFor = (telemetry = new CountingTelemetry()) => new DynamoDbProfileStore(fixture.clients.dynamodb, table, telemetry);

async function liveProfiles(): Promise<ProfileState[]> {
  const profiles: ProfileState[] = [];
  for await (const profile of storeFor().scanLiveProfiles()) profiles.push(profile);
  return profiles;
}

/** Every identifier resolves, through redirects if need be, to the one live profile that lists it. */
async function expectEveryIdentifierLeadsToItsProfile(profiles: readonly ProfileState[]): Promise<void> {
  const store = storeFor();
  for (const profile of profiles) {
    const owners = await store.owners(profile.identifiers);
    expect(owners.size).toBe(profile.identifiers.length);
    for (const owner of owners.values()) {
      let id: string | undefined = owner;
      for (let hops = 0; hops < 5 && id; hops++) {
        const [stored] = await store.profiles([id]);
        if (!stored?.redirect) break;
        id = stored.redirect.to;
      }
      expect(id).toBe(profile.id);
    }
  }
}

/** A small shop: three people, two devices each, anonymous browsing, sign-ups, logins and orders. */
function shop(): CollectedEvent[] {
  const events: CollectedEvent[] = [];
  for (const person of ['ana', 'bruno', 'carla']) {
    for (const device of ['laptop', 'phone']) {
      const anonymousId = `${person}-${device}`;
      events.push(collected({ anonymousId, at: '2026-10-01T10:00:00Z' }));
      events.push(collected({ anonymousId, event: 'Order Completed', properties: { revenue: 12.5 }, at: '2026-10-01T10:01:00Z' }));
      events.push(collected({ type: 'identify', anonymousId, userId: person, traits: { email: `${person}@example.com`, plan: device }, at: `2026-10-0${device === 'laptop' ? 2 : 3}T10:00:00Z` }));
      events.push(collected({ type: 'page', anonymousId, userId: person, at: '2026-10-04T10:00:00Z' }));
    }
  }
  return events;
}

/** Lets `failAfter` writes through, then throws as if the process died. */
function crashingStore(inner: ProfileStore, failAfter: number): ProfileStore {
  let writes = 0;
  const gate = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (writes++ >= failAfter) throw new Error('simulated crash');
      return fn(...args);
    };
  return {
    owners: (ids) => inner.owners(ids),
    profiles: (ids) => inner.profiles(ids),
    history: (ids) => inner.history(ids),
    ping: () => inner.ping(),
    redirect: gate((...a: Parameters<ProfileStore['redirect']>) => inner.redirect(...a)),
    freeze: gate((...a: Parameters<ProfileStore['freeze']>) => inner.freeze(...a)),
    claim: gate((...a: Parameters<ProfileStore['claim']>) => inner.claim(...a)),
    putProfile: gate((...a: Parameters<ProfileStore['putProfile']>) => inner.putProfile(...a)),
    repoint: gate((...a: Parameters<ProfileStore['repoint']>) => inner.repoint(...a)),
    release: gate((...a: Parameters<ProfileStore['release']>) => inner.release(...a)),
    appendHistory: gate((...a: Parameters<ProfileStore['appendHistory']>) => inner.appendHistory(...a)),
    pendingOutbound: (...a) => inner.pendingOutbound(...a),
    dueProfiles: (...a) => inner.dueProfiles(...a),
    scanProfiles: (...a) => inner.scanProfiles(...a),
    acknowledgeOutbound: gate((...a: Parameters<ProfileStore['acknowledgeOutbound']>) => inner.acknowledgeOutbound(...a)),
    erase: gate((...a: Parameters<ProfileStore['erase']>) => inner.erase(...a)),
  };
}

describe('resolver on DynamoDB (dynalite)', () => {
  it('builds one profile per person, coalescing writes, and redelivery changes nothing', async () => {
    const events = shop();
    const telemetry = new CountingTelemetry();
    await resolveBatch(toRecords(events), deps(storeFor(telemetry), telemetry));
    const profiles = await liveProfiles();
    expect(profiles).toHaveLength(3);
    for (const profile of profiles) {
      expect(profile.identifiers.map((i) => i.type).sort()).toEqual(['anonymous_id', 'anonymous_id', 'email', 'user_id']);
      expect(profile.computed.orders).toBe(2);
      expect(profile.computed.revenueUnits).toBe(250_000);
      expect(profile.traits.plan?.value).toBe('phone');
    }
    const totals = telemetry.snapshot();
    expect(totals.ProfileWrites).toBe(3);
    expect(totals.DynamoDbWriteUnits).toBeGreaterThan(0);
    expect(totals.DynamoDbReadUnits).toBeGreaterThan(0);

    const before = peopleContent(profiles);
    await resolveBatch(toRecords(events), deps(storeFor()));
    await resolveBatch(toRecords(events.slice(5, 17)), deps(storeFor()));
    expect(peopleContent(await liveProfiles())).toEqual(before);
  });

  it('merges across batches: a stale lookup of the merged-away profile reaches the survivor', async () => {
    const events = shop();
    for (const event of events) await resolveBatch(toRecords([event]), deps(storeFor()));
    const profiles = await liveProfiles();
    expect(profiles).toHaveLength(3);
    const history = await storeFor().history(profiles.map((p) => p.id));
    expect(history.filter((h) => h.kind === 'merge')).toHaveLength(3);
    await expectEveryIdentifierLeadsToItsProfile(profiles);
  });

  it('a crash after any write, followed by redelivery, ends in the same profiles', async () => {
    const events = shop();
    // Anonymous profiles first, so the second batch merges profiles that are already stored.
    // Carla's anonymous profiles are created and merged inside the second batch, so a crash can also leave
    // identifiers claimed by a profile that was never written.
    const early = (e: CollectedEvent) => e.type === 'track' && !e.anonymousId?.startsWith('carla');
    const batches = [events.filter(early), events.filter((e) => !early(e))];
    // Reference run.
    await resolveBatch(toRecords(batches[0]!), deps(storeFor()));
    const storedBefore = new Set((await liveProfiles()).map((p) => p.id));
    await resolveBatch(toRecords(batches[1]!), deps(storeFor()));
    const expected = peopleContent(await liveProfiles());
    // The merges of profiles stored before the batch are in the history, whatever the crash interrupted. (Two profiles
    // made and merged inside the crashed batch may come back as one profile that adopted the other's claims: no merge to record.)
    const merges = async () =>
      (await storeFor().history((await liveProfiles()).map((p) => p.id)))
        .flatMap((h) => (h.kind === 'merge' && storedBefore.has(h.absorbed) ? [`${h.profileId} <- ${h.absorbed} by ${h.reason.rule}`] : []))
        .sort();
    const expectedMerges = await merges();
    expect(expectedMerges.length).toBeGreaterThan(1);

    let crashes = 0;
    for (let failAfter = 0; ; failAfter++) {
      table = `profiles-crash-${failAfter}`;
      await createLocalResources(fixture.clients, { ...fixture.settings, profilesTable: table });
      await resolveBatch(toRecords(batches[0]!), deps(storeFor()));
      const crashed = await resolveBatch(toRecords(batches[1]!), deps(crashingStore(storeFor(), failAfter))).then(
        () => false,
        (error: Error) => error.message === 'simulated crash' || Promise.reject(error),
      );
      if (!crashed) break;
      crashes++;
      await resolveBatch(toRecords(batches[1]!), deps(storeFor()));
      const recovered = await liveProfiles();
      expect(peopleContent(recovered), `crash after ${failAfter} writes`).toEqual(expected);
      expect(await merges(), `merge history after a crash after ${failAfter} writes`).toEqual(expectedMerges);
      await expectEveryIdentifierLeadsToItsProfile(recovered);
    }
    // Freezes, claims, profile writes, repoints, releases and history: every step was interrupted once.
    expect(crashes).toBeGreaterThan(10);
  });

  it('a profile whose claims were written before a crash, merged from another shard before redelivery, stays reachable', async () => {
    const browsing = [collected({ anonymousId: 'phone', at: '2026-10-01T10:00:00Z' }), collected({ anonymousId: 'phone', at: '2026-10-01T10:01:00Z' })];
    const login = [collected({ type: 'identify', userId: 'ana', anonymousId: 'phone', at: '2026-10-01T10:02:00Z' })];
    await resolveBatch(toRecords([collected({ type: 'identify', userId: 'ana', anonymousId: 'laptop' })]), deps(storeFor()));
    // Shard 1 claims `phone` for a new profile, then dies before writing it.
    await expect(resolveBatch(toRecords(browsing), deps(crashingStore(storeFor(), 1)))).rejects.toThrow('simulated crash');
    // Shard 2 carries on: Ana logs in on the phone.
    await resolveBatch(toRecords(login), deps(storeFor()));
    // Shard 1's batch is redelivered.
    await resolveBatch(toRecords(browsing), deps(storeFor()));
    const profiles = await liveProfiles();
    expect(profiles).toHaveLength(1);
    expect(profiles[0]!.computed.eventCounts).toEqual({ $identify: 2, 'Product Viewed': 2 });
    await expectEveryIdentifierLeadsToItsProfile(profiles);
  });

  it('two resolvers merging overlapping profiles at the same time converge to what one resolver builds', async () => {
    const events = shop();
    // Each person's two devices land on different "shards", processed concurrently in small batches.
    const shardA = events.filter((e) => e.anonymousId?.endsWith('laptop'));
    const shardB = events.filter((e) => e.anonymousId?.endsWith('phone'));
    await resolveBatch(toRecords(events), deps(storeFor()));
    const expected = peopleContent(await liveProfiles());

    let conflicts = 0;
    for (let round = 0; round < 3; round++) {
      table = `profiles-race-${round}`;
      await createLocalResources(fixture.clients, { ...fixture.settings, profilesTable: table });
      const telemetry = new CountingTelemetry();
      const run = async (shard: CollectedEvent[]) => {
        for (let i = 0; i < shard.length; i += 2) await resolveBatch(toRecords(shard.slice(i, i + 2)), deps(storeFor(telemetry), telemetry));
      };
      await Promise.all([run(shardA), run(shardB), run([...shardB].reverse())]);
      expect(peopleContent(await liveProfiles())).toEqual(expected);
      conflicts += telemetry.snapshot().ProfileWriteConflicts ?? 0;
    }
    // The race is real: conditional writes did refuse stale updates, and the retries converged.
    expect(conflicts).toBeGreaterThan(0);
  });
});
