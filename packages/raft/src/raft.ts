import { BallastError, assert } from '@ballast/common';
import { isConfChangeEntry, encodeConfChange, validateConfChange } from './conf-change.js';
import { RaftError, isRaftError, notLeader } from './errors.js';
import { RaftLog } from './log.js';
import { type Progress, ProgressTracker } from './progress.js';
import { voteResult } from './quorum.js';
import { ReadOnly, type ReadRequest } from './read-only.js';
import type { Rng } from './rng.js';
import type { Storage } from './storage.js';
import {
  ConfChangeType,
  EntryType,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  NO_VOTE,
  type ReadState,
  type Role,
  type Snapshot,
  type SoftState,
  entrySizeBytes,
  payloadSizeBytes,
} from './types.js';
import { type Body, type InboundMessage, parseMessage } from './validate.js';

export interface RaftConfig {
  /** This member's id (never reused, never an address). */
  id: string;
  /** Stamped on every message sent; messages carrying another cluster id are refused. */
  clusterId?: string;
  storage: Storage;
  /** Election timeout jitter comes from here only. */
  rng: Rng;
  /** A follower campaigns after [electionTicks, 2*electionTicks) ticks without a leader. */
  electionTicks?: number;
  /** The leader sends heartbeats every heartbeatTicks ticks. */
  heartbeatTicks?: number;
  /** Last index the application applied before this restart (default: the snapshot index). */
  applied?: number;
  /** Entries per AppendEntries are cut at this many bytes (at least one entry always goes). */
  maxMsgBytes?: number;
  /** AppendEntries in flight per follower in replicate state. */
  maxInflightMsgs?: number;
  /** Bytes in flight per follower (0 = no byte limit). */
  maxInflightBytes?: number;
  /** Committed entries handed out per Ready. */
  maxApplyBytesPerReady?: number;
  /** Proposals are refused once this many payload bytes are uncommitted on the leader. */
  maxUncommittedBytes?: number;
  /** ReadIndex requests waiting on the leader. */
  maxPendingReads?: number;
  /** The leader steps down when it has not heard from a quorum within an election timeout. */
  checkQuorum?: boolean;
  /** A node asks whether it could win before disrupting the cluster with a new term. */
  preVote?: boolean;
  /** A snapshot send with no answer after this many leader ticks is retried. */
  snapshotTimeoutTicks?: number;
}

export interface ProposeResult {
  /** The entry's index: the proposal is done when an entry at this index and term is applied. */
  readonly index: number;
  readonly term: number;
}

type CampaignKind = 'pre-election' | 'election' | 'transfer';

const NONE = '';
const EMPTY_BYTES = new Uint8Array(0);

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new BallastError('CONFIG', `${name} must be a positive integer, got ${v}`);
  }
  return v;
}

/**
 * The Raft state machine (etcd-io/raft's raft.go, rewritten). Deterministic: no clock, no I/O.
 * Inputs: tick(), step(message), propose..., readIndex, transferLeadership. Outputs accumulate in
 * `msgs`, `readStates`, `rejectedReads` and the log, and leave through RawNode's Ready.
 */
export class Raft {
  readonly id: string;
  readonly clusterId: string;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;

  term = 0;
  vote = NO_VOTE;
  lead = NONE;
  role: Role = 'follower';

  msgs: Message[] = [];
  readStates: ReadState[] = [];
  rejectedReads: Uint8Array[] = [];

  leadTransferee = NONE;
  /** A conf change at or below this index is in the log; no new one until it is applied. */
  pendingConfIndex = 0;
  uncommittedBytes = 0;

  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;

  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  private readonly maxMsgBytes: number;
  private readonly maxUncommittedBytes: number;
  private readonly maxPendingReads: number;
  private readonly snapshotTimeoutTicks: number;
  private readonly rng: Rng;
  private readonly readOnly = new ReadOnly();
  /** Reads that arrived before the leader committed an entry of its term. */
  private pendingReadIndex: ReadRequest[] = [];

