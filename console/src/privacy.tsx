import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { describeError, usePages, when, Problem } from './ui.js';

interface PrivacyRequest {
  readonly id: string;
  readonly type: 'access' | 'erase' | 'suppress' | 'unsuppress';
  readonly identifierType: string;
  readonly status: string;
  readonly step: string;
  readonly createdAt: string;
  readonly finishedAt?: string;
  readonly stores?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly export?: { readonly url: string };
}

const Types = {
  access: 'Access: export everything about the person',
  erase: 'Erase: delete the person everywhere, and stop collecting them',
  suppress: 'Suppress: stop collecting the person, keep what is held',
  unsuppress: 'Unsuppress: collect the person again',
} as const;
const RequestsKey = 'cdp-privacy-requests';

/** Requests made in this tab, so their receipts can be followed; the API keeps every request and its receipt for good. */
const remembered = (): string[] => JSON.parse(sessionStorage.getItem(RequestsKey) ?? '[]') as string[];

/** People's privacy requests (docs/privacy.md): submit one, follow it to its receipt. */
export function Privacy() {
  const [ids, setIds] = useState<string[]>(remembered());
  const [type, setType] = useState<keyof typeof Types>('access');
  const [idType, setIdType] = useState('email');
  const [value, setValue] = useState('');
  const [lookup, setLookup] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const all = usePages<PrivacyRequest>(
    (cursor) => `/v1/privacy/requests?limit=25${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    (page) => page.requests as PrivacyRequest[],
    [],
  );
  const follow = (id: string) => {
    const next = [id, ...ids.filter((known) => known !== id)].slice(0, 50);
    sessionStorage.setItem(RequestsKey, JSON.stringify(next));
    setIds(next);
  };
  const submit = async (event: Event) => {
    event.preventDefault();
    if (type === 'erase' && !confirm(`Erase everything about ${idType} ${value}? This cannot be undone.`)) return;
    try {
      const request = await api<PrivacyRequest>('/v1/privacy/requests', { method: 'POST', body: JSON.stringify({ type, identifier: { type: idType, value: value.trim() } }) });
      setProblem(undefined);
      setValue('');
      follow(request.id);
      all.reload();
    } catch (error) {
      setProblem(describeError(error));
    }
  };
  return (
    <section aria-labelledby="privacy-title">
      <h1 id="privacy-title">Privacy requests</h1>
      <form class="card" onSubmit={(e) => void submit(e)} aria-labelledby="privacy-form-title">
        <h2 id="privacy-form-title">New request</h2>
        <div class="row">
          <span class="field">
            <label for="privacy-type">Request</label>
            <select id="privacy-type" value={type} onChange={(e) => setType(e.currentTarget.value as keyof typeof Types)}>
              {Object.entries(Types).map(([t, label]) => (
                <option value={t} key={t}>
                  {label}
                </option>
              ))}
            </select>
          </span>
          <span class="field">
            <label for="privacy-id-type">Identifier type</label>
            <select id="privacy-id-type" value={idType} onChange={(e) => setIdType(e.currentTarget.value)}>
              {['email', 'user_id', 'anonymous_id', 'phone'].map((t) => (
                <option value={t} key={t}>
                  {t}
                </option>
              ))}
            </select>
          </span>
          <span class="field wide">
            <label for="privacy-value">Identifier</label>
            <input id="privacy-value" value={value} onInput={(e) => setValue(e.currentTarget.value)} required />
          </span>
          <button type="submit">Submit request</button>
        </div>
        <Problem message={problem} />
      </form>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (lookup.trim()) follow(lookup.trim());
          setLookup('');
        }}
      >
        <span class="field">
          <label for="privacy-lookup">Follow a request by id</label>
          <input id="privacy-lookup" value={lookup} onInput={(e) => setLookup(e.currentTarget.value)} placeholder="pr_…" />
        </span>
        <button type="submit" class="secondary">
          Follow
        </button>
      </form>
      <h2>Receipts</h2>
      {ids.length === 0 ? <p class="help">No receipts open: submit a request, or show one from the list below.</p> : ids.map((id) => <Receipt id={id} key={id} />)}
      <h2>All requests</h2>
      <p class="row">
        <button type="button" class="secondary" onClick={all.reload}>
          Refresh the list
        </button>
      </p>
      {all.state === 'ready' && all.items.length === 0 ? <p class="help">No privacy requests yet.</p> : null}
      {all.items.length > 0 ? (
        <table>
          <caption class="visually-hidden">Privacy requests, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Request</th>
              <th scope="col">Type</th>
              <th scope="col">By</th>
              <th scope="col">Status</th>
              <th scope="col">Asked</th>
              <th scope="col">Finished</th>
            </tr>
          </thead>
          <tbody>
            {all.items.map((r) => (
              <tr key={r.id}>
                <td>
                  <button type="button" class="link" onClick={() => follow(r.id)}>
                    <span class="visually-hidden">Show the receipt of </span>
                    <code>{r.id}</code>
                  </button>
                </td>
                <td>{r.type}</td>
                <td>{r.identifierType}</td>
                <td>{r.status}</td>
                <td>{when(r.createdAt)}</td>
                <td>{r.finishedAt ? when(r.finishedAt) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {all.state === 'loading' ? <p role="status">Loading requests…</p> : null}
      {typeof all.state === 'object' ? <Problem message={all.state.error} /> : null}
      {all.next && all.state === 'ready' ? (
        <p>
          <button type="button" class="secondary" onClick={all.more}>
            More requests
          </button>
        </p>
      ) : null}
    </section>
  );
}

/** One request, refreshed every 2 s until it is done or failed. */
function Receipt({ id }: { id: string }) {
  const [request, setRequest] = useState<PrivacyRequest | undefined>();
  const [problem, setProblem] = useState<string | undefined>();
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let live = true;
    const load = async () => {
      try {
        const shown = await api<PrivacyRequest>(`/v1/privacy/requests/${encodeURIComponent(id)}`);
        if (!live) return;
        setRequest(shown);
        setProblem(undefined);
        if (shown.status !== 'done' && shown.status !== 'failed') timer = setTimeout(() => void load(), 2_000);
      } catch (error) {
        if (live) setProblem(describeError(error, 'There is no such request.'));
      }
    };
    void load();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [id]);
  return (
    <article class="card" aria-label={`Privacy request ${id}`}>
      <h3>
        <code>{id}</code>
      </h3>
      <Problem message={problem} />
      {!request && !problem ? <p role="status">Loading…</p> : null}
      {request ? (
        <>
          <p>
            <strong>{request.type}</strong> by {request.identifierType}: <strong data-testid="privacy-status">{request.status}</strong>
            {request.status === 'done' || request.status === 'failed' ? '' : ` (step ${request.step})`}, asked {when(request.createdAt)}
            {request.finishedAt ? `, finished ${when(request.finishedAt)}` : ''}.
          </p>
          {request.export ? (
            <p>
              <a href={request.export.url}>Download the export</a>
            </p>
          ) : null}
          {request.stores && Object.keys(request.stores).length > 0 ? (
            <table>
              <caption>Receipt: what was found and removed, store by store</caption>
              <thead>
                <tr>
                  <th scope="col">Store</th>
                  <th scope="col">Found</th>
                  <th scope="col">Removed</th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(request.stores).map(([store, counts]) => (
                  <tr key={store}>
                    <td>{store}</td>
                    <td>{counts.found ?? '—'}</td>
                    <td>{counts.removed ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </>
      ) : null}
    </article>
  );
}
