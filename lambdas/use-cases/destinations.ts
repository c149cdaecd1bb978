import { randomUUID } from 'node:crypto';
import { testEvent } from '../domain/activation-events.js';
import type { DeliveryDeadLetters, DeliveryOutcome, DeliveryOutcomes, EventBus } from '../ports/event-bus.js';
import { minutesWindow } from './overview.js';
import { DomainError, type ValidationIssue } from '../domain/errors.js';
import { DestinationError, parseDestination, rulePattern, type Destination, type WebhookPolicy } from '../domain/destinations.js';
import type { EventPattern } from '../domain/event-pattern.js';
import { DestinationConflictError, type DestinationRouting, type DestinationStore, type StoredDestination } from '../ports/destination-store.js';

/** Base error of the destination API; `status` is the HTTP status it maps to. */
export class DestinationApiError extends DomainError {
  constructor(
    readonly status: 400 | 404 | 409 | 503,
    message: string,
    readonly details: readonly ValidationIssue[] = [],
  ) {
    super(message);
  }
}

/** A destination as the API shows it: never its secret. */
export type DestinationView = Destination & {
  readonly managedBy: 'api' | 'config';
  /** The pattern its rule on the bus matches: its own, narrowed to the CDP's events for it. */
  readonly rulePattern: EventPattern;
  readonly createdAt: string | null;
  readonly updatedAt: string | null;
};

export interface DestinationServiceDependencies {
  readonly store: DestinationStore;
  readonly routing: DestinationRouting;
  /** Where test events are put. */
  readonly bus: EventBus;
  /** What the destinations gave up on. */
  readonly deadLetters: DeliveryDeadLetters;
  /** How deliveries went, as the bus counts them. */
  readonly deliveries: DeliveryOutcomes;
  /** Destinations declared in the stack's config file: listed, but read-only here. @default none */
  readonly declared?: readonly Destination[];
  readonly webhooks: WebhookPolicy;
  readonly now: () => Date;
}

const iso = (at: number | undefined): string | null => (at === undefined ? null : new Date(at).toISOString());

function view(stored: Pick<StoredDestination, 'destination' | 'managedBy'> & Partial<Pick<StoredDestination, 'createdAt' | 'updatedAt'>>): DestinationView {
  return { ...stored.destination, managedBy: stored.managedBy, rulePattern: rulePattern(stored.destination), createdAt: iso(stored.createdAt), updatedAt: iso(stored.updatedAt) };
}

/**
 * The destination API (docs/activation.md). A PUT routes first (the bus's rule, connection and
 * target) and then stores the definition, so a stored destination always has its route; a
 * DELETE removes the definition first, so the publisher stops publishing for it before the route
 * goes. Both are safe to repeat after a failure.
 */
export class DestinationService {
  constructor(private readonly deps: DestinationServiceDependencies) {}

  async list(): Promise<DestinationView[]> {
    const declared = (this.deps.declared ?? []).map((destination) => view({ destination, managedBy: 'config' }));
    const ids = new Set(declared.map((d) => d.id));
    const stored = (await this.deps.store.list()).filter((s) => !ids.has(s.destination.id)).map(view);
    return [...declared, ...stored].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async get(id: string): Promise<DestinationView> {
    const declared = this.declared(id);
    if (declared) return view({ destination: declared, managedBy: 'config' });
    const stored = await this.deps.store.get(id);
    if (!stored) throw new DestinationApiError(404, `no destination ${id}`);
    return view(stored);
  }

  async put(id: string, body: unknown): Promise<{ destination: DestinationView; created: boolean }> {
    this.refuseDeclared(id);
    let declaration;
    try {
      declaration = parseDestination(id, body, this.deps.webhooks);
    } catch (error) {
      if (error instanceof DestinationError) throw new DestinationApiError(400, error.message, error.details);
      throw error;
    }
    const { destination, secret } = declaration;
    const existing = await this.deps.store.get(id);
    if (destination.type === 'webhook' && destination.auth && !secret) {
      const same = existing?.destination.type === 'webhook' && JSON.stringify(existing.destination.auth) === JSON.stringify(destination.auth);
      if (!same || !(await this.deps.routing.hasSecret(id))) {
        const field = destination.auth.type === 'api_key' ? 'auth.value' : 'auth.password';
        throw new DestinationApiError(400, `${field} is required: there is no stored secret with this auth to keep`, [{ field, reason: 'is required unless the destination already has this auth' }]);
      }
    }
    await this.deps.routing.apply(destination, secret);
    const now = this.deps.now().getTime();
    try {
      await this.deps.store.save(destination, { createdAt: existing?.createdAt ?? now, updatedAt: now }, existing?.revision);
    } catch (error) {
      if (error instanceof DestinationConflictError) throw new DestinationApiError(409, `destination ${id} was changed by another request; read it and try again`);
      throw error;
    }
    return { destination: view({ destination, managedBy: 'api', createdAt: existing?.createdAt ?? now, updatedAt: now }), created: !existing };
  }

  /**
   * Puts a test event on the bus for one destination (docs/events.md). Its rule lets test events
   * through whatever its pattern asks for, so a webhook can be checked before any segment fires.
   */
  async sendTest(id: string): Promise<{ eventId: string; sentAt: string }> {
    await this.get(id);
    const sentAt = this.deps.now();
    const eventId = `test-${randomUUID()}`;
    const [outcome] = await this.deps.bus.putEvents([testEvent(id, sentAt, eventId)]);
    if (!outcome?.ok) throw new DestinationApiError(503, `the bus did not take the test event (${outcome?.code ?? 'no answer'}); try again`);
    return { eventId, sentAt: sentAt.toISOString() };
  }

  /** Dead letters waiting, by destination (docs/activation.md: in AWS, API-managed destinations share one queue). */
  async deadLetterCounts(): Promise<Record<string, number>> {
    return this.deps.deadLetters.counts();
  }

  /** Every destination's deliveries, failed attempts and dead letters over the last `minutes` (5 to 1440). */
  async deliveryOutcomes(minutes = 60): Promise<{ from: string; to: string; deliveries: Record<string, DeliveryOutcome> }> {
    const { from, to } = minutesWindow(minutes, this.deps.now());
    const ids = (await this.list()).map((d) => d.id);
    return { from: from.toISOString(), to: to.toISOString(), deliveries: await this.deps.deliveries.outcomes(ids, from, to) };
  }

  /** Puts one destination's dead letters back on the bus, for it only. */
  async redrive(id: string): Promise<{ redriven: number }> {
    await this.get(id);
    return { redriven: await this.deps.deadLetters.redrive(id) };
  }

  async delete(id: string): Promise<void> {
    this.refuseDeclared(id);
    const stored = await this.deps.store.get(id);
    if (!stored) {
      // A DELETE that failed after removing the definition left its route: take it away now.
      await this.deps.routing.remove(id);
      throw new DestinationApiError(404, `no destination ${id}`);
    }
    try {
      await this.deps.store.remove(id, stored.revision);
    } catch (error) {
      if (error instanceof DestinationConflictError) throw new DestinationApiError(409, `destination ${id} was changed by another request; read it and try again`);
      throw error;
    }
    await this.deps.routing.remove(id);
  }

  private declared(id: string): Destination | undefined {
    return this.deps.declared?.find((d) => d.id === id);
  }

  private refuseDeclared(id: string): void {
    if (this.declared(id)) throw new DestinationApiError(409, `destination ${id} is declared in the stack's destinations file; change it there and deploy`);
  }
}
