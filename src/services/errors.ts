/**
 * What a use case reports when it cannot do what was asked. Services throw
 * these; the API maps them to problem responses in one place
 * (src/api/problem.ts), the CLI to a message and a non-zero exit.
 */
/** TOO_MANY: attempts are throttled (with retryAfterSeconds). */
export type ServiceErrorKind = 'NOT_FOUND' | 'INVALID' | 'FORBIDDEN' | 'CONFLICT' | 'TOO_MANY' | 'UNAVAILABLE';

export class ServiceError extends Error {
  constructor(
    readonly kind: ServiceErrorKind,
    message: string,
    /** A stable machine-readable name of the problem (the API's problem type slug). */
    readonly code?: string,
    /** Seconds after which a retry may succeed (TOO_MANY, UNAVAILABLE). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

export const notFound = (what: string, code = 'not-found') => new ServiceError('NOT_FOUND', `no ${what}`, code);
