import { BallastError, type ErrorCode } from '@ballast/common';

/**
 * Why the core refused something. Callers match on `reason` (and `code`), never on the message.
 * - not-leader: proposals, reads and transfers go to the leader; `details.leaderId` names it
 *   when known (null when there is no leader right now).
 * - transfer-in-progress: the leader stops taking proposals while it hands over leadership.
 * - conf-change-pending: one membership change at a time; the previous one is not applied yet.
 * - invalid-conf-change, invalid-argument: the request itself is wrong.
 * - invalid-message: a message from the network is malformed or inconsistent; it changed nothing.
 * - uncommitted-limit, read-queue-full: a bound was reached; retry later.
 * - removed: this member is not part of the configuration.
 * - compacted, unavailable, snapshot-temporarily-unavailable, snapshot-out-of-date: Storage
 *   conditions (the same contract as etcd's ErrCompacted, ErrUnavailable, ...).
 */
export type RaftErrorReason =
  | 'not-leader'
  | 'transfer-in-progress'
  | 'conf-change-pending'
  | 'invalid-conf-change'
  | 'invalid-argument'
  | 'invalid-message'
  | 'uncommitted-limit'
  | 'read-queue-full'
  | 'removed'
  | 'compacted'
  | 'unavailable'
  | 'snapshot-temporarily-unavailable'
  | 'snapshot-out-of-date';

const CODES: Record<RaftErrorReason, ErrorCode> = {
  'not-leader': 'UNAVAILABLE',
  'transfer-in-progress': 'UNAVAILABLE',
  'conf-change-pending': 'CONFLICT',
  'invalid-conf-change': 'INVALID_ARGUMENT',
  'invalid-argument': 'INVALID_ARGUMENT',
  'invalid-message': 'PROTOCOL',
  'uncommitted-limit': 'RATE_LIMITED',
  'read-queue-full': 'RATE_LIMITED',
  removed: 'UNAVAILABLE',
  compacted: 'CONFLICT',
  unavailable: 'UNAVAILABLE',
  'snapshot-temporarily-unavailable': 'UNAVAILABLE',
  'snapshot-out-of-date': 'CONFLICT',
};

export class RaftError extends BallastError {
  readonly reason: RaftErrorReason;

  constructor(reason: RaftErrorReason, message: string, details?: Record<string, unknown>) {
    super(CODES[reason], message, { reason, ...details });
    this.name = 'RaftError';
    this.reason = reason;
  }
}

export function isRaftError(err: unknown, reason?: RaftErrorReason): err is RaftError {
  return err instanceof RaftError && (reason === undefined || err.reason === reason);
}

export function notLeader(leaderId: string | null): RaftError {
  return new RaftError(
    'not-leader',
    leaderId === null ? 'not leader, no leader known' : `not leader, leader is ${leaderId}`,
    { leaderId },
  );
}
