import { api } from './api.js';
import type { DeliveryOutcome } from './destinations.js';
import { LoadState, useLoad, when } from './ui.js';

interface OverviewData {
  readonly from: string;
  readonly to: string;
  readonly perMinute: ReadonlyArray<{ readonly at: string; readonly accepted: number; readonly refused: number }>;
  readonly refusedByField: Readonly<Record<string, number>>;
  readonly publishedByDestination: Readonly<Record<string, number>>;
  readonly refusedByDestination: Readonly<Record<string, number>>;
}
interface SegmentSummary {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly memberCount: number;
}

/** The last hour at a glance: intake per minute, refusals by field, segment sizes, publishing by destination. */
export function Overview() {
  const overview = useLoad(() => api<OverviewData>('/v1/overview?minutes=60'), []);
  const segments = useLoad(() => api<{ segments: SegmentSummary[] }>('/v1/segments'), []);
  const people = useLoad(() => api<{ profiles: number; identified: number }>('/v1/profile-count'), []);
  const deliveries = useLoad(() => api<{ deliveries: Record<string, DeliveryOutcome> }>('/v1/destination-deliveries?minutes=60'), []);
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      <p class="row">
        <button type="button" class="secondary" onClick={() => (overview.reload(), segments.reload(), deliveries.reload(), people.reload())}>
          Refresh
        </button>
      </p>
      <h2>Profiles</h2>
      <LoadState load={people} loading="Counting profiles…" />
      {people.state === 'ready' ? (
        <p data-testid="profile-count">
          <strong>{people.value.profiles}</strong> {people.value.profiles === 1 ? 'profile' : 'profiles'}, {people.value.identified} identified (known by more than an anonymous id)
        </p>
      ) : null}
      <LoadState load={overview} loading="Loading the last hour…" />
      {overview.state === 'ready' ? (
        <>
          <h2>Events per minute</h2>
          <p class="help">
            {when(overview.value.from)} to {when(overview.value.to)}: {sum(overview.value.perMinute.map((m) => m.accepted))} accepted, {sum(overview.value.perMinute.map((m) => m.refused))} refused.
          </p>
          <MinuteChart perMinute={overview.value.perMinute} />
          <h2>Refused, by field</h2>
          <Counts counts={overview.value.refusedByField} empty="Nothing refused in the last hour." label="Refused events by field" />
          <h2>Destinations</h2>
          <DestinationCounts
            published={overview.value.publishedByDestination}
            refused={overview.value.refusedByDestination}
            deliveries={deliveries.state === 'ready' ? deliveries.value.deliveries : {}}
          />
          {deliveries.state === 'error' ? <LoadState load={deliveries} loading="" /> : null}
        </>
      ) : null}
      <h2>Segment sizes</h2>
      <LoadState load={segments} loading="Loading segments…" />
      {segments.state === 'ready' ? (
        segments.value.segments.length === 0 ? (
          <p class="help">No segments yet.</p>
        ) : (
          <Counts counts={Object.fromEntries(segments.value.segments.map((s) => [`${s.name} (${s.status})`, s.memberCount]))} empty="" label="Members by segment" />
        )
      ) : null}
    </section>
  );
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/** Accepted and refused events a minute as bars; the same numbers are in the table for screen readers. */
function MinuteChart({ perMinute }: { perMinute: OverviewData['perMinute'] }) {
  const top = Math.max(1, ...perMinute.map((m) => m.accepted + m.refused));
  const width = 720;
  const height = 140;
  const bar = width / Math.max(perMinute.length, 1);
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height + 20}`} width="100%" role="img" aria-labelledby="chart-title">
        <title id="chart-title">{`Events per minute over the last ${perMinute.length} minutes; at most ${top} in a minute`}</title>
        {perMinute.map((m, i) => {
          const accepted = (m.accepted / top) * height;
          const refused = (m.refused / top) * height;
          return (
            <g key={m.at}>
              <rect x={i * bar + 1} y={height - accepted - refused} width={Math.max(bar - 2, 1)} height={accepted} class="accepted" />
              <rect x={i * bar + 1} y={height - refused} width={Math.max(bar - 2, 1)} height={refused} class="refused" />
            </g>
          );
        })}
        <text x="0" y={height + 16} class="axis">
          {perMinute[0] ? new Date(perMinute[0].at).toLocaleTimeString() : ''}
        </text>
        <text x={width} y={height + 16} class="axis" text-anchor="end">
          now
        </text>
      </svg>
      <figcaption>
        <span class="badge accepted">accepted</span> <span class="badge refused">refused</span>
        <details>
          <summary>As a table</summary>
          <table>
            <caption class="visually-hidden">Events per minute</caption>
            <thead>
              <tr>
                <th scope="col">Minute</th>
                <th scope="col">Accepted</th>
                <th scope="col">Refused</th>
              </tr>
            </thead>
            <tbody>
              {perMinute
                .filter((m) => m.accepted + m.refused > 0)
                .map((m) => (
                  <tr key={m.at}>
                    <td>{new Date(m.at).toLocaleTimeString()}</td>
                    <td>{m.accepted}</td>
                    <td>{m.refused}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </details>
      </figcaption>
    </figure>
  );
}

function Counts({ counts, empty, label }: { counts: Readonly<Record<string, number>>; empty: string; label: string }) {
  const entries = Object.entries(counts).sort(([, a], [, b]) => b - a);
  if (entries.length === 0) return <p class="help">{empty}</p>;
  return (
    <dl class="pairs" aria-label={label}>
      {entries.map(([name, n]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>{n}</dd>
        </div>
      ))}
    </dl>
  );
}

function DestinationCounts({
  published,
  refused,
  deliveries,
}: {
  published: Readonly<Record<string, number>>;
  refused: Readonly<Record<string, number>>;
  deliveries: Readonly<Record<string, DeliveryOutcome>>;
}) {
  const active = Object.entries(deliveries).filter(([, d]) => d.delivered + d.failedAttempts + d.deadLettered > 0).map(([id]) => id);
  const ids = [...new Set([...Object.keys(published), ...Object.keys(refused), ...active])].sort();
  if (ids.length === 0) return <p class="help">No activation events in the last hour.</p>;
  return (
    <table>
      <caption class="visually-hidden">Activation events by destination in the last hour</caption>
      <thead>
        <tr>
          <th scope="col">Destination</th>
          <th scope="col">Published</th>
          <th scope="col">Delivered</th>
          <th scope="col">Failed attempts</th>
          <th scope="col">Given up on</th>
          <th scope="col">Refused by the bus</th>
        </tr>
      </thead>
      <tbody>
        {ids.map((id) => (
          <tr key={id}>
            <td>{id}</td>
            <td>{published[id] ?? 0}</td>
            <td>{deliveries[id]?.delivered ?? 0}</td>
            <td>{deliveries[id]?.failedAttempts ?? 0}</td>
            <td>{deliveries[id]?.deadLettered ?? 0}</td>
            <td>{refused[id] ?? 0}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
