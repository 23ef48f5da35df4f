import { BallastError, type ErrorCode } from '@ballast/common';

/**
 * Why a request on one replica's session failed. The engine's reaction depends only on this:
 * - `fenced`: a newer epoch holds the volume; this engine must stop (never marks anything).
 * - `superseded`: the node holds a newer incarnation of its replica (the map took this replica
 *   out of the set, and maybe back in): this session can never write it again. The replica
 *   leaves the engine's I/O like a failed one; the engine goes on.
 * - `checksum`: the replica's stored bytes failed their CRC; read elsewhere and repair.
 * - `io`, `disconnected`, `timeout`, `no-space`: the replica cannot be trusted with this
 *   write; it leaves the in-sync set.
 * - `invalid`: the request was refused as malformed or out of range: a bug on one side, handled
 *   like `io` so that a replica refusing a write never silently misses it.
 */
export type SessionErrorKind =
  'fenced' | 'superseded' | 'checksum' | 'io' | 'disconnected' | 'timeout' | 'no-space' | 'invalid';

const CODE_OF_KIND: Record<SessionErrorKind, ErrorCode> = {
  fenced: 'FENCED',
  superseded: 'SUPERSEDED',
  checksum: 'CHECKSUM_MISMATCH',
  io: 'IO',
  disconnected: 'UNAVAILABLE',
  timeout: 'TIMEOUT',
  'no-space': 'IO',
  invalid: 'INVALID_ARGUMENT',
};

export class SessionError extends BallastError {
  readonly kind: SessionErrorKind;
  readonly nodeId: string;

  constructor(
    kind: SessionErrorKind,
    nodeId: string,
    message: string,
    details?: Record<string, unknown>,
    cause?: unknown,
  ) {
    super(CODE_OF_KIND[kind], message, { nodeId, kind, ...details }, cause);
    this.name = 'SessionError';
    this.kind = kind;
    this.nodeId = nodeId;
  }
}

function errnoOf(err: unknown): string | undefined {
  for (let depth = 0, e = err; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Classifies whatever a session implementation threw (a BallastError from the store or the
 * data-plane client, a system error) into a SessionError. */
export function toSessionError(err: unknown, nodeId: string): SessionError {
  if (err instanceof SessionError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof BallastError) {
    switch (err.code) {
      case 'FENCED':
        return new SessionError('fenced', nodeId, message, err.details, err);
      case 'SUPERSEDED':
        return new SessionError('superseded', nodeId, message, err.details, err);
      case 'CHECKSUM_MISMATCH':
        return new SessionError('checksum', nodeId, message, err.details, err);
      case 'TIMEOUT':
        return new SessionError('timeout', nodeId, message, err.details, err);
      case 'INVALID_ARGUMENT':
      case 'TOO_LARGE':
        return new SessionError('invalid', nodeId, message, err.details, err);
      case 'PROTOCOL':
      case 'UNAVAILABLE':
        return new SessionError('disconnected', nodeId, message, err.details, err);
      default:
        break;
    }
  }
  const errno = errnoOf(err);
  if (errno === 'ENOSPC' || errno === 'EDQUOT') {
    return new SessionError('no-space', nodeId, message, { errno }, err);
  }
  if (
    errno === 'ECONNRESET' ||
    errno === 'ECONNREFUSED' ||
    errno === 'EPIPE' ||
    errno === 'ENOTCONN' ||
    errno === 'EHOSTUNREACH' ||
    errno === 'ETIMEDOUT'
  ) {
    return new SessionError('disconnected', nodeId, message, { errno }, err);
  }
  return new SessionError('io', nodeId, message, errno ? { errno } : undefined, err);
}
