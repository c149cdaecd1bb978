import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { HandlerName } from '../../contracts.js';
import { bearerToken, writeKeyFromBasicAuth } from '../../domain/credentials.js';
import type { AppLogger } from '../../ports/logger.js';
import type { Telemetry } from '../../ports/telemetry.js';
import type { Authenticator } from '../../use-cases/authenticate.js';
import { errorBody, header, json, type HttpHandler } from './http.js';
import { matchRoute } from './routes.js';

/**
 * The answer to a request without a usable admin token, or undefined to go on. In AWS a Lambda
 * authorizer guards admin routes too; checking here as well means a handler is safe wherever it
 * is mounted, and answers with the same statuses: 401 without a credential, 403 with one that is
 * not an admin token.
 */
export async function refuseUnlessAdmin(
  authorization: string | undefined,
  deps: { readonly authenticator: Authenticator; readonly telemetry: Telemetry },
  api: string,
): Promise<APIGatewayProxyStructuredResultV2 | undefined> {
  const secret = bearerToken(authorization) ?? writeKeyFromBasicAuth(authorization);
  if (!secret) {
    deps.telemetry.count('AuthFailures');
    return json(401, errorBody('an admin token is required (Authorization: Bearer ...)', 'authorization'), { 'www-authenticate': 'Bearer realm="cdp-admin"' });
  }
  if (await deps.authenticator.authenticate(secret, 'admin')) return undefined;
  deps.telemetry.count('AuthFailures');
  const isWriteKey = (await deps.authenticator.authenticate(secret, 'write')) !== undefined;
  return json(
    403,
    errorBody(
      isWriteKey ? `write keys can only send events; the ${api} needs an admin token (Authorization: Bearer ...)` : 'the admin token is unknown or revoked',
      'authorization',
    ),
  );
}

/** A request to an admin route that passed the token check and matched a route of its API. */
export interface AdminRequest {
  readonly event: APIGatewayProxyEventV2;
  readonly operation: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string | undefined>>;
}

export interface AdminApi {
  /** The route table's handler name, and the API's name in messages ("profile API"). */
  readonly handler: HandlerName;
  readonly name: string;
  readonly deps: { readonly authenticator: Authenticator; readonly telemetry: Telemetry; readonly logger: AppLogger };
  /** The answer to one operation; undefined for an operation the API does not know (404). */
  readonly answer: (request: AdminRequest) => Promise<APIGatewayProxyStructuredResultV2 | undefined>;
  /** The answer to an error the API expects (its own error class); undefined means a 500. */
  readonly expected: (error: unknown) => APIGatewayProxyStructuredResultV2 | undefined;
}

/**
 * What every admin API does around its operations: the admin token, the route table (405 with
 * `allow` for a wrong method, 404 for a path of another API), its expected errors as 4xx, and
 * anything else as a logged 500 carrying the request id.
 */
export function adminApiHandler(api: AdminApi): HttpHandler {
  return async (event) => {
    const requestId = event.requestContext?.requestId ?? randomUUID();
    const method = event.requestContext?.http?.method ?? 'GET';
    const path = event.rawPath ?? '';
    try {
      const refusal = await refuseUnlessAdmin(header(event.headers, 'authorization'), api.deps, api.name);
      if (refusal) return refusal;
      const match = matchRoute(method, path);
      if (match.kind === 'wrong-method') return json(405, errorBody(`use ${match.allow.join(' or ')} for ${path}`), { allow: match.allow.join(', ') });
      if (match.kind === 'unmatched' || match.route.handler !== api.handler) return json(404, errorBody(`no route for ${method} ${path}`));
      const answer = await api.answer({ event, operation: match.route.operation, params: match.params, query: event.queryStringParameters ?? {} });
      return answer ?? json(404, errorBody(`no route for ${method} ${path}`));
    } catch (error) {
      const expected = api.expected(error);
      if (expected) return expected;
      api.deps.logger.error(`${api.name} failure`, { error, requestId });
      return json(500, { error: 'internal error', requestId, details: [] });
    }
  };
}
