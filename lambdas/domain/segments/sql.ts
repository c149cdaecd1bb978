import { Catalog } from '../../contracts.js';
import type { ProfileConfig } from '../profile-config.js';
import type { ConditionNode } from './condition.js';
import type { TrackSpec } from './tracks.js';
import { NumericTextPattern, TimeTextPattern, timeAt, type Comparison, type Operand } from './values.js';

/**
 * A segment as one SQL statement over the lake's `events` joined to `identities`, that runs
 * unchanged on Athena (Trino) and on the local DuckDB engine (which defines `json_format`,
 * `regexp_like`, `json_extract_scalar` and `from_iso8601_timestamp` with Trino's meaning). Its
 * one column is `profile_id`: the members at the instant `at`.
 *
 * It states what the streaming evaluation computes, construct by construct (docs/segments.md):
 * events are deduplicated by messageId and belong to the profile their strongest identifier
 * belongs to; a trait is the value of the latest identify call carrying it (the earliest for
 * set-once traits); computed traits are aggregated as the profile aggregates them; an event
 * condition keeps the latest events of its track (ties kept) and aggregates those in the window;
 * values are read by the kind of value compared with; and any comparison with a missing value is
 * false except `not_exists`.
 */

const PathPart = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const DayMs = 86_400_000;

export class SegmentSqlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SegmentSqlError';
  }
}

const text = (value: string): string => `'${value.replaceAll("'", "''")}'`;
const iso = (at: number): string => new Date(at).toISOString();
const jsonPath = (path: readonly string[]): string => {
  for (const part of path) if (!PathPart.test(part)) throw new SegmentSqlError(`${JSON.stringify(part)} cannot be named in a JSON path`);
  return text(['$', ...path].join('.'));
};

/** How a JSON value (a trait, a property) is read for each kind of comparison, as values.ts reads it. */
const read = {
  present: (j: string): string => `(${j} IS NOT NULL AND json_format(${j}) <> 'null')`,
  string: (j: string): string => `(CASE WHEN json_format(${j}) LIKE '"%' THEN json_extract_scalar(${j}, '$') END)`,
  number: (j: string): string => {
    const scalar = `(CASE WHEN json_format(${j}) LIKE '"%' OR regexp_like(json_format(${j}), '^-?[0-9]') THEN json_extract_scalar(${j}, '$') END)`;
    return `(CASE WHEN regexp_like(${scalar}, ${text(NumericTextPattern)}) THEN CAST(${scalar} AS DOUBLE) END)`;
  },
  boolean: (j: string): string => `(CASE WHEN json_format(${j}) = 'true' THEN true WHEN json_format(${j}) = 'false' THEN false END)`,
  time: (j: string): string => {
    const scalar = `(CASE WHEN json_format(${j}) LIKE '"%' THEN json_extract_scalar(${j}, '$') END)`;
    return `(CASE WHEN regexp_like(${scalar}, ${text(TimeTextPattern)}) THEN try(from_iso8601_timestamp(${scalar})) END)`;
  },
};

function literal(operand: Operand, index: number, at: number): string {
  switch (operand.type) {
    case 'number':
      return `CAST(${text(String(operand.values[index]))} AS DOUBLE)`;
    case 'string':
      return text(operand.values[index]!);
    case 'boolean':
      return operand.values[index] ? 'true' : 'false';
    case 'time':
      return `from_iso8601_timestamp(${text(iso(timeAt(operand.values[index]!, at)))})`;
    case 'none':
      throw new SegmentSqlError('a comparison without a value has no literal');
  }
}

/**
 * A comparison of the SQL value `value` (already read for the operand's kind), or of the JSON
 * value `json` for `exists`; never null, so `not` works as in the evaluator.
 */
function comparisonSql(comparison: Comparison, value: string, at: number, present?: string): string {
  const { op, operand } = comparison;
  const lit = (i: number): string => literal(operand, i, at);
  const all = (): string => ('values' in operand ? operand.values.map((_v, i) => lit(i)).join(', ') : '');
  let sql: string;
  switch (op) {
    case 'exists':
      return `(${present ?? `${value} IS NOT NULL`})`;
    case 'not_exists':
      return `(NOT ${present ?? `${value} IS NOT NULL`})`;
    case 'eq':
      sql = `${value} = ${lit(0)}`;
      break;
    case 'neq':
      sql = `${value} <> ${lit(0)}`;
      break;
    case 'in':
      sql = `${value} IN (${all()})`;
      break;
    case 'not_in':
      sql = `${value} NOT IN (${all()})`;
      break;
    case 'gt':
      sql = `${value} > ${lit(0)}`;
      break;
    case 'gte':
      sql = `${value} >= ${lit(0)}`;
      break;
    case 'lt':
      sql = `${value} < ${lit(0)}`;
      break;
    case 'lte':
      sql = `${value} <= ${lit(0)}`;
      break;
    case 'between':
      sql = `${value} BETWEEN ${lit(0)} AND ${lit(1)}`;
      break;
    case 'contains':
      sql = `strpos(${value}, ${lit(0)}) > 0`;
      break;
    case 'starts_with':
      sql = `starts_with(${value}, ${lit(0)})`;
      break;
  }
  return `COALESCE(${sql}, false)`;
}

