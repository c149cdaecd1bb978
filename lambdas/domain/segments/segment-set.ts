import type { ValidationIssue } from '../errors.js';
import type { ProfileConfig } from '../profile-config.js';
import { parseCondition, type ConditionNode } from './condition.js';
import { TrackIndex, type TrackSpec } from './tracks.js';

export type SegmentStatus = 'backfilling' | 'ready' | 'deleting';

/**
 * A backfill's steps (docs/segments.md, "Backfill"): `waiting` until every function has seen
 * the definition and the lake holds every event they applied without it; `seeding` the tracks
 * from the lake; `evaluating` every profile. Live writes evaluate the segment from `evaluating` on.
 */
export type BackfillPhase = 'waiting' | 'seeding' | 'evaluating';

/** What evaluation needs of a stored segment. */
export interface SegmentDefinition {
  readonly id: string;
  readonly version: number;
  readonly status: SegmentStatus;
  /** Set while backfilling. */
  readonly phase?: BackfillPhase;
  readonly condition: unknown;
}

/** What a segment's answer depends on: a write that changes none of these leaves the segment alone. */
export interface SegmentInputs {
  readonly traits: ReadonlySet<string>;
  readonly computed: boolean;
  readonly identifierTypes: ReadonlySet<string>;
  readonly tracks: ReadonlySet<string>;
}

export interface CompiledSegment {
  readonly id: string;
  readonly version: number;
  readonly node: ConditionNode;
  /** Its own inputs and those of the segments it names. */
  readonly inputs: SegmentInputs;
}

/** Every event condition of a node, and of the segments it names. */
function eventNodes(node: ConditionNode, conditionOf: (id: string) => ConditionNode | undefined, seen = new Set<string>()): Array<Extract<ConditionNode, { kind: 'event' }>> {
  switch (node.kind) {
    case 'all':
    case 'any':
      return node.of.flatMap((n) => eventNodes(n, conditionOf, seen));
    case 'not':
      return eventNodes(node.of, conditionOf, seen);
    case 'event':
      return [node];
    case 'segment': {
      const other = conditionOf(node.id);
      if (!other || seen.has(node.id)) return [];
      seen.add(node.id);
      return eventNodes(other, conditionOf, seen);
    }
    default:
      return [];
  }
}

function inputsOf(node: ConditionNode, conditionOf: (id: string) => ConditionNode | undefined): SegmentInputs {
  const traits = new Set<string>();
  const identifierTypes = new Set<string>();
  const tracks = new Set<string>();
  let computed = false;
  const seen = new Set<string>();
  const visit = (n: ConditionNode): void => {
    switch (n.kind) {
      case 'all':
      case 'any':
        n.of.forEach(visit);
        return;
      case 'not':
        visit(n.of);
        return;
      case 'trait':
        traits.add(n.name);
        return;
      case 'computed':
        computed = true;
        return;
      case 'identifier':
        identifierTypes.add(n.type);
        return;
      case 'event':
        tracks.add(n.key);
        return;
      case 'segment': {
        const other = conditionOf(n.id);
        if (other && !seen.has(n.id)) {
          seen.add(n.id);
          visit(other);
        }
      }
    }
  };
  visit(node);
  return { traits, computed, identifierTypes, tracks };
}

/**
 * The segments as every function sees them at one moment: which are evaluated, which tracks are
 * kept, and how far back each track must reach. Built from the stored definitions; pure.
 */
export class SegmentSet {
  /** Tracks to keep, for every segment not being deleted. */
  readonly tracking: TrackIndex;
  /** Segments live writes evaluate: ready ones, and backfills past seeding. */
  readonly evaluated: readonly CompiledSegment[];
  /** Stored definitions that no longer compile (the profile rules changed under them), with why. */
  readonly problems: ReadonlyArray<{ readonly id: string; readonly issues: readonly ValidationIssue[] }>;
  private readonly conditions = new Map<string, ConditionNode>();
  private readonly definitions = new Map<string, SegmentDefinition>();
  /** Per kept track: the longest window it is read through; Infinity when some condition reads all time. */
  private readonly horizons = new Map<string, number>();

