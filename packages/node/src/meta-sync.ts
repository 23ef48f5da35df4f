import { Counter, Gauge, type Registry } from 'prom-client';
import { compareFence, isBallastError, type Logger } from '@ballast/common';
import {
  MapFollower,
  MetaClient,
  sleep,
  type MapChanges,
  type MapMirror,
  type MapVolume,
} from '@ballast/meta-client';
import type { CapacityInfo } from './metrics.js';
import type { ReplicaAdmin } from './node.js';
import type { ClusterView, PeerService } from './peers.js';

const RETRY_DELAY_MS = 2_000;
/**
 * Replica usage figures per heartbeat: meta's bound (MAX_REPLICA_USAGE_REPORTS, the maxItems of
 * its heartbeat schema; a test checks they agree). A node holding more sends them in turns.
 */
export const MAX_REPLICA_USAGE_PER_HEARTBEAT = 256;
const METRIC_NAMES = [
  'ballast_node_missing_replicas',
  'ballast_node_meta_registered',
  'ballast_node_map_revision',
  'ballast_node_heartbeat_failures_total',
  'ballast_node_replica_actions_total',
  'ballast_node_replica_action_failures_total',
] as const;

export interface MetaSyncOptions {
  nodeId: string;
  /** The data-plane address agents and peers dial (registered in the map). */
  address: string;
  labels: Record<string, string>;
  metaUrls: readonly string[];
  /** Bearer token of meta's API (the join token). */
  token: string;
  replicas: ReplicaAdmin;
  capacity: () => CapacityInfo;
  log: Logger;
  /** Metrics of the sync go here (the node's registry). */
  registry?: Registry;
  /** Heartbeat period; meta marks a node down after its node timeout (15 s by default). */
  heartbeatIntervalMs?: number;
  /**
   * A local replica the map no longer lists on this node is deleted only after it stayed
   * unlisted this long (a guard against acting on a transiently incomplete view). Default 10 s.
   */
  orphanGraceMs?: number;
  /** Full reconcile passes at least this often (retries of failed steps). Default 30 s. */
  fullPassIntervalMs?: number;
  /** Bound on one meta request. */
  requestTimeoutMs?: number;
  /** The node's peer work to drive from the map (default: `replicas.peers`). */
  peers?: PeerService;
}

/** A replica the map places here that must not be created empty (see the README). */
export interface MissingReplica {
  volumeId: string;
  volumeName: string;
  role: 'in-sync' | 'rebuilding' | 'stale';
  epoch: number;
}

export interface MetaSyncStatus {
  registered: boolean;
  /** The node was removed from the cluster: the sync stopped. */
  removed: boolean;
  synced: boolean;
  revision: number;
  missingReplicas: MissingReplica[];
  lastHeartbeatAtMs: number | null;
}

/**
 * The storage node's side of the cluster map: registers the node with meta, heartbeats, follows
 * the map and makes the local replicas match it. For every volume that lists this node (as a
 * replica or a stale record) it persists the volume's fence (epoch and this copy's incarnation,
 * which fences an older writer or an abandoned session before the new one connects), grows the replica when the volume grew, and creates a
 * missing replica only when that cannot lose data: the map says it is `rebuilding` (a rebuild
 * fills it before it is promoted) or the volume was never attached (epoch 0: nobody wrote it).
 * A missing replica of a written volume in an in-sync role is reported, never created empty.
 * Replicas of volumes the map no longer has, or no longer lists on this node, are deleted after
 * a grace period.
 */
export class MetaSync {
  readonly client: MetaClient;
  private readonly follower: MapFollower;
  private readonly peers: PeerService | undefined;
  private readonly view: ClusterView;
  private readonly abort = new AbortController();
  private registered = false;
  private removed = false;
  private lastHeartbeatAtMs: number | null = null;
  /** Heartbeat sequence: starts at the clock so a restarted node's beats are never "older". */
  private sequence = Date.now();
  /** Where the next heartbeat's replica usage list starts, when not all fit in one. */
  private usageCursor = 0;
  private readonly missing = new Map<string, MissingReplica>();
  /** Local replicas the map does not list here, with when that was first seen. */
  private readonly orphanSince = new Map<string, number>();
  private readonly failedSteps = new Set<string>();
  private heartbeatLoop: Promise<void> | undefined;
  private orphanTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly heartbeatIntervalMs: number;
  private readonly orphanGraceMs: number;
  private readonly requestTimeoutMs: number;
  private readonly registeredOnce: Promise<void>;
  private resolveRegistered!: () => void;
  private readonly metrics:
    | {
        missing: Gauge;
        registered: Gauge;
        revision: Gauge;
        heartbeatFailures: Counter;
        actions: Counter<'action'>;
        actionFailures: Counter<'action'>;
      }
    | undefined;