  constructor(config: RaftConfig) {
    if (typeof config.id !== 'string' || config.id.length === 0) {
      throw new BallastError('CONFIG', 'raft member id must be a non-empty string');
    }
    this.id = config.id;
    this.clusterId = config.clusterId ?? '';
    this.rng = config.rng;
    this.electionTicks = positiveInt('electionTicks', config.electionTicks ?? 10);
    this.heartbeatTicks = positiveInt('heartbeatTicks', config.heartbeatTicks ?? 1);
    if (this.heartbeatTicks >= this.electionTicks) {
      throw new BallastError('CONFIG', 'heartbeatTicks must be smaller than electionTicks');
    }
    this.maxMsgBytes = positiveInt('maxMsgBytes', config.maxMsgBytes ?? 1024 * 1024);
    this.maxUncommittedBytes = positiveInt(
      'maxUncommittedBytes',
      config.maxUncommittedBytes ?? 64 * 1024 * 1024,
    );
    this.maxPendingReads = positiveInt('maxPendingReads', config.maxPendingReads ?? 4096);
    this.snapshotTimeoutTicks = positiveInt(
      'snapshotTimeoutTicks',
      config.snapshotTimeoutTicks ?? this.electionTicks * 10,
    );
    this.checkQuorum = config.checkQuorum ?? true;
    this.preVote = config.preVote ?? true;
    const maxInflightBytes = config.maxInflightBytes ?? 0;
    if (!Number.isSafeInteger(maxInflightBytes) || maxInflightBytes < 0) {
      throw new BallastError('CONFIG', 'maxInflightBytes must be a non-negative integer');
    }
    this.tracker = new ProgressTracker(
      positiveInt('maxInflightMsgs', config.maxInflightMsgs ?? 256),
      maxInflightBytes,
    );
    this.log = new RaftLog(
      config.storage,
      positiveInt('maxApplyBytesPerReady', config.maxApplyBytesPerReady ?? 16 * 1024 * 1024),
    );

    const { hardState, confState } = config.storage.initialState();
    this.tracker.setConfig(confState, this.log.lastIndex() + 1);
    this.loadState(hardState);
    if (config.applied !== undefined && config.applied > this.log.applied) {
      if (!Number.isSafeInteger(config.applied) || config.applied > this.log.committed) {
        throw new BallastError(
          'CONFIG',
          `applied ${config.applied} is beyond the persisted commit index ${this.log.committed}`,
        );
      }
      this.log.appliedTo(config.applied);
    }
    this.becomeFollower(this.term, NONE);
  }

  private loadState(hs: HardState): void {
    if (hs.term === 0 && hs.vote === NO_VOTE && hs.commit === 0) return;
    assert(
      hs.commit >= this.log.committed && hs.commit <= this.log.lastIndex(),
      `persisted commit ${hs.commit} out of range [${this.log.committed}, ${this.log.lastIndex()}]`,
    );
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  softState(): SoftState {
    return { leaderId: this.lead === NONE ? null : this.lead, role: this.role };
  }

  // ---------------------------------------------------------------------------------------
  // Role transitions

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTicks + this.rng.intBelow(this.electionTicks);
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NO_VOTE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.tracker.resetVotes();
    const last = this.log.lastIndex();
    for (const [id, pr] of this.tracker.progress) {
      const fresh = this.tracker.newProgress(last + 1, pr.isLearner);
      if (id === this.id) fresh.match = last;
      this.tracker.progress.set(id, fresh);
    }
    this.pendingConfIndex = 0;
    this.uncommittedBytes = 0;
    this.dropPendingReads();
  }

  becomeFollower(term: number, lead: string): void {
    this.reset(term);
    this.lead = lead;
    this.role = 'follower';
  }

