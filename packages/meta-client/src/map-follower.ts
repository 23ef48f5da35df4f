import { WebSocket, type RawData } from 'ws';
import { BallastError, isBallastError, type Logger } from '@ballast/common';
import { sleep, type MetaClient } from './client.js';

/**
 * The parts of meta's node and volume records that followers use. Records arrive from the
 * network, so each is checked (`parseNode`, `parseVolume`) before it enters the mirror; fields
 * not listed here are kept as they came.
 */
export interface MapNode {
  id: string;
  address: string;
  labels: Record<string, string>;
  state: string;
  reachable: boolean;
  [field: string]: unknown;
}

export interface MapReplica {
  nodeId: string;
  role: 'in-sync' | 'rebuilding';
  since: number;
  /** The replica's incarnation (D17); absent in maps from before incarnations (read as 0). */
  incarnation?: number;
}

export interface MapStaleReplica {
  nodeId: string;
  since: number;
  epoch: number;
  reason: string;
  /** The incarnation the demotion gave the copy (D17); absent in older maps. */
  incarnation?: number;
}

export interface MapVolume {
  id: string;
  name: string;
  sizeBytes: number;
  chunkSizeBytes: number;
  desiredReplicas: number;
  fs: string;
  state: string;
  stateReason: string;
  replicas: MapReplica[];
  staleReplicas: MapStaleReplica[];
  epoch: number;
  attachment: { host: string; epoch: number; since: number } | null;
  createdAt: number;
  constraints: { nodeSelector: Record<string, string>; zoneSpread: string };
  /** Snapshots (issue 16); absent in maps from before them. */
  snapshots?: MapVolumeSnapshot[];
  snapshotSeq?: number;
  /** A revert to a snapshot under way: the nodes in waitingFor revert at its epoch. */
  revert?: MapVolumeRevert | null;
  /** A clone: the snapshot it was made from. */
  source?: { volumeId: string; volume: string; snapshotId: string; snapshot: string; seq: number };
  /** A clone whose first copy (on `nodeId`) is under way. */
  seed?: { nodeId: string; startedAt: number } | null;
  [field: string]: unknown;
}

/** The parts of meta's revert record that followers use. */
export interface MapVolumeRevert {
  snapshot: string;
  seq: number;
  epoch: number;
  waitingFor: string[];
  nodeIds: string[];
  [field: string]: unknown;
}

/** The parts of meta's snapshot records that followers use. */
export interface MapVolumeSnapshot {
  id: string;
  name: string;
  seq: number;
  state: string;
  /** The attached host whose engine makes the cut; null: a detached cut the nodes take. */
  host: string | null;
  epoch: number;
  /** A detached cut: the nodes that have not taken it yet. */
  waitingFor?: string[];
  /** The nodes holding it. */
  nodeIds?: string[];
  [field: string]: unknown;
}

/** The parts of meta's task records that followers use (rebuild progress). */
export interface MapTask {
  id: string;
  kind: string;
  volumeId: string | null;
  nodeId: string | null;
  sourceNodeId: string | null;
  state: string;
  doneBytes: number;
  totalBytes: number;
  [field: string]: unknown;
}

/** Meta's cluster-wide settings, as they came (only known fields are read, each checked). */
export type MapSettings = Record<string, unknown>;

/** This process's copy of the map's nodes and volumes (volumes keyed by id). */
export interface MapMirror {
  readonly nodes: ReadonlyMap<string, MapNode>;
  readonly volumes: ReadonlyMap<string, MapVolume>;
  /** Tasks by id; empty unless the follower was told to follow them (`followTasks`). */
  readonly tasks: ReadonlyMap<string, MapTask>;
  /** The settings as of the last settings event or read; null while unknown. */
  readonly settings: MapSettings | null;
  /** The last revision applied (a lower bound right after a list). */
  readonly revision: number;
}

/** What changed since the consumer last ran. `full`: the mirror was (re)built from lists. */
export interface MapChanges {
  full: boolean;
  nodes: ReadonlySet<string>;
  volumes: ReadonlySet<string>;
  /** Task ids that changed (only with `followTasks`). */
  tasks?: ReadonlySet<string>;
  /** The settings changed. */
  settings?: boolean;
}

