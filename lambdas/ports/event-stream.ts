export interface StreamRecord {
  readonly partitionKey: string;
  readonly data: Uint8Array;
}

/** A stream record as every consumer sees it, whichever runtime delivered it. */
export interface DeliveredRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  /** Base64 of the record's bytes, as Lambda delivers Kinesis data. */
  readonly data: string;
  /** Epoch milliseconds. */
  readonly approximateArrivalTimestamp?: number;
}

/** Durable, ordered-per-key log that intake appends to and consumers read from. */
export interface EventStream {
  /**
   * Appends every record, retrying partial failures. Resolves only when all are stored;
   * rejects with {@link StreamUnavailableError} when the stream can't take them in time.
   */
  put(records: readonly StreamRecord[]): Promise<void>;
  /** Cheap readiness probe for `/health`. */
  ping(): Promise<void>;
}

export class StreamUnavailableError extends Error {
  constructor(
    message: string,
    readonly unwritten: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'StreamUnavailableError';
  }
}
