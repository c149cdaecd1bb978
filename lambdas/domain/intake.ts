import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { IntakeLimits } from '../contracts.js';
import type { ValidationIssue } from './errors.js';
import { EventType, type IncomingEvent } from './events.js';
import type { JsonObject } from './json-safety.js';
import { parseJsonAs } from './validation.js';

/**
 * An accepted event as it travels on the stream: the client's event, normalised, with the
 * server's stamps. This is the contract between intake and every stream consumer.
 */
export const CollectedEvent = z.object({
  type: EventType,
  messageId: z.string(),
  userId: z.optional(z.string()),
  anonymousId: z.optional(z.string()),
  previousId: z.optional(z.string()),
  groupId: z.optional(z.string()),
  event: z.optional(z.string()),
  name: z.optional(z.string()),
  category: z.optional(z.string()),
  /** Effective event time, corrected for client clock skew. */
  timestamp: z.string(),
  /** The client's own timestamp, before skew correction. */
  originalTimestamp: z.optional(z.string()),
  sentAt: z.optional(z.string()),
  receivedAt: z.string(),
  sourceId: z.string(),
  context: z.optional(z.record(z.string(), z.unknown())),
  traits: z.optional(z.record(z.string(), z.unknown())),
  properties: z.optional(z.record(z.string(), z.unknown())),
  integrations: z.optional(z.record(z.string(), z.unknown())),
});
export type CollectedEvent = z.infer<typeof CollectedEvent>;

/** An event's name as `event_counts` and segments name it: a track event's own, `$page`, `$identify`, ... for the other calls. */
export const eventName = (event: Pick<CollectedEvent, 'type' | 'event'>): string => (event.type === 'track' ? (event.event ?? '$track') : `$${event.type}`);

/** A stream record's text as a CollectedEvent, or undefined when it is not one. */
export const decodeCollectedEvent = (raw: string): CollectedEvent | undefined => parseJsonAs(CollectedEvent, raw);

export interface EnrichmentInput {
  readonly receivedAt: Date;
  readonly sourceId: string;
  /** `sentAt` of the batch envelope, used when the event has none of its own. */
  readonly batchSentAt?: string;
  /** `context` of the batch envelope; the event's own keys win. */
  readonly batchContext?: JsonObject;
  /** Supplies a messageId for events that came without one. */
  readonly newMessageId: () => string;
}

/**
 * Effective event time: `receivedAt - (sentAt - timestamp)`, which removes the client's clock
 * offset while keeping the delay between the event and its sending.
 */
export function correctClockSkew(receivedAt: Date, timestamp?: string, sentAt?: string): Date {
  if (timestamp === undefined) return receivedAt;
  const eventTime = Date.parse(timestamp);
  if (sentAt === undefined) return new Date(eventTime);
  return new Date(receivedAt.getTime() - (Date.parse(sentAt) - eventTime));
}

export type EnrichedEvent =
  | { readonly ok: true; readonly event: CollectedEvent }
  | { readonly ok: false; readonly issues: ValidationIssue[] };

/** Stamps an accepted event with server time, source and messageId, and corrects its clock. */
export function enrichEvent(incoming: IncomingEvent, input: EnrichmentInput, index?: number): EnrichedEvent {
  const sentAt = incoming.sentAt ?? input.batchSentAt;
  const effective = correctClockSkew(input.receivedAt, incoming.timestamp, sentAt);
  const latest = input.receivedAt.getTime() + IntakeLimits.maxFutureSkewMs;
  if (effective.getTime() > latest || effective.toISOString() < IntakeLimits.earliestTimestamp) {
    const reason =
      effective.getTime() > latest
        ? 'is more than 24 hours in the future after clock-skew correction'
        : `is before ${IntakeLimits.earliestTimestamp} after clock-skew correction`;
    return { ok: false, issues: [{ ...(index === undefined ? {} : { index }), field: 'timestamp', reason }] };
  }
  const context =
    input.batchContext || incoming.context ? { ...input.batchContext, ...incoming.context } : undefined;
  const event: CollectedEvent = dropUndefined({
    type: incoming.type,
    messageId: incoming.messageId ?? input.newMessageId(),
    userId: incoming.userId ?? undefined,
    anonymousId: incoming.anonymousId ?? undefined,
    previousId: incoming.previousId,
    groupId: incoming.groupId,
    event: incoming.event,
    name: incoming.name ?? undefined,
    category: incoming.category ?? undefined,
    timestamp: effective.toISOString(),
    originalTimestamp: incoming.timestamp ?? incoming.originalTimestamp,
    sentAt,
    receivedAt: input.receivedAt.toISOString(),
    sourceId: input.sourceId,
    context,
    traits: incoming.traits,
    properties: incoming.properties,
    integrations: incoming.integrations,
  });
  return { ok: true, event };
}

/** The stream record carrying an accepted event, keyed by {@link partitionKeyOf}. */
export function toStreamRecord(event: CollectedEvent): { partitionKey: string; data: Uint8Array } {
  return { partitionKey: partitionKeyOf(event), data: Buffer.from(JSON.stringify(event)) };
}

const MaxPartitionKeyLength = 256;

/**
 * Kinesis partition key: the device-level identity (`anonymousId`, else `userId`), so one
 * device's events, including the identify that links it to a user, stay in order on one shard.
 */
export function partitionKeyOf(event: Pick<CollectedEvent, 'anonymousId' | 'userId' | 'messageId'>): string {
  const identity = event.anonymousId ?? event.userId ?? event.messageId;
  if (identity.length <= MaxPartitionKeyLength) return identity;
  return createHash('sha256').update(identity).digest('hex');
}

function dropUndefined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
