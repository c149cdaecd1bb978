import { describe, expect, it } from 'vitest';
import { InMemoryObjectStore } from '../../lambdas/adapters/memory/in-memory-object-store.js';
import { InMemoryProfileStore } from '../../lambdas/adapters/memory/in-memory-profile-store.js';
import { noTelemetry, silentLogger } from '../../lambdas/adapters/silent-observability.js';
import { IdentityGraph } from '../../lambdas/domain/identity-graph.js';
import type { CollectedEvent } from '../../lambdas/domain/intake.js';
import { toLakeRow } from '../../lambdas/domain/lake.js';
import { defaultProfileConfig as config } from '../../lambdas/domain/profile-config.js';
import { ProfileService } from '../../lambdas/use-cases/profiles.js';
import { resolveEvents } from '../../lambdas/use-cases/resolve.js';
import { collected } from '../helpers/events.js';

const NOW = new Date('2026-11-20T00:00:00Z');

describe('every link explained', () => {
  it('a person who joined three devices in one batch has each identifier explained, in the profile and in /merges', async () => {
    const store = new InMemoryProfileStore();
    const lake: CollectedEvent[] = [];
    const deps = { store, config, telemetry: noTelemetry, logger: silentLogger, now: () => NOW };
    const service = new ProfileService({ ...deps, lakeObjects: new InMemoryObjectStore(), lake: { query: async () => lake.map((e) => toLakeRow(e, config) as unknown as Record<string, unknown>) } });
    const events = [
      collected({ messageId: 'm1', type: 'identify', anonymousId: 'laptop', traits: { email: 'ana@example.com' }, at: '2026-11-01T10:00:00Z' }),
      collected({ messageId: 'm2', type: 'identify', anonymousId: 'phone', traits: { phone: '+351 912 345 678' }, at: '2026-11-01T10:01:00Z' }),
      collected({ messageId: 'm3', type: 'identify', anonymousId: 'tablet', userId: 'ana', at: '2026-11-01T10:02:00Z' }),
      collected({ messageId: 'm4', type: 'identify', userId: 'ana', traits: { email: 'ana@example.com', phone: '+351912345678' }, at: '2026-11-01T10:03:00Z' }),
      collected({ messageId: 'm5', type: 'alias', userId: 'ana', previousId: 'old-laptop', at: '2026-11-01T10:04:00Z' }),
    ];
    lake.push(...events);
    await resolveEvents(events, deps);

    const view = await service.view({ identifier: { type: 'user_id', value: 'ana' } });
    const by = Object.fromEntries(view.identifiers.map((i) => [`${i.type}:${i.value}`, i.linkedBy]));
    expect(Object.keys(by)).toEqual(['user_id:ana', 'email:ana@example.com', 'phone:+351912345678', 'anonymous_id:laptop', 'anonymous_id:old-laptop', 'anonymous_id:phone', 'anonymous_id:tablet']);
    // The login's profile started with it; the email's and the phone's profiles were merged in by m4.
    expect(by['user_id:ana']).toEqual({ rule: 'first', messageId: 'm3', at: '2026-11-01T10:02:00.000Z' });
    expect(by['anonymous_id:tablet']).toEqual({ rule: 'identify', messageId: 'm3', at: '2026-11-01T10:02:00.000Z', with: { type: 'user_id', value: 'ana' } });
    expect(by['email:ana@example.com']).toMatchObject({ rule: 'merge', messageId: 'm4', with: { type: 'email', value: 'ana@example.com' }, from: expect.any(String) });
    expect(by['anonymous_id:laptop']).toMatchObject({ rule: 'merge', messageId: 'm4', with: { type: 'email', value: 'ana@example.com' } });
    expect(by['anonymous_id:phone']).toMatchObject({ rule: 'merge', messageId: 'm4', with: { type: 'phone', value: '+351912345678' } });
    expect(by['anonymous_id:old-laptop']).toEqual({ rule: 'alias', messageId: 'm5', at: '2026-11-01T10:04:00.000Z', with: { type: 'user_id', value: 'ana' } });

    // /merges: one entry per link, beside the merges, which say how each absorbed identifier had been linked.
    const { history } = await service.history({ identifier: { type: 'user_id', value: 'ana' } });
    expect(history.filter((h) => h.kind === 'linked')).toHaveLength(7);
    const merges = history.filter((h) => h.kind === 'merge');
    expect(merges).toHaveLength(2);
    expect(merges.flatMap((m) => m.absorbedIdentifiers)).toEqual(expect.arrayContaining([
      { type: 'email', value: 'ana@example.com', by: { rule: 'first', messageId: 'm1', at: Date.parse('2026-11-01T10:00:00Z') } },
      { type: 'anonymous_id', value: 'laptop', by: { rule: 'identify', messageId: 'm1', at: Date.parse('2026-11-01T10:00:00Z'), with: 'email:ana@example.com' } },
    ]));

    // A split explains the identifier it moved.
    const { split } = await service.split({ identifier: { type: 'user_id', value: 'ana' } }, { type: 'anonymous_id', value: 'old-laptop' });
    expect(split.identifiers[0]!.linkedBy).toEqual({ rule: 'split', at: NOW.toISOString(), from: view.id });
  });

  it('an identifier claimed by a write that never finished is explained as recovered, until an event explains it better', () => {
    const graph = new IdentityGraph(config, NOW.getTime());
    graph.loadOwner({ type: 'anonymous_id', value: 'device-a' }, 'orphan');
    graph.adoptOrphans();
    expect(graph.profile('orphan')!.identifiers.map((i) => i.by)).toEqual([{ rule: 'recovered', at: NOW.getTime() }]);
    graph.apply(collected({ type: 'identify', anonymousId: 'device-a', userId: 'u-1', messageId: 'm9', at: '2026-11-02T00:00:00Z' }));
    const at = Date.parse('2026-11-02T00:00:00Z');
    expect(graph.profile('orphan')!.identifiers.map((i) => [i.type, i.by])).toEqual([
      ['user_id', { rule: 'identify', messageId: 'm9', at, with: 'anonymous_id:device-a' }],
      ['anonymous_id', { rule: 'first', messageId: 'm9', at }],
    ]);
  });
});
