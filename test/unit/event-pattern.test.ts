import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventPatternProblems, matchesEventPattern } from '../../lambdas/domain/event-pattern.js';

/** An event as EventBridge delivers one, shaped like the examples in AWS's EventBridge guide. */
const ec2 = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: {
    'instance-id': 'i-1234567890abcdef0',
    state: 'terminated',
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.123',
    FileName: 'Photo.PNG',
    FilePath: '/usr/lib/node',
    'responsive-elements': [{ name: 'a', x: 1 }, { name: 'b', x: 2 }],
    empty: '',
    nothing: null,
    flags: ['alpha', 'beta'],
    nested: { deep: { value: 'here' } },
  },
};

const cases: Array<[string, unknown, boolean]> = [
  ['exact values (OR within a field, AND across fields)', { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification', 'other'] }, true],
  ['a value not listed', { source: ['aws.s3'] }, false],
  ['nested detail paths', { detail: { nested: { deep: { value: ['here'] } } } }, true],
  ['nested paths that do not match', { detail: { nested: { deep: { value: ['there'] } } } }, false],
  ['a missing field never matches a value', { detail: { missing: ['x'] } }, false],
  ['numbers compare as numbers', { detail: { 'c-count': [5.0] } }, true],
  ['a number is not its text', { detail: { 'c-count': ['5'] } }, false],
  ['null matches null', { detail: { nothing: [null] } }, true],
  ['empty string matches empty string', { detail: { empty: [''] } }, true],
  ['an array in the event matches when any element does', { resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'] }, true],
  ['arrays of values in the event', { detail: { flags: ['beta'] } }, true],
  ['prefix', { time: [{ prefix: '2017-12-22' }] }, true],
  ['prefix that does not match', { region: [{ prefix: 'eu-' }] }, false],
  ['prefix ignoring case', { detail: { state: [{ prefix: { 'equals-ignore-case': 'TERM' } }] } }, true],
  ['suffix', { detail: { FileName: [{ suffix: '.PNG' }] } }, true],
  ['suffix is case-sensitive', { detail: { FileName: [{ suffix: '.png' }] } }, false],
  ['suffix ignoring case', { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } }, true],
  ['equals-ignore-case', { detail: { state: [{ 'equals-ignore-case': 'TERMINATED' }] } }, true],
  ['wildcard', { detail: { FilePath: [{ wildcard: '*/lib/*' }] } }, true],
  ['wildcard anchored at both ends', { detail: { FilePath: [{ wildcard: 'lib/*' }] } }, false],
  ['anything-but a string', { detail: { state: [{ 'anything-but': 'initializing' }] } }, true],
  ['anything-but the value itself', { detail: { state: [{ 'anything-but': 'terminated' }] } }, false],
  ['anything-but a number', { detail: { 'c-count': [{ 'anything-but': 123 }] } }, true],
  ['anything-but a list', { detail: { state: [{ 'anything-but': ['stopped', 'terminated'] }] } }, false],
  ['anything-but a prefix', { region: [{ 'anything-but': { prefix: 'us-' } }] }, false],
  ['anything-but a suffix', { detail: { FileName: [{ 'anything-but': { suffix: '.png' } }] } }, true],
  ['anything-but ignoring case', { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['TERMINATED'] } }] } }, false],
  ['anything-but a wildcard', { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } }, false],
  ['anything-but never matches a missing field', { detail: { missing: [{ 'anything-but': 'x' }] } }, false],
  ['numeric range', { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, true],
  ['numeric range excluded', { detail: { 'd-count': [{ numeric: ['>', 10] }], 'x-limit': [{ numeric: ['=', 3.018e2] }] } }, false],
  ['numeric equals', { detail: { 'x-limit': [{ numeric: ['=', 301.8] }] } }, true],
  ['numeric on text never matches', { detail: { state: [{ numeric: ['>', 0] }] } }, false],
  ['exists', { detail: { state: [{ exists: true }] } }, true],
  ['exists false on a missing field', { detail: { 'no-such-field': [{ exists: false }] } }, true],
  ['exists false on a present field', { detail: { state: [{ exists: false }] } }, false],
  ['exists works on leaves only', { detail: { nested: [{ exists: true }] } }, false],
  ['cidr', { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }, true],
  ['cidr outside', { detail: { 'source-ip': [{ cidr: '10.0.1.0/24' }] } }, false],
  ['$or: any alternative', { detail: { $or: [{ 'c-count': [{ numeric: ['>', 10] }] }, { 'd-count': [3] }] } }, true],
  ['$or: none', { detail: { $or: [{ 'c-count': [{ numeric: ['>', 10] }] }, { 'd-count': [4] }] } }, false],
  ['$or at the top with the rest', { source: ['aws.ec2'], $or: [{ region: ['eu-west-1'] }, { detail: { state: ['terminated'] } }] }, true],
  ['objects inside arrays of the event', { detail: { 'responsive-elements': { name: ['b'] } } }, true],
  ['a CDP activation pattern', { 'detail-type': ['Segment Entered', 'Segment Exited'], detail: { segmentId: ['vip'] } }, false],
];

