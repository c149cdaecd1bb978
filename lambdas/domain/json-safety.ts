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
