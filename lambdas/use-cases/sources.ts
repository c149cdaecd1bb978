import { generateSecret, hashSecret, SourceIdPattern, type Credential } from '../domain/credentials.js';
import type { CredentialStore } from '../ports/credential-store.js';

/** A write key as the source API shows it: never the secret, which is shown once, when made. */
export interface WriteKeyView {
  readonly keyHash: string;
  readonly name: string;
  readonly createdAt: string;
  readonly revokedAt?: string;
}

export interface SourceView {
  readonly sourceId: string;
  readonly writeKeys: readonly WriteKeyView[];
}

export class SourceApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: ReadonlyArray<{ field: string; reason: string }> = [],
  ) {
    super(message);
  }
}

const MaxNameLength = 200;

/** Sources and their write keys: list, make a key (its secret returned this once), revoke one. */
export class SourceKeys {
  constructor(
    private readonly credentials: CredentialStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async list(): Promise<SourceView[]> {
    const bySource = new Map<string, WriteKeyView[]>();
    for (const credential of await this.credentials.list()) {
      if (credential.kind !== 'write') continue;
      const keys = bySource.get(credential.sourceId) ?? [];
      keys.push(view(credential));
      bySource.set(credential.sourceId, keys);
    }
    return [...bySource]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([sourceId, keys]) => ({ sourceId, writeKeys: keys.sort((a, b) => a.createdAt.localeCompare(b.createdAt)) }));
  }

  async create(sourceId: string, name: unknown): Promise<WriteKeyView & { sourceId: string; writeKey: string }> {
    checkSourceId(sourceId);
    if (name !== undefined && (typeof name !== 'string' || name.trim() === '' || name.length > MaxNameLength)) {
      throw new SourceApiError(400, 'invalid write key', [{ field: 'name', reason: `must be a non-empty string of at most ${MaxNameLength} characters` }]);
    }
    const writeKey = generateSecret('write');
    const credential: Credential = { keyHash: hashSecret(writeKey), kind: 'write', sourceId, name: typeof name === 'string' ? name.trim() : sourceId, createdAt: this.now().toISOString() };
    if (!(await this.credentials.create(credential))) throw new Error('a freshly generated write key collided with a stored one');
    return { sourceId, ...view(credential), writeKey };
  }

  /** Revokes one of the source's write keys; intake refuses it within the credential cache's lifetime (60 s). */
  async revoke(sourceId: string, keyHash: string): Promise<WriteKeyView> {
    checkSourceId(sourceId);
    const found = await this.credentials.find(keyHash);
    if (!found || found.kind !== 'write' || found.sourceId !== sourceId) throw new SourceApiError(404, `source ${sourceId} has no write key ${keyHash}`);
    if (found.revokedAt) return view(found);
    const at = this.now();
    await this.credentials.revoke(keyHash, at);
    return view({ ...found, revokedAt: at.toISOString() });
  }
}

function checkSourceId(sourceId: string): void {
  if (!SourceIdPattern.test(sourceId)) throw new SourceApiError(400, 'invalid source', [{ field: 'sourceId', reason: 'must be 1 to 64 letters, digits, - or _' }]);
}

function view(credential: Credential): WriteKeyView {
  return { keyHash: credential.keyHash, name: credential.name, createdAt: credential.createdAt, ...(credential.revokedAt ? { revokedAt: credential.revokedAt } : {}) };
}
