import * as z from 'zod/mini';

/** Identifier types every deployment has; external ids and trait identifiers add their own. */
export const BuiltInIdentifierTypes = ['user_id', 'email', 'phone', 'anonymous_id'] as const;

/** What an identifier type may be called: lower-case letters, digits and `_`, starting with a letter. */
export const IdentifierTypePattern = /^[a-z][a-z0-9_]{0,39}$/;

const IdentifierTypeName = z.string().check(z.regex(IdentifierTypePattern, 'identifier types are lower-case letters, digits and _, starting with a letter (at most 40)'));

/**
 * How identities are resolved and profiles are computed. Every field has a default, so an empty
 * object is a valid configuration; deployments override what they need (docs/identity.md).
 */
export const ProfileConfig = z.object({
  /** Identifier types from highest to lowest priority. Types not listed rank just above anonymous_id. */
  priority: z._default(z.array(IdentifierTypeName), ['user_id', 'email', 'phone']),
  /** Most identifiers of one type a profile may hold. */
  limits: z._default(z.record(IdentifierTypeName, z.int().check(z.minimum(1), z.maximum(50))), {
    user_id: 1,
    email: 5,
    phone: 5,
    anonymous_id: 5,
  }),
  /** Limit for types not listed in `limits` (external ids, trait identifiers). */
  defaultLimit: z._default(z.int().check(z.minimum(1), z.maximum(50)), 5),
  /** Values that never identify anyone, compared case-insensitively after trimming. */
  blockedValues: z._default(z.array(z.string()), [
    '',
    'null',
    'undefined',
    'nil',
    'none',
    'n/a',
    'anonymous',
    'guest',
    'unknown',
    '0',
    '-1',
    'nan',
    '[object object]',
  ]),
  /**
   * Country (ISO 3166 two letters, e.g. `US`) in which phone numbers written without an
   * international prefix, like `(415) 555-0100`, are read. Without it such numbers identify no
   * one (and are counted as refused).
   */
  phoneRegion: z.optional(z.string().check(z.regex(/^[A-Z]{2}$/, 'must be a country code in capitals, e.g. US or GB'))),
  /** Email rules beyond trimming and lower-casing: both off, because some people keep separate `+tag` or dotted Gmail addresses on purpose. */
  email: z._default(
    z.object({
      /** `ana+shop@example.com` is `ana@example.com`. */
      stripPlusTags: z._default(z.boolean(), false),
      /** `a.na@gmail.com` and `ana@googlemail.com` are `ana@gmail.com`. */
      stripGmailDots: z._default(z.boolean(), false),
    }),
    { stripPlusTags: false, stripGmailDots: false },
  ),
  /** Traits whose values are identifiers of their own type, e.g. `customer_number`. */
  traitIdentifiers: z._default(z.array(IdentifierTypeName), []),
  /**
   * Identifier types stored only as a salted hash (`h:` and an HMAC-SHA256 of the value under the
   * deployment's secret salt), for types needed only to match people, never to read or send on.
   * The profile keeps no trait of the same name; the lake's raw events keep what was sent
   * (docs/privacy.md).
   */
  hashedIdentifiers: z._default(z.array(IdentifierTypeName), []),
  /** Traits that keep their earliest value. */
  setOnceTraits: z._default(z.array(z.string()), ['first_seen', 'initial_referrer', 'initial_utm_source', 'signup_date']),
  /** Track events that count as orders, and where their revenue is. */
  orderEvents: z._default(z.array(z.string()), ['Order Completed']),
  revenueProperties: z._default(z.array(z.string()), ['revenue', 'total', 'value']),
  /** Days of daily buckets kept for windowed counts, counted back from the person's latest event. */
  bucketDays: z._default(z.int().check(z.minimum(1), z.maximum(400)), 90),
  /** Window lengths (days) reported as `events_last_Nd` and `orders_last_Nd`. */
  windows: z._default(z.array(z.int().check(z.minimum(1), z.maximum(400))), [7, 30]),
  /** Distinct event names counted per profile; the rest count under `(other)`. */
  maxEventNames: z._default(z.int().check(z.minimum(1), z.maximum(500)), 50),
  /** Traits kept per profile; later new names are refused (and counted). */
  maxTraits: z._default(z.int().check(z.minimum(1), z.maximum(1000)), 100),
  /** Largest trait value (JSON bytes) kept on the profile. The lake keeps the rest. */
  maxTraitBytes: z._default(z.int().check(z.minimum(16), z.maximum(16384)), 1024),
});
export type ProfileConfig = z.infer<typeof ProfileConfig>;

export const defaultProfileConfig: ProfileConfig = ProfileConfig.parse({});

/** Parses a JSON configuration, e.g. from the CDP_PROFILE_CONFIG environment variable. */
export function profileConfigFromJson(text: string | undefined): ProfileConfig {
  if (text === undefined || text.trim() === '') return defaultProfileConfig;
  const parsed = ProfileConfig.safeParse(JSON.parse(text));
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new Error(`invalid profile configuration at ${first?.path.join('.') || '(root)'}: ${first?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** Rank of a type: lower is stronger. anonymous_id is always the weakest. */
export function priorityOf(config: ProfileConfig, type: string): number {
  if (type === 'anonymous_id') return config.priority.length + 1;
  const index = config.priority.indexOf(type);
  return index === -1 ? config.priority.length : index;
}

export function limitOf(config: ProfileConfig, type: string): number {
  return config.limits[type] ?? config.defaultLimit;
}
