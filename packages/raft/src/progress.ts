import { assert } from '@ballast/common';
import { committedIndex, voteResult, type VoteResult } from './quorum.js';
import { type ConfState, sortedIds } from './types.js';

/**
 * The sliding window of AppendEntries in flight to one follower (etcd's Inflights): each slot
 * is the last index a message carried and its size. Bounded by count and by bytes.
 */
export class Inflights {
  private readonly indexes: Float64Array;
  private readonly sizes: Float64Array;
  private start = 0;
  count = 0;
  bytes = 0;

  constructor(
    readonly maxCount: number,
    readonly maxBytes: number,
  ) {
    assert(maxCount >= 1, 'inflight window needs at least one slot');
    this.indexes = new Float64Array(maxCount);
    this.sizes = new Float64Array(maxCount);
  }

  full(): boolean {
    return this.count === this.maxCount || (this.maxBytes > 0 && this.bytes >= this.maxBytes);
  }

  add(index: number, sizeBytes: number): void {
    assert(!this.full(), 'cannot add to a full inflight window');
    const slot = (this.start + this.count) % this.maxCount;
    this.indexes[slot] = index;
    this.sizes[slot] = sizeBytes;
    this.count++;
    this.bytes += sizeBytes;
  }

  /** Frees every message whose last index is <= index (the follower acknowledged them). */
  freeLE(index: number): void {
    while (this.count > 0 && this.indexes[this.start]! <= index) {
      this.bytes -= this.sizes[this.start]!;
      this.start = (this.start + 1) % this.maxCount;
      this.count--;
    }
    if (this.count === 0) this.start = 0;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
    this.bytes = 0;
  }
}

/**
 * probe: the leader does not know where the follower's log ends; one message at a time.
 * replicate: it does; messages are pipelined up to the inflight window.
 * snapshot: the follower needs a snapshot; nothing else is sent until it answers.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** What the leader knows about one follower (etcd's tracker.Progress). */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** Index of the snapshot in flight (state snapshot). */
  pendingSnapshot = 0;
  /** Ticks spent waiting for the snapshot's answer. */
  snapshotTicks = 0;
  /** Heard from within the current election timeout (check-quorum). */
  recentActive = false;
  /** In probe: a probe is in flight. In replicate: the window is full. */
  msgAppFlowPaused = false;
  isLearner: boolean;
  readonly inflights: Inflights;

  constructor(next: number, isLearner: boolean, maxInflight: number, maxInflightBytes: number) {
    this.next = next;
    this.isLearner = isLearner;
    this.inflights = new Inflights(maxInflight, maxInflightBytes);
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.snapshotTicks = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** Accounts for an AppendEntries carrying entries [next, lastIndex] of sizeBytes. */
  sentEntries(count: number, lastIndex: number, sizeBytes: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, sizeBytes);
      }
      this.msgAppFlowPaused = this.inflights.full();
    } else if (this.state === 'probe') {
      if (count > 0) this.msgAppFlowPaused = true;
    } else {
      assert(false, `sending entries in state ${this.state}`);
    }
  }

  /** The follower acknowledged up to n. Returns whether match moved. */
  maybeUpdate(n: number): boolean {
    if (this.match >= n) return false;
    this.match = n;
    this.next = Math.max(this.next, n + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /**
   * The follower rejected an append whose prev index was `rejected`, hinting its log may match
   * up to matchHint. Returns false for a stale rejection (one that does not concern the message
   * we are waiting for).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  isPaused(): boolean {
    return this.state === 'snapshot' ? true : this.msgAppFlowPaused;
  }
}

/** The configuration (voters, learners), per-member progress and the votes of an election. */
export class ProgressTracker {
  voters: string[] = [];
  learners: string[] = [];
  readonly progress = new Map<string, Progress>();
  readonly votes = new Map<string, boolean>();

  constructor(
    private readonly maxInflight: number,
    private readonly maxInflightBytes: number,
  ) {}

  newProgress(next: number, isLearner: boolean): Progress {
    return new Progress(next, isLearner, this.maxInflight, this.maxInflightBytes);
  }

  isVoter(id: string): boolean {
    const pr = this.progress.get(id);
    return pr !== undefined && !pr.isLearner;
  }

  isSingleton(): boolean {
    return this.voters.length === 1;
  }

  confState(): ConfState {
    return { voters: [...this.voters], learners: [...this.learners] };
  }

  /** Replaces the configuration; progress of members that stay is kept. */
  setConfig(conf: ConfState, nextIndex: number): void {
    const voters = new Set(conf.voters);
    const learners = new Set(conf.learners.filter((id) => !voters.has(id)));
    for (const id of [...this.progress.keys()]) {
      if (!voters.has(id) && !learners.has(id)) this.progress.delete(id);
    }
    for (const id of voters) this.ensure(id, false, nextIndex);
    for (const id of learners) this.ensure(id, true, nextIndex);
    this.voters = sortedIds(voters);
    this.learners = sortedIds(learners);
  }

  private ensure(id: string, isLearner: boolean, nextIndex: number): void {
    const pr = this.progress.get(id);
    if (pr === undefined) {
      const fresh = this.newProgress(nextIndex, isLearner);
      // A new member counts as active so that check-quorum does not depose the leader the
      // moment the member is added.
      fresh.recentActive = true;
      this.progress.set(id, fresh);
    } else {
      pr.isLearner = isLearner;
    }
  }

  committed(): number {
    return committedIndex(this.voters, (id) => this.progress.get(id)?.match);
  }

  quorumActive(selfId: string): boolean {
    return (
      voteResult(this.voters, (id) =>
        id === selfId ? true : (this.progress.get(id)?.recentActive ?? false),
      ) === 'won'
    );
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: string, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    return { granted, rejected, result: voteResult(this.voters, (id) => this.votes.get(id)) };
  }
}
