// The console's view of the cluster: lists from the REST API, kept current by the watch stream
// (each event's changes are applied at once, then the lists are fetched again for what events
// do not carry: a node's provisioned bytes and silence, a task's rate), and a poll every few
// seconds for the heartbeat-driven figures. Recent events are those the watch delivered,
// starting with a replay of the last ones meta keeps.
import { ApiError, api, listAll, openWatch } from './api.js';
import type {
  ClusterView,
  HostView,
  MapEvent,
  NodeView,
  TaskView,
  VolumeView,
  WatchMessage,
} from './types.js';

/** Events asked for on first connecting (the replay meta still has, at most this many). */
const REPLAY_EVENTS = 50;
const KEEP_EVENTS = 200;
const POLL_MS = 3000;

export type WatchState = 'connecting' | 'live' | 'reconnecting' | 'polling';

export interface Snapshot {
  cluster: ClusterView | null;
  nodes: NodeView[];
  volumes: VolumeView[];
  tasks: TaskView[];
  /**
   * Docker hosts as the leader hears their agents; null when this member is not the leader
   * (only the leader knows: GET /v1/hosts answers on the leader only).
   */
  hosts: HostView[] | null;
  events: MapEvent[];
  revision: number;
  loaded: boolean;
  watch: WatchState;
  /** Why the last refresh failed (the view shows what it had), or null. */
  refreshError: string | null;
  /** When the lists were last fetched. */
  fetchedAt: number;
}

export class ClusterStore {
  #snapshot: Snapshot = {
    cluster: null,
    nodes: [],
    volumes: [],
    tasks: [],
    hosts: null,
    events: [],
    revision: 0,
    loaded: false,
    watch: 'connecting',
    refreshError: null,
    fetchedAt: 0,
  };
  readonly #listeners = new Set<() => void>();
  readonly #token: string;
  readonly #onUnauthorized: (message: string) => void;
  #closeWatch: (() => void) | null = null;
  #poll: ReturnType<typeof setInterval> | null = null;
  #refreshTimer: ReturnType<typeof setTimeout> | null = null;
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  #refreshing: Promise<void> | null = null;
  #refreshAgain = false;
  #watchFailures = 0;
  #stopped = false;

  constructor(token: string, onUnauthorized: (message: string) => void) {
    this.#token = token;
    this.#onUnauthorized = onUnauthorized;
  }

  get snapshot(): Snapshot {
    return this.#snapshot;
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #set(patch: Partial<Snapshot>): void {
    this.#snapshot = { ...this.#snapshot, ...patch };
    for (const l of this.#listeners) l();
  }

  async start(): Promise<void> {
    await this.refresh();
    if (this.#stopped) return;
    this.#connect(Math.max(1, this.#snapshot.revision - REPLAY_EVENTS + 1));
    this.#poll = setInterval(() => void this.refresh(), POLL_MS);
  }

  stop(): void {
    this.#stopped = true;
    this.#closeWatch?.();
    if (this.#poll) clearInterval(this.#poll);
    if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#listeners.clear();
  }

  /** Fetches every list again (one refresh at a time; a request during one runs after it). */
  refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#refreshAgain = false;
        await this.#fetchAll();
      } while (this.#refreshAgain && !this.#stopped);
      this.#refreshing = null;
    })();
    return this.#refreshing;
  }

  /** A refresh soon (coalesces the bursts of events a drain or a node's death brings). */
  refreshSoon(delayMs = 300): void {
    if (this.#refreshTimer) return;
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = null;
      void this.refresh();
    }, delayMs);
  }

  async #fetchAll(): Promise<void> {
    try {
      const [cluster, nodes, volumes, tasks] = await Promise.all([
        api<ClusterView>(this.#token, 'GET', '/v1/cluster'),
        listAll<NodeView>(this.#token, '/v1/nodes'),
        listAll<VolumeView>(this.#token, '/v1/volumes'),
        listAll<TaskView>(this.#token, '/v1/tasks'),
      ]);
      // Asked of the leader only: a follower would refuse, and the page counts every refusal.
      const leaderApi = cluster.members.find((m) => m.id === cluster.leader)?.api;
      const hosts =
        leaderApi !== undefined && new URL(leaderApi).host === location.host
          ? (await api<{ items: HostView[] }>(this.#token, 'GET', '/v1/hosts')).items
          : null;
      if (this.#stopped) return;
      this.#set({
        cluster,
        hosts,
        nodes: nodes.items,
        volumes: volumes.items,
        tasks: tasks.items,
        revision: Math.max(this.#snapshot.revision, nodes.revision),
        loaded: true,
        refreshError: null,
        fetchedAt: Date.now(),
      });
    } catch (err) {
      if (this.#stopped) return;
      if (err instanceof ApiError && err.status === 401) {
        this.#onUnauthorized(err.message);
        return;
      }
      this.#set({ refreshError: (err as Error).message });
    }
  }

  #connect(fromRevision: number): void {
    if (this.#stopped) return;
    let synced = false;
    this.#closeWatch = openWatch(this.#token, fromRevision, {
      onOpen: () => undefined,
      onMessage: (m) => {
        if (m.type === 'synced') {
          synced = true;
          this.#watchFailures = 0;
          this.#set({ watch: 'live' });
        }
        this.#apply(m);
      },
      onClose: (code) => {
        this.#closeWatch = null;
        if (this.#stopped) return;
        this.#watchFailures += 1;
        // History gone (4410) or reset (4409): list again and watch from there, no replay.
        const relist = code === 4410 || code === 4409 || !synced;
        this.#set({ watch: this.#watchFailures >= 3 ? 'polling' : 'reconnecting' });
        const delay = Math.min(5000, 250 * 2 ** Math.min(this.#watchFailures, 5));
        this.#reconnectTimer = setTimeout(async () => {
          this.#reconnectTimer = null;
          if (relist) await this.refresh();
          this.#connect(this.#snapshot.revision + 1);
        }, delay);
      },
    });
  }

  #apply(m: WatchMessage): void {
    if (m.type === 'reset') {
      this.#closeWatch?.();
      this.#closeWatch = null;
      void this.refresh().then(() => this.#connect(this.#snapshot.revision + 1));
      return;
    }
    if (m.type !== 'event') return;
    const event = m.event;
    const events = [event, ...this.#snapshot.events.filter((e) => e.revision !== event.revision)]
      .sort((a, b) => b.revision - a.revision)
      .slice(0, KEEP_EVENTS);
    if (event.revision <= this.#snapshot.revision) {
      // A replayed event the lists already reflect: history only.
      this.#set({ events });
      return;
    }
    let { nodes, volumes, tasks } = this.#snapshot;
    for (const change of event.changes) {
      if (change.kind === 'node') {
        const old = nodes.find((n) => n.id === change.id);
        const next = { ...old, ...change.value };
        nodes = old ? nodes.map((n) => (n.id === change.id ? next : n)) : [...nodes, next];
      } else if (change.kind === 'volume') {
        volumes = volumes.filter((v) => v.id !== change.id);
        if (change.value !== null) volumes = [...volumes, change.value];
        volumes.sort((a, b) => a.name.localeCompare(b.name));
      } else if (change.kind === 'task') {
        const old = tasks.find((t) => t.id === change.id);
        tasks = tasks.filter((t) => t.id !== change.id);
        if (change.value !== null) tasks = [...tasks, { ...old, ...change.value }];
      }
    }
    this.#set({ events, nodes, volumes, tasks, revision: event.revision });
    this.refreshSoon();
  }
}
