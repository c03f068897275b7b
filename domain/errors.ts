/** A rule violation with a stable machine code; the API maps it to HTTP 4xx, workflows to ApplicationFailure. */
export interface RuleViolation {
  code: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus: number = 400,
    /** Structured facts for the caller (e.g. which items conflicted and who holds them). */
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  static from(violation: RuleViolation, httpStatus = 400): DomainError {
    return new DomainError(violation.code, violation.message, httpStatus);
  }
}