  private becomeCandidate(): void {
    assert(this.role !== 'leader', 'leader cannot become candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomePreCandidate(): void {
    assert(this.role !== 'leader', 'leader cannot become pre-candidate');
    // Neither the term nor the vote changes: that is the point of the pre-vote.
    this.tracker.resetVotes();
    this.lead = NONE;
    this.role = 'pre-candidate';
    this.resetRandomizedElectionTimeout();
  }

  private becomeLeader(): void {
    assert(this.role !== 'follower', 'follower cannot become leader without an election');
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    const self = this.tracker.progress.get(this.id);
    assert(self !== undefined, 'leader must be in its configuration');
    self.becomeReplicate();
    self.recentActive = true;
    // Conf changes already in the log may not be applied yet: refuse new ones until they are.
    this.pendingConfIndex = this.log.lastIndex();
    // The empty entry of the new term: committing it commits everything before it (§5.4.2)
    // and lets ReadIndex start serving.
    this.appendEntries([{ type: EntryType.ENTRY_NORMAL, data: EMPTY_BYTES }]);
  }

  promotable(): boolean {
    return this.tracker.isVoter(this.id) && this.log.unstable.snapshot === undefined;
  }

  // ---------------------------------------------------------------------------------------
  // Time

  tick(): void {
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(this.preVote ? 'pre-election' : 'election');
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTicks) {
      this.electionElapsed = 0;
      if (this.checkQuorum) {
        if (!this.tracker.quorumActive(this.id)) {
          this.becomeFollower(this.term, NONE);
          return;
        }
        for (const [id, pr] of this.tracker.progress) if (id !== this.id) pr.recentActive = false;
      }
      // A transfer that has not finished within an election timeout is abandoned.
      if (this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    for (const [id, pr] of this.tracker.progress) {
      if (pr.state === 'snapshot' && ++pr.snapshotTicks > this.snapshotTimeoutTicks) {
        pr.becomeProbe();
        this.sendAppend(id);
      }
    }
    if (this.heartbeatElapsed >= this.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
  }

  // ---------------------------------------------------------------------------------------
  // Elections

  /** Starts an election now (as an election timeout would). */
  campaign(): void {
    this.hup(this.preVote ? 'pre-election' : 'election');
  }

  private hup(kind: CampaignKind): void {
    if (this.role === 'leader') return;
    if (!this.promotable()) return;
    // A configuration change is committed but not applied yet: the configuration we would
    // campaign with may be stale.
    if (this.log.hasUnappliedConfChange(isConfChangeEntry)) return;
    this.doCampaign(kind);
  }

  private doCampaign(kind: CampaignKind): void {
    let voteTerm: number;
    if (kind === 'pre-election') {
      this.becomePreCandidate();
      voteTerm = this.term + 1;
    } else {
      this.becomeCandidate();
      voteTerm = this.term;
    }
    this.tracker.recordVote(this.id, true);
    if (this.tracker.tallyVotes().result === 'won') {
      // A single-voter configuration wins at once.
      if (kind === 'pre-election') this.doCampaign('election');
      else this.becomeLeader();
      return;
    }
    const lastLogIndex = this.log.lastIndex();
    const lastLogTerm = this.log.lastTerm();
    for (const id of this.tracker.voters) {
      if (id === this.id) continue;
      this.send(id, voteTerm, {
        requestVote: {
          lastLogIndex,
          lastLogTerm,
          preVote: kind === 'pre-election',
          leaderTransfer: kind === 'transfer',
        },
      });
    }
  }

  // ---------------------------------------------------------------------------------------
  // Messages

  private send(to: string, term: number, body: Partial<Message>): void {
    this.msgs.push({ clusterId: this.clusterId, from: this.id, to, term, ...body });
  }

  /**
   * Feeds one message from the network. A malformed message (or one inconsistent with this
   * member's log in a way only corruption explains) throws RaftError('invalid-message') and
   * changes nothing.
   */
  step(raw: Message): void {
    const m = parseMessage(raw, this.id, this.clusterId);
    const b = m.body;
    // Checks that need this member's state, still before anything changes.
    const last = this.log.lastIndex();
    if (b.kind === 'heartbeat' && m.term >= this.term && b.commit > last) {
      // The leader only sends commit <= our match; more means our log lost entries.
      throw new RaftError(
        'invalid-message',
        `heartbeat commit ${b.commit} beyond last index ${last}`,
      );
    }
    if (
      m.term === this.term &&
      ((b.kind === 'appendEntriesResponse' && b.success && b.matchIndex > last) ||
        (b.kind === 'installSnapshotResponse' && b.success && b.index > last))
    ) {
      // A follower cannot hold entries this leader never had.
      throw new RaftError('invalid-message', `acknowledgement beyond last index ${last}`);
    }

    if (m.term > this.term) {
      if (b.kind === 'requestVote') {
        // With check-quorum, a member that heard from a leader within the election timeout
        // ignores campaigns: a partitioned member that comes back cannot depose a healthy
        // leader. A transfer the leader asked for is the exception.
        const inLease =
          this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTicks;
        if (inLease && !b.leaderTransfer) return;
      }
      if (b.kind === 'requestVote' && b.preVote) {
        // Never change term for a pre-vote.
      } else if (b.kind === 'requestVoteResponse' && b.preVote && b.granted) {
        // Pre-votes are granted at the term we would campaign with; the term moves when we do.
      } else if (
        b.kind === 'appendEntries' ||
        b.kind === 'heartbeat' ||
        b.kind === 'installSnapshot'
      ) {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if (
        (this.checkQuorum || this.preVote) &&
        (b.kind === 'appendEntries' || b.kind === 'heartbeat')
      ) {
        // A leader of an older term: maybe just a delayed message, maybe a leader cut off
        // while we moved on. Our term in the answer makes it step down; without this, pre-vote
        // and check-quorum could leave it stuck on its old term.
        this.send(m.from, this.term, { appendEntriesResponse: { success: false } });
      } else if (b.kind === 'requestVote' && b.preVote) {
        this.send(m.from, this.term, { requestVoteResponse: { granted: false, preVote: true } });
      }
      return;
    }

    if (b.kind === 'requestVote') {
      this.handleVoteRequest(m, b);
      return;
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        break;
      case 'candidate':
      case 'pre-candidate':
        this.stepCandidate(m);
        break;
      case 'follower':
        this.stepFollower(m);
        break;
    }
  }

  private handleVoteRequest(m: InboundMessage, b: Extract<Body, { kind: 'requestVote' }>): void {
    // We can vote if we already voted for this candidate in this term, or have not voted and
    // know no leader; a pre-vote for a future term is always open (nothing is recorded).
    const canVote =
      this.vote === m.from ||
      (this.vote === NO_VOTE && this.lead === NONE) ||
      (b.preVote && m.term > this.term);
    if (canVote && this.log.isUpToDate(b.lastLogIndex, b.lastLogTerm)) {
      this.send(m.from, m.term, { requestVoteResponse: { granted: true, preVote: b.preVote } });
      if (!b.preVote) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send(m.from, this.term, {
        requestVoteResponse: { granted: false, preVote: b.preVote },
      });
    }
  }

  private stepLeader(m: InboundMessage): void {
    const b = m.body;
    if (b.kind === 'readIndex') {
      this.handleReadRequest({ from: m.from, context: b.context });
      return;
    }
    const pr = this.tracker.progress.get(m.from);
    if (pr === undefined) return; // not (or no longer) a member
    switch (b.kind) {
      case 'appendEntriesResponse':
        pr.recentActive = true;
        if (!b.success) {
          if (pr.maybeDecrTo(b.rejectIndex, b.rejectHint)) {
            if (pr.state === 'replicate') pr.becomeProbe();
            this.sendAppend(m.from);
          }
          return;
        }
        this.onAppendAcked(m.from, pr, b.matchIndex);
        return;
      case 'heartbeatResponse':
        pr.recentActive = true;
        pr.msgAppFlowPaused = false;
        // Also when the window is full: if every message in it was lost, this empty append is
        // what makes the follower answer (and reject) so replication resumes.
        if (pr.match < this.log.lastIndex() || pr.state === 'probe') this.sendAppend(m.from);
        if (b.context.length > 0) this.onReadAck(m.from, b.context);
        return;
      case 'installSnapshotResponse':
        pr.recentActive = true;
        if (!b.success) {
          if (pr.state === 'snapshot') {
            pr.becomeProbe();
            pr.msgAppFlowPaused = true; // retry after the next heartbeat answer
          }
          return;
        }
        if (pr.state === 'snapshot') {
          pr.maybeUpdate(b.index);
          pr.becomeProbe();
          if (pr.match + 1 >= this.log.firstIndex()) pr.becomeReplicate();
          if (this.leaderMaybeCommit()) this.bcastAppend();
          else this.sendAppend(m.from);
          this.maybeFinishTransfer(m.from, pr);
        } else {
          this.onAppendAcked(m.from, pr, b.index);
        }
        return;
      default:
        // Vote responses from a finished election, a stray TimeoutNow or ReadIndexResponse.
        return;
    }
  }

  private onAppendAcked(from: string, pr: Progress, index: number): void {
    const wasPaused = pr.isPaused();
    if (!(pr.maybeUpdate(index) || (pr.match === index && pr.state === 'probe'))) return;
    if (pr.state === 'probe') {
      pr.becomeReplicate();
    } else if (pr.state === 'snapshot' && pr.match + 1 >= this.log.firstIndex()) {
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') {
      pr.inflights.freeLE(index);
      pr.msgAppFlowPaused = pr.inflights.full();
    }
    if (this.leaderMaybeCommit()) {
      this.bcastAppend();
    } else if (wasPaused) {
      this.sendAppend(from);
    }
    // Fill the window: pipelining sends as many (size-bounded) messages as flow control allows.
    // Each round either sends entries (moving next) or stops, so this ends.
    while (this.maybeSendAppend(from, false)) {
      /* keep sending */
    }
    this.maybeFinishTransfer(from, pr);
  }

  private maybeFinishTransfer(from: string, pr: Progress): void {
    if (from === this.leadTransferee && pr.match === this.log.lastIndex()) {
      this.send(from, this.term, { timeoutNow: {} });
    }
  }

  private stepCandidate(m: InboundMessage): void {
    const b = m.body;
    switch (b.kind) {
      case 'appendEntries':
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m, b);
        return;
      case 'heartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m, b);
        return;
      case 'installSnapshot':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m, b.snapshot);
        return;
      case 'requestVoteResponse': {
        // Only answers to the round we are running count.
        if (b.preVote !== (this.role === 'pre-candidate')) return;
        this.tracker.recordVote(m.from, b.granted);
        const { result } = this.tracker.tallyVotes();
        if (result === 'won') {
          if (this.role === 'pre-candidate') {
            this.doCampaign('election');
          } else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (result === 'lost') {
          // A pre-vote lost with a higher term already made us a follower of that term.
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
      case 'readIndex':
        this.send(m.from, this.term, {
          readIndexResponse: { index: 0, context: b.context, ok: false },
        });
        return;
      default:
        return;
    }
  }

  private stepFollower(m: InboundMessage): void {
    const b = m.body;
    switch (b.kind) {
      case 'appendEntries':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m, b);
        return;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m, b);
        return;
      case 'installSnapshot':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m, b.snapshot);
        return;
      case 'timeoutNow':
        // The leader hands over: campaign at once, skipping the pre-vote (voters ignore their
        // lease for a transfer).
        if (this.promotable() && !this.log.hasUnappliedConfChange(isConfChangeEntry)) {
          this.doCampaign('transfer');
        }
        return;
      case 'readIndex':
        // Only the leader serves reads; the asker retries at the leader it knows.
        this.send(m.from, this.term, {
          readIndexResponse: { index: 0, context: b.context, ok: false },
        });
        return;
      case 'readIndexResponse':
        if (b.ok) this.readStates.push({ index: b.index, context: b.context });
        else this.rejectedReads.push(b.context);
        return;
      default:
        return;
    }
  }

  private handleAppendEntries(
    m: InboundMessage,
    b: Extract<Body, { kind: 'appendEntries' }>,
  ): void {
    if (b.prevLogIndex < this.log.committed) {
      // Everything up to our commit index matches the leader's log already.
      this.send(m.from, this.term, {
        appendEntriesResponse: { success: true, matchIndex: this.log.committed },
      });
      return;
    }
    const lastNew = this.log.maybeAppend(b.prevLogIndex, b.prevLogTerm, b.leaderCommit, b.entries);
    if (lastNew !== undefined) {
      this.send(m.from, this.term, {
        appendEntriesResponse: { success: true, matchIndex: lastNew },
      });
      return;
    }
    // Our log does not hold (prevLogIndex, prevLogTerm). Hint the largest index that may match:
    // the last one at or below prevLogIndex whose term is <= prevLogTerm, which skips a whole
    // divergent tail of later terms in one round trip.
    const hint = this.log.findConflictByTerm(
      Math.min(b.prevLogIndex, this.log.lastIndex()),
      b.prevLogTerm,
    );
    this.send(m.from, this.term, {
      appendEntriesResponse: { success: false, rejectIndex: b.prevLogIndex, rejectHint: hint },
    });
  }

  private handleHeartbeat(m: InboundMessage, b: Extract<Body, { kind: 'heartbeat' }>): void {
    this.log.commitTo(b.commit);
    this.send(m.from, this.term, { heartbeatResponse: { context: b.context } });
  }

  private handleSnapshot(m: InboundMessage, s: Snapshot): void {
    if (this.restore(s)) {
      this.send(m.from, this.term, {
        installSnapshotResponse: { index: this.log.lastIndex(), success: true },
      });
    } else {
      this.send(m.from, this.term, {
        installSnapshotResponse: { index: this.log.committed, success: true },
      });
    }
  }

  /** Installs a snapshot from the leader. False when it brings nothing new. */
  private restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.log.committed) return false;
    assert(this.role === 'follower', 'only a follower installs a snapshot');
    if (this.log.matchTerm(s.metadata.index, s.metadata.term)) {
      // Our log already has the snapshot's last entry, hence (log matching) everything before
      // it: just learn that it is committed.
      this.log.commitTo(s.metadata.index);
      return false;
    }
    this.log.restore(s);
    for (const id of [...this.tracker.progress.keys()]) this.tracker.progress.delete(id);
    this.tracker.setConfig(s.metadata.confState, this.log.lastIndex() + 1);
    return true;
  }

