import type { Credential } from '../../domain/credentials.js';
import type { CredentialStore } from '../../ports/credential-store.js';

/** Credentials in memory, with the DynamoDB store's conditions: for unit tests. */
export class InMemoryCredentialStore implements CredentialStore {
  private readonly items = new Map<string, Credential>();
  /** How many lookups reached the store (to see what a cache in front of it saves). */
  reads = 0;

  async find(keyHash: string): Promise<Credential | undefined> {
    this.reads++;
    const credential = this.items.get(keyHash);
    return credential && { ...credential };
  }

  async create(credential: Credential): Promise<boolean> {
    if (this.items.has(credential.keyHash)) return false;
    this.items.set(credential.keyHash, { ...credential });
    return true;
  }

  async revoke(keyHash: string, at: Date): Promise<boolean> {
    const credential = this.items.get(keyHash);
    if (!credential || credential.revokedAt !== undefined) return false;
    this.items.set(keyHash, { ...credential, revokedAt: at.toISOString() });
    return true;
  }

  async list(): Promise<Credential[]> {
    return [...this.items.values()].map((c) => ({ ...c }));
  }

  async ping(): Promise<void> {}
}
