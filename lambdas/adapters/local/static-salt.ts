import type { SaltSource } from '../../ports/privacy-salt.js';

/** A salt given as configuration (the local runtime keeps it in a private file of its data directory). */
export class StaticSalt implements SaltSource {
  constructor(private readonly value: string) {}

  async salt(): Promise<string> {
    return this.value;
  }
}
