import { describe, expect, it } from 'vitest';
import { InMemoryObjectStore } from '../../lambdas/adapters/memory/in-memory-object-store.js';
import { InMemoryProfileStore } from '../../lambdas/adapters/memory/in-memory-profile-store.js';
import { noTelemetry, silentLogger } from '../../lambdas/adapters/silent-observability.js';
import { identifierKey, type Identifier } from '../../lambdas/domain/identifiers.js';
import type { CollectedEvent } from '../../lambdas/domain/intake.js';
import { toLakeRow } from '../../lambdas/domain/lake.js';
import { defaultProfileConfig as config } from '../../lambdas/domain/profile-config.js';
import type { ProfileStore } from '../../lambdas/ports/profile-store.js';
import { ProfileApiError, ProfileService } from '../../lambdas/use-cases/profiles.js';
import { resolveEvents } from '../../lambdas/use-cases/resolve.js';
import { collected } from '../helpers/events.js';

const NOW = new Date('2026-11-20T00:00:00Z');
const phone: Identifier = { type: 'phone', value: '+442079460123' };

/** The resolver and the profile service over one store, with every event kept as the lake would. */
function world(store: InMemoryProfileStore = new InMemoryProfileStore()) {
  const lake: CollectedEvent[] = [];
  const deps = { store, config, telemetry: noTelemetry, logger: silentLogger, now: () => NOW };
  const lakeObjects = new InMemoryObjectStore();
  const service = new ProfileService({
    ...deps,
    lakeObjects,
    // The timeline query returns the person's events newest first; the service filters by identifiers itself.
    lake: { query: async () => [...lake].sort((a, b) => (a.timestamp < b.timestamp ? 1 : -1)).map((e) => toLakeRow(e, config) as unknown as Record<string, unknown>) },
  });
  const resolve = async (events: CollectedEvent[], on: ProfileStore = store): Promise<void> => {
    lake.push(...events);
    await resolveEvents(events, { ...deps, store: on });
  };
  const ownerOf = async (id: Identifier): Promise<string | undefined> => (await store.owners([id])).get(identifierKey(id));
  const lookup = async (id: Identifier): Promise<string> => (await service.find({ identifier: id })).state.id;
  return { store, service, resolve, ownerOf, lookup, lakeObjects };
}

/** Every owner item names a live profile that lists the identifier: no hop through a merged-away one. */
async function expectOwnersPointAtLiveProfiles(store: InMemoryProfileStore): Promise<void> {
  for await (const profile of store.scanLiveProfiles()) {
    for (const identifier of profile.identifiers) {
      expect((await store.owners([identifier])).get(identifierKey(identifier)), identifierKey(identifier)).toBe(profile.id);
    }
  }
}

