import { randomUUID } from 'node:crypto';
import { configFromEnvironment, credentialStore, dynamoDbClient, eventStream, ingestDependencies, lakeStore, lambdaObservability, privacyParts, rejectionLog } from '../composition.js';
import { IntakeCorsHeaders } from '../contracts.js';
import { RequestRejectedError } from '../domain/errors.js';
import { isIntakeCall } from '../domain/intake-request.js';
import { analyticsJsSettings, apiHostOf, rudderStackSourceConfig } from '../domain/sdk-settings.js';
import { writeKeyFromBasicAuth } from '../domain/credentials.js';
import { StreamUnavailableError } from '../ports/event-stream.js';
import { ingest, type IngestDependencies } from '../use-cases/ingest.js';
import { bodyBytes, errorBody, header, json, type HttpHandler } from './shared/http.js';
import { lambdaHandler } from './shared/lambda.js';
import { matchRoute } from './shared/routes.js';

export type HealthCheck = () => Promise<void>;

export interface IngestHandlerDependencies extends IngestDependencies {
  /** Named readiness probes; `/health` is 200 only when all pass. */
  readonly healthChecks: Readonly<Record<string, HealthCheck>>;
}

/**
 * The intake API (Segment's HTTP Tracking API) and `/health`. It also answers requests that no
 * route matches (API Gateway's `$default` route), so an unknown path gets the same JSON 404 in
 * AWS and locally.
 */
export function createIngestHandler(deps: IngestHandlerDependencies): HttpHandler {
  const answer = intakeAnswer(deps);
  // Browsers on any site send events: every answer allows any origin, and preflights are answered here (IntakeCorsHeaders).
  return async (event) => {
    if (event.requestContext?.http?.method === 'OPTIONS') return { statusCode: 204, headers: { ...IntakeCorsHeaders } };
    const result = await answer(event);
    return { ...result, headers: { ...result.headers, ...IntakeCorsHeaders } };
  };
}

function intakeAnswer(deps: IngestHandlerDependencies): HttpHandler {
  return async (event) => {
    const requestId = event.requestContext?.requestId ?? randomUUID();
    const method = event.requestContext?.http?.method ?? 'POST';
    const path = event.rawPath ?? '';
    const match = matchRoute(method, path);
    if (match.kind === 'wrong-method') return json(405, errorBody(`use ${match.allow.join(' or ')} for ${path}`), { allow: match.allow.join(', ') });
    if (match.kind === 'unmatched' || match.route.handler !== 'ingest') return json(404, errorBody(`no route for ${method} ${path}`));
    const { operation } = match.route;
    try {
      if (operation === 'health') return await health(deps.healthChecks);
      if (operation === 'analyticsJsSettings') return await sdkSettings(match.params.writeKey ?? '', event.headers, deps);
      if (operation === 'rudderStackSourceConfig') return await sourceConfig(writeKeyFromBasicAuth(header(event.headers, 'authorization')) ?? event.queryStringParameters?.writeKey, deps);
      if (!isIntakeCall(operation)) return json(404, errorBody(`no route for ${method} ${path}`));
      const result = await ingest(
        {
          call: operation,
          authorization: header(event.headers, 'authorization'),
          contentType: header(event.headers, 'content-type'),
          contentEncoding: header(event.headers, 'content-encoding'),
          body: bodyBytes(event),
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
    }
  };
}

/** analytics.js's settings for a write key: 404 for a key that is unknown or revoked, so a typo shows at once. */
async function sdkSettings(encodedKey: string, headers: Parameters<typeof header>[0], deps: IngestHandlerDependencies): Promise<ReturnType<typeof json>> {
  let writeKey: string;
  try {
    writeKey = decodeURIComponent(encodedKey);
  } catch {
    return json(400, errorBody('the write key in the path is not valid percent-encoding'));
  }
  if (!(await deps.authenticator.authenticate(writeKey, 'write'))) return json(404, { error: 'no source has this write key', details: [{ field: 'writeKey', reason: 'unknown or revoked write key' }] });
  const api = apiHostOf({ host: header(headers, 'host'), forwardedHost: header(headers, 'x-forwarded-host'), forwardedProto: header(headers, 'x-forwarded-proto') });
  if (!api) return json(400, { error: 'the request has no usable Host header', details: [{ field: 'host', reason: 'missing or not a host name' }] });
  // Browsers fetch this on every page load: a short cache spares the key lookup, and a revocation still bites within minutes.
  return json(200, analyticsJsSettings({ writeKey, ...api }), { 'cache-control': 'public, max-age=300' });
}

/** RudderStack's JS SDK's source configuration for a write key. */
async function sourceConfig(writeKey: string | undefined, deps: IngestHandlerDependencies): Promise<ReturnType<typeof json>> {
  const credential = await deps.authenticator.authenticate(writeKey, 'write');
  if (!credential) return json(401, { error: 'a valid write key is required, as the HTTP Basic username or ?writeKey=', details: [{ field: 'writeKey', reason: 'missing, unknown or revoked write key' }] });
  return json(200, rudderStackSourceConfig({ id: credential.sourceId, name: credential.name }), { 'cache-control': 'private, max-age=300' });
}

async function health(checks: Readonly<Record<string, HealthCheck>>): Promise<ReturnType<typeof json>> {
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

export const handler = lambdaHandler(() => {
  const config = configFromEnvironment();
  const observability = lambdaObservability(config);
  const stream = eventStream(config);
  const dynamodb = dynamoDbClient(config);
  const credentials = credentialStore(config, dynamodb);
  const privacy = { config, ...privacyParts(config, dynamodb) };
  return {
    ...observability,
    handler: createIngestHandler({
      ...ingestDependencies({ ...observability, ...privacy, stream, credentials, rejectionLog: rejectionLog(lakeStore(config), { ...observability, ...privacy }) }),
      healthChecks: { stream: () => stream.ping(), credentials: () => credentials.ping() },
    }),
  };
});
