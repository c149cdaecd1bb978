import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { configFromEnvironment, createObservability, credentialStore, eventStream, ingestDependencies, lakeStore, lazily, rejectionLog } from '../composition.js';
import { RequestRejectedError } from '../domain/errors.js';
import type { IntakeCall } from '../domain/intake-request.js';
import { StreamUnavailableError } from '../ports/event-stream.js';
import { ingest, type IngestDependencies } from '../use-cases/ingest.js';
import { header, json } from './http.js';

/** Path segment after `/v1/` → call. The one-letter paths are the ones analytics.js uses. */
const Calls: Readonly<Record<string, IntakeCall>> = {
  batch: 'batch', import: 'batch', b: 'batch',
  identify: 'identify', i: 'identify',
  track: 'track', t: 'track',
  page: 'page', p: 'page',
  screen: 'screen', s: 'screen',
  group: 'group', g: 'group',
  alias: 'alias', a: 'alias',
};

export type HealthCheck = () => Promise<void>;

export interface IngestHandlerDependencies extends IngestDependencies {
  /** Named readiness probes; `/health` is 200 only when all pass. */
  readonly healthChecks: Readonly<Record<string, HealthCheck>>;
}

export type HttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export function createIngestHandler(deps: IngestHandlerDependencies): HttpHandler {
  return async (event) => {
    const requestId = event.requestContext?.requestId ?? randomUUID();
    const method = event.requestContext?.http?.method ?? 'POST';
    const path = event.rawPath ?? '';
    try {
      if (path === '/health' && method === 'GET') return await health(deps.healthChecks);
      const call = Calls[/^\/v1\/([a-z]+)\/?$/.exec(path)?.[1] ?? ''];
      if (!call) return json(404, { error: `no route for ${method} ${path}`, details: [] });
      if (method !== 'POST') return json(405, { error: 'use POST', details: [] }, { allow: 'POST' });
      const body = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
      const result = await ingest(
        {
          call,
          authorization: header(event.headers, 'authorization'),
          contentType: header(event.headers, 'content-type'),
          contentEncoding: header(event.headers, 'content-encoding'),
          body,
          requestId,
        },
        deps,
      );
      return json(200, {
        success: true,
        accepted: result.accepted,
        rejected: result.rejected,
        ...(result.details.length > 0 ? { details: result.details } : {}),
      });
    } catch (error) {
      if (error instanceof RequestRejectedError) {
        return json(error.status, { error: error.message, details: error.details }, error.status === 401 ? { 'www-authenticate': 'Basic realm="cdp"' } : {});
      }
      if (error instanceof StreamUnavailableError) {
        deps.logger.error('stream unavailable; the client should retry', { error, requestId });
        return json(503, { error: 'the event stream is busy; retry later', details: [] }, { 'retry-after': '5' });
      }
      deps.logger.error('unexpected intake failure', { error, requestId });
      return json(500, { error: 'internal error', requestId, details: [] });
    } finally {
      deps.telemetry.flush();
    }
  };
}

async function health(checks: Readonly<Record<string, HealthCheck>>): Promise<APIGatewayProxyStructuredResultV2> {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await check();
        return [name, 'ok'] as const;
      } catch (error) {
        return [name, `failing: ${(error as Error).message}`] as const;
      }
    }),
  );
  const healthy = results.every(([, status]) => status === 'ok');
  return json(healthy ? 200 : 503, { status: healthy ? 'ok' : 'unavailable', checks: Object.fromEntries(results) });
}

const production = lazily(() => {
  const config = configFromEnvironment();
  const observability = createObservability(config);
  const stream = eventStream(config);
  const credentials = credentialStore(config);
  return createIngestHandler({
    ...ingestDependencies({ ...observability, stream, credentials, rejectionLog: rejectionLog(lakeStore(config), observability) }),
    healthChecks: { stream: () => stream.ping(), credentials: () => credentials.ping() },
  });
});

export const handler: HttpHandler = (event) => production()(event);
