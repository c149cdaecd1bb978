import type { ValidationIssue } from './errors.js';

/**
 * EventBridge event patterns (docs/activation.md), evaluated the way the bus evaluates them, so
 * the local bus routes exactly what a deployed rule would. Written here because no maintained
 * npm package implements them (`eb-patterns` exists but is not in this project's registry, and
 * AWS's own `event-ruler` is Java).
 *
 * - A pattern is an object: every key must match (AND). A key's value is either a nested pattern
 *   (for a nested object in the event) or a non-empty array of matchers, any of which may match
 *   (OR). `$or` takes an array of patterns, any of which may match.
 * - When the event's value is an array, the key matches when any element matches.
 * - Matchers: a string, number, boolean or null (exact; numbers compare as numbers), and objects:
 *   `prefix`, `suffix` (a string, or `{ "equals-ignore-case": ... }`), `equals-ignore-case`,
 *   `wildcard` (`*` for any run of characters, `\*` for a star), `anything-but` (a value, a list
 *   of values, or `prefix` / `suffix` / `equals-ignore-case` / `wildcard`), `numeric`
 *   (`[">", 0, "<=", 5]`), `exists`, and `cidr` (IPv4).
 * - A field absent from the event matches only `{ "exists": false }`; `anything-but` matches
 *   strings and numbers only, and `exists` leaves only.
 */
export type EventPattern = { readonly [key: string]: unknown };

type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const NumericOps = new Set(['<', '<=', '=', '>', '>=']);
const MatcherKeys = new Set(['prefix', 'suffix', 'equals-ignore-case', 'wildcard', 'anything-but', 'numeric', 'exists', 'cidr']);

/** Whether the event matches the pattern. Never throws: anything malformed simply does not match. */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  try {
    return isObject(pattern) && matchObject(pattern, event);
  } catch {
    return false;
  }
}

function matchObject(pattern: Record<string, unknown>, value: unknown): boolean {
  for (const [key, expected] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!Array.isArray(expected) || !expected.some((alternative) => isObject(alternative) && matchObject(alternative, value))) return false;
      continue;
    }
    const actual = isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
    if (Array.isArray(expected)) {
      if (!matchLeaf(expected, actual)) return false;
    } else if (isObject(expected)) {
      const candidates = Array.isArray(actual) ? actual : [actual];
      if (!candidates.some((candidate) => isObject(candidate) && matchObject(expected, candidate))) return false;
    } else {
      return false;
    }
  }
  return true;
}

function matchLeaf(matchers: readonly unknown[], actual: unknown): boolean {
  if (actual === undefined) return matchers.some((m) => isObject(m) && m.exists === false);
  const values: unknown[] = Array.isArray(actual) ? actual : [actual];
  return matchers.some((matcher) => {
    // `exists` works on leaves: a field holding an object is not one.
    if (isObject(matcher) && Object.hasOwn(matcher, 'exists')) return matcher.exists === true && !isObject(actual);
    // An empty array in the event has no element to match.
    return values.some((value) => matchOne(matcher, value));
  });
}

function matchOne(matcher: unknown, value: unknown): boolean {
  if (!isObject(matcher)) return equalValues(matcher, value);
  const [kind, argument] = Object.entries(matcher)[0] ?? [];
  switch (kind) {
    case 'prefix':
      return textTest(argument, value, (text, wanted) => text.startsWith(wanted));
    case 'suffix':
      return textTest(argument, value, (text, wanted) => text.endsWith(wanted));
    case 'equals-ignore-case':
      return typeof value === 'string' && typeof argument === 'string' && value.toLowerCase() === argument.toLowerCase();
    case 'wildcard':
      return typeof value === 'string' && typeof argument === 'string' && wildcard(argument).test(value);
    case 'anything-but':
      return anythingBut(argument, value);
    case 'numeric':
      return typeof value === 'number' && Array.isArray(argument) && numericRange(argument, value);
    case 'cidr':
      return typeof value === 'string' && typeof argument === 'string' && inCidr(argument, value);
    default:
      return false;
  }
}

function equalValues(expected: unknown, value: unknown): boolean {
  if (typeof expected === 'number' && typeof value === 'number') return expected === value;
  return expected === value;
}

function textTest(argument: unknown, value: unknown, test: (text: string, wanted: string) => boolean): boolean {
  if (typeof value !== 'string') return false;
  if (typeof argument === 'string') return test(value, argument);
  if (isObject(argument) && typeof argument['equals-ignore-case'] === 'string') return test(value.toLowerCase(), argument['equals-ignore-case'].toLowerCase());
  return false;
}

function anythingBut(argument: unknown, value: unknown): boolean {
  if (typeof value !== 'string' && typeof value !== 'number') return false;
  if (Array.isArray(argument)) return !argument.some((excluded) => equalValues(excluded, value));
  if (isObject(argument)) {
    const [kind, inner] = Object.entries(argument)[0] ?? [];
    if (typeof value !== 'string') return false;
    switch (kind) {
      case 'prefix':
        return typeof inner === 'string' && !value.startsWith(inner);
      case 'suffix':
        return typeof inner === 'string' && !value.endsWith(inner);
      case 'equals-ignore-case': {
        const excluded = (Array.isArray(inner) ? inner : [inner]).filter((x): x is string => typeof x === 'string').map((x) => x.toLowerCase());
        return !excluded.includes(value.toLowerCase());
      }
      case 'wildcard': {
        const patterns = (Array.isArray(inner) ? inner : [inner]).filter((x): x is string => typeof x === 'string');
        return !patterns.some((p) => wildcard(p).test(value));
      }
      default:
        return false;
    }
  }
  return !equalValues(argument, value);
}