  // ---------------------------------------------------------------------------------------
  // Replication (leader)

  private sendAppend(to: string): void {
    this.maybeSendAppend(to, true);
  }

  /** Sends the next AppendEntries (or a snapshot) to `to` if flow control allows. */
  private maybeSendAppend(to: string, sendIfEmpty: boolean): boolean {
    const pr = this.tracker.progress.get(to);
    if (pr === undefined || to === this.id || pr.isPaused()) return false;
    const prevLogIndex = pr.next - 1;
    const prevLogTerm = this.log.term(prevLogIndex);
    let ents: Entry[] | undefined = [];
    // With a full window only empty appends go out (see the heartbeat answer).
    if (pr.state !== 'replicate' || !pr.inflights.full()) {
      try {
        ents = this.log.entries(pr.next, this.maxMsgBytes);
      } catch (err) {
        if (!isRaftError(err, 'compacted')) throw err;
        ents = undefined;
      }
    }
    if (prevLogTerm === undefined || ents === undefined) return this.sendSnapshot(to, pr);
    if (ents.length === 0 && !sendIfEmpty) return false;
    let sizeBytes = 0;
    for (const e of ents) sizeBytes += entrySizeBytes(e);
    this.send(to, this.term, {
      appendEntries: {
        prevLogIndex,
        prevLogTerm,
        entries: ents,
        leaderCommit: this.log.committed,
      },
    });
    pr.sentEntries(ents.length, prevLogIndex + ents.length, sizeBytes);
    return true;
  }

