import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { BallastError, isBallastError, type BlockDevice } from '@ballast/common';
import { NbdServer } from '@ballast/nbd';
import { Gauge, Histogram, type Registry } from 'prom-client';
import { readJsonFile, writeFileAtomic } from './atomic-file.js';
import { checkVolumeName, type VolumeAttachment, type VolumeBackend } from './backend.js';
import { KeyedLock } from './lock.js';
import { volumeSocketPath } from './socket-path.js';
import { SILENT_LOGGER, errorText, type AgentLogger } from './logger.js';
import type { MountManager } from './mount-manager.js';

export interface NbdAttachmentsOptions {
  /** This agent's host id (the attachment holder). */
  host: string;
  backend: VolumeBackend;
  /** Volumes the Docker plugin has mounted here are not handed out raw, and vice versa. */
  mounts: MountManager;
  /** Holds attachments.json. */
  stateDir: string;
  /**
   * Also serve every raw attachment on this TCP address (one port, one export per volume).
   * NBD has no authentication: anyone who reaches the port can read and write the volumes.
   */
  tcpListen?: { host: string; port: number } | undefined;
  /** Bound on raw attachments held at once (default 1024). */
  maxAttachments?: number;
  logger?: AgentLogger;
  registry?: Registry | undefined;
}

/** One raw attachment as the admin API and `ballast volume attach --json` show it. */
export interface NbdAttachmentView {
  volume: string;
  host: string;
  /** The attachment epoch (cluster backend), null for the single-host backend. */
  epoch: number | null;
  sizeBytes: number;
  exportName: string;
  /** The agent's unix socket serving the export. */
  socket: string;
  /** `nbd+unix:///<volume>?socket=<socket>` (libnbd, qemu, nbdfuse, fio's nbd engine). */
  uri: string;
  /** `nbd://<host>:<port>/<volume>` when the agent has a TCP export, else null. */
  tcpUri: string | null;
  since: string;
}

export interface NbdDetachView {
  volume: string;
  /** True when an attachment ended (this agent's, a leftover, or a forced takeover). */
  detached: boolean;
  /** Who held it before; null when it was not attached. */
  previousHost: string | null;
  /** True when another host's attachment was taken with force (that host is fenced). */
  forced: boolean;
  /** True when this agent served it and flushed every replica before letting go. */
  flushed: boolean;
  /**
   * True when this agent served it but had been fenced (another host took the volume over with
   * force): nothing was flushed, and writes since the takeover never reached the replicas.
   */
  fenced: boolean;
  epoch: number | null;
}

/** A snapshot served read-only (`ballast snapshot attach`). */
export interface SnapshotAttachmentView {
  volume: string;
  snapshot: string;
  sizeBytes: number;
  exportName: string;
  socket: string;
  uri: string;
  /** The node the reads go to first. */
  from: string;
  readOnly: true;
  since: string;
}

interface AttachmentRecord {
  volume: string;
  since: string;
}

interface AttachmentsState {
  version: 1;
  host: string;
  volumes: Record<string, AttachmentRecord>;
}

interface LiveAttachment {
  attachment: VolumeAttachment;
  since: string;
  onTcp: boolean;
}

/**
 * Volumes attached to this host for raw NBD use (`ballast volume attach`): the backend's export
 * on its unix socket (and, when configured, on the agent's TCP port), with no kernel device and
 * no filesystem. Recorded in <stateDir>/attachments.json so that a restarted agent serves them
 * again at the same URI (clients reconnect). A volume is either raw-attached or mounted by the
 * Docker plugin on one host, never both: a filesystem mounted under a raw writer is corrupted.
 */
export class NbdAttachments {
  private readonly live = new Map<string, LiveAttachment>();
  private readonly snapshots = new Map<
    string,
    { server: NbdServer; device: BlockDevice; view: SnapshotAttachmentView }
  >();
  private readonly lock = new KeyedLock();
  private readonly logger: AgentLogger;
  private readonly stateFile: string;
  private readonly maxAttachments: number;
  private readonly metrics: ReturnType<typeof createMetrics> | undefined;
  private state: AttachmentsState;
  private tcpServer: NbdServer | undefined;
  private tcpAddress: string | undefined;
  private saving: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(private readonly options: NbdAttachmentsOptions) {
    this.logger = options.logger ?? SILENT_LOGGER;
    this.stateFile = path.join(options.stateDir, 'attachments.json');
    this.maxAttachments = options.maxAttachments ?? 1024;
    this.state = { version: 1, host: options.host, volumes: {} };
    this.metrics =
      options.registry === undefined ? undefined : createMetrics(options.registry, this.live);
  }