describe('EventBridge event patterns', () => {
  it.each(cases)('%s', (_name, pattern, expected) => {
    expect(eventPatternProblems(pattern)).toEqual([]);
    expect(matchesEventPattern(pattern, ec2)).toBe(expected);
  });

  it('matches the CDP activation event a destination asks for', () => {
    const entered = { source: 'cdp', 'detail-type': 'Segment Entered', detail: { schemaVersion: 1, segmentId: 'vip', profileId: 'p1' } };
    expect(matchesEventPattern({ 'detail-type': ['Segment Entered', 'Segment Exited'], detail: { segmentId: ['vip'] } }, entered)).toBe(true);
    expect(matchesEventPattern({ 'detail-type': ['Segment Exited'] }, entered)).toBe(false);
  });

  it('refuses malformed patterns with the path of each problem', () => {
    expect(eventPatternProblems([])).toEqual([{ field: 'pattern', reason: expect.stringContaining('object') as string }]);
    expect(eventPatternProblems({})).toEqual([{ field: 'pattern', reason: expect.stringContaining('at least one') as string }]);
    expect(eventPatternProblems({ source: 'cdp' }).map((i) => i.field)).toEqual(['pattern.source']);
    expect(eventPatternProblems({ source: [] }).map((i) => i.field)).toEqual(['pattern.source']);
    expect(eventPatternProblems({ detail: { n: [{ numeric: ['>', 'x'] }], m: [{ bogus: 1 }], p: [{ prefix: 3 }] } }).map((i) => i.field)).toEqual([
      'pattern.detail.n[0].numeric',
      'pattern.detail.m[0]',
      'pattern.detail.p[0].prefix',
    ]);
    expect(eventPatternProblems({ $or: [{ a: ['x'] }] }).map((i) => i.field)).toEqual(['pattern.$or']);
    expect(eventPatternProblems({ a: [{ 'anything-but': { prefix: 1 } }], b: [{ cidr: 'nope' }], c: [{ exists: 'yes' }] }).map((i) => i.field)).toEqual([
      'pattern.a[0].anything-but',
      'pattern.b[0].cidr',
      'pattern.c[0].exists',
    ]);
  });

  it('never throws, whatever the JSON of the event and the pattern', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (pattern, event) => {
        expect(typeof matchesEventPattern(pattern, event)).toBe('boolean');
        expect(Array.isArray(eventPatternProblems(pattern))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('an event matches a pattern of its own values', () => {
    const leaf = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null));
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }).filter((k) => k !== '$or'), leaf, { minKeys: 1 }), (event) => {
        const pattern = Object.fromEntries(Object.entries(event).map(([k, v]) => [k, [v]]));
        expect(matchesEventPattern(pattern, event)).toBe(true);
      }),
    );
  });
});
