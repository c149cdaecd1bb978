import { Catalog, LakeEventColumns } from '../contracts.js';
import { DomainError } from './errors.js';
import { HashedValuePattern, identifierKey, type Identifier } from './identifiers.js';

/** A standard SQL string literal; the only way identifier values enter lake SQL. */
export const sqlString = (value: string): string => `'${value.replaceAll("'", "''")}'`;

export interface TimelineCursor {
  readonly timestamp: string;
  readonly messageId: string;
}

export class InvalidCursorError extends DomainError {}

export const encodeCursor = (cursor: TimelineCursor): string => Buffer.from(JSON.stringify([cursor.timestamp, cursor.messageId])).toString('base64url');

export function decodeCursor(text: string): TimelineCursor {
  try {
    const [timestamp, messageId] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (typeof timestamp === 'string' && typeof messageId === 'string' && !Number.isNaN(Date.parse(timestamp))) return { timestamp, messageId };
  } catch {
    // fall through to the error below
  }
  throw new InvalidCursorError('cursor is not one this API returned');
}

export interface TimelineQuery {
  readonly identifiers: readonly Identifier[];
  /** The person's first event; partitions before it are not scanned. */
  readonly since?: number;
  readonly cursor?: TimelineCursor;
  readonly limit: number;
}

/**
 * SQL for a person's events, newest first, keyset-paginated. Events are found by the identifiers
 * the lake has columns for (user_id, anonymous_id), by identify traits' email, and, for types
 * stored hashed, by the `identifier` column. Partition
 * bounds (`dt`) keep Athena's scan to the person's active days.
 */
export function timelineSql(query: TimelineQuery): string | undefined {
  const readable = query.identifiers.filter((id) => !HashedValuePattern.test(id.value));
  const values = (type: string) => readable.filter((id) => id.type === type).map((id) => sqlString(id.value));
  // A type stored hashed has no column to match: the event's strongest identifier, archived hashed, is.
  const hashed = query.identifiers.filter((id) => HashedValuePattern.test(id.value)).map((id) => sqlString(identifierKey(id)));
  const userIds = values('user_id');
  const anonymousIds = values('anonymous_id');
  const emails = values('email');
  const matches = [
    userIds.length ? `user_id IN (${userIds.join(', ')})` : '',
    anonymousIds.length ? `anonymous_id IN (${anonymousIds.join(', ')})` : '',
    emails.length ? `lower(trim(json_extract_scalar(traits, '$.email'))) IN (${emails.join(', ')})` : '',
    hashed.length ? `identifier IN (${hashed.join(', ')})` : '',
  ].filter(Boolean);
  if (matches.length === 0) return undefined;
  const where = [`(${matches.join(' OR ')})`];
  if (query.since !== undefined && Number.isFinite(query.since)) where.push(`dt >= ${sqlString(new Date(query.since).toISOString().slice(0, 10))}`);
  if (query.cursor) {
    const { timestamp, messageId } = query.cursor;
    where.push(`dt <= ${sqlString(timestamp.slice(0, 10))}`);
    where.push(`("timestamp" < ${sqlString(timestamp)} OR ("timestamp" = ${sqlString(timestamp)} AND message_id < ${sqlString(messageId)}))`);
  }
  return `SELECT ${LakeEventColumns.map((c) => `"${c}"`).join(', ')}
FROM ${Catalog.eventsView}
WHERE ${where.join('\n  AND ')}
ORDER BY "timestamp" DESC, message_id DESC
LIMIT ${Math.trunc(query.limit) + 1}`;
}

export interface TimelineEvent {
  readonly messageId: string;
  readonly type: string;
  readonly event?: string;
  readonly name?: string;
  readonly userId?: string;
  readonly anonymousId?: string;
  readonly timestamp: string;
  readonly receivedAt: string;
  readonly sourceId: string;
  readonly properties?: unknown;
  readonly traits?: unknown;
  readonly context?: unknown;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const json = (value: unknown): unknown => {
  const s = text(value);
  if (s === undefined) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
};

export function toTimelineEvent(row: Record<string, unknown>): TimelineEvent {
  const optional = (key: string, value: unknown) => (value === undefined ? {} : { [key]: value });
  return {
    messageId: String(row.message_id),
    type: String(row.type),
    ...optional('event', text(row.event)),
    ...optional('name', text(row.name)),
    ...optional('userId', text(row.user_id)),
    ...optional('anonymousId', text(row.anonymous_id)),
    timestamp: String(row.timestamp),
    receivedAt: String(row.received_at),
    sourceId: String(row.source_id),
    ...optional('properties', json(row.properties)),
    ...optional('traits', json(row.traits)),
    ...optional('context', json(row.context)),
  };
}

/** Where a pass over the whole lake got to: the last event read, in arrival order. */
export interface LakePosition {
  readonly receivedAt: string;
  readonly messageId: string;
}

/**
 * One page of every event in the lake, in arrival order (received_at, then message id), after
 * `after`. Arrival order is the order the stream delivered, so a fold over these pages meets
 * contested identifiers in the order streaming did.
 */
export function lakePageSql(after: LakePosition | undefined, limit: number): string {
  const where = after
    ? `WHERE received_at > ${sqlString(after.receivedAt)} OR (received_at = ${sqlString(after.receivedAt)} AND message_id > ${sqlString(after.messageId)})`
    : '';
  return `SELECT ${LakeEventColumns.map((c) => `"${c}"`).join(', ')}
FROM ${Catalog.eventsView}
${where}
ORDER BY received_at, message_id
LIMIT ${Math.trunc(limit)}`;
}

export const lakeCountSql = `SELECT count(*) AS n FROM ${Catalog.eventsView}`;
