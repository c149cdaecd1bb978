import { describe, expect, it } from 'vitest';
import { datesBetween, eventDays, parsePrivacyRequest, PersonMatcher, PrivacyError, privacyHash, withoutRows } from '../../lambdas/domain/privacy.js';
import { nextStep, publicView, newPrivacyRequest } from '../../lambdas/domain/privacy-request.js';
import { defaultProfileConfig } from '../../lambdas/domain/profile-config.js';
import { memberCountDeltas } from '../../lambdas/use-cases/privacy-worker.js';
import { SuppressionFilter } from '../../lambdas/use-cases/suppression.js';
import { CountingTelemetry } from '../../lambdas/adapters/local/counting-telemetry.js';
import type { SuppressionList } from '../../lambdas/ports/privacy-store.js';
import type { VersionedProfile } from '../../lambdas/ports/profile-store.js';
import { collected } from '../helpers/events.js';
import { consentOf, consentsTo, mergeConsent } from '../../lambdas/domain/consent.js';
import { IdentityGraph } from '../../lambdas/domain/identity-graph.js';

const email = { type: 'email', value: 'ana@example.com' };

describe('privacy hashes and requests', () => {
  it('hashes an identifier with the salt: stable, different per salt, never the value', () => {
    const hash = privacyHash('salt-1', email);
    expect(hash).toBe(privacyHash('salt-1', { ...email }));
    expect(hash).not.toBe(privacyHash('salt-2', email));
    expect(hash).not.toContain('ana');
    expect(hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('reads a request with the identifier in canonical form, and names each field it refuses', () => {
    expect(parsePrivacyRequest({ type: 'erase', identifier: { type: 'Email', value: ' Ana@Example.com ' } }, defaultProfileConfig)).toEqual({ type: 'erase', identifier: email });
    const refused = (body: unknown): string[] => {
      try {
        parsePrivacyRequest(body, defaultProfileConfig);
      } catch (error) {
        expect(error).toBeInstanceOf(PrivacyError);
        return (error as PrivacyError).details.map((d) => d.field);
      }
      throw new Error('accepted');
    };
    expect(refused({ type: 'forget', identifier: email })).toEqual(['type']);
    expect(refused({ type: 'access' })).toEqual(['identifier']);
    expect(refused({ type: 'access', identifier: { type: 'email', value: 'nope' } })).toEqual(['identifier.value']);
    expect(refused({ type: 'access', identifier: { type: 'user_id', value: 'null' } })).toEqual(['identifier.value']);
  });

  it('walks each type through its steps, and never shows the working state', () => {
    const request = newPrivacyRequest('pr_1', 'erase', email, privacyHash('s', email), new Date(0));
    expect(request.step).toBe('resolve');
    expect(nextStep('erase', 'suppress')).toBe('settle');
    expect(nextStep('erase', 'verify')).toBe('done');
    expect(nextStep('access', 'export')).toBe('done');
    expect(JSON.stringify(publicView(request))).not.toContain('ana@example.com');
  });
});

describe('PersonMatcher', () => {
  const person = new PersonMatcher('s', defaultProfileConfig, [privacyHash('s', email), privacyHash('s', { type: 'anonymous_id', value: 'a1' })], ['p-ana']);

  it('matches events by the identifiers they carry, normalised as identity resolution does', () => {
    expect(person.matchesEvent(collected({ type: 'identify', userId: 'u9', traits: { email: 'ANA@example.com' } }))).toBe(true);
    expect(person.matchesEvent(collected({ type: 'alias', userId: 'u9', previousId: 'a1' }))).toBe(true);
    // Another person's event merely mentioning the address is not theirs.
    expect(person.matchesEvent(collected({ userId: 'bea', event: 'Referred', properties: { friend: 'ana@example.com' } }))).toBe(false);
  });

  it('reads refused payloads leniently, and lake columns by identifier or profile id', () => {
    expect(person.matchesPayload(JSON.stringify({ anonymousId: 'a1', event: 42 }))).toBe(true);
    expect(person.matchesPayload('{not json')).toBe(false);
    expect(person.matchesIdentifierText('email:ana@example.com')).toBe(true);
    expect(person.matchesIdentifierText('email:bea@example.com')).toBe(false);
    expect(person.hasProfile('p-ana')).toBe(true);
    expect(person.hasProfile(undefined)).toBe(false);
  });
});

describe('lake rewrites', () => {
  it('drops matching rows, keeps the rest and lines that are not JSON', () => {
    const lines = ['{"p":"ana"}', '{"p":"bea"}', 'garbage', '{"p":"ana"}', ''];
    expect(withoutRows(lines, (row) => row.p === 'ana')).toEqual({ kept: ['{"p":"bea"}', 'garbage'], removed: 2 });
  });

  it("finds a person's event partitions from the profile: the bucketed days exactly, every day before them", () => {
    const day = (d: string) => Date.parse(`${d}T12:00:00Z`);
    expect(eventDays({ firstSeen: day('2026-11-02'), lastSeen: day('2026-11-20'), days: { '2026-11-02': 1, '2026-11-20': 3 } }, 90)).toEqual(['2026-11-02', '2026-11-20']);
    // Bucketed for 3 days only: the days before the buckets are all read.
    expect(eventDays({ firstSeen: day('2026-11-14'), lastSeen: day('2026-11-20'), days: { '2026-11-20': 3 } }, 3)).toEqual(['2026-11-14', '2026-11-15', '2026-11-16', '2026-11-17', '2026-11-20']);
  });

  it('lists the dates of a range, inclusive', () => {
    expect(datesBetween(Date.parse('2026-10-30T23:00:00Z'), Date.parse('2026-11-01T01:00:00Z'))).toEqual(['2026-10-30', '2026-10-31', '2026-11-01']);
    expect(datesBetween(Number.POSITIVE_INFINITY, 0)).toEqual([]);
  });
});

describe('member counts of erased profiles', () => {
  it('takes back delivered memberships only: an entry still in the outbox was never counted, an exit never subtracted', () => {
    const profile = (members: Record<string, number>, outbox: Array<[string, string]>): VersionedProfile =>
      ({ id: 'p', version: 1, state: { segments: { members, tracks: {} } }, outbox: outbox.map(([kind, segmentId], i) => ({ id: String(i), kind, profileId: 'p', at: 0, detail: { segmentId } })) }) as unknown as VersionedProfile;
    const deltas = memberCountDeltas([profile({ vip: 1, new: 2 }, [['Segment Entered', 'new'], ['Segment Exited', 'gone']])]);
    expect(deltas).toEqual(new Map([['vip', -1], ['gone', -1]]));
  });
});

describe('SuppressionFilter', () => {
  const list = (hashes: string[]): SuppressionList & { reads: number } => {
    const l = {
      reads: 0,
      add: async () => undefined,
      remove: async () => undefined,
      all: async () => hashes.map((hash) => ({ hash, requestId: 'r', at: 0 })),
      hashes: async () => {
        l.reads++;
        return new Set(hashes);
      },
    };
    return l;
  };

  it('costs nothing while nobody is suppressed: no salt, no hashing', async () => {
    const noSalt = { salt: () => Promise.reject(new Error('salt fetched')) };
    const filter = new SuppressionFilter(list([]), noSalt, defaultProfileConfig, { maxAgeMs: 1_000, telemetry: new CountingTelemetry(), stage: 'intake' });
    const events = [collected({ userId: 'ana' })];
    expect(await filter.keep(events, (e, m) => m.matchesEvent(e))).toEqual(events);
  });

  it('drops suppressed people, counts them, and reads the list again only after its maximum age', async () => {
    const telemetry = new CountingTelemetry();
    const suppressed = list([privacyHash('s', { type: 'user_id', value: 'ana' })]);
    const filter = new SuppressionFilter(suppressed, { salt: async () => 's' }, defaultProfileConfig, { maxAgeMs: 60_000, telemetry, stage: 'resolver' });
    const kept = await filter.keep([collected({ userId: 'ana' }), collected({ userId: 'bea' })], (e, m) => m.matchesEvent(e));
    expect(kept.map((e) => e.userId)).toEqual(['bea']);
    await Promise.all([filter.matcher(), filter.matcher()]);
    expect(suppressed.reads).toBe(1);
    expect(telemetry.snapshot()['EventsSuppressed{stage=resolver}']).toBe(1);
  });
});

describe('consent', () => {
  const given = (preferences: unknown, at: string) => collected({ userId: 'ana', context: { consent: { categoryPreferences: preferences } }, at });

  it("reads Segment's categoryPreferences, booleans only", () => {
    expect(consentOf(given({ Advertising: true, Analytics: false, Junk: 'yes' }, '2026-11-20T10:00:00Z'), 5)).toEqual({ Advertising: { granted: true, at: 5 }, Analytics: { granted: false, at: 5 } });
    expect(consentOf(collected({ userId: 'ana' }), 5)).toEqual({});
  });

  it('keeps the latest answer per purpose whatever the order events arrive in; a refusal wins a tie', () => {
    const early = { Advertising: { granted: true, at: 1 } };
    const late = { Advertising: { granted: false, at: 2 } };
    expect(mergeConsent(mergeConsent(undefined, early), late)).toEqual(late);
    expect(mergeConsent(mergeConsent(undefined, late), early)).toEqual(late);
    expect(mergeConsent({ Ads: { granted: true, at: 3 } }, { Ads: { granted: false, at: 3 } })).toEqual({ Ads: { granted: false, at: 3 } });
    expect(consentsTo(late, ['Advertising'])).toBe(false);
    expect(consentsTo({ Advertising: { granted: true, at: 2 } }, ['Advertising', 'Email'])).toBe(false);
    expect(consentsTo(undefined, [])).toBe(true);
  });

  it('is kept on the profile with the time it was set, through merges', () => {
    const graph = new IdentityGraph(defaultProfileConfig, Date.parse('2026-11-20T12:00:00Z'));
    graph.apply(collected({ anonymousId: 'a1', context: { consent: { categoryPreferences: { Advertising: true } } }, at: '2026-11-20T10:00:00Z' }));
    graph.apply(given({ Advertising: false }, '2026-11-20T11:00:00Z'));
    graph.apply(collected({ type: 'identify', userId: 'ana', anonymousId: 'a1', at: '2026-11-20T11:30:00Z' }));
    const [profile] = graph.liveProfiles();
    expect(graph.liveProfiles()).toHaveLength(1);
    expect(profile!.consent).toEqual({ Advertising: { granted: false, at: Date.parse('2026-11-20T11:00:00Z') } });
  });
});