describe('owner items after chained merges', () => {
  it('name the live profile after a chain of merges across batches, and a split then holds against new events', async () => {
    const { store, service, resolve, ownerOf, lookup, lakeObjects } = world();
    // Four people's worth of profiles that turn out to be one: each batch merges the last survivor away.
    await resolve([
      collected({ type: 'identify', anonymousId: 'd1', traits: { phone: phone.value }, at: '2026-11-01T10:00:00Z' }),
      collected({ type: 'identify', anonymousId: 'd2', traits: { email: 'ana@example.com' }, at: '2026-11-01T10:01:00Z' }),
      collected({ type: 'identify', anonymousId: 'd3', userId: 'ana', at: '2026-11-01T10:02:00Z' }),
      collected({ type: 'identify', anonymousId: 'd4', traits: { email: 'ana.work@example.com' }, at: '2026-11-01T10:03:00Z' }),
    ]);
    await resolve([collected({ type: 'identify', anonymousId: 'd1', traits: { email: 'ana@example.com' }, at: '2026-11-02T10:00:00Z' })]);
    await resolve([collected({ type: 'identify', anonymousId: 'd2', userId: 'ana', at: '2026-11-03T10:00:00Z' })]);
    await resolve([collected({ type: 'identify', anonymousId: 'd3', traits: { email: 'ana.work@example.com' }, at: '2026-11-04T10:00:00Z' })]);
    const person = await lookup({ type: 'user_id', value: 'ana' });
    expect((await service.view({ profileId: person })).identifiers).toHaveLength(8);
    await expectOwnersPointAtLiveProfiles(store);

    const { split } = await service.split({ identifier: { type: 'user_id', value: 'ana' } }, phone);
    expect(await ownerOf(phone)).toBe(split.id);
    // The split is in the lake for a rebuild to replay; repeating it keeps the record as it was.
    const record = lakeObjects.objects.get(`identity/splits/${split.id}.json`)!.toString();
    expect(JSON.parse(record)).toMatchObject({ kind: 'split', profileId: person, into: split.id, identifier: phone });
    await service.split({ profileId: person }, phone);
    expect(lakeObjects.objects.get(`identity/splits/${split.id}.json`)!.toString()).toBe(record);
    await resolve([collected({ type: 'identify', userId: 'ana', traits: { phone: '+44 20 7946 0123' }, at: '2026-11-05T10:00:00Z' })]);
    expect(await lookup(phone)).toBe(split.id);
    expect((await service.view({ profileId: person })).identifiers.map(identifierKey)).not.toContain('phone:+442079460123');
    expect((await service.history({ profileId: person })).history).toContainEqual(expect.objectContaining({ kind: 'link_dropped', reason: 'apart', identifier: phone }));
  });

  it('converge when two resolvers merge along the same chain at once', async () => {
    const store = new InMemoryProfileStore();
    const { service, resolve, ownerOf, lookup } = world(store);
    await resolve([
      collected({ type: 'identify', anonymousId: 'd1', traits: { phone: phone.value }, at: '2026-11-01T10:00:00Z' }),
      collected({ type: 'identify', anonymousId: 'd2', traits: { email: 'ana@example.com' }, at: '2026-11-01T10:01:00Z' }),
      collected({ type: 'identify', anonymousId: 'd3', userId: 'ana', at: '2026-11-01T10:02:00Z' }),
    ]);
    const first = await ownerOf(phone);

    // Resolver 1 (one shard) merges the phone's profile into the email's, and stalls before moving the phone's owner item...
    let release!: () => void;
    const stalled = new Promise<void>((resolve) => (release = resolve));
    let reachedRepoint!: () => void;
    const atRepoint = new Promise<void>((resolve) => (reachedRepoint = resolve));
    const slow: ProfileStore = new Proxy(store, {
      get(target, property, receiver) {
        if (property !== 'repoint') return Reflect.get(target, property, receiver) as unknown;
        return async (...args: Parameters<ProfileStore['repoint']>) => {
          reachedRepoint();
          await stalled;
          return target.repoint(...args);
        };
      },
    });
    const one = resolve([collected({ type: 'identify', anonymousId: 'd1', traits: { email: 'ana@example.com' }, at: '2026-11-02T10:00:00Z' })], slow);
    await atRepoint;
    // ...while resolver 2 (another shard) merges the email's profile into the login's, start to finish.
    await resolve([collected({ type: 'identify', anonymousId: 'd2', userId: 'ana', at: '2026-11-03T10:00:00Z' })]);
    release();
    await one;

    const person = await lookup({ type: 'user_id', value: 'ana' });
    expect(await ownerOf(phone)).not.toBe(first);
    await expectOwnersPointAtLiveProfiles(store);
    // The split moves the phone, and new events carrying both sides keep them apart.
    const { split } = await service.split({ profileId: person }, phone);
    await resolve([collected({ type: 'identify', userId: 'ana', traits: { phone: phone.value }, at: '2026-11-05T10:00:00Z' })]);
    expect(await lookup(phone)).toBe(split.id);
    expect(await lookup({ type: 'user_id', value: 'ana' })).toBe(person);
  });

  it('a split that cannot move the identifier answers an error, never success', async () => {
    const { store, service, resolve, ownerOf } = world();
    await resolve([
      collected({ type: 'identify', anonymousId: 'd1', userId: 'ana', traits: { phone: phone.value }, at: '2026-11-01T10:00:00Z' }),
      collected({ type: 'identify', anonymousId: 'd9', userId: 'bob', at: '2026-11-01T10:00:00Z' }),
    ]);
    const ana = (await service.find({ identifier: { type: 'user_id', value: 'ana' } })).state.id;
    const bob = (await service.find({ identifier: { type: 'user_id', value: 'bob' } })).state.id;
    // Another writer moves the phone's owner item to someone else between the lookup and the split's move.
    await store.repoint(phone, [ana], bob);
    const refused = await service.split({ profileId: ana }, phone).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ProfileApiError);
    expect(refused).toMatchObject({ status: 409 });
    expect(await ownerOf(phone)).toBe(bob);
    expect((await service.view({ profileId: ana })).identifiers.map(identifierKey)).toContain('phone:+442079460123');
  });
});
