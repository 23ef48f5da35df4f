import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { BallastError, assert, isBallastError } from '@ballast/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { readJsonFile, writeFileAtomic } from './atomic-file.js';
import type { BlockAttacher, KernelDevice } from './attach.js';
import { checkVolumeName, type VolumeAttachment, type VolumeBackend } from './backend.js';
import {
  growExt4Offline,
  growXfsOnline,
  makeFilesystem,
  mountFilesystem,
  probeDevice,
  unmountFilesystem,
} from './filesystem.js';
import { KeyedLock } from './lock.js';
import { SILENT_LOGGER, errorText, type AgentLogger } from './logger.js';
import type { RelayManager } from './relay/relay-process.js';
import { findProcesses, listLoopDevices, mountAt, readMounts } from './system.js';
import { runCommand } from './exec.js';

export type MountPhase = 'attaching' | 'mounted' | 'detaching';

/** One volume's mount on this host, as persisted in <stateDir>/mounts.json. */
export interface VolumeMountRecord {
  volume: string;
  phase: MountPhase;
  mountPath: string;
  /** Mount IDs Docker holds, with how many times each was mounted (a multiset). */
  mountIds: Record<string, number>;
  device: Partial<KernelDevice>;
  attacher: BlockAttacher['kind'];
  fsType?: string | undefined;
  /** True when this agent made the filesystem (first use). */
  formatted?: boolean | undefined;
  relay?: { pid: number; socketPath: string } | undefined;
  exportSocketPath?: string | undefined;
  since: string;
}

interface MountState {
  version: 1;
  host: string;
  volumes: Record<string, VolumeMountRecord>;
}

export interface MountManagerOptions {
  host: string;
  backend: VolumeBackend;
  attacher: BlockAttacher & {
    healthy(volume: string, device: Partial<KernelDevice>): Promise<boolean>;
  };
  /** Puts a relay process between the kernel client and the backend's export (default on). */
  relays?: RelayManager | undefined;
  stateDir: string;
  /** Filesystems are mounted at <mountRoot>/<volume>. */
  mountRoot: string;
  commandTimeoutMs?: number;
  /** mkfs gets longer than other commands: it writes metadata across the device. */
  mkfsTimeoutMs?: number;
  logger?: AgentLogger;
  registry?: Registry;
}

export interface RecoveryReport {
  /** Volumes still mounted and served again. */
  kept: string[];
  /** Mounts whose data path died with the previous agent (torn down; their containers saw EIO). */
  lost: Array<{ volume: string; mountIds: string[]; reason: string }>;
  /** Half-done attaches, finished detaches and orphans found on the system, cleaned up. */
  cleaned: string[];
}

export interface MountStatus {
  mountPath: string;
  phase: MountPhase;
  mountIds: number;
  devicePath?: string | undefined;
  attacher: string;
  fsType?: string | undefined;
  since: string;
}

const MAX_MOUNT_ID_BYTES = 256;
/** Mount references one volume may hold; Docker uses one per container mount point. */
const MAX_MOUNT_REFS = 100_000;

/**
 * Attaches volumes to this host and mounts their filesystems, shared by every container that
 * mounts the same volume: attach (backend) -> relay -> kernel block device (nbd-client, or
 * nbdfuse + loop) -> mkfs on first use -> mount. A multiset of (volume, mount ID) decides when
 * the last user is gone; it is persisted atomically after every change, and `recover()` rebuilds
 * it from the state file and the system after an agent restart.
 */
export class MountManager {
  private state: MountState;
  private readonly attachments = new Map<string, VolumeAttachment>();
  private readonly lock = new KeyedLock();
  private readonly logger: AgentLogger;
  private readonly stateFile: string;
  private readonly timeoutMs: number;
  private readonly mkfsTimeoutMs: number;
  private readonly metrics: ReturnType<typeof createMetrics> | undefined;
  private saving: Promise<void> = Promise.resolve();
  /** Why a volume must not be mounted here right now (it is attached raw), if it must not. */
  private refusal: ((volume: string) => string | undefined) | undefined;

