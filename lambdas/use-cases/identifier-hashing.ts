import { hashedIdentifierValue, type IdentifierHasher } from '../domain/identifiers.js';
import type { SaltSource } from '../ports/privacy-salt.js';

/**
 * The hasher of identifier types stored hashed (docs/privacy.md), with the deployment's salt.
 * Hashing runs inside pure, synchronous domain code, so the salt is read before it: `load()` is
 * awaited once, before a function's first event.
 */
export class SaltedIdentifierHasher implements IdentifierHasher {
  private salt: string | undefined;

  constructor(private readonly source: SaltSource) {}

  async load(): Promise<void> {
    this.salt ??= await this.source.salt();
  }

  hash(type: string, value: string): string {
    if (this.salt === undefined) throw new Error('the identifier hasher was used before its salt was loaded');
    return hashedIdentifierValue(this.salt, type, value);
  }
}
