import { createHash } from 'node:crypto';
import { LakeLayout } from '../contracts.js';
import type { Identifier } from './identifiers.js';
import type { PrivacyRequestType } from './privacy.js';
import type { OutboundChange } from './profile-write.js';

/**
 * A privacy request as the worker carries it through its steps (docs/privacy.md). Everything
 * here but `work` is shown by `GET /v1/privacy/requests/{id}` and kept after the request
 * finishes; `work` holds what the steps need (the identifier asked about, the person's profile
 * ids and identifier hashes, a cursor) and is removed when the request finishes.
 */
export type PrivacyRequestStatus = 'pending' | 'running' | 'done' | 'failed';

/** The steps of each type, in order. */
export const PrivacySteps = {
  access: ['resolve', 'lake', 'export'],
  erase: ['resolve', 'suppress', 'settle', 'announce', 'profiles', 'lake', 'dead-letters', 'deliveries', 'verify'],
  suppress: ['resolve', 'suppress'],
  unsuppress: ['unsuppress'],
} as const satisfies Readonly<Record<PrivacyRequestType, readonly string[]>>;
export type PrivacyStep = (typeof PrivacySteps)[PrivacyRequestType][number];

/** What one store held of the person and what was done about it. */
export interface StoreOutcome {
  /** Items, rows or records of the person found. */
  found: number;
  /** Of those, removed (erase) or exported (access). */
  removed: number;
  /** Lake objects read, and rewritten without the person's rows. */
  objectsRead?: number;
  objectsRewritten?: number;
  /** Rows in the rewritten objects before and after, counted again after writing: before − removed = after. */
  rowsBefore?: number;
  rowsAfter?: number;
  /** Earlier versions of rewritten objects deleted (a versioned bucket). */
  versionsDeleted?: number;
}

/** Where a lake pass got to: the prefix and the last object finished. */
export interface LakeCursor {
  readonly area: number;
  readonly after?: string;
}

export interface PrivacyWork {
  /** The identifier the request names, in canonical form; dropped when the request finishes. */
  identifier: Identifier;
  /** Every identifier of the person found so far (the requested one included), in canonical form; dropped when the request finishes. */
  identifiers?: Identifier[];
  /** Salted hashes of every identifier of the person, the requested one included. */
  hashes: string[];
  /** The person's profiles: the live one, and every profile merged into it. */
  profileIds: string[];
  /** The live profile, if any. */
  profileId?: string;
  /** The days the person's events fall on: the partitions of `events/` that hold them. */
  eventDays?: string[];
  /** When the profiles were first written: where their identity log rows and segment changes are. */
  recordedFrom?: number;
  /** When the identifiers were added to the suppression list. */
  suppressedAt?: number;
  lake?: LakeCursor;
  /** Failures of the current step so far. */
  failures?: number;
}

export interface PrivacyRequest {
  readonly id: string;
  readonly type: PrivacyRequestType;
  /** Salted hash of the identifier the request names. */
  readonly subject: string;
  readonly identifierType: string;
  status: PrivacyRequestStatus;
  step: PrivacyStep | 'done';
  readonly createdAt: string;
  updatedAt: string;
  finishedAt?: string;
  /** Per store, what was found and removed (or exported). */
  stores: Record<string, StoreOutcome>;
  /** Profiles found (erased or exported). */
  profiles?: number;
  /** Identifiers suppressed (erase, suppress) or lifted (unsuppress). */
  suppressed?: number;
  /** Where an access export is, once written (lake object key). */
  exportKey?: string;
  error?: string;
  work?: PrivacyWork;
}

/**
 * A request id's unique part, ordered by time: the creation time in milliseconds as 9 base-36
 * digits (fixed width, so text order is time order until the year 5188), then `random`. The store
 * lists requests newest first by id alone.
 */
export function timeOrderedId(at: Date, random: string): string {
  return `${at.getTime().toString(36).padStart(9, '0')}${random}`;
}

export function newPrivacyRequest(id: string, type: PrivacyRequestType, identifier: Identifier, subject: string, now: Date): PrivacyRequest {
  return {
    id,
    type,
    subject,
    identifierType: identifier.type,
    status: 'pending',
    step: PrivacySteps[type][0],
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    stores: {},
    work: { identifier, hashes: [subject], profileIds: [] },
  };
}

/** The step after `step` for the request's type, or `done`. */
export function nextStep(type: PrivacyRequestType, step: PrivacyStep): PrivacyStep | 'done' {
  const steps: readonly PrivacyStep[] = PrivacySteps[type];
  const at = steps.indexOf(step);
  return at >= 0 && at < steps.length - 1 ? steps[at + 1]! : 'done';
}

/** The request as shown and kept once finished: without its working state. */
export function publicView(request: PrivacyRequest): Omit<PrivacyRequest, 'work'> {
  const { work: _work, ...shown } = request;
  return shown;
}

export const ProfileErased = 'Profile Erased';

/** The outbound change announcing an erasure to destinations; its id follows from the request, so announcing again is recognisable. */
export function profileErasedChange(requestId: string, profileId: string, at: number): OutboundChange {
  return {
    id: createHash('sha256').update(`erase|${requestId}|${profileId}`).digest('base64url').slice(0, 22),
    kind: ProfileErased,
    profileId,
    at,
    detail: { requestId },
  };
}

/**
 * One entry of the audit log: the request as shown (hashes only) at one event of its life, under
 * a key that is never written twice (`privacy/audit/dt=<date>/<time>-<request>-<event>.json`).
 */
export function auditEntry(request: PrivacyRequest, event: 'received' | 'finished' | 'failed', at: Date): { key: string; body: string; contentType: string } {
  const time = at.toISOString();
  return {
    key: `${LakeLayout.privacyAuditPrefix}dt=${time.slice(0, 10)}/${time}-${request.id}-${event}.json`,
    body: JSON.stringify({ event, at: time, request: publicView(request) }),
    contentType: 'application/json',
  };
}
