import { describe, expect, it } from 'vitest';
import { InMemoryObjectStore } from '../../lambdas/adapters/memory/in-memory-object-store.js';
import { InMemoryProfileStore } from '../../lambdas/adapters/memory/in-memory-profile-store.js';
import { InMemorySegmentStore } from '../../lambdas/adapters/memory/in-memory-segment-store.js';
import { noTelemetry, silentLogger } from '../../lambdas/adapters/silent-observability.js';
import { newPrivacyRequest, type PrivacyRequest } from '../../lambdas/domain/privacy-request.js';
import { privacyHash } from '../../lambdas/domain/privacy.js';
import { defaultProfileConfig as config } from '../../lambdas/domain/profile-config.js';
import { PrivacyRequestConflictError, type PrivacyRequestStore, type StoredPrivacyRequest, type Suppression, type SuppressionList } from '../../lambdas/ports/privacy-store.js';
import { PrivacyWorker } from '../../lambdas/use-cases/privacy-worker.js';
import { resolveEvents, type ResolveDependencies } from '../../lambdas/use-cases/resolve.js';
import { collected } from '../helpers/events.js';

/** Requests and the suppression list in memory, with the DynamoDB store's revision checks. */
class MemoryPrivacyStore implements PrivacyRequestStore, SuppressionList {
  readonly requests = new Map<string, StoredPrivacyRequest>();
  readonly suppressed = new Map<string, Suppression>();
  async create(request: PrivacyRequest) {
    this.requests.set(request.id, { request: structuredClone(request), revision: 1 });
  }
  async get(id: string) {
    const stored = this.requests.get(id);
    return stored && structuredClone(stored);
  }
  async update(request: PrivacyRequest, revision: number) {
    if (this.requests.get(request.id)?.revision !== revision) throw new PrivacyRequestConflictError(request.id);
    this.requests.set(request.id, { request: structuredClone(request), revision: revision + 1 });
  }
  async open() {
    return [...this.requests.values()].filter((s) => s.request.status !== 'done' && s.request.status !== 'failed').map((s) => s.request.id);
  }
  async list(limit: number, after?: string) {
    const newestFirst = [...this.requests.keys()].sort().reverse().filter((id) => after === undefined || id < after);
    const ids = newestFirst.slice(0, limit);
    return { requests: ids.map((id) => structuredClone(this.requests.get(id)!.request)), ...(newestFirst.length > limit ? { next: ids.at(-1)! } : {}) };
  }
  async add(suppressions: readonly Suppression[]) {
    for (const s of suppressions) this.suppressed.set(s.hash, s);
  }
  async remove(hashes: readonly string[]) {
    for (const hash of hashes) this.suppressed.delete(hash);
  }
  async hashes() {
    return new Set(this.suppressed.keys());
  }
  async all() {
    return [...this.suppressed.values()];
  }
}

describe('the privacy worker', () => {
  it('ends with nothing left when an event that read the suppression list too early lands during the erasure', async () => {
    const profiles = new InMemoryProfileStore();
    const now = () => new Date('2026-11-23T10:00:00Z');
    // The stream's resolver, as one whose copy of the suppression list is older than the suppression.
    const racing: ResolveDependencies = { store: profiles, config, telemetry: noTelemetry, logger: silentLogger, now };
    await resolveEvents([collected({ type: 'identify', userId: 'ana', anonymousId: 'a1', traits: { email: 'ana@example.com' }, at: '2026-11-23T09:00:00Z' })], racing);
    const privacy = new MemoryPrivacyStore();
    let raced = false;
    const store = Object.assign(Object.create(profiles) as InMemoryProfileStore, {
      erase: async (ids: readonly string[], identifiers: Parameters<InMemoryProfileStore['erase']>[1]) => {
        const erased = await profiles.erase(ids, identifiers);
        if (!raced) {
          raced = true;
          // Lands just after the profiles went: a new device of hers, with her email.
          await resolveEvents([collected({ type: 'identify', anonymousId: 'a2', traits: { email: 'ana@example.com' }, at: '2026-11-23T09:59:00Z' })], racing);
        }
        return erased;
      },
    });
    const worker = new PrivacyWorker({
      requests: privacy,
      suppressions: privacy,
      salt: { salt: async () => 'salt' },
      profiles: store,
      segments: new InMemorySegmentStore(),
      lake: new InMemoryObjectStore(),
      deadLetters: [],
      deliveries: [],
      announcer: { announce: async () => ({ accepted: true, published: 0 }) },
      config,
      settleMs: 0,
      telemetry: noTelemetry,
      logger: silentLogger,
      now,
    });
    const identifier = { type: 'user_id', value: 'ana' };
    await privacy.create(newPrivacyRequest('pr_race', 'erase', identifier, privacyHash('salt', identifier), now()));
    for (let run = 0; run < 10 && (await privacy.open()).length > 0; run++) await worker.run(Date.now() + 5_000);

    const { request } = (await privacy.get('pr_race'))!;
    expect(raced).toBe(true);
    expect(request).toMatchObject({ status: 'done', step: 'done' });
    expect(request.work).toBeUndefined();
    // The new device was found and suppressed too, and nothing of hers is left.
    expect(await privacy.hashes()).toContain(privacyHash('salt', { type: 'anonymous_id', value: 'a2' }));
    expect(await profiles.owners([identifier, { type: 'email', value: 'ana@example.com' }, { type: 'anonymous_id', value: 'a1' }, { type: 'anonymous_id', value: 'a2' }])).toEqual(new Map());
    expect((await profiles.scanProfiles()).profiles).toEqual([]);
  });
});
