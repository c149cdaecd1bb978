import { describe, expect, it } from 'vitest';
import { activationEvent, isActivationKind } from '../../lambdas/domain/activation-events.js';
import { matchesEventPattern } from '../../lambdas/domain/event-pattern.js';
import { membershipChangeId, SegmentEntered } from '../../lambdas/domain/segments/membership.js';

const AT = Date.parse('2026-11-20T10:00:00.000Z');
const profile = {
  identifiers: [{ type: 'user_id', value: 'u1', since: AT }, { type: 'email', value: 'ana@example.com', since: AT }],
  traits: { email: { value: 'ana@example.com', at: AT }, plan: { value: 'pro', at: AT }, phone: { value: null, at: AT } },
};

describe('activation events', () => {
  const change = { id: membershipChangeId('p1', 'vip', SegmentEntered, AT), kind: SegmentEntered, profileId: 'p1', at: AT, detail: { segmentId: 'vip', segmentVersion: 3 } };

  it('builds Segment Entered with the contract fields, the segment name and only the traits asked for', () => {
    const event = activationEvent(change, { profile, segmentNames: new Map([['vip', 'Very important']]), traits: ['plan', 'phone', 'missing'] });
    expect(event).toEqual({
      source: 'cdp',
      'detail-type': 'Segment Entered',
      time: '2026-11-20T10:00:00.000Z',
      detail: {
        schemaVersion: 1,
        eventId: change.id,
        profileId: 'p1',
        at: '2026-11-20T10:00:00.000Z',
        identifiers: [{ type: 'user_id', value: 'u1' }, { type: 'email', value: 'ana@example.com' }],
        segmentId: 'vip',
        segmentName: 'Very important',
        segmentVersion: 3,
        traits: { plan: 'pro' },
      },
    });
    // The same change always makes the same event id, whatever the destination asks for.
    expect(activationEvent(change, { profile }).detail.eventId).toBe(event.detail.eventId);
    expect(activationEvent(change, { profile }).detail.traits).toEqual({});
  });

  it('keeps the fields of other kinds, and the common fields cannot be overwritten by them', () => {
    const merged = { id: 'm1', kind: 'Profile Merged', profileId: 'p1', at: AT, detail: { absorbedProfileId: 'p2', reason: { rule: 'identify' }, profileId: 'spoofed' } };
    const event = activationEvent(merged, { profile });
    expect(event.detail).toMatchObject({ absorbedProfileId: 'p2', reason: { rule: 'identify' }, profileId: 'p1', eventId: 'm1', schemaVersion: 1 });
    expect(isActivationKind('Profile Merged')).toBe(true);
    expect(isActivationKind('Tier Changed')).toBe(false);
  });

  it('is what a destination pattern from the contract matches', () => {
    const event = activationEvent(change, { profile });
    expect(matchesEventPattern({ 'detail-type': ['Segment Entered', 'Segment Exited'], detail: { segmentId: ['vip'] } }, event)).toBe(true);
    expect(matchesEventPattern({ source: ['cdp'], detail: { identifiers: { type: ['email'] } } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { segmentId: ['other'] } }, event)).toBe(false);
  });
});