  constructor(private readonly options: MetaSyncOptions) {
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 3_000;
    this.orphanGraceMs = options.orphanGraceMs ?? 10_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.client = new MetaClient({
      urls: options.metaUrls,
      token: options.token,
      attemptTimeoutMs: Math.min(5_000, this.requestTimeoutMs),
      timeoutMs: this.requestTimeoutMs,
    });
    this.peers = options.peers ?? options.replicas.peers;
    this.follower = new MapFollower({
      client: this.client,
      log: options.log,
      onChange: (mirror, changes) => this.reconcile(mirror, changes),
      fullPassIntervalMs: options.fullPassIntervalMs ?? 30_000,
      // Rebuild progress goes to meta's tasks, and the rebuild bandwidth is a setting.
      followTasks: this.peers !== undefined,
    });
    const follower = this.follower;
    this.view = {
      client: this.client,
      mirror: () => follower.mirror,
      requestPass: () => follower.requestFullPass(),
      waitSynced: (timeoutMs) => follower.waitSynced(timeoutMs),
    };
    this.peers?.follow(this.view);
    this.registeredOnce = new Promise((resolve) => (this.resolveRegistered = resolve));
    if (options.registry) {
      const registers = [options.registry];
      this.metrics = {
        missing: new Gauge({
          name: 'ballast_node_missing_replicas',
          help: 'Replicas the map places on this node that it does not hold and must not create empty',
          registers,
        }),
        registered: new Gauge({
          name: 'ballast_node_meta_registered',
          help: '1 once the node is registered with meta',
          registers,
        }),
        revision: new Gauge({
          name: 'ballast_node_map_revision',
          help: 'Cluster map revision this node has applied',
          registers,
        }),
        heartbeatFailures: new Counter({
          name: 'ballast_node_heartbeat_failures_total',
          help: 'Heartbeats meta did not accept',
          registers,
        }),
        actions: new Counter({
          name: 'ballast_node_replica_actions_total',
          help: 'Replica changes made to follow the map (create, resize, delete, accept_epoch, drop_snapshot, take_snapshot, revert)',
          labelNames: ['action'],
          registers,
        }),
        actionFailures: new Counter({
          name: 'ballast_node_replica_action_failures_total',
          help: 'Replica changes that failed (retried on the next pass)',
          labelNames: ['action'],
          registers,
        }),
      };
    }
  }

  /** Starts registering, heartbeating and following the map in the background. */
  start(): void {
    if (this.heartbeatLoop !== undefined) return;
    this.heartbeatLoop = this.runHeartbeats();
  }