  constructor(definitions: readonly SegmentDefinition[], config: ProfileConfig) {
    const problems: Array<{ id: string; issues: ValidationIssue[] }> = [];
    for (const definition of definitions) {
      this.definitions.set(definition.id, definition);
      if (definition.status === 'deleting') continue;
      const { node, issues } = parseCondition(definition.condition, config);
      if (node) this.conditions.set(definition.id, node);
      else problems.push({ id: definition.id, issues });
    }
    this.problems = problems;
    const conditionOf = (id: string): ConditionNode | undefined => this.conditions.get(id);
    const specs: TrackSpec[] = [];
    for (const node of this.conditions.values()) {
      for (const event of eventNodes(node, conditionOf)) {
        specs.push(event.track);
        this.horizons.set(event.key, Math.max(this.horizons.get(event.key) ?? 0, event.within ?? Number.POSITIVE_INFINITY));
      }
    }
    this.tracking = new TrackIndex(specs);
    this.evaluated = [...this.conditions]
      .filter(([id]) => {
        const d = this.definitions.get(id)!;
        return d.status === 'ready' || (d.status === 'backfilling' && d.phase === 'evaluating');
      })
      .map(([id, node]) => ({ id, version: this.definitions.get(id)!.version, node, inputs: inputsOf(node, conditionOf) }));
  }

  static empty(config: ProfileConfig): SegmentSet {
    return new SegmentSet([], config);
  }

  get size(): number {
    return this.definitions.size;
  }

  /** A segment's condition, for `{ "segment": id }`; undefined for one being deleted or unknown. */
  conditionOf(id: string): ConditionNode | undefined {
    return this.conditions.get(id);
  }

  definition(id: string): SegmentDefinition | undefined {
    return this.definitions.get(id);
  }

  /**
   * Whether existing memberships of a segment stay as they are: it exists, is not being deleted,
   * and is not evaluated right now (a changed segment still seeding its backfill).
   */
  holds(id: string): boolean {
    const d = this.definitions.get(id);
    return d !== undefined && d.status !== 'deleting' && !this.evaluated.some((s) => s.id === id);
  }

  /** How far back a kept track is read (ms, Infinity for all time); undefined for a track no segment keeps. */
  horizon(key: string): number | undefined {
    return this.horizons.get(key);
  }

  /** Event conditions of a segment and of those it names: what its backfill seeds. */
  eventConditions(id: string): Array<Extract<ConditionNode, { kind: 'event' }>> {
    const node = this.conditions.get(id);
    return node ? eventNodes(node, (other) => this.conditions.get(other)) : [];
  }
}

/**
 * Problems with the segments a condition names: ones that do not exist (or are being deleted),
 * and cycles. `definitions` maps each other segment to the segments it names.
 */
export function referenceProblems(
  id: string,
  references: ReadonlyArray<{ readonly id: string; readonly field: string }>,
  definitions: ReadonlyMap<string, { readonly references: readonly string[]; readonly deleting: boolean }>,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const ref of references) {
    if (ref.id === id) {
      issues.push({ field: ref.field, reason: 'names the segment itself: a segment cannot depend on its own membership' });
      continue;
    }
    const target = definitions.get(ref.id);
    if (!target || target.deleting) {
      issues.push({ field: ref.field, reason: `names segment ${JSON.stringify(ref.id)}, which does not exist` });
      continue;
    }
    const path = pathTo(ref.id, id, definitions);
    if (path) issues.push({ field: ref.field, reason: `makes a cycle: ${[id, ...path].join(' → ')}` });
  }
  return issues;
}

function pathTo(from: string, to: string, definitions: ReadonlyMap<string, { readonly references: readonly string[] }>, seen = new Set<string>()): string[] | undefined {
  if (from === to) return [to];
  if (seen.has(from)) return undefined;
  seen.add(from);
  for (const next of definitions.get(from)?.references ?? []) {
    const rest = pathTo(next, to, definitions, seen);
    if (rest) return [from, ...rest];
  }
  return undefined;
}

/** Segments that name `id`, directly or through others: a change to it changes them. */
export function dependentsOf(id: string, definitions: ReadonlyMap<string, { readonly references: readonly string[] }>): string[] {
  const out = new Set<string>();
  let frontier = [id];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const [other, { references }] of definitions) {
      if (!out.has(other) && other !== id && references.some((r) => frontier.includes(r))) {
        out.add(other);
        next.push(other);
      }
    }
    frontier = next;
  }
  return [...out];
}
