import { readFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import {
  BallastError,
  createMetricsRegistry,
  parseHostPort,
  startOpsServer,
  type OpsServer,
} from '@ballast/common';
import type { Registry } from 'prom-client';
import type { ReplicaStore } from '@ballast/session';
import { chooseAttacher } from './attach.js';
import type { VolumeBackend } from './backend.js';
import { ClusterBackend } from './cluster-backend.js';
import { LocalFileBackend } from './local-file-backend.js';
import { errorText, type AgentLogger } from './logger.js';
import { MountManager, type RecoveryReport } from './mount-manager.js';
import { DEFAULT_VOLUME, type VolumeDefaults } from './options.js';
import { AdminServer } from './admin-server.js';
import { NbdAttachments, type NbdRecoveryReport } from './nbd-attachments.js';
import { PluginServer } from './plugin-server.js';
import { RelayManager } from './relay/relay-process.js';

/**
 * The agent's settings. The first group matches `ballastd agent`'s AgentConfig schema
 * (packages/cli/src/daemon/schemas.ts); the rest are agent-only knobs with defaults.
 */
export interface AgentOptions {
  id: string;
  stateDir: string;
  /** NBD sockets, relays, FUSE mount points. Default /run/ballast/<id>. */
  runDir?: string | undefined;
  pluginSocket: string;
  /**
   * The admin API for `ballast volume attach|detach` (unix socket, mode 0600, root only).
   * Default <stateDir>/agent.sock.
   */
  adminSocket?: string | undefined;
  /**
   * host:port on which raw-attached volumes are also served over NBD (TCP, unauthenticated;
   * keep it on loopback). Default: none, unix sockets only.
   */
  nbdListen?: string | undefined;
  /** Bound on raw NBD attachments (default 1024). */
  maxNbdAttachments?: number | undefined;
  /** A replica that does not answer one request within this leaves the in-sync set (default 15 s). */
  replicaTimeoutMs?: number | undefined;
  /** How often this host heartbeats to meta (default 3 s; 0 turns it off). */
  hostHeartbeatIntervalMs?: number | undefined;
  /** host:port for /metrics, /healthz, /readyz. Default 127.0.0.1:0. */
  opsListen?: string | undefined;
  /** Meta URLs; none means single-host mode with LocalFileBackend. */
  meta: string[];
  joinToken?: string | undefined;
  /** Bearer token of meta's API (falls back to joinToken). */
  token?: string | undefined;
  tokenFile?: string | undefined;
  /** Data-plane cluster id and secret: the storage nodes' own. */
  clusterId?: string | undefined;
  dataPlaneSecret?: string | undefined;
  dataPlaneSecretFile?: string | undefined;
  /** Development only: nodes run without data-plane authentication. */
  insecureDataPlane?: boolean | undefined;
  /** CA file (PEM): dial nodes over TLS and verify their certificates against it. */
  dataPlaneTlsCa?: string | undefined;

  /** Filesystems are mounted at <mountRoot>/<volume>. Default <stateDir>/mounts. */
  mountRoot?: string | undefined;
  /** Volume backend to use; default: ClusterBackend when meta URLs are given, else LocalFileBackend. */
  backend?: VolumeBackend | undefined;
  attachMode?: 'auto' | 'nbd-client' | 'nbdfuse-loop' | undefined;
  /** Per-volume relay processes that keep mounts alive across agent restarts (default true). */
  relay?: boolean | undefined;
  /** How long a relay holds I/O while the agent is away (default 60 s). */
  relayHoldMs?: number | undefined;
  /** nbd-client -t (seconds). */
  nbdTimeoutSeconds?: number | undefined;
  allowModprobe?: boolean | undefined;
  pluginSocketMode?: number | undefined;
  volumeDefaults?: VolumeDefaults | undefined;
  commandTimeoutMs?: number | undefined;
  registry?: Registry | undefined;
  /**
   * Storage nodes running in this process (`ballastd agent --node-data-dir`), by node id: their
   * replicas are reached through the node's store instead of a socket.
   */
  localNodes?: ReadonlyMap<string, ReplicaStore<unknown>> | undefined;
}

export interface RunningAgent {
  endpoints: Record<string, string>;
  recovery: RecoveryReport;
  /** Raw NBD attachments of the previous agent served again, or dropped. */
  attachmentRecovery: NbdRecoveryReport;
  backend: VolumeBackend;
  mounts: MountManager;
  attachments: NbdAttachments;
  admin: AdminServer;
  plugin: PluginServer;
  /**
   * Stops serving Docker and the exports; mounts stay in place (relays hold their I/O) so the
   * next agent picks them up. Use `mounts.unmountAll()` first to tear them down instead.
   */
  close(): Promise<void>;
}

/**
 * Starts the host agent: volume backend, mount manager (after recovering what a previous agent
 * left), the Docker volume plugin socket and the ops server (/metrics).
 */
export async function startAgent(options: AgentOptions, log: AgentLogger): Promise<RunningAgent> {
  const runDir = options.runDir ?? path.join('/run/ballast', options.id);
  const mountRoot = options.mountRoot ?? path.join(options.stateDir, 'mounts');
  await fsp.mkdir(options.stateDir, { recursive: true, mode: 0o700 });
  await fsp.mkdir(runDir, { recursive: true, mode: 0o700 });
  await fsp.mkdir(mountRoot, { recursive: true, mode: 0o755 });
  const commandTimeoutMs = options.commandTimeoutMs ?? 20_000;

  const registry = options.registry ?? createMetricsRegistry({ role: 'agent', host: options.id });
  let backend = options.backend;
  if (backend === undefined && options.meta.length > 0) {
    const token =
      readSecret(options.token, options.tokenFile, 'tokenFile') ?? options.joinToken ?? undefined;
    if (token === undefined) {
      throw new BallastError(
        'CONFIG',
        'meta URLs are configured but no token: set BALLAST_TOKEN or tokenFile',
      );
    }
    backend = await ClusterBackend.open({
      host: options.id,
      metaUrls: options.meta,
      token,
      clusterId: options.clusterId ?? 'ballast',
      dataPlaneSecret: readSecret(
        options.dataPlaneSecret,
        options.dataPlaneSecretFile,
        'dataPlaneSecretFile',
      ),
      insecureDataPlane: options.insecureDataPlane,
      dataPlaneTls:
        options.dataPlaneTlsCa !== undefined && options.dataPlaneTlsCa !== ''
          ? { ca: readSecret(undefined, options.dataPlaneTlsCa, 'dataPlaneTlsCa')! }
          : undefined,
      runDir,
      logger: log,
      registry,
      ...(options.replicaTimeoutMs !== undefined
        ? { replicaTimeoutMs: options.replicaTimeoutMs }
        : {}),
      ...(options.hostHeartbeatIntervalMs !== undefined
        ? { hostHeartbeatIntervalMs: options.hostHeartbeatIntervalMs }
        : {}),
      localNodes: options.localNodes,
    });
  }
  if (backend === undefined) {
    backend = await LocalFileBackend.open({
      dataDir: path.join(options.stateDir, 'local-volumes'),
      runDir,
      logger: log,
    });
    log.warn(
      { dataDir: path.join(options.stateDir, 'local-volumes') },
      'no meta configured: single-host LocalFileBackend, volumes are NOT replicated',
    );
  }
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (err) {
        log.error({ err: errorText(err) }, 'agent: error while stopping');
      }
    }
  };
  const volumes = backend;
  closers.push(() => volumes.close());
  try {
    const attacher = await chooseAttacher(options.attachMode ?? 'auto', {
      runDir,
      commandTimeoutMs,
      logger: log,
      nbdTimeoutSeconds: options.nbdTimeoutSeconds ?? 30,
      allowModprobe: options.allowModprobe ?? true,
    });
    const nbdTimeoutSeconds = options.nbdTimeoutSeconds ?? 30;
    let holdMs = options.relayHoldMs ?? 60_000;
    if (attacher.kind === 'nbd-client') {
      // The kernel gives up on a request after its timeout and then shuts the device down, so a
      // relay must fail held requests (EIO) before that.
      holdMs = Math.min(holdMs, Math.max(1_000, (nbdTimeoutSeconds - 5) * 1000));
    }
    const relays =
      options.relay === false
        ? undefined
        : new RelayManager({
            runDir,
            holdMs,
            startTimeoutMs: commandTimeoutMs,
            logger: log,
          });
    const mounts = new MountManager({
      host: options.id,
      backend,
      attacher,
      relays,
      stateDir: options.stateDir,
      mountRoot,
      commandTimeoutMs,
      logger: log,
      registry,
    });
    const recovery = await mounts.recover();
    closers.push(() => mounts.close());
    const tcp =
      options.nbdListen === undefined || options.nbdListen === ''
        ? undefined
        : parseHostPort(options.nbdListen, 'nbdListen');
    const { attachments, recovery: attachmentRecovery } = await NbdAttachments.open({
      host: options.id,
      backend,
      mounts,
      stateDir: options.stateDir,
      tcpListen: tcp,
      maxAttachments: options.maxNbdAttachments,
      logger: log,
      registry,
    });
    closers.push(() => attachments.close());
    mounts.setRefusal((volume) => {
      const raw = attachments.get(volume);
      return raw === undefined
        ? undefined
        : `volume ${volume} is attached on this host for raw NBD use (${raw.uri}, by ` +
            `\`ballast volume attach\`); a filesystem mounted over it would be corrupted by that ` +
            `writer. Detach it first: ballast volume detach ${volume}`;
    });
    const plugin = await PluginServer.start({
      socketPath: options.pluginSocket,
      socketMode: options.pluginSocketMode,
      backend,
      mounts,
      defaults: options.volumeDefaults ?? DEFAULT_VOLUME,
      logger: log,
      registry,
    });
    closers.push(() => plugin.close());
    const adminSocket = options.adminSocket ?? path.join(options.stateDir, 'agent.sock');
    const admin = await AdminServer.start({
      socketPath: adminSocket,
      host: options.id,
      backendKind: backend.kind,
      attachments,
      mounts,
      pluginSocket: options.pluginSocket,
      ...(volumes instanceof ClusterBackend
        ? { lastKnownVolumes: () => volumes.lastKnownVolumeNames() }
        : {}),
      logger: log,
    });
    closers.push(() => admin.close());
    const { host, port } = parseHostPort(options.opsListen ?? '127.0.0.1:0', 'opsListen');
    const ops: OpsServer = await startOpsServer({ host, port, registry });
    closers.push(() => ops.close());
    log.info(
      {
        pluginSocket: options.pluginSocket,
        adminSocket,
        nbdTcp: attachments.tcpEndpoint,
        attach: attacher.kind,
        relay: relays !== undefined,
        backend: backend.kind,
      },
      'agent started',
    );
    return {
      endpoints: {
        plugin: options.pluginSocket,
        admin: adminSocket,
        ...(attachments.tcpEndpoint !== undefined ? { nbdTcp: attachments.tcpEndpoint } : {}),
        metrics: `${ops.url}/metrics`,
        health: `${ops.url}/healthz`,
      },
      recovery,
      attachmentRecovery,
      backend,
      mounts,
      attachments,
      admin,
      plugin,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** A secret given directly, or read from a file (one trailing newline ignored). */
function readSecret(
  value: string | undefined,
  file: string | undefined,
  setting: string,
): string | undefined {
  if (value !== undefined && value !== '') return value;
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new BallastError('CONFIG', `${setting}: cannot read ${file}: ${errorText(err)}`);
  }
}
