import { mkdirSync, readFileSync } from 'node:fs';
import type { Registry } from 'prom-client';
import {
  BallastError,
  createMetricsRegistry,
  parseHostPort,
  parseSize,
  startOpsServer,
  type Fence,
  type Logger,
  type OpsServer,
} from '@ballast/common';
import {
  ChunkStore,
  ChunkStoreReplicaStore,
  type BadBlock,
  type CreateReplicaOptions,
  type ReplicaBinding,
  type ReplicaSummary,
} from '@ballast/chunkstore';
import {
  DataPlaneServer,
  type DataPlaneClientTlsOptions,
  type DataPlaneServerTlsOptions,
} from '@ballast/dataplane';
import { NodeMetrics, type CapacityInfo } from './metrics.js';
import { PeerService } from './peers.js';
import type { RebuildOptions } from './rebuild.js';
import { Scrubber } from './scrub.js';

/**
 * What `ballastd node` passes in. The first fields are NodeConfig's (packages/cli schemas.ts);
 * the rest are new and need schema entries there (see README, "Wiring").
 */
export interface StorageNodeConfig {
  id: string;
  dataDir: string;
  /** Data-plane listen address (host:port, port 0 = any); default 127.0.0.1:0. */
  listen?: string;
  /** Data-plane address peers and agents dial (default: the bound listen address). */
  advertise?: string;
  /** /metrics, /healthz, /readyz; default 127.0.0.1:0. */
  opsListen?: string;
  labels?: Record<string, string>;
  /** Capacity to offer, e.g. `100GiB` (default: the size of the data directory's file system). */
  capacity?: string;
  joinToken?: string;
  /** Must match what clients announce; default `ballast`. */
  clusterId?: string;
  /** The cluster secret clients prove they know (HMAC key), at least 16 bytes. */
  dataPlaneSecret?: string;
  /** File holding the secret (trailing newline ignored); used when dataPlaneSecret is unset. */
  dataPlaneSecretFile?: string;
  /** Development only: serve clients without authentication. */
  insecureDataPlane?: boolean;
  /**
   * Data-plane TLS (PEM files; all three or none): the node serves TLS with this certificate
   * and key, and verifies the nodes it copies from against the CA. The hello's macs still run
   * inside TLS.
   */
  dataPlaneTlsCert?: string;
  dataPlaneTlsKey?: string;
  dataPlaneTlsCa?: string;
  /** Scrub rate bound; 0 turns the background scrub off. Default 8 MiB/s. */
  scrubBytesPerSecond?: number;
  /** Pause between scrub passes; default 6 hours. */
  scrubIntervalMs?: number;
  /** Chunk-store metadata cache bound (default: the store's). */
  metadataCacheBytes?: number;
  /**
   * Bound on the copy rate of one node-driven rebuild; meta's setting of the same name wins when
   * the map carries it. Default 64 MiB/s.
   */
  rebuildBandwidthBytesPerSecond?: number;
}

export interface StorageNode {
  /** `dataPlane` (host:port), `metrics` and `health` (URLs): for the `ready` log line. */
  readonly endpoints: Record<string, string>;
  readonly store: ChunkStore;
  readonly server: DataPlaneServer<ReplicaBinding>;
  /** The store as sessions see it (rebuilds install through it, fenced like sessions). */
  readonly replicaStore: ChunkStoreReplicaStore;
  readonly registry: Registry;
  readonly scrubber: Scrubber | undefined;
  /** Local replica lifecycle: the lead drives this from the cluster map (see README). */
  readonly replicas: ReplicaAdmin;
  /** Rebuilds from peers and scrub repair; acts once MetaSync follows the map. */
  readonly peers: PeerService;
  capacity(): CapacityInfo;
  /** Graceful stop: data plane (running requests finish), scrub, ops server, chunk store. */
  close(): Promise<void>;
}

/**
 * Replica lifecycle on this node, for the node's own control code only (it is not reachable
 * over the data plane). Replica id = volume id.
 */
