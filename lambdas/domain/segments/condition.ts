import type { ValidationIssue } from '../errors.js';
import { isIso8601 } from '../events.js';
import { IdentifierTypePattern, type ProfileConfig } from '../profile-config.js';
import { DurationHint, parseDuration } from './duration.js';
import { MaxCountValue, trackKey, ValueTrackSize, type PropertyTest, type TrackSpec } from './tracks.js';
import { Ops, type Comparison, type Op, type Operand, type TimeValue } from './values.js';

/**
 * The segment language (docs/segments.md): a condition as JSON, checked and compiled into a tree
 * that the evaluator and the SQL compiler walk. The checker reports every problem with the JSON
 * path of the field at fault (`condition.all[1].within`); it is hand-written rather than a zod
 * union because a union can only say that none of its members matched.
 */

/** What a segment may be called: it appears in URLs and in events. */
export const SegmentIdPattern = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Non-track calls, as `event_counts` names them. */
export const CallEventNames = ['$page', '$screen', '$identify', '$group', '$alias'] as const;

export const SegmentLimits = {
  /** Conditions (leaves and groups) in one segment. */
  maxNodes: 100,
  maxDepth: 12,
  /** Items of one `all` or `any`. */
  maxItems: 50,
  maxWhere: 10,
  maxListValues: 100,
  maxTextLength: 1000,
  maxNameLength: 200,
  maxDescriptionLength: 2000,
} as const;

export type ComputedKind = 'number' | 'time';

/** Computed traits a condition may name, as the profile API names them, with the kind of value each holds. */
export function computedTraitKinds(config: ProfileConfig): ReadonlyMap<string, ComputedKind> {
  const kinds = new Map<string, ComputedKind>([
    ['first_seen', 'time'],
    ['last_seen', 'time'],
    ['orders_count', 'number'],
    ['total_revenue', 'number'],
    ['average_order_value', 'number'],
    ['last_order_at', 'time'],
  ]);
  for (const days of config.windows) {
    kinds.set(`events_last_${days}d`, 'number');
    kinds.set(`orders_last_${days}d`, 'number');
  }
  return kinds;
}

export type Aggregate = 'count' | 'sum' | 'min' | 'max';

export type ConditionNode =
  | { readonly kind: 'all' | 'any'; readonly of: readonly ConditionNode[] }
  | { readonly kind: 'not'; readonly of: ConditionNode }
  | {
      readonly kind: 'trait';
      /** The trait's name: the first part of the path. */
      readonly name: string;
      /** The rest of the path, into an object-valued trait. */
      readonly path: readonly string[];
      readonly comparison: Comparison;
    }
  | { readonly kind: 'computed'; readonly name: string; readonly comparison: Comparison }
  | { readonly kind: 'identifier'; readonly type: string }
  | { readonly kind: 'segment'; readonly id: string }
  | {
      readonly kind: 'event';
      readonly track: TrackSpec;
      readonly key: string;
      /** Window length in ms; all time when absent. */
      readonly within?: number;
      readonly aggregate: Aggregate;
      readonly comparison: Comparison;
    };

/** A segment as PUT: what the API stores and returns. */
export interface SegmentInput {
  readonly name: string;
  readonly description?: string;
  /** The condition exactly as given. */
  readonly condition: unknown;
}

export interface ParsedSegment extends SegmentInput {
  readonly node: ConditionNode;
  /** Segments the condition names, with where. */
  readonly references: ReadonlyArray<{ readonly id: string; readonly field: string }>;
}

export type ParseResult = { readonly ok: true; readonly segment: ParsedSegment } | { readonly ok: false; readonly issues: readonly ValidationIssue[] };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const PathPart = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const DateOnly = /^\d{4}-\d{2}-\d{2}$/;
const KindKeys = ['all', 'any', 'not', 'trait', 'computed', 'identifier', 'segment', 'event'] as const;
type KindKey = (typeof KindKeys)[number];
const ExtraKeys: Readonly<Record<KindKey, readonly string[]>> = {
  all: [],
  any: [],
  not: [],
  trait: ['op', 'value'],
  computed: ['op', 'value'],
  identifier: [],
  segment: [],
  event: ['where', 'within', 'count', 'sum', 'min', 'max'],
};
const NumberOps: readonly Op[] = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'not_in', 'between'];
const TimeOps: readonly Op[] = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'between', 'exists', 'not_exists'];
const OrderOps: readonly Op[] = ['gt', 'gte', 'lt', 'lte', 'between'];

