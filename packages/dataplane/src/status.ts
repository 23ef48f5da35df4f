import { AssertionError, BallastError, type ErrorCode } from '@ballast/common';
import { ballast } from '@ballast/proto';

export const StatusCode = ballast.dataplane.StatusCode;
export type StatusCode = ballast.dataplane.StatusCode;

const NAMES: Record<number, string> = {};
for (const [name, value] of Object.entries(StatusCode)) {
  if (typeof value === 'number') NAMES[value] = name;
}

/** `FENCED`, `CHECKSUM`, ... (or `STATUS_<n>` for a number this build does not know). */
export function statusName(code: number): string {
  return NAMES[code] ?? `STATUS_${code}`;
}

/** Longest status message put on the wire; longer ones are cut (they are for humans). */
export const MAX_STATUS_MESSAGE_CHARS = 1000;

/**
 * A request the remote end refused or could not serve. `status` is the wire status (match on it
 * in the engine: FENCED, CHECKSUM, ...); `code` is the matching BallastError code.
 */
export class DataPlaneError extends BallastError {
  readonly status: StatusCode;
  constructor(status: StatusCode, message: string, details?: Record<string, unknown>) {
    super(errorCodeFor(status), message, { status: statusName(status), ...details });
    this.name = 'DataPlaneError';
    this.status = status;
  }
}

export function isDataPlaneError(err: unknown, status?: StatusCode): err is DataPlaneError {
  return err instanceof DataPlaneError && (status === undefined || err.status === status);
}

function errorCodeFor(status: StatusCode): ErrorCode {
  switch (status) {
    case StatusCode.INVALID:
      return 'INVALID_ARGUMENT';
    case StatusCode.NOT_FOUND:
    case StatusCode.NO_SESSION:
      return 'NOT_FOUND';
    case StatusCode.FENCED:
      return 'FENCED';
    case StatusCode.SUPERSEDED:
      return 'SUPERSEDED';
    case StatusCode.CHECKSUM:
      return 'CHECKSUM_MISMATCH';
    case StatusCode.UNAUTHENTICATED:
      return 'UNAUTHORIZED';
    case StatusCode.OVERLOADED:
      return 'RATE_LIMITED';
    case StatusCode.SHUTTING_DOWN:
      return 'UNAVAILABLE';
    case StatusCode.NO_SPACE:
    case StatusCode.IO:
    default:
      return 'IO';
  }
}

const NO_SPACE_ERRNOS = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** True when an errno meaning "out of space" appears anywhere in the error's details or causes. */
function isNoSpace(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current !== null && typeof current === 'object'; depth++) {
    const e = current as { code?: unknown; details?: { errno?: unknown }; cause?: unknown };
    if (typeof e.code === 'string' && NO_SPACE_ERRNOS.has(e.code)) return true;
    if (typeof e.details?.errno === 'string' && NO_SPACE_ERRNOS.has(e.details.errno)) return true;
    current = e.cause;
  }
  return false;
}

/**
 * The wire status for an error a handler threw. Assertion failures are bugs and are rethrown,
 * so they crash loudly instead of being reported as an I/O error.
 */
export function statusFor(err: unknown): { code: StatusCode; message: string } {
  if (err instanceof AssertionError) throw err;
  const message = String((err as Error)?.message ?? err).slice(0, MAX_STATUS_MESSAGE_CHARS);
  if (err instanceof DataPlaneError) return { code: err.status, message };
  if (err instanceof BallastError) {
    switch (err.code) {
      case 'FENCED':
        return { code: StatusCode.FENCED, message };
      case 'SUPERSEDED':
        return { code: StatusCode.SUPERSEDED, message };
      case 'CHECKSUM_MISMATCH':
        return { code: StatusCode.CHECKSUM, message };
      case 'NOT_FOUND':
        return { code: StatusCode.NOT_FOUND, message };
      case 'INVALID_ARGUMENT':
      case 'TOO_LARGE':
      case 'UNPROCESSABLE':
      case 'CONFLICT':
        return { code: StatusCode.INVALID, message };
      case 'UNAUTHORIZED':
      case 'FORBIDDEN':
        return { code: StatusCode.UNAUTHENTICATED, message };
      case 'UNAVAILABLE':
      case 'RATE_LIMITED':
        return { code: StatusCode.OVERLOADED, message };
      default:
        return { code: isNoSpace(err) ? StatusCode.NO_SPACE : StatusCode.IO, message };
    }
  }
  return { code: isNoSpace(err) ? StatusCode.NO_SPACE : StatusCode.IO, message };
}