export interface MapFollowerOptions {
  client: MetaClient;
  log: Logger;
  /**
   * Called with the mirror once it is complete (after a list, or once a watch replay caught up)
   * and after every change from then on. Runs are serialised: changes that arrive meanwhile are
   * merged into the next run. A throw is logged and the same changes are offered again later.
   */
  onChange: (mirror: MapMirror, changes: MapChanges) => void | Promise<void>;
  /** First reconnect delay; doubles up to reconnectMaxMs. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** A watch silent this long (meta pings every 30 s) is considered dead. Default 75 s. */
  idleTimeoutMs?: number;
  /** After this many watch failures in a row the follower polls by listing. Default 3. */
  pollAfterFailures?: number;
  /** Offer a full pass to the consumer at least this often (retries, grace periods). */
  fullPassIntervalMs?: number;
  /**
   * Also list and follow tasks (`GET /v1/tasks`, task events) and read the settings
   * (`GET /v1/settings` when meta has it, settings events). The storage node needs them for
   * rebuild progress and the rebuild bandwidth; the agent does not.
   */
  followTasks?: boolean;
}

/** Watch close codes meta uses (4000 + HTTP status), see packages/meta watch route. */
const CLOSE_COMPACTED = 4410;
const CLOSE_RESET = 4409;
const CLOSE_BAD_REQUEST = 4400;
/** Bound on one watch message (meta events are small; a snapshot reset is a separate list). */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * Follows meta's cluster map: lists nodes and volumes, then watches
 * `GET /v1/watch?fromRevision=N` from the list's revision + 1 over a websocket, applies each
 * event to an in-memory mirror, and hands the mirror and what changed to a consumer. Lists again
 * when history is lost (reset, close 4410/4409, a revision gap); reconnects with a bounded
 * exponential backoff, rotating over the meta members; falls back to polling by listing while
 * the watch keeps failing.
 */
export class MapFollower {
  private readonly nodes = new Map<string, MapNode>();
  private readonly volumes = new Map<string, MapVolume>();
  private readonly tasks = new Map<string, MapTask>();
  private settings: MapSettings | null = null;
  private revision = 0;
  private listed = false;
  private needList = true;
  private synced = false;
  private watchFailures = 0;
  private pending: Pending = emptyPending();
  private consumerRunning = false;
  private readonly abort = new AbortController();
  private socket: WebSocket | undefined;
  private loopDone: Promise<void> | undefined;
  private fullPassTimer: NodeJS.Timeout | undefined;
  private readonly firstSync: Promise<void>;
  private resolveFirstSync!: () => void;
  private readonly reconnectMinMs: number;
  private readonly reconnectMaxMs: number;
  private readonly idleTimeoutMs: number;
  private readonly pollAfterFailures: number;

  constructor(private readonly options: MapFollowerOptions) {
    this.reconnectMinMs = options.reconnectMinMs ?? 200;
    this.reconnectMaxMs = options.reconnectMaxMs ?? 5_000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 75_000;
    this.pollAfterFailures = options.pollAfterFailures ?? 3;
    this.firstSync = new Promise((resolve) => (this.resolveFirstSync = resolve));
  }

  get mirror(): MapMirror {
    return {
      nodes: this.nodes,
      volumes: this.volumes,
      tasks: this.tasks,
      settings: this.settings,
      revision: this.revision,
    };
  }

  /** True once a complete mirror has been handed to the consumer. */
  get isSynced(): boolean {
    return this.synced;
  }

  start(): void {
    if (this.loopDone !== undefined) return;
    this.loopDone = this.loop();
    const every = this.options.fullPassIntervalMs;
    if (every !== undefined && every > 0) {
      this.fullPassTimer = setInterval(() => {
        if (!this.synced) return;
        this.pending.full = true;
        this.kick();
      }, every);
      this.fullPassTimer.unref();
    }
  }

