import type { ProfileConfig } from '../profile-config.js';
import { RevenueScale, type ProfileState } from '../profile.js';
import { money, windowCounts } from '../profile-view.js';
import type { ConditionNode } from './condition.js';
import { entriesIn, valueAtPath } from './tracks.js';
import { compare, readAs, timeBreakpoints } from './values.js';

const DayMs = 86_400_000;

/** What a condition is evaluated against: a profile, the rules that computed it, and the other segments' conditions. */
export interface Subject {
  readonly profile: ProfileState;
  readonly config: ProfileConfig;
  /** Another segment's condition, for `{ "segment": id }`; undefined when it does not exist. */
  readonly segment: (id: string) => ConditionNode | undefined;
}

/** A plain trait's value: the trait, then the rest of the path into it; null is missing. */
export function traitValue(profile: ProfileState, name: string, path: readonly string[]): unknown {
  const trait = profile.traits[name];
  if (!trait) return undefined;
  const value = valueAtPath(trait.value, path);
  return value === null ? undefined : value;
}

const windowDays = (name: string): number | undefined => {
  const match = /^(?:events|orders)_last_(\d+)d$/.exec(name);
  return match ? Number(match[1]) : undefined;
};

/** A computed trait as a number (times as epoch ms), at `now`; undefined when the profile has none. */
export function computedValue(name: string, profile: ProfileState, config: ProfileConfig, now: number): number | undefined {
  const c = profile.computed;
  const finite = (n: number | undefined): number | undefined => (n !== undefined && Number.isFinite(n) ? n : undefined);
  switch (name) {
    case 'first_seen':
      return finite(c.firstSeen);
    case 'last_seen':
      return finite(c.lastSeen);
    case 'orders_count':
      return c.orders;
    case 'total_revenue':
      return money(c.revenueUnits);
    case 'average_order_value':
      return c.orders > 0 ? money(c.revenueUnits / c.orders) : undefined;
    case 'last_order_at':
      return finite(c.lastOrderAt);
  }
  const days = windowDays(name);
  if (days === undefined || !config.windows.includes(days)) return undefined;
  const counts = windowCounts(profile, days, now);
  return name.startsWith('events') ? counts.events : counts.orders;
}

/** Sums in units of 1/10,000, so a sum is exact and the same in any order (as in the SQL). */
export const sumUnits = (value: number): number => Math.round(value * RevenueScale);

function aggregateOf(node: Extract<ConditionNode, { kind: 'event' }>, profile: ProfileState, now: number): number | undefined {
  const entries = entriesIn(profile.segments?.tracks[node.key], now, node.within);
  switch (node.aggregate) {
    case 'count':
      return entries.length;
    case 'sum':
      return entries.reduce((units, e) => units + sumUnits(e[2] ?? 0), 0) / RevenueScale;
    case 'min':
      return entries.length === 0 ? undefined : Math.min(...entries.map((e) => e[2] ?? 0));
    case 'max':
      return entries.length === 0 ? undefined : Math.max(...entries.map((e) => e[2] ?? 0));
  }
}

/** Whether the profile meets the condition at the instant `now`. */
export function evaluate(node: ConditionNode, subject: Subject, now: number): boolean {
  switch (node.kind) {
    case 'all':
      return node.of.every((n) => evaluate(n, subject, now));
    case 'any':
      return node.of.some((n) => evaluate(n, subject, now));
    case 'not':
      return !evaluate(node.of, subject, now);
    case 'trait':
      return compare(node.comparison, readAs(node.comparison.operand, traitValue(subject.profile, node.name, node.path)), now);
    case 'computed':
      return compare(node.comparison, computedValue(node.name, subject.profile, subject.config, now), now);
    case 'identifier':
      return subject.profile.identifiers.some((id) => id.type === node.type);
    case 'segment': {
      const other = subject.segment(node.id);
      return other !== undefined && evaluate(other, subject, now);
    }
    case 'event':
      return compare(node.comparison, aggregateOf(node, subject.profile, now), now);
  }
}

/**
 * Instants after `now` at which the condition's answer may change with no new event: an event
 * entering or leaving a window, a day leaving `events_last_Nd`, a time passing `{ ago }`.
 */
export function breakpoints(node: ConditionNode, subject: Subject, now: number, out: number[] = []): number[] {
  const { profile, config } = subject;
  switch (node.kind) {
    case 'all':
    case 'any':
      for (const n of node.of) breakpoints(n, subject, now, out);
      break;
    case 'not':
      breakpoints(node.of, subject, now, out);
      break;
    case 'trait':
      if (node.comparison.operand.type === 'time') {
        out.push(...timeBreakpoints(node.comparison, readAs(node.comparison.operand, traitValue(profile, node.name, node.path)) as number | undefined));
      }
      break;
    case 'computed': {
      const days = windowDays(node.name);
      if (days !== undefined) {
        for (const day of Object.keys(profile.computed.days)) {
          const start = Date.parse(day);
          out.push(start, start + days * DayMs);
        }
      } else if (node.comparison.operand.type === 'time') {
        out.push(...timeBreakpoints(node.comparison, computedValue(node.name, profile, config, now)));
      }
      break;
    }
    case 'segment': {
      const other = subject.segment(node.id);
      if (other) breakpoints(other, subject, now, out);
      break;
    }
    case 'event':
      for (const [at] of profile.segments?.tracks[node.key] ?? []) {
        out.push(at);
        if (node.within !== undefined) out.push(at + node.within);
      }
      break;
    case 'identifier':
      break;
  }
  return out;
}

/** Breakpoints examined when looking for the next change; past them, the profile is looked at again then. */
export const MaxBreakpointsExamined = 64;

/**
 * The first instant after `now` at which the answer differs from the answer at `now`, if the
 * profile gets no new input; undefined when it never will. When the answer holds through the
 * first {@link MaxBreakpointsExamined} breakpoints, the last of them is returned: nothing changes
 * before it, and the profile is looked at again then.
 */
export function nextChange(node: ConditionNode, subject: Subject, now: number): number | undefined {
  const points = [...new Set(breakpoints(node, subject, now))].filter((t) => t > now).sort((a, b) => a - b);
  if (points.length === 0) return undefined;
  const current = evaluate(node, subject, now);
  const examined = points.slice(0, MaxBreakpointsExamined);
  for (const t of examined) if (evaluate(node, subject, t) !== current) return t;
  return points.length > MaxBreakpointsExamined ? examined.at(-1) : undefined;
}
