import type { ValidationIssue } from './errors.js';

export const MaxNestingDepth = 32;

/** JSON values as JSON.parse produces them. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Finds the first structural hazard in a parsed JSON value: nesting deeper than {@link MaxNestingDepth}
 * or a `__proto__` key (which later object handling could turn into a prototype change).
 * Iterative, so hostile nesting can't overflow the stack.
 */
export function findJsonHazard(value: unknown, rootField: string): ValidationIssue | undefined {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: rootField, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, path, depth } = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth > MaxNestingDepth) {
      return { field: path, reason: `is nested more than ${MaxNestingDepth} levels deep` };
    }
    if (Array.isArray(current)) {
      current.forEach((item, i) => stack.push({ value: item, path: `${path}[${i}]`, depth: depth + 1 }));
      continue;
    }
    for (const key of Object.keys(current)) {
      const childPath = path ? `${path}.${key}` : key;
      if (key === '__proto__') return { field: childPath, reason: 'uses the reserved key "__proto__"' };
      stack.push({ value: (current as Record<string, unknown>)[key], path: childPath, depth: depth + 1 });
    }
  }
  return undefined;
}

const LoneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const SurrogateEscape = /\\u[dD][89a-fA-F]/;

/**
 * Replaces lone UTF-16 surrogates (which JSON text can carry as `\ud800` escapes, e.g. from a
 * client that cut an emoji in half) with U+FFFD, in keys and values, as UTF-8 encoding would.
 * Left in, they make lake rows that JSON readers refuse. Fast when the text has no such escape.
 */
export function parseWellFormedJson(text: string): unknown {
  const parsed = JSON.parse(text) as unknown;
  return SurrogateEscape.test(text) ? wellFormed(parsed) : parsed;
}

function wellFormed(root: unknown): unknown {
  const fix = (s: string): string => s.replace(LoneSurrogate, '\ufffd');
  if (typeof root === 'string') return fix(root);
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current !== 'object' || current === null) continue;
    if (Array.isArray(current)) {
      current.forEach((item, i) => (typeof item === 'string' ? (current[i] = fix(item)) : stack.push(item)));
      continue;
    }
    const record = current as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const value = record[key];
      const fixedKey = fix(key);
      if (fixedKey !== key) {
        delete record[key];
        Object.defineProperty(record, fixedKey, { value, enumerable: true, configurable: true, writable: true });
      }
      if (typeof value === 'string') record[fixedKey] = fix(value);
      else stack.push(value);
    }
  }
  return root;
}