  constructor(private readonly options: MountManagerOptions) {
    this.logger = options.logger ?? SILENT_LOGGER;
    this.stateFile = path.join(options.stateDir, 'mounts.json');
    this.timeoutMs = options.commandTimeoutMs ?? 20_000;
    this.mkfsTimeoutMs = options.mkfsTimeoutMs ?? 60_000;
    this.state = { version: 1, host: options.host, volumes: {} };
    this.metrics = options.registry
      ? createMetrics(options.registry, () => this.mountedCount())
      : undefined;
  }

  /**
   * Installs the check that keeps a volume from being mounted while something else on this host
   * holds it (the agent's raw NBD attachments): it returns the reason to refuse, or undefined.
   */
  setRefusal(check: (volume: string) => string | undefined): void {
    this.refusal = check;
  }

  get attacherKind(): string {
    return this.options.attacher.kind;
  }

  mountPath(volume: string): string {
    return path.join(this.options.mountRoot, volume);
  }

  /** The shared mount point while the volume is mounted on this host. */
  mountpoint(volume: string): string | undefined {
    const record = this.state.volumes[volume];
    return record?.phase === 'mounted' ? record.mountPath : undefined;
  }

  status(volume: string): MountStatus | undefined {
    const r = this.state.volumes[volume];
    if (r === undefined) return undefined;
    return {
      mountPath: r.mountPath,
      phase: r.phase,
      mountIds: Object.values(r.mountIds).reduce((a, b) => a + b, 0),
      devicePath: r.device.devicePath,
      attacher: r.attacher,
      fsType: r.fsType,
      since: r.since,
    };
  }

  /** Volume names with a record (mounted or being set up or torn down). */
  volumes(): string[] {
    return Object.keys(this.state.volumes);
  }

  private mountedCount(): number {
    return Object.values(this.state.volumes).filter((r) => r.phase === 'mounted').length;
  }

  /**
   * Docker's Mount: the first mount of a volume attaches and mounts it; later ones (other
   * containers, or the same ID again) add a reference and get the same path.
   */
  async mount(volume: string, mountId: string): Promise<string> {
    checkVolumeName(volume);
    checkMountId(mountId);
    return this.lock.run(volume, async () => {
      const existing = this.state.volumes[volume];
      if (existing?.phase === 'mounted') {
        const onTop = await mountAt(existing.mountPath);
        if (onTop !== undefined && onTop.source === existing.device.devicePath) {
          addRef(existing, mountId);
          await this.save();
          return existing.mountPath;
        }
        this.logger.warn(
          { volume, mountPath: existing.mountPath },
          'mount: recorded mount is gone from the system; setting it up again',
        );
      }
      const refused = this.refusal?.(volume);
      if (refused !== undefined) throw new BallastError('CONFLICT', refused, { volume });
      const keptIds = existing?.phase === 'mounted' ? { ...existing.mountIds } : {};
      // A teardown that failed earlier (a busy filesystem) is finished first; if it still
      // fails, this Mount fails with the reason and nothing else changes.
      if (existing !== undefined) await this.teardown(existing, { lazy: false });
      return this.setUp(volume, mountId, keptIds);
    });
  }

  /**
   * Docker's Unmount: drops one reference; the last one unmounts and detaches. An ID this host
   * does not hold is a no-op (Docker may repeat Unmount, or the volume was already torn down).
   */
  async unmount(volume: string, mountId: string): Promise<void> {
    checkVolumeName(volume);
    checkMountId(mountId);
    await this.lock.run(volume, async () => {
      const record = this.state.volumes[volume];
      if (record === undefined) {
        await this.options.backend.get(volume); // NOT_FOUND for names nobody knows
        return;
      }
      const count = record.mountIds[mountId];
      if (count === undefined) {
        // Nothing held under this ID. If an earlier teardown failed (busy), try it again now.
        if (record.phase !== 'mounted' && Object.keys(record.mountIds).length === 0) {
          await this.teardown(record, { lazy: false });
        }
        return;
      }
      if (count > 1) record.mountIds[mountId] = count - 1;
      else delete record.mountIds[mountId];
      if (Object.keys(record.mountIds).length > 0) {
        await this.save();
        return;
      }
      const started = Date.now();
      await this.teardown(record, { lazy: false });
      this.metrics?.unmountSeconds.observe((Date.now() - started) / 1000);
    });
  }

  /** Tears down every mount (tests, `ballast dev down`); Docker-held references are dropped. */
  async unmountAll(): Promise<void> {
    for (const volume of Object.keys(this.state.volumes)) {
      await this.lock.run(volume, async () => {
        const record = this.state.volumes[volume];
        if (record !== undefined) await this.teardown(record, { lazy: false });
      });
    }
  }

