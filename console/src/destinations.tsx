import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { describeError, LoadState, useLoad, when, Problem } from './ui.js';

interface Destination {
  readonly id: string;
  readonly type: 'webhook' | 'sqs' | 'lambda';
  readonly url?: string;
  readonly queueArn?: string;
  readonly functionArn?: string;
  readonly auth?: { readonly type: 'api_key' | 'basic'; readonly header?: string; readonly username?: string };
  readonly pattern: unknown;
  readonly traits?: readonly string[];
  readonly purposes?: readonly string[];
  readonly description?: string;
  readonly managedBy: 'api' | 'config';
}

/** What the bus counted for one destination (GET /v1/destination-deliveries). */
export interface DeliveryOutcome {
  readonly delivered: number;
  readonly failedAttempts: number;
  readonly deadLettered: number;
}

const examplePattern = { 'detail-type': ['Segment Entered', 'Segment Exited'] };

/** Where activation events go: webhooks made here, and destinations declared in the stack (read-only). */
export function Destinations() {
  const destinations = useLoad(() => api<{ destinations: Destination[] }>('/v1/destinations'), []);
  const letters = useLoad(() => api<{ deadLetters: Record<string, number> }>('/v1/destination-dead-letters'), []);
  const deliveries = useLoad(() => api<{ deliveries: Record<string, DeliveryOutcome> }>('/v1/destination-deliveries?minutes=60'), []);
  const countsChanged = () => {
    letters.reload();
    deliveries.reload();
  };
  const changed = () => {
    destinations.reload();
    countsChanged();
  };
  const [editing, setEditing] = useState<Destination | 'new' | undefined>();
  return (
    <section aria-labelledby="destinations-title">
      <h1 id="destinations-title">Destinations</h1>
      <p class="help">Where segment entries and exits, merges and other activation events are sent. Each destination's pattern picks its events.</p>
      {editing ? (
        <DestinationForm
          existing={editing === 'new' ? undefined : editing}
          onDone={() => {
            setEditing(undefined);
            destinations.reload();
          }}
        />
      ) : (
        <p class="row">
          <button type="button" onClick={() => setEditing('new')}>
            New webhook
          </button>
          <button type="button" class="secondary" onClick={countsChanged}>
            Refresh counts
          </button>
        </p>
      )}
      <LoadState load={destinations} loading="Loading destinations…" />
      {destinations.state === 'ready' && destinations.value.destinations.length === 0 ? <p class="help">No destinations yet: add a webhook to send segment changes somewhere.</p> : null}
      {destinations.state === 'ready'
        ? destinations.value.destinations.map((d) => (
            <DestinationCard
              destination={d}
              key={d.id}
              deadLetters={letters.state === 'ready' ? letters.value.deadLetters : {}}
              delivery={deliveries.state === 'ready' ? deliveries.value.deliveries[d.id] : undefined}
              onEdit={() => setEditing(d)}
              onChanged={changed}
              onRedriven={countsChanged}
            />
          ))
        : null}
      {letters.state === 'ready' && (letters.value.deadLetters['(api-managed)'] ?? 0) > 0 ? (
        <p class="help">
          {letters.value.deadLetters['(api-managed)']} dead letters wait in the queue destinations made here share (AWS counts them together): redrive each destination to put its own back.
        </p>
      ) : null}
    </section>
  );
}

