export interface StreamRecord {
  readonly partitionKey: string;
  readonly data: Uint8Array;
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
