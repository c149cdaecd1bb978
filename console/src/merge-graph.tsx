import type { MergeEntry } from './api.js';

const short = (id: string): string => (id.length > 10 ? `${id.slice(0, 8)}…` : id);
const idText = (id: { type: string; value: string }): string => {
  const text = `${id.type}:${id.value}`;
  return text.length > 34 ? `${text.slice(0, 33)}…` : text;
};

/**
 * Which profiles joined this one, drawn as a small graph: each absorbed profile (with the
 * identifiers it brought) points at the profile that absorbed it, labelled with the rule and when.
 * The same facts are listed below it as text, for screen readers and for copying.
 */
export function MergeGraph({ profileId, merges }: { profileId: string; merges: readonly MergeEntry[] }) {
  if (merges.length === 0) return <p class="help">No merges: this profile has been one profile from the start.</p>;
  const ordered = [...merges].sort((a, b) => a.reason.at - b.reason.at);
  const rowHeight = (m: MergeEntry) => 28 + 16 * Math.min(m.absorbedIdentifiers.length, 4);
  const tops: number[] = [];
  let y = 10;
  for (const m of ordered) {
    tops.push(y);
    y += rowHeight(m) + 14;
  }
  const height = Math.max(y, 70);
  const survivorIds = new Set(ordered.map((m) => m.profileId));
  const survivors = [...survivorIds];
  const survivorY = (id: string) => 10 + (survivors.indexOf(id) * (height - 20)) / Math.max(survivors.length, 1);
  return (
    <figure class="merge-graph">
      <svg viewBox={`0 0 640 ${height}`} width="100%" role="img" aria-labelledby="merge-graph-title">
        <title id="merge-graph-title">{`${ordered.length} merge${ordered.length === 1 ? '' : 's'} into profile ${profileId}`}</title>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" class="edge-head" />
          </marker>
        </defs>
        {ordered.map((m, i) => {
          const top = tops[i]!;
          const h = rowHeight(m);
          const target = survivorY(m.profileId) + 20;
          return (
            <g key={`${m.absorbed}-${m.reason.at}`}>
              <rect x="4" y={top} width="250" height={h} rx="6" class="node absorbed" />
              <text x="14" y={top + 18} class="node-title">{`profile ${short(m.absorbed)}`}</text>
              {m.absorbedIdentifiers.slice(0, 4).map((id, j) => (
                <text x="14" y={top + 36 + j * 16} class="node-id" key={`${id.type}:${id.value}`}>
                  {idText(id)}
                </text>
              ))}
              <path d={`M 254 ${top + h / 2} C 330 ${top + h / 2}, 360 ${target}, 440 ${target}`} class="edge" marker-end="url(#arrow)" />
              <text x="300" y={top + h / 2 - 6} class="edge-label">{`${m.reason.rule}, ${new Date(m.reason.at).toLocaleDateString()}`}</text>
            </g>
          );
        })}
        {survivors.map((id) => (
          <g key={id}>
            <rect x="440" y={survivorY(id)} width="190" height="40" rx="6" class={`node ${id === profileId ? 'current' : 'absorbed'}`} />
            <text x="452" y={survivorY(id) + 25} class="node-title">{`profile ${short(id)}${id === profileId ? ' (this)' : ''}`}</text>
          </g>
        ))}
      </svg>
      <figcaption>
        <ul>
          {ordered.map((m) => (
            <li key={`${m.absorbed}-${m.reason.at}`}>
              {new Date(m.reason.at).toLocaleString()}: profile <code>{m.absorbed}</code> ({m.absorbedIdentifiers.map(idText).join(', ')}) joined <code>{m.profileId}</code> by rule <strong>{m.reason.rule}</strong>
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}
