import type { Destination } from '../../domain/destinations.js';
import { DestinationConflictError, type DestinationStore, type StoredDestination } from '../../ports/destination-store.js';

/** Destination definitions in memory, with the DynamoDB store's conditions, for unit tests. */
export class InMemoryDestinationStore implements DestinationStore {
  private readonly items = new Map<string, StoredDestination>();

  async list(): Promise<StoredDestination[]> {
    return [...this.items.values()].sort((a, b) => (a.destination.id < b.destination.id ? -1 : 1)).map((d) => structuredClone(d));
  }

  async get(id: string): Promise<StoredDestination | undefined> {
    const item = this.items.get(id);
    return item && structuredClone(item);
  }

  async save(destination: Destination, times: { createdAt: number; updatedAt: number }, expectedRevision: number | undefined): Promise<void> {
    if (this.items.get(destination.id)?.revision !== expectedRevision) throw new DestinationConflictError(`destination ${destination.id} changed since it was read`);
    this.items.set(destination.id, structuredClone({ destination, managedBy: 'api', ...times, revision: (expectedRevision ?? 0) + 1 }));
  }

  async remove(id: string, expectedRevision: number): Promise<void> {
    if (this.items.get(id)?.revision !== expectedRevision) throw new DestinationConflictError(`destination ${id} changed since it was read`);
    this.items.delete(id);
  }
}
