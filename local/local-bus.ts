import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ActivationEvent } from '../lambdas/domain/activation-events.js';
import { rulePattern, type Destination, type DestinationSecret } from '../lambdas/domain/destinations.js';
import { matchesEventPattern } from '../lambdas/domain/event-pattern.js';
import type { DestinationRouting } from '../lambdas/ports/destination-store.js';
import type { DeliveryDeadLetters, EventBus, HeldDeliveries, PutOutcome } from '../lambdas/ports/event-bus.js';
import type { AppLogger } from '../lambdas/ports/logger.js';
import type { Telemetry } from '../lambdas/ports/telemetry.js';
import { backoffDelay } from '../lambdas/support/retry.js';

/** How the local bus retries a destination, as a target's retry policy does in AWS. */
export interface LocalBusRetry {
  /** Attempts in all, the first included, before the event is dead-lettered. */
  readonly maxAttempts: number;
  /** Age after which an event is dead-lettered instead of tried again. */
  readonly maxAgeMs: number;
  /** Exponential backoff with full jitter: attempt n waits up to min(cap, base * 2^n). */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DefaultLocalBusRetry: LocalBusRetry = { maxAttempts: 8, maxAgeMs: 60 * 60 * 1000, baseDelayMs: 500, maxDelayMs: 30_000 };

export interface LocalBusOptions {
  /** Where routes, pending events, delivery receipts and dead letters live ($CDP_DATA_DIR/bus). */
  readonly directory: string;
  readonly logger: AppLogger;
  readonly telemetry: Telemetry;
  readonly retry?: LocalBusRetry;
  /** A webhook call taking longer fails (EventBridge's API destinations allow 5 s). @default 5000 */
  readonly timeoutMs?: number;
  /** How often pending events are looked at. @default 100 */
  readonly pollMs?: number;
  /** Webhook calls at once. @default 8 */
  readonly concurrency?: number;
  /** How long a delivery receipt is kept to recognise the same event put again. @default 7 days */
  readonly receiptRetentionMs?: number;
}

interface Route {
  readonly destination: Destination;
  readonly secret?: DestinationSecret;
}

/** The event as EventBridge hands it to a target: the envelope with its own id, account and region. */
export interface BusEnvelope extends ActivationEvent {
  readonly version: '0';
  readonly id: string;
  readonly account: string;
  readonly region: string;
  readonly resources: readonly string[];
}

/** One event on its way to one destination, as stored in a file until it is delivered or dead-lettered. */
export interface PendingDelivery {
  readonly destinationId: string;
  readonly event: BusEnvelope;
  readonly attempts: number;
  /** When the bus accepted it (epoch ms): its age counts from here. */
  readonly acceptedAt: number;
  readonly lastError?: string;
}

type Outcome = { readonly ok: true } | { readonly ok: false; readonly retry: boolean; readonly error: string };

const LocalAccount = '000000000000';
const LocalRegion = 'us-east-1';
const fileKey = (eventId: string): string => createHash('sha256').update(eventId).digest('hex').slice(0, 32);

/**
 * EventBridge on one machine (docs/activation.md, "The local bus"): events put on it are matched
 * against each destination's rule pattern at once, and each match is written to a file before the
 * put is acknowledged, so nothing accepted is lost to a crash. A loop delivers them: webhooks by
 * HTTP POST of the event (as API destinations send it), retried with exponential backoff and
 * jitter on network errors, timeouts, 429 and 5xx, and dead-lettered after the retry policy's
 * attempts or age, or at once on another 4xx; SQS and Lambda targets are logged as "would
 * deliver". A receipt per delivered event means the same event put again (a publisher that
 * crashed before acknowledging) is not delivered twice.
 *
 * Files, under `directory`: `routes.json` (mode 0600: it holds webhook secrets, as an
 * EventBridge connection does), `pending/<destination>/<due>-<key>.json`,
 * `delivered/<destination>/<key>`, `dead-letters/<destination>/<key>.json`.
 */
export class LocalEventBus implements EventBus, DestinationRouting, HeldDeliveries, DeliveryDeadLetters {
  private routes = new Map<string, Route>();
  private readonly retry: LocalBusRetry;
  private timer: NodeJS.Timeout | undefined;
  private tick: Promise<void> | undefined;
  private stopped = true;
  private readonly inFlight = new Set<string>();

