/**
 * One catalogue of error codes for the whole system, as fastify's lib/errors.js does:
 * callers and tests match on `code`, never on the message. HTTP status is the one an API
 * answers with when the error crosses a REST boundary (problem+json).
 */
export const ErrorCodes = {
  INVALID_ARGUMENT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNPROCESSABLE: 422,
  TOO_LARGE: 413,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
  // Wire and storage conditions; they map to 500-class answers when they surface in the API.
  PROTOCOL: 502,
  CHECKSUM_MISMATCH: 500,
  FENCED: 409,
  /** A replica session's incarnation was replaced: that replica left the set and came back. */
  SUPERSEDED: 409,
  IO: 500,
  CONFIG: 400,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class BallastError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    details?: Record<string, unknown>,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'BallastError';
    this.code = code;
    this.httpStatus = ErrorCodes[code];
    this.details = details;
  }
}

export function isBallastError(err: unknown, code?: ErrorCode): err is BallastError {
  return err instanceof BallastError && (code === undefined || err.code === code);
}

/**
 * Invariant checks: a failed assertion is a bug, never a condition to handle, so it throws an
 * AssertionError that nobody catches on purpose (TigerBeetle style).
 */
export class AssertionError extends Error {
  constructor(message: string) {
    super(`assertion failed: ${message}`);
    this.name = 'AssertionError';
  }
}

export function assert(condition: unknown, message = 'invariant violated'): asserts condition {
  if (!condition) throw new AssertionError(message);
}
