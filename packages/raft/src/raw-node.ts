import { assert } from '@ballast/common';
import type { ProgressState } from './progress.js';
import { Raft, type ProposeResult, type RaftConfig } from './raft.js';
import {
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type ReadState,
  type Role,
  type Snapshot,
  type SoftState,
  isHardStateEqual,
} from './types.js';

/**
 * Everything the core wants done, in one batch. The embedder must, in this order:
 * 1. persist `hardState` (if set), append `entries` (replacing any conflicting suffix) and,
 *    if `snapshot` is set, replace the log with it; durably (fsync) when `mustSync`;
 * 2. send `messages` (only now: they may promise what step 1 wrote);
 * 3. apply `snapshot` then `committedEntries` to the state machine, in order; for an entry of
 *    type ENTRY_CONF_CHANGE, call applyConfChange(decodeConfChange(entry.data));
 *    serve `readStates` once applied >= index; fail `rejectedReads`;
 * 4. call advance().
 * Steps 1-3 may be asynchronous; tick/step/propose may be called meanwhile, but ready() not
 * again before advance().
 */
export interface Ready {
  /** Role or leader changed (not persisted; for logs, metrics and request routing). */
  readonly softState?: SoftState;
  /** Term, vote or commit changed. */
  readonly hardState?: HardState;
  /** New log entries to append to stable storage. */
  readonly entries: readonly Entry[];
  /** A snapshot from the leader, to persist (replacing the log) and to apply. */
  readonly snapshot?: Snapshot;
  /** Messages to send once step 1 is durable. */
  readonly messages: readonly Message[];
  /** Committed entries to apply, in order. */
  readonly committedEntries: readonly Entry[];
  /** Reads confirmed by a quorum: serve each once applied >= its index. */
  readonly readStates: readonly ReadState[];
  /** Contexts of reads that will not complete (leadership lost, refused by the leader). */
  readonly rejectedReads: readonly Uint8Array[];
  /** The write of step 1 must be synced before the messages go out. */
  readonly mustSync: boolean;
}

export interface PeerStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly paused: boolean;
  readonly inflightMsgs: number;
  readonly recentActive: boolean;
  readonly isLearner: boolean;
  readonly pendingSnapshot: number;
}

/** For metrics, the API and tests. `progress` is filled on the leader only. */
export interface Status {
  readonly id: string;
  readonly term: number;
  readonly vote: string;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly leaderId: string | null;
  readonly role: Role;
  readonly leadTransferee: string | null;
  readonly config: ConfState;
  readonly progress: Readonly<Record<string, PeerStatus>>;
}

/**
 * The interface an embedder drives (etcd's RawNode): inputs go in through the methods, outputs
 * come out of ready(), and advance() acknowledges that a Ready was handled.
 */