  /** Resolves once the mirror is complete (or after `timeoutMs`, with false). */
  async waitSynced(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([this.firstSync.then(() => true), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Offers a full pass to the consumer soon (a grace period ran out, a retry is due). */
  requestFullPass(): void {
    if (!this.synced) return;
    this.pending.full = true;
    this.kick();
  }

  async close(): Promise<void> {
    this.abort.abort();
    if (this.fullPassTimer) clearInterval(this.fullPassTimer);
    this.socket?.terminate();
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    let delayMs = this.reconnectMinMs;
    while (!this.abort.signal.aborted) {
      let progressed = false;
      try {
        if (this.needList || this.watchFailures >= this.pollAfterFailures) {
          await this.list();
          progressed = true;
        }
        const outcome = await this.watch();
        if (outcome.established) {
          this.watchFailures = 0;
          progressed = true;
        } else {
          this.watchFailures += 1;
        }
        if (outcome.relist) this.needList = true;
      } catch (err) {
        if (this.abort.signal.aborted) break;
        this.watchFailures += 1;
        this.options.log.warn(
          { err: (err as Error).message, meta: this.options.client.currentUrl },
          'map follower: meta not reachable; retrying',
        );
        this.options.client.rotate();
      }
      if (this.abort.signal.aborted) break;
      delayMs = progressed ? this.reconnectMinMs : Math.min(this.reconnectMaxMs, delayMs * 2);
      // Jitter keeps a fleet of nodes from reconnecting in lockstep after a meta restart.
      await sleep(delayMs * (0.5 + Math.random() / 2), this.abort.signal);
    }
  }

  /** Rebuilds the mirror from the list routes (also the polling fallback). */
  private async list(): Promise<void> {
    const signal = this.abort.signal;
    const client = this.options.client;
    const followTasks = this.options.followTasks === true;
    const [nodes, volumes, tasks] = await Promise.all([
      client.list<unknown>('/v1/nodes', { signal }),
      client.list<unknown>('/v1/volumes', { signal }),
      followTasks ? client.list<unknown>('/v1/tasks', { signal }) : undefined,
    ]);
    // Read after the lists: the watch starts at their revision + 1, so a settings change made
    // after this read is replayed, and one made before it is in what is read.
    const settings = followTasks ? await this.readSettings(signal) : undefined;
    const parsedNodes = nodes.items.map(parseNode);
    const parsedVolumes = volumes.items.map(parseVolume);
    const parsedTasks = tasks?.items.map(parseTask) ?? [];
    const before = {
      nodes: new Set(this.nodes.keys()),
      volumes: new Set(this.volumes.keys()),
      tasks: new Set(this.tasks.keys()),
    };
    this.nodes.clear();
    this.volumes.clear();
    this.tasks.clear();
    for (const n of parsedNodes) this.nodes.set(n.id, n);
    for (const v of parsedVolumes) this.volumes.set(v.id, v);
    for (const task of parsedTasks) this.tasks.set(task.id, task);
    if (settings !== undefined && settings !== null) this.settings = settings;
    // Every item is at least as recent as the oldest list; a watch from there misses nothing
    // (events it replays that are older than an item are overwritten by later ones before the
    // consumer runs, since it runs only once the replay is done).
    this.revision = Math.min(
      nodes.revision,
      volumes.revision,
      tasks?.revision ?? Number.MAX_SAFE_INTEGER,
    );
    this.listed = true;
    this.needList = false;
    for (const id of before.nodes) this.pending.nodes.add(id);
    for (const id of before.volumes) this.pending.volumes.add(id);
    for (const id of before.tasks) this.pending.tasks.add(id);
    this.pending.settings = true;
    this.pending.full = true;
    // While the watch cannot be used, this list is the view: hand it over now.
    if (this.watchFailures >= this.pollAfterFailures) this.markSynced();
  }

  /** The settings, or null when this meta has no settings route (then events bring them). */
  private async readSettings(signal: AbortSignal): Promise<MapSettings | null> {
    let body: unknown;
    try {
      body = await this.options.client.get<unknown>('/v1/settings', { signal });
    } catch (err) {
      if (isBallastError(err, 'NOT_FOUND')) return null;
      throw err;
    }
    if (!isRecord(body)) throw malformed('settings answer');
    return body;
  }

  /** One watch connection; resolves when it ends. */
  private watch(): Promise<{ established: boolean; relist: boolean }> {
    const client = this.options.client;
    const base = client.currentUrl.replace(/^http/, 'ws');
    const url = `${base}/v1/watch?fromRevision=${this.revision + 1}`;
    return new Promise((resolve) => {
      let established = false;
      let relist = false;
      let idle: NodeJS.Timeout | undefined;
      const socket = new WebSocket(url, {
        headers: client.authorization === undefined ? {} : { authorization: client.authorization },
        handshakeTimeout: 10_000,
        maxPayload: MAX_MESSAGE_BYTES,
      });
      this.socket = socket;
      const touch = (): void => {
        if (idle) clearTimeout(idle);
        idle = setTimeout(() => {
          this.options.log.warn({ url }, 'map follower: watch went silent; reconnecting');
          socket.terminate();
        }, this.idleTimeoutMs);
      };
      const fail = (why: string, needsList: boolean): void => {
        this.options.log.warn({ url, why }, 'map follower: watch broken');
        if (needsList) relist = true;
        socket.terminate();
      };
      socket.on('open', () => {
        established = true;
        touch();
      });
      socket.on('ping', touch);
      socket.on('message', (data: RawData) => {
        touch();
        let message: unknown;
        try {
          message = JSON.parse(rawText(data));
        } catch {
          fail('a message that is not JSON', true);
          return;
        }
        try {
          if (this.handleMessage(message) === 'relist') fail('history lost', true);
        } catch (err) {
          fail((err as Error).message, true);
        }
      });
      socket.on('error', (err) => {
        this.options.log.debug({ url, err: err.message }, 'map follower: watch socket error');
      });
      socket.on('close', (code: number) => {
        if (idle) clearTimeout(idle);
        this.socket = undefined;
        if (code === CLOSE_COMPACTED || code === CLOSE_RESET || code === CLOSE_BAD_REQUEST) {
          relist = true;
        }
        if (!established || code !== 1000) client.rotate();
        resolve({ established, relist });
      });
      if (this.abort.signal.aborted) socket.terminate();
    });
  }

  /** Applies one watch message; returns 'relist' when history was lost. */
  private handleMessage(message: unknown): 'ok' | 'relist' {
    const m = message as { type?: unknown; event?: unknown; revision?: unknown };
    if (typeof m !== 'object' || m === null) throw new Error('a watch message that is no object');
    switch (m.type) {
      case 'event':
        return this.applyEvent(m.event);
      case 'synced':
        this.markSynced();
        return 'ok';
      case 'reset':
        return 'relist';
      case 'error':
        this.options.log.warn({ problem: message }, 'map follower: meta ended the watch');
        return 'ok';
      default:
        throw new Error(`unknown watch message type ${String(m.type)}`);
    }
  }

  private applyEvent(raw: unknown): 'ok' | 'relist' {
    const event = raw as { revision?: unknown; changes?: unknown };
    if (
      typeof event !== 'object' ||
      event === null ||
      !Number.isSafeInteger(event.revision) ||
      !Array.isArray(event.changes)
    ) {
      throw new Error('a malformed watch event');
    }
    const revision = event.revision as number;
    if (revision <= this.revision) return 'ok'; // already reflected
    if (revision !== this.revision + 1) return 'relist'; // a gap: never guess
    for (const change of event.changes as unknown[]) {
      const c = change as { kind?: unknown; id?: unknown; value?: unknown };
      if (typeof c !== 'object' || c === null || typeof c.id !== 'string') {
        throw new Error('a malformed change in a watch event');
      }
      if (c.kind === 'node') {
        const node = parseNode(c.value);
        this.nodes.set(node.id, node);
        this.pending.nodes.add(node.id);
      } else if (c.kind === 'volume') {
        if (c.value === null) this.volumes.delete(c.id);
        else {
          const volume = parseVolume(c.value);
          this.volumes.set(volume.id, volume);
        }
        this.pending.volumes.add(c.id);
      } else if (c.kind === 'task' && this.options.followTasks === true) {
        if (c.value === null) this.tasks.delete(c.id);
        else {
          const task = parseTask(c.value);
          this.tasks.set(task.id, task);
        }
        this.pending.tasks.add(c.id);
      } else if (c.kind === 'settings' && this.options.followTasks === true) {
        if (!isRecord(c.value)) throw malformed('settings record');
        this.settings = c.value;
        this.pending.settings = true;
      }
    }
    this.revision = revision;
    if (this.synced) this.kick();
    return 'ok';
  }

  private markSynced(): void {
    if (!this.listed) return;
    const first = !this.synced;
    this.synced = true;
    if (first) this.resolveFirstSync();
    this.kick();
  }

  /** Runs the consumer with the pending changes, one run at a time. */
  private kick(): void {
    if (this.consumerRunning || this.abort.signal.aborted) return;
    const p = this.pending;
    if (
      !p.full &&
      p.nodes.size === 0 &&
      p.volumes.size === 0 &&
      p.tasks.size === 0 &&
      !p.settings
    ) {
      return;
    }
    this.pending = emptyPending();
    this.consumerRunning = true;
    void (async () => {
      try {
        await this.options.onChange(this.mirror, p);
      } catch (err) {
        this.options.log.error(
          { err: (err as Error).message },
          'map follower: consumer failed; offering the changes again',
        );
        this.pending.full ||= p.full;
        this.pending.settings ||= p.settings;
        for (const id of p.nodes) this.pending.nodes.add(id);
        for (const id of p.volumes) this.pending.volumes.add(id);
        for (const id of p.tasks) this.pending.tasks.add(id);
        await sleep(this.reconnectMaxMs, this.abort.signal);
      } finally {
        this.consumerRunning = false;
      }
      this.kick();
    })();
  }
}

interface Pending {
  full: boolean;
  nodes: Set<string>;
  volumes: Set<string>;
  tasks: Set<string>;
  settings: boolean;
}

function emptyPending(): Pending {
  return { full: false, nodes: new Set(), volumes: new Set(), tasks: new Set(), settings: false };
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function malformed(what: string): BallastError {
  return new BallastError('INTERNAL', `meta sent a malformed ${what}`);
}

/** Checks the node record fields followers rely on. */
export function parseNode(value: unknown): MapNode {
  if (
    !isRecord(value) ||
    typeof value.id !== 'string' ||
    typeof value.address !== 'string' ||
    !isRecord(value.labels) ||
    typeof value.state !== 'string' ||
    typeof value.reachable !== 'boolean'
  ) {
    throw malformed('node record');
  }
  for (const v of Object.values(value.labels)) {
    if (typeof v !== 'string') throw malformed('node label');
  }
  return value as MapNode;
}

function isNullableId(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}

/** Checks the task record fields followers rely on. */
export function parseTask(value: unknown): MapTask {
  if (
    !isRecord(value) ||
    typeof value.id !== 'string' ||
    typeof value.kind !== 'string' ||
    typeof value.state !== 'string' ||
    !isNullableId(value.volumeId) ||
    !isNullableId(value.nodeId) ||
    !isNullableId(value.sourceNodeId) ||
    !isCount(value.doneBytes) ||
    !isCount(value.totalBytes)
  ) {
    throw malformed('task record');
  }
  return value as MapTask;
}

/** Checks the volume record fields followers rely on. */
export function parseVolume(value: unknown): MapVolume {
  if (
    !isRecord(value) ||
    typeof value.id !== 'string' ||
    typeof value.name !== 'string' ||
    !isCount(value.sizeBytes) ||
    !isCount(value.chunkSizeBytes) ||
    !isCount(value.epoch) ||
    !Array.isArray(value.replicas) ||
    !Array.isArray(value.staleReplicas)
  ) {
    throw malformed('volume record');
  }
  for (const r of value.replicas as unknown[]) {
    if (
      !isRecord(r) ||
      typeof r.nodeId !== 'string' ||
      (r.role !== 'in-sync' && r.role !== 'rebuilding') ||
      (r.incarnation !== undefined && !isCount(r.incarnation))
    ) {
      throw malformed('replica entry');
    }
  }
  for (const r of value.staleReplicas as unknown[]) {
    if (
      !isRecord(r) ||
      typeof r.nodeId !== 'string' ||
      (r.incarnation !== undefined && !isCount(r.incarnation))
    ) {
      throw malformed('stale replica entry');
    }
  }
  const a = value.attachment;
  if (a !== null && (!isRecord(a) || typeof a.host !== 'string' || !isCount(a.epoch))) {
    throw malformed('attachment');
  }
  return value as MapVolume;
}
