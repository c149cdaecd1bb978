import { describe, expect, it } from 'vitest';
import { defaultProfileConfig as config } from '../../lambdas/domain/profile-config.js';
import { parseCondition, parseSegmentBody, SegmentLimits, type ConditionNode } from '../../lambdas/domain/segments/condition.js';
import { parseDuration } from '../../lambdas/domain/segments/duration.js';
import { dependentsOf, referenceProblems } from '../../lambdas/domain/segments/segment-set.js';

const problems = (condition: unknown): Array<{ field: string; reason: string }> => parseCondition(condition, config).issues;
const fieldsOf = (condition: unknown): string[] => problems(condition).map((i) => i.field);
const node = (condition: unknown): ConditionNode => {
  const { node, issues } = parseCondition(condition, config);
  expect(issues).toEqual([]);
  return node!;
};

describe('durations', () => {
  it('reads days, hours, minutes and seconds', () => {
    expect(parseDuration('P30D')).toBe(30 * 86_400_000);
    expect(parseDuration('PT30M')).toBe(1_800_000);
    expect(parseDuration('PT20S')).toBe(20_000);
    expect(parseDuration('P1DT12H')).toBe(36 * 3_600_000);
    expect(parseDuration('PT0.5S')).toBe(500);
  });

  it.each(['', 'P', 'PT', 'P1M', 'P1Y', 'P1W', '30D', 'P-1D', 'P0D', 'PT1H30', 'p1d', 'P99999D'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('the segment body', () => {
  it('accepts the issue examples', () => {
    const cushion = parseSegmentBody(
      {
        name: 'Cushion, no cover',
        description: 'bought a cushion in the last 30 days, no cover since',
        condition: {
          all: [
            { event: 'Order Completed', where: [{ property: 'category', op: 'eq', value: 'cushion' }], within: 'P30D', count: { op: 'gte', value: 1 } },
            { not: { event: 'Order Completed', where: [{ property: 'category', op: 'eq', value: 'cover' }], within: 'P30D' } },
          ],
        },
      },
      config,
    );
    expect(cushion.ok).toBe(true);
    const vip = parseSegmentBody({ name: 'VIP', condition: { event: 'Order Completed', within: 'P90D', sum: { property: 'revenue', op: 'gt', value: 500 } } }, config);
    expect(vip.ok).toBe(true);
    const lapsed = parseSegmentBody({ name: 'Lapsed', condition: { computed: 'last_order_at', op: 'lt', value: { ago: 'P60D' } } }, config);
    expect(lapsed.ok).toBe(true);
  });

  it('reports every problem of the envelope, each on its field', () => {
    const result = parseSegmentBody({ name: '', description: 5, extra: true }, config);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues.map((i) => i.field)).toEqual(['extra', 'name', 'description', 'condition']);
    expect(parseSegmentBody([], config)).toMatchObject({ ok: false, issues: [{ field: 'body' }] });
    expect(parseSegmentBody({ name: 'x'.repeat(SegmentLimits.maxNameLength + 1), condition: { identifier: 'email' } }, config)).toMatchObject({ ok: false, issues: [{ field: 'name' }] });
  });
});

describe('condition errors name the JSON path and the reason', () => {
  it.each([
    ['not an object', 5, 'condition', 'must be a condition object'],
    ['no kind', {}, 'condition', 'must have one of all, any, not'],
    ['two kinds', { trait: 'plan', event: 'x', op: 'exists' }, 'condition', 'not both trait and event'],
    ['unknown field', { identifier: 'email', op: 'eq' }, 'condition.op', 'is not a field of a "identifier" condition (it takes no other fields)'],
    ['empty all', { all: [] }, 'condition.all', 'non-empty array'],
    ['all not an array', { any: {} }, 'condition.any', 'non-empty array'],
    ['bad item', { all: [{ identifier: 'email' }, { trait: 'plan', op: 'eq' }] }, 'condition.all[1].value', 'is required'],
    ['not of nothing', { not: null }, 'condition.not', 'must be a condition object'],
    ['bad trait path', { trait: 'address..city', op: 'exists' }, 'condition.trait', 'joined by dots'],
    ['trait path with a space', { trait: 'first name', op: 'exists' }, 'condition.trait', 'letters, digits and _'],
    ['unknown op', { trait: 'plan', op: 'like', value: 'x' }, 'condition.op', 'must be one of eq, neq'],
    ['value with exists', { trait: 'plan', op: 'exists', value: 1 }, 'condition.value', 'takes no value'],
    ['ordering text', { trait: 'plan', op: 'gt', value: 'abc' }, 'condition.value', 'must be a number or a time'],
    ['ordering a boolean', { trait: 'vip', op: 'lt', value: true }, 'condition.value', 'must be a number or a time'],
    ['contains a number', { trait: 'plan', op: 'contains', value: 5 }, 'condition.value', 'non-empty text'],
    ['eq an object', { trait: 'plan', op: 'eq', value: { a: 1 } }, 'condition.value', 'must be text, a number or a boolean'],
    ['eq relative time', { trait: 'signup', op: 'eq', value: { ago: 'P1D' } }, 'condition.value', 'never equal'],
    ['bad ago', { trait: 'signup', op: 'lt', value: { ago: 'P1M' } }, 'condition.value.ago', 'ISO-8601 duration'],
    ['in not a list', { trait: 'plan', op: 'in', value: 'free' }, 'condition.value', 'array of 1 to 100'],
    ['in mixed kinds', { trait: 'plan', op: 'in', value: ['free', 1] }, 'condition.value', 'one kind'],
    ['in with an object', { trait: 'plan', op: 'in', value: ['free', {}] }, 'condition.value[1]', 'must be text'],
    ['between one value', { trait: 'age', op: 'between', value: [1] }, 'condition.value', '[low, high]'],
    ['between reversed', { trait: 'age', op: 'between', value: [10, 1] }, 'condition.value', 'low before high'],
    ['between kinds', { trait: 'age', op: 'between', value: [1, '2026-01-01'] }, 'condition.value', 'one kind'],
    ['unknown computed', { computed: 'lifetime_value', op: 'gt', value: 1 }, 'condition.computed', 'must be one of first_seen'],
    ['computed window not configured', { computed: 'events_last_90d', op: 'gt', value: 1 }, 'condition.computed', 'events_last_7d'],
    ['computed number with text', { computed: 'orders_count', op: 'eq', value: 'two' }, 'condition.value', 'must be a number'],
    ['computed number contains', { computed: 'orders_count', op: 'contains', value: '1' }, 'condition.op', 'cannot compare a number'],
    ['computed time with a number', { computed: 'last_seen', op: 'gt', value: 5 }, 'condition.value', 'must be a time'],
    ['computed time in', { computed: 'last_seen', op: 'in', value: ['2026-01-01'] }, 'condition.op', 'cannot compare a time'],
    ['identifier type', { identifier: 'E-mail' }, 'condition.identifier', 'identifier type'],
    ['segment id', { segment: 'VIP!' }, 'condition.segment', 'segment id'],
    ['event name', { event: '' }, 'condition.event', 'event name'],
    ['event with $', { event: '$purchase' }, 'condition.event', '$page, $screen'],
    ['where not an array', { event: 'x', where: {} }, 'condition.where', 'array of at most 10'],
    ['where item', { event: 'x', where: [5] }, 'condition.where[0]', 'must be an object'],
    ['where extra field', { event: 'x', where: [{ property: 'a', op: 'exists', values: 1 }] }, 'condition.where[0].values', 'not a field of a property test'],
    ['where property', { event: 'x', where: [{ property: '', op: 'exists' }] }, 'condition.where[0].property', 'property name'],
    ['where relative time', { event: 'x', where: [{ property: 'at', op: 'gt', value: { ago: 'P1D' } }] }, 'condition.where[0].value', 'within'],
    ['within', { event: 'x', within: '30 days' }, 'condition.within', 'P30D'],
    ['two aggregates', { event: 'x', count: { op: 'gte', value: 1 }, sum: { property: 'v', op: 'gt', value: 1 } }, 'condition', 'not both count and sum'],
    ['count not an object', { event: 'x', count: 3 }, 'condition.count', 'must be an object'],
    ['count too large', { event: 'x', count: { op: 'gte', value: 32 } }, 'condition.count.value', 'from 0 to 31'],
    ['count fraction', { event: 'x', count: { op: 'gte', value: 1.5 } }, 'condition.count.value', 'whole number'],
    ['count exists', { event: 'x', count: { op: 'exists' } }, 'condition.count.op', 'compare the count with a number'],
    ['count contains', { event: 'x', count: { op: 'contains', value: 1 } }, 'condition.count.op', 'cannot compare the count'],
    ['sum without property', { event: 'x', sum: { op: 'gt', value: 1 } }, 'condition.sum.property', 'property to aggregate'],
    ['sum extra field', { event: 'x', max: { property: 'v', op: 'gt', value: 1, within: 'P1D' } }, 'condition.max.within', 'not a field of max'],
    ['sum with text', { event: 'x', min: { property: 'v', op: 'gt', value: 'a' } }, 'condition.min.value', 'must be a number'],
  ])('%s', (_name, condition, field, reason) => {
    const issues = problems(condition);
    expect(issues.length, JSON.stringify(issues)).toBeGreaterThan(0);
    expect(issues[0]).toMatchObject({ field });
    expect(issues[0]!.reason).toContain(reason);
  });

  it('reports problems in several branches at once', () => {
    expect(fieldsOf({ any: [{ trait: 'a', op: 'gt', value: 'x' }, { ok: 1 }, { event: 'e', within: 'P1Y' }] })).toEqual([
      'condition.any[0].value',
      'condition.any[1]',
      'condition.any[2].within',
    ]);
  });

  it('bounds size and depth', () => {
    let deep: unknown = { identifier: 'email' };
    for (let i = 0; i < SegmentLimits.maxDepth; i++) deep = { not: deep };
    expect(problems(deep)[0]?.reason).toContain('nests too deep');
    const wide = { any: Array.from({ length: 40 }, () => ({ all: [{ identifier: 'email' }, { identifier: 'phone' }] })) };
    expect(problems(wide)[0]?.reason).toContain('one condition too many');
  });
});

describe('compiled conditions', () => {
  it('infers what a trait comparison reads from its value', () => {
    expect(node({ trait: 'plan', op: 'eq', value: 'plus' })).toMatchObject({ kind: 'trait', name: 'plan', path: [], comparison: { operand: { type: 'string' } } });
    expect(node({ trait: 'address.city', op: 'in', value: ['Lisboa', 'Porto'] })).toMatchObject({ name: 'address', path: ['city'] });
    expect(node({ trait: 'age', op: 'gte', value: 18 })).toMatchObject({ comparison: { operand: { type: 'number', values: [18] } } });
    // Text that looks like a date is text for eq, and a time for ordering.
    expect(node({ trait: 'signup', op: 'eq', value: '2026-01-01' })).toMatchObject({ comparison: { operand: { type: 'string' } } });
    expect(node({ trait: 'signup', op: 'gt', value: '2026-01-01' })).toMatchObject({ comparison: { operand: { type: 'time', values: [{ at: Date.parse('2026-01-01') }] } } });
    expect(node({ trait: 'signup', op: 'lt', value: { ago: 'P30D' } })).toMatchObject({ comparison: { operand: { type: 'time', values: [{ agoMs: 30 * 86_400_000 }] } } });
  });

  it('sizes tracks by what their counts need, and defaults to at least one event', () => {
    const size = (count?: unknown): number => {
      const n = node({ event: 'Viewed', ...(count ? { count } : {}) });
      return n.kind === 'event' ? n.track.size : -1;
    };
    expect(size()).toBe(1);
    expect(size({ op: 'gte', value: 3 })).toBe(3);
    expect(size({ op: 'gt', value: 3 })).toBe(4);
    expect(size({ op: 'lt', value: 3 })).toBe(3);
    expect(size({ op: 'eq', value: 0 })).toBe(1);
    expect(size({ op: 'between', value: [2, 5] })).toBe(6);
    expect(size({ op: 'in', value: [1, 7] })).toBe(8);
    const sum = node({ event: 'Order Completed', sum: { property: 'revenue', op: 'gt', value: 5 } });
    expect(sum.kind === 'event' && sum.track).toMatchObject({ size: 32, value: ['revenue'] });
  });

  it('gives the same track to the same events in two segments, whatever the window', () => {
    const a = node({ event: 'Viewed', where: [{ property: 'sku', op: 'eq', value: 'a' }], within: 'PT30M' });
    const b = node({ event: 'Viewed', where: [{ property: 'sku', op: 'eq', value: 'a' }], within: 'P30D' });
    const c = node({ event: 'Viewed', where: [{ property: 'sku', op: 'eq', value: 'b' }] });
    expect(a.kind === 'event' && b.kind === 'event' && a.key === b.key).toBe(true);
    expect(a.kind === 'event' && c.kind === 'event' && a.key !== c.key).toBe(true);
  });
});

describe('references between segments', () => {
  const defs = new Map([
    ['a', { references: ['b'], deleting: false }],
    ['b', { references: ['c'], deleting: false }],
    ['c', { references: [], deleting: false }],
    ['old', { references: [], deleting: true }],
  ]);

  it('refuses unknown, deleted, self and cyclic references', () => {
    expect(referenceProblems('x', [{ id: 'nope', field: 'condition.segment' }], defs)[0]?.reason).toContain('does not exist');
    expect(referenceProblems('x', [{ id: 'old', field: 'condition.segment' }], defs)[0]?.reason).toContain('does not exist');
    expect(referenceProblems('x', [{ id: 'x', field: 'condition.segment' }], defs)[0]?.reason).toContain('itself');
    expect(referenceProblems('c', [{ id: 'a', field: 'condition.all[0].segment' }], defs)).toEqual([
      { field: 'condition.all[0].segment', reason: 'makes a cycle: c → a → b → c' },
    ]);
    expect(referenceProblems('x', [{ id: 'a', field: 'condition.segment' }], defs)).toEqual([]);
  });

  it('finds every segment a change reaches', () => {
    expect(dependentsOf('c', defs).sort()).toEqual(['a', 'b']);
    expect(dependentsOf('a', defs)).toEqual([]);
  });
});
