/** Counters the pipeline emits (EMF metrics in AWS, in-memory counters locally). */
export interface Telemetry {
  /** Adds to a counter. A deployed function's entry point publishes the counts after each invocation. */
  count(metric: MetricName, value?: number, dimensions?: Readonly<Record<string, string>>): void;
}

export type MetricName =
  | 'EventsAccepted'
  | 'EventsRejected'
  /** Refusals by top-level field (dimension `field`): what clients get wrong. */
  | 'EventsRejectedByField'
  | 'RequestsRejected'
  | 'AuthFailures'
  | 'StreamWriteFailures'
  | 'EventsArchived'
  | 'RecordsQuarantined'
  | 'ImportRowsAccepted'
  | 'ImportRowsRejected'
  | 'RejectionRecordFailures'
  | 'DynamoDbReadUnits'
  | 'DynamoDbWriteUnits'
  | 'ProfileEventsApplied'
  | 'ProfileDuplicatesSkipped'
  | 'UnidentifiedEvents'
  | 'ProfileMerges'
  | 'IdentifierLinksDropped'
  | 'TraitsRefused'
  /** Values carried as identifiers but refused (dimension `reason`: `<type>:<reason>`, e.g. `phone:invalid`). */
  | 'IdentifiersRefused'
  | 'ProfileWriteConflicts'
  | 'ProfileWrites'
  /** Profile writes left out because they would have changed nothing. */
  | 'ProfileWritesSkipped'
  /** Outbound changes recorded in profile outboxes, for delivery. */
  | 'OutboundChangesRecorded'
  | 'RecordsDeadLettered'
  /** Profiles the segmentation function looked at again because their due time came. */
  | 'SegmentDueProfiles'
  /** Of those, the ones whose memberships had not changed (a window moved on by a later event). */
  | 'SegmentDueWithoutChange'
  /** Membership changes recorded in the lake's `segment_changes`. */
  | 'SegmentChangesDelivered'
  /** Backfill queries over the lake that failed (each is started again on the next run). */
  | 'BackfillQueryFailures';