/** A JSON value compared as the comparison's operand reads it. */
function jsonComparison(comparison: Comparison, json: string, at: number): string {
  const { operand } = comparison;
  if (operand.type === 'none') return comparisonSql(comparison, json, at, read.present(json));
  return comparisonSql(comparison, read[operand.type](json), at);
}

const callTypes: Readonly<Record<string, string>> = { $page: 'page', $screen: 'screen', $identify: 'identify', $group: 'group', $alias: 'alias' };

/** The lake column `where` tests and values read: properties, or traits for identify and group calls. */
const fieldsColumn = (event: string): string => (event === '$identify' || event === '$group' ? 'traits' : 'properties');

function eventMatch(event: string): string {
  const call = callTypes[event];
  return call ? `type = ${text(call)}` : `type = 'track' AND event = ${text(event)}`;
}

class Statement {
  /** Named subqueries, built when the statement is rendered (the computed one needs every window named first). */
  private readonly ctes = new Map<string, { name: string; build: () => string; joined: boolean }>();

  constructor(
    private readonly config: ProfileConfig,
    private readonly at: number,
    private readonly conditionOf: (id: string) => ConditionNode | undefined,
  ) {}

  private cte(key: string, prefix: string, build: () => string, joined = true): string {
    const existing = this.ctes.get(key);
    if (existing) return existing.name;
    const name = `${prefix}${this.ctes.size}`;
    this.ctes.set(key, { name, build, joined });
    return name;
  }

  condition(node: ConditionNode, visiting: readonly string[] = []): string {
    switch (node.kind) {
      case 'all':
        return `(${node.of.map((n) => this.condition(n, visiting)).join(' AND ')})`;
      case 'any':
        return `(${node.of.map((n) => this.condition(n, visiting)).join(' OR ')})`;
      case 'not':
        return `(NOT ${this.condition(node.of, visiting)})`;
      case 'identifier': {
        const name = this.cte(`identifier:${node.type}`, 'id', () => `SELECT DISTINCT profile_id FROM ${Catalog.identitiesView} WHERE starts_with(identifier, ${text(`${node.type}:`)})`);
        return `(${name}.profile_id IS NOT NULL)`;
      }
      case 'segment': {
        const other = this.conditionOf(node.id);
        if (!other || visiting.includes(node.id)) throw new SegmentSqlError(`segment ${JSON.stringify(node.id)} cannot be compiled here`);
        return this.condition(other, [...visiting, node.id]);
      }
      case 'trait':
        return this.trait(node.name, node.path, node.comparison);
      case 'computed':
        return this.computed(node.name, node.comparison);
      case 'event':
        return this.event(node);
    }
  }

  private trait(name: string, path: readonly string[], comparison: Comparison): string {
    const setOnce = this.config.setOnceTraits.includes(name);
    const order = setOnce ? 'ASC' : 'DESC';
    const value = `json_extract(traits, ${jsonPath([name])})`;
    const cte = this.cte(`trait:${name}`, 'tr', () =>
      [
        `SELECT profile_id, v FROM (`,
        `  SELECT profile_id, ${value} AS v,`,
        `    row_number() OVER (PARTITION BY profile_id ORDER BY "timestamp" ${order}, json_format(${value}) ${order}) AS r`,
        `  FROM ev WHERE type = 'identify' AND ${value} IS NOT NULL`,
        `) x WHERE r = 1`,
      ].join('\n'),
    );
    const json = path.length === 0 ? `${cte}.v` : `json_extract(${cte}.v, ${jsonPath(path)})`;
    return jsonComparison(comparison, json, this.at);
  }

