import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/min';
import { createHash, createHmac } from 'node:crypto';
import type { CollectedEvent } from './intake.js';
import { IntakeLimits } from '../contracts.js';
import { BuiltInIdentifierTypes, IdentifierTypePattern, priorityOf, type ProfileConfig } from './profile-config.js';

/** One way of recognising a person, e.g. `{ type: 'email', value: 'ana@example.com' }`. */
export interface Identifier {
  readonly type: string;
  readonly value: string;
}

/**
 * Hashes the values of the identifier types the configuration stores hashed. Loaded with the
 * deployment's salt before a function handles its first event (use-cases/identifier-hashing.ts).
 */
export interface IdentifierHasher {
  hash(type: string, value: string): string;
}

/** The profile configuration, with the hasher of its hashed identifier types where they are hashed. */
export interface IdentityRules extends ProfileConfig {
  readonly identifierHasher?: IdentifierHasher;
}

/** A stored hashed value: `h:` and 43 base64url characters. A value already in this form is not hashed again. */
export const HashedValuePattern = /^h:[A-Za-z0-9_-]{43}$/;

/** `h:` and HMAC-SHA256 of `type:value` under `salt`; a prefix of its own keeps it apart from the privacy hashes. */
export function hashedIdentifierValue(salt: string, type: string, value: string): string {
  return `h:${createHmac('sha256', salt).update(`stored-identifier|${type}:${value}`).digest('base64url')}`;
}

/** `type:value`, the form identifiers take in keys, URLs and logs. */
export const identifierKey = (id: Identifier): string => `${id.type}:${id.value}`;

export function parseIdentifierKey(key: string): Identifier | undefined {
  const colon = key.indexOf(':');
  if (colon <= 0 || colon === key.length - 1) return undefined;
  return { type: key.slice(0, colon), value: key.slice(colon + 1) };
}

/** Stable, non-reversible digest of an identifier, used as its store key so raw PII never sits in a key. */
export function identifierDigest(id: Identifier): string {
  return createHash('sha256').update(identifierKey(id)).digest('base64url').slice(0, 32);
}

const OnlyZerosOrDashes = /^[0\-_.\s]+$/;

/** True when the value must never link anyone: blocked junk, placeholders, absurd lengths. */
export function isBlockedValue(config: ProfileConfig, value: string): boolean {
  const normalized = value.trim().toLowerCase();
  if (normalized.length > IntakeLimits.maxIdentifierLength) return true;
  if (OnlyZerosOrDashes.test(normalized)) return true;
  return config.blockedValues.some((blocked) => blocked.trim().toLowerCase() === normalized);
}

/** Why a value carried as an identifier was not taken as one. Few and fixed, so they can be counted by reason. */
export type RefusalReason = 'blocked' | 'invalid' | 'national_without_region' | 'not_text';

export const RefusalReasonText: Readonly<Record<RefusalReason, string>> = {
  blocked: 'is a placeholder that never identifies anyone',
  invalid: 'is not valid for its type',
  national_without_region: 'is a national phone number; set phoneRegion in the profile configuration to read national numbers',
  not_text: 'must be text or a number',
};

type Normalized = { readonly value: string } | { readonly refused: RefusalReason };

/**
 * Trimmed and lower-cased. Gmail dots and `+tags` mark one mailbox, but telling people apart by
 * them is sometimes the point, so they are kept unless the configuration asks otherwise.
 */
export function normalizeEmail(raw: string, rules: ProfileConfig['email'] = { stripPlusTags: false, stripGmailDots: false }): string | undefined {
  const email = raw.trim().toLowerCase();
  const at = email.indexOf('@');
  if (at <= 0 || at !== email.lastIndexOf('@') || at === email.length - 1 || /\s/.test(email)) return undefined;
  let local = email.slice(0, at);
  let domain = email.slice(at + 1);
  if (rules.stripPlusTags && local.indexOf('+') > 0) local = local.slice(0, local.indexOf('+'));
  if (rules.stripGmailDots && (domain === 'gmail.com' || domain === 'googlemail.com')) {
    local = local.replaceAll('.', '');
    domain = 'gmail.com';
  }
  return local === '' ? undefined : `${local}@${domain}`;
}

