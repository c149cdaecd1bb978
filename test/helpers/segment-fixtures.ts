import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { LakeLayout } from '../../lambdas/contracts.js';
import { validateEvent } from '../../lambdas/domain/events.js';
import { identifierKey } from '../../lambdas/domain/identifiers.js';
import { enrichEvent, type CollectedEvent } from '../../lambdas/domain/intake.js';
import { eventDate, toLakeRow } from '../../lambdas/domain/lake.js';
import type { ProfileConfig } from '../../lambdas/domain/profile-config.js';
import type { ProfileState } from '../../lambdas/domain/profile.js';
import { workloadBodies } from '../../local/bench/workload.js';

/**
 * The standard workload as the stream would carry it: each request body received `spacingMs`
 * after the previous one from `start`, validated and enriched as the intake does (so event
 * times are skew-corrected to the arrival times).
 */
export function standardWorkloadEvents(options: { readonly events: number; readonly start: number; readonly spacingMs: number }): CollectedEvent[] {
  const out: CollectedEvent[] = [];
  workloadBodies({ events: options.events }).forEach((line, i) => {
    const body = JSON.parse(line) as { batch: unknown[]; sentAt?: string };
    const receivedAt = new Date(options.start + i * options.spacingMs);
    for (const raw of body.batch) {
      const validated = validateEvent(raw);
      if (!validated.ok) throw new Error(`workload event refused: ${JSON.stringify(validated.issues)}`);
      const enriched = enrichEvent(validated.event, { receivedAt, sourceId: 'bench', ...(body.sentAt ? { batchSentAt: body.sentAt } : {}), newMessageId: () => 'unused' });
      if (!enriched.ok) throw new Error(`workload event refused: ${JSON.stringify(enriched.issues)}`);
      out.push(enriched.event);
    }
  });
  return out;
}

/** The lake as s3rver keeps it on disk, for the local DuckDB engine to read (local/lake-sql.ts). */
export function writeLocalLake(
  s3Directory: string,
  bucket: string,
  contents: {
    readonly events: readonly CollectedEvent[];
    readonly profiles: readonly ProfileState[];
    readonly config: ProfileConfig;
    readonly recordedAt: string;
    /** Names the objects, so a second call adds to the lake rather than replacing. @default 'part' */
    readonly name?: string;
  },
): void {
  const write = (prefix: string, dt: string, name: string, rows: readonly unknown[]): void => {
    const dir = join(s3Directory, bucket, prefix, `dt=${dt}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.ndjson.gz._S3rver_object`), gzipSync(rows.map((r) => JSON.stringify(r)).join('\n') + '\n'));
  };
  const byDate = new Map<string, unknown[]>();
  for (const event of contents.events) {
    const dt = eventDate(event.timestamp);
    byDate.set(dt, [...(byDate.get(dt) ?? []), toLakeRow(event, contents.config)]);
  }
  for (const [dt, rows] of byDate) write(LakeLayout.eventsPrefix, dt, contents.name ?? 'part', rows);
  const identities = contents.profiles.flatMap((p) => p.identifiers.map((id) => ({ identifier: identifierKey(id), profile_id: p.id, recorded_at: contents.recordedAt })));
  write(LakeLayout.identitiesPrefix, contents.recordedAt.slice(0, 10), `${contents.name ?? 'part'}-identities`, identities);
}

/** A dozen segments and more, covering every construct of the language, on the standard workload's data. */
export const WorkloadSegments: Readonly<Record<string, unknown>> = {
  'cushion-no-cover': {
    all: [
      { event: 'Product Added', where: [{ property: 'name', op: 'starts_with', value: 'Cushion' }], within: 'P30D' },
      { not: { event: 'Product Added', where: [{ property: 'name', op: 'starts_with', value: 'Cushion cover' }], within: 'P30D' } },
    ],
  },
  vip: { event: 'Order Completed', within: 'P90D', sum: { property: 'revenue', op: 'gt', value: 150 } },
  'viewed-not-bought': {
    all: [{ event: 'Product Viewed', within: 'PT1M', count: { op: 'gte', value: 2 } }, { not: { event: 'Order Completed', within: 'PT1M' } }],
  },
  'plus-in-the-west': { all: [{ trait: 'plan', op: 'eq', value: 'plus' }, { trait: 'address.city', op: 'in', value: ['Lisboa', 'Porto', 'Sevilla'] }] },
  known: { identifier: 'email' },
  'no-account': { not: { identifier: 'user_id' } },
  'frequent-buyers': { computed: 'orders_count', op: 'gte', value: 3 },
  'big-baskets': { computed: 'average_order_value', op: 'between', value: [60, 200] },
  'lapsed-buyers': { computed: 'last_order_at', op: 'lt', value: { ago: 'PT1M' } },
  'busy-week': { computed: 'events_last_7d', op: 'gte', value: 20 },
  'busy-week-orders': { computed: 'orders_last_30d', op: 'in', value: [1, 2] },
  'new-people': { computed: 'first_seen', op: 'gt', value: { ago: 'PT2M' } },
  'total-over-300': { computed: 'total_revenue', op: 'gt', value: 300 },
  'kitchen-browsers': { event: '$page', where: [{ property: 'category', op: 'eq', value: 'kitchen' }], count: { op: 'gte', value: 3 } },
  'big-single-order': { event: 'Order Completed', max: { property: 'revenue', op: 'gte', value: 100 } },
  // Heavy viewers have more views than the 32 a min keeps: the latest 32 decide, in both.
  'cheapest-of-recent-views': { event: 'Product Viewed', min: { property: 'price', op: 'lt', value: 7 } },
  'cheap-looks': { event: 'Product Viewed', within: 'PT1M', min: { property: 'price', op: 'lt', value: 10 } },
  'exactly-two-adds': { event: 'Product Added', count: { op: 'eq', value: 2 } },
  'few-views': { event: 'Product Viewed', count: { op: 'lt', value: 5 } },
  'lamp-fans': { event: 'Product Viewed', where: [{ property: 'name', op: 'contains', value: 'Lamp' }, { property: 'price', op: 'gt', value: 50 }], count: { op: 'gte', value: 1 } },
  // A set-once trait keeps its earliest value: x1 set it to a, then to b.
  'first-touch-a': { trait: 'first_seen', op: 'eq', value: 'a' },
  'has-plan': { trait: 'plan', op: 'exists' },
  'nameless': { trait: 'name', op: 'not_exists' },
  'not-free': { trait: 'plan', op: 'neq', value: 'free' },
  'valuable-or-frequent': { all: [{ any: [{ segment: 'vip' }, { segment: 'frequent-buyers' }] }, { not: { segment: 'no-account' } }] },
};