  private sendSnapshot(to: string, pr: Progress): boolean {
    // A follower we have not heard from lately may be down: do not ship it a snapshot yet.
    if (!pr.recentActive) return false;
    let snap: Snapshot;
    try {
      snap = this.log.snapshot();
    } catch (err) {
      if (isRaftError(err, 'snapshot-temporarily-unavailable')) return false;
      throw err;
    }
    assert(snap.metadata.index > 0, 'log compacted without a snapshot');
    this.send(to, this.term, {
      installSnapshot: { metadata: snap.metadata, offset: 0, data: snap.data, done: true },
    });
    pr.becomeSnapshot(snap.metadata.index);
    return true;
  }

  private bcastAppend(): void {
    for (const id of this.tracker.progress.keys()) if (id !== this.id) this.sendAppend(id);
  }

  private bcastHeartbeat(context?: Uint8Array): void {
    const ctx = context ?? this.readOnly.lastPendingContext() ?? EMPTY_BYTES;
    for (const [id, pr] of this.tracker.progress) {
      if (id === this.id) continue;
      // Never more than the follower's match: it may not have the entries beyond it.
      const commit = Math.min(pr.match, this.log.committed);
      this.send(id, this.term, { heartbeat: { commit, context: ctx } });
    }
  }

  private leaderMaybeCommit(): boolean {
    const mci = this.tracker.committed();
    // Only an entry of the current term commits by counting replicas (§5.4.2, Figure 8).
    if (!this.log.maybeCommit(mci, this.term)) return false;
    if (this.pendingReadIndex.length > 0 && this.committedEntryInCurrentTerm()) {
      const waiting = this.pendingReadIndex;
      this.pendingReadIndex = [];
      for (const req of waiting) this.startRead(req);
    }
    return true;
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  private appendEntries(es: readonly { type: EntryType; data: Uint8Array }[]): ProposeResult {
    const li = this.log.lastIndex();
    const ents: Entry[] = es.map((e, i) => ({
      term: this.term,
      index: li + 1 + i,
      type: e.type,
      data: e.data,
    }));
    let size = 0;
    for (const e of ents) size += payloadSizeBytes(e);
    if (
      this.uncommittedBytes > 0 &&
      size > 0 &&
      this.uncommittedBytes + size > this.maxUncommittedBytes
    ) {
      throw new RaftError('uncommitted-limit', 'too much uncommitted data; retry later', {
        uncommittedBytes: this.uncommittedBytes,
      });
    }
    this.uncommittedBytes += size;
    const last = this.log.append(ents);
    this.tracker.progress.get(this.id)?.maybeUpdate(last);
    this.leaderMaybeCommit();
    return { index: last, term: this.term };
  }

  /** Called with the committed entries handed to the application. */
  reduceUncommittedSize(ents: readonly Entry[]): void {
    if (this.role !== 'leader') return;
    let size = 0;
    for (const e of ents) size += payloadSizeBytes(e);
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes - size);
  }

