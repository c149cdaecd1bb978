import type { ProfileConfig } from './profile-config.js';
import { parseIdentifierKey, type Identifier } from './identifiers.js';
import { RevenueScale, type LinkReason, type LinkRule, type ProfileState } from './profile.js';

/** How an identifier got on the profile, as the API shows it. */
export interface LinkedByView {
  readonly rule: LinkRule;
  readonly messageId?: string;
  /** ISO time: the event's for a link or merge, the operation's for a split or a recovery. */
  readonly at: string;
  /** The identifier the event carried with this one. */
  readonly with?: Identifier;
  /** The profile it came from (a merge or a split). */
  readonly from?: string;
}

export interface IdentifierView extends Identifier {
  /** Absent for identifiers linked before links were recorded. */
  readonly linkedBy?: LinkedByView;
}

/** The profile as the API returns it: plain trait values, computed traits with windows slid to `now`. */
export interface ProfileView {
  readonly id: string;
  readonly identifiers: readonly IdentifierView[];
  readonly traits: Readonly<Record<string, unknown>>;
  readonly computed: ComputedView;
  /** Segments the profile is a member of, by id, with when it entered each. */
  readonly segments: ReadonlyArray<{ readonly id: string; readonly since: string }>;
  /** Consent per purpose, with when it was given or withdrawn; absent until an event carried consent. */
  readonly consent?: Readonly<Record<string, { readonly granted: boolean; readonly at: string }>>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Computed traits as the API names them; `events_last_<N>d` and `orders_last_<N>d` for each configured window. */
export interface ComputedView {
  readonly first_seen: string | null;
  readonly last_seen: string | null;
  readonly event_counts: Readonly<Record<string, number>>;
  readonly orders_count: number;
  readonly total_revenue: number;
  readonly average_order_value: number | null;
  readonly last_order_at: string | null;
  readonly [window: `${'events' | 'orders'}_last_${number}d`]: number;
}

const iso = (time: number): string | null => (Number.isFinite(time) ? new Date(time).toISOString() : null);
/** Revenue units as money, rounded to cents. */
export const money = (units: number): number => Math.round(units / (RevenueScale / 100)) / 100;

/** Sums the day buckets inside the last `days` days, today included. */
export function windowCounts(profile: ProfileState, days: number, now: number): { events: number; orders: number } {
  const oldest = new Date(now - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  const today = new Date(now).toISOString().slice(0, 10);
  let events = 0;
  let orders = 0;
  for (const [day, bucket] of Object.entries(profile.computed.days)) {
    if (day < oldest || day > today) continue;
    events += bucket[0];
    orders += bucket[1];
  }
  return { events, orders };
}

export function computedTraits(profile: ProfileState, config: ProfileConfig, now: number): ComputedView {
  const c = profile.computed;
  const windows: Record<`${'events' | 'orders'}_last_${number}d`, number> = {};
  for (const days of config.windows) {
    const counts = windowCounts(profile, days, now);
    windows[`events_last_${days}d`] = counts.events;
    windows[`orders_last_${days}d`] = counts.orders;
  }
  return {
    first_seen: iso(c.firstSeen),
    last_seen: iso(c.lastSeen),
    event_counts: c.eventCounts,
    orders_count: c.orders,
    total_revenue: money(c.revenueUnits),
    average_order_value: c.orders > 0 ? money(c.revenueUnits / c.orders) : null,
    last_order_at: c.lastOrderAt === undefined ? null : iso(c.lastOrderAt),
    ...windows,
  };
}

export function profileView(profile: ProfileState, config: ProfileConfig, now: number): ProfileView {
  const traits: Record<string, unknown> = {};
  for (const [name, trait] of Object.entries(profile.traits)) if (trait.value !== null) traits[name] = trait.value;
  return {
    id: profile.id,
    identifiers: profile.identifiers.map(({ type, value, by }) => ({ type, value, ...(by ? { linkedBy: linkedByView(by) } : {}) })),
    traits,
    computed: computedTraits(profile, config, now),
    segments: Object.entries(profile.segments?.members ?? {})
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([id, since]) => ({ id, since: new Date(since).toISOString() })),
    ...(profile.consent ? { consent: Object.fromEntries(Object.entries(profile.consent).map(([purpose, c]) => [purpose, { granted: c.granted, at: new Date(c.at).toISOString() }])) } : {}),
    createdAt: new Date(profile.createdAt).toISOString(),
    updatedAt: new Date(profile.updatedAt).toISOString(),
  };
}

export function linkedByView(by: LinkReason): LinkedByView {
  const withIdentifier = by.with === undefined ? undefined : parseIdentifierKey(by.with);
  return {
    rule: by.rule,
    ...(by.messageId === undefined ? {} : { messageId: by.messageId }),
    at: new Date(by.at).toISOString(),
    ...(withIdentifier ? { with: withIdentifier } : {}),
    ...(by.from === undefined ? {} : { from: by.from }),
  };
}

/**
 * A link, as `/merges` lists it beside merges, drops and splits: one per identifier on the
 * profile, so every identifier says how it got there, even one linked within a single batch.
 */
export interface LinkedEntry {
  readonly kind: 'linked';
  readonly profileId: string;
  readonly identifier: Identifier;
  readonly rule: LinkRule;
  readonly messageId?: string;
  /** Epoch milliseconds, like the other history entries. */
  readonly at: number;
  readonly with?: Identifier;
  readonly from?: string;
}

export function linkEntries(profile: ProfileState): LinkedEntry[] {
  return profile.identifiers.flatMap(({ type, value, by }) => {
    if (!by) return [];
    const withIdentifier = by.with === undefined ? undefined : parseIdentifierKey(by.with);
    return [
      {
        kind: 'linked' as const,
        profileId: profile.id,
        identifier: { type, value },
        rule: by.rule,
        ...(by.messageId === undefined ? {} : { messageId: by.messageId }),
        at: by.at,
        ...(withIdentifier ? { with: withIdentifier } : {}),
        ...(by.from === undefined ? {} : { from: by.from }),
      },
    ];
  });
}
