import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Registry } from 'prom-client';
import {
  BallastError,
  isBallastError,
  parseHostPort,
  type BlockDevice,
  type ErrorCode,
  type Logger,
} from '@ballast/common';
import {
  DataPlaneClient,
  isDataPlaneError,
  remoteSessionFactory,
  StatusCode,
  type DataPlaneClientTlsOptions,
} from '@ballast/dataplane';
import { VolumeEngine, type EngineStats } from '@ballast/engine';
import { localSessionFactory, type ReplicaStore } from '@ballast/session';
import type { VolumeRecord } from '@ballast/meta';

/** The longest replica timeout a volume may set (meta's MAX_REPLICA_TIMEOUT_MS). */
const LONGEST_REPLICA_TIMEOUT_MS = 300_000;
import { NbdServer } from '@ballast/nbd';
import {
  MapFollower,
  MetaClient,
  MetaControlPlane,
  parseNode,
  parseVolume,
  type MapChanges,
  type MapMirror,
} from '@ballast/meta-client';
import {
  checkVolumeName,
  type AttachOptions,
  type DetachOptions,
  type DetachResult,
  type FilesystemType,
  type LookupOptions,
  type VolumeAttachment,
  type VolumeBackend,
  type VolumeInfo,
  type VolumeSpec,
  type SnapshotDevice,
} from './backend.js';
import { EngineMetrics } from './engine-metrics.js';
import { engineReports, type EngineFailure, type EngineRecovery } from './engine-reports.js';
import { HostHeartbeat, type HostLiveness } from './host-heartbeat.js';
import { RebuildProgressReporter } from './rebuild-progress.js';
import { KeyedLock } from './lock.js';
import { SILENT_LOGGER, errorText, type AgentLogger } from './logger.js';
import { ServedEngine } from './served-engine.js';
import { volumeSocketPath } from './socket-path.js';

export interface ClusterBackendOptions {
  /** This agent's host id: the attachment holder, and the `host` label reads prefer. */
  host: string;
  metaUrls: readonly string[];
  /** Bearer token of meta's API. */
  token: string;
  /** Cluster id and secret of the data plane (the nodes' own). */
  clusterId: string;
  dataPlaneSecret?: string | undefined;
  /** Development only: talk to nodes that run without data-plane authentication. */
  insecureDataPlane?: boolean | undefined;
  /** Dial nodes over TLS and verify them against this CA (PEM); the macs still run inside. */
  dataPlaneTls?: DataPlaneClientTlsOptions | undefined;
  /** Export sockets go to <runDir>/nbd/<name>.sock. */
  runDir: string;
  logger?: AgentLogger;
  /** Engine metrics are registered here (the agent's registry). */
  registry?: Registry | undefined;
  /**
   * How long an attach waits for the nodes to create the replicas of a new volume (they do it
   * asynchronously, from the map). Default 30 s; after that the engine takes the missing ones
   * out of the in-sync set.
   */
  replicaReadyTimeoutMs?: number;
  /** A replica that does not answer a request within this leaves the in-sync set. Default 15 s. */
  replicaTimeoutMs?: number;
  /** Bound on one meta call. Default 15 s. */
  requestTimeoutMs?: number;
  /**
   * Bound on a fast lookup's meta call (Docker's Get, List, Path); past it the answer comes from
   * the map as last followed. Default 1 s.
   */
  fastLookupTimeoutMs?: number;
  /** How often this host tells meta it is alive; 0 turns heartbeats off. Default 3 s. */
  hostHeartbeatIntervalMs?: number;
  /**
   * Storage nodes running in this process (the agent's embedded node), by node id: the engine
   * reaches their replicas through the node's store, with no socket, and reads prefer them.
   */
  localNodes?: ReadonlyMap<string, ReplicaStore<unknown>> | undefined;
}

/** A volume served by this agent: its engine, NBD export and attachment epoch. */
interface LiveVolume {
  name: string;
  volumeId: string;
  /** The attaching host and mount path, as given to meta (a recovery attaches again with them). */
  host: string;
  mountPath: string | undefined;
  /** The epoch of the current engine: a recovery after a failure takes a new one. */
  epoch: number;
  engine: VolumeEngine;
  /** What the exports serve: the current engine, replaced when a failed one is reopened. */
  device: ServedEngine;
  /** Failed engines reopened so far, and whether a reopen is scheduled or running. */
  recoveries: number;
  recovering: boolean;
  /** The current engine's failure until it is reopened, and the last reopening (for meta). */
  failure: EngineFailure | undefined;
  recovered: EngineRecovery | undefined;
  server: NbdServer;
  socketPath: string;
  /** Map updates for this engine, applied one after the other. */
  updates: Promise<void>;
  rebuilding: Set<string>;
  /** Size an online resize is under way to (0 = none). */
  growingTo: number;
  /** Set when a newer epoch took the volume while this engine held it (seen at release). */
  superseded: boolean;
  /** Snapshot ids whose cut this engine has started (each is cut once). */
  snapshotting: Set<string>;
}

/** Tries to tell meta how a snapshot cut went. */
const SNAPSHOT_REPORT_ATTEMPTS = 8;

/** meta's host label pattern (preferHost); agent ids may hold characters it refuses. */
const HOST_LABEL = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
/** meta's volume names are Docker's rule bounded to 63 characters. */
const MAX_META_NAME = 63;
const READY_POLL_MS = 200;
/** A fast lookup asks the next meta member too after this long without an answer. */
const FAST_LOOKUP_HEDGE_MS = 300;

/**
 * A rebuild the map still wants is tried again with backoff (1 s doubling to 30 s): a node
 * that meta presumes down refuses promotions for as long as that lasts, and nothing else
 * restarts an engine's rebuild. The bound is the map: it stops once the replica is no longer
 * rebuilding here at this epoch (and, as a backstop, after about a day).
 */
const REBUILD_ATTEMPTS = 3_000;
const REBUILD_RETRY_MS = 1_000;
const REBUILD_RETRY_MAX_MS = 30_000;
/** Bound on the attempts at an online resize (each waits up to the engine's control timeout). */
const GROW_ATTEMPTS = 20;
const GROW_RETRY_MS = 2_000;
/**
 * A failed engine is reopened at a new epoch after 1 s, then with backoff doubling to 30 s, for
 * as long as the volume stays attached here: its last in-sync replica may answer again any time
 * (a node restarted, a partition healed), and nothing else would bring the volume back (D22).
 */
const RECOVERY_RETRY_MS = 1_000;
const RECOVERY_RETRY_MAX_MS = 30_000;