function DestinationCard({
  destination,
  deadLetters,
  delivery,
  onEdit,
  onChanged,
  onRedriven,
}: {
  destination: Destination;
  deadLetters: Readonly<Record<string, number>>;
  /** The last hour's deliveries; absent while loading or when they could not be read. */
  delivery: DeliveryOutcome | undefined;
  onEdit: () => void;
  onChanged: () => void;
  /** Only the counts are read again, so the card (and its message) stays. */
  onRedriven: () => void;
}) {
  const waiting = deadLetters[destination.id] ?? 0;
  const [message, setMessage] = useState<{ text: string; error: boolean } | undefined>();
  const sendTest = async () => {
    try {
      const sent = await api<{ eventId: string; sentAt: string }>(`/v1/destinations/${encodeURIComponent(destination.id)}/test`, { method: 'POST' });
      setMessage({ text: `Test event ${sent.eventId} sent at ${when(sent.sentAt)}.`, error: false });
    } catch (error) {
      setMessage({ text: describeError(error), error: true });
    }
  };
  const redrive = async () => {
    try {
      const { redriven } = await api<{ redriven: number }>(`/v1/destinations/${encodeURIComponent(destination.id)}/redrive`, { method: 'POST' });
      setMessage({ text: `${redriven} dead ${redriven === 1 ? 'letter' : 'letters'} put back for delivery.`, error: false });
      onRedriven();
    } catch (error) {
      setMessage({ text: describeError(error), error: true });
    }
  };
  const remove = async () => {
    if (!confirm(`Delete the destination ${destination.id}? Its events stop at once.`)) return;
    try {
      await api(`/v1/destinations/${encodeURIComponent(destination.id)}`, { method: 'DELETE' });
      onChanged();
    } catch (error) {
      setMessage({ text: describeError(error), error: true });
    }
  };
  const target = destination.url ?? destination.queueArn ?? destination.functionArn ?? '';
  return (
    <article class="card" aria-labelledby={`destination-${destination.id}`}>
      <h2 id={`destination-${destination.id}`}>{destination.id}</h2>
      <p>
        {destination.type} <code>{target}</code>
        {destination.managedBy === 'config' ? ' (declared in the stack: change it there)' : ''}
      </p>
      {destination.description ? <p>{destination.description}</p> : null}
      <p class="help">
        Pattern <code>{JSON.stringify(destination.pattern)}</code>
        {destination.traits && destination.traits.length > 0 ? (
          <>
            {' '}
            · traits <code>{destination.traits.join(', ')}</code>
          </>
        ) : null}
        {destination.purposes && destination.purposes.length > 0 ? (
          <>
            {' '}
            · consent to <code>{destination.purposes.join(', ')}</code>
          </>
        ) : null}
      </p>
      {delivery ? (
        <p data-testid={`deliveries-${destination.id}`} class={delivery.failedAttempts > 0 ? 'error' : 'help'}>
          Last hour: {delivery.delivered} delivered · {delivery.failedAttempts} failed {delivery.failedAttempts === 1 ? 'attempt' : 'attempts'} · {delivery.deadLettered} given up on
        </p>
      ) : null}
      <p data-testid={`dead-letters-${destination.id}`} class={waiting > 0 ? 'error' : 'help'}>
        {waiting > 0 ? `${waiting} dead ${waiting === 1 ? 'letter' : 'letters'}: events it gave up on after its retries.` : 'No dead letters.'}
      </p>
      <p class="row">
        <button type="button" class="secondary" onClick={() => void redrive()}>
          Redrive<span class="visually-hidden"> {destination.id}</span>
        </button>
        <button type="button" class="secondary" onClick={() => void sendTest()}>
          Send test event<span class="visually-hidden"> to {destination.id}</span>
        </button>
        {destination.managedBy === 'api' ? (
          <>
            <button type="button" class="secondary" onClick={onEdit}>
              Edit<span class="visually-hidden"> {destination.id}</span>
            </button>
            <button type="button" class="danger" onClick={() => void remove()}>
              Delete<span class="visually-hidden"> {destination.id}</span>
            </button>
          </>
        ) : null}
      </p>
      {message ? (
        <p class={message.error ? 'error' : 'help'} role={message.error ? 'alert' : 'status'}>
          {message.text}
        </p>
      ) : null}
    </article>
  );
}

