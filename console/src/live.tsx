import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api.js';
import { describeError, when, Problem } from './ui.js';

interface LiveEvent {
  readonly id: string;
  readonly receivedAt: string;
  readonly outcome: 'accepted' | 'refused';
  readonly sourceId?: string;
  readonly type?: string;
  readonly event?: string;
  readonly name?: string;
  readonly userId?: string;
  readonly anonymousId?: string;
  readonly issues?: ReadonlyArray<{ field: string; reason: string }>;
  readonly payload: string;
}

/** How often the view asks for new events while it is open, visible and not paused. */
const PollMs = 2_000;
const Kept = 500;
const Types = ['track', 'page', 'screen', 'identify', 'group', 'alias'] as const;

/**
 * The debugger: events as intake accepts or refuses them, newest first, within seconds. It
 * reads only while this page is open in a visible tab and not paused; nothing runs otherwise.
 */
export function LiveEvents() {
  const [events, setEvents] = useState<LiveEvent[]>([]);
  const [paused, setPaused] = useState(false);
  const [problem, setProblem] = useState<string | undefined>();
  const [started, setStarted] = useState(false);
  const [filters, setFilters] = useState({ type: '', event: '', user: '', outcome: '' });
  const cursor = useRef<string | undefined>(undefined);

  useEffect(() => {
    if (paused) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      if (document.visibilityState === 'visible') {
        try {
          const page = await api<{ events: LiveEvent[]; cursor: string }>(`/v1/live${cursor.current ? `?cursor=${encodeURIComponent(cursor.current)}` : ''}`);
          if (stopped) return;
          cursor.current = page.cursor;
          setEvents((shown) => {
            const known = new Set(shown.map((e) => e.id));
            const fresh = page.events.filter((e) => !known.has(e.id));
            return fresh.length === 0 ? shown : [...fresh, ...shown].sort((a, b) => b.receivedAt.localeCompare(a.receivedAt)).slice(0, Kept);
          });
          setProblem(undefined);
        } catch (error) {
          if (!stopped) setProblem(describeError(error));
        }
        if (!stopped) setStarted(true);
      }
      if (!stopped) timer = setTimeout(() => void poll(), PollMs);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [paused]);

  const shown = events.filter(
    (e) =>
      (!filters.type || e.type === filters.type) &&
      (!filters.outcome || e.outcome === filters.outcome) &&
      (!filters.event || `${e.event ?? ''} ${e.name ?? ''}`.toLowerCase().includes(filters.event.toLowerCase())) &&
      (!filters.user || `${e.userId ?? ''} ${e.anonymousId ?? ''}`.toLowerCase().includes(filters.user.toLowerCase())),
  );
  const set = (name: keyof typeof filters) => (e: { currentTarget: { value: string } }) => setFilters({ ...filters, [name]: e.currentTarget.value });

  return (
    <section aria-labelledby="live-title">
      <h1 id="live-title">Live events</h1>
      <p class="help">What intake accepts and refuses, newest first, within a few seconds. It reads only while this page is open.</p>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label for="live-outcome">Outcome</label>
        <select id="live-outcome" value={filters.outcome} onChange={set('outcome')}>
          <option value="">any</option>
          <option value="accepted">accepted</option>
          <option value="refused">refused</option>
        </select>
        <label for="live-type">Type</label>
        <select id="live-type" value={filters.type} onChange={set('type')}>
          <option value="">any</option>
          {Types.map((t) => (
            <option value={t} key={t}>
              {t}
            </option>
          ))}
        </select>
        <label for="live-event">Event name</label>
        <input id="live-event" type="search" value={filters.event} onInput={set('event')} />
        <label for="live-user">User</label>
        <input id="live-user" type="search" value={filters.user} onInput={set('user')} placeholder="userId or anonymousId" />
        <button type="button" aria-pressed={paused} onClick={() => setPaused(!paused)}>
          {paused ? 'Resume' : 'Pause'}
        </button>
      </form>
      <Problem message={problem} />
      {!started ? <p role="status">Connecting…</p> : null}
      <p role="status" class="help">
        {paused ? 'Paused. ' : ''}
        {started ? `${shown.length} of ${events.length} events shown.` : ''}
      </p>
      {started && events.length === 0 ? <p class="help">Nothing yet: send an event and it appears here within a few seconds.</p> : null}
      {shown.length > 0 ? (
        <ol class="live" aria-label="Events, newest first">
          {shown.map((e) => (
            <li key={e.id} class={e.outcome}>
              <details>
                <summary>
                  <span class={`badge ${e.outcome}`}>{e.outcome}</span> <time dateTime={e.receivedAt}>{when(e.receivedAt)}</time> <strong>{e.type ?? 'unknown type'}</strong>
                  {e.event ? ` ${e.event}` : ''}
                  {e.name ? ` ${e.name}` : ''} <span class="who">{e.userId ?? e.anonymousId ?? ''}</span>
                </summary>
                <pre tabIndex={0}>{pretty(e.payload)}</pre>
              </details>
              {e.issues ? (
                <ul class="issues" aria-label="Why it was refused">
                  {e.issues.map((issue) => (
                    <li key={`${issue.field}:${issue.reason}`}>
                      <code>{issue.field || '(request)'}</code> {issue.reason}
                    </li>
                  ))}
                </ul>
              ) : null}
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}

function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
