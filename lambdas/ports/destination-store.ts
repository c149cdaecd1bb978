import type { Destination, DestinationSecret } from '../domain/destinations.js';

/** A destination as stored, with the revision conditional writes check and where it was declared. */
export interface StoredDestination {
  readonly destination: Destination;
  /** `api` when managed through the destination API; `config` when declared in the stack's config file (read-only). */
  readonly managedBy: 'api' | 'config';
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly revision: number;
}

/** Another writer changed the destination since it was read. */
export class DestinationConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DestinationConflictError';
  }
}

/** Destination definitions, without their secrets. */
export interface DestinationStore {
  list(): Promise<StoredDestination[]>;
  get(id: string): Promise<StoredDestination | undefined>;
  /** Creates (`expectedRevision` undefined) or replaces at that revision; DestinationConflictError otherwise. */
  save(destination: Destination, times: { createdAt: number; updatedAt: number }, expectedRevision: number | undefined): Promise<void>;
  remove(id: string, expectedRevision: number): Promise<void>;
}

/**
 * What routes events on the bus to a destination: a rule with its pattern and a target, and for
 * a webhook the credential it is called with (in AWS an EventBridge rule, connection and API
 * destination; locally the local bus's routing table). `apply` is idempotent: it creates or
 * updates; `remove` of a destination that has no route is not an error.
 */
export interface DestinationRouting {
  apply(destination: Destination, secret: DestinationSecret | undefined): Promise<void>;
  /** Whether a secret is already kept for the destination (so a PUT may leave `auth.value` out to keep it). */
  hasSecret(id: string): Promise<boolean>;
  remove(id: string): Promise<void>;
}
