import { useState } from 'preact/hooks';
import { api, type HistoryEntry, type MergeEntry, type ProfileView, type TimelineEvent } from './api.js';
import { MergeGraph } from './merge-graph.js';
import { describeError, useLoad, usePages, when, type Load } from './ui.js';

const IdentifierTypes = ['email', 'user_id', 'anonymous_id', 'phone'] as const;

/** Search by any identifier: the profile API normalizes the value as identity resolution does. */
export function ProfileSearch() {
  const [type, setType] = useState<string>('email');
  const [value, setValue] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const submit = (event: Event) => {
    event.preventDefault();
    if (!value.trim()) return setProblem('Enter a value to search for.');
    location.hash = `#/profiles/${encodeURIComponent(`${type}:${value.trim()}`)}`;
  };
  return (
    <section aria-labelledby="search-title">
      <h1 id="search-title">Profiles</h1>
      <form class="search" onSubmit={submit} role="search" noValidate>
        <label for="id-type">Identifier type</label>
        <select id="id-type" value={type} onChange={(e) => setType(e.currentTarget.value)}>
          {IdentifierTypes.map((t) => (
            <option value={t} key={t}>
              {t}
            </option>
          ))}
        </select>
        <label for="id-value">Value</label>
        <input id="id-value" type="search" value={value} onInput={(e) => setValue(e.currentTarget.value)} aria-invalid={problem !== undefined} aria-describedby={problem ? 'search-error' : undefined} />
        <button type="submit">Find</button>
      </form>
      {problem ? (
        <p id="search-error" class="error" role="alert">
          {problem}
        </p>
      ) : (
        <p class="help">Find a person by any identifier: an email, a user id, a device's anonymous id, a phone number.</p>
      )}
    </section>
  );
}

const describe = (error: unknown): string => describeError(error, 'No profile has this identifier.');

export function ProfilePage({ profileRef }: { profileRef: string }) {
  const path = `/v1/profiles/${encodeURIComponent(profileRef)}`;
  const profile = useLoad(() => api<ProfileView>(path), [path], 'No profile has this identifier.');
  const merges = useLoad(() => api<{ history: HistoryEntry[] }>(`${path}/merges`), [path]);
  return (
    <section aria-labelledby="profile-title">
      <p>
        <a href="#/profiles">← Search</a>
      </p>
      <h1 id="profile-title">Profile</h1>
      <p class="help">
        Found by <code>{profileRef}</code>
      </p>
      {profile.state === 'loading' ? <p role="status">Loading the profile…</p> : null}
      {profile.state === 'error' ? (
        <p class="error" role="alert">
          {profile.message}
        </p>
      ) : null}
      {profile.state === 'ready' ? <ProfileDetails profile={profile.value} merges={merges} path={path} /> : null}
    </section>
  );
}