  /**
   * Stops this agent's side without touching mounts: they stay in place for containers, and the
   * relays hold their I/O until the next agent calls recover(). Backend exports are closed by
   * the caller (backend.close()), which keeps the attachments recorded.
   */
  async close(): Promise<void> {
    await this.saving;
    this.attachments.clear();
  }

  private async setUp(
    volume: string,
    mountId: string,
    keptIds: Record<string, number>,
  ): Promise<string> {
    const started = Date.now();
    const steps: Record<string, number> = {};
    const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
      const at = Date.now();
      try {
        return await work();
      } catch (err) {
        throw new BallastError(
          isBallastError(err) ? err.code : 'IO',
          `mount ${volume}: ${name} failed: ${errorText(err)}`,
          { volume, step: name, ...(isBallastError(err) ? err.details : {}) },
          err,
        );
      } finally {
        steps[`${name}Ms`] = Date.now() - at;
      }
    };
    // Unknown volumes are refused before anything is recorded or touched.
    await this.options.backend.get(volume);
    const record: VolumeMountRecord = {
      volume,
      phase: 'attaching',
      mountPath: this.mountPath(volume),
      mountIds: {},
      device: {},
      attacher: this.options.attacher.kind,
      since: new Date().toISOString(),
    };
    this.state.volumes[volume] = record;
    await this.save();
    try {
      const attachment = await step('attach', () =>
        this.options.backend.attach(volume, {
          host: this.options.host,
          mountPath: record.mountPath,
          takeOverFromDeadHolder: true,
        }),
      );
      this.attachments.set(volume, attachment);
      record.exportSocketPath = attachment.exportSocketPath;
      let socketPath = attachment.exportSocketPath;
      let exportName = attachment.exportName;
      const relays = this.options.relays;
      if (relays !== undefined) {
        const relay = await step('relay', () =>
          relays.start(volume, {
            socketPath: attachment.exportSocketPath,
            exportName: attachment.exportName,
          }),
        );
        record.relay = relay;
        await this.save();
        socketPath = relay.socketPath;
        exportName = volume;
      }
      const device = await step('blockDevice', () =>
        this.options.attacher.attach({
          volume,
          socketPath,
          exportName,
          sizeBytes: attachment.sizeBytes,
          progress: async (partial) => {
            Object.assign(record.device, partial);
            await this.save();
          },
        }),
      );
      Object.assign(record.device, device);
      const devicePath = device.devicePath;
      const probe = await step('probe', () => probeDevice(devicePath, this.timeoutMs));
      let fsType: string;
      if (!probe.hasSignature) {
        await step('mkfs', () => makeFilesystem(devicePath, attachment.fs, this.mkfsTimeoutMs));
        const made = await probeDevice(devicePath, this.timeoutMs);
        assert(made.type === attachment.fs, `mkfs made ${made.type}, expected ${attachment.fs}`);
        fsType = attachment.fs;
        record.formatted = true;
      } else if (probe.type === 'ext4' || probe.type === 'xfs') {
        fsType = probe.type;
        if (fsType !== attachment.fs) {
          this.logger.warn(
            { volume, found: fsType, asked: attachment.fs },
            'mount: volume already holds another filesystem; mounting it as it is',
          );
        }
      } else {
        // Never format over anything recognisable: it may be someone's data.
        throw new BallastError(
          'CONFLICT',
          `mount ${volume}: the device holds ${probe.type ? `a ${probe.type} filesystem` : 'an unrecognised signature'} ` +
            `(${JSON.stringify(probe.raw)}); Ballast mounts only ext4 or xfs and never reformats`,
          { volume },
        );
      }
      record.fsType = fsType;
      // The volume may have grown since its filesystem was made (online resize): the filesystem
      // follows on the next mount. A failure leaves it as it was: the data is intact, only the
      // new space is not usable yet.
      const growFs = async (work: () => Promise<unknown>): Promise<void> => {
        try {
          await step('growFs', work);
        } catch (err) {
          this.logger.warn(
            { volume, device: devicePath, fsType, err: errorText(err) },
            'mount: could not grow the filesystem to the volume size; mounting it as it is',
          );
        }
      };
      if (probe.hasSignature && fsType === 'ext4') {
        await growFs(() => growExt4Offline(devicePath, this.mkfsTimeoutMs));
      }
      await fsp.mkdir(record.mountPath, { recursive: true, mode: 0o755 });
      if ((await mountAt(record.mountPath)) !== undefined) {
        throw new BallastError(
          'CONFLICT',
          `mount ${volume}: something is already mounted at ${record.mountPath}`,
        );
      }
      await step('mount', () =>
        mountFilesystem(devicePath, fsType, record.mountPath, this.timeoutMs),
      );
      if (probe.hasSignature && fsType === 'xfs') {
        await growFs(() => growXfsOnline(record.mountPath, this.mkfsTimeoutMs));
      }
      record.phase = 'mounted';
      record.mountIds = keptIds;
      addRef(record, mountId);
      await this.save();
      const totalMs = Date.now() - started;
      this.metrics?.mountSeconds.observe(totalMs / 1000);
      this.logger.info(
        {
          volume,
          mountPath: record.mountPath,
          device: devicePath,
          fsType,
          formatted: record.formatted === true,
          totalMs,
          ...steps,
        },
        'volume mounted',
      );
      return record.mountPath;
    } catch (err) {
      this.metrics?.mountErrors.inc();
      this.logger.error({ volume, err: errorText(err), ...steps }, 'mount failed; undoing');
      try {
        await this.teardown(record, { lazy: true });
      } catch (cleanupErr) {
        this.logger.error(
          { volume, err: errorText(cleanupErr) },
          'cleanup after a failed mount failed',
        );
      }
      throw err;
    }
  }

  /**
   * Undoes whatever part of the pipeline exists, in reverse: unmount, kernel device, relay,
   * backend attachment, mount point, record. `lazy` detaches a busy or dead filesystem from the
   * tree instead of failing (used when the data path is already gone); otherwise a busy
   * filesystem is an error and the record stays so a later call can finish the job.
   */
  private async teardown(record: VolumeMountRecord, opts: { lazy: boolean }): Promise<void> {
    const volume = record.volume;
    record.phase = 'detaching';
    await this.save();
    const mounted = await mountAt(record.mountPath);
    if (mounted !== undefined) {
      if (opts.lazy) {
        const result = await runCommand('umount', [record.mountPath], {
          timeoutMs: this.timeoutMs,
        });
        if (result.code !== 0) {
          this.logger.warn(
            { volume, stderr: result.stderr.trim() },
            'teardown: umount failed; detaching lazily',
          );
          await runCommand('umount', ['-l', record.mountPath], { timeoutMs: this.timeoutMs });
        }
      } else {
        await unmountFilesystem(record.mountPath, this.timeoutMs);
      }
    }
    await this.options.attacher.detach(volume, record.device);
    await this.options.relays?.stop(volume);
    await this.releaseBackend(volume);
    await fsp.rmdir(record.mountPath).catch(() => {
      // Absent already, or not empty because something was written under it while unmounted.
    });
    delete this.state.volumes[volume];
    await this.save();
    this.logger.info({ volume }, 'volume unmounted and detached');
  }

  private async releaseBackend(volume: string): Promise<void> {
    let attachment = this.attachments.get(volume);
    this.attachments.delete(volume);
    if (attachment === undefined) {
      // After a restart, the attachment is only in the backend's books: take it up to let go.
      try {
        attachment = await this.options.backend.attach(volume, { host: this.options.host });
      } catch (err) {
        if (isBallastError(err, 'NOT_FOUND')) return;
        if (isBallastError(err, 'CONFLICT') && err.details?.host !== this.options.host) return;
        throw err;
      }
    }
    await attachment.release();
  }

  /**
   * After an agent (re)start: reconcile the state file with the system. Mounts whose data path
   * is intact (mount in place, kernel device and relay alive) are kept and their backend export
   * is attached again so the relay reconnects; everything else found under this agent's paths is
   * torn down.
   */
  async recover(): Promise<RecoveryReport> {
    const report: RecoveryReport = { kept: [], lost: [], cleaned: [] };
    await fsp.mkdir(this.options.stateDir, { recursive: true, mode: 0o700 });
    await fsp.mkdir(this.options.mountRoot, { recursive: true, mode: 0o755 });
    await this.load();
    const names = new Set<string>(Object.keys(this.state.volumes));
    for (const name of await this.volumesOnSystem()) names.add(name);
    for (const volume of [...names].sort()) {
      await this.lock.run(volume, async () => {
        const record = this.state.volumes[volume];
        const refs = record ? Object.keys(record.mountIds) : [];
        if (record?.phase === 'mounted' && refs.length > 0) {
          const why = await this.brokenReason(record);
          if (why === undefined) {
            try {
              const attachment = await this.options.backend.attach(volume, {
                host: this.options.host,
                mountPath: record.mountPath,
              });
              this.attachments.set(volume, attachment);
              record.exportSocketPath = attachment.exportSocketPath;
              await this.options.relays?.setTarget(volume, {
                socketPath: attachment.exportSocketPath,
                exportName: attachment.exportName,
              });
              report.kept.push(volume);
              return;
            } catch (err) {
              this.logger.error(
                { volume, err: errorText(err) },
                'recover: cannot attach the volume again',
              );
              report.lost.push({
                volume,
                mountIds: refs,
                reason: `re-attach failed: ${errorText(err)}`,
              });
            }
          } else {
            report.lost.push({ volume, mountIds: refs, reason: why });
          }
          this.logger.error(
            { volume, mountIds: refs.length, reason: report.lost.at(-1)!.reason },
            'recover: mounted volume lost its data path; tearing it down (its containers see I/O errors)',
          );
        } else {
          report.cleaned.push(volume);
          // A relay still carries this volume's kernel device: serve the export again first, so
          // the unmount below can write back dirty data instead of waiting out the relay's hold.
          if ((await this.options.relays?.find(volume)) !== undefined) {
            try {
              const attachment = await this.options.backend.attach(volume, {
                host: this.options.host,
              });
              this.attachments.set(volume, attachment);
              await this.options.relays?.setTarget(volume, {
                socketPath: attachment.exportSocketPath,
                exportName: attachment.exportName,
              });
            } catch (err) {
              this.logger.warn(
                { volume, err: errorText(err) },
                'recover: cannot serve a leftover volume for cleanup',
              );
            }
          }
        }
        const leftover: VolumeMountRecord = record ?? {
          volume,
          phase: 'detaching',
          mountPath: this.mountPath(volume),
          mountIds: {},
          device: {},
          attacher: this.options.attacher.kind,
          since: new Date().toISOString(),
        };
        this.state.volumes[volume] = leftover;
        try {
          // Lazy only where the data path is dead anyway; a busy healthy mount is left alone.
          await this.teardown(leftover, { lazy: report.lost.some((l) => l.volume === volume) });
        } catch (err) {
          this.logger.error(
            { volume, err: errorText(err) },
            'recover: cleanup failed; will retry on next mount',
          );
        }
      });
    }
    await this.save();
    this.logger.info(
      { kept: report.kept, lost: report.lost.map((l) => l.volume), cleaned: report.cleaned },
      'recovery done',
    );
    return report;
  }

  /** Why a recorded mount can no longer carry I/O, or undefined when it can. */
  private async brokenReason(record: VolumeMountRecord): Promise<string | undefined> {
    const onTop = await mountAt(record.mountPath);
    if (onTop === undefined) return 'the filesystem is no longer mounted';
    if (record.device.devicePath === undefined || onTop.source !== record.device.devicePath) {
      return `${record.mountPath} is mounted from ${onTop.source}, not ${record.device.devicePath}`;
    }
    if (this.options.relays === undefined) {
      // Without a relay the kernel-side client was connected to the previous agent's socket,
      // which died with it; nbdfuse aborts on its next request (see README).
      return 'no relay: the kernel client was connected to the previous agent process';
    }
    const relay = await this.options.relays.find(record.volume);
    if (relay === undefined) return 'the relay process is gone';
    if (!(await this.options.attacher.healthy(record.volume, record.device))) {
      return `the ${record.attacher} attachment is gone`;
    }
    return undefined;
  }

  /** Names of volumes that have anything of ours on the system: mounts, loops, FUSE, relays. */
  private async volumesOnSystem(): Promise<string[]> {
    const found = new Set<string>();
    // Only exact paths this agent creates: <mountRoot>/<v>, <fuseRoot>/<v>, <fuseRoot>/<v>/nbd.
    const childOf = (dir: string, p: string): string | undefined =>
      path.dirname(p) === dir ? path.basename(p) : undefined;
    const mounts = await readMounts();
    for (const mount of mounts) {
      const name = childOf(this.options.mountRoot, mount.mountPoint);
      if (name !== undefined) found.add(name);
    }
    const fuseRoot = this.fuseRoot();
    if (fuseRoot !== undefined) {
      for (const mount of mounts) {
        const name = childOf(fuseRoot, mount.mountPoint);
        if (name !== undefined) found.add(name);
      }
      for (const loop of await listLoopDevices(this.timeoutMs)) {
        if (path.basename(loop.backFile) !== 'nbd') continue;
        const name = childOf(fuseRoot, path.dirname(loop.backFile));
        if (name !== undefined) found.add(name);
      }
      for (const proc of await findProcesses((argv) => argv[0]?.endsWith('nbdfuse') === true)) {
        // argv: nbdfuse -P <pidfile> <fuseDir> <uri>
        const name = proc.argv[3] === undefined ? undefined : childOf(fuseRoot, proc.argv[3]);
        if (name !== undefined) found.add(name);
      }
    }
    for (const relay of (await this.options.relays?.running()) ?? []) found.add(relay.volume);
    return [...found].filter((name) => {
      try {
        checkVolumeName(name);
        return true;
      } catch {
        return false;
      }
    });
  }

  private fuseRoot(): string | undefined {
    const attacher = this.options.attacher as { fuseDir?: (volume: string) => string };
    return attacher.fuseDir === undefined ? undefined : path.dirname(attacher.fuseDir('x'));
  }

  private async load(): Promise<void> {
    let raw: unknown;
    try {
      raw = await readJsonFile(this.stateFile);
    } catch (err) {
      const aside = `${this.stateFile}.corrupt-${Date.now()}`;
      await fsp.rename(this.stateFile, aside).catch(() => {});
      this.logger.error(
        { file: this.stateFile, movedTo: aside, err: errorText(err) },
        'state file unreadable; recovering from the system alone',
      );
      raw = undefined;
    }
    const parsed = raw as Partial<MountState> | undefined;
    if (parsed?.version === 1 && typeof parsed.volumes === 'object' && parsed.volumes !== null) {
      this.state = { version: 1, host: this.options.host, volumes: parsed.volumes };
    } else {
      this.state = { version: 1, host: this.options.host, volumes: {} };
    }
  }

  /** Persists the whole state; saves are serialised so an older snapshot never lands last. */
  private save(): Promise<void> {
    const text = `${JSON.stringify(this.state, null, 2)}\n`;
    const next = this.saving.then(() => writeFileAtomic(this.stateFile, text));
    this.saving = next.catch(() => {});
    return next;
  }
}

