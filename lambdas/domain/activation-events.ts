import { createHash } from 'node:crypto';
import { historyEntryKey, type HistoryEntry } from './identity-graph.js';
import type { Identifier } from './identifiers.js';
import type { ProfileState } from './profile.js';
import type { OutboundChange } from './profile-write.js';
import { SegmentEntered, SegmentExited, type MembershipDetail } from './segments/membership.js';

/**
 * The activation events published on the stack's bus (docs/events.md): one per outbound change,
 * with `source` `cdp`, the change's kind as `detail-type`, and a versioned `detail`. The
 * change's deterministic id is the `eventId`, so a consumer that sees an event twice (a retried
 * publish) can drop the second.
 */
export const ActivationSource = 'cdp';
export const ActivationSchemaVersion = 1 as const;
export const ActivationKinds = [SegmentEntered, SegmentExited, 'Profile Merged', 'Identity Limit Reached', 'Profile Erased'] as const satisfies readonly string[];
export type ActivationKind = (typeof ActivationKinds)[number];
/** What `POST /v1/destinations/{id}/test` sends: every destination's rule lets it through, for that destination only. */
export const TestEventType = 'CDP Test Event';

export interface ActivationDetail {
  readonly schemaVersion: typeof ActivationSchemaVersion;
  readonly eventId: string;
  readonly profileId: string;
  /** When the change happened (ISO-8601). */
  readonly at: string;
  /** The profile's identifiers when the event is built. */
  readonly identifiers: readonly Identifier[];
  readonly [field: string]: unknown;
}

export interface ActivationEvent {
  readonly source: typeof ActivationSource;
  readonly 'detail-type': string;
  readonly time: string;
  readonly detail: ActivationDetail;
}

/** What an event is built from besides the change: the profile as it is now, and what the destination asks for. */
export interface ActivationContext {
  readonly profile: { readonly identifiers: readonly Identifier[]; readonly traits: ProfileState['traits'] };
  /** The names segments have now, by id. */
  readonly segmentNames?: ReadonlyMap<string, string>;
  /** The traits a destination asks to have copied into `detail.traits`. @default none */
  readonly traits?: readonly string[];
  /** The destination the event is published for: `detail.destinationId`, what its rule matches. */
  readonly destinationId?: string;
}

export const isActivationKind = (kind: string): kind is ActivationKind => (ActivationKinds as readonly string[]).includes(kind);

/** The event for one change, for one destination's choice of traits. */
export function activationEvent(change: OutboundChange, context: ActivationContext): ActivationEvent {
  const at = new Date(change.at).toISOString();
  const common = {
    schemaVersion: ActivationSchemaVersion,
    eventId: change.id,
    profileId: change.profileId,
    at,
    identifiers: context.profile.identifiers.map(({ type, value }) => ({ type, value })),
    ...(context.destinationId === undefined ? {} : { destinationId: context.destinationId }),
  };
  let specific: Record<string, unknown>;
  if (change.kind === SegmentEntered || change.kind === SegmentExited) {
    const { segmentId, segmentVersion } = change.detail as MembershipDetail;
    specific = {
      segmentId,
      segmentName: context.segmentNames?.get(segmentId) ?? segmentId,
      ...(segmentVersion === undefined ? {} : { segmentVersion }),
      traits: selectedTraits(context.profile.traits, context.traits ?? []),
    };
  } else {
    // Other kinds carry their own fields in the change (docs/events.md); common fields win.
    specific = { ...change.detail };
  }
  return { source: ActivationSource, 'detail-type': change.kind, time: at, detail: { ...specific, ...common } };
}

function selectedTraits(traits: ProfileState['traits'], names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) if (Object.hasOwn(traits, name) && traits[name]!.value !== null && traits[name]!.value !== undefined) out[name] = traits[name]!.value;
  return out;
}

export const ProfileMerged = 'Profile Merged';
export const IdentityLimitReached = 'Identity Limit Reached';

/**
 * The outbound change a history entry announces, if any: `Profile Merged` for a merge, and
 * `Identity Limit Reached` for a link dropped at a per-profile limit. The id follows from the
 * entry's own key, so recording the same entry again (a replayed batch) records the same change.
 */
export function historyChange(entry: HistoryEntry): OutboundChange | undefined {
  const id = createHash('sha256').update(`${entry.profileId}|${historyEntryKey(entry)}`).digest('base64url').slice(0, 22);
  if (entry.kind === 'merge') {
    const { rule, messageId, eventType, at, identifier } = entry.reason;
    return {
      id,
      kind: ProfileMerged,
      profileId: entry.profileId,
      at,
      detail: {
        absorbedProfileId: entry.absorbed,
        // As `GET /v1/profiles/{ref}/merges` shows it (`at` in epoch milliseconds).
        reason: { rule, messageId, eventType, at, identifier: { type: identifier.type, value: identifier.value } },
      },
    };
  }
  if (entry.kind === 'link_dropped' && entry.reason.startsWith('limit:')) {
    return { id, kind: IdentityLimitReached, profileId: entry.profileId, at: entry.at, detail: { identifierType: entry.identifier.type, reason: entry.reason, messageId: entry.messageId } };
  }
  return undefined;
}

/** A test event for one destination (docs/events.md): the common fields, no person (`profileId` `test`), and `test: true`. */
export function testEvent(destinationId: string, at: Date, eventId: string): ActivationEvent {
  const time = at.toISOString();
  return {
    source: ActivationSource,
    'detail-type': TestEventType,
    time,
    detail: { schemaVersion: ActivationSchemaVersion, eventId, profileId: 'test', at: time, identifiers: [], destinationId, test: true },
  };
}

