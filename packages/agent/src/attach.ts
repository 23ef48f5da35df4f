import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { BallastError } from '@ballast/common';
import { commandExists, runChecked, runCommand } from './exec.js';
import { KeyedLock } from './lock.js';
import { SILENT_LOGGER, errorText, type AgentLogger } from './logger.js';
import {
  listLoopDevices,
  mountAt,
  pathExists,
  processAlive,
  processArgv,
  sleep,
  terminate,
  waitForExit,
} from './system.js';

/** The kernel block device a volume is attached as, with what it takes to undo it. */
export interface KernelDevice {
  kind: 'nbd' | 'loop';
  /** /dev/nbdN or /dev/loopN: what mkfs and mount use. */
  devicePath: string;
  /** nbdfuse fallback: the FUSE mount point holding the `nbd` file, and nbdfuse's pid. */
  fuseDir?: string | undefined;
  fusePid?: number | undefined;
}

export interface AttachRequest {
  volume: string;
  /** Unix socket serving the export (the relay's, or the backend's directly). */
  socketPath: string;
  exportName: string;
  sizeBytes: number;
  /** Called with partial progress so a crash mid-attach leaves a record to clean up. */
  progress: (partial: Partial<KernelDevice>) => Promise<void>;
}

export interface BlockAttacher {
  readonly kind: 'nbd-client' | 'nbdfuse-loop';
  attach(request: AttachRequest): Promise<KernelDevice>;
  /** Undoes an attach, also a partial one (fields missing) or one found after a crash. */
  detach(volume: string, device: Partial<KernelDevice>): Promise<void>;
}

export interface AttacherOptions {
  runDir: string;
  commandTimeoutMs: number;
  logger?: AgentLogger;
}

const GLOBAL = 'global';

/**
 * Fallback for hosts without the nbd module (protocols.md C.5): nbdfuse shows the export as a
 * file in a per-volume FUSE mount, and a loop device sits on that file.
 *
 * The loop device uses --direct-io=on: the loop driver then reads and writes the FUSE file with
 * O_DIRECT, so data is not cached twice (once for the loop device, once for the FUSE file) and
 * writeback does not pile up dirty pages in a FUSE file's page cache, which is what the nbdfuse
 * man page's deadlock warning is about. A filesystem FLUSH still reaches the export as an NBD
 * FLUSH (loop fsyncs the file, FUSE forwards it, nbdfuse sends NBD_CMD_FLUSH).
 */
export class NbdfuseLoopAttacher implements BlockAttacher {
  readonly kind = 'nbdfuse-loop';
  private readonly logger: AgentLogger;
  private readonly lock = new KeyedLock();

  constructor(private readonly options: AttacherOptions) {
    this.logger = options.logger ?? SILENT_LOGGER;
  }

  fuseDir(volume: string): string {
    return path.join(this.options.runDir, 'fuse', volume);
  }

  private pidFile(volume: string): string {
    return path.join(this.options.runDir, 'fuse', `${volume}.pid`);
  }