/**
 * E.164 (`+442079460123`), parsed by libphonenumber-js: separators, `(0)` and an international
 * `00` prefix are understood, and a national number (`(415) 555-0100`) is read in `region`. A
 * number whose length is impossible for its country is refused.
 */
export function normalizePhone(raw: string, region?: string): Normalized {
  const compact = raw.trim().replace(/[\s().\-/]/g, '');
  const text = compact.startsWith('00') ? `+${compact.slice(2)}` : raw.trim();
  const international = text.startsWith('+');
  if (!international && region === undefined) return /\d{6}/.test(compact) ? { refused: 'national_without_region' } : { refused: 'invalid' };
  const parsed = parsePhoneNumberFromString(text, international ? undefined : { defaultCountry: region as CountryCode });
  if (!parsed?.isValid()) return { refused: 'invalid' };
  return { value: parsed.number };
}

/**
 * Problems with the identity rules that the configuration's schema cannot see without the phone
 * library, which only the functions that read identifiers carry: checked when the stack is
 * synthesized and when the local runtime starts.
 */
export function identifierRuleProblems(config: ProfileConfig): string[] {
  return config.phoneRegion !== undefined && !isSupportedCountry(config.phoneRegion)
    ? [`phoneRegion ${config.phoneRegion} is not a country libphonenumber knows`]
    : [];
}

/** An identifier in canonical form (emails lower-cased, phones in E.164), or why it is not one. */
export function normalizeIdentifier(type: string, raw: unknown, config: IdentityRules): { identifier: Identifier } | { refused: RefusalReason } {
  const hashed = config.hashedIdentifiers.includes(type);
  if (hashed && typeof raw === 'string' && HashedValuePattern.test(raw)) return { identifier: { type, value: raw } };
  const normalized = normalize(type, raw, config);
  if ('refused' in normalized) return normalized;
  if (isBlockedValue(config, normalized.value)) return { refused: 'blocked' };
  if (!hashed) return { identifier: { type, value: normalized.value } };
  if (!config.identifierHasher) throw new Error(`identifiers of type ${type} are stored hashed, but this function has no hasher (its salt is not configured)`);
  return { identifier: { type, value: config.identifierHasher.hash(type, normalized.value) } };
}

function normalize(type: string, raw: unknown, config: ProfileConfig): Normalized {
  if (typeof raw === 'number' && Number.isFinite(raw)) raw = String(raw);
  if (typeof raw !== 'string') return { refused: 'not_text' };
  if (type === 'email') {
    const email = normalizeEmail(raw, config.email);
    return email === undefined ? { refused: 'invalid' } : { value: email };
  }
  if (type === 'phone') return normalizePhone(raw, config.phoneRegion);
  const value = raw.trim();
  return value === '' ? { refused: 'blocked' } : { value };
}

const record = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

/** An identifier an event carried that was not taken, and why. */
export interface IdentifierRefusal {
  readonly type: string;
  readonly reason: RefusalReason;
}

/**
 * The identifiers an event carries, normalised, junk removed, strongest first, and those it
 * carried that were refused. `previousId` of an alias is read as an anonymous id: alias joins a
 * device's history to a known user.
 */
