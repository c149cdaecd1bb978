import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import { configFromEnvironment, createObservability, credentialStore, dynamoDbClient, lazily, profileApiDependencies, profileStore } from '../composition.js';
import { bearerToken, writeKeyFromBasicAuth } from '../domain/credentials.js';
import { normalizeIdentifier } from '../domain/identifiers.js';
import { decodeCursor, InvalidCursorError } from '../domain/timeline.js';
import type { AppLogger } from '../ports/logger.js';
import type { Telemetry } from '../ports/telemetry.js';
import type { Authenticator } from '../use-cases/authenticate.js';
import { ProfileApiError, ProfileService, type ProfileRef } from '../use-cases/profiles.js';
import type { HttpHandler } from './ingest.js';
import { header, json } from './http.js';

export interface ProfileApiDependencies {
  readonly authenticator: Authenticator;
  readonly service: ProfileService;
  readonly telemetry: Telemetry;
  readonly logger: AppLogger;
}

const IdentifierType = /^[a-z][a-z0-9_]{0,39}$/;

const SplitRequest = z.object({
  identifier: z.object({
    type: z.string().check(z.regex(IdentifierType, 'must be an identifier type such as email or user_id')),
    value: z.string().check(z.minLength(1), z.maxLength(512)),
  }),
});
type SplitRequest = z.infer<typeof SplitRequest>;

/** `email:ana%40example.com` → an identifier in canonical form; `profile:<id>` → a profile id. */
export function parseProfileRef(segment: string): ProfileRef {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw new ProfileApiError(400, 'the profile reference is not valid URL encoding', 'ref');
  }
  const colon = decoded.indexOf(':');
  const type = decoded.slice(0, colon);
  const value = decoded.slice(colon + 1);
  if (colon <= 0 || !IdentifierType.test(type) || value === '') {
    throw new ProfileApiError(400, 'expected {type}:{value}, e.g. email:ana%40example.com or user_id:42', 'ref');
  }
  if (type === 'profile') return { profileId: value };
  const identifier = normalizeIdentifier(type, value);
  if (!identifier) throw new ProfileApiError(400, `${JSON.stringify(value)} is not a valid ${type}`, 'ref');
  return { identifier };
}

function limitOf(raw: string | undefined): number {
  if (raw === undefined) return 50;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new ProfileApiError(400, 'limit must be an integer from 1 to 500', 'limit');
  return limit;
}

const errorBody = (message: string, field?: string) => ({ error: message, details: field ? [{ field, reason: message }] : [] });

/**
 * The profile API. Admin tokens only (Bearer); write keys can send events but never read people.
 * In AWS a separate Lambda authorizer guards these routes too; checking here as well means the
 * handler is safe wherever it is mounted.
 */
export function createProfileApiHandler(deps: ProfileApiDependencies): HttpHandler {
  return async (event) => {
    const requestId = event.requestContext?.requestId ?? randomUUID();
    const method = event.requestContext?.http?.method ?? 'GET';
    const path = event.rawPath ?? '';
    try {
      const authorization = header(event.headers, 'authorization');
      const token = bearerToken(authorization);
      if (!token && writeKeyFromBasicAuth(authorization)) {
        return json(403, errorBody('write keys can only send events; the profile API needs an admin token (Authorization: Bearer ...)', 'authorization'));
      }
      if (!(await deps.authenticator.authenticate(token, 'admin'))) {
        deps.telemetry.count('AuthFailures');
        return json(401, errorBody('a valid admin token is required (Authorization: Bearer ...)', 'authorization'), { 'www-authenticate': 'Bearer realm="cdp-admin"' });
      }
      const match = /^\/v1\/profiles\/([^/]+)(?:\/(events|merges|split))?\/?$/.exec(path);
      if (!match) return json(404, errorBody(`no route for ${method} ${path}`));
      const ref = parseProfileRef(match[1]!);
      const action = match[2] ?? 'profile';
      const expected = action === 'split' ? 'POST' : 'GET';
      if (method !== expected) return json(405, errorBody(`use ${expected}`), { allow: expected });
      switch (action) {
        case 'profile':
          return json(200, await deps.service.view(ref));
        case 'events': {
          const query = event.queryStringParameters ?? {};
          const page = await deps.service.timeline(ref, limitOf(query.limit), query.cursor ? decodeCursor(query.cursor) : undefined);
          return json(200, page);
        }
        case 'merges':
          return json(200, await deps.service.history(ref));
        default: {
          const body = parseSplitRequest(event.body, event.isBase64Encoded);
          const identifier = normalizeIdentifier(body.identifier.type, body.identifier.value);
          if (!identifier) throw new ProfileApiError(400, `not a valid ${body.identifier.type}`, 'identifier.value');
          return json(200, await deps.service.split(ref, identifier));
        }
      }
    } catch (error) {
      if (error instanceof ProfileApiError) return json(error.status, errorBody(error.message, error.field));
      if (error instanceof InvalidCursorError) return json(400, errorBody(error.message, 'cursor'));
      deps.logger.error('profile API failure', { error, requestId });
      return json(500, { error: 'internal error', requestId, details: [] });
    } finally {
      deps.telemetry.flush();
    }
  };
}

function parseSplitRequest(body: string | undefined, base64: boolean | undefined): SplitRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body ?? '', base64 ? 'base64' : 'utf8').toString('utf8'));
  } catch {
    throw new ProfileApiError(400, 'the body must be JSON: {"identifier":{"type":"...","value":"..."}}', 'body');
  }
  const result = SplitRequest.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ProfileApiError(400, issue.message, issue.path.join('.') || 'body');
  }
  return result.data;
}

const production = lazily(() => {
  const config = configFromEnvironment();
  const observability = createObservability(config);
  const dynamodb = dynamoDbClient(config);
  return createProfileApiHandler(
    profileApiDependencies({ ...observability, config, credentials: credentialStore(config, dynamodb), profiles: profileStore(config, observability, dynamodb) }),
  );
});
export const handler: HttpHandler = (event) => production()(event);
