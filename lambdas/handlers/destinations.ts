import { configFromEnvironment, credentialStore, destinationService, destinationStore, dynamoDbClient, eventBridgeDestinationBus, lambdaObservability, type Composition, type DestinationBus } from '../composition.js';
import type { AppLogger } from '../ports/logger.js';
import type { Telemetry } from '../ports/telemetry.js';
import { Authenticator } from '../use-cases/authenticate.js';
import { DestinationApiError, type DestinationService } from '../use-cases/destinations.js';
import { OverviewRangeError } from '../use-cases/overview.js';
import { adminApiHandler } from './shared/admin.js';
import { errorBody, json, jsonBody, type HttpHandler } from './shared/http.js';
import { lambdaHandler } from './shared/lambda.js';

export interface DestinationApiDependencies {
  readonly authenticator: Authenticator;
  readonly service: DestinationService;
  readonly telemetry: Telemetry;
  readonly logger: AppLogger;
}

/** The destination API's dependencies from a composition, working on the given bus (EventBridge in AWS, the local bus locally). */
export function destinationApiDependencies(c: Pick<Composition, 'credentials' | 'config' | 'telemetry' | 'logger' | 'destinations'>, on: DestinationBus): DestinationApiDependencies {
  return { authenticator: new Authenticator(c.credentials), service: destinationService(c, on), telemetry: c.telemetry, logger: c.logger };
}

const notJson = (): DestinationApiError =>
  new DestinationApiError(400, 'the body must be JSON: {"type": "webhook", "url": "...", "pattern": {...}}', [{ field: 'body', reason: 'is not valid JSON' }]);

/** The destination API (docs/activation.md): define, read, list, delete and test destinations. Admin tokens only; secrets are never returned. */
export function createDestinationApiHandler(deps: DestinationApiDependencies): HttpHandler {
  return adminApiHandler({
    handler: 'destinations',
    name: 'destination API',
    deps,
    answer: async ({ event, operation, params, query }) => {
      const id = decodeURIComponent(params.id ?? '');
      switch (operation) {
        case 'listDestinations':
          return json(200, { destinations: await deps.service.list() });
        case 'getDestination':
          return json(200, await deps.service.get(id));
        case 'putDestination': {
          const { destination, created } = await deps.service.put(id, jsonBody(event, notJson));
          return json(created ? 201 : 200, destination);
        }
        case 'deleteDestination':
          await deps.service.delete(id);
          return { statusCode: 204 };
        case 'testDestination':
          return json(202, await deps.service.sendTest(id));
        case 'listDeadLetters':
          return json(200, { deadLetters: await deps.service.deadLetterCounts() });
        case 'listDeliveries':
          return json(200, await deps.service.deliveryOutcomes(query.minutes === undefined ? undefined : Number(query.minutes)), { 'cache-control': 'no-store' });
        case 'redriveDestination':
          return json(200, await deps.service.redrive(id));
        default:
          return undefined;
      }
    },
    expected: (error) => {
      if (error instanceof DestinationApiError) return json(error.status, { error: error.message, details: error.details });
      if (error instanceof OverviewRangeError) return json(400, errorBody(error.message, 'minutes'));
      if (error instanceof URIError) return json(400, errorBody('the destination id is not valid URL encoding', 'id'));
      return undefined;
    },
  });
}

export const handler = lambdaHandler(() => {
  const config = configFromEnvironment();
  const observability = lambdaObservability(config);
  const dynamodb = dynamoDbClient(config);
  const composition = { ...observability, config, credentials: credentialStore(config, dynamodb), destinations: destinationStore(config, dynamodb) };
  return { ...observability, handler: createDestinationApiHandler(destinationApiDependencies(composition, eventBridgeDestinationBus(config))) };
});
