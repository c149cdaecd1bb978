import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from './api.js';

export type Load<T> = { state: 'loading' } | { state: 'error'; message: string } | { state: 'ready'; value: T };

/** Loads once per change of `deps`; `reload` loads again. A result that arrives after the page moved on is dropped. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[], notFound?: string): Load<T> & { reload: () => void } {
  const [result, setResult] = useState<Load<T>>({ state: 'loading' });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setResult({ state: 'loading' });
    load().then(
      (value) => live && setResult({ state: 'ready', value }),
      (error: unknown) => live && setResult({ state: 'error', message: describeError(error, notFound) }),
    );
    return () => {
      live = false;
    };
  }, [...deps, round]);
  return { ...result, reload: () => setRound((r) => r + 1) };
}

/** What to tell a person about a failed call: the API's reason with its field, or that it could not be reached. */
export function describeError(error: unknown, notFound?: string): string {
  if (error instanceof ApiError) {
    if (error.status === 404 && notFound) return notFound;
    const detail = error.details[0];
    return detail ? `${error.message}: ${detail.field} ${detail.reason}` : error.message;
  }
  return 'The API could not be reached. Try again.';
}

export const when = (at: string | number | undefined): string => (at === undefined ? '' : new Date(at).toLocaleString());

/** The loading and error states every page shows the same way. */
export function LoadState({ load, loading }: { load: Load<unknown>; loading: string }) {
  if (load.state === 'loading') return <p role="status">{loading}</p>;
  if (load.state === 'error')
    return (
      <p class="error" role="alert">
        {load.message}
      </p>
    );
  return null;
}

/** A failure to tell the person about, announced to screen readers; nothing when there is none. */
export function Problem({ message }: { message: string | undefined }) {
  return message ? (
    <p class="error" role="alert">
      {message}
    </p>
  ) : null;
}

/**
 * A list the API serves a page at a time (`nextCursor`): the first page whenever `deps` change or
 * `reload` is called, and the next page appended by `more`.
 */
export function usePages<T>(
  path: (cursor: string | undefined) => string,
  items: (page: Record<string, unknown>) => T[],
  deps: readonly unknown[],
  notFound?: string,
): { items: T[]; state: 'loading' | 'ready' | { error: string }; next: string | null; more: () => void; reload: () => void } {
  const [shown, setShown] = useState<T[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [state, setState] = useState<'loading' | 'ready' | { error: string }>('loading');
  const load = async (from?: string) => {
    setState('loading');
    try {
      const page = await api<Record<string, unknown> & { nextCursor: string | null }>(path(from));
      setShown((before) => (from ? [...before, ...items(page)] : items(page)));
      setNext(page.nextCursor);
      setState('ready');
    } catch (error) {
      setState({ error: describeError(error, notFound) });
    }
  };
  useEffect(() => {
    void load();
  }, deps);
  return { items: shown, state, next, more: () => void load(next ?? undefined), reload: () => void load() };
}
