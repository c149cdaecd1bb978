import { LakeLayout } from '../contracts.js';
import type { ValidationIssue } from '../domain/errors.js';
import { withHashedIdentifiers, type IdentityRules } from '../domain/identifiers.js';
import { gzipNdjson } from '../domain/ndjson.js';
import type { AppLogger } from '../ports/logger.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { Telemetry } from '../ports/telemetry.js';
import type { SuppressionFilter } from './suppression.js';

/** Largest slice of a refused payload kept for the operator; enough to see what was wrong. */
export const MaxRejectedPayloadChars = 8 * 1024;

export interface Rejection {
  readonly issue: ValidationIssue;
  /** The refused event (or request body), kept truncated for diagnosis. */
  readonly payload: unknown;
}

export interface RejectionBatch {
  readonly receivedAt: Date;
  readonly sourceId: string;
  /** Request id, or `import:<file>` for batch imports. */
  readonly requestId: string;
  readonly channel: 'api' | 'import';
  readonly rejections: readonly Rejection[];
}

/**
 * Records refused events in the lake under `rejected/dt=.../`, queryable as the `rejections` table,
 * so nothing is dropped silently. If the lake can't take them, they go to the log instead.
 */
export class RejectionLog {
  constructor(
    private readonly lake: ObjectStore,
    private readonly logger: AppLogger,
    private readonly telemetry: Telemetry,
    /** Refused events about suppressed people are not recorded either. @default none dropped */
    private readonly suppression?: SuppressionFilter,
    /** Refused payloads keep only the hash of identifier types stored hashed. @default nothing hashed */
    private readonly identityRules?: IdentityRules,
  ) {}

  async record(batch: RejectionBatch): Promise<void> {
    const rules = this.identityRules;
    if (rules) batch = { ...batch, rejections: batch.rejections.map((r) => ({ ...r, payload: withHashedIdentifiers(r.payload, rules) })) };
    if (this.suppression) batch = { ...batch, rejections: await this.suppression.keep(batch.rejections, (r, person) => person.matchesPayload(r.payload)) };
    if (batch.rejections.length === 0) return;
    const rows = batch.rejections.map(({ issue, payload }) =>
      JSON.stringify({
        received_at: batch.receivedAt.toISOString(),
        source_id: batch.sourceId,
        request_id: batch.requestId,
        channel: batch.channel,
        index: issue.index ?? null,
        field: issue.field,
        reason: issue.reason,
        payload: payloadText(payload),
      }),
    );
    // Flat under dt=: Athena partition locations are read without descending into sub-folders.
    const key = rejectionKey(batch.receivedAt, `${safeSegment(batch.sourceId)}-${safeSegment(batch.requestId)}`);
    try {
      await this.lake.put({ key, ...gzipNdjson(rows) });
    } catch (error) {
      this.telemetry.count('RejectionRecordFailures');
      this.logger.error('could not record rejections in the lake; logging them instead', {
        error,
        rejections: batch.rejections.map((r) => r.issue),
        requestId: batch.requestId,
      });
    }
  }
}

/**
 * `rejected/dt=<day>/<HHmmssSSS>-<source>-<request>.ndjson.gz`: named by the time of receipt, so
 * the live view lists only what came after the last refusal it saw (S3 lists keys in order).
 */
export function rejectionKey(receivedAt: Date, name: string): string {
  return `${rejectionKeyPrefix(receivedAt)}-${name}.ndjson.gz`;
}

/** Every rejection key received at or after `at` on that day sorts after this. */
export function rejectionKeyPrefix(at: Date): string {
  const iso = at.toISOString();
  return `${LakeLayout.rejectionsPrefix}dt=${iso.slice(0, 10)}/${iso.slice(11, 23).replace(/[:.]/g, '')}`;
}

/** A rejection key's time of receipt, or undefined for keys named before keys carried it. */
export function rejectionKeyTime(key: string): Date | undefined {
  const match = /dt=(\d{4}-\d{2}-\d{2})\/(\d{2})(\d{2})(\d{2})(\d{3})-/.exec(key);
  return match ? new Date(`${match[1]}T${match[2]}:${match[3]}:${match[4]}.${match[5]}Z`) : undefined;
}

function truncate(text: string): string {
  return text.length <= MaxRejectedPayloadChars ? text : `${text.slice(0, MaxRejectedPayloadChars)}…[truncated]`;
}

function safeSegment(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200);
}

/** The refused payload as text; one too deeply nested to serialise (the likely reason it was refused) is named, not kept. */
function payloadText(payload: unknown): string {
  if (typeof payload === 'string') return truncate(payload);
  try {
    return truncate(JSON.stringify(payload) ?? '');
  } catch {
    return '[payload not kept: too deeply nested to serialise]';
  }
}
