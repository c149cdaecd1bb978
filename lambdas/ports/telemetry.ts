/** Counters the pipeline emits (EMF metrics in AWS, in-memory counters locally). */
export interface Telemetry {
  count(metric: MetricName, value?: number, dimensions?: Readonly<Record<string, string>>): void;
  /** Sends what was counted; called once per invocation. */
  flush(): void;
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
  | 'ProfileWriteConflicts'
  | 'ProfileWrites'
  | 'RecordsDeadLettered';

export const noTelemetry: Telemetry = { count: () => undefined, flush: () => undefined };
