/**
 * A population whose true identity graph is known, messier than the benchmark's: people with
 * three devices joined through different identifiers (email on one, phone on another, a login on
 * the third), phones written in the formats people really use, aliases, wrong links an admin
 * splits, and events in shuffled order. Resolution is scored against the truth pair by pair.
 */

/** One SDK call: what a Segment or RudderStack client is asked to send. */
export interface PopulationCall {
  readonly call: 'identify' | 'track' | 'page' | 'alias';
  readonly message: Record<string, unknown>;
}

export interface PopulationSplit {
  /** Who the admin splits from (a profile reference for the API). */
  readonly ref: string;
  /** The identifier split off, as the admin types it. */
  readonly identifier: { readonly type: string; readonly value: string };
}

export interface IdentityPopulation {
  /** Everything sent before the admin splits, shuffled. */
  readonly before: readonly PopulationCall[];
  /** The splits an admin makes once `before` is resolved. */
  readonly splits: readonly PopulationSplit[];
  /** Sent after the splits: the same wrong links again, and their true owners showing up. */
  readonly after: readonly PopulationCall[];
  /** Each identifier, in canonical form (`type:value`), and the person it truly belongs to. */
  readonly truth: ReadonlyMap<string, string>;
  /** The profile configuration the population expects (national phone numbers are American). */
  readonly profileConfig: Readonly<Record<string, unknown>>;
}

/** mulberry32: a small seeded generator, so a population is the same on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], rand: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** A British London number and the ways people write it; its E.164 form first. */
function ukPhone(n: number): string[] {
  const local = String(1000 + (n % 9000)).padStart(4, '0');
  return [`+44207946${local}`, `+44 20 7946 ${local}`, `+44 (0)20 7946 ${local}`, `0044 20 7946 ${local}`, `+44-20-7946-${local}`, `+44 (0) 20 7946 ${local}`];
}

/** An American number and the ways people write it, national formats included; its E.164 form first. */
function usPhone(n: number): string[] {
  const exchange = String(200 + (Math.floor(n / 9000) % 700));
  const line = String(1000 + (n % 9000)).padStart(4, '0');
  return [`+1415${exchange}${line}`, `(415) ${exchange}-${line}`, `415-${exchange}-${line}`, `+1 415 ${exchange} ${line}`, `1-415-${exchange}-${line}`, `415.${exchange}.${line}`];
}

const pick = <T>(items: readonly T[], rand: () => number): T => items[Math.floor(rand() * items.length)]!;

/**
 * `people` people; about one in ten gets a stranger's phone linked to them by a wrong event,
 * which an admin then splits off; the stranger shows up afterwards with their own login.
 */
