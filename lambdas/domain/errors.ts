/** Base class of every error the pure domain throws. */
export class DomainError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One reason an event or request was refused, pointing at the field at fault. */
export interface ValidationIssue {
  /** Position of the event in its batch (or row in an import file); absent for request-level problems. */
  readonly index?: number;
  /** Dotted path of the offending field, e.g. `batch[3].timestamp` is reported as index 3, field `timestamp`. */
  readonly field: string;
  readonly reason: string;
}

/** The request as a whole can't be accepted (malformed body, too large, ...). */
export class RequestRejectedError extends DomainError {
  constructor(
    readonly status: 400 | 401 | 413 | 415,
    message: string,
    readonly details: readonly ValidationIssue[] = [],
  ) {
    super(message);
  }
}