  constructor(private readonly options: LocalBusOptions) {
    this.retry = options.retry ?? DefaultLocalBusRetry;
  }

  private get routesFile(): string {
    return join(this.options.directory, 'routes.json');
  }

  private dir(kind: 'pending' | 'delivered' | 'dead-letters', destinationId?: string): string {
    return destinationId === undefined ? join(this.options.directory, kind) : join(this.options.directory, kind, destinationId);
  }

  async start(): Promise<void> {
    await mkdir(this.options.directory, { recursive: true });
    try {
      const saved = JSON.parse(await readFile(this.routesFile, 'utf8')) as Record<string, Route>;
      this.routes = new Map(Object.entries(saved));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await this.pruneReceipts();
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.tick;
  }

  // --- DestinationRouting: the rules, and the secrets webhooks are called with.

  async apply(destination: Destination, secret: DestinationSecret | undefined): Promise<void> {
    const kept = secret ?? this.routes.get(destination.id)?.secret;
    this.routes.set(destination.id, { destination, ...(destination.type === 'webhook' && destination.auth && kept ? { secret: kept } : {}) });
    await this.saveRoutes();
  }

  async hasSecret(id: string): Promise<boolean> {
    return this.routes.get(id)?.secret !== undefined;
  }

  async remove(id: string): Promise<void> {
    if (!this.routes.delete(id)) return;
    await this.saveRoutes();
  }

  private async saveRoutes(): Promise<void> {
    const temporary = `${this.routesFile}.${randomUUID()}.tmp`;
    await writeFile(temporary, JSON.stringify(Object.fromEntries(this.routes)), { mode: 0o600 });
    await rename(temporary, this.routesFile);
  }

  // --- EventBus: accept, match, store.

  async putEvents(events: readonly ActivationEvent[]): Promise<PutOutcome[]> {
    const outcomes: PutOutcome[] = [];
    for (const event of events) {
      try {
        const envelope: BusEnvelope = { version: '0', id: randomUUID(), account: LocalAccount, region: LocalRegion, resources: [], ...event };
        for (const { destination } of this.routes.values()) {
          if (matchesEventPattern(rulePattern(destination), envelope)) await this.enqueue(destination.id, envelope);
        }
        outcomes.push({ ok: true });
      } catch (error) {
        outcomes.push({ ok: false, code: 'InternalFailure', message: String(error) });
      }
    }
    return outcomes;
  }

  private async enqueue(destinationId: string, event: BusEnvelope): Promise<void> {
    // A copy already pending is harmless: delivery checks the receipt again and drops it.
    if (await this.delivered(destinationId, event.detail.eventId)) return;
    await writePending(this.options.directory, { destinationId, event, attempts: 0, acceptedAt: Date.now() }, Date.now());
  }

  private delivered(destinationId: string, eventId: string): Promise<boolean> {
    return exists(join(this.dir('delivered', destinationId), fileKey(eventId)));
  }

  // --- Delivery.

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.tick = this.deliverDue()
        .catch((error: unknown) => this.options.logger.error('local bus delivery failed; trying again', { error: String(error) }))
        .finally(() => this.schedule());
    }, this.options.pollMs ?? 100);
  }

  /** Delivers every pending event whose time has come; resolves when this round is done. */
  async deliverDue(): Promise<void> {
    const due: Array<{ file: string; destinationId: string }> = [];
    const now = Date.now();
    for (const destinationId of await listDirectory(this.dir('pending'))) {
      // One copy of an event per round: a second copy (put again, or redriven) waits for the receipt of the first.
      const keys = new Set<string>();
      for (const name of (await listDirectory(this.dir('pending', destinationId))).sort()) {
        if (name.startsWith('.') || !name.endsWith('.json')) continue;
        if (Number(name.slice(0, 13)) > now) break;
        const key = name.slice(14, -'.json'.length);
        const file = join(this.dir('pending', destinationId), name);
        if (!this.inFlight.has(file) && !keys.has(key)) due.push({ file, destinationId });
        keys.add(key);
      }
    }
    let next = 0;
    const workers = Array.from({ length: Math.min(this.options.concurrency ?? 8, due.length) }, async () => {
      while (next < due.length && !this.stopped) {
        const item = due[next++]!;
        this.inFlight.add(item.file);
        try {
          await this.deliverFile(item.file, item.destinationId);
        } finally {
          this.inFlight.delete(item.file);
        }
      }
    });
    await Promise.all(workers);
  }

  private async deliverFile(file: string, destinationId: string): Promise<void> {
    let delivery: PendingDelivery;
    try {
      delivery = JSON.parse(await readFile(file, 'utf8')) as PendingDelivery;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const route = this.routes.get(destinationId);
    if (!route) {
      // As on EventBridge: once a rule is gone, what it had matched is not delivered.
      this.options.logger.warn('destination removed; its pending event is dropped', { destination: destinationId, eventId: delivery.event.detail.eventId });
      await rm(file, { force: true });
      return;
    }
    if (await this.delivered(destinationId, delivery.event.detail.eventId)) {
      await rm(file, { force: true });
      return;
    }
    const outcome = await this.send(route, delivery.event);
    const key = fileKey(delivery.event.detail.eventId);
    if (outcome.ok) {
      const delivered = this.dir('delivered', destinationId);
      await mkdir(delivered, { recursive: true });
      await writeFile(join(delivered, key), delivery.event.detail.eventId);
      await rm(file, { force: true });
      this.options.telemetry.count('DestinationDeliveries', 1, { destination: destinationId });
      return;
    }
    this.options.telemetry.count('DestinationDeliveryFailures', 1, { destination: destinationId });
    const attempts = delivery.attempts + 1;
    const failed: PendingDelivery = { ...delivery, attempts, lastError: outcome.error };
    const now = Date.now();
    const delay = Math.max(1, backoffDelay(attempts, this.retry.baseDelayMs, this.retry.maxDelayMs));
    if (!outcome.retry || attempts >= this.retry.maxAttempts || now + delay - delivery.acceptedAt > this.retry.maxAgeMs) {
      const letters = this.dir('dead-letters', destinationId);
      await mkdir(letters, { recursive: true });
      await writeFile(join(letters, `${key}.json`), JSON.stringify({ ...failed, deadLetteredAt: new Date(now).toISOString() }));
      await rm(file, { force: true });
      this.options.telemetry.count('DestinationDeadLetters', 1, { destination: destinationId });
      this.options.logger.error('an activation event was dead-lettered; `npm run redrive -- --destinations` delivers it again', {
        destination: destinationId,
        eventId: delivery.event.detail.eventId,
        attempts,
        error: outcome.error,
      });
      return;
    }
    await writePending(this.options.directory, failed, now + delay);
    await rm(file, { force: true });
  }

  private async send(route: Route, event: BusEnvelope): Promise<Outcome> {
    const { destination } = route;
    if (destination.type !== 'webhook') {
      // No SQS or Lambda here: say what AWS would deliver, by ids (logs never carry identifiers or traits).
      this.options.logger.info('would deliver', {
        destination: destination.id,
        type: destination.type,
        target: destination.type === 'sqs' ? destination.queueArn : destination.functionArn,
        eventId: event.detail.eventId,
        detailType: event['detail-type'],
        profileId: event.detail.profileId,
      });
      return { ok: true };
    }
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'cdp-local-bus (EventBridge API destination stand-in)' };
    if (route.secret?.type === 'api_key') headers[route.secret.header.toLowerCase()] = route.secret.value;
    if (route.secret?.type === 'basic') headers.authorization = `Basic ${Buffer.from(`${route.secret.username}:${route.secret.password}`).toString('base64')}`;
    try {
      const response = await fetch(destination.url, { method: 'POST', headers, body: JSON.stringify(event), signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000) });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { ok: true };
      // EventBridge retries API destinations on 429 and 5xx (and 401/407/408, which a refreshed credential may fix); other 4xx are final.
      const retry = response.status >= 500 || [401, 407, 408, 409, 429].includes(response.status);
      return { ok: false, retry, error: `HTTP ${response.status}` };
    } catch (error) {
      return { ok: false, retry: true, error: (error as Error).name === 'TimeoutError' ? 'timed out' : String((error as Error).cause ?? error) };
    }
  }

  // --- Dead letters.

  /** Removes pending events and dead letters about the given profiles (an erasure); receipts hold event ids only and stay. */
  async eraseProfiles(profileIds: ReadonlySet<string>): Promise<number> {
    let removed = 0;
    for (const kind of ['pending', 'dead-letters'] as const) {
      for (const destinationId of await listDirectory(this.dir(kind))) {
        for (const name of await listDirectory(this.dir(kind, destinationId))) {
          const file = join(this.dir(kind, destinationId), name);
          if (name.startsWith('.')) continue;
          const delivery = JSON.parse(await readFile(file, 'utf8').catch(() => 'null')) as PendingDelivery | null;
          if (delivery && profileIds.has(delivery.event.detail.profileId)) {
            await rm(file, { force: true });
            removed++;
          }
        }
      }
    }
    return removed;
  }

  async counts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const letter of await this.deadLetters()) counts[letter.destinationId] = (counts[letter.destinationId] ?? 0) + 1;
    return counts;
  }

  /** Moves a destination's dead letters back to pending; the next delivery round picks them up. */
  async redrive(destinationId: string): Promise<number> {
    return (await redriveBusDeadLetters(this.options.directory, { destination: destinationId }))[destinationId] ?? 0;
  }

  /** Dead letters waiting, per destination. */
  async deadLetters(): Promise<Array<PendingDelivery & { readonly file: string }>> {
    const letters: Array<PendingDelivery & { file: string }> = [];
    for (const destinationId of await listDirectory(this.dir('dead-letters'))) {
      for (const name of await listDirectory(this.dir('dead-letters', destinationId))) {
        const file = join(this.dir('dead-letters', destinationId), name);
        letters.push({ ...(JSON.parse(await readFile(file, 'utf8')) as PendingDelivery), file });
      }
    }
    return letters;
  }

  private async pruneReceipts(): Promise<void> {
    const cutoff = Date.now() - (this.options.receiptRetentionMs ?? 7 * 24 * 60 * 60 * 1000);
    for (const destinationId of await listDirectory(this.dir('delivered'))) {
      const dir = this.dir('delivered', destinationId);
      for (const name of await listDirectory(dir)) {
        const info = await stat(join(dir, name)).catch(() => undefined);
        if (info && info.mtimeMs < cutoff) await rm(join(dir, name), { force: true });
      }
    }
  }
}

