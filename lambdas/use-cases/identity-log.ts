import { createHash } from 'node:crypto';
import { LakeLayout } from '../contracts.js';
import { gzipNdjson } from '../domain/ndjson.js';
import type { ObjectStore } from '../ports/object-store.js';

/**
 * The lake's identity log (`identity_log`, and the `identities` view of its latest row per
 * identifier): which profile each identifier belongs to, so SQL over `events` names the same
 * people the profiles do. Rows are stamped with the time the writer read the store before its
 * conditional writes succeeded, so a later stamp always describes a later state (docs/lake.md).
 */
export class IdentityLog {
  constructor(private readonly lake: ObjectStore) {}

  /**
   * Records placements (identifier key → profile id) read at `readAt`. `name` identifies the
   * operation (a batch's messages, a split): recording it again replaces its object.
   */
  async record(placements: ReadonlyMap<string, string>, readAt: number, name: string): Promise<void> {
    if (placements.size === 0) return;
    const recordedAt = new Date(readAt).toISOString();
    const lines = [...placements].map(([identifier, profileId]) => JSON.stringify({ identifier, profile_id: profileId, recorded_at: recordedAt }));
    await this.lake.put({ key: `${LakeLayout.identitiesPrefix}dt=${recordedAt.slice(0, 10)}/${name}.ndjson.gz`, ...gzipNdjson(lines) });
  }
}

/** A stable name for a batch: the same messages give the same object, whatever order they came in. */
export function batchName(messageIds: readonly string[]): string {
  const hash = createHash('sha256');
  for (const id of [...messageIds].sort()) hash.update(id).update('\n');
  return `batch-${hash.digest('base64url').slice(0, 22)}`;
}
