import { configFromEnvironment, credentialStore, dynamoDbClient, lambdaObservability, segmentService, segmentStore, type Composition } from '../composition.js';
import type { LakeQuery } from '../ports/lake-query.js';
import type { AppLogger } from '../ports/logger.js';
import type { Telemetry } from '../ports/telemetry.js';
import { Authenticator } from '../use-cases/authenticate.js';
import { SegmentApiError, type BackfillTiming, type SegmentService } from '../use-cases/segments.js';
import { adminApiHandler } from './shared/admin.js';
import { errorBody, json, jsonBody, type HttpHandler } from './shared/http.js';
import { lambdaHandler } from './shared/lambda.js';

export interface SegmentApiDependencies {
  readonly authenticator: Authenticator;
  readonly service: SegmentService;
  readonly telemetry: Telemetry;
  readonly logger: AppLogger;
}

/** The segment API's dependencies from a composition; the lake is Athena unless the local runtime passes DuckDB. */
export function segmentApiDependencies(
  c: Pick<Composition, 'credentials' | 'config' | 'telemetry' | 'logger' | 'segments'>,
  lake?: LakeQuery,
  timing?: BackfillTiming,
): SegmentApiDependencies {
  return { authenticator: new Authenticator(c.credentials), service: segmentService(c, lake, timing), telemetry: c.telemetry, logger: c.logger };
}

function limitOf(raw: string | undefined): number {
  if (raw === undefined) return 100;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new SegmentApiError(400, 'limit must be an integer from 1 to 1000', 'limit');
  return limit;
}

const notJson = (): SegmentApiError => new SegmentApiError(400, 'the body must be JSON: {"name": "...", "condition": {...}}', 'body');

/** The segment API (docs/api.md): define, read, list and delete segments, list members, preview a condition's count, and get a segment as SQL. Admin tokens only. */
export function createSegmentApiHandler(deps: SegmentApiDependencies): HttpHandler {
  return adminApiHandler({
    handler: 'segments',
    name: 'segment API',
    deps,
    answer: async ({ event, operation, params, query }) => {
      const id = decodeURIComponent(params.id ?? '');
      switch (operation) {
        case 'listSegments':
          return json(200, { segments: await deps.service.list() });
        case 'getSegment':
          return json(200, await deps.service.get(id));
        case 'putSegment': {
          const { segment, created } = await deps.service.put(id, jsonBody(event, notJson));
          return json(created ? 201 : 200, segment);
        }
        case 'deleteSegment':
          return json(202, await deps.service.delete(id));
        case 'listSegmentMembers':
          return json(200, await deps.service.members(id, limitOf(query.limit), query.cursor));
        case 'getSegmentSql':
          return json(200, await deps.service.sql(id, query.at));
        case 'previewSegment':
          return json(200, await deps.service.preview(jsonBody(event, notJson)));
        default:
          return undefined;
      }
    },
    expected: (error) => {
      if (error instanceof SegmentApiError) return json(error.status, { error: error.message, details: error.details });
      if (error instanceof URIError) return json(400, errorBody('the segment id is not valid URL encoding', 'id'));
      return undefined;
    },
  });
}

export const handler = lambdaHandler(() => {
  const config = configFromEnvironment();
  const observability = lambdaObservability(config);
  const dynamodb = dynamoDbClient(config);
  return {
    ...observability,
    handler: createSegmentApiHandler(segmentApiDependencies({ ...observability, config, credentials: credentialStore(config, dynamodb), segments: segmentStore(config, dynamodb) })),
  };
});