  private computed(name: string, comparison: Comparison): string {
    const c = this.computedTable();
    const money = (units: string): string => `(floor(${units} / 100 + 0.5) / 100)`;
    const time = (column: string): string => `from_iso8601_timestamp(${c}.${column})`;
    const windowMatch = /^(events|orders)_last_(\d+)d$/.exec(name);
    let value: string;
    if (windowMatch) value = `${c}.${this.windowColumn(windowMatch[1] as 'events' | 'orders', Number(windowMatch[2]))}`;
    else {
      switch (name) {
        case 'first_seen':
          value = time('first_seen');
          break;
        case 'last_seen':
          value = time('last_seen');
          break;
        case 'last_order_at':
          value = time('last_order_at');
          break;
        case 'orders_count':
          value = `CAST(${c}.orders AS DOUBLE)`;
          break;
        case 'total_revenue':
          value = money(`CAST(${c}.revenue_units AS DOUBLE)`);
          break;
        case 'average_order_value':
          value = `(CASE WHEN ${c}.orders > 0 THEN ${money(`CAST(${c}.revenue_units AS DOUBLE) / ${c}.orders`)} END)`;
          break;
        default:
          throw new SegmentSqlError(`computed trait ${name} has no SQL`);
      }
    }
    return comparisonSql(comparison, value, this.at);
  }

  private readonly windows = new Set<string>();

  private windowColumn(kind: 'events' | 'orders', days: number): string {
    this.windows.add(`${kind}:${days}`);
    return `${kind}_last_${days}d`;
  }

  /** Per profile: the aggregates computed traits are made of, as profile.ts counts them. */
  private computedTable(): string {
    return this.cte('computed', 'c', () => this.computedSql());
  }

  private isOrder(): string {
    return `(type = 'track' AND event IN (${this.config.orderEvents.map(text).join(', ') || "''"}))`;
  }

  private revenueUnits(): string {
    const candidates = this.config.revenueProperties.map((property) => {
      const n = read.number(`json_extract(properties, ${jsonPath([property])})`);
      return `(CASE WHEN abs(${n}) < 1e9 THEN floor(${n} * 10000 + 0.5) END)`;
    });
    return `COALESCE(${[...candidates, '0'].join(', ')})`;
  }

  private computedSql(): string {
    const today = (at: number): string => iso(at).slice(0, 10);
    const windowSums = [...this.windows].map((key) => {
      const [kind, daysText] = key.split(':') as ['events' | 'orders', string];
      const days = Number(daysText);
      const inWindow = `d BETWEEN ${text(today(this.at - (days - 1) * DayMs))} AND ${text(today(this.at))} AND d >= keep_from`;
      const counted = kind === 'orders' ? `${inWindow} AND ${this.isOrder()}` : inWindow;
      return `sum(CASE WHEN ${counted} THEN 1 ELSE 0 END) AS ${kind}_last_${days}d`;
    });
    const source =
      windowSums.length === 0
        ? 'ev'
        : `(SELECT ev.*, substr("timestamp", 1, 10) AS d, CAST(CAST(from_iso8601_timestamp(max("timestamp") OVER (PARTITION BY profile_id)) - INTERVAL '${this.config.bucketDays - 1}' DAY AS DATE) AS VARCHAR) AS keep_from FROM ev) e`;
    return [
      `SELECT profile_id, min("timestamp") AS first_seen, max("timestamp") AS last_seen,`,
      `  sum(CASE WHEN ${this.isOrder()} THEN 1 ELSE 0 END) AS orders,`,
      `  sum(CASE WHEN ${this.isOrder()} THEN ${this.revenueUnits()} ELSE 0 END) AS revenue_units,`,
      `  max(CASE WHEN ${this.isOrder()} THEN "timestamp" END) AS last_order_at${windowSums.length > 0 ? ',' : ''}`,
      ...windowSums.map((s, i) => `  ${s}${i < windowSums.length - 1 ? ',' : ''}`),
      `FROM ${source} GROUP BY profile_id`,
    ].join('\n');
  }

  private track(spec: TrackSpec, key: string): string {
    return this.cte(`track:${key}`, 'k', () => trackRows(spec, 'profile_id, "timestamp" AS ts, v'), false);
  }

  private event(node: Extract<ConditionNode, { kind: 'event' }>): string {
    const track = this.track(node.track, node.key);
    const window = [`ts <= ${text(iso(this.at))}`, ...(node.within === undefined ? [] : [`ts > ${text(iso(this.at - node.within))}`])].join(' AND ');
    const aggregate = {
      count: 'count(*)',
      sum: 'CAST(sum(floor(v * 10000 + 0.5)) AS DOUBLE) / 10000',
      min: 'min(v)',
      max: 'max(v)',
    }[node.aggregate];
    const name = this.cte(`event:${node.key}:${node.within ?? 'all'}:${node.aggregate}`, 'a', () => `SELECT profile_id, ${aggregate} AS n FROM ${track} WHERE ${window} GROUP BY profile_id`);
    const value = node.aggregate === 'count' || node.aggregate === 'sum' ? `COALESCE(CAST(${name}.n AS DOUBLE), 0)` : `CAST(${name}.n AS DOUBLE)`;
    return comparisonSql(node.comparison, value, this.at);
  }