  // ---------------------------------------------------------------------------------------
  // Proposals

  private checkCanPropose(): void {
    if (this.role !== 'leader') throw notLeader(this.lead === NONE ? null : this.lead);
    if (!this.tracker.progress.has(this.id)) {
      throw new RaftError('removed', 'this member is not in the configuration');
    }
    if (this.leadTransferee !== NONE) {
      throw new RaftError(
        'transfer-in-progress',
        `leadership is being transferred to ${this.leadTransferee}`,
        { transferee: this.leadTransferee },
      );
    }
  }

  propose(data: Uint8Array): ProposeResult {
    if (!(data instanceof Uint8Array)) {
      throw new RaftError('invalid-argument', 'proposal data must be bytes');
    }
    this.checkCanPropose();
    const r = this.appendEntries([{ type: EntryType.ENTRY_NORMAL, data }]);
    this.bcastAppend();
    return r;
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    validateConfChange(cc);
    this.checkCanPropose();
    if (this.pendingConfIndex > this.log.applied) {
      throw new RaftError(
        'conf-change-pending',
        `a configuration change at index ${this.pendingConfIndex} is not applied yet`,
        { pendingIndex: this.pendingConfIndex, applied: this.log.applied },
      );
    }
    const voter = this.tracker.voters.includes(cc.nodeId);
    const learner = this.tracker.learners.includes(cc.nodeId);
    switch (cc.type) {
      case ConfChangeType.CONF_ADD_VOTER:
        if (voter) throw new RaftError('invalid-conf-change', `${cc.nodeId} is already a voter`);
        break;
      case ConfChangeType.CONF_ADD_LEARNER:
        if (voter) {
          throw new RaftError(
            'invalid-conf-change',
            `demoting voter ${cc.nodeId} is not supported`,
          );
        }
        if (learner)
          throw new RaftError('invalid-conf-change', `${cc.nodeId} is already a learner`);
        break;
      case ConfChangeType.CONF_REMOVE_NODE:
        if (!voter && !learner) {
          throw new RaftError('invalid-conf-change', `${cc.nodeId} is not a member`);
        }
        if (voter && this.tracker.voters.length === 1) {
          throw new RaftError('invalid-conf-change', 'cannot remove the last voter');
        }
        break;
    }
    const r = this.appendEntries([
      { type: EntryType.ENTRY_CONF_CHANGE, data: encodeConfChange(cc) },
    ]);
    this.pendingConfIndex = r.index;
    this.bcastAppend();
    return r;
  }

