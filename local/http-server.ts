import type { APIGatewayProxyEventV2, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { HttpRoutes, IntakeCorsHeaders, IntakeLimits, type HandlerName, type HttpRoute } from '../lambdas/contracts.js';
import type { AuthorizerHandler } from '../lambdas/handlers/admin-authorizer.js';
import type { HttpHandler } from '../lambdas/handlers/shared/http.js';
import { matchPath, type PathMatch } from '../lambdas/handlers/shared/routes.js';

export interface ApiServerOptions {
  /** The function serving each handler the route table names. */
  readonly functions: Partial<Record<HandlerName, HttpHandler>>;
  /** The Lambda authorizer API Gateway runs before every admin route. */
  readonly adminAuthorizer: AuthorizerHandler;
  /** Directories served as static sites (GET and HEAD) under a URL prefix, e.g. the web console. */
  readonly staticSites?: ReadonlyArray<{ readonly prefix: string; readonly directory: string }>;
  /** @default HttpRoutes from lambdas/contracts.ts */
  readonly routes?: readonly HttpRoute[];
  /** Serves requests no route matches, like API Gateway's `$default` route. */
  readonly unmatched: HandlerName;
}

/**
 * Serves the API the way API Gateway's HTTP API does, from the same route table the stack
 * deploys: each request becomes a payload-format-2.0 event (base64 body) for the function its
 * path is routed to; admin routes first pass the same Lambda authorizer (401 without an
 * Authorization header, 403 when it refuses); unmatched requests go to the `$default` function.
 * CORS is the functions' own (intake allows any origin; an admin route's preflight is refused by
 * the authorizer step), as in AWS, where the API has no CORS configuration.
 */
export function createApiServer(options: ApiServerOptions): Server {
  const routes = options.routes ?? HttpRoutes;
  const sites = (options.staticSites ?? []).map((site) => ({ prefix: site.prefix.replace(/\/?$/, '/'), root: resolve(site.directory) }));
  return createServer((req, res) => {
    void serve(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'internal error', details: [] }));
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const site = sites.find((s) => `${url.pathname}/`.startsWith(s.prefix));
    if (site && (req.method === 'GET' || req.method === 'HEAD')) {
      // `/console` → `/console/`, so the page's relative links (app.js) resolve inside the site.
      if (`${url.pathname}/` === site.prefix) return void res.writeHead(301, { location: site.prefix }).end();
      await serveStatic(site.root, url.pathname.slice(site.prefix.length - 1), req, res);
      return;
    }
    const body = await readBody(req, IntakeLimits.maxRawBodyBytes);
    if (body === undefined) {
      // In AWS the function refuses it, so an intake path's refusal carries intake's CORS.
      const admin = matchPath(url.pathname, routes)?.routes.some((route) => route.auth === 'admin') === true;
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close', ...(admin ? {} : IntakeCorsHeaders) });
      res.end(JSON.stringify({ error: `request body exceeds ${IntakeLimits.maxRawBodyBytes} bytes`, details: [] }));
      return;
    }
    const path = matchPath(url.pathname, routes);
    const event = toApiGatewayEvent(req, url, body, path);
    if (path?.routes.some((route) => route.auth === 'admin')) {
      const refusal = await authorize(event);
      if (refusal) {
        res.writeHead(refusal.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: refusal.message }));
        return;
      }
    }
    const name = path?.routes[0]!.handler ?? options.unmatched;
    const handler = options.functions[name];
    if (!handler) throw new Error(`no local function for ${name}`);
    const result = await handler(event);
    res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
    res.end(result.body ?? '');
  }

  /** API Gateway's answer before the function runs: 401 without the identity source, 403 when the authorizer says no. */
  async function authorize(event: APIGatewayProxyEventV2): Promise<{ status: 401 | 403; message: string } | undefined> {
    const authorization = event.headers.authorization;
    if (!authorization) return { status: 401, message: 'Unauthorized' };
    const request: APIGatewayRequestAuthorizerEventV2 = {
      version: '2.0',
      type: 'REQUEST',
      routeArn: `arn:aws:execute-api:us-east-1:000000000000:local/$default/${event.routeKey.replace(' ', '')}`,
      identitySource: [authorization],
      routeKey: event.routeKey,
      rawPath: event.rawPath,
      rawQueryString: event.rawQueryString,
      cookies: [],
      headers: event.headers,
      queryStringParameters: event.queryStringParameters ?? {},
      requestContext: event.requestContext,
      pathParameters: event.pathParameters ?? {},
      stageVariables: {},
    };
    const { isAuthorized } = await options.adminAuthorizer(request);
    return isAuthorized ? undefined : { status: 403, message: 'Forbidden' };
  }
}

const ContentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** A file under `root` (its index.html for a directory); nothing outside `root` is ever served. */
async function serveStatic(root: string, relative: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(relative);
  } catch {
    decoded = '\0';
  }
  let file = resolve(join(root, decoded));
  const inside = file === root || file.startsWith(`${root}${sep}`);
  const found = inside && !decoded.includes('\0') ? await stat(file).catch(() => undefined) : undefined;
  if (found?.isDirectory()) file = join(file, 'index.html');
  const info = found?.isDirectory() ? await stat(file).catch(() => undefined) : found;
  if (!info?.isFile()) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: `no file at ${relative}`, details: [] }));
    return;
  }
  res.writeHead(200, {
    'content-type': ContentTypes[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'content-length': String(info.size),
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file).pipe(res);
}

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/** Reads the body up to `limit` bytes; undefined when it is larger. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function toApiGatewayEvent(req: IncomingMessage, url: URL, body: Buffer, path: PathMatch | undefined): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const routeKey = path ? `ANY ${path.template}` : '$default';
  const pathParameters = path ? Object.fromEntries(Object.entries(path.params).map(([name, value]) => [name, safeDecode(value)])) : undefined;
  const now = Date.now();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.fromEntries(url.searchParams),
    ...(pathParameters ? { pathParameters } : {}),
    isBase64Encoded: true,
    body: body.toString('base64'),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
    },
  };
}

const safeDecode = (segment: string): string => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};
