import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from './api.js';
import { ConditionEditor, type Condition } from './condition-builder.js';
import { CopyButton } from './sources.js';
import { describeError, LoadState, useLoad, usePages, when, Problem } from './ui.js';

interface Segment {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly condition: Condition;
  readonly version: number;
  readonly status: 'backfilling' | 'ready' | 'deleting';
  readonly memberCount: number;
  readonly backfill: { phase: string; profilesSeeded: number; eventsSeeded: number; profilesEvaluated: number; notBefore: string } | null;
  readonly updatedAt: string;
}

export function SegmentList() {
  const segments = useLoad(() => api<{ segments: Segment[] }>('/v1/segments'), []);
  return (
    <section aria-labelledby="segments-title">
      <h1 id="segments-title">Segments</h1>
      <p>
        <a href="#/segments/new" class="button">
          New segment
        </a>
      </p>
      <LoadState load={segments} loading="Loading segments…" />
      {segments.state === 'ready' && segments.value.segments.length === 0 ? <p class="help">No segments yet. A segment is a condition on people, kept up to date with every event.</p> : null}
      {segments.state === 'ready' && segments.value.segments.length > 0 ? (
        <table>
          <caption class="visually-hidden">Segments</caption>
          <thead>
            <tr>
              <th scope="col">Segment</th>
              <th scope="col">Status</th>
              <th scope="col">Members</th>
              <th scope="col">Changed</th>
            </tr>
          </thead>
          <tbody>
            {segments.value.segments.map((s) => (
              <tr key={s.id}>
                <td>
                  <a href={`#/segments/${encodeURIComponent(s.id)}`}>{s.name}</a> <code>{s.id}</code>
                </td>
                <td>{s.status}</td>
                <td>{s.memberCount}</td>
                <td>{when(s.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

const starter: Condition = { all: [{ event: 'Order Completed', within: 'P30D' }] };

/** Create a segment, or change one: the builder and its JSON side by side, a preview count, then save. */
export function SegmentEditor({ segmentId }: { segmentId?: string }) {
  const existing = useLoad(() => (segmentId ? api<Segment>(`/v1/segments/${encodeURIComponent(segmentId)}`) : Promise.resolve(undefined)), [segmentId], 'There is no such segment.');
  const [id, setId] = useState(segmentId ?? '');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [condition, setCondition] = useState<Condition>(starter);
  const [jsonText, setJsonText] = useState(JSON.stringify(starter, null, 2));
  const [jsonProblem, setJsonProblem] = useState<string | undefined>();
  const [preview, setPreview] = useState<{ state: 'idle' } | { state: 'loading' } | { state: 'ready'; count: number; at: string } | { state: 'error'; message: string }>({ state: 'idle' });
  const [saving, setSaving] = useState<{ problem?: string; busy: boolean }>({ busy: false });

  useEffect(() => {
    if (existing.state !== 'ready' || !existing.value) return;
    setName(existing.value.name);
    setDescription(existing.value.description ?? '');
    edit(existing.value.condition);
  }, [existing.state]);

  /** One condition, two views: the form's changes rewrite the JSON, and valid JSON rewrites the form. */
  const edit = (next: Condition) => {
    setCondition(next);
    setJsonText(JSON.stringify(next, null, 2));
    setJsonProblem(undefined);
    setPreview({ state: 'idle' });
  };
  const editJson = (text: string) => {
    setJsonText(text);
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('a condition is a JSON object');
      setCondition(parsed as Condition);
      setJsonProblem(undefined);
      setPreview({ state: 'idle' });
    } catch (error) {
      setJsonProblem(`Not applied: ${(error as Error).message}`);
    }
  };
  const runPreview = async () => {
    setPreview({ state: 'loading' });
    try {
      const result = await api<{ count: number; at: string }>('/v1/segment-previews', { method: 'POST', body: JSON.stringify({ condition }) });
      setPreview({ state: 'ready', ...result });
    } catch (error) {
      setPreview({ state: 'error', message: describeError(error) });
    }
  };
  const save = async (event: Event) => {
    event.preventDefault();
    setSaving({ busy: true });
    try {
      await api(`/v1/segments/${encodeURIComponent(id.trim())}`, { method: 'PUT', body: JSON.stringify({ name, ...(description ? { description } : {}), condition }) });
      location.hash = `#/segments/${encodeURIComponent(id.trim())}`;
    } catch (error) {
      setSaving({ busy: false, problem: error instanceof ApiError && error.status === 404 ? 'The segment API was not found.' : describeError(error) });
    }
  };

  if (segmentId && existing.state !== 'ready') return <LoadState load={existing} loading="Loading the segment…" />;
  return (
    <section aria-labelledby="editor-title">
      <p>
        <a href={segmentId ? `#/segments/${encodeURIComponent(segmentId)}` : '#/segments'}>← {segmentId ? 'Segment' : 'Segments'}</a>
      </p>
      <h1 id="editor-title">{segmentId ? `Edit ${segmentId}` : 'New segment'}</h1>
      <form onSubmit={(e) => void save(e)} class="segment-form">
        <div class="row">
          <span class="field">
            <label for="segment-id">Id</label>
            <input id="segment-id" value={id} onInput={(e) => setId(e.currentTarget.value)} readOnly={segmentId !== undefined} required aria-describedby="segment-id-help" />
            <span id="segment-id-help" class="help">
              lower-case letters, digits, - or _
            </span>
          </span>
          <span class="field">
            <label for="segment-name">Name</label>
            <input id="segment-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
          </span>
          <span class="field wide">
            <label for="segment-description">Description</label>
            <input id="segment-description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
          </span>
        </div>
        <div class="builder">
          <div>
            <h2>Condition</h2>
            <ConditionEditor condition={condition} onChange={edit} path="condition" />
          </div>
          <div>
            <h2>
              <label for="condition-json">As JSON</label>
            </h2>
            <textarea id="condition-json" rows={20} spellcheck={false} value={jsonText} onInput={(e) => editJson(e.currentTarget.value)} aria-invalid={jsonProblem !== undefined} aria-describedby={jsonProblem ? 'json-problem' : undefined} />
            {jsonProblem ? (
              <p id="json-problem" class="error" role="alert">
                {jsonProblem}
              </p>
            ) : null}
          </div>
        </div>
        <div class="row">
          <button type="button" class="secondary" onClick={() => void runPreview()} disabled={preview.state === 'loading'}>
            Preview count
          </button>
          <span role="status">
            {preview.state === 'loading' ? 'Counting…' : null}
            {preview.state === 'ready' ? `${preview.count} ${preview.count === 1 ? 'person matches' : 'people match'} now (from the lake, ${when(preview.at)})` : null}
          </span>
          <button type="submit" disabled={saving.busy}>
            Save segment
          </button>
        </div>
        {preview.state === 'error' ? (
          <p class="error" role="alert">
            {preview.message}
          </p>
        ) : null}
        <Problem message={saving.problem} />
      </form>
    </section>
  );
}

/** A segment: its status and backfill progress, members, and SQL. */
export function SegmentPage({ segmentId }: { segmentId: string }) {
  const path = `/v1/segments/${encodeURIComponent(segmentId)}`;
  const segment = useLoad(() => api<Segment>(path), [path], 'There is no such segment.');
  // While it backfills, the page follows its progress.
  useEffect(() => {
    if (segment.state !== 'ready' || segment.value.status === 'ready') return;
    const timer = setTimeout(segment.reload, 1_000);
    return () => clearTimeout(timer);
  }, [segment]);
  const [deleting, setDeleting] = useState<string | undefined>();
  const remove = async () => {
    if (!confirm(`Delete the segment ${segmentId}? Every member's exit is recorded, and destinations are told.`)) return;
    try {
      await api(path, { method: 'DELETE' });
      location.hash = '#/segments';
    } catch (error) {
      setDeleting(describeError(error));
    }
  };
  return (
    <section aria-labelledby="segment-title">
      <p>
        <a href="#/segments">← Segments</a>
      </p>
      <h1 id="segment-title">{segment.state === 'ready' ? segment.value.name : segmentId}</h1>
      <LoadState load={segment} loading="Loading the segment…" />
      {segment.state === 'ready' ? (
        <>
          <p>
            <code>{segment.value.id}</code>, version {segment.value.version}: <strong data-testid="segment-status">{segment.value.status}</strong>, {segment.value.memberCount} members.{' '}
            {segment.value.description}
          </p>
          {segment.value.backfill && segment.value.status === 'backfilling' ? (
            <div>
              <label for="backfill-progress">Backfill: {segment.value.backfill.phase}</label>{' '}
              <progress id="backfill-progress" max={Math.max(segment.value.backfill.profilesSeeded, 1)} value={segment.value.backfill.profilesEvaluated} />{' '}
              <span class="help">
                {segment.value.backfill.profilesEvaluated} of {segment.value.backfill.profilesSeeded} profiles evaluated, {segment.value.backfill.eventsSeeded} events read
              </span>
            </div>
          ) : null}
          <p class="row">
            <a href={`#/segments/${encodeURIComponent(segmentId)}/edit`} class="button">
              Edit
            </a>
            <button type="button" class="danger" onClick={() => void remove()}>
              Delete
            </button>
          </p>
          <Problem message={deleting} />
          <h2>Members</h2>
          <Members path={path} version={`${segment.value.version}-${segment.value.memberCount}`} />
          <h2>SQL</h2>
          <SegmentSql path={path} />
        </>
      ) : null}
    </section>
  );
}

function Members({ path, version }: { path: string; version: string }) {
  const list = usePages<{ profileId: string; since: string }>(
    (cursor) => `${path}/members?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    (page) => page.members as Array<{ profileId: string; since: string }>,
    [path, version],
  );
  const { items: members, state } = list;
  return (
    <>
      <p class="help">From the lake: entries and exits recorded so far.</p>
      {state === 'ready' && members.length === 0 ? <p class="help">No members recorded yet.</p> : null}
      {members.length > 0 ? (
        <ul aria-label="Members">
          {members.map((m) => (
            <li key={m.profileId}>
              <a href={`#/profiles/${encodeURIComponent(`profile:${m.profileId}`)}`}>{m.profileId}</a> since {when(m.since)}
            </li>
          ))}
        </ul>
      ) : null}
      {state === 'loading' ? <p role="status">Loading members…</p> : null}
      {typeof state === 'object' ? (
        <p class="error" role="alert">
          {state.error}
        </p>
      ) : null}
      <p class="row">
        {state === 'ready' && list.next ? (
          <button type="button" class="secondary" onClick={list.more}>
            More members
          </button>
        ) : null}
        <button type="button" class="secondary" onClick={list.reload} disabled={state === 'loading'}>
          Refresh members
        </button>
      </p>
    </>
  );
}

function SegmentSql({ path }: { path: string }) {
  const sql = useLoad(() => api<{ sql: string; at: string }>(`${path}/sql`), [path]);
  return (
    <>
      <LoadState load={sql} loading="Loading the SQL…" />
      {sql.state === 'ready' ? (
        <div class="snippet">
          <p class="help">One statement over the lake (Athena or DuckDB) naming the same people, as of {when(sql.value.at)}.</p>
          <pre tabIndex={0}>
            <code>{sql.value.sql}</code>
          </pre>
          <CopyButton text={sql.value.sql} what="the SQL" />
        </div>
      ) : null}
    </>
  );
}
