import { createHash } from 'node:crypto';
import type { CollectedEvent } from './intake.js';
import { IntakeLimits } from '../contracts.js';
import { BuiltInIdentifierTypes, IdentifierTypePattern, priorityOf, type ProfileConfig } from './profile-config.js';

/** One way of recognising a person, e.g. `{ type: 'email', value: 'ana@example.com' }`. */
export interface Identifier {
  readonly type: string;
  readonly value: string;
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

export function normalizeEmail(raw: string): string | undefined {
  const email = raw.trim().toLowerCase();
  const at = email.indexOf('@');
  if (at <= 0 || at !== email.lastIndexOf('@') || at === email.length - 1 || /\s/.test(email)) return undefined;
  return email;
}

/** E.164-like: an optional `+` and 6 to 15 digits, separators removed, `00` read as `+`. */
export function normalizePhone(raw: string): string | undefined {
  let phone = raw.trim().replace(/[\s().\-/]/g, '');
  if (phone.startsWith('00')) phone = `+${phone.slice(2)}`;
  if (!/^\+?\d{6,15}$/.test(phone)) return undefined;
  return phone;
}

/** An identifier in canonical form (emails lower-cased, phones compacted), or undefined if it is not valid. */
export function normalizeIdentifier(type: string, raw: string): Identifier | undefined {
  const value = normalize(type, raw);
  return value === undefined ? undefined : { type, value };
}

function normalize(type: string, raw: unknown): string | undefined {
  if (typeof raw === 'number' && Number.isFinite(raw)) raw = String(raw);
  if (typeof raw !== 'string') return undefined;
  if (type === 'email') return normalizeEmail(raw);
  if (type === 'phone') return normalizePhone(raw);
  const value = raw.trim();
  return value === '' ? undefined : value;
}

const record = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

/**
 * The identifiers an event carries, normalised, junk removed, strongest first. `previousId` of
 * an alias is read as an anonymous id: alias joins a device's history to a known user.
 */
export function identifiersOf(event: CollectedEvent, config: ProfileConfig): Identifier[] {
  const found: Identifier[] = [];
  const add = (type: string, raw: unknown): void => {
    const value = normalize(type, raw);
    if (value === undefined || isBlockedValue(config, value)) return;
    if (!found.some((id) => id.type === type && id.value === value)) found.push({ type, value });
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
  return sortByPriority(found, config);
}

export function sortByPriority<T extends Identifier>(ids: readonly T[], config: ProfileConfig): T[] {
  return [...ids].sort(
    (a, b) => priorityOf(config, a.type) - priorityOf(config, b.type) || compareStrings(a.type, b.type) || compareStrings(a.value, b.value),
  );
}

export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
