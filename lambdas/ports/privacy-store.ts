import type { PrivacyRequest } from '../domain/privacy-request.js';

/** A suppressed identifier: its salted hash, and the request that suppressed it. */
export interface Suppression {
  readonly hash: string;
  readonly requestId: string;
  readonly at: number;
}

/**
 * The suppression list: salted hashes of identifiers whose events are dropped wherever events
 * enter a store (intake, the archiver, the resolver). It never holds an identifier itself.
 */
export interface SuppressionList {
  add(suppressions: readonly Suppression[]): Promise<void>;
  remove(hashes: readonly string[]): Promise<void>;
  /** Every suppressed hash (read in full: the list is small next to the events it filters). */
  hashes(): Promise<Set<string>>;
  /** Every suppression, with the request that made it. */
  all(): Promise<Suppression[]>;
}

/** Another writer changed the request since it was read. */
export class PrivacyRequestConflictError extends Error {
  constructor(id: string) {
    super(`privacy request ${id} changed while it was being worked on`);
    this.name = 'PrivacyRequestConflictError';
  }
}

/** A privacy request as stored, with the revision its conditional writes are checked against. */
export interface StoredPrivacyRequest {
  readonly request: PrivacyRequest;
  readonly revision: number;
}

/**
 * Privacy requests and their progress. Open requests are also listed apart, so the worker finds
 * them without reading every request ever made.
 */
export interface PrivacyRequestStore {
  create(request: PrivacyRequest): Promise<void>;
  get(id: string): Promise<StoredPrivacyRequest | undefined>;
  /** Replaces the request if it is still at `revision`; closes it (off the open list) once it is finished. */
  update(request: PrivacyRequest, revision: number): Promise<void>;
  /** Ids of requests not finished yet, oldest first. */
  open(limit?: number): Promise<string[]>;
  /** Requests newest first (ids are time-ordered), `limit` at a time, after the request `after`; `next` is absent on the last page. */
  list(limit: number, after?: string): Promise<{ requests: PrivacyRequest[]; next?: string }>;
}
