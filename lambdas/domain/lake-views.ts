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
