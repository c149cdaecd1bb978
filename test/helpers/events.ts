import { randomUUID } from 'node:crypto';
import type { CollectedEvent } from '../../lambdas/domain/intake.js';
import type { ProfileState } from '../../lambdas/domain/profile.js';

let counter = 0;

/** A collected event (as the stream carries it) with sensible defaults. */
export function collected(fields: Partial<CollectedEvent> & { at?: string }): CollectedEvent {
  const { at, ...rest } = fields;
  const timestamp = at ?? rest.timestamp ?? '2026-10-01T10:00:00.000Z';
  return {
    type: 'track',
    event: 'Product Viewed',
    messageId: `m-${++counter}-${randomUUID()}`,
    receivedAt: timestamp,
    sourceId: 'test',
    ...rest,
    timestamp,
  };
}

/** What a person's profile says, without the ids and bookkeeping that legitimately vary. */
export function profileContent(profile: ProfileState): unknown {
  return {
    identifiers: profile.identifiers.map((id) => `${id.type}:${id.value}@${id.since}`).sort(),
    traits: Object.fromEntries(Object.entries(profile.traits).sort(([a], [b]) => (a < b ? -1 : 1))),
    computed: {
      ...profile.computed,
      eventCounts: Object.fromEntries(Object.entries(profile.computed.eventCounts).sort(([a], [b]) => (a < b ? -1 : 1))),
      days: Object.fromEntries(Object.entries(profile.computed.days).sort(([a], [b]) => (a < b ? -1 : 1))),
    },
  };
}

export function peopleContent(profiles: readonly ProfileState[]): unknown[] {
  return profiles
    .map(profileContent)
    .map((c) => JSON.stringify(c))
    .sort()
    .map((c) => JSON.parse(c) as unknown);
}