/** What kind of value a comparison takes: inferred from the value (traits, properties), or fixed. */
type ValueContext = 'trait' | 'where' | 'number' | 'time' | 'count';

const describe = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
};

class ConditionParser {
  readonly issues: ValidationIssue[] = [];
  readonly references: Array<{ id: string; field: string }> = [];
  private nodes = 0;

  constructor(private readonly computed: ReadonlyMap<string, ComputedKind>) {}

  private fail(field: string, reason: string): undefined {
    this.issues.push({ field, reason });
    return undefined;
  }

  condition(value: unknown, field: string, depth: number): ConditionNode | undefined {
    if (!isObject(value)) return this.fail(field, `must be a condition object, not ${describe(value)}`);
    if (++this.nodes > SegmentLimits.maxNodes) return this.fail(field, `is one condition too many: a segment holds at most ${SegmentLimits.maxNodes}`);
    if (depth > SegmentLimits.maxDepth) return this.fail(field, `nests too deep: at most ${SegmentLimits.maxDepth} levels`);
    const kinds = KindKeys.filter((k) => Object.hasOwn(value, k));
    if (kinds.length !== 1) {
      return this.fail(
        field,
        kinds.length === 0
          ? `must have one of ${KindKeys.join(', ')}`
          : `must have exactly one of ${KindKeys.join(', ')}, not both ${kinds[0]} and ${kinds[1]}`,
      );
    }
    const kind = kinds[0]!;
    const unknown = Object.keys(value).filter((k) => k !== kind && !ExtraKeys[kind].includes(k));
    const takes = ExtraKeys[kind].length > 0 ? `it takes ${ExtraKeys[kind].join(', ')}` : 'it takes no other fields';
    for (const key of unknown) this.fail(`${field}.${key}`, `is not a field of a "${kind}" condition (${takes})`);
    if (unknown.length > 0) return undefined;
    const at = `${field}.${kind}`;
    switch (kind) {
      case 'all':
      case 'any':
        return this.group(kind, value[kind], at, depth);
      case 'not': {
        const of = this.condition(value.not, at, depth + 1);
        return of && { kind: 'not', of };
      }
      case 'trait':
        return this.trait(value, field);
      case 'computed':
        return this.computedTrait(value, field);
      case 'identifier': {
        const type = value.identifier;
        if (typeof type !== 'string' || !IdentifierTypePattern.test(type)) return this.fail(at, 'must be an identifier type: lower-case letters, digits and _, like email or user_id');
        return { kind: 'identifier', type };
      }
      case 'segment': {
        const id = value.segment;
        if (typeof id !== 'string' || !SegmentIdPattern.test(id)) return this.fail(at, `must be a segment id matching ${SegmentIdPattern.source}`);
        this.references.push({ id, field: at });
        return { kind: 'segment', id };
      }
      case 'event':
        return this.event(value, field);
    }
  }

  private group(kind: 'all' | 'any', items: unknown, field: string, depth: number): ConditionNode | undefined {
    if (!Array.isArray(items) || items.length === 0) return this.fail(field, 'must be a non-empty array of conditions');
    if (items.length > SegmentLimits.maxItems) return this.fail(field, `must have at most ${SegmentLimits.maxItems} conditions`);
    const of = items.map((item, i) => this.condition(item, `${field}[${i}]`, depth + 1));
    const parsed = of.filter((n): n is ConditionNode => n !== undefined);
    return parsed.length === of.length ? { kind, of: parsed } : undefined;
  }

  private path(value: unknown, field: string, what: string): string[] | undefined {
    if (typeof value !== 'string' || value === '') return this.fail(field, `must be ${what}: a name or a dotted path like address.city`);
    const parts = value.split('.');
    if (parts.length > 8 || !parts.every((p) => PathPart.test(p))) {
      return this.fail(field, `must be ${what}: names of letters, digits and _ (not starting with a digit), joined by dots, at most 8 deep`);
    }
    return parts;
  }

  private trait(value: Record<string, unknown>, field: string): ConditionNode | undefined {
    const path = this.path(value.trait, `${field}.trait`, 'a trait name');
    const comparison = this.comparison(value, field, 'trait');
    if (!path || !comparison) return undefined;
    return { kind: 'trait', name: path[0]!, path: path.slice(1), comparison };
  }