export class RawNode {
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private pending: Ready | undefined;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = config.storage.initialState().hardState;
  }

  tick(): void {
    this.raft.tick();
  }

  /** A message from a peer. Throws RaftError('invalid-message') on bad input (nothing changes). */
  step(message: Message): void {
    this.raft.step(message);
  }

  /**
   * Appends a command on the leader. Throws RaftError 'not-leader' (with details.leaderId) on
   * other members, 'transfer-in-progress' during a leadership transfer, 'uncommitted-limit'
   * when too much is in flight. The command is done when an entry with the returned index and
   * term is applied; another entry at that index means it was lost (a new leader overwrote it).
   */
  propose(data: Uint8Array): ProposeResult {
    return this.raft.propose(data);
  }

  /** One membership change at a time: throws 'conf-change-pending' while one is unapplied. */
  proposeConfChange(cc: ConfChange): ProposeResult {
    return this.raft.proposeConfChange(cc);
  }

  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  campaign(): void {
    this.raft.campaign();
  }

  transferLeadership(to: string): void {
    this.raft.transferLeadership(to);
  }

  /**
   * Asks for a linearizable read. `context` identifies the request (unique among pending reads);
   * it comes back in a ReadState (or in rejectedReads). A follower forwards it to the leader.
   */
  readIndex(context: Uint8Array): void {
    this.raft.readIndex(context);
  }

  reportUnreachable(id: string): void {
    this.raft.reportUnreachable(id);
  }

  reportSnapshot(id: string, ok: boolean): void {
    this.raft.reportSnapshot(id, ok);
  }

  hasReady(): boolean {
    if (this.pending !== undefined) return false;
    const r = this.raft;
    const ss = r.softState();
    if (ss.leaderId !== this.prevSoftState.leaderId || ss.role !== this.prevSoftState.role) {
      return true;
    }
    if (!isHardStateEqual(r.hardState(), this.prevHardState)) return true;
    return (
      r.log.unstable.snapshot !== undefined ||
      r.log.unstableEntries().length > 0 ||
      r.msgs.length > 0 ||
      r.readStates.length > 0 ||
      r.rejectedReads.length > 0 ||
      r.log.hasNextCommittedEntries()
    );
  }

  ready(): Ready {
    assert(this.pending === undefined, 'advance() the previous Ready before asking for another');
    const r = this.raft;
    const ss = r.softState();
    const hs = r.hardState();
    const softChanged =
      ss.leaderId !== this.prevSoftState.leaderId || ss.role !== this.prevSoftState.role;
    const hardChanged = !isHardStateEqual(hs, this.prevHardState);
    const entries = [...r.log.unstableEntries()];
    const committedEntries = r.log.nextCommittedEntries();
    const rd: Ready = {
      ...(softChanged ? { softState: ss } : {}),
      ...(hardChanged ? { hardState: hs } : {}),
      entries,
      ...(r.log.unstable.snapshot !== undefined ? { snapshot: r.log.unstable.snapshot } : {}),
      messages: r.msgs,
      committedEntries,
      readStates: r.readStates,
      rejectedReads: r.rejectedReads,
      mustSync:
        entries.length > 0 ||
        r.log.unstable.snapshot !== undefined ||
        hs.term !== this.prevHardState.term ||
        hs.vote !== this.prevHardState.vote,
    };
    r.msgs = [];
    r.readStates = [];
    r.rejectedReads = [];
    if (softChanged) this.prevSoftState = ss;
    r.reduceUncommittedSize(committedEntries);
    this.pending = rd;
    return rd;
  }

  /** The last Ready was persisted, sent and applied. */
  advance(): void {
    const rd = this.pending;
    assert(rd !== undefined, 'advance() without a Ready');
    const log = this.raft.log;
    if (rd.hardState !== undefined) this.prevHardState = rd.hardState;
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastCommitted !== undefined) {
      log.appliedTo(lastCommitted.index);
    } else if (rd.snapshot !== undefined && rd.snapshot.metadata.index > log.applied) {
      log.appliedTo(rd.snapshot.metadata.index);
    }
    const lastEntry = rd.entries[rd.entries.length - 1];
    if (lastEntry !== undefined) log.stableTo(lastEntry.index, lastEntry.term);
    if (rd.snapshot !== undefined) log.stableSnapTo(rd.snapshot.metadata.index);
    this.pending = undefined;
  }

  status(): Status {
    const r = this.raft;
    const progress: Record<string, PeerStatus> = {};
    if (r.role === 'leader') {
      for (const [id, pr] of r.tracker.progress) {
        progress[id] = {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          paused: pr.isPaused(),
          inflightMsgs: pr.inflights.count,
          recentActive: pr.recentActive,
          isLearner: pr.isLearner,
          pendingSnapshot: pr.pendingSnapshot,
        };
      }
    }
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.log.committed,
      applied: r.log.applied,
      firstIndex: r.log.firstIndex(),
      lastIndex: r.log.lastIndex(),
      leaderId: r.lead === '' ? null : r.lead,
      role: r.role,
      leadTransferee: r.leadTransferee === '' ? null : r.leadTransferee,
      config: r.tracker.confState(),
      progress,
    };
  }
}