  /**
   * Applies a committed conf change (the application calls this when it applies the entry, on
   * every member, in log order) and returns the new configuration to record with its state.
   */
  applyConfChange(cc: ConfChange): ConfState {
    validateConfChange(cc);
    const voters = new Set(this.tracker.voters);
    const learners = new Set(this.tracker.learners);
    switch (cc.type) {
      case ConfChangeType.CONF_ADD_VOTER:
        learners.delete(cc.nodeId);
        voters.add(cc.nodeId);
        break;
      case ConfChangeType.CONF_ADD_LEARNER:
        // Demotion is refused when proposed; an entry asking for it changes nothing.
        if (!voters.has(cc.nodeId)) learners.add(cc.nodeId);
        break;
      case ConfChangeType.CONF_REMOVE_NODE:
        // Never remove the last voter (refused when proposed as well).
        if (!(voters.has(cc.nodeId) && voters.size === 1)) {
          voters.delete(cc.nodeId);
          learners.delete(cc.nodeId);
        }
        break;
    }
    return this.switchToConfig({ voters: [...voters], learners: [...learners] });
  }

  private switchToConfig(conf: ConfState): ConfState {
    this.tracker.setConfig(conf, this.log.lastIndex() + 1);
    const cs = this.tracker.confState();
    if (this.role !== 'leader') return cs;
    if (!this.tracker.isVoter(this.id)) {
      // The leader was removed: step down, the remaining voters elect a new leader.
      this.becomeFollower(this.term, NONE);
      return cs;
    }
    // The quorum changed: commit may move, and new members need their first append.
    if (this.leaderMaybeCommit()) this.bcastAppend();
    else for (const id of this.tracker.progress.keys()) this.maybeSendAppend(id, false);
    if (this.leadTransferee !== NONE && !this.tracker.isVoter(this.leadTransferee)) {
      this.abortLeaderTransfer();
    }
    return cs;
  }