  private computedTrait(value: Record<string, unknown>, field: string): ConditionNode | undefined {
    const name = value.computed;
    const kind = typeof name === 'string' ? this.computed.get(name) : undefined;
    if (typeof name !== 'string' || !kind) {
      this.comparison(value, field, 'number');
      return this.fail(`${field}.computed`, `must be one of ${[...this.computed.keys()].join(', ')}`);
    }
    const comparison = this.comparison(value, field, kind);
    return comparison && { kind: 'computed', name, comparison };
  }

  private event(value: Record<string, unknown>, field: string): ConditionNode | undefined {
    const name = value.event;
    let ok = true;
    const problem = (at: string, reason: string): void => {
      ok = false;
      this.fail(at, reason);
    };
    if (typeof name !== 'string' || name.length === 0 || name.length > SegmentLimits.maxNameLength) {
      problem(`${field}.event`, `must be an event name (1 to ${SegmentLimits.maxNameLength} characters)`);
    } else if (name.startsWith('$') && !(CallEventNames as readonly string[]).includes(name)) {
      problem(`${field}.event`, `names a track event, or one of ${CallEventNames.join(', ')} for the other calls`);
    }
    const where: PropertyTest[] = [];
    if (value.where !== undefined) {
      if (!Array.isArray(value.where) || value.where.length > SegmentLimits.maxWhere) {
        problem(`${field}.where`, `must be an array of at most ${SegmentLimits.maxWhere} property tests`);
      } else {
        value.where.forEach((item, i) => {
          const at = `${field}.where[${i}]`;
          if (!isObject(item)) return problem(at, 'must be an object: { "property": ..., "op": ..., "value": ... }');
          const extra = Object.keys(item).filter((k) => !['property', 'op', 'value'].includes(k));
          for (const key of extra) problem(`${at}.${key}`, 'is not a field of a property test (it takes property, op, value)');
          const path = this.path(item.property, `${at}.property`, 'a property name');
          const comparison = this.comparison(item, at, 'where');
          if (path && comparison) where.push({ path, comparison });
          else ok = false;
        });
      }
    }
    let within: number | undefined;
    if (value.within !== undefined) {
      within = typeof value.within === 'string' ? parseDuration(value.within) : undefined;
      if (within === undefined) problem(`${field}.within`, DurationHint);
    }
    const aggregates = (['count', 'sum', 'min', 'max'] as const).filter((k) => Object.hasOwn(value, k));
    if (aggregates.length > 1) return this.fail(field, `takes one of count, sum, min or max, not both ${aggregates[0]} and ${aggregates[1]}`);
    const aggregate = aggregates[0] ?? 'count';
    let comparison: Comparison | undefined = { op: 'gte', operand: { type: 'number', values: [1] } };
    let valuePath: string[] | undefined;
    const spec = value[aggregate];
    if (spec !== undefined) {
      const at = `${field}.${aggregate}`;
      if (!isObject(spec)) return this.fail(at, `must be an object: { ${aggregate === 'count' ? '' : '"property": ..., '}"op": ..., "value": ... }`);
      const allowed = aggregate === 'count' ? ['op', 'value'] : ['property', 'op', 'value'];
      const extra = Object.keys(spec).filter((k) => !allowed.includes(k));
      for (const key of extra) this.fail(`${at}.${key}`, `is not a field of ${aggregate} (it takes ${allowed.join(', ')})`);
      if (aggregate !== 'count') valuePath = this.path(spec.property, `${at}.property`, 'the property to aggregate');
      comparison = this.comparison(spec, at, aggregate === 'count' ? 'count' : 'number');
      if (extra.length > 0 || (aggregate !== 'count' && !valuePath)) ok = false;
    }
    if (!ok || !comparison || typeof name !== 'string') return undefined;
    const size = aggregate === 'count' ? countTrackSize(comparison) : ValueTrackSize;
    const track: TrackSpec = { event: name, where, size, ...(valuePath ? { value: valuePath } : {}) };
    return { kind: 'event', track, key: trackKey(track), ...(within === undefined ? {} : { within }), aggregate, comparison };
  }

