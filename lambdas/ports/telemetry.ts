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
  /** Outbound changes the publisher delivered and acknowledged (membership ones are in `segment_changes` too). */
  | 'OutboundChangesDelivered'
  /** Bus entries accepted: one per change and destination whose pattern matches it. */
  | 'ActivationEventsPublished'
  /** The same, per destination (dimension `destination`). */
  | 'DestinationEventsPublished'
  /** Changes left in the outbox because the bus refused one of their entries for a passing reason. */
  | 'ActivationChangesRetained'
  /** Entries put again after the bus refused them. */
  | 'ActivationPutRetries'
  /** Events the bus will never accept (malformed), dropped and logged by id (dimension `destination`). */
  | 'ActivationEventsRefused'
  /** Local bus: deliveries a destination accepted, and attempts that failed (dimension `destination`). */
  | 'DestinationDeliveries'
  | 'DestinationDeliveryFailures'
  /** Local bus: events given up on and written to its dead letters (dimension `destination`). */
  | 'DestinationDeadLetters'
  /** Backfill queries over the lake that failed (each is started again on the next run). */
  | 'BackfillQueryFailures'
  /** Events about suppressed people dropped (dimension `stage`: intake, rejections, archiver, resolver); never logged. */
  | 'EventsSuppressed'
  /** Activation events not sent because the profile had not consented to a purpose the destination needs (dimension `destination`). */
  | 'ActivationEventsWithheld'
  /** Privacy requests finished (dimension `type`, and `outcome`: done or failed). */
  | 'PrivacyRequestsFinished';