  /** Opens the TCP listener (when configured) and serves every recorded attachment again. */
  static async open(
    options: NbdAttachmentsOptions,
  ): Promise<{ attachments: NbdAttachments; recovery: NbdRecoveryReport }> {
    const attachments = new NbdAttachments(options);
    await fsp.mkdir(options.stateDir, { recursive: true, mode: 0o700 });
    if (options.tcpListen !== undefined) {
      const server = new NbdServer({ logger: attachments.logger });
      const address = await server.listenTcp({
        host: options.tcpListen.host,
        port: options.tcpListen.port,
      });
      attachments.tcpServer = server;
      attachments.tcpAddress =
        address.family === 'IPv6'
          ? `[${address.address}]:${address.port}`
          : `${address.address}:${address.port}`;
      if (!isLoopback(address.address)) {
        attachments.logger.warn(
          { address: attachments.tcpAddress },
          'NBD over TCP is unauthenticated: anyone who reaches this address can read and write raw-attached volumes',
        );
      }
    }
    const recovery = await attachments.recover();
    return { attachments, recovery };
  }

  /** `host:port` of the TCP export, when there is one. */
  get tcpEndpoint(): string | undefined {
    return this.tcpAddress;
  }

  has(volume: string): boolean {
    return this.live.has(volume);
  }

  list(): NbdAttachmentView[] {
    return [...this.live.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([volume, la]) => this.view(volume, la));
  }

  get(volume: string): NbdAttachmentView | undefined {
    const la = this.live.get(volume);
    return la === undefined ? undefined : this.view(volume, la);
  }

