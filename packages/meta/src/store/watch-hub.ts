import { assert, BallastError } from '@ballast/common';
import type { MapEvent } from '../map/index.js';
import type { WatchListener, WatchSubscription } from './meta-store.js';

export const DEFAULT_WATCH_HISTORY_EVENTS = 10_000;
export const MAX_WATCHERS = 1024;

/**
 * Keeps the last `historyLimit` change events in memory and fans new ones out to watchers. Any
 * MetaStore can use it: feed it every event the map's apply returns, in order.
 */
export class WatchHub {
  private readonly history: MapEvent[] = [];
  /** Index in `history` of the oldest event (a ring buffer without reallocation). */
  private head = 0;
  private readonly watchers = new Set<WatchListener>();
  private revision: number;

  constructor(
    currentRevision: number,
    private readonly historyLimit = DEFAULT_WATCH_HISTORY_EVENTS,
    private readonly maxWatchers = MAX_WATCHERS,
  ) {
    assert(historyLimit >= 1, 'watch history holds at least one event');
    this.revision = currentRevision;
  }

  get currentRevision(): number {
    return this.revision;
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  /** The oldest revision a watch can start from. */
  get oldestRevision(): number {
    return this.revision - this.size() + 1;
  }

  private size(): number {
    return this.history.length;
  }

  private at(i: number): MapEvent {
    return this.history[(this.head + i) % this.history.length]!;
  }

  publish(event: MapEvent): void {
    assert(
      event.revision === this.revision + 1,
      `event ${event.revision} follows ${this.revision}`,
    );
    this.revision = event.revision;
    if (this.history.length < this.historyLimit) {
      this.history.push(event);
    } else {
      this.history[this.head] = event;
      this.head = (this.head + 1) % this.history.length;
    }
    for (const listener of [...this.watchers]) listener({ type: 'event', event });
  }

  /**
   * Sends events from `fromRevision` on, then `synced`, then live events. Refused when that
   * history is gone or the revision is beyond the next one.
   */
  subscribe(fromRevision: number, listener: WatchListener): WatchSubscription {
    const oldest = this.oldestRevision;
    if (fromRevision < oldest) {
      return {
        ok: false,
        reason: 'compacted',
        oldestRevision: oldest,
        currentRevision: this.revision,
        message: `revision ${fromRevision} is no longer in the watch history (oldest is ${oldest}); list again and watch from the revision the list returns + 1`,
      };
    }
    if (fromRevision > this.revision + 1) {
      return {
        ok: false,
        reason: 'future',
        oldestRevision: oldest,
        currentRevision: this.revision,
        message: `revision ${fromRevision} is ahead of this member's revision ${this.revision}`,
      };
    }
    if (this.watchers.size >= this.maxWatchers) {
      throw new BallastError(
        'UNAVAILABLE',
        `this member serves at most ${this.maxWatchers} watchers`,
      );
    }
    for (let i = fromRevision - oldest; i < this.size(); i++)
      listener({ type: 'event', event: this.at(i) });
    listener({ type: 'synced', revision: this.revision });
    this.watchers.add(listener);
    return { ok: true, cancel: () => this.watchers.delete(listener) };
  }

  /**
   * Forgets the history (the map was replaced, e.g. by a snapshot): every watcher is told to
   * list again and dropped.
   */
  reset(currentRevision: number, reason: string): void {
    this.history.length = 0;
    this.head = 0;
    this.revision = currentRevision;
    const watchers = [...this.watchers];
    this.watchers.clear();
    for (const listener of watchers) listener({ type: 'reset', revision: currentRevision, reason });
  }
}