/**
 * The cluster volume backend: volumes live in meta's map and on the storage nodes; an attached
 * volume is a replicating VolumeEngine (@ballast/engine) over the data plane, served by
 * @ballast/nbd on a unix socket. Attach takes a new epoch in meta, which fences every earlier
 * writer; detach hands the volume back with that epoch. The agent follows the map (watch) to keep
 * each engine's replica set current and to start rebuilds of replicas that join.
 */
export class ClusterBackend implements VolumeBackend {
  readonly kind = 'cluster';
  readonly client: MetaClient;
  private readonly lock = new KeyedLock();
  private readonly live = new Map<string, LiveVolume>();
  private readonly follower: MapFollower;
  private readonly logger: AgentLogger;
  private readonly metrics: EngineMetrics | undefined;
  private readonly replicaReadyTimeoutMs: number;
  private readonly replicaTimeoutMs: number;
  /** Node addresses and labels, from lists and the map watch. */
  private readonly nodes = new Map<string, { address: string; labels: Record<string, string> }>();
  private closed = false;
  private readonly heartbeat: HostHeartbeat | undefined;

  private constructor(private readonly options: ClusterBackendOptions) {
    if (options.dataPlaneSecret === undefined && options.insecureDataPlane !== true) {
      throw new BallastError(
        'CONFIG',
        'the cluster backend needs the data-plane secret (dataPlaneSecret or dataPlaneSecretFile)',
      );
    }
    this.logger = options.logger ?? SILENT_LOGGER;
    this.replicaReadyTimeoutMs = options.replicaReadyTimeoutMs ?? 30_000;
    this.replicaTimeoutMs = options.replicaTimeoutMs ?? 15_000;
    this.client = new MetaClient({
      urls: options.metaUrls,
      token: options.token,
      timeoutMs: options.requestTimeoutMs ?? 15_000,
    });
    if (options.hostHeartbeatIntervalMs !== 0) {
      this.heartbeat = new HostHeartbeat({
        client: this.client,
        host: options.host,
        logger: this.logger,
        engines: () => engineReports(this.live.values(), Date.now()),
        ...(options.hostHeartbeatIntervalMs !== undefined
          ? { intervalMs: options.hostHeartbeatIntervalMs }
          : {}),
      });
    }
    this.follower = new MapFollower({
      client: this.client,
      log: pinoLike(this.logger),
      onChange: (mirror, changes) => this.onMapChange(mirror, changes),
    });
    if (options.registry !== undefined) {
      this.metrics = new EngineMetrics(options.registry, () =>
        [...this.live.values()].map((lv) => ({ volume: lv.name, stats: lv.engine.stats() })),
      );
    }
  }

  static async open(options: ClusterBackendOptions): Promise<ClusterBackend> {
    const backend = new ClusterBackend(options);
    await fsp.mkdir(path.join(options.runDir, 'nbd'), { recursive: true, mode: 0o700 });
    // Meta may not be up yet: the follower (and the heartbeat) keep trying in the background.
    backend.follower.start();
    backend.heartbeat?.start();
    return backend;
  }

  exportSocketPath(name: string): string {
    return volumeSocketPath(path.join(this.options.runDir, 'nbd'), name);
  }

