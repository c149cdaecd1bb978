import { PersonMatcher } from '../domain/privacy.js';
import type { ProfileConfig } from '../domain/profile-config.js';
import type { SaltSource } from '../ports/privacy-salt.js';
import type { SuppressionList } from '../ports/privacy-store.js';
import type { Telemetry } from '../ports/telemetry.js';

export interface SuppressionOptions {
  /** Longest a copy of the list is used (PrivacyTiming.suppressionMaxAgeMs). */
  readonly maxAgeMs: number;
  readonly telemetry: Telemetry;
  /** Where the filter runs, as the `EventsSuppressed` metric's dimension. */
  readonly stage: string;
}

/**
 * The suppression list as each function applies it: a copy read at most `maxAgeMs` ago, one read
 * at a time. While the list is empty (most deployments, most of the time) nothing is hashed and
 * the salt is never fetched. Suppressed events are counted, never logged.
 */
export class SuppressionFilter {
  private cached: { at: number; matcher: PersonMatcher | undefined } | undefined;
  private loading: Promise<PersonMatcher | undefined> | undefined;

  constructor(
    private readonly list: SuppressionList,
    private readonly salt: SaltSource,
    private readonly config: ProfileConfig,
    private readonly options: SuppressionOptions,
  ) {}

  /** Who is suppressed now, or undefined when nobody is. */
  async matcher(): Promise<PersonMatcher | undefined> {
    if (this.cached && Date.now() - this.cached.at < this.options.maxAgeMs) return this.cached.matcher;
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  /** The items not about a suppressed person; `suppressed` decides with the list's matcher. */
  async keep<T>(items: readonly T[], suppressed: (item: T, matcher: PersonMatcher) => boolean): Promise<T[]> {
    const matcher = items.length > 0 ? await this.matcher() : undefined;
    if (!matcher) return [...items];
    const kept = items.filter((item) => !suppressed(item, matcher));
    if (kept.length < items.length) this.options.telemetry.count('EventsSuppressed', items.length - kept.length, { stage: this.options.stage });
    return kept;
  }

  private async load(): Promise<PersonMatcher | undefined> {
    const at = Date.now();
    const hashes = await this.list.hashes();
    const matcher = hashes.size === 0 ? undefined : new PersonMatcher(await this.salt.salt(), this.config, hashes);
    this.cached = { at, matcher };
    return matcher;
  }
}
