import { LakeLayout } from '../contracts.js';
import { decodeCollectedEvent } from '../domain/intake.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { StreamPosition, StreamTail } from '../ports/stream-tail.js';
import { readLines } from './lake-rows.js';
import { rejectionKeyPrefix, rejectionKeyTime } from './rejection-log.js';

/** One event as the live view shows it: accepted onto the stream, or refused with its reasons. */
export interface LiveEvent {
  /** Stable across reads, so a watcher can drop what it already shows. */
  readonly id: string;
  readonly receivedAt: string;
  readonly outcome: 'accepted' | 'refused';
  readonly sourceId?: string;
  readonly type?: string;
  readonly event?: string;
  readonly name?: string;
  readonly userId?: string;
  readonly anonymousId?: string;
  readonly messageId?: string;
  /** Why it was refused, one entry per field. */
  readonly issues?: ReadonlyArray<{ readonly field: string; readonly reason: string }>;
  /** The event as received (refused) or as it travels on the stream (accepted), as JSON text. */
  readonly payload: string;
}

export interface LivePage {
  /** Newest first. */
  readonly events: LiveEvent[];
  /** Pass back to read what came after. */
  readonly cursor: string;
}

export class InvalidLiveCursorError extends Error {
  constructor() {
    super('cursor is not one this API returned');
  }
}

interface Cursor {
  readonly shards: StreamPosition;
  /** When the last read listed refusals: the next lists from a little before it. */
  readonly listedUntil: string;
  /** Refusal keys already returned (or skipped) that the next read's listing will meet again. */
  readonly seen: readonly string[];
}

export const LiveTiming = {
  /** A first read shows accepted events from then on, and the last minute's refusals (why an event was refused is what people come to ask). */
  lookbackMs: 60_000,
  /** How far back each read lists refusals again (a request's longest run), skipping keys it returned. */
  overlapMs: 30_000,
  recordsPerShard: 200,
  /** Refusal objects read per call, the newest. */
  refusalObjects: 25,
  maxEvents: 200,
} as const;

export interface LiveEventsDependencies {
  readonly stream: StreamTail;
  readonly lake: ObjectStore;
  readonly now?: () => Date;
}

/**
 * The console's live view: what intake accepted (read from the stream's tail) and what it
 * refused (the newest `rejected/` objects), within seconds. Nothing runs between reads, so the
 * feed costs nothing while nobody watches.
 */
export class LiveEvents {
  private readonly now: () => Date;

  constructor(private readonly deps: LiveEventsDependencies) {
    this.now = deps.now ?? (() => new Date());
  }

  async read(cursorText?: string): Promise<LivePage> {
    const now = this.now();
    const cursor = cursorText ? decodeLiveCursor(cursorText) : undefined;
    // A first read lists the last minute exactly. A later one lists a little further back than it
    // read before, since refusal objects can land out of order by as much as a request takes,
    // and skips the keys it already returned.
    const from = cursor
      ? new Date(Math.max(Date.parse(cursor.listedUntil) - LiveTiming.overlapMs, now.getTime() - 2 * LiveTiming.lookbackMs))
      : new Date(now.getTime() - LiveTiming.lookbackMs);
    const [accepted, refused] = await Promise.all([
      this.deps.stream.read(cursor?.shards ?? {}, LiveTiming.recordsPerShard),
      this.refusals(from, new Set(cursor?.seen ?? []), now),
    ]);
    const events = [...accepted.records.map(acceptedEvent), ...refused.events]
      .sort((a, b) => b.receivedAt.localeCompare(a.receivedAt))
      .slice(0, LiveTiming.maxEvents);
    const next: Cursor = { shards: accepted.position, listedUntil: now.toISOString(), seen: refused.seen };
    return { events, cursor: Buffer.from(JSON.stringify(next)).toString('base64url') };
  }

