/**
 * A workload whose true outcome is known: people who browse anonymously on two devices, sign up
 * on the first and log in on the second (so their profiles merge), with known event counts.
 */
export interface ExpectedPerson {
  readonly userId: string;
  readonly devices: readonly string[];
  readonly email: string;
  /** Expected `computed.event_counts`: track events by name, others as `$type`. */
  readonly eventCounts: Readonly<Record<string, number>>;
}

export interface PeopleWorkload {
  readonly events: ReadonlyArray<Record<string, unknown>>;
  readonly people: readonly ExpectedPerson[];
  /** The anonymousId prefix shared by every event of this workload, for lake queries. */
  readonly prefix: string;
}

const TrackNames = ['Product Viewed', 'Product Added', 'Order Completed'] as const;

export function peopleWorkload(run: string, peopleCount: number, eventsPerPerson: number): PeopleWorkload {
  const events: Array<Record<string, unknown>> = [];
  const people: ExpectedPerson[] = [];
  const prefix = `w-${run}-`;
  let n = 0;
  const base = Date.parse('2026-11-20T08:00:00Z');
  for (let p = 0; p < peopleCount; p++) {
    const devices = [`${prefix}${p}-a`, `${prefix}${p}-b`];
    const userId = `u-${run}-${p}`;
    const email = `person${p}.${run}@example.com`;
    const counts: Record<string, number> = {};
    const add = (event: Record<string, unknown>, name: string): void => {
      counts[name] = (counts[name] ?? 0) + 1;
      events.push({ ...event, messageId: `${run}-${p}-${n}`, timestamp: new Date(base + n * 1000).toISOString() });
      n++;
    };
    for (let i = 0; i < eventsPerPerson; i++) {
      const device = devices[i < eventsPerPerson / 2 ? 0 : 1]!;
      if (i === 1 || i === Math.ceil(eventsPerPerson / 2)) {
        add({ type: 'identify', anonymousId: device, userId, traits: { email, plan: i === 1 ? 'free' : 'pro' } }, '$identify');
        continue;
      }
      const name = TrackNames[(p + i) % TrackNames.length]!;
      const identified = i > 1 && device === devices[0];
      add(
        {
          type: 'track',
          event: name,
          anonymousId: device,
          ...(identified ? { userId } : {}),
          properties: name === 'Order Completed' ? { revenue: 10 + (i % 7), currency: 'USD' } : { sku: `sku-${i % 5}` },
        },
        name,
      );
    }
    people.push({ userId, devices, email, eventCounts: counts });
  }
  return { events, people, prefix };
}

/** Interleaves the people's events the way traffic arrives, deterministically. */
export function interleaved<T>(items: readonly T[], stride = 7): T[] {
  const out: T[] = [];
  for (let start = 0; start < stride; start++) for (let i = start; i < items.length; i += stride) out.push(items[i]!);
  return out;
}