  /**
   * Attaches `volume` to this host and serves it. Attaching a volume this agent already serves
   * raw returns it as it is (`alreadyAttached`). Refused (CONFLICT) while the Docker plugin has it
   * mounted here, and, unless `force`, while another host holds it (naming the host).
   */
  async attach(
    volume: string,
    options: { force?: boolean } = {},
  ): Promise<NbdAttachmentView & { alreadyAttached: boolean }> {
    checkVolumeName(volume);
    return this.lock.run(volume, async () => {
      this.checkOpen();
      const existing = this.live.get(volume);
      if (existing !== undefined) return { ...this.view(volume, existing), alreadyAttached: true };
      const mounted = this.options.mounts.status(volume);
      if (mounted !== undefined) {
        throw new BallastError(
          'CONFLICT',
          `volume ${volume} is mounted on this host by the Docker plugin (${mounted.mountIds} mount ` +
            `reference(s) at ${mounted.mountPath}); raw NBD access under a mounted filesystem ` +
            `would corrupt it. Stop the containers that use it first`,
          { volume, host: this.options.host, mountPath: mounted.mountPath },
        );
      }
      if (this.live.size >= this.maxAttachments) {
        throw new BallastError(
          'UNAVAILABLE',
          `this agent already serves ${this.live.size} raw attachments (the limit is ${this.maxAttachments}); detach some first`,
          { limit: this.maxAttachments },
        );
      }
      const started = process.hrtime.bigint();
      const attachment = await this.options.backend.attach(volume, {
        host: this.options.host,
        ...(options.force === true ? { force: true } : {}),
      });
      const since = new Date().toISOString();
      let la: LiveAttachment;
      try {
        la = { attachment, since, onTcp: this.exportOnTcp(volume, attachment) };
        this.live.set(volume, la);
        this.state.volumes[volume] = { volume, since };
        await this.save();
      } catch (err) {
        this.live.delete(volume);
        delete this.state.volumes[volume];
        await this.tcpServer?.removeExport(volume).catch(() => undefined);
        await attachment.release().catch(() => undefined);
        throw err;
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.metrics?.attachSeconds.observe(seconds);
      this.logger.info(
        {
          volume,
          epoch: attachment.epoch,
          force: options.force === true,
          ms: Math.round(seconds * 1000),
        },
        'volume attached for NBD use',
      );
      return { ...this.view(volume, la), alreadyAttached: false };
    });
  }

  /**
   * Ends this host's attachment of `volume`: a raw attachment this agent serves is flushed and
   * released; a leftover one in the backend's books is handed back. With `force`, another
   * host's attachment is taken away (that host is fenced). Refused (CONFLICT) while the Docker
   * plugin has the volume mounted here, force or not: its containers would lose their disk.
   */
  async detach(volume: string, options: { force?: boolean } = {}): Promise<NbdDetachView> {
    checkVolumeName(volume);
    return this.lock.run(volume, async () => {
      this.checkOpen();
      const la = this.live.get(volume);
      if (la !== undefined) {
        if (la.onTcp) await this.tcpServer?.removeExport(volume);
        await la.attachment.release();
        const fenced = la.attachment.fenced?.() === true;
        this.live.delete(volume);
        delete this.state.volumes[volume];
        await this.save();
        this.logger.info({ volume, epoch: la.attachment.epoch, fenced }, 'NBD attachment released');
        return {
          volume,
          detached: true,
          previousHost: this.options.host,
          forced: false,
          flushed: !fenced,
          fenced,
          epoch: la.attachment.epoch ?? null,
        };
      }
      const mounted = this.options.mounts.status(volume);
      if (mounted !== undefined) {
        throw new BallastError(
          'CONFLICT',
          `volume ${volume} is mounted on this host by the Docker plugin for ${mounted.mountIds} ` +
            `container mount(s) at ${mounted.mountPath}; stop those containers ` +
            `(docker ps --filter volume=${volume}) and Docker releases it`,
          { volume, host: this.options.host, mountPath: mounted.mountPath },
        );
      }
      const result = await this.options.backend.detach(volume, {
        host: this.options.host,
        ...(options.force === true ? { force: true } : {}),
      });
      const previousHost = result.previousHost ?? null;
      return {
        volume,
        detached: previousHost !== null,
        previousHost,
        forced: previousHost !== null && previousHost !== this.options.host,
        flushed: false,
        fenced: false,
        epoch: result.epoch ?? null,
      };
    });
  }

  /**
   * Stops the TCP export and forgets the live attachments without releasing them: the backend's
   * close() stops their unix exports and keeps them recorded, so the next agent serves them again.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.saving;
    await this.tcpServer?.close();
    this.live.clear();
    for (const ref of [...this.snapshots.keys()]) await this.detachSnapshot(ref, true);
  }

  /**
   * Serves a snapshot read-only over NBD on a unix socket of its own (`ballast snapshot
   * attach VOL@SNAP`): read from a node holding it; the volume stays where it is. Not recorded:
   * an agent that restarts does not serve it again.
   */
  async attachSnapshot(volume: string, snapshot: string): Promise<SnapshotAttachmentView> {
    checkVolumeName(volume);
    checkVolumeName(snapshot);
    const ref = `${volume}@${snapshot}`;
    return this.lock.run(ref, async () => {
      this.checkOpen();
      const existing = this.snapshots.get(ref);
      if (existing !== undefined) return existing.view;
      const open = this.options.backend.openSnapshot;
      if (open === undefined) {
        throw new BallastError(
          'INVALID_ARGUMENT',
          'this agent has no cluster backend: snapshots need a cluster (--meta)',
        );
      }
      if (this.snapshots.size >= this.maxAttachments) {
        throw new BallastError(
          'UNAVAILABLE',
          `this agent already serves ${this.snapshots.size} snapshots`,
        );
      }
      const opened = await open.call(this.options.backend, volume, snapshot);
      const dir = path.join(this.options.stateDir, 'snap');
      await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
      const socket = volumeSocketPath(dir, ref);
      const server = new NbdServer({ logger: this.logger });
      try {
        server.addExport(ref, opened.device, { readOnly: true });
        await fsp.rm(socket, { force: true });
        await server.listenUnix(socket);
      } catch (err) {
        await server.close().catch(() => undefined);
        await opened.device.close();
        throw err;
      }
      const view: SnapshotAttachmentView = {
        volume,
        snapshot,
        sizeBytes: opened.sizeBytes,
        exportName: ref,
        socket,
        uri: `nbd+unix:///${encodeURIComponent(ref)}?socket=${socket}`,
        from: opened.from,
        readOnly: true,
        since: new Date().toISOString(),
      };
      this.snapshots.set(ref, { server, device: opened.device, view });
      this.logger.info({ snapshot: ref, socket, from: opened.from }, 'snapshot served read-only');
      return view;
    });
  }

  listSnapshots(): SnapshotAttachmentView[] {
    return [...this.snapshots.values()].map((s) => s.view);
  }

  /** Stops serving a snapshot; false when it was not served. */
  async detachSnapshot(ref: string, closing = false): Promise<boolean> {
    const run = async (): Promise<boolean> => {
      const served = this.snapshots.get(ref);
      if (served === undefined) return false;
      this.snapshots.delete(ref);
      await served.server.close().catch(() => undefined);
      await served.device.close().catch(() => undefined);
      await fsp.rm(served.view.socket, { force: true });
      this.logger.info({ snapshot: ref }, 'snapshot no longer served');
      return true;
    };
    return closing ? run() : this.lock.run(ref, run);
  }

  private async recover(): Promise<NbdRecoveryReport> {
    const report: NbdRecoveryReport = { kept: [], lost: [] };
    let raw: unknown;
    try {
      raw = await readJsonFile(this.stateFile);
    } catch (err) {
      const aside = `${this.stateFile}.corrupt-${Date.now()}`;
      await fsp.rename(this.stateFile, aside).catch(() => undefined);
      this.logger.error(
        { file: this.stateFile, movedTo: aside, err: errorText(err) },
        'attachments file unreadable; raw attachments of the previous agent are not served again',
      );
    }
    const parsed = raw as Partial<AttachmentsState> | undefined;
    const recorded =
      parsed?.version === 1 && typeof parsed.volumes === 'object' && parsed.volumes !== null
        ? Object.keys(parsed.volumes)
        : [];
    for (const volume of recorded.sort()) {
      const since = parsed!.volumes![volume]?.since;
      try {
        checkVolumeName(volume);
        const attachment = await this.options.backend.attach(volume, { host: this.options.host });
        const la: LiveAttachment = {
          attachment,
          since: typeof since === 'string' ? since : new Date().toISOString(),
          onTcp: false,
        };
        la.onTcp = this.exportOnTcp(volume, attachment);
        this.live.set(volume, la);
        this.state.volumes[volume] = { volume, since: la.since };
        report.kept.push(volume);
      } catch (err) {
        const reason = errorText(err);
        report.lost.push({ volume, reason });
        this.logger.error(
          { volume, err: reason, code: isBallastError(err) ? err.code : undefined },
          'recover: cannot serve a raw attachment again; dropped',
        );
      }
    }
    await this.save();
    if (recorded.length > 0) {
      this.logger.info(
        { kept: report.kept, lost: report.lost.map((l) => l.volume) },
        'raw NBD attachments recovered',
      );
    }
    return report;
  }

  private exportOnTcp(volume: string, attachment: VolumeAttachment): boolean {
    if (this.tcpServer === undefined || attachment.device === undefined) return false;
    this.tcpServer.addExport(volume, attachment.device, {
      description: `ballast volume ${volume}`,
      // The backend's engine is shared by every connection on both listeners.
      multiConn: true,
    });
    return true;
  }

  private view(volume: string, la: LiveAttachment): NbdAttachmentView {
    const socket = la.attachment.exportSocketPath;
    return {
      volume,
      host: this.options.host,
      epoch: la.attachment.epoch ?? null,
      sizeBytes: la.attachment.sizeBytes,
      exportName: la.attachment.exportName,
      socket,
      uri: nbdUnixUri(la.attachment.exportName, socket),
      tcpUri:
        la.onTcp && this.tcpAddress !== undefined
          ? `nbd://${this.tcpAddress}/${encodeURIComponent(la.attachment.exportName)}`
          : null,
      since: la.since,
    };
  }

  private save(): Promise<void> {
    const text = `${JSON.stringify(this.state, null, 2)}\n`;
    const next = this.saving.then(() => writeFileAtomic(this.stateFile, text));
    this.saving = next.catch(() => undefined);
    return next;
  }

  private checkOpen(): void {
    if (this.closed) throw new BallastError('UNAVAILABLE', 'the agent is shutting down');
  }
}

export interface NbdRecoveryReport {
  /** Raw attachments served again. */
  kept: string[];
  /** Recorded ones that could not be (another host took the volume, it was deleted, ...). */
  lost: Array<{ volume: string; reason: string }>;
}

/** The NBD URI of an export on a unix socket (NBD URI spec: the socket is a query parameter). */
export function nbdUnixUri(exportName: string, socketPath: string): string {
  const encodedSocket = socketPath
    .split('/')
    .map((part) => encodeURIComponent(part))
    .join('/');
  return `nbd+unix:///${encodeURIComponent(exportName)}?socket=${encodedSocket}`;
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address === 'localhost';
}

function createMetrics(registry: Registry, live: Map<string, LiveAttachment>) {
  return {
    attachSeconds: new Histogram({
      name: 'ballast_agent_nbd_attach_seconds',
      help: 'Time to attach a volume for raw NBD use (ballast volume attach)',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
    attached: new Gauge({
      name: 'ballast_agent_nbd_attachments',
      help: 'Volumes attached to this host for raw NBD use',
      registers: [registry],
      collect() {
        this.set(live.size);
      },
    }),
  };
}