  /** The newest refusals received from `from` on, skipping keys in `seen`; and the keys the next read must skip. */
  private async refusals(from: Date, seen: ReadonlySet<string>, now: Date): Promise<{ events: LiveEvent[]; seen: string[] }> {
    const listed: string[] = [];
    for (const day of daysBetween(from, now)) {
      const prefix = `${LakeLayout.rejectionsPrefix}dt=${day}/`;
      const startAfter = day === from.toISOString().slice(0, 10) ? rejectionKeyPrefix(from) : undefined;
      for await (const key of this.deps.lake.listKeys(prefix, startAfter)) if (rejectionKeyTime(key)) listed.push(key);
    }
    const unseen = listed.filter((key) => !seen.has(key));
    // A burst of refusals beyond what one read returns: the newest are shown, the rest skipped for good.
    const newest = unseen.slice(-LiveTiming.refusalObjects);
    const events = (await Promise.all(newest.map((key) => this.refusedEvents(key)))).flat();
    const overlapStart = now.getTime() - LiveTiming.overlapMs;
    return { events, seen: listed.filter((key) => rejectionKeyTime(key)!.getTime() >= overlapStart) };
  }

  private async refusedEvents(key: string): Promise<LiveEvent[]> {
    const lines = (await readLines(this.deps.lake, key)) ?? [];
    // One row per refused field: rows of the same event (same index) make one entry.
    const byEvent = new Map<string, { row: RejectionRow; issues: Array<{ field: string; reason: string }> }>();
    for (const line of lines) {
      const row = parseRow(line);
      if (!row) continue;
      const id = `${key}#${row.index ?? 'request'}`;
      const entry = byEvent.get(id) ?? { row, issues: [] };
      entry.issues.push({ field: row.field, reason: row.reason });
      byEvent.set(id, entry);
    }
    return [...byEvent].map(([id, { row, issues }]) => {
      const payload = parsePayload(row.payload);
      return {
        id,
        receivedAt: row.received_at,
        outcome: 'refused',
        sourceId: row.source_id,
        ...stringFields(payload),
        issues,
        payload: row.payload,
      };
    });
  }
}

interface RejectionRow {
  readonly received_at: string;
  readonly source_id: string;
  readonly index: number | null;
  readonly field: string;
  readonly reason: string;
  readonly payload: string;
}

function parseRow(line: string): RejectionRow | undefined {
  try {
    const row = JSON.parse(line) as Partial<RejectionRow>;
    return typeof row.received_at === 'string' && typeof row.reason === 'string' ? ({ field: '', payload: '', source_id: '', index: null, ...row } as RejectionRow) : undefined;
  } catch {
    return undefined;
  }
}

function parsePayload(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The fields the live view filters on, when the refused payload has them as strings. */
function stringFields(payload: Record<string, unknown>): Pick<LiveEvent, 'type' | 'event' | 'name' | 'userId' | 'anonymousId' | 'messageId'> {
  const fields: Record<string, string> = {};
  for (const name of ['type', 'event', 'name', 'userId', 'anonymousId', 'messageId'] as const) {
    const value = payload[name];
    if (typeof value === 'string' && value !== '') fields[name] = value;
  }
  return fields;
}

function acceptedEvent(record: { shardId: string; sequenceNumber: string; data: string; approximateArrivalTimestamp?: number }): LiveEvent {
  const text = Buffer.from(record.data, 'base64').toString('utf8');
  const event = decodeCollectedEvent(text);
  const receivedAt = event?.receivedAt ?? new Date(record.approximateArrivalTimestamp ?? 0).toISOString();
  return {
    id: `${record.shardId}/${record.sequenceNumber}`,
    receivedAt,
    outcome: 'accepted',
    ...(event ? { sourceId: event.sourceId, ...stringFields(event) } : {}),
    payload: text,
  };
}

function decodeLiveCursor(text: string): Cursor {
  try {
    const cursor = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<Cursor>;
    const valid =
      typeof cursor.listedUntil === 'string' &&
      !Number.isNaN(Date.parse(cursor.listedUntil)) &&
      typeof cursor.shards === 'object' &&
      cursor.shards !== null &&
      Object.values(cursor.shards).every((v) => typeof v === 'object' && v !== null && ['after', 'iterator'].every((k) => !(k in v) || typeof (v as Record<string, unknown>)[k] === 'string')) &&
      Array.isArray(cursor.seen) &&
      cursor.seen.every((k) => typeof k === 'string');
    if (valid) return cursor as Cursor;
  } catch {
    // Falls through to the error below.
  }
  throw new InvalidLiveCursorError();
}

/** `YYYY-MM-DD` of every UTC day from `from` to `to`, both included. */
function daysBetween(from: Date, to: Date): string[] {
  const days: string[] = [];
  for (let day = Date.parse(from.toISOString().slice(0, 10)); day <= to.getTime(); day += 86_400_000) days.push(new Date(day).toISOString().slice(0, 10));
  return days;
}
