import { BallastError, type ErrorCode } from '@ballast/common';
import * as P from './protocol.js';

const BY_BALLAST_CODE: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: P.NBD_EINVAL,
  TOO_LARGE: P.NBD_EINVAL,
  // The volume is not writable from here (read-only, or this host was fenced by a newer epoch).
  FORBIDDEN: P.NBD_EPERM,
  FENCED: P.NBD_EPERM,
};

const BY_ERRNO: Record<string, number> = {
  ENOSPC: P.NBD_ENOSPC,
  EDQUOT: P.NBD_ENOSPC,
  EFBIG: P.NBD_ENOSPC,
  EROFS: P.NBD_EPERM,
  EPERM: P.NBD_EPERM,
  EACCES: P.NBD_EPERM,
  EINVAL: P.NBD_EINVAL,
};

/**
 * Maps an error thrown by a device to one of the NBD error values. Storage errors without a
 * better match become EIO, which every client treats as a failed I/O.
 */
export function nbdErrorFor(err: unknown): number {
  // Walk the cause chain (bounded): an engine may wrap an fs error in a BallastError.
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const errno = (current as NodeJS.ErrnoException).code;
    if (current instanceof BallastError) {
      const mapped = BY_BALLAST_CODE[current.code];
      if (mapped !== undefined) return mapped;
    } else if (typeof errno === 'string' && BY_ERRNO[errno] !== undefined) {
      return BY_ERRNO[errno]!;
    }
    current = current.cause;
  }
  return P.NBD_EIO;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