  private comparison(value: Record<string, unknown>, field: string, context: ValueContext): Comparison | undefined {
    const op = value.op;
    if (typeof op !== 'string' || !(Ops as readonly string[]).includes(op)) return this.fail(`${field}.op`, `must be one of ${Ops.join(', ')}`);
    const typed = op as Op;
    const at = `${field}.value`;
    const has = Object.hasOwn(value, 'value');
    if (typed === 'exists' || typed === 'not_exists') {
      if (context === 'count') return this.fail(`${field}.op`, `must compare the count with a number: one of ${NumberOps.join(', ')}`);
      if (has) return this.fail(at, `must be left out: ${typed} takes no value`);
      return { op: typed, operand: { type: 'none' } };
    }
    const allowed = context === 'count' || context === 'number' ? NumberOps : context === 'time' ? TimeOps : Ops;
    if (!allowed.includes(typed)) {
      const what = context === 'time' ? 'a time' : context === 'count' ? 'the count' : 'a number';
      return this.fail(`${field}.op`, `${typed} cannot compare ${what}: use one of ${allowed.filter((o) => o !== 'exists' && o !== 'not_exists').join(', ')}`);
    }
    if (!has) return this.fail(at, `is required: ${typed} compares with a value`);
    const operand = this.operand(typed, value.value, at, context);
    return operand && { op: typed, operand };
  }

  private operand(op: Op, value: unknown, field: string, context: ValueContext): Operand | undefined {
    if (op === 'contains' || op === 'starts_with') {
      if (typeof value !== 'string' || value === '' || value.length > SegmentLimits.maxTextLength) {
        return this.fail(field, `must be non-empty text (at most ${SegmentLimits.maxTextLength} characters)`);
      }
      return { type: 'string', values: [value] };
    }
    if (op === 'in' || op === 'not_in') {
      if (!Array.isArray(value) || value.length === 0 || value.length > SegmentLimits.maxListValues) {
        return this.fail(field, `must be an array of 1 to ${SegmentLimits.maxListValues} values`);
      }
      const items = value.map((v, i) => this.scalar(op, v, `${field}[${i}]`, context));
      if (items.some((o) => o === undefined)) return undefined;
      const types = new Set(items.map((o) => o!.type));
      if (types.size > 1) return this.fail(field, `must hold values of one kind, not ${[...types].join(' and ')}`);
      return merge(items as Operand[]);
    }
    if (op === 'between') {
      if (!Array.isArray(value) || value.length !== 2) return this.fail(field, 'must be [low, high]: two numbers or two times');
      const [low, high] = value.map((v, i) => this.scalar(op, v, `${field}[${i}]`, context));
      if (!low || !high) return undefined;
      if (low.type !== high.type) return this.fail(field, `must be two values of one kind, not ${low.type} and ${high.type}`);
      const operand = merge([low, high]);
      if (!ordered(operand)) return this.fail(field, 'must have low before high');
      return operand;
    }
    return this.scalar(op, value, field, context);
  }

  /** One value compared with `op`, by context: numbers, times, text or booleans. */
  private scalar(op: Op, value: unknown, field: string, context: ValueContext): Operand | undefined {
    const ordering = OrderOps.includes(op);
    const time = this.timeValue(value);
    if (context === 'count') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MaxCountValue) {
        return this.fail(field, `must be a whole number from 0 to ${MaxCountValue}: a segment counts up to ${MaxCountValue + 1} events`);
      }
      return { type: 'number', values: [value] };
    }
    if (context === 'number') {
      if (typeof value !== 'number' || !Number.isFinite(value)) return this.fail(field, `must be a number, not ${describe(value)}`);
      return { type: 'number', values: [value] };
    }
    if (context === 'time') {
      if (!time) return this.fail(field, `must be a time: an ISO-8601 date or date-time with its zone, or { "ago": "P30D" }; not ${describe(value)}`);
      return this.relativeTimeCheck(op, time, field);
    }
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return this.fail(field, 'must be a finite number');
      return { type: 'number', values: [value] };
    }
    if (isObject(value) && Object.hasOwn(value, 'ago')) {
      if (context === 'where') return this.fail(field, 'cannot be relative ({ ago }) in a where test; compare with a fixed time, or use within');
      if (!time) return this.fail(`${field}.ago`, DurationHint);
      return this.relativeTimeCheck(op, time, field);
    }
    if (ordering) {
      if (typeof value === 'string' && time) return { type: 'time', values: [time.value] };
      return this.fail(
        field,
        `must be a number or a time (an ISO-8601 date or date-time with its zone, or { "ago": "P30D" }): ${op} orders values; not ${describe(value)}`,
      );
    }
    if (typeof value === 'string') {
      if (value.length > SegmentLimits.maxTextLength) return this.fail(field, `must be at most ${SegmentLimits.maxTextLength} characters`);
      return { type: 'string', values: [value] };
    }
    if (typeof value === 'boolean') return { type: 'boolean', values: [value] };
    return this.fail(field, `must be text, a number or a boolean, not ${describe(value)}`);
  }

  private relativeTimeCheck(op: Op, time: { value: TimeValue }, field: string): Operand | undefined {
    if ('agoMs' in time.value && (op === 'eq' || op === 'neq')) {
      return this.fail(field, `cannot be relative with ${op}: an instant that moves with the clock is never equal; use gt, gte, lt, lte or between`);
    }
    return { type: 'time', values: [time.value] };
  }

  private timeValue(value: unknown): { value: TimeValue } | undefined {
    if (typeof value === 'string') {
      if (DateOnly.test(value)) {
        const at = Date.parse(value);
        return Number.isNaN(at) ? undefined : { value: { at } };
      }
      return isIso8601(value) ? { value: { at: Date.parse(value.replace(' ', 'T')) } } : undefined;
    }
    if (isObject(value) && Object.keys(value).length === 1 && typeof value.ago === 'string') {
      const agoMs = parseDuration(value.ago);
      return agoMs === undefined ? undefined : { value: { agoMs } };
    }
    return undefined;
  }
}

