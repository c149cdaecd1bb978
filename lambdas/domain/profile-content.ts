import type { ProfileState } from './profile.js';

const byKey = <T>(record: Readonly<Record<string, T>>): Record<string, T> =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)));

/**
 * What a person's profile says, without what legitimately differs between two stores that hold
 * the same people (profile ids, versions, dedupe memory): two profiles with equal content
 * describe the same person identically.
 */
export function personContent(profile: ProfileState): unknown {
  return {
    identifiers: profile.identifiers.map((id) => `${id.type}:${id.value}@${id.since}`).sort(),
    traits: byKey(profile.traits),
    computed: { ...profile.computed, eventCounts: byKey(profile.computed.eventCounts), days: byKey(profile.computed.days) },
  };
}

/** Everyone's content, in a stable order, so two stores can be compared as wholes. */
export function peopleContent(profiles: readonly ProfileState[]): unknown[] {
  return profiles
    .map((p) => JSON.stringify(personContent(p)))
    .sort()
    .map((c) => JSON.parse(c) as unknown);
}

export interface PeopleComparison {
  readonly same: number;
  readonly onlyInA: number;
  readonly onlyInB: number;
  /** The first few people only in one side, by content, to see what differs. */
  readonly examples: { readonly onlyInA: readonly unknown[]; readonly onlyInB: readonly unknown[] };
}

const MaxExamples = 3;

/** How two sets of people differ: counts of people only in one, by their content. */
export function comparePeople(a: readonly ProfileState[], b: readonly ProfileState[]): PeopleComparison {
  const remaining = new Map<string, number>();
  for (const p of a) {
    const key = JSON.stringify(personContent(p));
    remaining.set(key, (remaining.get(key) ?? 0) + 1);
  }
  let same = 0;
  let onlyInB = 0;
  const examplesB: unknown[] = [];
  for (const p of b) {
    const key = JSON.stringify(personContent(p));
    const n = remaining.get(key) ?? 0;
    if (n > 0) {
      remaining.set(key, n - 1);
      same++;
    } else {
      onlyInB++;
      if (examplesB.length < MaxExamples) examplesB.push(JSON.parse(key));
    }
  }
  const onlyInA = [...remaining.values()].reduce((x, y) => x + y, 0);
  const examplesA = [...remaining].filter(([, n]) => n > 0).slice(0, MaxExamples).map(([key]) => JSON.parse(key) as unknown);
  return { same, onlyInA, onlyInB, examples: { onlyInA: examplesA, onlyInB: examplesB } };
}