function numericRange(range: readonly unknown[], value: number): boolean {
  for (let i = 0; i + 1 < range.length; i += 2) {
    const op = range[i];
    const bound = range[i + 1];
    if (typeof op !== 'string' || typeof bound !== 'number') return false;
    const ok = op === '<' ? value < bound : op === '<=' ? value <= bound : op === '=' ? value === bound : op === '>' ? value > bound : op === '>=' ? value >= bound : false;
    if (!ok) return false;
  }
  return range.length > 0 && range.length % 2 === 0;
}

const wildcards = new Map<string, RegExp>();
function wildcard(pattern: string): RegExp {
  let found = wildcards.get(pattern);
  if (!found) {
    let source = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i]!;
      if (c === '\\' && pattern[i + 1] === '*') {
        source += '\\*';
        i++;
      } else if (c === '*') source += '.*';
      else source += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
    found = new RegExp(`^${source}$`, 's');
    if (wildcards.size < 1000) wildcards.set(pattern, found);
  }
  return found;
}

function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function inCidr(cidr: string, value: string): boolean {
  const [base, bits] = cidr.split('/');
  const network = ipv4(base ?? '');
  const address = ipv4(value);
  const size = Number(bits);
  if (network === undefined || address === undefined || !Number.isInteger(size) || size < 0 || size > 32) return false;
  const block = 2 ** (32 - size);
  return Math.floor(network / block) === Math.floor(address / block);
}

/** Every problem with a pattern, each with its path (`pattern.detail.segmentId[0]`); empty when it is valid. */
export function eventPatternProblems(pattern: unknown, field = 'pattern'): ValidationIssue[] {
  if (!isObject(pattern)) return [{ field, reason: 'must be an object: { "detail-type": [...], "detail": { ... } }' }];
  if (Object.keys(pattern).length === 0) return [{ field, reason: 'must name at least one field to match' }];
  const issues: ValidationIssue[] = [];
  for (const [key, value] of Object.entries(pattern)) {
    const at = `${field}.${key}`;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2) issues.push({ field: at, reason: 'must be an array of at least two patterns' });
      else value.forEach((alternative, i) => issues.push(...eventPatternProblems(alternative, `${at}[${i}]`)));
    } else if (Array.isArray(value)) {
      if (value.length === 0) issues.push({ field: at, reason: 'must list at least one value or matcher' });
      value.forEach((matcher, i) => issues.push(...matcherProblems(matcher as Json, `${at}[${i}]`)));
    } else if (isObject(value)) {
      issues.push(...eventPatternProblems(value, at));
    } else {
      issues.push({ field: at, reason: 'must be an array of values to match, or an object for a nested field' });
    }
  }
  return issues;
}

function matcherProblems(matcher: Json, field: string): ValidationIssue[] {
  if (!isObject(matcher)) return Array.isArray(matcher) ? [{ field, reason: 'must be a value or a matcher object, not an array' }] : [];
  const keys = Object.keys(matcher);
  const kind = keys[0];
  if (keys.length !== 1 || kind === undefined || !MatcherKeys.has(kind)) {
    return [{ field, reason: `must be one matcher: ${[...MatcherKeys].join(', ')}` }];
  }
  const argument = matcher[kind] as unknown;
  const text = (value: unknown): boolean => typeof value === 'string';
  const ignoreCase = (value: unknown): boolean => isObject(value) && Object.keys(value).length === 1 && text(value['equals-ignore-case']);
  const ok = (() => {
    switch (kind) {
      case 'prefix':
      case 'suffix':
        return text(argument) || ignoreCase(argument);
      case 'equals-ignore-case':
      case 'wildcard':
        return text(argument);
      case 'exists':
        return typeof argument === 'boolean';
      case 'cidr':
        return text(argument) && /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(argument as string);
      case 'numeric':
        return (
          Array.isArray(argument) &&
          argument.length > 0 &&
          argument.length <= 4 &&
          argument.length % 2 === 0 &&
          argument.every((x, i) => (i % 2 === 0 ? typeof x === 'string' && NumericOps.has(x) : typeof x === 'number' && Number.isFinite(x)))
        );
      case 'anything-but': {
        if (Array.isArray(argument)) return argument.length > 0 && argument.every((x) => typeof x === 'string' || typeof x === 'number');
        if (isObject(argument)) {
          const [inner, innerValue] = Object.entries(argument)[0] ?? [];
          if (Object.keys(argument).length !== 1) return false;
          if (inner === 'prefix' || inner === 'suffix') return text(innerValue);
          if (inner === 'equals-ignore-case' || inner === 'wildcard') return text(innerValue) || (Array.isArray(innerValue) && innerValue.length > 0 && innerValue.every(text));
          return false;
        }
        return typeof argument === 'string' || typeof argument === 'number';
      }
      default:
        return false;
    }
  })();
  return ok ? [] : [{ field: `${field}.${kind}`, reason: reasonFor(kind) }];
}

function reasonFor(kind: string): string {
  switch (kind) {
    case 'prefix':
    case 'suffix':
      return 'takes a string, or { "equals-ignore-case": "..." }';
    case 'numeric':
      return 'takes one or two comparisons, like [">", 0, "<=", 5]';
    case 'exists':
      return 'takes true or false';
    case 'cidr':
      return 'takes an IPv4 block, like "10.0.0.0/24"';
    case 'anything-but':
      return 'takes a string, a number, a list of them, or { "prefix" | "suffix" | "equals-ignore-case" | "wildcard": ... }';
    default:
      return 'takes a string';
  }
}