/**
 * Hands every dead letter under a bus directory back to its destination's pending events, with
 * its attempts reset: what `npm run redrive -- --destinations` does while `npm start` runs (the
 * bus picks them up on its next look). Returns how many were redriven, per destination.
 */
export async function redriveBusDeadLetters(directory: string, options: { dryRun?: boolean; destination?: string } = {}): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const root = join(directory, 'dead-letters');
  for (const destinationId of await listDirectory(root)) {
    if (options.destination && destinationId !== options.destination) continue;
    for (const name of await listDirectory(join(root, destinationId))) {
      const file = join(root, destinationId, name);
      const { event } = JSON.parse(await readFile(file, 'utf8')) as PendingDelivery;
      counts[destinationId] = (counts[destinationId] ?? 0) + 1;
      if (options.dryRun) continue;
      await writePending(directory, { destinationId, event, attempts: 0, acceptedAt: Date.now() }, Date.now());
      await rm(file, { force: true });
    }
  }
  return counts;
}

/** Writes one pending delivery, due at `dueAt`: `pending/<destination>/<due>-<key>.json`, atomically (a temporary file renamed). */
async function writePending(directory: string, delivery: PendingDelivery, dueAt: number): Promise<void> {
  const pending = join(directory, 'pending', delivery.destinationId);
  await mkdir(pending, { recursive: true });
  const temporary = join(pending, `.${randomUUID()}.tmp`);
  await writeFile(temporary, JSON.stringify(delivery));
  await rename(temporary, join(pending, `${String(dueAt).padStart(13, '0')}-${fileKey(delivery.event.detail.eventId)}.json`));
}

async function listDirectory(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

async function exists(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined)) !== undefined;
}
