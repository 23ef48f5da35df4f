import { BallastError } from '@ballast/common';
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

export interface DirectMetaStoreOptions {
  memberId?: string;
  /** Base URL of this member's REST API, reported in /v1/cluster. */
  apiUrl?: string;
  /** A map to start from (e.g. restored from a snapshot). */
  map?: ClusterMap;
  watchHistoryEvents?: number;
  clock?: () => number;
}

/**
 * A single-process MetaStore: commands are applied to the map directly, in the order they are
 * proposed, with log indexes counted here. It is for unit tests and for a one-member dev mode.
 * It is NOT a replacement for Raft: nothing is persisted and there is no replication, so the map
 * is lost when the process exits. The commands still go through JSON as a log would carry them,
 * so behaviour matches the replicated store.
 */
export class DirectMetaStore implements MetaStore {
  private readonly clusterMap: ClusterMap;
  private readonly hub: WatchHub;
  private readonly memberId: string;
  private readonly apiUrl: string;
  private readonly startedAtMs: number;
  private logIndex: number;
  private closed = false;

  constructor(options: DirectMetaStoreOptions = {}) {
    this.clusterMap = options.map ?? new ClusterMap();
    this.logIndex = this.clusterMap.appliedIndex;
    this.hub = new WatchHub(
      this.clusterMap.revision,
      options.watchHistoryEvents ?? DEFAULT_WATCH_HISTORY_EVENTS,
    );
    this.memberId = options.memberId ?? 'meta-1';
    this.apiUrl = options.apiUrl ?? 'http://127.0.0.1:7000';
    this.startedAtMs = (options.clock ?? Date.now)();
  }

  get map(): ClusterMapReader {
    return this.clusterMap;
  }

  async propose(command: Command): Promise<ApplyResult> {
    this.ensureOpen();
    const encoded = JSON.stringify(command);
    const sizeBytes = Buffer.byteLength(encoded);
    if (sizeBytes > MAX_COMMAND_BYTES) {
      throw new BallastError(
        'TOO_LARGE',
        `command of ${sizeBytes} bytes exceeds ${MAX_COMMAND_BYTES}`,
      );
    }
    const { result, event } = this.clusterMap.apply(JSON.parse(encoded), ++this.logIndex);
    if (event) this.hub.publish(event);
    return result;
  }

  async linearizableRead(): Promise<void> {
    this.ensureOpen();
  }

  watch(fromRevision: number, listener: WatchListener): WatchSubscription {
    this.ensureOpen();
    return this.hub.subscribe(fromRevision, listener);
  }

  status(): ClusterStatus {
    return {
      members: [{ id: this.memberId, api: this.apiUrl, role: this.closed ? 'unknown' : 'leader' }],
      leader: this.closed ? null : this.memberId,
      term: 1,
      commitIndex: this.logIndex,
    };
  }

  isLeader(): boolean {
    return !this.closed;
  }

  leaderHint(): LeaderHint | null {
    return this.closed ? null : { id: this.memberId, api: this.apiUrl };
  }

  leaderSinceMs(): number | null {
    return this.closed ? null : this.startedAtMs;
  }

  get watcherCount(): number {
    return this.hub.watcherCount;
  }

  /** Stops serving: watchers are told to list again, later calls fail with UNAVAILABLE. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hub.reset(this.clusterMap.revision, 'the store was closed');
  }

  private ensureOpen(): void {
    if (this.closed) {
      throw new BallastError('UNAVAILABLE', 'the metadata store is closed', { leader: null });
    }
  }
}
