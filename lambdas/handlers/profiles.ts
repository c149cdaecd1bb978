import * as z from 'zod/mini';
import { configFromEnvironment, credentialStore, dynamoDbClient, lakeStore, lambdaObservability, privacyParts, profileService, profileStore, segmentStore, type Composition } from '../composition.js';
import { normalizeIdentifier, RefusalReasonText } from '../domain/identifiers.js';
import { IdentifierTypePattern, type ProfileConfig } from '../domain/profile-config.js';
import { decodeCursor, InvalidCursorError } from '../domain/timeline.js';
import { validationIssues } from '../domain/validation.js';
import type { LakeQuery } from '../ports/lake-query.js';
import type { AppLogger } from '../ports/logger.js';
import type { Telemetry } from '../ports/telemetry.js';
import { Authenticator } from '../use-cases/authenticate.js';
import type { BackfillTiming } from '../use-cases/segments.js';
import { ProfileApiError, type ProfileRef, type ProfileService } from '../use-cases/profiles.js';
import { errorBody, json, jsonBody, type HttpHandler } from './shared/http.js';
import { adminApiHandler } from './shared/admin.js';
import { lambdaHandler } from './shared/lambda.js';

export interface ProfileApiDependencies {
  readonly authenticator: Authenticator;
  /** The identity rules, so a lookup normalises identifiers exactly as the resolver does. */
  readonly config: ProfileConfig;
  readonly service: ProfileService;
  readonly telemetry: Telemetry;
  readonly logger: AppLogger;
}

/** The profile API's dependencies from a composition; the lake is Athena unless the local runtime passes DuckDB. */
export function profileApiDependencies(
  c: Pick<Composition, 'credentials' | 'profiles' | 'config' | 'telemetry' | 'logger' | 'lake' | 'segments' | 'privacy' | 'salt'>,
  lake?: LakeQuery,
  timing?: BackfillTiming,
): ProfileApiDependencies {
  return {
    authenticator: new Authenticator(c.credentials),
    config: c.config.profileConfig,
    service: profileService(c, lake, timing),
    telemetry: c.telemetry,
    logger: c.logger,
  };
}

const SplitRequest = z.object({
  identifier: z.object({
    type: z.string().check(z.regex(IdentifierTypePattern, 'must be an identifier type such as email or user_id')),
    value: z.string().check(z.minLength(1), z.maxLength(512)),
  }),
});
type SplitRequest = z.infer<typeof SplitRequest>;

/** `email:ana%40example.com` → an identifier in canonical form; `profile:<id>` → a profile id. */
export function parseProfileRef(segment: string, config: ProfileConfig): ProfileRef {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw new ProfileApiError(400, 'the profile reference is not valid URL encoding', 'ref');
  }
  const colon = decoded.indexOf(':');
  const type = decoded.slice(0, colon);
  const value = decoded.slice(colon + 1);
  if (colon <= 0 || !IdentifierTypePattern.test(type) || value === '') {
    throw new ProfileApiError(400, 'expected {type}:{value}, e.g. email:ana%40example.com or user_id:42', 'ref');
  }
  if (type === 'profile') return { profileId: value };
  const normalized = normalizeIdentifier(type, value, config);
  if ('refused' in normalized) throw new ProfileApiError(400, `${JSON.stringify(value)} ${RefusalReasonText[normalized.refused]} (${type})`, 'ref');
  return normalized;
}

function limitOf(raw: string | undefined): number {
  if (raw === undefined) return 50;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new ProfileApiError(400, 'limit must be an integer from 1 to 500', 'limit');
  return limit;
}

/** The profile API. Admin tokens only (Bearer); write keys can send events but never read people. */
export function createProfileApiHandler(deps: ProfileApiDependencies): HttpHandler {
  return adminApiHandler({
    handler: 'profiles',
    name: 'profile API',
    deps,
    answer: async ({ event, operation, params, query }) => {
      if (operation === 'countProfiles') return json(200, await deps.service.count(), { 'cache-control': 'no-store' });
      const ref = parseProfileRef(params.ref ?? '', deps.config);
      switch (operation) {
        case 'getProfile':
          return json(200, await deps.service.view(ref));
        case 'getProfileEvents':
          return json(200, await deps.service.timeline(ref, limitOf(query.limit), query.cursor ? decodeCursor(query.cursor) : undefined));
        case 'getProfileMerges':
          return json(200, await deps.service.history(ref));
        case 'splitProfile': {
          const body = parseSplitRequest(event);
          const normalized = normalizeIdentifier(body.identifier.type, body.identifier.value, deps.config);
          if ('refused' in normalized) throw new ProfileApiError(400, `${JSON.stringify(body.identifier.value)} ${RefusalReasonText[normalized.refused]} (${body.identifier.type})`, 'identifier.value');
          return json(200, await deps.service.split(ref, normalized.identifier));
        }
        default:
          return undefined;
      }
    },
    expected: (error) => {
      if (error instanceof ProfileApiError) return json(error.status, { error: error.message, details: error.details });
      if (error instanceof InvalidCursorError) return json(400, errorBody(error.message, 'cursor'));
      return undefined;
    },
  });
}

function parseSplitRequest(event: Parameters<typeof jsonBody>[0]): SplitRequest {
  const parsed = jsonBody(event, () => new ProfileApiError(400, 'the body must be JSON: {"identifier":{"type":"...","value":"..."}}', 'body'));
  const result = SplitRequest.safeParse(parsed);
  if (!result.success) throw ProfileApiError.invalid(validationIssues(result.error.issues, parsed));
  return result.data;
}

export const handler = lambdaHandler(() => {
  const config = configFromEnvironment();
  const observability = lambdaObservability(config);
  const dynamodb = dynamoDbClient(config);
  return {
    ...observability,
    handler: createProfileApiHandler(
      profileApiDependencies({
        ...observability,
        config,
        credentials: credentialStore(config, dynamodb),
        profiles: profileStore(config, observability, dynamodb),
        segments: segmentStore(config, dynamodb),
        ...privacyParts(config, dynamodb),
        lake: lakeStore(config),
      }),
    ),
  };
});
