import { LakeLayout, type LakeEventColumn } from '../contracts.js';
import type { CollectedEvent } from './intake.js';

/** One row of the lake's `raw_events` table. Objects are stored as JSON text so both engines read them alike. */
export type LakeEventRow = Record<LakeEventColumn, string | null>;

const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

export function toLakeRow(event: CollectedEvent): LakeEventRow {
  return {
    message_id: event.messageId,
    type: event.type,
    event: event.event ?? null,
    name: event.name ?? null,
    category: event.category ?? null,
    user_id: event.userId ?? null,
    anonymous_id: event.anonymousId ?? null,
    group_id: event.groupId ?? null,
    previous_id: event.previousId ?? null,
    timestamp: event.timestamp,
    original_timestamp: event.originalTimestamp ?? null,
    sent_at: event.sentAt ?? null,
    received_at: event.receivedAt,
    source_id: event.sourceId,
    properties: json(event.properties),
    traits: json(event.traits),
    context: json(event.context),
    integrations: json(event.integrations),
  };
}

/** The `dt` partition of an event: the UTC date of its effective timestamp. */
export function eventDate(isoTimestamp: string): string {
  return new Date(isoTimestamp).toISOString().slice(0, 10);
}

/**
 * Key of the object holding one archived batch slice. It is a function of the shard and the
 * sequence range only, so a retried batch overwrites its own object instead of adding a copy.
 */
export function lakeObjectKey(prefix: string, dt: string, shardId: string, firstSequence: string, lastSequence: string): string {
  return `${prefix}dt=${dt}/${shardId}-${firstSequence}-${lastSequence}.ndjson.gz`;
}

export const eventsObjectKey = (dt: string, shardId: string, first: string, last: string): string =>
  lakeObjectKey(LakeLayout.eventsPrefix, dt, shardId, first, last);