export interface ReplicaAdmin {
  create(volumeId: string, opts: CreateReplicaOptions): Promise<ReplicaSummary>;
  /** Creates the replica unless it exists with this shape; CONFLICT if it exists with another. */
  ensure(volumeId: string, opts: CreateReplicaOptions): Promise<ReplicaSummary>;
  delete(volumeId: string): Promise<void>;
  resize(volumeId: string, sizeBytes: number): Promise<void>;
  list(): ReplicaSummary[];
  /** Highest epoch persisted for a volume (0 if none). */
  highestEpoch(volumeId: string): number;
  /** Highest fence (epoch, replica incarnation) persisted for a volume. */
  highestFence(volumeId: string): Fence;
  /**
   * Persists a fence learned from the cluster map: older writers and sessions of an earlier
   * incarnation of this replica are refused from then on, before a newer one even connects.
   */
  acceptFence(volumeId: string, fence: Fence): Promise<void>;
  /** Seqs of the snapshots the replica holds (issue 16). */
  snapshots?(volumeId: string): number[];
  /** Drops a snapshot from the replica, giving back the space only it held. */
  deleteSnapshot?(volumeId: string, seq: number): Promise<void>;
  /** Takes snapshot `seq` of an idle replica (a detached volume's cut, D30); durable on return. */
  createSnapshot?(volumeId: string, seq: number): Promise<void>;
  /** Makes an idle replica read snapshot `seq` again (a revert, D31); durable on return. */
  revertToSnapshot?(volumeId: string, seq: number): Promise<void>;
  /**
   * The node's peer work (rebuilds, scrub repair). Here so that MetaSync, which gets this
   * object, drives it from the map without more wiring.
   */
  readonly peers?: PeerService;
}

export interface StartStorageNodeOptions {
  /**
   * Repair hook for blocks the scrub finds bad. Default: `peers.repairBadBlocks` (a good copy
   * from an in-sync peer, verified against the stored checksum).
   */
  onBadBlocks?: (volumeId: string, badBlocks: BadBlock[]) => Promise<void>;
  /** Rebuild tuning (attempts, retry pauses, read-ahead); tests shorten the pauses. */
  rebuild?: RebuildOptions;
}

const DEFAULT_SCRUB_BYTES_PER_SECOND = 8 * 1024 * 1024;
const DEFAULT_SCRUB_INTERVAL_MS = 6 * 60 * 60 * 1000;

function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function loadSecret(config: StorageNodeConfig): string | undefined {
  if (config.dataPlaneSecret !== undefined && config.dataPlaneSecret !== '') {
    return config.dataPlaneSecret;
  }
  if (config.dataPlaneSecretFile !== undefined) {
    try {
      return readFileSync(config.dataPlaneSecretFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new BallastError(
        'CONFIG',
        `dataPlaneSecretFile: cannot read ${config.dataPlaneSecretFile}: ${(err as Error).message}`,
      );
    }
  }
  return undefined;
}

function readPem(file: string, setting: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new BallastError('CONFIG', `${setting}: cannot read ${file}: ${(err as Error).message}`);
  }
}

/** The data plane's TLS from the config: the server's certificate, and the peers' CA. */
function loadDataPlaneTls(
  config: StorageNodeConfig,
): { server: DataPlaneServerTlsOptions; peers: DataPlaneClientTlsOptions } | undefined {
  const given = [config.dataPlaneTlsCert, config.dataPlaneTlsKey, config.dataPlaneTlsCa].filter(
    (f) => f !== undefined && f !== '',
  );
  if (given.length === 0) return undefined;
  if (given.length !== 3) {
    throw new BallastError(
      'CONFIG',
      'data-plane TLS needs dataPlaneTlsCert, dataPlaneTlsKey and dataPlaneTlsCa together (the CA verifies peer nodes)',
    );
  }
  const ca = readPem(config.dataPlaneTlsCa!, 'dataPlaneTlsCa');
  return {
    server: {
      cert: readPem(config.dataPlaneTlsCert!, 'dataPlaneTlsCert'),
      key: readPem(config.dataPlaneTlsKey!, 'dataPlaneTlsKey'),
      ca,
    },
    peers: { ca },
  };
}

