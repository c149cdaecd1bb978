import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { IntakeLimits } from '../contracts.js';
import { writeKeyFromBasicAuth } from '../domain/credentials.js';
import { RequestRejectedError, type ValidationIssue } from '../domain/errors.js';
import { withHashedIdentifiers, type IdentityRules } from '../domain/identifiers.js';
import { toStreamRecord } from '../domain/intake.js';
import { parseIntakeBody, prepareEvents, type IntakeCall } from '../domain/intake-request.js';
import type { EventStream } from '../ports/event-stream.js';
import type { AppLogger } from '../ports/logger.js';
import type { Telemetry } from '../ports/telemetry.js';
import type { Authenticator } from './authenticate.js';
import type { RejectionLog } from './rejection-log.js';
import type { SuppressionFilter } from './suppression.js';

const gunzipAsync = promisify(gunzip);

export interface IngestRequest {
  readonly call: IntakeCall;
  readonly authorization?: string;
  readonly contentType?: string;
  readonly contentEncoding?: string;
  readonly body: Buffer;
  readonly requestId: string;
}

export interface IngestResult {
  readonly status: 200 | 400;
  readonly accepted: number;
  readonly rejected: number;
  readonly details: readonly ValidationIssue[];
}

export interface IngestDependencies {
  readonly authenticator: Authenticator;
  readonly stream: EventStream;
  readonly rejectionLog: RejectionLog;
  readonly telemetry: Telemetry;
  readonly logger: AppLogger;
  readonly now: () => Date;
  readonly newMessageId: () => string;
  /** Drops events about suppressed people before they are stored anywhere. @default none dropped */
  readonly suppression?: SuppressionFilter;
  /** Identifier types stored hashed are hashed here, before the stream. @default nothing hashed */
  readonly identityRules?: IdentityRules;
}

/** Refused with 401: no key, or a key that is unknown, revoked, or not a write key. */
export class UnauthorizedError extends RequestRejectedError {
  constructor() {
    super(401, 'a valid write key is required as the HTTP Basic username', [
      { field: 'authorization', reason: 'missing, unknown or revoked write key' },
    ]);
  }
}

/**
 * Bodies are always parsed as JSON. Besides application/json, real SDKs send text/plain
 * (analytics.js beacons), and axios-based clients such as RudderStack's send their gzip buffer
 * as application/x-www-form-urlencoded or octet-stream; curl defaults to form-urlencoded too.
 * Types that are clearly something else (XML, multipart, ...) are refused with 415.
 */
const AcceptedContentTypes = new Set([
  'application/json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/octet-stream',
  '',
]);

/**
 * Accepts one Segment-compatible intake call: authenticate, decode, validate, stamp, append
 * the valid events to the stream and record the refused ones. Resolves only once every
 * accepted event is durably in the stream.
 */