  async create(name: string, spec: VolumeSpec): Promise<VolumeInfo> {
    checkVolumeName(name);
    if (name.length > MAX_META_NAME) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `volume name ${name} is longer than the ${MAX_META_NAME} characters the cluster accepts`,
      );
    }
    const nodeSelector: Record<string, string> = { ...spec.labels };
    if (spec.zone !== undefined) nodeSelector.zone = spec.zone;
    const body: Record<string, unknown> = {
      name,
      size: spec.sizeBytes,
      replicas: spec.replicas,
      fs: spec.fs,
    };
    if (spec.fromSnapshot !== undefined) {
      // A clone: its size and filesystem are the snapshot's unless given (D32).
      body.fromSnapshot = spec.fromSnapshot;
      if (spec.sizeGiven !== true) delete body.size;
      if (spec.fsGiven !== true) delete body.fs;
    }
    if (spec.chunkSizeBytes !== undefined) body.chunkSize = spec.chunkSizeBytes;
    if (spec.replicaTimeoutMs !== undefined) body.replicaTimeout = spec.replicaTimeoutMs;
    if (Object.keys(nodeSelector).length > 0) body.nodeSelector = nodeSelector;
    // Locality: a replica on this host when placement can afford it (it only breaks ties).
    if (HOST_LABEL.test(this.options.host)) body.preferHost = this.options.host;
    try {
      const record = await this.client.post<VolumeRecord>('/v1/volumes', body);
      this.logger.info(
        { volume: name, volumeId: record.id, replicas: record.replicas.map((r) => r.nodeId) },
        'cluster: volume created',
      );
      return toInfo(checkedVolume(record));
    } catch (err) {
      throw backendError(err, { name });
    }
  }

  async remove(name: string): Promise<void> {
    checkVolumeName(name);
    if (name.length > MAX_META_NAME) throw notFound(name);
    try {
      await this.client.delete(`/v1/volumes/${encodeURIComponent(name)}`);
      this.logger.info({ volume: name }, 'cluster: volume deleted');
    } catch (err) {
      // A DELETE whose first answer was lost has done its job already.
      if (isBallastError(err, 'NOT_FOUND') && err.details?.afterUnknownOutcome === true) return;
      throw backendError(err, { name });
    }
  }

  async get(name: string, options: LookupOptions = {}): Promise<VolumeInfo> {
    if (options.fast !== true) return toInfo(await this.fetchVolume(name));
    try {
      return toInfo(await this.fetchVolume(name, this.fastRequest()));
    } catch (err) {
      if (!metaDidNotAnswer(err)) throw err;
      const known = this.lastKnown(err);
      const record = [...known.values()].find((v) => (v as { name?: unknown }).name === name);
      if (record === undefined) {
        throw new BallastError(
          'UNAVAILABLE',
          `volume ${name}: meta did not answer within ${this.fastLookupMs()} ms and the ` +
            `${known.size} volumes last known from it do not include it (${errorText(err)})`,
          { name, metaUnreachable: true },
          err,
        );
      }
      return staleInfo(record);
    }
  }

  async list(options: LookupOptions = {}): Promise<VolumeInfo[]> {
    try {
      const { items } = await this.client.list<unknown>(
        '/v1/volumes',
        options.fast === true ? this.fastRequest() : undefined,
      );
      return items.map((v) => toInfo(checkedVolume(v)));
    } catch (err) {
      if (options.fast !== true || !metaDidNotAnswer(err)) throw err;
      const known = this.lastKnown(err);
      this.logger.warn(
        { err: errorText(err), volumes: known.size },
        'cluster: meta did not answer a volume list; answering with the volumes last known',
      );
      return [...known.values()]
        .map((v) => staleInfo(v))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    }
  }

  /**
   * Names of the volumes in the map as this agent follows it (what fast lookups answer from
   * while meta does not answer); undefined until the map was first read.
   */
  lastKnownVolumeNames(): string[] | undefined {
    if (!this.follower.isSynced) return undefined;
    return [...this.follower.mirror.volumes.values()].map((v) => v.name).sort();
  }

  private fastLookupMs(): number {
    return this.options.fastLookupTimeoutMs ?? 1_000;
  }

  private fastRequest(): { timeoutMs: number; hedgeMs: number } {
    return { timeoutMs: this.fastLookupMs(), hedgeMs: FAST_LOOKUP_HEDGE_MS };
  }

  /**
   * The volumes of the map as this agent last followed it, for fast lookups while meta does not
   * answer; UNAVAILABLE (carrying why meta did not answer) when the map was never followed.
   */
  private lastKnown(cause: unknown): ReadonlyMap<string, unknown> {
    if (!this.follower.isSynced) {
      throw new BallastError(
        'UNAVAILABLE',
        `meta did not answer within ${this.fastLookupMs()} ms and this agent has not read the ` +
          `cluster map since it started (${errorText(cause)})`,
        { metaUnreachable: true },
        cause,
      );
    }
    return this.follower.mirror.volumes;
  }

  async attach(name: string, options: AttachOptions): Promise<VolumeAttachment> {
    checkVolumeName(name);
    return this.lock.run(name, async () => {
      this.checkOpen();
      const running = this.live.get(name);
      if (running !== undefined) {
        throw new BallastError('CONFLICT', `volume ${name} is already attached by this process`, {
          name,
          host: options.host,
        });
      }
      const before = await this.fetchVolume(name);
      const holder = before.attachment?.host;
      let force = options.force === true;
      if (holder !== undefined && holder !== options.host && !force) {
        const liveness = await this.holderLiveness(holder);
        if (options.takeOverFromDeadHolder === true && liveness?.alive === false) {
          // The holder's agent has been silent past meta's host timeout: take the volume over.
          // The forced attach takes a new epoch, so if the holder was only cut off, the nodes
          // refuse its writes from now on (fenced), and nothing it acknowledged is lost.
          this.logger.warn(
            { volume: name, holder, silentMs: liveness.silentMs },
            'taking the volume over from a host presumed dead',
          );
          force = true;
        } else {
          throw holderConflict(name, holder, before.attachment!.epoch, liveness);
        }
      }
      await this.refreshNodes();
      await this.waitForReplicas(before);

      let record: VolumeRecord;
      try {
        record = checkedVolume(
          await this.client.post<VolumeRecord>(`/v1/volumes/${encodeURIComponent(name)}/attach`, {
            host: options.host,
            ...(force ? { force: true } : {}),
            ...(options.mountPath !== undefined ? { mountPath: options.mountPath } : {}),
          }),
        );
      } catch (err) {
        throw backendError(err, { name });
      }
      const epoch = record.attachment?.epoch;
      if (epoch === undefined || record.attachment?.host !== options.host) {
        throw new BallastError('INTERNAL', `meta's attach of ${name} returned no attachment`);
      }
      const started = Date.now();
      let engine: VolumeEngine;
      try {
        engine = await this.openEngine(record, epoch, options.host, (err) =>
          this.engineFailed(name, err),
        );
      } catch (err) {
        // Hand the volume back unless a newer attachment already took it.
        if (!isBallastError(err, 'FENCED')) await this.handBack(name, options.host, epoch);
        throw backendError(err, { name });
      }
      const server = new NbdServer({ logger: this.logger });
      const socketPath = this.exportSocketPath(name);
      const device = new ServedEngine(engine);
      try {
        server.addExport(name, device, {
          description: `ballast volume ${name} (epoch ${epoch})`,
          multiConn: true,
        });
        await server.listenUnix(socketPath, { exports: [name], defaultExport: name });
      } catch (err) {
        await server.close().catch(() => undefined);
        await engine.close().catch(() => undefined);
        await this.handBack(name, options.host, epoch);
        throw err;
      }
      const lv: LiveVolume = {
        name,
        volumeId: record.id,
        host: options.host,
        mountPath: options.mountPath,
        epoch,
        engine,
        device,
        recoveries: 0,
        recovering: false,
        failure: undefined,
        recovered: undefined,
        server,
        socketPath,
        updates: Promise.resolve(),
        rebuilding: new Set(),
        growingTo: 0,
        superseded: false,
        snapshotting: new Set(),
      };
      this.live.set(name, lv);
      this.logger.info(
        {
          volume: name,
          epoch,
          socketPath,
          openMs: Date.now() - started,
          replicas: engine.replicaSet(),
        },
        'cluster: volume attached and served',
      );
      // The map may already have moved on (a replica left or joined while the engine opened).
      const latest = this.follower.mirror.volumes.get(record.id);
      if (latest !== undefined) this.feed(lv, latest as unknown as VolumeRecord);
      let released: Promise<void> | undefined;
      return {
        exportSocketPath: socketPath,
        exportName: name,
        // Getters: an online resize changes what the engine serves, a recovery the epoch.
        get sizeBytes() {
          return device.sizeBytes;
        },
        fs: record.fs as FilesystemType,
        get epoch() {
          return lv.epoch;
        },
        device,
        fenced: () => lv.superseded || lv.engine.state === 'fenced',
        release: () => (released ??= this.release(lv, options.host)),
      };
    });
  }

  async detach(name: string, options: DetachOptions): Promise<DetachResult> {
    checkVolumeName(name);
    return this.lock.run(name, async () => {
      this.checkOpen();
      if (this.live.has(name)) {
        throw new BallastError(
          'CONFLICT',
          `volume ${name} is served by this agent; release its attachment instead`,
          { name, host: options.host },
        );
      }
      const before = await this.fetchVolume(name);
      const holder = before.attachment;
      if (holder === null) return { previousHost: undefined, epoch: before.epoch };
      if (holder.host !== options.host && options.force !== true) {
        throw holderConflict(
          name,
          holder.host,
          holder.epoch,
          await this.holderLiveness(holder.host),
        );
      }
      // Our own leftover is handed back with its epoch (meta refuses it if the host attached
      // again meanwhile); anyone else's is taken with force, which takes a new epoch.
      const body =
        options.force === true
          ? { host: options.host, force: true }
          : { host: options.host, epoch: holder.epoch };
      let record: VolumeRecord;
      try {
        record = checkedVolume(
          await this.client.post<VolumeRecord>(
            `/v1/volumes/${encodeURIComponent(name)}/detach`,
            body,
          ),
        );
      } catch (err) {
        throw backendError(err, { name });
      }
      this.logger.info(
        {
          volume: name,
          previousHost: holder.host,
          force: options.force === true,
          epoch: record.epoch,
        },
        'cluster: volume detached without serving it',
      );
      return { previousHost: holder.host, epoch: record.epoch };
    });
  }

  /**
   * Stops serving every export without detaching: the attachments stay in meta, so a restarted
   * agent attaches again (a new epoch) and its relays carry the mounts over.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const name of [...this.live.keys()]) {
      await this.lock.run(name, async () => {
        const lv = this.live.get(name);
        if (lv === undefined) return;
        this.live.delete(name);
        await this.stopServing(lv);
      });
    }
    await this.heartbeat?.stop();
    await this.follower.close();
    this.metrics?.close();
  }

  /** Names of the volumes this process serves (tests, status). */
  attachedVolumes(): string[] {
    return [...this.live.keys()];
  }

  /** What meta's leader knows of a host's agent; undefined when meta cannot say now. */
  private async holderLiveness(host: string): Promise<HostLiveness | undefined> {
    try {
      return await this.client.get<HostLiveness>(`/v1/hosts/${encodeURIComponent(host)}`, {
        timeoutMs: 5_000,
      });
    } catch (err) {
      this.logger.debug({ host, err: errorText(err) }, 'no liveness for the holder');
      return undefined;
    }
  }

  /** Heartbeats this backend's host sent to meta (tests, status). */
  heartbeatCounts(): { sent: number; failed: number } {
    return { ...(this.heartbeat?.counts ?? { sent: 0, failed: 0 }) };
  }

  engineStats(name: string): EngineStats | undefined {
    return this.live.get(name)?.engine.stats();
  }

  private async release(lv: LiveVolume, host: string): Promise<void> {
    await this.lock.run(lv.name, async () => {
      if (this.live.get(lv.name) !== lv) return; // closed by close(): the attachment stays
      this.live.delete(lv.name);
      // close() ends in the `closed` state, so whether the engine was fenced is read first.
      const fencedBefore = lv.engine.state === 'fenced';
      await this.stopServing(lv);
      const superseded = await this.handBack(lv.name, host, lv.epoch, true);
      lv.superseded = fencedBefore || superseded;
      this.logger.info(
        { volume: lv.name, epoch: lv.epoch, superseded: lv.superseded },
        'cluster: volume released',
      );
    });
  }

  private async stopServing(lv: LiveVolume): Promise<void> {
    try {
      await lv.server.close();
    } catch (err) {
      this.logger.warn({ volume: lv.name, err: errorText(err) }, 'cluster: closing export failed');
    }
    await lv.updates;
    // Flushes every replica, so the next attach has nothing to reconcile.
    await lv.engine.close();
    this.metrics?.retire(lv.name, lv.engine.stats());
  }

  /**
   * Detach with our epoch; a newer holder (FENCED) means there is nothing left to hand back.
   * Resolves true when a newer epoch had taken the volume (this attachment was superseded).
   */
  private async handBack(
    name: string,
    host: string,
    epoch: number,
    strict = false,
  ): Promise<boolean> {
    try {
      const record = await this.client.post<{ epoch?: unknown }>(
        `/v1/volumes/${encodeURIComponent(name)}/detach`,
        { host, epoch },
      );
      return typeof record?.epoch === 'number' && record.epoch > epoch;
    } catch (err) {
      if (isBallastError(err, 'FENCED') || isBallastError(err, 'NOT_FOUND')) {
        this.logger.warn(
          { volume: name, epoch, err: errorText(err) },
          'cluster: detach found a newer holder or no volume; nothing to hand back',
        );
        return isBallastError(err, 'FENCED');
      }
      this.logger.error({ volume: name, epoch, err: errorText(err) }, 'cluster: detach failed');
      if (strict) throw backendError(err, { name });
      return false;
    }
  }

  private async openEngine(
    record: VolumeRecord,
    epoch: number,
    host: string,
    onFailed: (err: Error) => void,
  ): Promise<VolumeEngine> {
    const localNodes = this.options.localNodes ?? new Map<string, ReplicaStore<unknown>>();
    // Reads prefer the embedded node's replica (no socket), else replicas on this host's nodes.
    const ids = record.replicas.map((r) => r.nodeId);
    const inProcess = ids.filter((id) => localNodes.has(id));
    const preferred =
      inProcess.length > 0
        ? inProcess
        : ids.filter((id) => this.nodes.get(id)?.labels.host === host);
    const remote = remoteSessionFactory({
      addressOf: (nodeId) => this.addressOf(nodeId),
      clusterId: this.options.clusterId,
      clientId: host,
      ...(this.options.dataPlaneSecret !== undefined
        ? { secret: this.options.dataPlaneSecret }
        : { insecureNoAuth: true }),
      ...(this.options.dataPlaneTls !== undefined ? { tls: this.options.dataPlaneTls } : {}),
      connectTimeoutMs: 5_000,
      // The engine's sweep decides when a replica is too slow; the client's own bound is a
      // backstop above any timeout the volume may have (it can change while attached).
      requestTimeoutMs: Math.max(this.replicaTimeoutMs, LONGEST_REPLICA_TIMEOUT_MS) * 2,
      logger: pinoLike(this.logger),
    });
    return VolumeEngine.open({
      volume: record,
      epoch,
      connect:
        localNodes.size === 0
          ? remote
          : localSessionFactory(
              localNodes,
              { clientId: host, remoteAddress: 'in-process' },
              remote,
            ),
      controlPlane: new MetaControlPlane({
        apiUrls: this.options.metaUrls,
        token: this.options.token,
      }),
      preferredNodeIds: preferred,
      replicaTimeoutMs: this.replicaTimeoutMs,
      onFailed,
      logger: pinoLike(this.logger),
    });
  }

  /** An engine of `name` failed (not fenced): reopen it at a new epoch, with backoff. */
  private engineFailed(name: string, err: Error): void {
    const lv = this.live.get(name);
    if (lv === undefined || lv.recovering || lv.engine.state !== 'failed') return;
    lv.recovering = true;
    lv.failure = {
      failedAtMs: Date.now(),
      epoch: lv.epoch,
      reason: err.message,
      attempts: 0,
      nextAttemptAtMs: undefined,
      attempting: false,
      lastError: undefined,
    };
    this.logger.error(
      { volume: name, epoch: lv.epoch, err: err.message },
      'cluster: the volume engine failed; I/O gets EIO until it is reopened at a new epoch',
    );
    this.scheduleRecovery(lv, 1);
    // Meta hears of it now rather than at the next beat.
    this.heartbeat?.nudge();
  }

  private scheduleRecovery(lv: LiveVolume, attempt: number): void {
    const delay = Math.min(
      RECOVERY_RETRY_MAX_MS,
      RECOVERY_RETRY_MS * 2 ** Math.min(attempt - 1, 5),
    );
    const failure = lv.failure;
    if (failure !== undefined) {
      failure.attempting = false;
      failure.nextAttemptAtMs = Date.now() + delay;
    }
    setTimeout(() => {
      if (failure !== undefined) {
        failure.attempting = true;
        failure.attempts = attempt;
        failure.nextAttemptAtMs = undefined;
      }
      this.recover(lv, attempt).then(
        (done) => {
          if (!done) return this.scheduleRecovery(lv, attempt + 1);
          lv.recovering = false;
          if (failure !== undefined) failure.attempting = false;
        },
        (err: unknown) => {
          // Unexpected (recover() handles the expected failures): keep trying.
          this.logger.error({ volume: lv.name, err: errorText(err) }, 'cluster: recovery failed');
          if (failure !== undefined) failure.lastError = errorText(err);
          this.scheduleRecovery(lv, attempt + 1);
        },
      );
    }, delay).unref();
  }

  /** Why a reopen attempt did not reopen the engine (meta's explanation shows it). */
  private attemptFailed(lv: LiveVolume, why: string): false {
    if (lv.failure !== undefined) lv.failure.lastError = why;
    return false;
  }

  /**
   * One attempt to reopen a failed engine: attach again (meta gives this host a new epoch, which
   * fences anything the failed engine still had on the wire), open an engine at that epoch (it
   * reconciles from the in-sync replicas, so every acknowledged write is served), and put it
   * behind the exports. Resolves true when there is nothing more to do (reopened, released,
   * closed, or taken by another host), false to try again later.
   */
  private async recover(lv: LiveVolume, attempt: number): Promise<boolean> {
    return this.lock.run(lv.name, async () => {
      if (this.closed || this.live.get(lv.name) !== lv) return true;
      const failed = lv.engine;
      if (failed.state !== 'failed') return true;
      const quiet = attempt > 3 && attempt % 10 !== 0;
      // Every attach takes an epoch (a log entry): while meta has every in-sync replica's node
      // as unreachable (down for a while, say), wait for one to come back without attaching.
      const mapped = this.follower.mirror.volumes.get(lv.volumeId) as unknown as
        VolumeRecord | undefined;
      const inSync = mapped?.replicas.filter((r) => r.role === 'in-sync') ?? [];
      if (
        inSync.length > 0 &&
        inSync.every((r) => this.follower.mirror.nodes.get(r.nodeId)?.reachable === false)
      ) {
        if (!quiet) {
          this.logger.warn(
            { volume: lv.name, attempt, inSync: inSync.map((r) => r.nodeId) },
            'cluster: waiting for a node holding an in-sync replica to be reachable before reopening',
          );
        }
        return this.attemptFailed(
          lv,
          `not attaching again: meta has every node holding an in-sync replica (${inSync.map((r) => r.nodeId).join(', ')}) as unreachable`,
        );
      }
      let record: VolumeRecord;
      try {
        await this.refreshNodes();
        record = checkedVolume(
          await this.client.post<VolumeRecord>(
            `/v1/volumes/${encodeURIComponent(lv.name)}/attach`,
            {
              host: lv.host,
              ...(lv.mountPath !== undefined ? { mountPath: lv.mountPath } : {}),
            },
          ),
        );
      } catch (err) {
        if (isBallastError(err, 'CONFLICT') || isBallastError(err, 'NOT_FOUND')) {
          // Another host took the volume (with force), or it is gone: this attachment is over.
          lv.superseded = true;
          this.logger.error(
            { volume: lv.name, err: errorText(err) },
            'cluster: not reopening the failed engine: the volume is no longer attached here',
          );
          this.attemptFailed(lv, `no more attempts: ${errorText(err)}`);
          return true;
        }
        if (!quiet) {
          this.logger.warn(
            { volume: lv.name, attempt, err: errorText(err) },
            'cluster: could not attach again to reopen the failed engine; trying again',
          );
        }
        return this.attemptFailed(lv, `attaching again failed: ${errorText(err)}`);
      }
      const epoch = record.attachment?.epoch;
      if (epoch === undefined || record.attachment?.host !== lv.host) {
        throw new BallastError('INTERNAL', `meta's attach of ${lv.name} returned no attachment`);
      }
      // The attach fenced the failed engine's epoch on the nodes; stop its sessions too.
      await failed.abandon();
      lv.epoch = epoch;
      let engine: VolumeEngine;
      try {
        engine = await this.openEngine(record, epoch, lv.host, (err) =>
          this.engineFailed(lv.name, err),
        );
      } catch (err) {
        if (!quiet) {
          this.logger.warn(
            { volume: lv.name, epoch, attempt, err: errorText(err) },
            'cluster: the failed engine could not be reopened yet (no in-sync replica answers); trying again',
          );
        }
        return this.attemptFailed(
          lv,
          `opening an engine at epoch ${epoch} failed: ${errorText(err)}`,
        );
      }
      await lv.updates;
      this.metrics?.retire(lv.name, failed.stats());
      lv.engine = engine;
      lv.device.replace(engine);
      lv.rebuilding.clear();
      lv.growingTo = 0;
      lv.recoveries += 1;
      if (lv.failure !== undefined) {
        const { failedAtMs, epoch: failedEpoch, reason } = lv.failure;
        lv.recovered = {
          failedAtMs,
          epoch: failedEpoch,
          reason,
          attempts: attempt,
          recoveredAtMs: Date.now(),
          recoveredEpoch: epoch,
        };
      }
      lv.failure = undefined;
      this.heartbeat?.nudge();
      this.logger.warn(
        { volume: lv.name, epoch, attempt, replicas: engine.replicaSet() },
        'cluster: the failed engine was reopened at a new epoch; I/O goes on',
      );
      const latest = this.follower.mirror.volumes.get(record.id);
      this.feed(lv, (latest as unknown as VolumeRecord | undefined) ?? record);
      return true;
    });
  }

  private async addressOf(nodeId: string): Promise<string> {
    const known = this.nodes.get(nodeId);
    if (known !== undefined) return known.address;
    const node = parseNode(
      await this.client.get<unknown>(`/v1/nodes/${encodeURIComponent(nodeId)}`),
    );
    this.nodes.set(node.id, { address: node.address, labels: node.labels });
    return node.address;
  }

  private async refreshNodes(): Promise<void> {
    const { items } = await this.client.list<unknown>('/v1/nodes');
    for (const raw of items) {
      const node = parseNode(raw);
      this.nodes.set(node.id, { address: node.address, labels: node.labels });
    }
  }

  /**
   * Nodes create the replicas of a new volume when their map watch shows it. Before the first
   * attach (epoch 0), wait until every reachable replica node answers a chunk-map request for
   * the volume, so the engine does not take a replica out of the set only because its node was a
   * moment late. Replicas of a volume that was attached before exist already (or are lost, and
   * waiting would not bring them back); rebuilding ones are created by their node at any time.
   */
  private async waitForReplicas(record: VolumeRecord): Promise<void> {
    const waitFor = record.replicas.filter((r) => {
      if (record.epoch !== 0 && r.role !== 'rebuilding') return false;
      const node = this.follower.mirror.nodes.get(r.nodeId);
      return node === undefined || node.reachable;
    });
    if (waitFor.length === 0) return;
    const deadline = Date.now() + this.replicaReadyTimeoutMs;
    const started = Date.now();
    const results = await Promise.all(
      waitFor.map((r) => this.waitForReplica(record.id, r.nodeId, deadline)),
    );
    const late = waitFor.filter((_, i) => !results[i]).map((r) => r.nodeId);
    if (late.length > 0) {
      this.logger.warn(
        { volume: record.name, nodes: late, waitedMs: Date.now() - started },
        'cluster: some nodes have not created their replica yet; the engine will take them out of the in-sync set',
      );
    }
  }

  /**
   * A read-only device over a ready snapshot, read over the data plane from the nodes the map
   * lists as holding it (the next one when a read fails: a node down, a copy gone).
   */
  async openSnapshot(name: string, snapshotName: string): Promise<SnapshotDevice> {
    const record = await this.fetchVolume(name);
    const snapshot = (record.snapshots ?? []).find((s) => s.name === snapshotName);
    if (snapshot === undefined) {
      throw new BallastError('NOT_FOUND', `volume ${name} has no snapshot ${snapshotName}`, {
        volume: name,
        snapshot: snapshotName,
      });
    }
    if (snapshot.state !== 'ready' || snapshot.nodeIds.length === 0) {
      throw new BallastError(
        'CONFLICT',
        `snapshot ${name}@${snapshotName} is ${snapshot.state} (${snapshot.stateReason}); only a ready snapshot can be read`,
        { volume: name, snapshot: snapshotName },
      );
    }
    const holders = [...snapshot.nodeIds];
    const volumeId = record.id;
    const seq = snapshot.seq;
    let client: DataPlaneClient | undefined;
    let current = 0;
    const connect = async (): Promise<DataPlaneClient> => {
      if (client !== undefined && client.isOpen) return client;
      client?.destroy();
      client = undefined;
      let lastError: unknown;
      for (let tried = 0; tried < holders.length; tried++) {
        const nodeId = holders[(current + tried) % holders.length]!;
        try {
          client = await this.dialNode(nodeId, 5_000, 30_000);
          current = (current + tried) % holders.length;
          return client;
        } catch (err) {
          lastError = err;
        }
      }
      throw new BallastError(
        'UNAVAILABLE',
        `no node holding ${name}@${snapshotName} (${holders.join(', ')}) answers: ${errorText(lastError)}`,
      );
    };
    const readOnly = (): Promise<never> =>
      Promise.reject(
        new BallastError('FENCED', `snapshot ${name}@${snapshotName} is read-only`, {
          readOnly: true,
        }),
      );
    const sizeBytes = snapshot.sizeBytes;
    const device: BlockDevice = {
      sizeBytes,
      readAt: async (offset, length) => {
        for (let attempt = 0; ; attempt++) {
          const c = await connect();
          try {
            return await c.readSnapshot(volumeId, seq, offset, length);
          } catch (err) {
            if (attempt + 1 >= holders.length) throw err;
            // Another holder next time.
            c.destroy();
            current = (current + 1) % holders.length;
          }
        }
      },
      writeAt: readOnly,
      trim: readOnly,
      writeZeroes: readOnly,
      flush: async () => undefined,
      close: async () => {
        client?.destroy();
        client = undefined;
      },
    };
    await connect();
    return { device, sizeBytes, from: holders[current]! };
  }

  /** A data-plane connection to a node, as this host, with the cluster's secret and TLS. */
  private async dialNode(
    nodeId: string,
    connectTimeoutMs: number,
    requestTimeoutMs: number,
  ): Promise<DataPlaneClient> {
    const { host, port } = parseHostPort(await this.addressOf(nodeId), `node ${nodeId}`);
    return DataPlaneClient.connect({
      host,
      port,
      clusterId: this.options.clusterId,
      clientId: this.options.host,
      expectedNodeId: nodeId,
      ...(this.options.dataPlaneSecret !== undefined
        ? { secret: this.options.dataPlaneSecret }
        : { insecureNoAuth: true }),
      ...(this.options.dataPlaneTls !== undefined ? { tls: this.options.dataPlaneTls } : {}),
      connectTimeoutMs,
      requestTimeoutMs,
    });
  }

  private async waitForReplica(
    volumeId: string,
    nodeId: string,
    deadline: number,
  ): Promise<boolean> {
    let client: DataPlaneClient | undefined;
    try {
      while (Date.now() < deadline && !this.closed) {
        try {
          if (client === undefined || !client.isOpen) {
            client?.destroy();
            client = await this.dialNode(
              nodeId,
              Math.max(100, Math.min(5_000, deadline - Date.now())),
              5_000,
            );
          }
          await client.getChunkMap(volumeId);
          return true;
        } catch (err) {
          if (!isDataPlaneError(err, StatusCode.NOT_FOUND)) {
            this.logger.debug(
              { nodeId, volumeId, err: errorText(err) },
              'cluster: asking a node for a replica failed; retrying',
            );
            client?.destroy();
            client = undefined;
          }
        }
        await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
      }
      return false;
    } finally {
      client?.destroy();
    }
  }

  private async fetchVolume(
    name: string,
    request?: { timeoutMs: number; hedgeMs: number },
  ): Promise<VolumeRecord> {
    checkVolumeName(name);
    if (name.length > MAX_META_NAME) throw notFound(name);
    try {
      return checkedVolume(
        await this.client.get<unknown>(`/v1/volumes/${encodeURIComponent(name)}`, request),
      );
    } catch (err) {
      throw backendError(err, { name });
    }
  }

  /** Map changes: node addresses, and the replica sets of the volumes this agent serves. */
  private onMapChange(mirror: MapMirror, changes: MapChanges): void {
    const nodeIds = changes.full ? mirror.nodes.keys() : changes.nodes;
    for (const id of nodeIds) {
      const node = mirror.nodes.get(id);
      if (node !== undefined) this.nodes.set(id, { address: node.address, labels: node.labels });
    }
    for (const lv of this.live.values()) {
      if (!changes.full && !changes.volumes.has(lv.volumeId)) continue;
      const record = mirror.volumes.get(lv.volumeId);
      if (record === undefined) {
        this.logger.error(
          { volume: lv.name },
          'cluster: the map no longer has a volume this agent serves',
        );
        continue;
      }
      this.feed(lv, record as unknown as VolumeRecord);
    }
  }

  /** Hands a map record to the engine (in order) and starts rebuilds of joining replicas. */
  private feed(lv: LiveVolume, record: VolumeRecord): void {
    // Epochs never go back: an older record is a view from before this attach (a lagging watch)
    // and must not make the engine believe it was fenced.
    if (record.epoch < lv.epoch) return;
    lv.updates = lv.updates
      .then(() => lv.engine.updateVolume(record))
      .catch((err: unknown) =>
        this.logger.error({ volume: lv.name, err: errorText(err) }, 'cluster: map update failed'),
      );
    if (record.epoch !== lv.epoch) return;
    if (record.sizeBytes > lv.engine.sizeBytes) this.startGrow(lv, record.sizeBytes, 1);
    for (const r of record.replicas) {
      if (r.role !== 'rebuilding' || lv.rebuilding.has(r.nodeId)) continue;
      this.startRebuild(lv, r.nodeId, 1);
    }
    for (const snapshot of record.snapshots ?? []) {
      if (snapshot.state !== 'creating' || snapshot.epoch !== lv.epoch) continue;
      if (snapshot.host !== lv.host || lv.snapshotting.has(snapshot.id)) continue;
      this.cutSnapshot(lv, snapshot.id, snapshot.name, snapshot.seq);
    }
  }

  /**
   * Makes the cut meta asked for (issue 16): the engine holds I/O, drains, and every in-sync
   * replica records snapshot `seq`; then meta hears which replicas hold it. The report is
   * retried a few times (meta may be electing); a cut meta never hears of is failed by meta when
   * the volume's epoch moves on, and the replicas drop it when they follow the map.
   */
  private cutSnapshot(lv: LiveVolume, id: string, name: string, seq: number): void {
    lv.snapshotting.add(id);
    const path = `/v1/volumes/${encodeURIComponent(lv.name)}/snapshots/${encodeURIComponent(name)}/result`;
    // After the map updates queued before it: the engine knows the replica set meta cut against.
    const cut = lv.updates.then(() => lv.engine.snapshot(seq));
    cut
      .then(
        ({ nodeIds, pauseMs }) => {
          this.logger.info(
            { volume: lv.name, snapshot: name, seq, nodeIds, pauseMs },
            'cluster: snapshot cut',
          );
          return { epoch: lv.epoch, ok: true, nodeIds, pauseMs, reason: '' };
        },
        (err: unknown) => {
          this.logger.error(
            { volume: lv.name, snapshot: name, seq, err: errorText(err) },
            'cluster: snapshot cut failed',
          );
          return {
            epoch: lv.epoch,
            ok: false,
            nodeIds: [],
            pauseMs: 0,
            reason: errorText(err).slice(0, 400),
          };
        },
      )
      .then(async (report) => {
        for (let attempt = 1; ; attempt++) {
          try {
            await this.client.post<unknown>(path, report);
            return;
          } catch (err) {
            if (attempt >= SNAPSHOT_REPORT_ATTEMPTS || this.closed) throw err;
            await new Promise((resolve) => setTimeout(resolve, 500 * attempt).unref());
          }
        }
      })
      .catch((err: unknown) =>
        this.logger.error(
          { volume: lv.name, snapshot: name, err: errorText(err) },
          'cluster: snapshot result not reported',
        ),
      );
  }

  /**
   * Rebuilds a joining replica with the engine. A failed attempt is tried again while the map
   * still lists the replica as rebuilding at this epoch: the node may not have created it yet when
   * the engine first opens a session (it does so from the same map change), or a source may fail
   * mid-copy. Nothing else would retry: the node copies only unattached volumes.
   */
  private startRebuild(lv: LiveVolume, nodeId: string, attempt: number): void {
    lv.rebuilding.add(nodeId);
    const progress = new RebuildProgressReporter(this.client, lv.volumeId, nodeId, this.logger);
    void lv.updates
      .then(() => lv.engine.rebuildReplica(nodeId, { onProgress: progress.onProgress }))
      .finally(() => progress.settle())
      .then(
        (result) => {
          lv.rebuilding.delete(nodeId);
          this.logger.info({ volume: lv.name, nodeId, result }, 'cluster: replica rebuilt');
        },
        (err: unknown) => {
          lv.rebuilding.delete(nodeId);
          const retry = attempt < REBUILD_ATTEMPTS && this.rebuildWanted(lv, nodeId) !== undefined;
          // Log the first failures and then every tenth: a long wait for a node is not news.
          if (!retry || attempt <= 3 || attempt % 10 === 0) {
            this.logger[retry ? 'warn' : 'error'](
              { volume: lv.name, nodeId, attempt, err: errorText(err) },
              retry
                ? 'cluster: replica rebuild failed; trying again'
                : 'cluster: replica rebuild failed',
            );
          }
          if (!retry) return;
          setTimeout(
            () => {
              const latest = this.rebuildWanted(lv, nodeId);
              if (latest === undefined || lv.rebuilding.has(nodeId)) return;
              // The update lets a replica the failed attempt dropped join the engine again.
              lv.updates = lv.updates
                .then(() => lv.engine.updateVolume(latest))
                .catch((e: unknown) =>
                  this.logger.error(
                    { volume: lv.name, err: errorText(e) },
                    'cluster: map update failed',
                  ),
                );
              this.startRebuild(lv, nodeId, attempt + 1);
            },
            Math.min(REBUILD_RETRY_MAX_MS, REBUILD_RETRY_MS * 2 ** Math.min(attempt - 1, 5)),
          ).unref();
        },
      );
  }

  /**
   * Online resize: meta grew the volume in the map, the nodes grow their replicas from it, and
   * the engine serves the new size once they all have (new NBD connections see it). Tried again
   * while the map still wants it: a replica that is down holds it back until it leaves the set.
   */
  private startGrow(lv: LiveVolume, sizeBytes: number, attempt: number): void {
    if (lv.growingTo >= sizeBytes) return;
    lv.growingTo = sizeBytes;
    const fromBytes = lv.engine.sizeBytes;
    lv.engine.grow(sizeBytes).then(
      (changed) => {
        lv.growingTo = 0;
        if (changed) {
          this.logger.info(
            { volume: lv.name, fromBytes, toBytes: sizeBytes },
            'cluster: volume grown online; new NBD connections see the new size',
          );
        }
        const latest = this.growWanted(lv);
        if (latest !== undefined) this.startGrow(lv, latest, 1);
      },
      (err: unknown) => {
        lv.growingTo = 0;
        const retry = attempt < GROW_ATTEMPTS && this.growWanted(lv) !== undefined;
        this.logger[retry ? 'warn' : 'error'](
          { volume: lv.name, sizeBytes, attempt, err: errorText(err) },
          retry
            ? 'cluster: online resize not done yet; trying again'
            : 'cluster: online resize failed',
        );
        if (!retry) return;
        setTimeout(() => {
          const latest = this.growWanted(lv);
          if (latest !== undefined) this.startGrow(lv, latest, attempt + 1);
        }, GROW_RETRY_MS).unref();
      },
    );
  }

  /**
   * The map's record of a volume this engine still serves at its epoch (the attachment is still
   * this one), or undefined once the backend closed, the volume was released or taken, or the
   * engine stopped: what decides whether a retried rebuild or resize is still wanted.
   */
  private currentRecord(lv: LiveVolume): VolumeRecord | undefined {
    if (this.closed || this.live.get(lv.name) !== lv || lv.engine.state !== 'open') {
      return undefined;
    }
    const latest = this.follower.mirror.volumes.get(lv.volumeId) as unknown as
      VolumeRecord | undefined;
    if (latest === undefined || latest.epoch !== lv.epoch) return undefined;
    if (latest.attachment?.epoch !== lv.epoch) return undefined;
    return latest;
  }

  /** The map's size when this engine still serves less of the volume than the map says. */
  private growWanted(lv: LiveVolume): number | undefined {
    const latest = this.currentRecord(lv);
    return latest !== undefined && latest.sizeBytes > lv.engine.sizeBytes
      ? latest.sizeBytes
      : undefined;
  }

  /** The map's record when this engine should still rebuild the replica on `nodeId`. */
  private rebuildWanted(lv: LiveVolume, nodeId: string): VolumeRecord | undefined {
    const latest = this.currentRecord(lv);
    return latest?.replicas.some((r) => r.nodeId === nodeId && r.role === 'rebuilding')
      ? latest
      : undefined;
  }

  private checkOpen(): void {
    if (this.closed) throw new BallastError('UNAVAILABLE', 'the volume backend is closed');
  }
}

