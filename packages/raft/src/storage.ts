import { assert } from '@ballast/common';
import { RaftError } from './errors.js';
import {
  EMPTY_HARD_STATE,
  EMPTY_SNAPSHOT,
  type ConfState,
  type Entry,
  type HardState,
  type Snapshot,
  limitSize,
} from './types.js';

/**
 * Where the core reads the stable log from. It is synchronous on purpose: the core is a pure
 * state machine and must not await. A durable implementation keeps the log it serves in memory
 * (as etcd's server keeps a MemoryStorage in front of its WAL) and writes through to disk in the
 * Ready loop: await the disk write of a Ready's entries, hard state and snapshot, then append
 * them to the in-memory view, then call advance(). Until advance() the core serves those entries
 * from its own unstable log, so an asynchronous write never leaves a gap.
 *
 * Errors: throw RaftError('compacted') for an index at or below the snapshot, RaftError
 * ('unavailable') past the last index, RaftError('snapshot-temporarily-unavailable') while a
 * snapshot is being produced. Anything else is a bug and crashes the core.
 */
export interface Storage {
  /** Persisted hard state and the configuration as of the latest snapshot. */
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at least one if any, at most maxSizeBytes beyond the first. */
  entries(lo: number, hi: number, maxSizeBytes: number): Entry[];
  /** Term of entry i, for firstIndex()-1 <= i <= lastIndex(). */
  term(i: number): number;
  /** Index of the first entry still available (the snapshot index + 1). */
  firstIndex(): number;
  lastIndex(): number;
  /** The most recent snapshot (the leader sends it to followers too far behind). */
  snapshot(): Snapshot;
}

/**
 * Storage held in memory, with the same semantics as etcd's MemoryStorage: ents[0] is a dummy
 * entry standing for the snapshot (its index and term), real entries follow.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot = EMPTY_SNAPSHOT;
  private ents: Entry[] = [{ term: 0, index: 0, type: 0, data: new Uint8Array(0) }];

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.snap.metadata.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = hs;
  }

  entries(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    const offset = this.ents[0]!.index;
    if (lo <= offset) throw new RaftError('compacted', `entries from ${lo} are compacted`);
    if (hi > this.lastIndex() + 1) {
      throw new RaftError('unavailable', `entries up to ${hi - 1} are not in the log`);
    }
    if (this.ents.length === 1) throw new RaftError('unavailable', 'the log is empty');
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSizeBytes);
  }

  term(i: number): number {
    const offset = this.ents[0]!.index;
    if (i < offset) throw new RaftError('compacted', `entry ${i} is compacted`);
    if (i - offset >= this.ents.length) {
      throw new RaftError('unavailable', `entry ${i} is not in the log`);
    }
    return this.ents[i - offset]!.term;
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the whole log by a snapshot received from the leader. */
  applySnapshot(snap: Snapshot): void {
    if (snap.metadata.index <= this.snap.metadata.index) {
      throw new RaftError(
        'snapshot-out-of-date',
        `snapshot at ${snap.metadata.index} is not newer than ${this.snap.metadata.index}`,
      );
    }
    this.snap = snap;
    this.ents = [
      { term: snap.metadata.term, index: snap.metadata.index, type: 0, data: new Uint8Array(0) },
    ];
  }

  /**
   * Records a snapshot of the application state as of index i (which the application has
   * applied); confState is the configuration at i. Does not drop entries: call compact().
   */
  createSnapshot(i: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) {
      throw new RaftError(
        'snapshot-out-of-date',
        `snapshot at ${i} is not newer than ${this.snap.metadata.index}`,
      );
    }
    const offset = this.ents[0]!.index;
    assert(i <= this.lastIndex(), `snapshot index ${i} beyond last index ${this.lastIndex()}`);
    this.snap = {
      metadata: {
        index: i,
        term: this.ents[i - offset]!.term,
        confState: { voters: [...confState.voters], learners: [...confState.learners] },
      },
      data,
    };
    return this.snap;
  }

  /** Drops entries up to and including compactIndex (which must be applied and snapshotted). */
  compact(compactIndex: number): void {
    const offset = this.ents[0]!.index;
    if (compactIndex <= offset) {
      throw new RaftError('compacted', `entries up to ${compactIndex} are already compacted`);
    }
    assert(
      compactIndex <= this.lastIndex(),
      `compact ${compactIndex} beyond last index ${this.lastIndex()}`,
    );
    const i = compactIndex - offset;
    const dummy: Entry = {
      term: this.ents[i]!.term,
      index: compactIndex,
      type: 0,
      data: new Uint8Array(0),
    };
    this.ents = [dummy, ...this.ents.slice(i + 1)];
  }

  /**
   * Appends entries that the core handed out in a Ready. Entries must follow on from the log
   * (possibly overlapping it); an overlap replaces the local suffix, as a new leader's log does.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return; // everything is already compacted
    let ents = entries;
    if (first > ents[0]!.index) ents = ents.slice(first - ents[0]!.index);
    const offset = ents[0]!.index - this.ents[0]!.index;
    assert(
      offset <= this.ents.length,
      `missing log entries: last ${this.lastIndex()}, appending from ${ents[0]!.index}`,
    );
    if (offset < this.ents.length) this.ents = this.ents.slice(0, offset);
    for (const e of ents) this.ents.push(e);
  }
}