  async attach(request: AttachRequest): Promise<KernelDevice> {
    const timeoutMs = this.options.commandTimeoutMs;
    const fuseDir = this.fuseDir(request.volume);
    const pidFile = this.pidFile(request.volume);
    await fsp.mkdir(fuseDir, { recursive: true, mode: 0o700 });
    if ((await mountAt(fuseDir)) !== undefined) {
      throw new BallastError('CONFLICT', `${fuseDir} is already mounted; clean up first`);
    }
    await fsp.rm(pidFile, { force: true });
    await request.progress({ kind: 'loop', fuseDir });
    const logPath = path.join(this.options.runDir, 'fuse', `${request.volume}.log`);
    const logFd = fs.openSync(logPath, 'a', 0o600);
    const uri = `nbd+unix:///${encodeURIComponent(request.exportName)}?socket=${request.socketPath}`;
    let exited: string | undefined;
    // Own session (detached): nbdfuse must outlive an agent restart and must not get the
    // agent's terminal signals; it keeps the FUSE mount the loop device reads through.
    const child = spawn('nbdfuse', ['-P', pidFile, fuseDir, uri], {
      detached: true,
      stdio: ['ignore', logFd, logFd],
    });
    fs.closeSync(logFd);
    child.on('error', (err) => (exited = `cannot start nbdfuse: ${err.message}`));
    child.on('exit', (code, signal) => (exited = `nbdfuse exited (${code ?? signal})`));
    child.unref();
    const pid = child.pid;
    await request.progress({ fusePid: pid });
    const deadline = Date.now() + timeoutMs;
    while (!(await pathExists(pidFile))) {
      if (exited !== undefined || Date.now() > deadline) {
        const log = await tail(logPath);
        throw new BallastError(
          'IO',
          `${exited ?? `nbdfuse not ready after ${timeoutMs} ms`}${log ? `: ${log}` : ''}`,
          { volume: request.volume },
        );
      }
      await sleep(10);
    }
    const image = path.join(fuseDir, 'nbd');
    const size = (await fsp.stat(image)).size;
    if (size !== request.sizeBytes) {
      throw new BallastError('IO', `nbdfuse shows ${size} bytes, expected ${request.sizeBytes}`);
    }
    // losetup --find races between concurrent callers on some versions; one at a time here.
    const loop = await this.lock.run(GLOBAL, async () => {
      const result = await runChecked('losetup', ['--find', '--show', '--direct-io=on', image], {
        timeoutMs,
      });
      return result.stdout.trim();
    });
    if (!/^\/dev\/loop\d+$/.test(loop)) {
      throw new BallastError('IO', `losetup printed ${JSON.stringify(loop)}, not a loop device`);
    }
    await request.progress({ devicePath: loop });
    this.logger.info({ volume: request.volume, loop, pid }, 'attach: nbdfuse + loop ready');
    return { kind: 'loop', devicePath: loop, fuseDir, fusePid: pid };
  }

  async detach(volume: string, device: Partial<KernelDevice>): Promise<void> {
    const timeoutMs = this.options.commandTimeoutMs;
    const fuseDir = device.fuseDir ?? this.fuseDir(volume);
    const image = path.join(fuseDir, 'nbd');
    // Every loop device on this volume's FUSE file, not only the recorded one: a crash between
    // losetup and saving the state leaves an unrecorded one.
    const loops = (await listLoopDevices(timeoutMs)).filter((l) => l.backFile === image);
    for (const loop of loops) {
      await runChecked('losetup', ['--detach', loop.name], { timeoutMs });
    }
    const pids = new Set<number>();
    if (device.fusePid !== undefined) pids.add(device.fusePid);
    const recorded = await readPid(this.pidFile(volume));
    if (recorded !== undefined) pids.add(recorded);
    if ((await mountAt(fuseDir)) !== undefined) {
      const result = await runCommand('fusermount3', ['-u', fuseDir], { timeoutMs });
      if (result.code !== 0) {
        // A dead nbdfuse leaves "transport endpoint is not connected": detach lazily.
        this.logger.warn(
          { fuseDir, stderr: result.stderr.trim() },
          'attach: fusermount3 -u failed; lazy unmount',
        );
        await runChecked('umount', ['-l', fuseDir], { timeoutMs });
      }
    }
    for (const pid of pids) {
      const argv = await processArgv(pid);
      // Only our nbdfuse: the pid may have been reused since it was recorded.
      if (argv === undefined || !argv[0]?.endsWith('nbdfuse') || !argv.includes(fuseDir)) continue;
      if (!(await waitForExit(pid, timeoutMs))) await terminate(pid, 2_000);
    }
    await fsp.rm(this.pidFile(volume), { force: true });
    await fsp.rmdir(fuseDir).catch(() => {
      // Not empty or still mounted: left for the next recovery to look at.
    });
  }

  /** Is this volume's nbdfuse alive and its FUSE mount in place? */
  async healthy(volume: string, device: Partial<KernelDevice>): Promise<boolean> {
    const fuseDir = device.fuseDir ?? this.fuseDir(volume);
    const pid = device.fusePid ?? (await readPid(this.pidFile(volume)));
    if (pid === undefined || !(await processAlive(pid))) return false;
    const mount = await mountAt(fuseDir);
    return mount !== undefined && mount.fsType.startsWith('fuse');
  }
}

/**
 * The kernel nbd driver through nbd-client (netlink mode, which configures the device and exits).
 * Untested on the machines this was built on: they have no nbd module.
 */
export class NbdClientAttacher implements BlockAttacher {
  readonly kind = 'nbd-client';
  private readonly logger: AgentLogger;
  private readonly lock = new KeyedLock();

  constructor(private readonly options: AttacherOptions & { nbdTimeoutSeconds: number }) {
    this.logger = options.logger ?? SILENT_LOGGER;
  }