  /** The whole statement around the members' condition. */
  render(where: string): string {
    const defined = [...this.ctes.values()].map((c) => ({ ...c, sql: c.build() }));
    const lines = [
      'WITH',
      `${EventsCte},`,
      `people AS (SELECT DISTINCT profile_id FROM ${Catalog.identitiesView})${defined.length > 0 ? ',' : ''}`,
      ...defined.map((c, i) => `${c.name} AS (\n${indent(c.sql)}\n)${i < defined.length - 1 ? ',' : ''}`),
      'SELECT p.profile_id FROM people p',
      ...defined.filter((c) => c.joined).map((c) => `LEFT JOIN ${c.name} ON ${c.name}.profile_id = p.profile_id`),
      `WHERE ${where}`,
      'ORDER BY p.profile_id',
    ];
    return lines.join('\n');
  }
}

/**
 * Events with their profile: one row per messageId (the first delivered), joined through the
 * event's strongest identifier to the profile that holds it now.
 */
const EventsCte = [
  'ev AS (',
  '  SELECT profile_id, message_id, type, event, "timestamp", properties, traits FROM (',
  '    SELECT i.profile_id, e.message_id, e.type, e.event, e."timestamp", e.properties, e.traits,',
  '      row_number() OVER (PARTITION BY e.message_id ORDER BY e.received_at, e.dt) AS copy',
  `    FROM ${Catalog.eventsView} e JOIN ${Catalog.identitiesView} i ON i.identifier = e.identifier`,
  '  ) d WHERE copy = 1',
  ')',
].join('\n');

/** The rows of one track, per profile: matching events, the latest `size` kept (ties at the last place too). */
function trackRows(spec: TrackSpec, columns: string, since?: number): string {
  const fields = fieldsColumn(spec.event);
  const tests = spec.where.map((t) => jsonComparison(t.comparison, `json_extract(${fields}, ${jsonPath(t.path)})`, 0));
  const value = spec.value ? read.number(`json_extract(${fields}, ${jsonPath(spec.value)})`) : 'CAST(NULL AS DOUBLE)';
  const filters = [eventMatch(spec.event), ...tests, ...(spec.value ? [`${value} IS NOT NULL`] : []), ...(since === undefined ? [] : [`"timestamp" > ${text(iso(since))}`])];
  return [
    `SELECT ${columns} FROM (`,
    `  SELECT profile_id, message_id, "timestamp", ${value} AS v, rank() OVER (PARTITION BY profile_id ORDER BY "timestamp" DESC) AS r`,
    `  FROM ev WHERE ${filters.join(' AND ')}`,
    `) x WHERE r <= ${spec.size}`,
  ].join('\n');
}

/** A track a backfill seeds: its key, what it keeps, and how far back it is read (Infinity: all time). */
export interface SeedTrack {
  readonly key: string;
  readonly spec: TrackSpec;
  readonly horizon: number;
}

/**
 * The backfill's query: every profile's track entries for the given tracks, as the lake holds
 * them at `at`, in profile order, from `afterProfile` on when resuming (its rows may have straddled a page, so it is read again whole). Entries older than a
 * track's horizon are left out: they could never count again.
 */
export function seedSql(tracks: readonly SeedTrack[], at: number, afterProfile?: string): string {
  if (tracks.length === 0) throw new SegmentSqlError('a seed query needs at least one track');
  const branches = tracks.map((t) =>
    trackRows(t.spec, `profile_id, ${text(t.key)} AS track, message_id, "timestamp", v`, Number.isFinite(t.horizon) ? at - t.horizon : undefined),
  );
  return [
    'WITH',
    `${EventsCte},`,
    `seeds AS (\n${indent(branches.join('\nUNION ALL\n'))}\n)`,
    'SELECT profile_id, track, message_id, "timestamp", v FROM seeds',
    ...(afterProfile === undefined ? [] : [`WHERE profile_id >= ${text(afterProfile)}`]),
    'ORDER BY profile_id, track, "timestamp" DESC',
  ].join('\n');
}

const indent = (sql: string): string => sql.split('\n').map((l) => `  ${l}`).join('\n');

/**
 * The members of a segment at `at` as SQL. `conditionOf` gives the conditions of the segments it
 * names. Throws SegmentSqlError for what SQL cannot name (a revenue property with spaces, say).
 */
export function segmentSql(node: ConditionNode, config: ProfileConfig, at: number, conditionOf: (id: string) => ConditionNode | undefined): string {
  const statement = new Statement(config, at, conditionOf);
  const where = statement.condition(node);
  return statement.render(where);
}
