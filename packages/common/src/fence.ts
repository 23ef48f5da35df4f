import { BallastError } from './errors.js';

/**
 * Who may change a replica (decision D17). A node persists the highest fence it has seen per
 * volume and refuses every request of a session opened under a lower one:
 * - `epoch`: the volume's attach epoch; a new attach (a new writer host) bumps it.
 * - `incarnation`: this node's replica of the volume as a member of the set. The map gives it a
 *   new one (the Raft log index of the change) each time the replica enters the set, is demoted
 *   to stale, or is re-added, so a session of an earlier incarnation (its writes still queued in
 *   a socket) can never write to the replica once the node has learned of the change.
 * Fences compare by epoch first, then incarnation.
 */
export interface Fence {
  readonly epoch: number;
  readonly incarnation: number;
}

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareFence(a: Fence, b: Fence): number {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  if (a.incarnation !== b.incarnation) return a.incarnation < b.incarnation ? -1 : 1;
  return 0;
}

export function formatFence(f: Fence): string {
  return `epoch ${f.epoch} incarnation ${f.incarnation}`;
}

export function isFence(value: unknown): value is Fence {
  if (typeof value !== 'object' || value === null) return false;
  const f = value as { epoch?: unknown; incarnation?: unknown };
  return isCount(f.epoch) && isCount(f.incarnation);
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/**
 * The refusal for a session under `fence` when `highest` is persisted: FENCED when a newer
 * epoch (another writer) holds the volume, SUPERSEDED when only the replica's incarnation moved
 * on (this replica session was given up and the replica re-entered the set since).
 */
export function fenceRefusal(volumeId: string, fence: Fence, highest: Fence): BallastError {
  const details = {
    volumeId,
    epoch: fence.epoch,
    incarnation: fence.incarnation,
    highestEpoch: highest.epoch,
    highestIncarnation: highest.incarnation,
  };
  if (fence.epoch < highest.epoch) {
    return new BallastError(
      'FENCED',
      `volume ${volumeId}: epoch ${fence.epoch} is older than ${highest.epoch}, the highest this node has seen`,
      details,
    );
  }
  return new BallastError(
    'SUPERSEDED',
    `volume ${volumeId}: replica incarnation ${fence.incarnation} was superseded by ${highest.incarnation} at epoch ${highest.epoch}`,
    details,
  );
}