  /** Resolves once registered (false after `timeoutMs`). */
  async waitRegistered(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.registeredOnce.then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  waitSynced(timeoutMs: number): Promise<boolean> {
    return this.follower.waitSynced(timeoutMs);
  }

  status(): MetaSyncStatus {
    return {
      registered: this.registered,
      removed: this.removed,
      synced: this.follower.isSynced,
      revision: this.follower.mirror.revision,
      missingReplicas: [...this.missing.values()],
      lastHeartbeatAtMs: this.lastHeartbeatAtMs,
    };
  }

  async close(): Promise<void> {
    this.abort.abort();
    if (this.orphanTimer) clearTimeout(this.orphanTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.heartbeatLoop;
    await this.follower.close();
    await this.peers?.unfollow(this.view);
    const registry = this.options.registry;
    if (registry !== undefined && this.metrics !== undefined) {
      for (const name of METRIC_NAMES) registry.removeSingleMetric(name);
    }
  }

  private async register(): Promise<void> {
    const c = this.options.capacity();
    await this.client.post(
      '/v1/nodes',
      {
        id: this.options.nodeId,
        address: this.options.address,
        labels: this.options.labels,
        capacityBytes: c.capacityBytes,
        usedBytes: Math.min(c.usedBytes, c.capacityBytes),
      },
      { signal: this.abort.signal },
    );
    if (!this.registered) {
      this.options.log.info(
        { address: this.options.address, labels: this.options.labels },
        'registered with meta',
      );
    }
    this.registered = true;
    this.metrics?.registered.set(1);
    this.resolveRegistered();
    // The map is followed once the node is in it: replicas are reconciled against its record.
    this.follower.start();
  }

  private async runHeartbeats(): Promise<void> {
    let failures = 0;
    while (!this.abort.signal.aborted && !this.removed) {
      try {
        if (!this.registered) await this.register();
        else await this.heartbeat();
        failures = 0;
      } catch (err) {
        if (this.abort.signal.aborted) break;
        failures += 1;
        this.metrics?.heartbeatFailures.inc();
        if (isBallastError(err, 'NOT_FOUND')) {
          // Meta does not know this node (a new cluster map): register again.
          this.registered = false;
          this.metrics?.registered.set(0);
        } else if (isBallastError(err, 'CONFLICT') && this.isRemoval(err)) {
          this.removed = true;
          this.options.log.error(
            { err: (err as Error).message },
            'this node was removed from the cluster; it no longer registers or heartbeats (a new node id is needed)',
          );
          break;
        }
        const level = failures > 3 ? 'error' : 'warn';
        this.options.log[level](
          { err: (err as Error).message, failures },
          this.registered ? 'heartbeat failed' : 'registration with meta failed; retrying',
        );
      }
      const waitMs =
        failures === 0
          ? this.heartbeatIntervalMs
          : Math.min(this.heartbeatIntervalMs, 500 * failures);
      await sleep(waitMs, this.abort.signal);
    }
  }

  private isRemoval(err: unknown): boolean {
    return /removed/.test((err as Error).message);
  }

  private async heartbeat(): Promise<void> {
    const c = this.options.capacity();
    this.sequence += 1;
    await this.client.post(
      `/v1/nodes/${encodeURIComponent(this.options.nodeId)}/heartbeat`,
      {
        capacityBytes: c.capacityBytes,
        usedBytes: Math.min(c.usedBytes, c.capacityBytes),
        availableBytes: Math.min(c.freeBytes, c.capacityBytes),
        sequence: this.sequence,
        replicas: this.replicaUsage(),
      },
      { signal: this.abort.signal, timeoutMs: Math.max(1_000, this.heartbeatIntervalMs) },
    );
    this.lastHeartbeatAtMs = Date.now();
  }

  /**
   * Used bytes of the open replicas the map lists here as members (meta balances them; it
   * records only figures that changed meaningfully). Stale copies and orphans are left out: they
   * are not the map's replicas. At most MAX_REPLICA_USAGE_PER_HEARTBEAT per beat; with more, a
   * window that moves on every beat, so each figure goes out at least every few beats.
   */
  replicaUsage(): Array<{ volumeId: string; usedBytes: number }> {
    const me = this.options.nodeId;
    const volumes = this.follower.mirror.volumes;
    const listed: Array<{ volumeId: string; usedBytes: number }> = [];
    for (const r of this.options.replicas.list()) {
      if (r.state !== 'open') continue;
      if (!volumes.get(r.replicaId)?.replicas.some((m) => m.nodeId === me)) continue;
      // A file can occupy more than its length for a while (file-system preallocation).
      listed.push({ volumeId: r.replicaId, usedBytes: Math.min(r.usedBytes, r.sizeBytes) });
    }
    if (listed.length <= MAX_REPLICA_USAGE_PER_HEARTBEAT) {
      this.usageCursor = 0;
      return listed;
    }
    const start = this.usageCursor % listed.length;
    this.usageCursor = (start + MAX_REPLICA_USAGE_PER_HEARTBEAT) % listed.length;
    return [...listed.slice(start), ...listed.slice(0, start)].slice(
      0,
      MAX_REPLICA_USAGE_PER_HEARTBEAT,
    );
  }

  /** Makes the local replicas match the map (one pass; the follower serialises passes). */
  private async reconcile(mirror: MapMirror, changes: MapChanges): Promise<void> {
    this.metrics?.revision.set(mirror.revision);
    const me = this.options.nodeId;
    const local = new Map(this.options.replicas.list().map((r) => [r.replicaId, r]));
    const ids = changes.full || this.failedSteps.size > 0 ? mirror.volumes.keys() : changes.volumes;
    this.failedSteps.clear();
    for (const id of ids) {
      const volume = mirror.volumes.get(id);
      if (volume === undefined) continue;
      const member = volume.replicas.find((r) => r.nodeId === me);
      const stale = volume.staleReplicas.find((r) => r.nodeId === me);
      if (member === undefined && stale === undefined) {
        if (!local.has(id)) this.missing.delete(id);
        continue;
      }
      const incarnation = member?.incarnation ?? stale?.incarnation ?? 0;
      await this.reconcileVolume(volume, member?.role ?? 'stale', incarnation, local.has(id));
    }
    this.reconcileOrphans(mirror);
    this.metrics?.missing.set(this.missing.size);
    // After the replicas were created: rebuilds of unattached volumes start or stop here.
    this.peers?.onMap(mirror, changes);
  }

  private async reconcileVolume(
    volume: MapVolume,
    role: 'in-sync' | 'rebuilding' | 'stale',
    incarnation: number,
    present: boolean,
  ): Promise<void> {
    const replicas = this.options.replicas;
    const log = this.options.log;
    if (!present) {
      // Data loss is the one unforgivable bug: an empty replica listed as in-sync would be read
      // from as if it held the volume's data. Only two cases are safe to create.
      const safe = role === 'rebuilding' || (role === 'in-sync' && volume.epoch === 0);
      if (!safe) {
        const known = this.missing.get(volume.id);
        if (known === undefined || known.epoch !== volume.epoch || known.role !== role) {
          log.error(
            { volumeId: volume.id, volume: volume.name, role, epoch: volume.epoch },
            'REPLICA MISSING: the map lists a replica of a written volume on this node but this node does not hold it; NOT creating it empty (the engine will take it out of the in-sync set; a rebuild must replace it)',
          );
        }
        this.missing.set(volume.id, {
          volumeId: volume.id,
          volumeName: volume.name,
          role,
          epoch: volume.epoch,
        });
        return;
      }
      const ok = await this.step('create', volume, () =>
        replicas.ensure(volume.id, {
          sizeBytes: volume.sizeBytes,
          chunkSizeBytes: volume.chunkSizeBytes,
        }),
      );
      if (!ok) return;
      this.missing.delete(volume.id);
    } else {
      this.missing.delete(volume.id);
      const summary = replicas.list().find((r) => r.replicaId === volume.id);
      if (summary?.state === 'failed' && role === 'rebuilding') {
        // A replica that stopped serving (a disk error, a full disk at fdatasync) stays failed
        // until it is replaced. The map wants it rebuilt here: a rebuild fills a new one, so it
        // is safe to start empty (D8), and nothing else would ever bring this copy back.
        log.warn(
          { volumeId: volume.id, volume: volume.name, failure: summary.failure },
          'the replica failed on this node and the map has it rebuilding: recreating it empty for a full rebuild',
        );
        const ok = await this.step('create', volume, async () => {
          await replicas.delete(volume.id);
          await replicas.ensure(volume.id, {
            sizeBytes: volume.sizeBytes,
            chunkSizeBytes: volume.chunkSizeBytes,
          });
        });
        if (!ok) return;
      } else if (summary !== undefined) {
        if (summary.chunkSizeBytes !== volume.chunkSizeBytes) {
          log.error(
            {
              volumeId: volume.id,
              localChunkSizeBytes: summary.chunkSizeBytes,
              mapChunkSizeBytes: volume.chunkSizeBytes,
            },
            'replica has another chunk size than the map says; leaving it alone',
          );
          return;
        }
        if (summary.state === 'open') await this.dropSnapshots(volume);
        if (summary.sizeBytes < volume.sizeBytes) {
          await this.step('resize', volume, () => replicas.resize(volume.id, volume.sizeBytes));
        } else if (summary.sizeBytes > volume.sizeBytes) {
          log.error(
            {
              volumeId: volume.id,
              localSizeBytes: summary.sizeBytes,
              mapSizeBytes: volume.sizeBytes,
            },
            'replica is larger than the volume in the map (volumes never shrink); leaving it alone',
          );
        }
      }
    }
    // The map's fence for this node's copy: a newer epoch fences an older writer, a newer
    // incarnation (the copy was demoted, or re-added) every session of the earlier one, before
    // anyone connects under the new fence (D17). Only ever forward: a session may have brought
    // a newer fence than this (older) view of the map.
    const fence = { epoch: volume.epoch, incarnation };
    if (compareFence(fence, replicas.highestFence(volume.id)) > 0) {
      await this.step('accept_epoch', volume, () =>
        replicas.acceptFence(volume.id, fence).catch((err: unknown) => {
          // Raced by a session that brought a newer fence: nothing to do.
          if (isBallastError(err, 'FENCED') || isBallastError(err, 'SUPERSEDED')) return;
          throw err;
        }),
      );
    }
    if (role === 'in-sync') {
      await this.takeDetachedSnapshots(volume);
      await this.revert(volume);
    }
  }

  /**
   * Reverts this node's replica when the map asks (D31) and reports it. Only at the revert's
   * epoch, which meta took when it started the revert and this node persisted above, so no
   * session of an earlier epoch writes meanwhile. Running it again (a lost report, a restart
   * part-way) finds the chunks already reverted and only reports.
   */
  private async revert(volume: MapVolume): Promise<void> {
    const replicas = this.options.replicas;
    const revert = volume.revert;
    if (!revert || volume.attachment !== null || replicas.revertToSnapshot === undefined) return;
    const me = this.options.nodeId;
    if (!revert.waitingFor.includes(me) || revert.nodeIds.includes(me)) return;
    if (revert.epoch !== volume.epoch || replicas.highestFence(volume.id).epoch !== revert.epoch) {
      return;
    }
    await this.step('revert', volume, async () => {
      await replicas.revertToSnapshot!(volume.id, revert.seq);
      try {
        await this.client.post(
          `/v1/volumes/${encodeURIComponent(volume.name)}/revert/report`,
          { nodeId: me, epoch: revert.epoch },
          { signal: this.abort.signal },
        );
      } catch (err) {
        if (isBallastError(err, 'FENCED') || isBallastError(err, 'NOT_FOUND')) return;
        throw err;
      }
    });
  }

  /**
   * Takes the snapshots of a detached volume that the map waits for this node to take (D30),
   * and reports each to meta. Only at the cut's epoch: a newer fence here means an attach is
   * under way (meta fails the cut then), so nothing is taken. Meta accepts the report only
   * while the volume is still detached at that epoch, so a cut it counts was made while nothing
   * wrote. A retried report finds the snapshot taken already and only reports again.
   */
  private async takeDetachedSnapshots(volume: MapVolume): Promise<void> {
    const replicas = this.options.replicas;
    if (volume.attachment !== null || replicas.createSnapshot === undefined) return;
    const me = this.options.nodeId;
    for (const snap of volume.snapshots ?? []) {
      if (snap.state !== 'creating' || snap.host !== null || snap.epoch !== volume.epoch) continue;
      if (!(snap.waitingFor ?? []).includes(me)) continue;
      if (replicas.highestFence(volume.id).epoch !== snap.epoch) continue;
      await this.step('take_snapshot', volume, async () => {
        let ok = true;
        let reason = '';
        if (!(replicas.snapshots?.(volume.id) ?? []).includes(snap.seq)) {
          try {
            await replicas.createSnapshot!(volume.id, snap.seq);
          } catch (err) {
            // The replica refused it for good (failed, or a newer snapshot there): say so, so
            // the cut fails now rather than at meta's timeout. Anything else is retried.
            if (!isBallastError(err, 'CONFLICT') && !isBallastError(err, 'IO')) throw err;
            ok = false;
            reason = (err as Error).message.slice(0, 400);
          }
        }
        try {
          await this.client.post(
            `/v1/volumes/${encodeURIComponent(volume.name)}/snapshots/${encodeURIComponent(snap.name)}/taken`,
            { nodeId: me, epoch: snap.epoch, ok, reason },
            { signal: this.abort.signal },
          );
        } catch (err) {
          // Attached meanwhile, or the snapshot is gone: the map will say what to do with it.
          if (isBallastError(err, 'FENCED') || isBallastError(err, 'NOT_FOUND')) return;
          throw err;
        }
      });
    }
  }

  /**
   * Drops the replica's snapshots that the map no longer has (deleted, or a cut that failed):
   * only seqs the map has assigned, so a cut under way that this view of the map predates stays.
   */
  private async dropSnapshots(volume: MapVolume): Promise<void> {
    const replicas = this.options.replicas;
    if (replicas.snapshots === undefined || replicas.deleteSnapshot === undefined) return;
    const assigned = volume.snapshotSeq ?? 0;
    const kept = new Set(
      (volume.snapshots ?? []).filter((s) => s.state !== 'failed').map((s) => s.seq),
    );
    for (const seq of replicas.snapshots(volume.id)) {
      if (seq > assigned || kept.has(seq)) continue;
      await this.step('drop_snapshot', volume, () => replicas.deleteSnapshot!(volume.id, seq));
    }
  }

  /** Deletes local replicas the map has not listed on this node for the grace period. */
  private reconcileOrphans(mirror: MapMirror): void {
    const me = this.options.nodeId;
    const now = Date.now();
    let nextCheckMs: number | undefined;
    const self = mirror.nodes.get(me);
    // Without this node's own record the view is not one this node belongs to: delete nothing.
    if (self === undefined || self.state === 'removed') return;
    for (const replica of this.options.replicas.list()) {
      const volume = mirror.volumes.get(replica.replicaId);
      const listed =
        volume !== undefined &&
        (volume.replicas.some((r) => r.nodeId === me) ||
          volume.staleReplicas.some((r) => r.nodeId === me));
      if (listed) {
        this.orphanSince.delete(replica.replicaId);
        continue;
      }
      const since = this.orphanSince.get(replica.replicaId);
      if (since === undefined) {
        this.orphanSince.set(replica.replicaId, now);
        nextCheckMs = Math.min(nextCheckMs ?? Infinity, this.orphanGraceMs);
        continue;
      }
      const leftMs = since + this.orphanGraceMs - now;
      if (leftMs > 0) {
        nextCheckMs = Math.min(nextCheckMs ?? Infinity, leftMs);
        continue;
      }
      this.orphanSince.delete(replica.replicaId);
      const id = replica.replicaId;
      this.options.log.warn(
        {
          volumeId: id,
          reason: volume === undefined ? 'volume deleted from the map' : 'replica moved away',
        },
        'deleting a replica the map no longer lists on this node',
      );
      void this.options.replicas.delete(id).then(
        () => this.metrics?.actions.inc({ action: 'delete' }),
        (err: unknown) => {
          this.metrics?.actionFailures.inc({ action: 'delete' });
          this.options.log.error(
            { volumeId: id, err: (err as Error).message },
            'replica delete failed',
          );
          this.scheduleRetry();
        },
      );
    }
    for (const id of [...this.orphanSince.keys()]) {
      if (!this.options.replicas.list().some((r) => r.replicaId === id))
        this.orphanSince.delete(id);
    }
    if (nextCheckMs !== undefined && !this.abort.signal.aborted) {
      if (this.orphanTimer) clearTimeout(this.orphanTimer);
      this.orphanTimer = setTimeout(() => this.follower.requestFullPass(), nextCheckMs + 10);
      this.orphanTimer.unref();
    }
  }

  /** A failed step is tried again soon, not only at the next periodic pass. */
  private scheduleRetry(): void {
    if (this.retryTimer !== undefined || this.abort.signal.aborted) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.follower.requestFullPass();
    }, RETRY_DELAY_MS);
    this.retryTimer.unref();
  }

  private async step(
    action: 'create' | 'resize' | 'accept_epoch' | 'drop_snapshot' | 'take_snapshot' | 'revert',
    volume: MapVolume,
    work: () => Promise<unknown>,
  ): Promise<boolean> {
    try {
      await work();
      this.metrics?.actions.inc({ action });
      this.options.log.info(
        {
          volumeId: volume.id,
          volume: volume.name,
          action,
          epoch: volume.epoch,
          sizeBytes: volume.sizeBytes,
        },
        'replica follows the map',
      );
      return true;
    } catch (err) {
      this.metrics?.actionFailures.inc({ action });
      this.failedSteps.add(volume.id);
      this.options.log.error(
        { volumeId: volume.id, action, err: (err as Error).message },
        'replica change failed; retrying on the next pass',
      );
      this.scheduleRetry();
      return false;
    }
  }
}