function notFound(name: string): BallastError {
  return new BallastError('NOT_FOUND', `no volume named ${name}`, { name });
}

function holderConflict(
  name: string,
  host: string,
  epoch: number,
  liveness: HostLiveness | undefined,
): BallastError {
  const seen =
    liveness === undefined
      ? ''
      : liveness.alive
        ? `Its agent was heard from ${(liveness.silentMs / 1000).toFixed(1)}s ago. `
        : `Its agent has been silent for ${(liveness.silentMs / 1000).toFixed(1)}s (presumed dead). `;
  return new BallastError(
    'CONFLICT',
    `volume ${name} is attached to host ${host} (epoch ${epoch}): one host at a time. ${seen}` +
      `Release it on ${host} (stop its containers there, or \`ballast volume detach ${name}\`); ` +
      `if ${host} is dead, \`ballast volume detach --force ${name}\` takes it over and fences ${host}`,
    {
      name,
      host,
      epoch,
      ...(liveness !== undefined
        ? { holderAlive: liveness.alive, holderSilentMs: liveness.silentMs }
        : {}),
    },
  );
}

/** Meta's answers in the backend's terms (VolumeBackend's error contract). */
function backendError(err: unknown, context: { name: string }): BallastError {
  if (!isBallastError(err)) return new BallastError('INTERNAL', errorText(err), context, err);
  // Placement refusals and sizes that do not fit: a spec this cluster cannot honour. CONFLICT
  // keeps meta's details, which name the holder (`host`) of an attached volume.
  const code: ErrorCode = err.code === 'UNPROCESSABLE' ? 'INVALID_ARGUMENT' : err.code;
  return new BallastError(code, err.message, { ...err.details, ...context }, err);
}

