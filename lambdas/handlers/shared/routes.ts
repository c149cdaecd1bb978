import { HttpRoutes, type HttpRoute } from '../../contracts.js';

/** The routes that share one path (API Gateway deploys them as one `ANY` route), and its parameters. */
export interface PathMatch {
  readonly template: string;
  readonly routes: readonly HttpRoute[];
  /** Path parameters as they appear in the raw path (still URL-encoded). */
  readonly params: Readonly<Record<string, string>>;
}

export type RouteMatch =
  | { readonly kind: 'matched'; readonly route: HttpRoute; readonly params: Readonly<Record<string, string>> }
  /** The path is a route's, the method is not: answer 405 with `allow`. */
  | { readonly kind: 'wrong-method'; readonly allow: readonly string[] }
  | { readonly kind: 'unmatched' };

interface CompiledPath {
  readonly template: string;
  readonly routes: readonly HttpRoute[];
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

/** `/v1/profiles/{ref}/events` → a pattern where `{ref}` matches one path segment, as API Gateway's does. */
function compile(template: string, routes: readonly HttpRoute[]): CompiledPath {
  const names: string[] = [];
  const source = template
    .split('/')
    .map((segment) => {
      const parameter = /^\{([A-Za-z0-9_]+)\}$/.exec(segment);
      if (!parameter) return segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      names.push(parameter[1]!);
      return '([^/]+)';
    })
    .join('/');
  return { template, routes, pattern: new RegExp(`^${source}$`), names };
}

const compiled = new WeakMap<readonly HttpRoute[], readonly CompiledPath[]>();

function compiledPaths(routes: readonly HttpRoute[]): readonly CompiledPath[] {
  let table = compiled.get(routes);
  if (!table) {
    const byPath = new Map<string, HttpRoute[]>();
    for (const route of routes) byPath.set(route.path, [...(byPath.get(route.path) ?? []), route]);
    table = [...byPath].map(([template, sharing]) => compile(template, sharing));
    compiled.set(routes, table);
  }
  return table;
}

/** The route path a raw request path falls under, if any. */
export function matchPath(path: string, routes: readonly HttpRoute[] = HttpRoutes): PathMatch | undefined {
  for (const { template, routes: sharing, pattern, names } of compiledPaths(routes)) {
    const found = pattern.exec(path);
    if (found) return { template, routes: sharing, params: Object.fromEntries(names.map((name, i) => [name, found[i + 1]!])) };
  }
  return undefined;
}

/** Which route a request is, by method and raw path, from the one route table. */
export function matchRoute(method: string, path: string, routes: readonly HttpRoute[] = HttpRoutes): RouteMatch {
  const found = matchPath(path, routes);
  if (!found) return { kind: 'unmatched' };
  const route = found.routes.find((r) => r.method === method.toUpperCase());
  return route ? { kind: 'matched', route, params: found.params } : { kind: 'wrong-method', allow: found.routes.map((r) => r.method) };
}
