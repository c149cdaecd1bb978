import { IntakeLimits } from '../contracts.js';
import { RequestRejectedError, type ValidationIssue } from './errors.js';
import { EventTypes, isIso8601, validateEvent, type EventType } from './events.js';
import { enrichEvent, type CollectedEvent, type EnrichedEvent, type EnrichmentInput } from './intake.js';
import { findJsonHazard, isPlainObject, parseWellFormedJson, type JsonObject } from './json-safety.js';

/** The call a request was sent to: `batch` or one event type (`/v1/track`, ...). */
export type IntakeCall = 'batch' | EventType;

export const isIntakeCall = (operation: string): operation is IntakeCall =>
  operation === 'batch' || (EventTypes as readonly string[]).includes(operation);

export interface ParsedIntakeBody {
  readonly rawEvents: readonly unknown[];
  readonly batchSentAt?: string;
  readonly batchContext?: JsonObject;
}

/**
 * Turns a decoded request body into the events it carries. Throws {@link RequestRejectedError}
 * when the request as a whole is unusable; per-event problems are left to {@link prepareEvents}.
 */
export function parseIntakeBody(call: IntakeCall, body: string): ParsedIntakeBody {
  // One limit for every call: an event over the 32 KB event limit is refused as that event (and
  // recorded), whether it came in a batch or alone, not as a request too large.
  const bytes = Buffer.byteLength(body);
  const limit = IntakeLimits.maxBatchBytes;
  if (bytes > limit) {
    throw new RequestRejectedError(413, `request body is ${bytes} bytes; the limit is ${limit}`, [
      { field: '', reason: `body exceeds ${limit} bytes` },
    ]);
  }
  let parsed: unknown;
  try {
    parsed = parseWellFormedJson(body);
  } catch (error) {
    throw new RequestRejectedError(400, 'request body is not valid JSON', [
      { field: '', reason: `invalid JSON: ${(error as Error).message}` },
    ]);
  }
  if (!isPlainObject(parsed)) {
    throw new RequestRejectedError(400, 'request body must be a JSON object', [{ field: '', reason: 'must be an object' }]);
  }
  if (call !== 'batch') return { rawEvents: [{ ...parsed, type: call }] };

  const { batch, sentAt, context } = parsed;
  if (!Array.isArray(batch)) {
    throw new RequestRejectedError(400, 'batch requests need a "batch" array', [{ field: 'batch', reason: 'must be an array of events' }]);
  }
  if (batch.length === 0) {
    throw new RequestRejectedError(400, 'batch is empty', [{ field: 'batch', reason: 'must contain at least one event' }]);
  }
  if (batch.length > IntakeLimits.maxBatchEvents) {
    throw new RequestRejectedError(413, `batch has ${batch.length} events; the limit is ${IntakeLimits.maxBatchEvents}`, [
      { field: 'batch', reason: `more than ${IntakeLimits.maxBatchEvents} events; split the batch` },
    ]);
  }
  const envelopeIssues: ValidationIssue[] = [];
  if (sentAt !== undefined && (typeof sentAt !== 'string' || !isIso8601(sentAt))) {
    envelopeIssues.push({ field: 'sentAt', reason: 'must be an ISO-8601 date-time string' });
  }
  if (context !== undefined) {
    const hazard = isPlainObject(context) ? findJsonHazard(context, 'context') : { field: 'context', reason: 'must be an object' };
    if (hazard) envelopeIssues.push(hazard);
  }
  if (envelopeIssues.length > 0) {
    throw new RequestRejectedError(400, 'batch envelope is invalid', envelopeIssues);
  }
  return {
    rawEvents: batch,
    ...(typeof sentAt === 'string' ? { batchSentAt: sentAt } : {}),
    ...(isPlainObject(context) ? { batchContext: context } : {}),
  };
}

/** Validates then stamps one event: the single admission rule for API calls and file imports. */
export function admitEvent(raw: unknown, index: number, stamps: EnrichmentInput): EnrichedEvent {
  const validated = validateEvent(raw, index);
  return validated.ok ? enrichEvent(validated.event, stamps, index) : validated;
}

export interface PreparedEvents {
  readonly accepted: CollectedEvent[];
  readonly issues: ValidationIssue[];
  /** Indexes of the events that were refused. */
  readonly rejectedIndexes: number[];
}

/** Validates and stamps every event of a request; each refused event yields at least one issue. */
export function prepareEvents(
  body: ParsedIntakeBody,
  stamps: Omit<EnrichmentInput, 'batchSentAt' | 'batchContext'>,
): PreparedEvents {
  const accepted: CollectedEvent[] = [];
  const issues: ValidationIssue[] = [];
  const rejectedIndexes: number[] = [];
  body.rawEvents.forEach((raw, index) => {
    const enriched = admitEvent(raw, index, { ...stamps, batchSentAt: body.batchSentAt, batchContext: body.batchContext });
    if (enriched.ok) {
      accepted.push(enriched.event);
    } else {
      issues.push(...enriched.issues);
      rejectedIndexes.push(index);
    }
  });
  return { accepted, issues, rejectedIndexes };
}