export async function ingest(request: IngestRequest, deps: IngestDependencies): Promise<IngestResult> {
  const credential = await deps.authenticator.authenticate(writeKeyFromBasicAuth(request.authorization), 'write');
  if (!credential) {
    deps.telemetry.count('AuthFailures');
    throw new UnauthorizedError();
  }
  const receivedAt = deps.now();
  const record = (issues: readonly ValidationIssue[], payloadOf: (issue: ValidationIssue) => unknown): Promise<void> =>
    deps.rejectionLog.record({
      receivedAt,
      sourceId: credential.sourceId,
      requestId: request.requestId,
      channel: 'api',
      rejections: issues.map((issue) => ({ issue, payload: payloadOf(issue) })),
    });

  let body;
  try {
    body = parseIntakeBody(request.call, await decodeBody(request));
  } catch (error) {
    if (error instanceof RequestRejectedError) {
      deps.telemetry.count('RequestsRejected', 1, { reason: String(error.status) });
      const excerpt = request.body.subarray(0, 8 * 1024).toString('utf8');
      await record(error.details.length > 0 ? error.details : [{ field: '', reason: error.message }], () => excerpt);
    }
    throw error;
  }

  const prepared = prepareEvents(body, { receivedAt, sourceId: credential.sourceId, newMessageId: deps.newMessageId });
  const recording = record(prepared.issues, (issue) => body.rawEvents[issue.index ?? -1]);
  if (prepared.issues.length > 0) {
    deps.telemetry.count('EventsRejected', prepared.rejectedIndexes.length);
    for (const [field, n] of rejectionsByField(prepared.issues)) deps.telemetry.count('EventsRejectedByField', n, { field });
  }

  if (prepared.accepted.length === 0) {
    await recording;
    throw new RequestRejectedError(400, 'no event in the request is valid', prepared.issues);
  }
  // A suppressed person's events are answered as accepted: the sender cannot tell, and they go nowhere.
  const rules = deps.identityRules;
  const accepted = rules ? prepared.accepted.map((event) => withHashedIdentifiers(event, rules)) : prepared.accepted;
  const toStream = deps.suppression ? await deps.suppression.keep(accepted, (event, person) => person.matchesEvent(event)) : accepted;
  try {
    if (toStream.length > 0) await deps.stream.put(toStream.map(toStreamRecord));
  } catch (error) {
    deps.telemetry.count('StreamWriteFailures');
    await recording;
    throw error;
  }
  await recording;
  if (toStream.length > 0) deps.telemetry.count('EventsAccepted', toStream.length);
  return {
    status: 200,
    accepted: prepared.accepted.length,
    rejected: prepared.rejectedIndexes.length,
    details: prepared.issues,
  };
}

async function decodeBody(request: IngestRequest): Promise<string> {
  const contentType = (request.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (!AcceptedContentTypes.has(contentType)) {
    throw new RequestRejectedError(415, `content type ${contentType} is not supported; send application/json`, [
      { field: 'content-type', reason: 'must be application/json' },
    ]);
  }
  if (request.body.byteLength > IntakeLimits.maxRawBodyBytes) {
    throw new RequestRejectedError(413, `request body exceeds ${IntakeLimits.maxRawBodyBytes} bytes`, [
      { field: '', reason: 'body too large' },
    ]);
  }
  const encoding = (request.contentEncoding ?? 'identity').trim().toLowerCase();
  let bytes: Buffer;
  if (encoding === 'gzip') {
    try {
      bytes = await gunzipAsync(request.body, { maxOutputLength: IntakeLimits.maxInflatedBytes });
    } catch (error) {
      const tooBig = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError;
      throw tooBig
        ? new RequestRejectedError(413, `gzip body inflates past ${IntakeLimits.maxInflatedBytes} bytes`, [
            { field: 'content-encoding', reason: 'decompressed body too large' },
          ])
        : new RequestRejectedError(400, 'body is not valid gzip', [
            { field: 'content-encoding', reason: `gzip decoding failed: ${(error as Error).message}` },
          ]);
    }
  } else if (encoding === 'identity' || encoding === '') {
    bytes = request.body;
  } else {
    throw new RequestRejectedError(415, `content encoding ${encoding} is not supported`, [
      { field: 'content-encoding', reason: 'must be gzip or absent' },
    ]);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new RequestRejectedError(400, 'body is not valid UTF-8', [{ field: '', reason: 'invalid UTF-8' }]);
  }
}

/** Top-level fields events are refused for: bounded dimension values, so the metric stays cheap. */
const ReportedFields = new Set(['type', 'event', 'name', 'userId', 'anonymousId', 'previousId', 'groupId', 'messageId', 'timestamp', 'sentAt', 'originalTimestamp', 'traits', 'properties', 'context', 'integrations']);

/** Refusals per top-level field (`properties.a.b` counts as `properties`; anything unusual as `other`). */
export function rejectionsByField(issues: readonly ValidationIssue[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const issue of issues) {
    const top = issue.field.split(/[.[]/)[0] ?? '';
    const field = ReportedFields.has(top) ? top : issue.field === '' ? 'event' : 'other';
    counts.set(field, (counts.get(field) ?? 0) + 1);
  }
  return counts;
}
