import { Catalog } from '../contracts.js';
import { DomainError, type ValidationIssue } from '../domain/errors.js';
import { isIso8601 } from '../domain/events.js';
import type { ProfileConfig } from '../domain/profile-config.js';
import { parseCondition, parseSegmentBody, SegmentIdPattern } from '../domain/segments/condition.js';
import { dependentsOf, referenceProblems, SegmentSet } from '../domain/segments/segment-set.js';
import { segmentSql } from '../domain/segments/sql.js';
import type { LakeQuery } from '../ports/lake-query.js';
import type { AppLogger } from '../ports/logger.js';
import { SegmentConflictError, type SegmentFields, type SegmentStore, type StoredSegment } from '../ports/segment-store.js';
import { definitionOf, saveSegment } from './segment-source.js';

/** Base error of the segment API; `status` is the HTTP status it maps to. */
export class SegmentApiError extends DomainError {
  readonly details: readonly ValidationIssue[];

  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
    details?: readonly ValidationIssue[] | string,
  ) {
    super(message);
    this.details = typeof details === 'string' ? [{ field: details, reason: message }] : (details ?? []);
  }
}

/** How long a backfill waits before it reads the lake, and why (docs/segments.md, "Backfill"). */
export interface BackfillTiming {
  /** Longest a function serves segment definitions it read earlier (CachedSegmentSource). */
  readonly definitionsMaxAgeMs: number;
  /** Longest the archiver takes to write an event to the lake after the resolver could have applied it. */
  readonly archiverLagMs: number;
}

export interface SegmentServiceDependencies {
  readonly store: SegmentStore;
  /** The lake: members are read from its `segment_members`. */
  readonly lake: LakeQuery;
  readonly config: ProfileConfig;
  readonly timing: BackfillTiming;
  readonly logger: AppLogger;
  readonly now: () => Date;
}

/** A segment as the API shows it. */
export interface SegmentView {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly condition: unknown;
  readonly version: number;
  /** `backfilling`, `ready`, or `deleting` while its members' exits are recorded. */
  readonly status: StoredSegment['status'];
  readonly memberCount: number;
  /** While backfilling: the phase, and how far it has come. */
  readonly backfill: {
    readonly phase: string;
    readonly requestedAt: string;
    readonly notBefore: string;
    readonly profilesSeeded: number;
    readonly eventsSeeded: number;
    readonly profilesEvaluated: number;
  } | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface MembersPage {
  readonly members: ReadonlyArray<{ readonly profileId: string; readonly since: string }>;
  readonly nextCursor: string | null;
}

const iso = (at: number): string => new Date(at).toISOString();

export function segmentView(s: StoredSegment): SegmentView {
  return {
    id: s.id,
    name: s.name,
    ...(s.description === undefined ? {} : { description: s.description }),
    condition: s.condition,
    version: s.version,
    status: s.status,
    memberCount: Math.max(0, s.memberCount),
    backfill: s.backfill
      ? {
          phase: s.backfill.phase,
          requestedAt: iso(s.backfill.requestedAt),
          notBefore: iso(s.backfill.notBefore),
          profilesSeeded: s.backfill.profilesSeeded,
          eventsSeeded: s.backfill.eventsSeeded,
          profilesEvaluated: s.backfill.profilesEvaluated,
        }
      : null,
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
  };
}

/** JSON with object keys sorted: two conditions that differ only in key order are the same condition. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

const encodeCursor = (profileId: string): string => Buffer.from(profileId).toString('base64url');
function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (text === '' || Buffer.from(text).toString('base64url') !== cursor) throw new SegmentApiError(400, 'cursor is not one this API returned', 'cursor');
  return text;
}

/** The id a previewed condition is checked under; no stored segment can have it (ids start with a letter or digit). */
const PreviewId = '-preview';

const sqlText = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/**
 * The segment API: definitions are checked, stored and versioned here; the segmentation function
 * backfills and deletes them (use-cases/segmenter.ts). Every write is conditional on the
 * revision read, so two admins changing one segment at once get a 409, never a lost update.
 */
export class SegmentService {
  constructor(private readonly deps: SegmentServiceDependencies) {}

