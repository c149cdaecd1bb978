import { cloudWatchMetrics, configFromEnvironment, credentialStore, dynamoDbClient, kinesisClient, lakeStore, lambdaObservability, streamTail, type Composition } from '../composition.js';
import type { MetricsReader } from '../ports/metrics-reader.js';
import type { StreamTail } from '../ports/stream-tail.js';
import { IntakeOverview, OverviewRangeError } from '../use-cases/overview.js';
import type { AppLogger } from '../ports/logger.js';
import type { Telemetry } from '../ports/telemetry.js';
import { Authenticator } from '../use-cases/authenticate.js';
import { InvalidLiveCursorError, LiveEvents } from '../use-cases/live-events.js';
import { SourceApiError, SourceKeys } from '../use-cases/sources.js';
import { adminApiHandler } from './shared/admin.js';
import { errorBody, json, jsonBody, type HttpHandler } from './shared/http.js';
import { lambdaHandler } from './shared/lambda.js';

export interface SourceApiDependencies {
  readonly authenticator: Authenticator;
  readonly keys: SourceKeys;
  readonly live: LiveEvents;
  readonly overview: IntakeOverview;
  readonly telemetry: Telemetry;
  readonly logger: AppLogger;
}

export function sourceApiDependencies(c: Pick<Composition, 'credentials' | 'lake' | 'telemetry' | 'logger'> & { readonly tail: StreamTail; readonly metrics: MetricsReader }): SourceApiDependencies {
  return {
    authenticator: new Authenticator(c.credentials),
    keys: new SourceKeys(c.credentials),
    live: new LiveEvents({ stream: c.tail, lake: c.lake }),
    overview: new IntakeOverview(c.metrics),
    telemetry: c.telemetry,
    logger: c.logger,
  };
}

const notJson = (): SourceApiError => new SourceApiError(400, 'the body must be JSON: {"name": "Web shop"}', [{ field: 'body', reason: 'is not valid JSON' }]);

/**
 * The source API (docs/api.md): each source's write keys (list, make one whose secret is shown
 * once, revoke one), the live view of what intake accepts and refuses, and the overview of the
 * last minutes' counts. Admin tokens only.
 */
export function createSourceApiHandler(deps: SourceApiDependencies): HttpHandler {
  return adminApiHandler({
    handler: 'sources',
    name: 'source API',
    deps,
    answer: async ({ event, operation, params, query }) => {
      const sourceId = decodeURIComponent(params.sourceId ?? '');
      switch (operation) {
        case 'listSources':
          return json(200, { sources: await deps.keys.list() });
        case 'createWriteKey': {
          const body = event.body ? jsonBody(event, notJson) : {};
          if (typeof body !== 'object' || body === null || Array.isArray(body)) throw notJson();
          return json(201, await deps.keys.create(sourceId, (body as { name?: unknown }).name), { 'cache-control': 'no-store' });
        }
        case 'revokeWriteKey':
          return json(200, await deps.keys.revoke(sourceId, decodeURIComponent(params.keyHash ?? '')));
        case 'liveEvents':
          return json(200, await deps.live.read(query.cursor), { 'cache-control': 'no-store' });
        case 'overview':
          return json(200, await deps.overview.read(query.minutes === undefined ? undefined : Number(query.minutes)), { 'cache-control': 'no-store' });
        default:
          return undefined;
      }
    },
    expected: (error) => {
      if (error instanceof SourceApiError) return json(error.status, { error: error.message, details: error.details });
      if (error instanceof InvalidLiveCursorError) return json(400, errorBody(error.message, 'cursor'));
      if (error instanceof OverviewRangeError) return json(400, errorBody(error.message, 'minutes'));
      if (error instanceof URIError) return json(400, errorBody('the source id or key hash is not valid URL encoding', 'sourceId'));
      return undefined;
    },
  });
}

export const handler = lambdaHandler(() => {
  const config = configFromEnvironment();
  const observability = lambdaObservability(config);
  return {
    ...observability,
    handler: createSourceApiHandler(
      sourceApiDependencies({
        ...observability,
        credentials: credentialStore(config, dynamoDbClient(config)),
        lake: lakeStore(config),
        tail: streamTail(config, kinesisClient(config)),
        metrics: cloudWatchMetrics(),
      }),
    ),
  };
});
