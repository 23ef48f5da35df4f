import { BallastError, type ErrorCode } from '@ballast/common';

/**
 * Why a member refused or gave up on a request. Callers match on `details.reason` (and `code`),
 * never on the message.
 * - not-leader: proposals and membership changes go to the leader; `details.leader` is
 *   `{ id, api }` when a leader is known (null otherwise), `details.leaderId` its id.
 * - proposal-dropped: a new leader replaced the proposal's entry; it was NOT applied and will
 *   never be (safe to retry).
 * - timeout, stopped, outcome-unknown: the outcome is unknown (the entry may still commit, or
 *   have committed: outcome-unknown is given when a snapshot from the leader covers it).
 * - read-rejected, read-timeout: the linearizable read could not be confirmed; retry.
 * - busy: a bound on pending proposals or reads was reached; retry later.
 * - too-large: the command exceeds maxEntryBytes.
 * - wrong-data-dir: the data directory belongs to another cluster or member.
 * - failed: the member hit a fatal error (disk write or state machine) and stopped.
 */
export type MemberErrorReason =
  | 'not-leader'
  | 'proposal-dropped'
  | 'timeout'
  | 'stopped'
  | 'outcome-unknown'
  | 'read-rejected'
  | 'read-timeout'
  | 'busy'
  | 'too-large'
  | 'wrong-data-dir'
  | 'failed';

const CODES: Record<MemberErrorReason, ErrorCode> = {
  'not-leader': 'UNAVAILABLE',
  'proposal-dropped': 'UNAVAILABLE',
  timeout: 'TIMEOUT',
  stopped: 'UNAVAILABLE',
  'outcome-unknown': 'UNAVAILABLE',
  'read-rejected': 'UNAVAILABLE',
  'read-timeout': 'TIMEOUT',
  busy: 'RATE_LIMITED',
  'too-large': 'TOO_LARGE',
  'wrong-data-dir': 'CONFIG',
  failed: 'INTERNAL',
};

export function memberError(
  reason: MemberErrorReason,
  message: string,
  details?: Record<string, unknown>,
  cause?: unknown,
): BallastError {
  return new BallastError(CODES[reason], message, { reason, ...details }, cause);
}

export function isMemberError(err: unknown, reason?: MemberErrorReason): err is BallastError {
  return (
    err instanceof BallastError &&
    (reason === undefined || (err.details !== undefined && err.details['reason'] === reason))
  );
}

/** Where to send a write: the leader's id and the base URL of its API (when known). */
export interface LeaderHint {
  id: string;
  /** Base URL of the leader's API ('' when its address is unknown to this member). */
  api: string;
}

export function notLeaderError(leader: LeaderHint | null): BallastError {
  const message =
    leader === null
      ? 'not leader, no leader known'
      : `not leader, leader is ${leader.id}${leader.api ? ` at ${leader.api}` : ''}`;
  return memberError('not-leader', message, { leader, leaderId: leader?.id ?? null });
}