  async list(): Promise<SegmentView[]> {
    return (await this.deps.store.list()).map(segmentView);
  }

  async get(id: string): Promise<SegmentView> {
    return segmentView(await this.stored(id));
  }

  /** Creates or changes a segment. A new or changed condition is backfilled; a new name or description is not. */
  async put(id: string, body: unknown): Promise<{ segment: SegmentView; created: boolean }> {
    this.checkId(id);
    const parsed = parseSegmentBody(body, this.deps.config);
    if (!parsed.ok) throw new SegmentApiError(400, `${parsed.issues[0]!.field} ${parsed.issues[0]!.reason}`, parsed.issues);
    const all = await this.deps.store.list();
    const references = this.referenceMap(all);
    const problems = referenceProblems(id, parsed.segment.references, references);
    if (problems.length > 0) throw new SegmentApiError(400, `${problems[0]!.field} ${problems[0]!.reason}`, problems);

    const existing = all.find((s) => s.id === id);
    if (existing?.status === 'deleting') throw new SegmentApiError(409, `segment ${id} is being deleted; create it again once GET answers 404`, 'id');
    const now = this.deps.now().getTime();
    const changed = !existing || canonical(existing.condition) !== canonical(parsed.segment.condition);
    const fields: SegmentFields = {
      id,
      name: parsed.segment.name,
      ...(parsed.segment.description === undefined ? {} : { description: parsed.segment.description }),
      condition: parsed.segment.condition,
      version: changed ? (existing?.version ?? 0) + 1 : existing.version,
      status: changed ? 'backfilling' : existing.status,
      ...(changed ? { backfill: this.newBackfill(now) } : existing.backfill ? { backfill: existing.backfill } : {}),
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    await this.conditionally(() => this.deps.store.save(fields, existing?.revision, existing ? undefined : 0), id);
    if (changed) {
      // Segments that name this one change with it: they are backfilled again too.
      for (const dependent of dependentsOf(id, references)) {
        const other = all.find((s) => s.id === dependent);
        if (!other || other.status === 'deleting') continue;
        await this.conditionally(() => saveSegment(this.deps.store, other, { version: other.version + 1, status: 'backfilling', backfill: this.newBackfill(now), updatedAt: now }), dependent);
      }
    }
    this.deps.logger.info('segment stored', { segmentId: id, version: fields.version, backfill: changed });
    return { segment: segmentView(await this.stored(id)), created: !existing };
  }

  /**
   * Starts deleting a segment: its members' exits are recorded by the segmentation function,
   * which then removes it. Refused while other segments name it.
   */
  async delete(id: string): Promise<SegmentView> {
    const all = await this.deps.store.list();
    const segment = all.find((s) => s.id === id);
    if (!segment) throw new SegmentApiError(404, `no segment ${id}`, 'id');
    const naming = all.filter((s) => s.id !== id && s.status !== 'deleting' && this.referencesOf(s).includes(id)).map((s) => s.id);
    if (naming.length > 0) throw new SegmentApiError(409, `segments ${naming.join(', ')} name ${id}; change or delete them first`, 'id');
    if (segment.status !== 'deleting') {
      await this.conditionally(() => saveSegment(this.deps.store, segment, { status: 'deleting', updatedAt: this.deps.now().getTime() }, { withoutBackfill: true }), id);
      this.deps.logger.info('segment deletion requested', { segmentId: id });
    }
    return segmentView(await this.stored(id));
  }

  /**
   * How many people a condition names now, counted by its SQL over the lake: what a segment with
   * it would hold once backfilled, without storing anything. The lake trails the stream by the
   * archiver's window, so the newest events may not count yet.
   */
  async preview(body: unknown): Promise<{ count: number; at: string }> {
    if (typeof body !== 'object' || body === null || Array.isArray(body) || !Object.hasOwn(body, 'condition')) {
      throw new SegmentApiError(400, 'the body must be a JSON object: { "condition": { ... } }', 'condition');
    }
    const parsed = parseCondition((body as { condition: unknown }).condition, this.deps.config);
    if (!parsed.node) throw new SegmentApiError(400, `${parsed.issues[0]!.field} ${parsed.issues[0]!.reason}`, parsed.issues);
    const all = await this.deps.store.list();
    const problems = referenceProblems(PreviewId, parsed.references, this.referenceMap(all));
    if (problems.length > 0) throw new SegmentApiError(400, `${problems[0]!.field} ${problems[0]!.reason}`, problems);
    const set = new SegmentSet(all.map(definitionOf), this.deps.config);
    const at = this.deps.now().getTime();
    const sql = segmentSql(parsed.node, this.deps.config, at, (other) => set.conditionOf(other));
    const rows = await this.deps.lake.query(`SELECT count(DISTINCT profile_id) AS members FROM (${sql}) AS preview`);
    return { count: Number(rows[0]?.members ?? 0), at: iso(at) };
  }

  /** Members as the lake records them (entries and exits delivered so far), by profile id. */
  async members(id: string, limit: number, cursor?: string): Promise<MembersPage> {
    this.checkId(id);
    await this.stored(id);
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    const sql = [
      `SELECT profile_id, since FROM ${Catalog.segmentMembersView}`,
      `WHERE segment_id = ${sqlText(id)}${after === undefined ? '' : ` AND profile_id > ${sqlText(after)}`}`,
      `ORDER BY profile_id LIMIT ${limit + 1}`,
    ].join(' ');
    const rows = await this.deps.lake.query(sql);
    const members = rows.slice(0, limit).map((r) => ({ profileId: String(r.profile_id), since: String(r.since) }));
    const last = members.at(-1);
    return { members, nextCursor: rows.length > limit && last ? encodeCursor(last.profileId) : null };
  }

  /** The segment as one SQL statement over the lake, evaluated at `at` (ISO) or now. */
  async sql(id: string, at?: string): Promise<{ sql: string; at: string }> {
    if (at !== undefined && !isIso8601(at)) throw new SegmentApiError(400, 'at must be an ISO-8601 date-time with a time zone, e.g. 2026-11-01T12:00:00Z', 'at');
    const instant = at === undefined ? this.deps.now().getTime() : Date.parse(at);
    const all = await this.deps.store.list();
    const set = new SegmentSet(all.map(definitionOf), this.deps.config);
    const segment = all.find((s) => s.id === id);
    if (!segment || segment.status === 'deleting') throw new SegmentApiError(404, `no segment ${id}`, 'id');
    const node = set.conditionOf(id);
    if (!node) throw new SegmentApiError(409, `segment ${id} no longer compiles under the profile rules; PUT it again`, 'condition');
    return { sql: segmentSql(node, this.deps.config, instant, (other) => set.conditionOf(other)), at: iso(instant) };
  }

  private async stored(id: string): Promise<StoredSegment> {
    this.checkId(id);
    const segment = await this.deps.store.get(id);
    if (!segment) throw new SegmentApiError(404, `no segment ${id}`, 'id');
    return segment;
  }

  private checkId(id: string): void {
    if (!SegmentIdPattern.test(id)) throw new SegmentApiError(400, `segment ids match ${SegmentIdPattern.source}: lower-case letters, digits, - and _, at most 64`, 'id');
  }

  private newBackfill(now: number): NonNullable<SegmentFields['backfill']> {
    const { definitionsMaxAgeMs, archiverLagMs } = this.deps.timing;
    return { phase: 'waiting', requestedAt: now, notBefore: now + definitionsMaxAgeMs + archiverLagMs, eventsSeeded: 0, profilesSeeded: 0, profilesEvaluated: 0 };
  }

  private referencesOf(segment: StoredSegment): string[] {
    return parseCondition(segment.condition, this.deps.config).references.map((r) => r.id);
  }

  private referenceMap(all: readonly StoredSegment[]): Map<string, { references: string[]; deleting: boolean }> {
    return new Map(all.map((s) => [s.id, { references: this.referencesOf(s), deleting: s.status === 'deleting' }]));
  }

  private async conditionally(write: () => Promise<void>, id: string): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (error instanceof SegmentConflictError) throw new SegmentApiError(409, `segment ${id} was changed by another request at the same time; read it and try again`, 'id');
      throw error;
    }
  }
}
