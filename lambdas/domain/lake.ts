import { LakeLayout, type LakeEventColumn } from '../contracts.js';
import { identifierKey, identifiersOf } from './identifiers.js';
import { decodeCollectedEvent, type CollectedEvent } from './intake.js';
import type { ProfileConfig } from './profile-config.js';

/** One row of the lake's `raw_events` table. Objects are stored as JSON text so both engines read them alike. */
export type LakeEventRow = Record<LakeEventColumn, string | null>;

const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

/** An event as a lake row; `config` decides its strongest identifier (the `identifier` column). */
export function toLakeRow(event: CollectedEvent, config: ProfileConfig): LakeEventRow {
  const strongest = identifiersOf(event, config)[0];
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
    identifier: strongest ? identifierKey(strongest) : null,
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

/** The event a lake row holds (the inverse of toLakeRow), or undefined for a row that is not one. */
export function fromLakeRow(row: Readonly<Record<string, unknown>>): CollectedEvent | undefined {
  const text = (key: LakeEventColumn): string | undefined => (typeof row[key] === 'string' && row[key] !== '' ? (row[key]) : undefined);
  const object = (key: LakeEventColumn): unknown => {
    const value = text(key);
    return value === undefined ? undefined : (JSON.parse(value) as unknown);
  };
  try {
    return decodeCollectedEvent(
      JSON.stringify({
        type: text('type'),
        messageId: text('message_id'),
        userId: text('user_id'),
        anonymousId: text('anonymous_id'),
        previousId: text('previous_id'),
        groupId: text('group_id'),
        event: text('event'),
        name: text('name'),
        category: text('category'),
        timestamp: text('timestamp'),
        originalTimestamp: text('original_timestamp'),
        sentAt: text('sent_at'),
        receivedAt: text('received_at'),
        sourceId: text('source_id'),
        context: object('context') ?? undefined,
        traits: object('traits') ?? undefined,
        properties: object('properties') ?? undefined,
        integrations: object('integrations') ?? undefined,
      }),
    );
  } catch {
    return undefined;
  }
}

const IntegerTypes = /^(tinyint|smallint|integer|int|bigint|hugeint|ubigint|uinteger|usmallint|utinyint|uhugeint)$/;
const FractionTypes = /^(real|float|double|decimal)/;

/**
 * A query result's value as JSON, by its column's SQL type (Athena's or DuckDB's name): numbers
 * for numeric columns, booleans for boolean ones, text for the rest. Integers beyond 2^53, which a
 * JavaScript number cannot hold exactly, stay text.
 */
export function typedLakeValue(sqlType: string, value: unknown): unknown {
  if (value === null || value === undefined || typeof value !== 'string') return value ?? null;
  const type = sqlType.trim().toLowerCase();
  if (IntegerTypes.test(type)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value;
  }
  if (FractionTypes.test(type)) {
    const n = Number(value);
    return Number.isFinite(n) ? n : value;
  }
  if (type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  return value;
}
