import type { ApplyResult, ClusterMapReader, Command, MapEvent } from '../map/index.js';

/**
 * What the REST API needs from the replicated cluster map. The API never sees Raft: the
 * Raft-backed store (to come) and DirectMetaStore (one process, for tests and a 1-member dev
 * mode) implement this same contract.
 *
 * Contract:
 * - `propose` puts one command through the log and resolves with the result of applying it
 *   (accepted or refused with a code) once it is committed and applied. A proposal on a member
 *   that is not the leader is forwarded to the leader or rejected; with no leader it rejects
 *   with BallastError('UNAVAILABLE', ..., { leader: LeaderHint | null }). Rejection means the
 *   command may or may not have been committed (as with any consensus system after a timeout);
 *   commands are written to be safe to retry (see the README).
 * - `linearizableRead` resolves once `map` reflects every command committed before the call
 *   (Raft ReadIndex, or a lease proven safe); it rejects with UNAVAILABLE when it cannot.
 * - `map` is this member's applied state. Read it after `linearizableRead` for an up-to-date
 *   answer; it is never ahead of the log.
 * - `watch` replays events from `fromRevision` and then streams new ones, in revision order,
 *   without gaps. History is bounded: a revision older than the oldest kept one is refused with
 *   `compacted` and the client must list again. When the member installs a snapshot (or loses
 *   history some other way) every watcher gets `reset` and is dropped.
 * - `status` describes the membership for GET /v1/cluster.
 * - `isLeader`/`leaderHint`/`leaderSinceMs`: who leads, for work only the leader does (liveness
 *   from heartbeats, control loops).
 */
export interface MetaStore {
  readonly map: ClusterMapReader;
  propose(command: Command): Promise<ApplyResult>;
  linearizableRead(): Promise<void>;
  watch(fromRevision: number, listener: WatchListener): WatchSubscription;
  status(): ClusterStatus;
  isLeader(): boolean;
  leaderHint(): LeaderHint | null;
  /** When this member last became leader (ms since epoch), or null when it is not the leader. */
  leaderSinceMs(): number | null;
}

export interface LeaderHint {
  id: string;
  /** Base URL of the leader's REST API. */
  api: string;
}

export interface ClusterMember {
  id: string;
  api: string;
  role: 'leader' | 'follower' | 'candidate' | 'learner' | 'unknown';
}

export interface ClusterStatus {
  members: ClusterMember[];
  leader: string | null;
  term: number;
  commitIndex: number;
}

export type WatchMessage =
  | { type: 'event'; event: MapEvent }
  /** Replay is done: everything up to `revision` has been sent; live events follow. */
  | { type: 'synced'; revision: number }
  /** History was lost (snapshot installed, leadership or member change): list again. */
  | { type: 'reset'; revision: number; reason: string };

export type WatchListener = (message: WatchMessage) => void;

export type WatchSubscription =
  | { ok: true; cancel(): void }
  | {
      ok: false;
      reason: 'compacted' | 'future';
      /** Oldest revision that can still be watched from. */
      oldestRevision: number;
      currentRevision: number;
      message: string;
    };
