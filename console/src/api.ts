/** The admin API, called from the console's own origin with the signed-in person's token. */

const TokenKey = 'cdp-admin-token';

/** The token lives in session storage only: gone when the tab closes, never in a cookie or on disk. */
export const session = {
  token: (): string | null => sessionStorage.getItem(TokenKey),
  signIn: (token: string): void => sessionStorage.setItem(TokenKey, token),
  signOut: (): void => sessionStorage.removeItem(TokenKey),
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: ReadonlyArray<{ field: string; reason: string }> = [],
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init: RequestInit = {}, token = session.token()): Promise<T> {
  const response = await fetch(path, {
    ...init,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers ?? {}) },
  });
  const text = await response.text();
  let body: { error?: string; message?: string; details?: Array<{ field: string; reason: string }> } & Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as typeof body) : {};
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  if (!response.ok) throw new ApiError(response.status, body.error ?? body.message ?? `HTTP ${response.status}`, body.details ?? []);
  return body as T;
}

/** Whether `token` is a usable admin token: the authorizer refuses anything else (a write key included) with 401 or 403. */
export async function checkToken(token: string): Promise<'ok' | 'refused'> {
  try {
    await api('/v1/segments', {}, token);
    return 'ok';
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return 'refused';
    throw error;
  }
}

export interface Identifier {
  readonly type: string;
  readonly value: string;
  readonly linkedBy?: { readonly rule: string; readonly messageId?: string; readonly at: string; readonly with?: { type: string; value: string }; readonly from?: string };
}

export interface ProfileView {
  readonly id: string;
  readonly identifiers: readonly Identifier[];
  readonly traits: Readonly<Record<string, unknown>>;
  readonly computed: Readonly<Record<string, unknown>>;
  readonly segments: ReadonlyArray<{ id: string; since: string }>;
  readonly consent?: Readonly<Record<string, { granted: boolean; at: string }>>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface TimelineEvent {
  readonly messageId: string;
  readonly type: string;
  readonly event?: string;
  readonly name?: string;
  readonly timestamp: string;
  readonly properties?: unknown;
  readonly traits?: unknown;
}

export interface MergeEntry {
  readonly kind: 'merge';
  readonly profileId: string;
  readonly absorbed: string;
  readonly absorbedIdentifiers: ReadonlyArray<{ type: string; value: string }>;
  readonly reason: { readonly rule: string; readonly at: number; readonly identifier?: string };
}

export type HistoryEntry = MergeEntry | { readonly kind: 'linked' | 'link_dropped' | 'split'; readonly profileId: string; readonly at: number; readonly [key: string]: unknown };
