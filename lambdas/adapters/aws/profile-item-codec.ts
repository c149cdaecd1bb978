import { withConsent } from '../../domain/profile.js';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { DueIndex, OutboxIndex } from '../../contracts.js';
import { historyEntryKey, type HistoryEntry, type MergeReason } from '../../domain/identity-graph.js';
import { identifierDigest, type Identifier } from '../../domain/identifiers.js';
import { MessageDigestBytes, type ProfileState, type SeenGeneration } from '../../domain/profile.js';
import { dueBucket, outboxBucket, type OutboundChange } from '../../domain/profile-write.js';
import type { PendingOutbound, ProfileWrite, VersionedProfile } from '../../ports/profile-store.js';

/**
 * How profiles, owners, history and the outbox are laid out as items of the profiles table
 * (docs/data-model.md): keys, attribute names and encodings. The store decides when to read and
 * write; this module only translates.
 */
export type Item = Record<string, AttributeValue>;

export const ProfileSortKey = 'profile';
export const OwnerSortKey = 'owner';
export const HistoryPrefix = 'h#';

export const profileKey = (id: string): Item => ({ pk: { S: `p#${id}` }, sk: { S: ProfileSortKey } });
export const ownerKey = (identifier: Identifier): Item => ({ pk: { S: `i#${identifierDigest(identifier)}` }, sk: { S: OwnerSortKey } });
export const ownerKeyOfDigest = (digest: string): Item => ({ pk: { S: `i#${digest}` }, sk: { S: OwnerSortKey } });
export const profileIdOf = (item: Item): string => item.pk!.S!.slice(2);

/**
 * Profile state is stored as deflated JSON (`d`) plus the dedupe memory packed as raw bytes (`s`):
 * items stay small, and DynamoDB bills per KB written.
 */
export function encodeState(state: ProfileState): { d: Uint8Array; s: Uint8Array } {
  const { seen, ...rest } = state;
  const json = JSON.stringify(rest, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value));
  return { d: deflateRawSync(Buffer.from(json)), s: packSeen(seen) };
}

export function decodeState(d: Uint8Array, s?: Uint8Array): ProfileState {
  const state = JSON.parse(inflateRawSync(d).toString('utf8')) as ProfileState;
  const computed = state.computed as { firstSeen: number | null; lastSeen: number | null };
  return {
    ...state,
    seen: s ? unpackSeen(s) : [],
    computed: {
      ...state.computed,
      firstSeen: computed.firstSeen ?? Number.POSITIVE_INFINITY,
      lastSeen: computed.lastSeen ?? Number.NEGATIVE_INFINITY,
    },
  };
}

/** Per generation: 6-byte time (ms), 2-byte count, then the 6-byte digests. */
function packSeen(seen: readonly SeenGeneration[]): Uint8Array {
  const size = seen.reduce((n, g) => n + 8 + g.digests.length * MessageDigestBytes, 0);
  const out = Buffer.alloc(size);
  let offset = 0;
  for (const generation of seen) {
    out.writeUIntBE(generation.at, offset, 6);
    out.writeUInt16BE(generation.digests.length, offset + 6);
    offset += 8;
    for (const digest of generation.digests) offset += Buffer.from(digest, 'base64url').copy(out, offset, 0, MessageDigestBytes);
  }
  return out;
}

function unpackSeen(bytes: Uint8Array): SeenGeneration[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const seen: SeenGeneration[] = [];
  for (let offset = 0; offset + 8 <= buffer.length; ) {
    const at = buffer.readUIntBE(offset, 6);
    const count = buffer.readUInt16BE(offset + 6);
    offset += 8;
    const digests: string[] = [];
    for (let i = 0; i < count; i++, offset += MessageDigestBytes) digests.push(buffer.subarray(offset, offset + MessageDigestBytes).toString('base64url'));
    seen.push({ at, digests });
  }
  return seen;
}

/**
 * The outbox attributes of an item: `o` the undelivered changes (deflated JSON: a write rewrites
 * them until they are delivered, so their bytes are paid for again and again), `ob` the feed
 * bucket; neither when it is empty.
 */
export function outboxAttributes(profileId: string, outbox: readonly OutboundChange[]): Item {
  if (outbox.length === 0) return {};
  return { o: { B: deflateRawSync(JSON.stringify(outbox)) }, [OutboxIndex.bucketAttribute]: { S: String(outboxBucket(profileId)) } };
}

export function decodeOutbox(item: Item): OutboundChange[] {
  if (item.o?.B) return JSON.parse(inflateRawSync(item.o.B).toString('utf8')) as OutboundChange[];
  // Items written before the outbox was deflated.
  return item.o?.S ? (JSON.parse(item.o.S) as OutboundChange[]) : [];
}

/** `dt` as stored: fixed-width digits, so text order is time order. */
export const dueTimeText = (at: number): string => String(Math.max(0, Math.floor(at))).padStart(13, '0');

/** The due feed attributes of a profile whose memberships may change at a known instant; none otherwise. */
export function dueAttributes(state: ProfileState): Item {
  const due = state.segments?.due;
  if (due === undefined) return {};
  return { [DueIndex.bucketAttribute]: { S: String(dueBucket(state.id)) }, [DueIndex.timeAttribute]: { S: dueTimeText(due) } };
}

/** The whole profile item a write puts: state, dedupe memory, outbox, due time, and the next version. */
export function profileItem(write: ProfileWrite): Item {
  const { d, s } = encodeState(write.state);
  return {
    ...profileKey(write.state.id),
    v: { N: String((write.expectedVersion ?? 0) + 1) },
    d: { B: d },
    ...(s.length > 0 ? { s: { B: s } } : {}),
    ...outboxAttributes(write.state.id, write.outbox),
    ...dueAttributes(write.state),
  };
}

export function decodeProfileItem(item: Item): VersionedProfile {
  return {
    id: profileIdOf(item),
    version: Number(item.v?.N ?? 0),
    outbox: decodeOutbox(item),
    ...(item.d?.B ? { state: decodeState(item.d.B, item.s?.B) } : {}),
    ...(item.to?.S ? { redirect: { to: item.to.S, ...(item.r?.S ? { reason: JSON.parse(item.r.S) as MergeReason } : {}) } } : {}),
  };
}

export function decodePendingOutbound(item: Item): PendingOutbound {
  const state = item.d?.B ? decodeState(item.d.B, item.s?.B) : undefined;
  return { profileId: profileIdOf(item), changes: decodeOutbox(item), ...(state ? { profile: { identifiers: state.identifiers, traits: state.traits, ...withConsent(state.consent) } } : {}) };
}

/** History sorts by time within the profile's partition; replaying an entry rewrites the same item. */
export const historyItem = (entry: HistoryEntry): Item => ({
  pk: { S: `p#${entry.profileId}` },
  sk: { S: `${HistoryPrefix}${historyEntryKey(entry)}` },
  e: { S: JSON.stringify(entry) },
});

export const decodeHistoryItem = (item: Item): HistoryEntry | undefined => (item.e?.S ? (JSON.parse(item.e.S) as HistoryEntry) : undefined);
