/**
 * How a segment compares a value on a profile or an event with the value a condition names. The
 * condition's value decides how the other side is read (docs/segments.md, "Missing and mistyped
 * values"), and the SQL compiler reads the lake the same way (sql.ts), so both agree:
 * - a number reads numbers, and text that is exactly a decimal number (`"12"`, `"-3.5"`, `"1e3"`);
 * - text reads text only (a number is not the text of its digits);
 * - a boolean reads booleans only;
 * - a time reads ISO-8601 text: a date (`2026-10-01`, midnight UTC) or a date-time with its zone.
 * A value that is missing, null, or of another kind is missing, and every comparison with a
 * missing value is false, except `not_exists`.
 */

export const Ops = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'not_in', 'contains', 'starts_with', 'exists', 'not_exists', 'between'] as const;
export type Op = (typeof Ops)[number];

/** A time in a condition: an instant, or a distance back from the moment of evaluation. */
export type TimeValue = { readonly at: number } | { readonly agoMs: number };

/** What a comparison compares with, by kind; `none` for `exists` and `not_exists`. */
export type Operand =
  | { readonly type: 'number'; readonly values: readonly number[] }
  | { readonly type: 'string'; readonly values: readonly string[] }
  | { readonly type: 'boolean'; readonly values: readonly boolean[] }
  | { readonly type: 'time'; readonly values: readonly TimeValue[] }
  | { readonly type: 'none' };

export interface Comparison {
  readonly op: Op;
  readonly operand: Operand;
}

/** Text that reads as a number: the same pattern is the SQL's (sql.ts). */
export const NumericTextPattern = '^-?[0-9]+(\\.[0-9]+)?([eE][+-]?[0-9]+)?$';
const NumericText = new RegExp(NumericTextPattern);

/** Text that reads as a time: a date, or a date-time with seconds optional and a zone required. */
export const TimeTextPattern = '^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2}))?$';
const TimeText = new RegExp(TimeTextPattern);

export function readNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || !NumericText.test(value)) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

export const readString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
export const readBoolean = (value: unknown): boolean | undefined => (typeof value === 'boolean' ? value : undefined);

export function readTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || !TimeText.test(value) || !realCalendarTime(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : at;
}

/** JavaScript rolls `2026-02-30` over to March; the SQL engines refuse it, and so do we. */
function realCalendarTime(text: string): boolean {
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = text.split(/[-T:.Z+]/).slice(0, 6).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day && hour < 24 && minute < 60 && second < 60;
}

/** A time in a condition, as an instant at the moment `now`. */
export const timeAt = (value: TimeValue, now: number): number => ('at' in value ? value.at : now - value.agoMs);

/** Reads a raw value (a trait, a property) the way the comparison's operand asks. */
export function readAs(operand: Operand, value: unknown): unknown {
  switch (operand.type) {
    case 'number':
      return readNumber(value);
    case 'string':
      return readString(value);
    case 'boolean':
      return readBoolean(value);
    case 'time':
      return readTime(value);
    case 'none':
      return value === null ? undefined : value;
  }
}

/**
 * Compares a value already read for the operand's kind (undefined when missing or mistyped),
 * with times in the operand taken at `now`.
 */
export function compare(comparison: Comparison, value: unknown, now: number): boolean {
  const { op, operand } = comparison;
  if (op === 'exists') return value !== undefined;
  if (op === 'not_exists') return value === undefined;
  if (value === undefined || operand.type === 'none') return false;
  const values: readonly unknown[] = operand.type === 'time' ? operand.values.map((v) => timeAt(v, now)) : operand.values;
  const first = values[0];
  switch (op) {
    case 'eq':
      return value === first;
    case 'neq':
      return value !== first;
    case 'in':
      return values.includes(value);
    case 'not_in':
      return !values.includes(value);
    case 'gt':
      return (value as number) > (first as number);
    case 'gte':
      return (value as number) >= (first as number);
    case 'lt':
      return (value as number) < (first as number);
    case 'lte':
      return (value as number) <= (first as number);
    case 'between':
      return (value as number) >= (first as number) && (value as number) <= (values[1] as number);
    case 'contains':
      return (value as string).includes(first as string);
    case 'starts_with':
      return (value as string).startsWith(first as string);
  }
}

/**
 * Instants after which a time comparison with `{ ago }` may change its answer, for a profile
 * value `value` (an instant): the comparison is with `now - ago`, so it turns at `value + ago`,
 * and at the millisecond after for strict comparisons.
 */
export function timeBreakpoints(comparison: Comparison, value: number | undefined): number[] {
  if (value === undefined || comparison.operand.type !== 'time') return [];
  return comparison.operand.values.flatMap((v) => ('agoMs' in v ? [value + v.agoMs, value + v.agoMs + 1] : []));
}
