import { createHash, randomBytes } from 'node:crypto';

/** Write keys let a source send events; admin tokens read and manage data. Neither can do the other's job. */
export type CredentialKind = 'write' | 'admin';

export interface Credential {
  /** SHA-256 of the secret, hex. The secret itself is never stored. */
  readonly keyHash: string;
  readonly kind: CredentialKind;
  /** For write keys, the source whose events it sends; for admin tokens, a label. */
  readonly sourceId: string;
  readonly name: string;
  readonly createdAt: string;
  readonly revokedAt?: string;
}

/** A source's id: what write keys send as, and what the lake records as `sourceId`. */
export const SourceIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function generateSecret(kind: CredentialKind): string {
  return `${kind === 'write' ? 'wk' : 'at'}_${randomBytes(24).toString('base64url')}`;
}

/**
 * Reads the write key from `Authorization: Basic base64(key:)` as Segment's SDKs send it.
 * Returns undefined when the header is absent or not Basic.
 */
export function writeKeyFromBasicAuth(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const user = decoded.includes(':') ? decoded.slice(0, decoded.indexOf(':')) : decoded;
  return user.length > 0 ? user : undefined;
}

/** Reads an admin token from `Authorization: Bearer <token>`. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match ? match[1] : undefined;
}

export function isUsable(credential: Credential | undefined, kind: CredentialKind): credential is Credential {
  return credential !== undefined && credential.kind === kind && credential.revokedAt === undefined;
}
