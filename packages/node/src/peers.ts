import { Counter, Gauge, type Registry } from 'prom-client';
import { BallastError, isBallastError, parseHostPort, type Logger } from '@ballast/common';
import {
  BLOCK_SIZE_BYTES,
  type BadBlock,
  type ChunkStore,
  type ChunkStoreReplicaStore,
} from '@ballast/chunkstore';
import { DataPlaneClient, type DataPlaneClientTlsOptions } from '@ballast/dataplane';
import type {
  MapChanges,
  MapMirror,
  MapNode,
  MapTask,
  MapVolume,
  MetaClient,
} from '@ballast/meta-client';
import {
  RebuildJob,
  type PeerNode,
  type RebuildOptions,
  type RebuildOutcome,
  type RebuildReport,
  type RebuildVolume,
} from './rebuild.js';
import { SeedJob, type SnapshotReader } from './seed.js';

export const DEFAULT_REBUILD_BYTES_PER_SECOND = 64 * 1024 * 1024;
/** The name of the setting in meta's settings that overrides the node's own bound. */
export const REBUILD_BANDWIDTH_SETTING = 'rebuildBandwidthBytesPerSecond';
/** Progress goes to meta at most this often per rebuild (plus once at the end). */
const PROGRESS_INTERVAL_MS = 1_000;
/** After a rebuild gave up, the next one of that replica waits this long. */
const FAILED_COOLDOWN_MS = 60_000;
/** A rebuild that ended (promoted, fenced) is not restarted at the same epoch for this long. */
const SAME_EPOCH_COOLDOWN_MS = 15_000;
/** Bound on the remembered cool-downs. */
const MAX_COOLDOWNS = 4096;
/** Bound on the bad blocks repaired in one scrub call (a whole chunk of 4 KiB blocks is 1024 at 4 MiB). */
const MAX_REPAIR_BLOCKS = 16_384;
/**
 * A repair waits this long for the map (the scrub's first pass starts with the node, before
 * MetaSync has listed the map).
 */
const REPAIR_MAP_WAIT_MS = 60_000;

export interface PeerServiceOptions {
  nodeId: string;
  store: ChunkStore;
  replicaStore: ChunkStoreReplicaStore;
  clusterId: string;
  /** The data-plane secret (the same on every node of the cluster). */
  secret?: string;
  insecureNoAuth?: boolean;
  /** Dial peers over TLS, verifying them against this CA (set when the node serves TLS). */
  tls?: DataPlaneClientTlsOptions;
  log: Logger;
  registry?: Registry;
  /** The node's own rebuild rate bound; meta's `rebuildBandwidthBytesPerSecond` wins when set. */
  rebuildBytesPerSecond?: number;
  rebuild?: RebuildOptions;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/** What the peer service reads the cluster from (the node's MetaSync). */
export interface ClusterView {
  client: MetaClient;
  mirror(): MapMirror;
  /** Asks for a map pass soon (a cool-down ended). */
  requestPass(): void;
  /** Resolves true once the mirror is complete (false after the timeout). */
  waitSynced(timeoutMs: number): Promise<boolean>;
}

export interface RebuildStatus {
  volumeId: string;
  volumeName: string;
  epoch: number;
  source: string | null;
  bytesCopied: number;
  startedAtMs: number;
}

interface ActiveRebuild {
  volumeId: string;
  volumeName: string;
  epoch: number;
  /** This node's replica's incarnation when the job started: another one stops the job. */
  incarnation: number;
  sizeBytes: number;
  abort: AbortController;
  done: Promise<void>;
  source: string | null;
  bytesCopied: number;
  startedAtMs: number;
  progress: { doneBytes: number; totalBytes: number; sentAtMs: number; inFlight: boolean };
}

/**
 * The node's work with its peers: node-driven rebuilds of its `rebuilding` replicas of
 * unattached volumes (copied from an in-sync peer over the data plane, then promoted through
 * meta), and repair of blocks the scrub found bad from an in-sync peer. It acts on the cluster
 * map that MetaSync follows (`follow`); without a map it does nothing.
 */
export class PeerService {
  private readonly opts: PeerServiceOptions;
  private readonly log: Logger;
  private view: ClusterView | undefined;
  private viewArrived!: () => void;
  private readonly viewPromise = new Promise<void>((resolve) => (this.viewArrived = resolve));
  private readonly jobs = new Map<string, ActiveRebuild>();
  /** `volumeId@epoch` -> no new rebuild before this time. */
  private readonly cooldowns = new Map<string, number>();
  private cooldownTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly closing = new AbortController();
  private readonly metrics:
    | {
        bytes: Counter<'volume'>;
        chunks: Counter<'volume'>;
        active: Gauge;
        source: Gauge<'volume' | 'source'>;
        outcomes: Counter<'outcome'>;
        attemptFailures: Counter<'volume'>;
        bandwidth: Gauge;
        repairFailures: Counter<'volume'>;
      }
    | undefined;

