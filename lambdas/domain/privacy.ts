import { createHmac } from 'node:crypto';
import * as z from 'zod/mini';
import { DomainError, type ValidationIssue } from './errors.js';
import { identifierKey, identifiersOf, normalizeIdentifier, parseIdentifierKey, RefusalReasonText, type Identifier } from './identifiers.js';
import type { CollectedEvent } from './intake.js';
import type { ProfileConfig } from './profile-config.js';
import { validationIssues } from './validation.js';

/**
 * Privacy (docs/privacy.md): people's requests to see their data (`access`), to have it removed
 * (`erase`), and to stop it being collected (`suppress`, lifted by `unsuppress`). What is kept
 * about a request, and the suppression list, name people only by a salted hash of an identifier,
 * so the record of an erasure is not itself a copy of what was erased.
 */
export const PrivacyRequestTypes = ['access', 'erase', 'suppress', 'unsuppress'] as const;
export type PrivacyRequestType = (typeof PrivacyRequestTypes)[number];

/** Base error of privacy requests: what was refused, field by field. */
export class PrivacyError extends DomainError {
  constructor(
    message: string,
    readonly details: readonly ValidationIssue[] = [],
  ) {
    super(message);
  }
}

/**
 * The salted hash of an identifier (HMAC-SHA-256 keyed with the deployment's secret salt, over
 * its canonical `type:value`): what receipts, the audit log and the suppression list keep. Without
 * the salt, a list of hashes cannot be checked against a list of e-mail addresses.
 */
export function privacyHash(salt: string, identifier: Identifier): string {
  return createHmac('sha256', salt).update(identifierKey(identifier)).digest('base64url');
}

const RequestBody = z.strictObject({
  type: z.enum(PrivacyRequestTypes),
  identifier: z.strictObject({ type: z.string().check(z.minLength(1), z.maxLength(40)), value: z.union([z.string().check(z.minLength(1)), z.number()]) }),
});

/** A request as submitted, its identifier in canonical form (so `Ana@Example.com ` finds `ana@example.com`). */
export interface PrivacyRequestInput {
  readonly type: PrivacyRequestType;
  readonly identifier: Identifier;
}

/** Reads `POST /v1/privacy/requests`'s body, or throws PrivacyError naming each field at fault. */
export function parsePrivacyRequest(body: unknown, config: ProfileConfig): PrivacyRequestInput {
  const parsed = RequestBody.safeParse(body);
  if (!parsed.success) {
    throw new PrivacyError('the request is not valid: {"type": "access" | "erase" | "suppress" | "unsuppress", "identifier": {"type": "email", "value": "..."}}', validationIssues(parsed.error.issues, body));
  }
  const type = parsed.data.identifier.type.trim().toLowerCase();
  const normalized = normalizeIdentifier(type, parsed.data.identifier.value, config);
  if ('refused' in normalized) {
    throw new PrivacyError('the identifier is not one this CDP would store', [{ field: 'identifier.value', reason: `is not a valid ${type}: ${RefusalReasonText[normalized.refused]}` }]);
  }
  return { type: parsed.data.type, identifier: normalized.identifier };
}

/**
 * Who a request is about, as the stores name them: salted hashes of identifiers (what events and
 * lake rows are matched by), and profile ids (what items, segment changes and activation events
 * carry). Matching is by identifier, never by text search, so another person's event that merely
 * mentions a value is kept.
 */
export class PersonMatcher {
  private readonly hashes: ReadonlySet<string>;
  private readonly profileIds: ReadonlySet<string>;

  constructor(
    private readonly salt: string,
    private readonly config: ProfileConfig,
    hashes: Iterable<string>,
    profileIds: Iterable<string> = [],
  ) {
    this.hashes = new Set(hashes);
    this.profileIds = new Set(profileIds);
  }

  get isEmpty(): boolean {
    return this.hashes.size === 0 && this.profileIds.size === 0;
  }

  hasIdentifier(identifier: Identifier): boolean {
    return this.hashes.size > 0 && this.hashes.has(privacyHash(this.salt, identifier));
  }

  hasProfile(profileId: unknown): boolean {
    return typeof profileId === 'string' && this.profileIds.has(profileId);
  }

  /** An event carrying any of the person's identifiers. */
  matchesEvent(event: CollectedEvent): boolean {
    return this.hashes.size > 0 && identifiersOf(event, this.config).some((id) => this.hasIdentifier(id));
  }

  /** A refused payload (any JSON, valid or not as an event), read as leniently as identity resolution would. */
  matchesPayload(payload: unknown): boolean {
    if (typeof payload === 'string') {
      try {
        payload = JSON.parse(payload) as unknown;
      } catch {
        return false;
      }
    }
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return false;
    return this.matchesEvent(payload as CollectedEvent);
  }

  /** An `identifier` column (`type:value`), as the lake's events and identity log carry it. */
  matchesIdentifierText(text: unknown): boolean {
    const identifier = typeof text === 'string' ? parseIdentifierKey(text) : undefined;
    return identifier !== undefined && this.hasIdentifier(identifier);
  }
}

/** The UTC dates from `from` to `to` (epoch ms), inclusive, as `dt` partition values; empty when the range is empty. */
export function datesBetween(from: number, to: number): string[] {
  if (!Number.isFinite(from) || !Number.isFinite(to) || from > to) return [];
  const dates: string[] = [];
  const day = 86_400_000;
  for (let at = Math.floor(from / day) * day; at <= to; at += day) dates.push(new Date(at).toISOString().slice(0, 10));
  return dates;
}

/**
 * The days (`dt` values) a profile's events fall on: exactly the days of its daily buckets (the
 * last `bucketDays` before its latest event), and before those, every day back to its first
 * event. An erasure reads only these partitions of `events/`.
 */
export function eventDays(computed: { readonly firstSeen: number; readonly lastSeen: number; readonly days: Readonly<Record<string, unknown>> }, bucketDays: number): string[] {
  const bucketed = Object.keys(computed.days);
  if (!Number.isFinite(computed.firstSeen) || !Number.isFinite(computed.lastSeen)) return bucketed.sort();
  const oldestBucketed = new Date(computed.lastSeen - (bucketDays - 1) * 86_400_000).toISOString().slice(0, 10);
  const earlier = datesBetween(computed.firstSeen, computed.lastSeen).filter((day) => day < oldestBucketed);
  return [...new Set([...earlier, ...bucketed])].sort();
}

/** The lines of a JSON-lines object that `remove` does not match; lines that are not JSON are kept (they are nobody's). */
export function withoutRows(lines: readonly string[], remove: (row: Record<string, unknown>) => boolean): { kept: string[]; removed: number } {
  const kept: string[] = [];
  let removed = 0;
  for (const line of lines) {
    if (line.trim() === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      kept.push(line);
      continue;
    }
    if (row !== null && typeof row === 'object' && remove(row as Record<string, unknown>)) removed++;
    else kept.push(line);
  }
  return { kept, removed };
}