export function identityPopulation(options: { people: number; run: string; seed?: number }): IdentityPopulation {
  const rand = random(options.seed ?? 1);
  const truth = new Map<string, string>();
  const before: PopulationCall[] = [];
  const after: PopulationCall[] = [];
  const splits: PopulationSplit[] = [];
  const base = Date.parse('2026-11-01T08:00:00Z');
  let clock = 0;
  const at = (): string => new Date(base + (clock++ % 2_000_000) * 1000).toISOString();

  for (let p = 0; p < options.people; p++) {
    const person = `${options.run}-p${p}`;
    const userId = `u-${person}`;
    const email = `Person.${p}.${options.run}@Example.com`;
    const phones = p % 2 === 0 ? ukPhone(p) : usPhone(p);
    const devices = [1, 2, 3, 4].map((d) => `${person}-d${d}`);
    const withAlias = p % 3 === 0;
    const own = (type: string, value: string): void => void truth.set(`${type}:${value}`, person);
    own('user_id', userId);
    own('email', email.toLowerCase());
    own('phone', phones[0]!);
    for (const device of devices.slice(0, withAlias ? 4 : 3)) own('anonymous_id', device);

    const anonymous = (device: string, n: number): void => {
      for (let i = 0; i < n; i++) before.push({ call: 'page', message: { anonymousId: device, name: 'Home', timestamp: at() } });
    };
    // Device 1: browses, then gives an email (written with stray case and spaces).
    anonymous(devices[0]!, 2);
    before.push({ call: 'identify', message: { anonymousId: devices[0], traits: { email: pick([email, ` ${email.toUpperCase()} `, email.toLowerCase()], rand) }, timestamp: at() } });
    // Device 2: browses, then gives a phone, in one of the ways people write it.
    anonymous(devices[1]!, 2);
    before.push({ call: 'identify', message: { anonymousId: devices[1], traits: { phone: pick(phones.slice(1), rand) }, timestamp: at() } });
    // Device 3: logs in and shops.
    anonymous(devices[2]!, 1);
    before.push({ call: 'identify', message: { anonymousId: devices[2], userId, timestamp: at() } });
    before.push({ call: 'track', message: { anonymousId: devices[2], userId, event: 'Order Completed', properties: { revenue: 10 + (p % 40) }, timestamp: at() } });
    // The account: the login carries the email and the phone, in other forms than the devices gave.
    before.push({ call: 'identify', message: { userId, traits: { email: pick([email, email.toLowerCase()], rand), phone: pick(phones, rand) }, timestamp: at() } });
    if (withAlias) {
      anonymous(devices[3]!, 1);
      before.push({ call: 'alias', message: { userId, previousId: devices[3], timestamp: at() } });
    }

    if (p % 10 === 5) {
      // A stranger's phone typed into this person's account by mistake: a wrong link to undo.
      const stranger = `${person}-stranger`;
      const strangerPhones = p % 2 === 0 ? usPhone(p + 500_000) : ukPhone(p + 500_000);
      truth.set(`phone:${strangerPhones[0]!}`, stranger);
      truth.set(`user_id:u-${stranger}`, stranger);
      before.push({ call: 'identify', message: { userId, traits: { phone: pick(strangerPhones.slice(1), rand) }, timestamp: at() } });
      splits.push({ ref: `user_id:${encodeURIComponent(userId)}`, identifier: { type: 'phone', value: pick(strangerPhones, rand) } });
      // After the split: the same mistake again, and the stranger logging in with their phone.
      after.push({ call: 'identify', message: { userId, traits: { phone: pick(strangerPhones, rand) }, timestamp: at() } });
      after.push({ call: 'identify', message: { userId: `u-${stranger}`, traits: { phone: pick(strangerPhones, rand) }, timestamp: at() } });
    }
  }
  return { before: shuffle(before, rand), splits, after: shuffle(after, rand), truth, profileConfig: { phoneRegion: 'US' } };
}

export interface PairScore {
  /** Of the pairs of identifiers resolved to one profile, the share that truly belong to one person. */
  readonly precision: number;
  /** Of the pairs of identifiers that truly belong to one person, the share resolved to one profile. */
  readonly recall: number;
  readonly truePairs: number;
  readonly predictedPairs: number;
  readonly correctPairs: number;
  /** Identifiers no profile answers for. */
  readonly unresolved: number;
}

/**
 * Pairwise precision and recall of a resolution against the truth: every pair of identifiers
 * is either of one person or not, and either resolved to one profile or not.
 */
export function scorePairs(truth: ReadonlyMap<string, string>, resolved: ReadonlyMap<string, string | undefined>): PairScore {
  const keys = [...truth.keys()];
  let truePairs = 0;
  let predictedPairs = 0;
  let correctPairs = 0;
  const byPerson = new Map<string, number>();
  const byProfile = new Map<string, number>();
  const byBoth = new Map<string, number>();
  for (const key of keys) {
    const person = truth.get(key)!;
    const profile = resolved.get(key);
    byPerson.set(person, (byPerson.get(person) ?? 0) + 1);
    if (profile === undefined) continue;
    byProfile.set(profile, (byProfile.get(profile) ?? 0) + 1);
    byBoth.set(`${person}\u0000${profile}`, (byBoth.get(`${person}\u0000${profile}`) ?? 0) + 1);
  }
  const pairs = (n: number): number => (n * (n - 1)) / 2;
  for (const n of byPerson.values()) truePairs += pairs(n);
  for (const n of byProfile.values()) predictedPairs += pairs(n);
  for (const n of byBoth.values()) correctPairs += pairs(n);
  return {
    precision: predictedPairs === 0 ? 1 : correctPairs / predictedPairs,
    recall: truePairs === 0 ? 1 : correctPairs / truePairs,
    truePairs,
    predictedPairs,
    correctPairs,
    unresolved: keys.filter((key) => resolved.get(key) === undefined).length,
  };
}