  async attach(request: AttachRequest): Promise<KernelDevice> {
    const timeoutMs = this.options.commandTimeoutMs;
    // Picking a free device and connecting it must not interleave with another attach.
    return this.lock.run(GLOBAL, async () => {
      const device = await freeNbdDevice();
      await request.progress({ kind: 'nbd', devicePath: device });
      await runChecked(
        'nbd-client',
        [
          '-unix',
          request.socketPath,
          device,
          '-N',
          request.exportName,
          '-b',
          '4096',
          '-t',
          String(this.options.nbdTimeoutSeconds),
        ],
        { timeoutMs },
      );
      const name = path.basename(device);
      const sectors = Number((await fsp.readFile(`/sys/block/${name}/size`, 'utf8')).trim());
      if (sectors * 512 !== request.sizeBytes) {
        await runCommand('nbd-client', ['-d', device], { timeoutMs });
        throw new BallastError(
          'IO',
          `${device} shows ${sectors * 512} bytes, expected ${request.sizeBytes}`,
        );
      }
      this.logger.info({ volume: request.volume, device }, 'attach: nbd-client connected');
      return { kind: 'nbd' as const, devicePath: device };
    });
  }

  async detach(volume: string, device: Partial<KernelDevice>): Promise<void> {
    if (device.devicePath === undefined) return;
    const name = path.basename(device.devicePath);
    if (!(await pathExists(`/sys/block/${name}/pid`))) return;
    await runChecked('nbd-client', ['-d', device.devicePath], {
      timeoutMs: this.options.commandTimeoutMs,
    });
    this.logger.info({ volume, device: device.devicePath }, 'attach: nbd device disconnected');
  }

  async healthy(_volume: string, device: Partial<KernelDevice>): Promise<boolean> {
    if (device.devicePath === undefined) return false;
    return pathExists(`/sys/block/${path.basename(device.devicePath)}/pid`);
  }
}

/** The nbd module is there when /sys/module/nbd or /dev/nbd0 exists (protocols.md C.5). */
export async function nbdModuleLoaded(): Promise<boolean> {
  return (await pathExists('/sys/module/nbd')) || (await pathExists('/dev/nbd0'));
}

/**
 * Chooses the attach path: nbd-client when the nbd module is present (after one `modprobe nbd`
 * attempt when allowed and available), nbdfuse + loop otherwise.
 */
export async function chooseAttacher(
  mode: 'auto' | 'nbd-client' | 'nbdfuse-loop',
  options: AttacherOptions & { nbdTimeoutSeconds: number; allowModprobe: boolean },
): Promise<
  BlockAttacher & { healthy(volume: string, device: Partial<KernelDevice>): Promise<boolean> }
> {
  const logger = options.logger ?? SILENT_LOGGER;
  if (mode === 'nbdfuse-loop') return new NbdfuseLoopAttacher(options);
  let loaded = await nbdModuleLoaded();
  if (!loaded && options.allowModprobe && (await commandExists('modprobe'))) {
    const result = await runCommand('modprobe', ['nbd'], { timeoutMs: options.commandTimeoutMs });
    loaded = await nbdModuleLoaded();
    if (!loaded)
      logger.info({ stderr: result.stderr.trim() }, 'attach: modprobe nbd did not load it');
  }
  if (loaded) return new NbdClientAttacher(options);
  if (mode === 'nbd-client') {
    throw new BallastError('CONFIG', 'attachMode nbd-client: the nbd kernel module is not loaded');
  }
  logger.info({}, 'attach: no nbd module; using nbdfuse + loop');
  return new NbdfuseLoopAttacher(options);
}

async function freeNbdDevice(): Promise<string> {
  const names = (await fsp.readdir('/sys/block'))
    .filter((n) => /^nbd\d+$/.test(n))
    .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)));
  for (const name of names) {
    // A connected device has a pid attribute (nbd-client -c reads the same file).
    if (!(await pathExists(`/sys/block/${name}/pid`))) return `/dev/${name}`;
  }
  throw new BallastError(
    'UNAVAILABLE',
    `no free nbd device among ${names.length}; load nbd with a larger nbds_max`,
  );
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    const text = (await fsp.readFile(file, 'utf8')).trim();
    const pid = Number(text);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function tail(file: string, bytes = 2000): Promise<string> {
  try {
    const text = await fsp.readFile(file, 'utf8');
    return text.slice(-bytes).trim();
  } catch (err) {
    return `(no log: ${errorText(err)})`;
  }
}
