/**
 * BENCH_SEGMENTS: the segments a shop's marketers would define over the standard workload, in
 * the shapes of docs/segments.md (recent purchase without its companion, spend over a window,
 * viewed and not bought, traits, computed traits, category browsing, price interest, segments of
 * segments). The n-th segment cycles through the shapes, and each shape through the workload's
 * product types, categories and thresholds, so 100 segments are 100 different definitions.
 */
const ProductTypes = ['Cushion', 'Throw', 'Lamp', 'Rug', 'Vase', 'Mug', 'Candle', 'Cushion cover'];
const Categories = ['living', 'bedroom', 'kitchen', 'decor'];

type Shape = (variant: number) => unknown;

const Shapes: readonly Shape[] = [
  (v) => ({
    all: [
      { event: 'Product Added', where: [{ property: 'name', op: 'starts_with', value: ProductTypes[v % 8] }], within: 'P30D' },
      { not: { event: 'Order Completed', within: 'P30D' } },
    ],
  }),
  (v) => ({ event: 'Order Completed', within: 'P90D', sum: { property: 'revenue', op: 'gt', value: 100 + 25 * (v % 12) } }),
  (v) => ({ all: [{ event: 'Product Viewed', within: 'PT30M', count: { op: 'gte', value: 2 + (v % 3) } }, { not: { event: 'Order Completed', within: 'PT30M' } }] }),
  (v) => ({ all: [{ trait: 'plan', op: 'eq', value: v % 2 ? 'plus' : 'free' }, { trait: 'address.city', op: 'in', value: [['Lisboa', 'Porto'], ['Madrid', 'Sevilla'], ['Milano', 'Roma'], ['Warszawa', 'Krakow']][v % 4] }] }),
  (v) => ({ computed: ['orders_count', 'total_revenue', 'events_last_7d'][v % 3], op: 'gte', value: [2, 150, 20][v % 3]! + (v % 5) }),
  (v) => ({ event: '$page', where: [{ property: 'category', op: 'eq', value: Categories[v % 4] }], within: 'P7D', count: { op: 'gte', value: 3 } }),
  (v) => ({ event: 'Product Viewed', where: [{ property: 'price', op: 'gt', value: 40 + 20 * (v % 4) }], within: 'P14D' }),
  (v) => ({ computed: 'last_order_at', op: 'lt', value: { ago: ['P7D', 'P14D', 'P30D'][v % 3] } }),
  (v) => ({ identifier: v % 2 ? 'email' : 'user_id' }),
];

/** The first `count` bench segments, by id; the last of every ten names two earlier ones. */
export function benchSegments(count: number): Array<{ id: string; name: string; condition: unknown }> {
  const out: Array<{ id: string; name: string; condition: unknown }> = [];
  for (let n = 0; n < count; n++) {
    const id = `bench-${String(n).padStart(3, '0')}`;
    const condition = n % 10 === 9 && n >= 2 ? { any: [{ segment: out[n - 1]!.id }, { not: { segment: out[n - 2]!.id } }] } : Shapes[n % Shapes.length]!(Math.floor(n / Shapes.length));
    out.push({ id, name: `Bench segment ${n}`, condition });
  }
  return out;
}
