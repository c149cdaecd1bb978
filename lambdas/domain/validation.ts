import type * as z from 'zod/mini';
import type { ValidationIssue } from './errors.js';

type ZodIssue = z.core.$ZodIssue;

/** `['condition', 'all', 1, 'within']` → `condition.all[1].within`: a JSON path into the body. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out === '' ? String(key) : `${out}.${String(key)}`), '');
}

const article = (type: string): string => (type === 'object' || type === 'array' || type === 'int' ? `an ${type === 'int' ? 'integer' : type}` : `a ${type}`);

/**
 * Why a value was refused, in words a client can act on. zod/mini ships no messages of its own
 * (every issue says "Invalid input"), so the reason is built from the issue; a schema's own
 * message, where it gives one, wins.
 */
export function describeIssue(issue: ZodIssue, value: unknown): string {
  if (issue.message && issue.message !== 'Invalid input') return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return value === undefined ? `is required (${article(issue.expected)})` : `must be ${article(issue.expected)}, not ${kindOf(value)}`;
    case 'too_small': {
      const minimum = String(issue.minimum);
      if (issue.origin === 'string') return `must be at least ${minimum} character${minimum === '1' ? '' : 's'} long`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at least ${minimum} item${minimum === '1' ? '' : 's'}`;
      return `must be ${issue.inclusive === false ? 'more than' : 'at least'} ${minimum}`;
    }
    case 'too_big': {
      const maximum = String(issue.maximum);
      if (issue.origin === 'string') return `must be at most ${maximum} characters long`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at most ${maximum} items`;
      return `must be ${issue.inclusive === false ? 'less than' : 'at most'} ${maximum}`;
    }
    case 'invalid_format':
      return issue.format === 'regex' && issue.pattern ? `must match ${issue.pattern}` : `must be a valid ${issue.format}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length === 1 ? '' : 's'} ${issue.keys.join(', ')}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    default:
      return 'is not valid here';
  }
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? typeof value;
  return `${article(typeof value)} (${text.length > 40 ? `${text.slice(0, 37)}...` : text})`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** zod's issues about `input` as ValidationIssues; an issue about the whole value is reported on `root`. */
export function validationIssues(issues: readonly ZodIssue[], input: unknown, root = 'body'): ValidationIssue[] {
  return issues.map((issue) => ({ field: fieldPath(issue.path) || root, reason: describeIssue(issue, valueAt(input, issue.path)) }));
}

/** JSON text read with a schema: the value, or undefined when the text is not JSON or not of that shape. */
export function parseJsonAs<T>(schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } }, text: string): T | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
