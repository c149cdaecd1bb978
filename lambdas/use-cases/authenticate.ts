import { hashSecret, isUsable, type Credential, type CredentialKind } from '../domain/credentials.js';
import type { CredentialStore } from '../ports/credential-store.js';

export interface AuthenticatorOptions {
  /** How long a found credential is trusted before re-reading it; bounds how late a revocation bites. @default 60000 */
  readonly positiveTtlMs?: number;
  /** How long an unknown key is remembered as unknown, so floods of bad keys don't each cost a read. @default 10000 */
  readonly negativeTtlMs?: number;
  /** @default 10000 */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

/** Resolves secrets to credentials through a small in-memory cache in front of the store. */
export class Authenticator {
  private readonly cache = new Map<string, { credential: Credential | undefined; expires: number }>();
  private readonly positiveTtlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly store: CredentialStore,
    options: AuthenticatorOptions = {},
  ) {
    this.positiveTtlMs = options.positiveTtlMs ?? 60_000;
    this.negativeTtlMs = options.negativeTtlMs ?? 10_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** The usable credential of that kind for a secret, or undefined (unknown, revoked or wrong kind). */
  async authenticate(secret: string | undefined, kind: CredentialKind): Promise<Credential | undefined> {
    if (!secret) return undefined;
    const keyHash = hashSecret(secret);
    const cached = this.cache.get(keyHash);
    if (cached && cached.expires > this.now()) return isUsable(cached.credential, kind) ? cached.credential : undefined;
    const credential = await this.store.find(keyHash);
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(keyHash, {
      credential,
      expires: this.now() + (credential ? this.positiveTtlMs : this.negativeTtlMs),
    });
    return isUsable(credential, kind) ? credential : undefined;
  }
}