function merge(items: readonly Operand[]): Operand {
  const type = items[0]!.type;
  const values = items.flatMap((o) => ('values' in o ? (o.values as readonly unknown[]) : []));
  return { type, values } as Operand;
}

function ordered(operand: Operand): boolean {
  if (operand.type === 'number') return operand.values[0]! <= operand.values[1]!;
  if (operand.type !== 'time') return false;
  const [low, high] = operand.values as [TimeValue, TimeValue];
  if ('at' in low && 'at' in high) return low.at <= high.at;
  if ('agoMs' in low && 'agoMs' in high) return low.agoMs >= high.agoMs;
  // A fixed time and a relative one: which comes first depends on the day; both orders are allowed.
  return true;
}

/** Latest events a count comparison needs to be decided: one more than the largest number it names. */
function countTrackSize(comparison: Comparison): number {
  const values = comparison.operand.type === 'number' ? comparison.operand.values : [0];
  const largest = Math.max(...values);
  const needed = comparison.op === 'gte' || comparison.op === 'lt' ? largest : largest + 1;
  return Math.max(1, needed);
}

/** Checks a condition and compiles it; every problem is reported with its JSON path under `root`. */
export function parseCondition(
  condition: unknown,
  config: ProfileConfig,
  root = 'condition',
): { node?: ConditionNode; issues: ValidationIssue[]; references: Array<{ id: string; field: string }> } {
  const parser = new ConditionParser(computedTraitKinds(config));
  const node = parser.condition(condition, root, 1);
  return { ...(node && parser.issues.length === 0 ? { node } : {}), issues: parser.issues, references: parser.references };
}

/** Checks a PUT body: name, optional description, and the condition. */
export function parseSegmentBody(body: unknown, config: ProfileConfig): ParseResult {
  if (!isObject(body)) return { ok: false, issues: [{ field: 'body', reason: 'must be a JSON object: { "name": ..., "condition": { ... } }' }] };
  const issues: ValidationIssue[] = [];
  for (const key of Object.keys(body)) {
    if (!['name', 'description', 'condition'].includes(key)) issues.push({ field: key, reason: 'is not a field of a segment (it takes name, description, condition)' });
  }
  const { name, description } = body;
  if (typeof name !== 'string' || name.trim() === '' || name.length > SegmentLimits.maxNameLength) {
    issues.push({ field: 'name', reason: `is required: text of 1 to ${SegmentLimits.maxNameLength} characters` });
  }
  if (description !== undefined && (typeof description !== 'string' || description.length > SegmentLimits.maxDescriptionLength)) {
    issues.push({ field: 'description', reason: `must be text of at most ${SegmentLimits.maxDescriptionLength} characters` });
  }
  if (!Object.hasOwn(body, 'condition')) issues.push({ field: 'condition', reason: 'is required: the condition people must meet to be members' });
  const parsed = Object.hasOwn(body, 'condition') ? parseCondition(body.condition, config) : undefined;
  issues.push(...(parsed?.issues ?? []));
  if (issues.length > 0 || !parsed?.node) return { ok: false, issues };
  return {
    ok: true,
    segment: {
      name: name as string,
      ...(typeof description === 'string' ? { description } : {}),
      condition: body.condition,
      node: parsed.node,
      references: parsed.references,
    },
  };
}
