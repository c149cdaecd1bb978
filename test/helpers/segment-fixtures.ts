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