/**
 * Starts a storage node: opens the chunk store in `dataDir`, serves the data plane on `listen`
 * and metrics on `opsListen`, and scrubs in the background. Everything opened is closed again
 * if a later step fails.
 */
export async function startStorageNode(
  config: StorageNodeConfig,
  log: Logger,
  options: StartStorageNodeOptions = {},
): Promise<StorageNode> {
  const secret = loadSecret(config);
  if (secret === undefined && config.insecureDataPlane !== true) {
    throw new BallastError(
      'CONFIG',
      'the data plane needs a secret: set dataPlaneSecret or dataPlaneSecretFile (insecureDataPlane only for development)',
    );
  }
  const tls = loadDataPlaneTls(config);
  const listen = parseHostPort(config.listen ?? '127.0.0.1:0', 'listen');
  const opsListen = parseHostPort(config.opsListen ?? '127.0.0.1:0', 'opsListen');
  const capacityLimit =
    config.capacity !== undefined ? parseSize(config.capacity, 'capacity') : undefined;
  const scrubRate = config.scrubBytesPerSecond ?? DEFAULT_SCRUB_BYTES_PER_SECOND;
  if (!Number.isFinite(scrubRate) || scrubRate < 0) {
    throw new BallastError('CONFIG', `scrubBytesPerSecond must be 0 or positive, not ${scrubRate}`);
  }
  mkdirSync(config.dataDir, { recursive: true });

  const cleanups: Array<() => Promise<void>> = [];
  const unwind = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const store = await ChunkStore.open({
      dir: config.dataDir,
      logger: log.child({ component: 'chunkstore' }),
      ...(config.metadataCacheBytes !== undefined
        ? { metadataCacheBytes: config.metadataCacheBytes }
        : {}),
    });
    cleanups.push(() => store.close());

    const capacity = (): CapacityInfo => {
      const c = store.capacity();
      const capacityBytes = Math.min(capacityLimit ?? c.totalBytes, c.totalBytes);
      const freeBytes = Math.max(0, Math.min(capacityBytes - c.usedBytes, c.availableBytes));
      return {
        capacityBytes,
        usedBytes: c.usedBytes,
        freeBytes,
        provisionedBytes: c.provisionedBytes,
      };
    };

    const registry = createMetricsRegistry({ role: 'node', node: config.id });
    const metrics = new NodeMetrics(registry, store, capacity);
    const replicaStore = new ChunkStoreReplicaStore(store, log.child({ component: 'dataplane' }));
    const server = new DataPlaneServer<ReplicaBinding>({
      store: replicaStore,
      clusterId: config.clusterId ?? 'ballast',
      nodeId: config.id,
      ...(secret !== undefined ? { secret } : { insecureNoAuth: true }),
      ...(tls !== undefined ? { tls: tls.server } : {}),
      observer: metrics.observer,
      logger: log.child({ component: 'dataplane' }),
    });
    metrics.attachServer(server);
    const peers = new PeerService({
      nodeId: config.id,
      store,
      replicaStore,
      clusterId: config.clusterId ?? 'ballast',
      ...(secret !== undefined ? { secret } : { insecureNoAuth: true }),
      ...(tls !== undefined ? { tls: tls.peers } : {}),
      log: log.child({ component: 'peers' }),
      registry,
      ...(config.rebuildBandwidthBytesPerSecond !== undefined
        ? { rebuildBytesPerSecond: config.rebuildBandwidthBytesPerSecond }
        : {}),
      ...(options.rebuild !== undefined ? { rebuild: options.rebuild } : {}),
    });
    cleanups.push(() => peers.close());
    const bound = await server.listen(listen.host, listen.port);
    const dataPlaneServer = server;
    cleanups.push(() => dataPlaneServer.close());
    if (config.advertise === undefined && (bound.host === '0.0.0.0' || bound.host === '::')) {
      log.warn(
        { listen: config.listen },
        'data plane listens on a wildcard address without `advertise`: peers cannot dial it',
      );
    }

    const ops: OpsServer = await startOpsServer({
      host: opsListen.host,
      port: opsListen.port,
      registry,
      ready: () => true,
    });
    cleanups.push(() => ops.close());

    let scrubber: Scrubber | undefined;
    if (scrubRate > 0) {
      scrubber = new Scrubber(store, {
        bytesPerSecond: scrubRate,
        intervalMs: config.scrubIntervalMs ?? DEFAULT_SCRUB_INTERVAL_MS,
        log: log.child({ component: 'scrub' }),
        onBadBlocks:
          options.onBadBlocks ??
          ((volumeId, badBlocks) => peers.repairBadBlocks(volumeId, badBlocks)),
        onProgress: (volumeId, bytes, bad) => {
          metrics.scrubbedBytes.inc({ volume: volumeId }, bytes);
          // Incremented even by 0 so the series exists (and alerts see 0) before a first error.
          metrics.scrubErrors.inc({ volume: volumeId }, bad);
        },
        onPassDone: () => metrics.scrubPasses.inc(),
      });
      const s = scrubber;
      cleanups.push(() => s.stop());
      scrubber.start();
    }

    const find = (volumeId: string): ReplicaSummary | undefined =>
      store.listReplicas().find((r) => r.replicaId === volumeId);
    const replicas: ReplicaAdmin = {
      create: async (volumeId, opts) => {
        await store.createReplica(volumeId, opts);
        log.info({ volumeId, sizeBytes: opts.sizeBytes }, 'replica created');
        return find(volumeId)!;
      },
      ensure: async (volumeId, opts) => {
        const existing = find(volumeId);
        if (existing === undefined) return replicas.create(volumeId, opts);
        const chunk = opts.chunkSizeBytes ?? existing.chunkSizeBytes;
        if (existing.sizeBytes !== opts.sizeBytes || existing.chunkSizeBytes !== chunk) {
          throw new BallastError(
            'CONFLICT',
            `replica ${volumeId} exists with ${existing.sizeBytes} bytes and ${existing.chunkSizeBytes}-byte chunks`,
          );
        }
        return existing;
      },
      delete: async (volumeId) => {
        await store.deleteReplica(volumeId);
        log.info({ volumeId }, 'replica deleted');
      },
      resize: (volumeId, sizeBytes) => store.resizeReplica(volumeId, sizeBytes),
      list: () => store.listReplicas(),
      highestEpoch: (volumeId) => store.highestEpoch(volumeId),
      highestFence: (volumeId) => store.highestFence(volumeId),
      acceptFence: (volumeId, fence) => replicaStore.acceptFence(volumeId, fence),
      snapshots: (volumeId) =>
        store
          .replica(volumeId)
          .listSnapshots()
          .map((s) => s.seq),
      deleteSnapshot: async (volumeId, seq) => {
        await store.replica(volumeId).deleteSnapshot(seq);
        log.info({ volumeId, seq }, 'snapshot dropped: the map no longer has it');
      },
      createSnapshot: async (volumeId, seq) => {
        await store.replica(volumeId).createSnapshot(seq);
        log.info({ volumeId, seq }, 'snapshot taken of a detached volume');
      },
      revertToSnapshot: async (volumeId, seq) => {
        const started = performance.now();
        const { chunksWritten } = await store.replica(volumeId).revertToSnapshot(seq);
        log.info(
          { volumeId, seq, chunksWritten, ms: Math.round(performance.now() - started) },
          'replica reverted to a snapshot',
        );
      },
      peers,
    };

    let closing: Promise<void> | undefined;
    return {
      endpoints: {
        dataPlane: config.advertise ?? formatHostPort(bound.host, bound.port),
        metrics: `${ops.url}/metrics`,
        health: `${ops.url}/healthz`,
      },
      store,
      server: dataPlaneServer,
      replicaStore,
      registry,
      scrubber,
      replicas,
      peers,
      capacity,
      close: () => {
        // Rebuilds first, the data plane (running requests finish), the scrub, then the store.
        closing ??= (async () => {
          await peers.close();
          await dataPlaneServer.close();
          await scrubber?.stop();
          await ops.close();
          await store.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}