  constructor(opts: PeerServiceOptions) {
    const rate = opts.rebuildBytesPerSecond ?? DEFAULT_REBUILD_BYTES_PER_SECOND;
    if (!(rate > 0) || !Number.isFinite(rate)) {
      throw new BallastError(
        'CONFIG',
        `rebuildBandwidthBytesPerSecond must be positive, not ${rate}`,
      );
    }
    if ((opts.secret === undefined || opts.secret === '') && opts.insecureNoAuth !== true) {
      throw new BallastError('CONFIG', 'peer copies need the data-plane secret');
    }
    this.opts = opts;
    this.log = opts.log;
    if (opts.registry) {
      const registers = [opts.registry];
      this.metrics = {
        bytes: new Counter({
          name: 'ballast_node_rebuild_bytes_total',
          help: 'Data bytes this node copied from peers into its rebuilding replicas (holes count nothing)',
          labelNames: ['volume'],
          registers,
        }),
        chunks: new Counter({
          name: 'ballast_node_rebuild_chunks_total',
          help: 'Chunks this node installed from peers during rebuilds (holes included)',
          labelNames: ['volume'],
          registers,
        }),
        active: new Gauge({
          name: 'ballast_node_rebuild_active',
          help: 'Node-driven rebuilds running on this node',
          registers,
        }),
        source: new Gauge({
          name: 'ballast_node_rebuild_source_info',
          help: '1 for the peer a running rebuild copies from',
          labelNames: ['volume', 'source'],
          registers,
        }),
        outcomes: new Counter({
          name: 'ballast_node_rebuilds_total',
          help: 'Node-driven rebuilds that ended, by outcome (promoted, fenced, aborted, failed)',
          labelNames: ['outcome'],
          registers,
        }),
        attemptFailures: new Counter({
          name: 'ballast_node_rebuild_attempt_failures_total',
          help: 'Rebuild attempts that failed and were retried (a source lost, a timeout)',
          labelNames: ['volume'],
          registers,
        }),
        bandwidth: new Gauge({
          name: 'ballast_node_rebuild_bandwidth_bytes_per_second',
          help: 'The rebuild copy rate bound in force (meta setting, or the node flag); 0 = unthrottled',
          registers,
        }),
        repairFailures: new Counter({
          name: 'ballast_node_scrub_repair_failures_total',
          help: 'Bad blocks the scrub found that no in-sync peer could supply',
          labelNames: ['volume'],
          registers,
        }),
      };
      this.metrics.bandwidth.set(rate);
      for (const outcome of ['promoted', 'fenced', 'aborted', 'failed']) {
        this.metrics.outcomes.inc({ outcome }, 0);
      }
    }
  }

  /** Starts acting on a cluster map (called by MetaSync). */
  follow(view: ClusterView): void {
    this.view = view;
    this.viewArrived();
  }