function ProfileDetails({ profile, merges, path }: { profile: ProfileView; merges: Load<{ history: HistoryEntry[] }>; path: string }) {
  return (
    <>
      <p>
        Profile <code>{profile.id}</code>, first seen {when(profile.computed.first_seen as string)}, updated {when(profile.updatedAt)}.
      </p>
      <h2>Identifiers</h2>
      <table>
        <caption class="visually-hidden">Identifiers of this profile</caption>
        <thead>
          <tr>
            <th scope="col">Type</th>
            <th scope="col">Value</th>
            <th scope="col">Since</th>
            <th scope="col">Linked by</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {profile.identifiers.map((id) => (
            <tr key={`${id.type}:${id.value}`}>
              <td>{id.type}</td>
              <td>
                <code>{id.value}</code>
              </td>
              <td>{when(id.linkedBy?.at)}</td>
              <td>{id.linkedBy ? `${id.linkedBy.rule}${id.linkedBy.with ? ` with ${id.linkedBy.with.type}:${id.linkedBy.with.value}` : ''}` : '—'}</td>
              <td>{profile.identifiers.length > 1 ? <SplitButton path={path} identifier={id} /> : null}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Traits</h2>
      <Pairs values={profile.traits} empty="No traits yet." label="Traits" />
      <h2>Computed traits</h2>
      <Pairs values={profile.computed} empty="Nothing computed yet." label="Computed traits" />
      <h2>Segments</h2>
      {profile.segments.length === 0 ? (
        <p class="help">In no segment.</p>
      ) : (
        <ul>
          {profile.segments.map((s) => (
            <li key={s.id}>
              <code>{s.id}</code> since {when(s.since)}
            </li>
          ))}
        </ul>
      )}
      <h2>Merge history</h2>
      {merges.state === 'loading' ? <p role="status">Loading the history…</p> : null}
      {merges.state === 'error' ? (
        <p class="error" role="alert">
          {merges.message}
        </p>
      ) : null}
      {merges.state === 'ready' ? <MergeGraph profileId={profile.id} merges={merges.value.history.filter((e): e is MergeEntry => e.kind === 'merge')} /> : null}
      <h2>Timeline</h2>
      <Timeline path={path} />
    </>
  );
}

function Pairs({ values, empty, label }: { values: Readonly<Record<string, unknown>>; empty: string; label: string }) {
  const entries = Object.entries(values);
  if (entries.length === 0) return <p class="help">{empty}</p>;
  return (
    <dl class="pairs" aria-label={label}>
      {entries.map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>{typeof value === 'string' ? value : JSON.stringify(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

/** The person's events from the lake, newest first, a page at a time. */
function Timeline({ path }: { path: string }) {
  const timeline = usePages<TimelineEvent>((cursor) => `${path}/events?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, (page) => page.events as TimelineEvent[], [path], 'No profile has this identifier.');
  const { items: events, state } = timeline;
  return (
    <>
      {state === 'ready' && events.length === 0 ? <p class="help">No events in the lake yet.</p> : null}
      {events.length > 0 ? (
        <ol class="timeline" aria-label="Events, newest first">
          {events.map((e) => (
            <li key={e.messageId}>
              <time dateTime={e.timestamp}>{when(e.timestamp)}</time> <strong>{e.type === 'track' ? e.event : e.type === 'page' ? `page ${e.name ?? ''}` : e.type}</strong>{' '}
              {e.properties && Object.keys(e.properties).length > 0 ? <code>{JSON.stringify(e.properties)}</code> : null}
            </li>
          ))}
        </ol>
      ) : null}
      {state === 'loading' ? <p role="status">Loading events…</p> : null}
      {typeof state === 'object' ? (
        <p class="error" role="alert">
          {state.error}
        </p>
      ) : null}
      {state === 'ready' && timeline.next ? (
        <button type="button" onClick={timeline.more}>
          Older events
        </button>
      ) : null}
    </>
  );
}

/**
 * Detaches one identifier (and the events it brought) into a profile of its own, after a
 * confirmation: for a merge that joined two people who are not one (docs/identity.md).
 */
function SplitButton({ path, identifier }: { path: string; identifier: { type: string; value: string } }) {
  const [problem, setProblem] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const split = async () => {
    if (!confirm(`Split ${identifier.type}:${identifier.value} off this profile, with the events it brought? It becomes a profile of its own.`)) return;
    setBusy(true);
    try {
      const result = await api<{ split: { id: string } }>(`${path}/split`, { method: 'POST', body: JSON.stringify({ identifier: { type: identifier.type, value: identifier.value } }) });
      location.hash = `#/profiles/${encodeURIComponent(`profile:${result.split.id}`)}`;
    } catch (error) {
      setProblem(describe(error));
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" class="secondary" disabled={busy} onClick={() => void split()}>
        Split off<span class="visually-hidden"> {`${identifier.type}:${identifier.value}`}</span>
      </button>
      {problem ? (
        <span class="error" role="alert">
          {' '}
          {problem}
        </span>
      ) : null}
    </>
  );
}

