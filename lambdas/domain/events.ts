import * as z from 'zod/mini';
import { IntakeLimits } from '../contracts.js';
import type { ValidationIssue } from './errors.js';
import { findJsonHazard, isPlainObject, type JsonObject } from './json-safety.js';

// zod/mini: the same validation as classic zod at about 3% of its bundle size.

export const EventTypes = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const;
export const EventType = z.enum(EventTypes, { error: `must be one of ${EventTypes.join(', ')}` });
export type EventType = z.infer<typeof EventType>;

const Iso8601 =
  /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)$/i;

/** True for an ISO-8601 date-time with a zone designator that names a real instant. */
export function isIso8601(value: string): boolean {
  return Iso8601.test(value) && !Number.isNaN(Date.parse(value.replace(' ', 'T')));
}

const Timestamp = z.string({ error: 'must be an ISO-8601 date-time string' }).check(
  z.refine(isIso8601, { error: 'must be an ISO-8601 date-time with a time zone, e.g. 2026-10-01T12:00:00.000Z' }),
);

/** A bounded string field: `must not be empty` / `must be at most N characters`. */
const boundedString = (max: number, min = 0) =>
  z.string({ error: 'must be a string' }).check(
    ...(min > 0 ? [z.minLength(min, { error: 'must not be empty' })] : []),
    z.maxLength(max, { error: `must be at most ${max} characters` }),
  );

/** Identifiers: strings, or finite numbers that some SDKs send and we store as strings. */
const Identifier = z.pipe(
  z.pipe(
    z.union([z.string(), z.number().check(z.refine(Number.isFinite))], { error: 'must be a string' }),
    z.transform((v: string | number) => String(v)),
  ),
  boundedString(IntakeLimits.maxIdentifierLength, 1),
);

/**
 * userId and anonymousId: an empty string means none. RudderStack's browser SDK sends
 * `"userId": ""` with every anonymous visitor's event; the other id must still be there.
 */
const OptionalIdentifier = z.optional(z.pipe(z.transform((v: unknown) => (v === '' ? null : v)), z.nullable(Identifier)));

const PlainObject = z.custom<JsonObject>(isPlainObject, { error: 'must be an object' });

/** A Segment-spec event as a client sends it. Unknown top-level fields are dropped. */
export const IncomingEvent = z
  .object({
    type: EventType,
    messageId: z.optional(boundedString(IntakeLimits.maxMessageIdLength, 1)),
    userId: OptionalIdentifier,
    anonymousId: OptionalIdentifier,
    previousId: z.optional(Identifier),
    groupId: z.optional(Identifier),
    event: z.optional(boundedString(200, 1)),
    name: z.optional(z.nullable(boundedString(200))),
    category: z.optional(z.nullable(boundedString(200))),
    timestamp: z.optional(Timestamp),
    originalTimestamp: z.optional(Timestamp),
    sentAt: z.optional(Timestamp),
    context: z.optional(PlainObject),
    traits: z.optional(PlainObject),
    properties: z.optional(PlainObject),
    integrations: z.optional(PlainObject),
  })
  .check(
    z.superRefine((e, ctx) => {
      if (e.userId == null && e.anonymousId == null) {
        ctx.addIssue({ code: 'custom', path: ['userId'], message: 'userId or anonymousId is required' });
      }
      if (e.type === 'track' && e.event === undefined) {
        ctx.addIssue({ code: 'custom', path: ['event'], message: 'is required for track calls' });
      }
      if (e.type === 'alias' && e.previousId === undefined) {
        ctx.addIssue({ code: 'custom', path: ['previousId'], message: 'is required for alias calls' });
      }
      if (e.type === 'group' && e.groupId === undefined) {
        ctx.addIssue({ code: 'custom', path: ['groupId'], message: 'is required for group calls' });
      }
    }),
  );
export type IncomingEvent = z.infer<typeof IncomingEvent>;

export type ValidatedEvent =
  | { readonly ok: true; readonly event: IncomingEvent }
  | { readonly ok: false; readonly issues: ValidationIssue[] };

/** Validates one event; `index` is its position in the batch, echoed in each issue. */
export function validateEvent(raw: unknown, index?: number): ValidatedEvent {
  const at = (issue: Omit<ValidationIssue, 'index'>): ValidationIssue =>
    index === undefined ? issue : { index, ...issue };
  if (!isPlainObject(raw)) return { ok: false, issues: [at({ field: '', reason: 'event must be a JSON object' })] };
  // Depth first: measuring a hostile, deeply nested value would itself overflow the stack.
  const hazard = findJsonHazard(raw, '');
  if (hazard) return { ok: false, issues: [at(hazard)] };
  const bytes = Buffer.byteLength(JSON.stringify(raw));
  if (bytes > IntakeLimits.maxEventBytes) {
    return { ok: false, issues: [at({ field: '', reason: `event is ${bytes} bytes; the limit is ${IntakeLimits.maxEventBytes}` })] };
  }
  const parsed = IncomingEvent.safeParse(raw);
  if (parsed.success) return { ok: true, event: parsed.data };
  return {
    ok: false,
    issues: parsed.error.issues.map((issue) => at({ field: issue.path.map(String).join('.'), reason: issue.message })),
  };
}