  // ---------------------------------------------------------------------------------------
  // Leadership transfer

  transferLeadership(to: string): void {
    if (this.role !== 'leader') throw notLeader(this.lead === NONE ? null : this.lead);
    if (to === this.id) return;
    const pr = this.tracker.progress.get(to);
    if (pr === undefined || pr.isLearner) {
      throw new RaftError('invalid-argument', `${to} is not a voter`);
    }
    if (this.leadTransferee === to) return;
    this.abortLeaderTransfer();
    // The transfer must finish within an election timeout (checked in tickHeartbeat).
    this.electionElapsed = 0;
    this.leadTransferee = to;
    if (pr.match === this.log.lastIndex()) this.send(to, this.term, { timeoutNow: {} });
    else this.sendAppend(to);
  }

  private abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  // ---------------------------------------------------------------------------------------
  // Linearizable reads (ReadIndex)

  readIndex(context: Uint8Array): void {
    if (!(context instanceof Uint8Array) || context.length === 0) {
      throw new RaftError('invalid-argument', 'a read needs a non-empty, unique context');
    }
    if (this.role === 'leader') {
      this.handleReadRequest({ from: this.id, context });
      return;
    }
    if (this.lead === NONE) throw notLeader(null);
    this.send(this.lead, this.term, { readIndex: { context } });
  }

  private handleReadRequest(req: ReadRequest): void {
    const queued = this.readOnly.size() + this.pendingReadIndex.length;
    if (queued >= this.maxPendingReads || this.readOnly.has(req.context)) {
      if (req.from === this.id) {
        if (queued >= this.maxPendingReads) {
          throw new RaftError('read-queue-full', 'too many reads waiting; retry later');
        }
        throw new RaftError('invalid-argument', 'a read with this context is already pending');
      }
      this.send(req.from, this.term, {
        readIndexResponse: { index: 0, context: req.context, ok: false },
      });
      return;
    }
    // A new leader does not know the commit index of the previous term until it has committed
    // an entry of its own term: wait for that.
    if (!this.committedEntryInCurrentTerm()) {
      this.pendingReadIndex.push(req);
      return;
    }
    this.startRead(req);
  }

  private startRead(req: ReadRequest): void {
    if (this.tracker.isSingleton() && this.tracker.isVoter(this.id)) {
      this.respondRead(req, this.log.committed);
      return;
    }
    // Remember the commit index now; serve it once a quorum confirms we are still the leader.
    this.readOnly.addRequest(this.log.committed, req);
    this.onReadAck(this.id, req.context);
    this.bcastHeartbeat(req.context);
  }

  private onReadAck(from: string, ctx: Uint8Array): void {
    const acks = this.readOnly.recvAck(from, ctx);
    if (acks === undefined) return;
    if (voteResult(this.tracker.voters, (id) => (acks.has(id) ? true : undefined)) !== 'won') {
      return;
    }
    for (const { request, index } of this.readOnly.advance(ctx)) this.respondRead(request, index);
  }

  private respondRead(req: ReadRequest, index: number): void {
    if (req.from === this.id) {
      this.readStates.push({ index, context: req.context });
    } else {
      this.send(req.from, this.term, {
        readIndexResponse: { index, context: req.context, ok: true },
      });
    }
  }

  private dropPendingReads(): void {
    const dropped = [...this.readOnly.clear(), ...this.pendingReadIndex];
    this.pendingReadIndex = [];
    for (const req of dropped) {
      if (req.from === this.id) this.rejectedReads.push(req.context);
      else {
        this.send(req.from, this.term, {
          readIndexResponse: { index: 0, context: req.context, ok: false },
        });
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Reports from the transport

  /** The transport could not reach `id`: stop pipelining to it and probe instead. */
  reportUnreachable(id: string): void {
    const pr = this.tracker.progress.get(id);
    if (this.role !== 'leader' || pr === undefined) return;
    if (pr.state === 'replicate') pr.becomeProbe();
  }

  /** The transport finished (or failed) sending a snapshot to `id`. */
  reportSnapshot(id: string, ok: boolean): void {
    const pr = this.tracker.progress.get(id);
    if (this.role !== 'leader' || pr === undefined || pr.state !== 'snapshot') return;
    if (!ok) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // Wait for the follower's next heartbeat answer before probing again.
    pr.msgAppFlowPaused = true;
  }
}
