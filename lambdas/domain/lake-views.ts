import { Catalog, LakeEventColumns } from '../contracts.js';

/**
 * The `events` view: one row per messageId per event date, whatever redelivery wrote twice.
 * Partitioning the window by `dt` keeps Athena's partition pruning working through the view;
 * a redelivered record always carries the same timestamp, so it always lands in the same `dt`.
 * The same text defines the view on Athena and in the local DuckDB engine.
 */
export const EventsViewSql = `SELECT ${[...LakeEventColumns, 'dt'].map((c) => `"${c}"`).join(', ')} FROM (
  SELECT r.*, row_number() OVER (PARTITION BY r.dt, r.message_id ORDER BY r.received_at) AS delivery
  FROM ${Catalog.rawEventsTable} r
) WHERE delivery = 1`;

/**
 * The `identities` view: which profile each identifier belongs to now. The resolver appends a
 * row per identifier it placed (and per identifier a merge or split moved), stamped with the time
 * it read the store: a write conditional on what it read succeeds only if nothing changed since,
 * so a later stamp is a later truth. Ties (the same instant) go to the greater profile id.
 */
export const IdentitiesViewSql = `SELECT identifier, profile_id, recorded_at FROM (
  SELECT l.identifier, l.profile_id, l.recorded_at,
    row_number() OVER (PARTITION BY l.identifier ORDER BY l.recorded_at DESC, l.profile_id DESC) AS latest
  FROM ${Catalog.identityLogTable} l
) WHERE latest = 1`;

/**
 * The `segment_members` view: a profile is in a segment when its latest recorded change for it
 * is an entry; `since` is that entry's time. A change recorded twice (a retried delivery) counts once.
 */
export const SegmentMembersViewSql = `SELECT segment_id, profile_id, "at" AS since FROM (
  SELECT c.segment_id, c.profile_id, c."at", c.kind,
    row_number() OVER (PARTITION BY c.segment_id, c.profile_id ORDER BY c."at" DESC, c.kind DESC) AS latest
  FROM ${Catalog.segmentChangesTable} c
) WHERE latest = 1 AND kind = 'entered'`;

/**
 * How many profiles the lake knows: the distinct owners in `identities`, and of those the ones
 * with an identifier stronger than an anonymous id. A merged-away profile owns no identifier
 * any more, and an erased person's rows are gone, so neither is counted.
 */
export const ProfileCountSql = `SELECT count(DISTINCT profile_id) AS profiles,
  count(DISTINCT CASE WHEN NOT starts_with(identifier, 'anonymous_id:') THEN profile_id END) AS identified
FROM ${Catalog.identitiesView}`;