function addRef(record: VolumeMountRecord, mountId: string): void {
  const total = Object.values(record.mountIds).reduce((a, b) => a + b, 0);
  if (total >= MAX_MOUNT_REFS) {
    throw new BallastError(
      'UNAVAILABLE',
      `volume ${record.volume} already has ${total} mount references`,
    );
  }
  record.mountIds[mountId] = (record.mountIds[mountId] ?? 0) + 1;
}

export function checkMountId(id: unknown): string {
  if (typeof id !== 'string' || id === '' || Buffer.byteLength(id) > MAX_MOUNT_ID_BYTES) {
    throw new BallastError(
      'INVALID_ARGUMENT',
      `mount ID must be a non-empty string of at most ${MAX_MOUNT_ID_BYTES} bytes`,
    );
  }
  return id;
}

function createMetrics(registry: Registry, mounted: () => number) {
  return {
    mountSeconds: new Histogram({
      name: 'ballast_agent_mount_seconds',
      help: 'Time to attach, format on first use and mount a volume',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60],
      registers: [registry],
    }),
    unmountSeconds: new Histogram({
      name: 'ballast_agent_unmount_seconds',
      help: 'Time to unmount and detach a volume after its last user',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
    mountErrors: new Counter({
      name: 'ballast_agent_mount_errors_total',
      help: 'Mounts that failed (and were undone)',
      registers: [registry],
    }),
    mounted: new Gauge({
      name: 'ballast_agent_volumes_mounted',
      help: 'Volumes mounted on this host',
      registers: [registry],
      collect() {
        this.set(mounted());
      },
    }),
  };
}