export function extractIdentifiers(event: CollectedEvent, config: IdentityRules): { identifiers: Identifier[]; refused: IdentifierRefusal[] } {
  const found: Identifier[] = [];
  const refused: IdentifierRefusal[] = [];
  const add = (type: string, raw: unknown): void => {
    if (raw === undefined || raw === null) return;
    const normalized = normalizeIdentifier(type, raw, config);
    if ('refused' in normalized) {
      refused.push({ type, reason: normalized.refused });
      return;
    }
    const { value } = normalized.identifier;
    if (!found.some((id) => id.type === type && id.value === value)) found.push(normalized.identifier);
  };
  add('user_id', event.userId);
  add('anonymous_id', event.anonymousId);
  if (event.type === 'alias') add('anonymous_id', event.previousId);
  const contextTraits = record(event.context?.traits);
  for (const traits of [event.traits, contextTraits]) {
    if (!traits) continue;
    add('email', traits.email);
    add('phone', traits.phone);
    for (const name of config.traitIdentifiers) add(name, traits[name]);
  }
  const externalIds = event.context?.externalIds;
  if (Array.isArray(externalIds)) {
    for (const entry of externalIds.slice(0, 20)) {
      const external = record(entry);
      const type = typeof external?.type === 'string' ? external.type.trim().toLowerCase() : '';
      if (!IdentifierTypePattern.test(type) || (BuiltInIdentifierTypes as readonly string[]).includes(type)) continue;
      add(type, external?.id);
    }
  }
  return { identifiers: sortByPriority(found, config), refused };
}

/**
 * The event (or any JSON object read as one) with the value of every identifier type stored hashed
 * replaced by its hash, in every field extractIdentifiers reads: applied at intake, so the stream,
 * the lake and every store after it hold the hash only. Hashes pass through extraction unchanged.
 * Values refused as invalid (a malformed email or phone) become `invalid`, still refused and no
 * longer readable; placeholders and non-text values are kept, as they identify no one.
 */
export function withHashedIdentifiers<T>(event: T, config: IdentityRules): T {
  const source = record(event);
  if (config.hashedIdentifiers.length === 0 || !source) return event;
  const hashed = (type: string, raw: unknown): unknown => {
    if (raw === undefined || raw === null || !config.hashedIdentifiers.includes(type)) return raw;
    const normalized = normalizeIdentifier(type, raw, config);
    if ('identifier' in normalized) return normalized.identifier.value;
    return normalized.refused === 'invalid' || normalized.refused === 'national_without_region' ? 'invalid' : raw;
  };
  const traitTypes = ['email', 'phone', ...config.traitIdentifiers];
  const withTraits = (value: unknown): unknown => {
    const traits = record(value);
    if (!traits) return value;
    const copy = { ...traits };
    for (const type of traitTypes) if (Object.hasOwn(copy, type)) copy[type] = hashed(type, copy[type]);
    return copy;
  };
  const copy: Record<string, unknown> = { ...source };
  for (const [field, type] of [['userId', 'user_id'], ['anonymousId', 'anonymous_id'], ['previousId', 'anonymous_id']] as const) {
    if (Object.hasOwn(copy, field)) copy[field] = hashed(type, copy[field]);
  }
  if (Object.hasOwn(copy, 'traits')) copy.traits = withTraits(copy.traits);
  const context = record(copy.context);
  if (context) {
    const contextCopy: Record<string, unknown> = { ...context };
    if (Object.hasOwn(contextCopy, 'traits')) contextCopy.traits = withTraits(contextCopy.traits);
    if (Array.isArray(contextCopy.externalIds)) {
      contextCopy.externalIds = contextCopy.externalIds.map((entry: unknown) => {
        const external = record(entry);
        const type = typeof external?.type === 'string' ? external.type.trim().toLowerCase() : '';
        return external && Object.hasOwn(external, 'id') ? { ...external, id: hashed(type, external.id) } : entry;
      });
    }
    copy.context = contextCopy;
  }
  return copy as T;
}

/** The identifiers an event carries; see extractIdentifiers. */
export const identifiersOf = (event: CollectedEvent, config: IdentityRules): Identifier[] => extractIdentifiers(event, config).identifiers;

export function sortByPriority<T extends Identifier>(ids: readonly T[], config: ProfileConfig): T[] {
  return [...ids].sort(
    (a, b) => priorityOf(config, a.type) - priorityOf(config, b.type) || compareStrings(a.type, b.type) || compareStrings(a.value, b.value),
  );
}

export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
