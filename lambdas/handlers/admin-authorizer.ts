import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerResult } from 'aws-lambda';
import { configFromEnvironment, credentialStore, lambdaObservability } from '../composition.js';
import { bearerToken } from '../domain/credentials.js';
import type { AppLogger } from '../ports/logger.js';
import { Authenticator } from '../use-cases/authenticate.js';
import { lambdaHandler } from './shared/lambda.js';

export type AuthorizerHandler = (event: APIGatewayRequestAuthorizerEventV2) => Promise<APIGatewaySimpleAuthorizerResult>;

/** API Gateway's gate on admin routes: allows a request only with a usable admin token (Bearer). */
export function createAdminAuthorizer(authenticator: Authenticator, logger: AppLogger): AuthorizerHandler {
  return async (event) => {
    const header = event.headers?.authorization ?? event.identitySource?.[0];
    const credential = await authenticator.authenticate(bearerToken(header), 'admin');
    if (!credential) logger.info('admin request refused', { routeKey: event.routeKey });
    return { isAuthorized: credential !== undefined };
  };
}

export const handler = lambdaHandler(() => {
  const config = configFromEnvironment();
  const observability = lambdaObservability(config);
  return { ...observability, handler: createAdminAuthorizer(new Authenticator(credentialStore(config)), observability.logger) };
});
