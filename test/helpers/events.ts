import { randomUUID } from 'node:crypto';
import type { CollectedEvent } from '../../lambdas/domain/intake.js';

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

export { personContent as profileContent, peopleContent } from '../../lambdas/domain/profile-content.js';