/** The call failed because no meta member answered in time (not a refusal). */
function metaDidNotAnswer(err: unknown): boolean {
  return isBallastError(err, 'UNAVAILABLE') || isBallastError(err, 'TIMEOUT');
}

/** A volume of the map as last followed, for lookups while meta does not answer. */
function staleInfo(record: unknown): VolumeInfo {
  const info = toInfo(checkedVolume(record));
  return {
    ...info,
    status: {
      ...info.status,
      metaUnreachable: true,
      source: 'the cluster map as this agent last followed it (meta did not answer)',
    },
  };
}

function checkedVolume(value: unknown): VolumeRecord {
  try {
    return parseVolume(value) as unknown as VolumeRecord;
  } catch (err) {
    throw new BallastError('INTERNAL', errorText(err));
  }
}

/** A meta volume record as the agent's VolumeInfo (shown by `docker volume inspect`). */
function toInfo(record: VolumeRecord): VolumeInfo {
  const selector = { ...record.constraints.nodeSelector };
  const zone = selector.zone;
  delete selector.zone;
  const spec: VolumeSpec = {
    sizeBytes: record.sizeBytes,
    replicas: record.desiredReplicas,
    fs: record.fs,
    chunkSizeBytes: record.chunkSizeBytes,
    zone,
    labels: selector,
    ...(record.replicaTimeoutMs !== undefined ? { replicaTimeoutMs: record.replicaTimeoutMs } : {}),
  };
  return {
    name: record.name,
    spec,
    createdAt: new Date(record.createdAt).toISOString(),
    attachment:
      record.attachment === null
        ? undefined
        : { host: record.attachment.host, since: new Date(record.attachment.since).toISOString() },
    status: {
      backend: 'cluster',
      volumeId: record.id,
      state: record.state,
      stateReason: record.stateReason,
      epoch: record.epoch,
      attachedEpoch: record.attachment?.epoch ?? null,
      attachedHost: record.attachment?.host ?? null,
      mountPath: record.attachment?.mountPath ?? null,
      replicas: record.replicas.map((r) => ({ node: r.nodeId, role: r.role })),
      staleReplicas: record.staleReplicas.map((r) => ({ node: r.nodeId, reason: r.reason })),
    },
  };
}

/**
 * The engine, the data-plane client and the follower take a pino Logger; they only call its
 * level methods, which every AgentLogger has. A real pino logger (ballastd) is passed through.
 */
function pinoLike(logger: AgentLogger): Logger {
  return logger as unknown as Logger;
}