/** A webhook: its address, an optional API key header, the pattern of events it wants and the traits it gets. */
function DestinationForm({ existing, onDone }: { existing?: Destination; onDone: () => void }) {
  const [id, setId] = useState(existing?.id ?? '');
  const [url, setUrl] = useState(existing?.url ?? '');
  const [header, setHeader] = useState(existing?.auth?.header ?? '');
  const [secret, setSecret] = useState('');
  const [pattern, setPattern] = useState(JSON.stringify(existing?.pattern ?? examplePattern, null, 2));
  const [traits, setTraits] = useState((existing?.traits ?? []).join(', '));
  const [description, setDescription] = useState(existing?.description ?? '');
  const [problem, setProblem] = useState<string | undefined>();
  useEffect(() => setProblem(undefined), [id, url, pattern]);
  const save = async (event: Event) => {
    event.preventDefault();
    let parsedPattern: unknown;
    try {
      parsedPattern = JSON.parse(pattern);
    } catch (error) {
      return setProblem(`The pattern is not JSON: ${(error as Error).message}`);
    }
    const body = {
      type: 'webhook',
      url: url.trim(),
      pattern: parsedPattern,
      traits: traits.split(',').map((t) => t.trim()).filter(Boolean),
      ...(description.trim() ? { description: description.trim() } : {}),
      // Left empty on an edit, the stored secret is kept.
      ...(header.trim() ? { auth: { type: 'api_key', header: header.trim(), ...(secret ? { value: secret } : {}) } } : {}),
    };
    try {
      await api(`/v1/destinations/${encodeURIComponent(id.trim())}`, { method: 'PUT', body: JSON.stringify(body) });
      onDone();
    } catch (error) {
      setProblem(describeError(error));
    }
  };
  return (
    <form class="card destination-form" onSubmit={(e) => void save(e)} aria-labelledby="destination-form-title">
      <h2 id="destination-form-title">{existing ? `Edit ${existing.id}` : 'New webhook'}</h2>
      <div class="row">
        <span class="field">
          <label for="destination-id">Id</label>
          <input id="destination-id" value={id} onInput={(e) => setId(e.currentTarget.value)} readOnly={existing !== undefined} required />
        </span>
        <span class="field wide">
          <label for="destination-url">URL</label>
          <input id="destination-url" type="url" value={url} onInput={(e) => setUrl(e.currentTarget.value)} required placeholder="https://hooks.example.com/cdp" />
        </span>
      </div>
      <div class="row">
        <span class="field">
          <label for="destination-header">API key header</label>
          <input id="destination-header" value={header} onInput={(e) => setHeader(e.currentTarget.value)} placeholder="x-api-key (optional)" />
        </span>
        <span class="field">
          <label for="destination-secret">API key</label>
          <input id="destination-secret" type="password" autoComplete="off" value={secret} onInput={(e) => setSecret(e.currentTarget.value)} placeholder={existing?.auth ? 'unchanged' : ''} />
        </span>
        <span class="field">
          <label for="destination-traits">Traits to send</label>
          <input id="destination-traits" value={traits} onInput={(e) => setTraits(e.currentTarget.value)} placeholder="email, plan" />
        </span>
      </div>
      <div class="row">
        <span class="field wide">
          <label for="destination-pattern">Pattern (EventBridge)</label>
          <textarea id="destination-pattern" rows={6} spellcheck={false} value={pattern} onInput={(e) => setPattern(e.currentTarget.value)} aria-describedby="pattern-help" />
          <span id="pattern-help" class="help">
            For example <code>{'{"detail-type": ["Segment Entered"], "detail": {"segmentId": ["vip"]}}'}</code>
          </span>
        </span>
      </div>
      <div class="row">
        <span class="field wide">
          <label for="destination-description">Description</label>
          <input id="destination-description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </span>
      </div>
      <Problem message={problem} />
      <p class="row">
        <button type="submit">Save destination</button>
        <button type="button" class="secondary" onClick={onDone}>
          Cancel
        </button>
      </p>
    </form>
  );
}
