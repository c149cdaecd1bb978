/** A stream record kept with a dead letter, as it was delivered. */
export interface DeadLetterRecord {
  readonly sequenceNumber: string;
  readonly partitionKey?: string;
  /** Base64 of the record's bytes. */
  readonly data: string;
}

/** Records a consumer could not process, kept whole with why, until a redrive succeeds. */
export interface DeadLetter {
  readonly consumer: string;
  readonly shardId: string;
  readonly reason: string;
  readonly stack?: string;
  readonly failedAt: string;
  /** Message id of the single event, when the letter holds one decodable event. */
  readonly messageId?: string;
  readonly records: readonly DeadLetterRecord[];
}

export interface StoredDeadLetter {
  /** Where the letter is kept, for `remove`. */
  readonly key: string;
  readonly letter: DeadLetter;
}

export interface DeadLetterStore {
  /** Keeps a letter; storing the same records again replaces the earlier letter. */
  put(letter: DeadLetter): Promise<void>;
  list(consumer?: string): AsyncIterable<StoredDeadLetter>;
  remove(key: string): Promise<void>;
}
