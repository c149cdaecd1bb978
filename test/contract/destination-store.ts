import { describe, expect, it } from 'vitest';
import { parseDestination } from '../../lambdas/domain/destinations.js';
import { DestinationConflictError, type DestinationStore } from '../../lambdas/ports/destination-store.js';

const hook = (id: string, url = 'https://hooks.example.com/x') =>
  parseDestination(id, { type: 'webhook', url, auth: { type: 'api_key', header: 'x-key', value: 'secret' }, pattern: { 'detail-type': ['Segment Entered'] }, traits: ['email'] }, { allowLoopbackHttp: false }).destination;

/** What every DestinationStore promises (in memory and on DynamoDB): revisions checked on every write, and no secret kept. */
export function destinationStoreContract(name: string, store: () => Promise<DestinationStore>): void {
  describe(`DestinationStore contract: ${name}`, () => {
    it('creates once, replaces at the revision it read, lists and removes', async () => {
      const s = await store();
      await s.save(hook('a'), { createdAt: 1, updatedAt: 1 }, undefined);
      await expect(s.save(hook('a'), { createdAt: 1, updatedAt: 2 }, undefined)).rejects.toBeInstanceOf(DestinationConflictError);
      await s.save(hook('a', 'https://hooks.example.com/y'), { createdAt: 1, updatedAt: 2 }, 1);
      await expect(s.save(hook('a'), { createdAt: 1, updatedAt: 3 }, 1)).rejects.toBeInstanceOf(DestinationConflictError);
      await s.save(hook('b'), { createdAt: 5, updatedAt: 5 }, undefined);
      expect(await s.get('a')).toEqual({ destination: hook('a', 'https://hooks.example.com/y'), managedBy: 'api', createdAt: 1, updatedAt: 2, revision: 2 });
      expect((await s.list()).map((d) => d.destination.id)).toEqual(['a', 'b']);
      expect(JSON.stringify(await s.list())).not.toContain('secret');
      await expect(s.remove('a', 1)).rejects.toBeInstanceOf(DestinationConflictError);
      await s.remove('a', 2);
      expect(await s.get('a')).toBeUndefined();
    });
  });
}
