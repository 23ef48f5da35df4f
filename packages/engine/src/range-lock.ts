import { assert } from '@ballast/common';

/**
 * An operation holding or waiting for a byte range. The fields prefixed `lock` belong to the
 * lock (intrusive, so acquiring allocates nothing in the common case).
 */
export interface LockEntry {
  readonly startBytes: number;
  /** Exclusive end. */
  readonly endBytes: number;
  /** Writers (mutations, chunk copies) are exclusive; readers share. */
  readonly exclusive: boolean;
  lockWaitingOn: number;
  lockWaiters: LockEntry[] | null;
  lockPrev: LockEntry | null;
  lockNext: LockEntry | null;
  lockQueued: boolean;
  /** Called once every earlier conflicting entry has been released (never for an entry granted
   * at once by `acquire`). */
  lockGranted(): void;
}

/**
 * Orders overlapping operations FIFO by the time they called `acquire`: an entry waits for
 * every earlier entry it conflicts with (overlapping, and at least one of the two exclusive).
 * Non-overlapping entries never wait for each other.
 *
 * The entries are kept in one list in acquire order and `acquire` scans it. That is O(in-flight)
 * per operation: a few hundred comparisons at the queue depths NBD clients use, cheaper than
 * the allocations an interval index would cost per request (measure before replacing it).
 */
export class RangeLock {
  private head: LockEntry | null = null;
  private tail: LockEntry | null = null;
  private count = 0;
  /** Entries whose last predecessor was released, granted in order without recursion. */
  private readonly granting: LockEntry[] = [];
  private draining = false;

  get size(): number {
    return this.count;
  }

  /** Adds the entry; returns true when it holds its range at once. Otherwise `lockGranted`
   * runs later. */
  acquire(entry: LockEntry): boolean {
    assert(!entry.lockQueued, 'lock entry acquired twice');
    entry.lockWaitingOn = 0;
    for (let other = this.head; other !== null; other = other.lockNext) {
      if (
        other.startBytes < entry.endBytes &&
        entry.startBytes < other.endBytes &&
        (entry.exclusive || other.exclusive)
      ) {
        if (other.lockWaiters === null) other.lockWaiters = [entry];
        else other.lockWaiters.push(entry);
        entry.lockWaitingOn += 1;
      }
    }
    entry.lockPrev = this.tail;
    entry.lockNext = null;
    if (this.tail === null) this.head = entry;
    else this.tail.lockNext = entry;
    this.tail = entry;
    entry.lockQueued = true;
    this.count += 1;
    return entry.lockWaitingOn === 0;
  }

  /** Removes the entry (granted or not) and grants the entries that waited only for it. */
  release(entry: LockEntry): void {
    if (!entry.lockQueued) return;
    entry.lockQueued = false;
    if (entry.lockPrev === null) this.head = entry.lockNext;
    else entry.lockPrev.lockNext = entry.lockNext;
    if (entry.lockNext === null) this.tail = entry.lockPrev;
    else entry.lockNext.lockPrev = entry.lockPrev;
    entry.lockPrev = null;
    entry.lockNext = null;
    this.count -= 1;
    const waiters = entry.lockWaiters;
    entry.lockWaiters = null;
    if (waiters === null) return;
    for (const w of waiters) {
      w.lockWaitingOn -= 1;
      assert(w.lockWaitingOn >= 0, 'lock waiter count went negative');
      if (w.lockWaitingOn === 0 && w.lockQueued) this.granting.push(w);
    }
    if (this.draining) return;
    this.draining = true;
    try {
      // A granted entry may release itself (or others) synchronously; the queue keeps the
      // stack flat and the grants in order.
      for (let i = 0; i < this.granting.length; i++) {
        const granted = this.granting[i]!;
        if (granted.lockQueued) granted.lockGranted();
      }
    } finally {
      this.granting.length = 0;
      this.draining = false;
    }
  }

  /** Every entry, oldest first (for timeouts and shutdown). */
  *entries(): IterableIterator<LockEntry> {
    for (let e = this.head; e !== null;) {
      const next = e.lockNext;
      yield e;
      e = next;
    }
  }
}
