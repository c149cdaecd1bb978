import { useState } from 'preact/hooks';
import { api } from './api.js';
import { describeError, LoadState, useLoad, when, Problem } from './ui.js';

interface WriteKey {
  readonly keyHash: string;
  readonly name: string;
  readonly createdAt: string;
  readonly revokedAt?: string;
}
interface Source {
  readonly sourceId: string;
  readonly writeKeys: readonly WriteKey[];
}
interface NewKey extends WriteKey {
  readonly sourceId: string;
  readonly writeKey: string;
}

/** Sources and their write keys: make one (shown once, with the SDK snippets filled in), revoke one. */
export function Sources() {
  const sources = useLoad(() => api<{ sources: Source[] }>('/v1/sources'), []);
  const [created, setCreated] = useState<NewKey | undefined>();
  return (
    <section aria-labelledby="sources-title">
      <h1 id="sources-title">Sources</h1>
      <p class="help">Each website, app or server that sends events is a source with its own write keys. A write key can only send events.</p>
      <CreateKey
        onCreated={(key) => {
          setCreated(key);
          sources.reload();
        }}
      />
      {created ? <NewKeyShown created={created} /> : null}
      <LoadState load={sources} loading="Loading sources…" />
      {sources.state === 'ready' && sources.value.sources.length === 0 ? <p class="help">No sources yet: make a write key above.</p> : null}
      {sources.state === 'ready'
        ? sources.value.sources.map((source) => <SourceKeys source={source} key={source.sourceId} onChanged={sources.reload} />)
        : null}
    </section>
  );
}

function CreateKey({ onCreated }: { onCreated: (key: NewKey) => void }) {
  const [sourceId, setSourceId] = useState('');
  const [name, setName] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      const key = await api<NewKey>(`/v1/sources/${encodeURIComponent(sourceId.trim())}/write-keys`, { method: 'POST', body: JSON.stringify(name.trim() ? { name: name.trim() } : {}) });
      setProblem(undefined);
      setSourceId('');
      setName('');
      onCreated(key);
    } catch (error) {
      setProblem(describeError(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="inline-form" onSubmit={(e) => void submit(e)} aria-labelledby="create-key-title">
      <h2 id="create-key-title">New write key</h2>
      <label for="key-source">Source id</label>
      <input id="key-source" required pattern="[A-Za-z0-9_\-]{1,64}" value={sourceId} onInput={(e) => setSourceId(e.currentTarget.value)} aria-describedby="key-source-help" />
      <span id="key-source-help" class="help">
        letters, digits, - or _, such as <code>web-shop</code>
      </span>
      <label for="key-name">Name</label>
      <input id="key-name" value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="Web shop" />
      <button type="submit" disabled={busy}>
        Make write key
      </button>
      <Problem message={problem} />
    </form>
  );
}

function NewKeyShown({ created }: { created: NewKey }) {
  const origin = location.origin;
  const analyticsJs = `import { AnalyticsBrowser } from '@segment/analytics-next';

export const analytics = AnalyticsBrowser.load({ writeKey: '${created.writeKey}', cdnURL: '${origin}' });
analytics.page();`;
  const rudderStack = `import { RudderAnalytics } from '@rudderstack/analytics-js/bundled';

const analytics = new RudderAnalytics();
analytics.load('${created.writeKey}', '${origin}', { configUrl: '${origin}/v1/sourceConfig' });
analytics.page();`;
  const node = `import { Analytics } from '@segment/analytics-node';

const analytics = new Analytics({ writeKey: '${created.writeKey}', host: '${origin}' });`;
  return (
    <div class="new-key" role="region" aria-labelledby="new-key-title">
      <h2 id="new-key-title">Write key for {created.sourceId}</h2>
      <p>
        <strong>Copy it now: it is shown only this once.</strong> Only its hash is stored.
      </p>
      <p>
        <code data-testid="new-write-key">{created.writeKey}</code> <CopyButton text={created.writeKey} what="write key" />
      </p>
      <h3>analytics.js (Segment)</h3>
      <Snippet text={analyticsJs} what="the analytics.js snippet" />
      <h3>RudderStack JavaScript SDK</h3>
      <Snippet text={rudderStack} what="the RudderStack snippet" />
      <h3>Node.js (Segment's analytics-node)</h3>
      <Snippet text={node} what="the Node.js snippet" />
    </div>
  );
}

function Snippet({ text, what }: { text: string; what: string }) {
  return (
    <div class="snippet">
      <pre tabIndex={0}>
        <code>{text}</code>
      </pre>
      <CopyButton text={text} what={what} />
    </div>
  );
}

/** Copies `text`; its name says what ("Copy write key"), and its visible text starts that name, as WCAG's label-in-name asks. */
export function CopyButton({ text, what }: { text: string; what: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      class="secondary"
      onClick={() =>
        void navigator.clipboard.writeText(text).then(
          () => setCopied(true),
          () => setCopied(false),
        )
      }
    >
      {copied ? 'Copied' : 'Copy'}
      <span class="visually-hidden"> {what}</span>
    </button>
  );
}

function SourceKeys({ source, onChanged }: { source: Source; onChanged: () => void }) {
  const [problem, setProblem] = useState<string | undefined>();
  const revoke = async (key: WriteKey) => {
    if (!confirm(`Revoke the write key "${key.name}" of ${source.sourceId}? Events sent with it are refused within a minute.`)) return;
    try {
      await api(`/v1/sources/${encodeURIComponent(source.sourceId)}/write-keys/${key.keyHash}`, { method: 'DELETE' });
      onChanged();
    } catch (error) {
      setProblem(describeError(error));
    }
  };
  return (
    <>
      <h2>{source.sourceId}</h2>
      <Problem message={problem} />
      <table>
        <caption class="visually-hidden">Write keys of {source.sourceId}</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Key hash</th>
            <th scope="col">Made</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {source.writeKeys.map((key) => (
            <tr key={key.keyHash}>
              <td>{key.name}</td>
              <td>
                <code>{key.keyHash.slice(0, 12)}…</code>
              </td>
              <td>{when(key.createdAt)}</td>
              <td>
                {key.revokedAt ? (
                  `revoked ${when(key.revokedAt)}`
                ) : (
                  <button type="button" class="secondary" onClick={() => void revoke(key)} aria-label={`Revoke ${key.name}`}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