  /** The cluster view once it is followed and synced (undefined after `timeoutMs` or at close). */
  private async syncedView(timeoutMs: number): Promise<ClusterView | undefined> {
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    let onClose: (() => void) | undefined;
    const giveUp = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      onClose = () => resolve(false);
      this.closing.signal.addEventListener('abort', onClose, { once: true });
    });
    try {
      await Promise.race([this.viewPromise, giveUp]);
      const view = this.view;
      if (view === undefined || this.closed) return undefined;
      const synced = await Promise.race([
        view.waitSynced(Math.max(0, deadline - Date.now())),
        giveUp,
      ]);
      return synced && !this.closed ? view : undefined;
    } finally {
      clearTimeout(timer);
      this.closing.signal.removeEventListener('abort', onClose!);
    }
  }

  /** Stops acting on the map (MetaSync closing): every rebuild stops. Another view is left alone. */
  async unfollow(view: ClusterView): Promise<void> {
    if (this.view !== view) return;
    this.view = undefined;
    await this.stopAll();
  }

  /** Running rebuilds. */
  status(): RebuildStatus[] {
    return [...this.jobs.values()].map((j) => ({
      volumeId: j.volumeId,
      volumeName: j.volumeName,
      epoch: j.epoch,
      source: j.source,
      bytesCopied: j.bytesCopied,
      startedAtMs: j.startedAtMs,
    }));
  }

  /** Resolves once no rebuild of the volume is running (tests, shutdown). */
  async idle(volumeId: string): Promise<void> {
    await this.jobs.get(volumeId)?.done;
  }

  /**
   * The copy rate bound in force: meta's setting when the map has one (0 there means
   * unthrottled: Infinity here), else the node's own.
   */
  rebuildBytesPerSecond(): number {
    const fromMeta = this.view?.mirror().settings?.[REBUILD_BANDWIDTH_SETTING];
    let rate = this.opts.rebuildBytesPerSecond ?? DEFAULT_REBUILD_BYTES_PER_SECOND;
    if (typeof fromMeta === 'number' && Number.isFinite(fromMeta) && fromMeta >= 0) {
      rate = fromMeta === 0 ? Infinity : fromMeta;
    }
    this.metrics?.bandwidth.set(Number.isFinite(rate) ? rate : 0);
    return rate;
  }

  /**
   * Follows a map change: starts a rebuild for each `rebuilding` replica of this node whose
   * volume is not attached, and stops every rebuild whose volume was attached, deleted, moved
   * to another epoch, or no longer lists this replica as rebuilding.
   */
  onMap(mirror: MapMirror, changes: MapChanges): void {
    if (this.closed || this.view === undefined) return;
    if (changes.full || changes.settings === true) this.rebuildBytesPerSecond(); // the gauge
    const ids = new Set<string>(this.jobs.keys());
    if (changes.full) for (const id of mirror.volumes.keys()) ids.add(id);
    else for (const id of changes.volumes) ids.add(id);
    for (const id of ids) this.evaluate(mirror, id);
  }

  private evaluate(mirror: MapMirror, volumeId: string): void {
    const volume = mirror.volumes.get(volumeId);
    const job = this.jobs.get(volumeId);
    const wanted = volume !== undefined && this.wantsRebuild(volume);
    if (job !== undefined) {
      // The promotion landed (its answer may still be on its way): that is the job's success.
      const mine = volume?.replicas.find((r) => r.nodeId === this.opts.nodeId);
      const sameIncarnation = (mine?.incarnation ?? 0) === job.incarnation;
      const promoted =
        volume !== undefined &&
        volume.epoch === job.epoch &&
        mine?.role === 'in-sync' &&
        sameIncarnation;
      if (
        !promoted &&
        (!wanted ||
          volume.epoch !== job.epoch ||
          volume.sizeBytes !== job.sizeBytes ||
          !sameIncarnation)
      ) {
        const why =
          volume === undefined
            ? 'the volume was deleted'
            : volume.sizeBytes !== job.sizeBytes
              ? `the volume was resized to ${volume.sizeBytes} bytes`
              : mine?.role !== 'rebuilding'
                ? 'the replica is no longer rebuilding here'
                : !sameIncarnation
                  ? `the replica left the set and came back (incarnation ${mine.incarnation ?? 0})`
                  : volume.attachment !== null
                    ? `the volume was attached to ${volume.attachment.host} (epoch ${volume.attachment.epoch}): its engine rebuilds`
                    : volume.epoch !== job.epoch
                      ? `the volume moved to epoch ${volume.epoch}`
                      : 'the local replica is gone or failed';
        if (!job.abort.signal.aborted) {
          this.log.info({ volumeId, volume: job.volumeName, why }, 'stopping a rebuild');
          job.abort.abort(new BallastError('UNAVAILABLE', why));
        }
      }
      return; // a new one starts, if still wanted, once this one has stopped
    }
    if (!wanted) return;
    const until = this.cooldowns.get(`${volume.id}@${volume.epoch}`);
    if (until !== undefined && until > Date.now()) return;
    this.start(volume);
  }

  /** This node holds a `rebuilding` replica of an unattached volume, open and ready. */
  private wantsRebuild(volume: MapVolume): boolean {
    // During a revert the sources change under the copy (meta refuses the promotion anyway).
    if (volume.attachment !== null || volume.revert) return false;
    // A clone being copied: only the node meta chose copies (from the snapshot); the other
    // replicas are rebuilt from that copy once it is promoted (D32).
    if (volume.seed && volume.seed.nodeId !== this.opts.nodeId) return false;
    const member = volume.replicas.find((r) => r.nodeId === this.opts.nodeId);
    if (member?.role !== 'rebuilding') return false;
    if (!this.opts.store.hasReplica(volume.id)) return false;
    const local = this.opts.store.listReplicas().find((r) => r.replicaId === volume.id);
    return (
      local !== undefined &&
      local.state === 'open' &&
      local.sizeBytes === volume.sizeBytes &&
      local.chunkSizeBytes === volume.chunkSizeBytes
    );
  }

  private start(volume: MapVolume): void {
    const view = this.view!;
    const abort = new AbortController();
    const incarnation =
      volume.replicas.find((r) => r.nodeId === this.opts.nodeId)?.incarnation ?? 0;
    const target: RebuildVolume = {
      id: volume.id,
      name: volume.name,
      sizeBytes: volume.sizeBytes,
      chunkSizeBytes: volume.chunkSizeBytes,
      epoch: volume.epoch,
      incarnation,
    };
    const active: ActiveRebuild = {
      volumeId: volume.id,
      volumeName: volume.name,
      epoch: volume.epoch,
      incarnation,
      sizeBytes: volume.sizeBytes,
      abort,
      done: Promise.resolve(),
      source: null,
      bytesCopied: 0,
      startedAtMs: Date.now(),
      progress: { doneBytes: 0, totalBytes: 0, sentAtMs: 0, inFlight: false },
    };
    const label = { volume: volume.id };
    const job =
      volume.seed && volume.source
        ? this.seedJob(view, volume, target, active)
        : new RebuildJob(
            target,
            {
              nodeId: this.opts.nodeId,
              store: this.opts.store,
              replicaStore: this.opts.replicaStore,
              log: this.log,
              sources: () => this.sourcesFor(view.mirror(), volume.id),
              connect: (peer) => this.connect(peer),
              bytesPerSecond: () => this.rebuildBytesPerSecond(),
              progress: (doneBytes, totalBytes) => this.progress(active, doneBytes, totalBytes),
              copied: (bytes, chunks) => {
                active.bytesCopied += bytes;
                this.metrics?.bytes.inc(label, bytes);
                this.metrics?.chunks.inc(label, chunks);
              },
              attemptFailed: () => this.metrics?.attemptFailures.inc(label),
              sourceChanged: (peerId) => {
                if (active.source !== null) {
                  this.metrics?.source.remove({ volume: volume.id, source: active.source });
                }
                active.source = peerId;
                if (peerId !== null)
                  this.metrics?.source.set({ volume: volume.id, source: peerId }, 1);
              },
              promote: (epoch, incarnation) =>
                view.client.post(
                  `/v1/volumes/${encodeURIComponent(volume.name)}/replicas/${encodeURIComponent(this.opts.nodeId)}/promote`,
                  { epoch, incarnation },
                  { timeoutMs: 30_000, signal: abort.signal },
                ),
            },
            this.opts.rebuild,
          );
    this.log.info(
      {
        volumeId: volume.id,
        volume: volume.name,
        epoch: volume.epoch,
        clone: job instanceof SeedJob,
      },
      job instanceof SeedJob
        ? 'starting the first copy of a clone from its snapshot'
        : 'starting a node-driven rebuild of an unattached volume',
    );
    this.metrics?.active.inc();
    active.done = job
      .run(abort.signal)
      .catch((err: unknown): RebuildReport => ({
        outcome: 'failed',
        attempts: 0,
        bytesCopied: active.bytesCopied,
        chunksCopied: 0,
        reason: (err as Error).message,
      }))
      .then((report) => this.finished(active, report));
    this.jobs.set(volume.id, active);
  }

  /** The job that fills a clone's first replica from its source snapshot (D32). */
  private seedJob(
    view: ClusterView,
    volume: MapVolume,
    target: RebuildVolume,
    active: ActiveRebuild,
  ): SeedJob {
    const source = volume.source!;
    const label = { volume: volume.id };
    const mirror = view.mirror();
    const sizeBytes =
      (mirror.volumes.get(source.volumeId)?.snapshots ?? []).find((s) => s.seq === source.seq)
        ?.sizeBytes ?? volume.sizeBytes;
    return new SeedJob(
      target,
      {
        volumeId: source.volumeId,
        volumeName: source.volume,
        seq: source.seq,
        sizeBytes: typeof sizeBytes === 'number' ? Math.min(sizeBytes, volume.sizeBytes) : 0,
      },
      {
        store: this.opts.store,
        log: this.log,
        readers: () => this.snapshotReaders(view.mirror(), source.volumeId, source.seq),
        bytesPerSecond: () => this.rebuildBytesPerSecond(),
        copied: (bytes, chunks) => {
          active.bytesCopied += bytes;
          this.metrics?.bytes.inc(label, bytes);
          this.metrics?.chunks.inc(label, chunks);
        },
        progress: (doneBytes, totalBytes) => this.progress(active, doneBytes, totalBytes),
        promote: (epoch, incarnation) =>
          view.client.post(
            `/v1/volumes/${encodeURIComponent(volume.name)}/replicas/${encodeURIComponent(this.opts.nodeId)}/promote`,
            { epoch, incarnation },
            { timeoutMs: 30_000, signal: active.abort.signal },
          ),
      },
    );
  }

  /**
   * Readers of snapshot `seq` of a volume, best first: this node's own replica when it holds
   * the snapshot (no network), then every live node the map lists as holding it.
   */
  private snapshotReaders(
    mirror: MapMirror,
    volumeId: string,
    seq: number,
  ): Array<() => Promise<SnapshotReader>> {
    const volume = mirror.volumes.get(volumeId);
    const snapshot = volume?.snapshots?.find((s) => s.seq === seq && s.state === 'ready');
    if (snapshot === undefined) return [];
    const readers: Array<() => Promise<SnapshotReader>> = [];
    const store = this.opts.store;
    if (
      store.hasReplica(volumeId) &&
      store
        .replica(volumeId)
        .listSnapshots()
        .some((s) => s.seq === seq)
    ) {
      readers.push(async () => ({
        from: `${this.opts.nodeId} (local)`,
        read: async (offset, length) => store.replica(volumeId).readSnapshot(seq, offset, length),
        close: () => undefined,
      }));
    }
    for (const nodeId of snapshot.nodeIds ?? []) {
      if (nodeId === this.opts.nodeId) continue;
      const node = mirror.nodes.get(nodeId);
      if (node === undefined || !isLive(node)) continue;
      readers.push(async () => {
        const client = await this.connect({ id: node.id, address: node.address, incarnation: 0 });
        return {
          from: node.id,
          read: (offset, length) => client.readSnapshot(volumeId, seq, offset, length),
          close: () => client.destroy(),
        };
      });
    }
    return readers;
  }

  private finished(active: ActiveRebuild, report: RebuildReport): void {
    this.metrics?.active.dec();
    this.metrics?.outcomes.inc({ outcome: report.outcome });
    if (active.source !== null) {
      this.metrics?.source.remove({ volume: active.volumeId, source: active.source });
    }
    this.jobs.delete(active.volumeId);
    const level = outcomeLevel(report.outcome);
    this.log[level](
      {
        volumeId: active.volumeId,
        volume: active.volumeName,
        epoch: active.epoch,
        outcome: report.outcome,
        attempts: report.attempts,
        bytesCopied: report.bytesCopied,
        chunksCopied: report.chunksCopied,
        seconds: (Date.now() - active.startedAtMs) / 1000,
        reason: report.reason,
      },
      'node-driven rebuild ended',
    );
    if (report.outcome !== 'aborted') {
      const ms = report.outcome === 'failed' ? FAILED_COOLDOWN_MS : SAME_EPOCH_COOLDOWN_MS;
      this.coolDown(`${active.volumeId}@${active.epoch}`, ms);
    }
    if (report.outcome === 'failed') void this.failTask(active, report.reason);
    // A stopped rebuild may have a successor (a new epoch, the volume detached again).
    const view = this.view;
    if (view !== undefined && !this.closed) this.evaluate(view.mirror(), active.volumeId);
  }

  /**
   * Tells meta the rebuild task failed, so its control loop can count the attempt (it tries
   * again, then places the replica elsewhere). Best effort: a lost answer leaves the task open
   * and the node tries again after its cool-down.
   */
  private async failTask(active: ActiveRebuild, reason: string): Promise<void> {
    const view = this.view;
    if (view === undefined) return;
    const task = this.rebuildTask(view.mirror(), active.volumeId);
    if (task === undefined) return;
    try {
      await view.client.post(
        `/v1/tasks/${encodeURIComponent(task.id)}/finish`,
        { outcome: 'failed', message: `node ${this.opts.nodeId}: ${reason}`.slice(0, 500) },
        { timeoutMs: 10_000 },
      );
    } catch (err) {
      this.log.warn(
        { volumeId: active.volumeId, task: task.id, err: (err as Error).message },
        'could not mark the rebuild task failed',
      );
    }
  }

  private coolDown(key: string, ms: number): void {
    const now = Date.now();
    for (const [k, until] of this.cooldowns) if (until <= now) this.cooldowns.delete(k);
    if (this.cooldowns.size >= MAX_COOLDOWNS) {
      const oldest = this.cooldowns.keys().next().value;
      if (oldest !== undefined) this.cooldowns.delete(oldest);
    }
    this.cooldowns.set(key, now + ms);
    if (this.cooldownTimer === undefined && !this.closed) {
      this.cooldownTimer = setTimeout(() => {
        this.cooldownTimer = undefined;
        this.view?.requestPass();
      }, ms + 50);
      this.cooldownTimer.unref();
    }
  }

  /** In-sync replicas of the volume on live nodes other than this one, best first. */
  private sourcesFor(mirror: MapMirror, volumeId: string): PeerNode[] {
    const volume = mirror.volumes.get(volumeId);
    if (volume === undefined) return [];
    const preferred = this.rebuildTask(mirror, volumeId)?.sourceNodeId ?? null;
    const candidates: Array<{ node: MapNode; incarnation: number }> = [];
    for (const r of volume.replicas) {
      if (r.role !== 'in-sync' || r.nodeId === this.opts.nodeId) continue;
      const node = mirror.nodes.get(r.nodeId);
      if (node === undefined || !isLive(node)) continue;
      candidates.push({ node, incarnation: r.incarnation ?? 0 });
    }
    const rank = (n: MapNode): number => (n.id === preferred ? 0 : n.state === 'up' ? 1 : 2);
    candidates.sort(
      (a, b) =>
        rank(a.node) - rank(b.node) || (a.node.id < b.node.id ? -1 : a.node.id > b.node.id ? 1 : 0),
    );
    return candidates.map((c) => ({
      id: c.node.id,
      address: c.node.address,
      incarnation: c.incarnation,
    }));
  }

  /** Meta's task for this rebuild, if it made one. */
  private rebuildTask(mirror: MapMirror, volumeId: string): MapTask | undefined {
    for (const task of mirror.tasks.values()) {
      if (
        task.kind === 'rebuild' &&
        task.volumeId === volumeId &&
        task.nodeId === this.opts.nodeId &&
        (task.state === 'pending' || task.state === 'running')
      ) {
        return task;
      }
    }
    return undefined;
  }

  /** Sends progress to the rebuild's task at most once a second (and when it completes). */
  private progress(active: ActiveRebuild, doneBytes: number, totalBytes: number): void {
    const p = active.progress;
    p.doneBytes = doneBytes;
    p.totalBytes = totalBytes;
    if (p.inFlight) return; // the latest values go out when this one is answered
    const final = doneBytes === totalBytes;
    if (!final && Date.now() - p.sentAtMs < PROGRESS_INTERVAL_MS) return;
    const view = this.view;
    if (view === undefined) return;
    const task = this.rebuildTask(view.mirror(), active.volumeId);
    if (task === undefined) return;
    p.inFlight = true;
    p.sentAtMs = Date.now();
    view.client
      .post(
        `/v1/tasks/${encodeURIComponent(task.id)}/progress`,
        { doneBytes, totalBytes },
        { timeoutMs: 5_000, signal: active.abort.signal },
      )
      .catch((err: unknown) => {
        this.log.debug(
          { volumeId: active.volumeId, task: task.id, err: (err as Error).message },
          'rebuild progress not recorded',
        );
      })
      .finally(() => {
        p.inFlight = false;
        // A completion reported while this one was on its way must not be lost.
        const changed = p.doneBytes !== doneBytes || p.totalBytes !== totalBytes;
        if (changed && p.doneBytes === p.totalBytes && !active.abort.signal.aborted) {
          this.progress(active, p.doneBytes, p.totalBytes);
        }
      });
  }

  private async connect(peer: PeerNode): Promise<DataPlaneClient> {
    const { host, port } = parseHostPort(peer.address, `address of node ${peer.id}`);
    return DataPlaneClient.connect({
      host,
      port,
      clusterId: this.opts.clusterId,
      clientId: this.opts.nodeId,
      ...(this.opts.secret !== undefined && this.opts.secret !== ''
        ? { secret: this.opts.secret }
        : { insecureNoAuth: true }),
      expectedNodeId: peer.id,
      ...(this.opts.tls !== undefined ? { tls: this.opts.tls } : {}),
      connectTimeoutMs: this.opts.connectTimeoutMs ?? 5_000,
      requestTimeoutMs: this.opts.requestTimeoutMs ?? 60_000,
      logger: this.log,
    });
  }

  /**
   * The scrub's hook: rewrites each bad block with a good copy from an in-sync peer. The bytes
   * are taken only if they match the checksum this replica already holds for the block
   * (`repairBlocks`), so a repair restores what was written and can never change content, also
   * while the volume is attached and written (README, "Scrub repair").
   */
  async repairBadBlocks(volumeId: string, badBlocks: readonly BadBlock[]): Promise<void> {
    const label = { volume: volumeId };
    const remaining = new Map<number, BadBlock>();
    for (const b of badBlocks.slice(0, MAX_REPAIR_BLOCKS)) remaining.set(b.blockIndex, b);
    const fail = (why: string): void => {
      this.metrics?.repairFailures.inc(label, remaining.size);
      this.log.error(
        { volumeId, blocks: [...remaining.keys()].slice(0, 32), why },
        'SCRUB REPAIR FAILED: bad blocks stay bad on this replica',
      );
    };
    const view = await this.syncedView(REPAIR_MAP_WAIT_MS);
    if (view === undefined) return fail('this node follows no cluster map, so it knows no peers');
    const mirror = view.mirror();
    const volume = mirror.volumes.get(volumeId);
    if (volume === undefined) return fail('the map has no such volume');
    const member = volume.replicas.find((r) => r.nodeId === this.opts.nodeId);
    if (member === undefined) return fail('the map does not list this replica');
    const peers = this.sourcesFor(mirror, volumeId);
    if (peers.length === 0) return fail('no in-sync replica on a live peer');
    const replica = this.opts.store.replica(volumeId);
    for (const peer of peers) {
      if (remaining.size === 0) break;
      let client: DataPlaneClient | undefined;
      try {
        client = await this.connect(peer);
        // Reads only, under the peer's own fence from the map (a newer one there refuses them).
        const session = await client.openSession({
          volumeId,
          epoch: volume.epoch,
          incarnation: peer.incarnation,
        });
        for (const [blockIndex, bad] of [...remaining]) {
          let good: Buffer;
          try {
            good = await session.read(bad.offsetBytes, BLOCK_SIZE_BYTES);
          } catch (err) {
            if (isBallastError(err, 'CHECKSUM_MISMATCH')) continue; // bad there too
            throw err;
          }
          try {
            replica.repairBlocks(bad.offsetBytes, good);
          } catch (err) {
            // The peer's block is not what this replica holds (the chunks differ): not a repair.
            if (isBallastError(err, 'CHECKSUM_MISMATCH')) continue;
            throw err;
          }
          // Read back through the checksum before counting it.
          replica.read(bad.offsetBytes, BLOCK_SIZE_BYTES);
          // Counted by the store (ballast_node_repaired_blocks_total).
          remaining.delete(blockIndex);
          this.log.warn(
            { volumeId, blockIndex, offsetBytes: bad.offsetBytes, peer: peer.id },
            'scrub repaired a bad block from a peer copy',
          );
        }
      } catch (err) {
        this.log.warn(
          { volumeId, peer: peer.id, err: (err as Error).message },
          'scrub repair from this peer failed; trying the next',
        );
      } finally {
        client?.destroy();
      }
    }
    if (remaining.size > 0) fail('no in-sync peer had a copy matching the stored checksums');
    else await replica.flush();
  }

  private async stopAll(): Promise<void> {
    const running = [...this.jobs.values()];
    for (const job of running) job.abort.abort(new BallastError('UNAVAILABLE', 'stopping'));
    await Promise.all(running.map((j) => j.done));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    if (this.cooldownTimer) clearTimeout(this.cooldownTimer);
    await this.stopAll();
  }
}

function isLive(node: MapNode): boolean {
  return node.state !== 'down' && node.state !== 'removed' && node.reachable !== false;
}

function outcomeLevel(outcome: RebuildOutcome): 'info' | 'warn' | 'error' {
  switch (outcome) {
    case 'promoted':
    case 'aborted':
      return 'info';
    case 'fenced':
      return 'warn';
    case 'failed':
      return 'error';
  }
}
