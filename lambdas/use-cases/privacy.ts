import { DomainError, type ValidationIssue } from '../domain/errors.js';
import { parsePrivacyRequest, PrivacyError, privacyHash } from '../domain/privacy.js';
import { auditEntry, newPrivacyRequest, publicView, timeOrderedId, type PrivacyRequest } from '../domain/privacy-request.js';
import type { ProfileConfig } from '../domain/profile-config.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { ExportLinks, SaltSource } from '../ports/privacy-salt.js';
import type { PrivacyRequestStore } from '../ports/privacy-store.js';
import { readObject } from './lake-rows.js';

/** Base error of the privacy API; `status` is the HTTP status it maps to. */
export class PrivacyApiError extends DomainError {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
    readonly details: readonly ValidationIssue[] = [],
  ) {
    super(message);
  }
}

export interface PrivacyServiceDependencies {
  readonly requests: PrivacyRequestStore;
  readonly salt: SaltSource;
  /** Where the audit log and access exports are. */
  readonly lake: ObjectStore;
  readonly exportLinks: ExportLinks;
  readonly config: ProfileConfig;
  readonly now: () => Date;
  /** The random part of a new request's id; the time comes first (timeOrderedId). */
  readonly newId: () => string;
}

/** A request as the API shows it: its status, progress and receipt, and for a finished access request, where the export is. */
export type PrivacyRequestView = Omit<PrivacyRequest, 'work'> & { readonly export?: { readonly url: string; readonly expiresAt?: string } };

const RequestIdPattern = /^pr_[A-Za-z0-9_-]{1,64}$/;

/** The privacy API (docs/privacy.md): take a request, show how it is going. The privacy worker does the work. */
export class PrivacyService {
  constructor(private readonly deps: PrivacyServiceDependencies) {}

  async submit(body: unknown): Promise<PrivacyRequestView> {
    let input;
    try {
      input = parsePrivacyRequest(body, this.deps.config);
    } catch (error) {
      if (error instanceof PrivacyError) throw new PrivacyApiError(400, error.message, error.details);
      throw error;
    }
    const now = this.deps.now();
    const subject = privacyHash(await this.deps.salt.salt(), input.identifier);
    const request = newPrivacyRequest(`pr_${timeOrderedId(now, this.deps.newId())}`, input.type, input.identifier, subject, now);
    await this.deps.requests.create(request);
    await this.deps.lake.put(auditEntry(request, 'received', now));
    return publicView(request);
  }

  async get(id: string): Promise<PrivacyRequestView> {
    const request = await this.find(id);
    const shown = publicView(request);
    return request.exportKey && request.status === 'done' ? { ...shown, export: await this.deps.exportLinks.link(id, request.exportKey) } : shown;
  }

  /** A finished access request's export, as JSON text. */
  async exportBody(id: string): Promise<Buffer> {
    const request = await this.find(id);
    if (!request.exportKey || request.status !== 'done') throw new PrivacyApiError(409, `privacy request ${id} has no export${request.type === 'access' ? ' yet' : ': only access requests have one'}`, [{ field: 'id', reason: `status is ${request.status}` }]);
    const body = await readObject(this.deps.lake, request.exportKey);
    if (!body) throw new PrivacyApiError(404, `the export of privacy request ${id} has expired`, [{ field: 'id', reason: 'export expired' }]);
    return body;
  }

  /** Requests newest first, a page at a time; `cursor` is the `nextCursor` of the page before. */
  async list(limit: number, cursor?: string): Promise<{ requests: PrivacyRequestView[]; nextCursor: string | null }> {
    if (cursor !== undefined && !RequestIdPattern.test(cursor)) throw new PrivacyApiError(400, 'cursor must be the nextCursor of an earlier page', [{ field: 'cursor', reason: 'is not a request id' }]);
    const page = await this.deps.requests.list(limit, cursor);
    return { requests: page.requests.map(publicView), nextCursor: page.next ?? null };
  }

  private async find(id: string): Promise<PrivacyRequest> {
    const stored = RequestIdPattern.test(id) ? await this.deps.requests.get(id) : undefined;
    if (!stored) throw new PrivacyApiError(404, `no privacy request ${id}`, [{ field: 'id', reason: 'not found' }]);
    return stored.request;
  }
}
