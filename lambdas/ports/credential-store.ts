import type { Credential } from '../domain/credentials.js';

export interface CredentialStore {
  find(keyHash: string): Promise<Credential | undefined>;
  /** Stores a credential unless one with the same hash exists; returns false if it did. */
  create(credential: Credential): Promise<boolean>;
  revoke(keyHash: string, at: Date): Promise<boolean>;
  list(): Promise<Credential[]>;
  ping(): Promise<void>;
}
