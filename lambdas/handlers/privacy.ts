import { configFromEnvironment, credentialStore, dynamoDbClient, lakeStore, lambdaObservability, presignedExportLinks, privacyParts, privacyService, type Composition } from '../composition.js';
import type { AppLogger } from '../ports/logger.js';
import type { ExportLinks } from '../ports/privacy-salt.js';
import type { Telemetry } from '../ports/telemetry.js';
import { Authenticator } from '../use-cases/authenticate.js';
import { PrivacyApiError, type PrivacyService } from '../use-cases/privacy.js';
import { adminApiHandler } from './shared/admin.js';
import { errorBody, json, jsonBody, type HttpHandler } from './shared/http.js';
import { lambdaHandler } from './shared/lambda.js';

export interface PrivacyApiDependencies {
  readonly authenticator: Authenticator;
  readonly service: PrivacyService;
  readonly telemetry: Telemetry;
  readonly logger: AppLogger;
}

export function privacyApiDependencies(c: Pick<Composition, 'credentials' | 'privacy' | 'salt' | 'lake' | 'config' | 'telemetry' | 'logger'>, exportLinks: ExportLinks): PrivacyApiDependencies {
  return { authenticator: new Authenticator(c.credentials), service: privacyService(c, exportLinks), telemetry: c.telemetry, logger: c.logger };
}

const notJson = (): PrivacyApiError =>
  new PrivacyApiError(400, 'the body must be JSON: {"type": "erase", "identifier": {"type": "email", "value": "..."}}', [{ field: 'body', reason: 'is not valid JSON' }]);

function limitOf(raw: string | undefined): number {
  if (raw === undefined) return 25;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new PrivacyApiError(400, 'limit must be an integer from 1 to 100', [{ field: 'limit', reason: 'is out of range' }]);
  return limit;
}

/**
 * The privacy API (docs/privacy.md): submit access, erase, suppress and unsuppress requests, and
 * follow them to their receipt. Admin tokens only. Identifiers in requests are never logged.
 */
export function createPrivacyApiHandler(deps: PrivacyApiDependencies): HttpHandler {
  return adminApiHandler({
    handler: 'privacy',
    name: 'privacy API',
    deps,
    answer: async ({ event, operation, params, query }) => {
      const id = decodeURIComponent(params.id ?? '');
      switch (operation) {
        case 'createPrivacyRequest': {
          const request = await deps.service.submit(jsonBody(event, notJson));
          return json(202, request, { location: `/v1/privacy/requests/${request.id}` });
        }
        case 'listPrivacyRequests':
          return json(200, await deps.service.list(limitOf(query.limit), query.cursor));
        case 'getPrivacyRequest':
          return json(200, await deps.service.get(id));
        case 'getPrivacyExport': {
          const body = await deps.service.exportBody(id);
          return { statusCode: 200, headers: { 'content-type': 'application/json', 'content-disposition': `attachment; filename="${id}.json"`, 'cache-control': 'no-store' }, body: body.toString('utf8') };
        }
        default:
          return undefined;
      }
    },
    expected: (error) => {
      if (error instanceof PrivacyApiError) return json(error.status, { error: error.message, details: error.details });
      if (error instanceof URIError) return json(400, errorBody('the request id is not valid URL encoding', 'id'));
      return undefined;
    },
  });
}

export const handler = lambdaHandler(() => {
  const config = configFromEnvironment();
  const observability = lambdaObservability(config);
  const dynamodb = dynamoDbClient(config);
  const composition = { ...observability, config, credentials: credentialStore(config, dynamodb), lake: lakeStore(config), ...privacyParts(config, dynamodb) };
  return { ...observability, handler: createPrivacyApiHandler(privacyApiDependencies(composition, presignedExportLinks(config))) };
});
