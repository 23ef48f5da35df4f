import { BallastError, type Logger } from '@ballast/common';
import {
  RaftMember,
  isMemberError,
  type CommittedEntry,
  type StateMachine,
} from '@ballast/raft-node';
import {
  ClusterMap,
  MAX_COMMAND_BYTES,
  type ApplyResult,
  type ClusterMapReader,
  type Command,
} from '../map/index.js';
import type {
  ClusterStatus,
  LeaderHint,
  MetaStore,
  WatchListener,
  WatchSubscription,
} from './meta-store.js';
import { DEFAULT_WATCH_HISTORY_EVENTS, WatchHub } from './watch-hub.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The cluster map as a Raft state machine: every committed command entry is decoded and applied,
 * its change event goes to the watch hub, and its result resolves the proposal on the leader.
 * Entries are JSON; a garbage entry is refused by the map's schema check like any bad command.
 */
export class MapStateMachine implements StateMachine<ApplyResult> {
  map: ClusterMap;
  readonly hub: WatchHub;

  constructor(watchHistoryEvents = DEFAULT_WATCH_HISTORY_EVENTS) {
    this.map = new ClusterMap();
    this.hub = new WatchHub(this.map.revision, watchHistoryEvents);
  }

  apply(entry: CommittedEntry): ApplyResult {
    let command: unknown;
    try {
      command = JSON.parse(decoder.decode(entry.data));
    } catch {
      command = null; // refused by the map's decoder with INVALID_ARGUMENT, deterministically
    }
    const { result, event } = this.map.apply(command, entry.index);
    if (event) this.hub.publish(event);
    return result;
  }

  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify(this.map.snapshot()));
  }

  restore(data: Uint8Array): void {
    this.map = ClusterMap.restore(JSON.parse(decoder.decode(data)));
    // Watchers cannot follow across a snapshot: they get `reset` and list again.
    this.hub.reset(this.map.revision, 'snapshot installed');
  }
}

export interface RaftMetaStoreOptions {
  member: RaftMember<ApplyResult>;
  stateMachine: MapStateMachine;
  /** Admin token, used to forward proposals to the leader's API. */
  token: string;
  log: Logger;
  forwardTimeoutMs?: number;
  /** The member's clock (the API's): when leadership started is measured on it. */
  clock?: () => number;
}

/** Internal route on every member: the leader proposes a command forwarded by a follower. */
export const FORWARD_PROPOSE_PATH = '/internal/v1/propose';

/**
 * MetaStore over a Raft member. Proposals on a follower are forwarded to the leader's API
 * (clients may talk to any member); reads are linearizable through ReadIndex on every member.
 */
export class RaftMetaStore implements MetaStore {
  readonly #member: RaftMember<ApplyResult>;
  readonly #sm: MapStateMachine;
  readonly #token: string;
  readonly #log: Logger;
  readonly #forwardTimeoutMs: number;
  #leaderSinceMs: number | null = null;

  constructor(options: RaftMetaStoreOptions) {
    this.#member = options.member;
    this.#sm = options.stateMachine;
    this.#token = options.token;
    this.#log = options.log;
    this.#forwardTimeoutMs = options.forwardTimeoutMs ?? 10_000;
    const clock = options.clock ?? Date.now;
    this.#member.on('leader', () => {
      this.#leaderSinceMs = this.#member.isLeader() ? (this.#leaderSinceMs ?? clock()) : null;
    });
    if (this.#member.isLeader()) this.#leaderSinceMs = clock();
  }

  get map(): ClusterMapReader {
    return this.#sm.map;
  }

  get member(): RaftMember<ApplyResult> {
    return this.#member;
  }

  async propose(command: Command): Promise<ApplyResult> {
    const bytes = encoder.encode(JSON.stringify(command));
    if (bytes.length > MAX_COMMAND_BYTES) {
      throw new BallastError(
        'TOO_LARGE',
        `command of ${bytes.length} bytes exceeds ${MAX_COMMAND_BYTES}`,
      );
    }
    if (this.#member.isLeader()) {
      try {
        return await this.#member.propose(bytes);
      } catch (err) {
        // Refused before it entered the log (leadership moved): safe to forward instead.
        if (!isMemberError(err, 'not-leader')) throw err;
      }
    }
    return this.proposeOnLeader(command);
  }

  /** Forwards to the leader's API; used by followers. */
  private async proposeOnLeader(command: Command): Promise<ApplyResult> {
    const leader = this.#member.leaderHint();
    if (!leader || !leader.api) {
      throw new BallastError('UNAVAILABLE', 'no leader right now; retry shortly', {
        leader: null,
        safeToRetry: true,
      });
    }
    if (leader.id === this.#member.id) {
      throw new BallastError('UNAVAILABLE', 'leadership is changing; retry shortly', {
        leader: null,
        safeToRetry: true,
      });
    }
    let res: Response;
    try {
      res = await fetch(leader.api.replace(/\/$/, '') + FORWARD_PROPOSE_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.#token}` },
        body: JSON.stringify({ command }),
        signal: AbortSignal.timeout(this.#forwardTimeoutMs),
      });
    } catch (err) {
      this.#log.debug({ err, leader: leader.id }, 'forwarding a proposal failed');
      throw new BallastError('UNAVAILABLE', `cannot reach the leader ${leader.id}; retry shortly`, {
        leader,
      });
    }
    const body = (await res.json().catch(() => undefined)) as
      | {
          result?: ApplyResult;
          code?: string;
          detail?: string;
          details?: { safeToRetry?: unknown };
        }
      | undefined;
    if (res.ok && body?.result) return body.result;
    const code =
      body?.code && body.code in { UNAVAILABLE: 1, TIMEOUT: 1, TOO_LARGE: 1, RATE_LIMITED: 1 }
        ? body.code
        : 'UNAVAILABLE';
    throw new BallastError(
      code as 'UNAVAILABLE',
      body?.detail ?? `the leader answered HTTP ${res.status}`,
      // The leader refused it before it entered the log: the client may simply retry.
      body?.details?.safeToRetry === true ? { leader, safeToRetry: true } : { leader },
    );
  }

  /** Runs a forwarded proposal; only the leader accepts them (no forwarding chains). */
  async proposeForwarded(command: Command): Promise<ApplyResult> {
    if (!this.#member.isLeader()) {
      throw new BallastError('UNAVAILABLE', 'not the leader', {
        leader: this.leaderHint(),
        safeToRetry: true,
      });
    }
    return this.#member.propose(encoder.encode(JSON.stringify(command)));
  }

  async linearizableRead(): Promise<void> {
    await this.#member.readBarrier();
  }

  watch(fromRevision: number, listener: WatchListener): WatchSubscription {
    return this.#sm.hub.subscribe(fromRevision, listener);
  }

  status(): ClusterStatus {
    const s = this.#member.status();
    return {
      members: s.members.map((m) => ({
        id: m.id,
        api: m.apiUrl,
        role: m.isLeader ? 'leader' : m.suffrage === 'learner' ? 'learner' : 'follower',
      })),
      leader: s.leader?.id ?? null,
      term: s.term,
      commitIndex: s.commitIndex,
    };
  }

  isLeader(): boolean {
    return this.#member.isLeader();
  }

  leaderHint(): LeaderHint | null {
    const h = this.#member.leaderHint();
    return h && h.api ? { id: h.id, api: h.api } : null;
  }

  leaderSinceMs(): number | null {
    return this.#member.isLeader() ? this.#leaderSinceMs : null;
  }
}
