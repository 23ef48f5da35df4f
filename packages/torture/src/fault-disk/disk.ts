import { spawnSync } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManagedProcess } from '@ballast/testkit';
import { ControlClient, type FaultDiskServerStats } from './control.js';
import type { FailRange, FaultOps, PowerCutOptions, PowerCutResult } from './faulty-device.js';
import {
  describeResult,
  listLoopDevices,
  mountAt,
  pathExists,
  processesMentioning,
  runChecked,
  runCommand,
  sleep,
  terminate,
  type CommandResult,
} from './system.js';

const SERVE_JS = fileURLToPath(new URL('./serve.js', import.meta.url));
/** ext4 with the agent's options, plus noinit_itable: the device starts zeroed, so the lazy
 * inode-table zeroing thread has nothing to do and would only add background writes. */
const DEFAULT_MOUNT_OPTIONS = 'noatime,errors=remount-ro,noinit_itable';
const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;
const DEFAULT_FSCK_TIMEOUT_MS = 300_000;
/** How long a stopping nbdfuse gets before it is killed (its FUSE connection dies with it). */
const NBDFUSE_EXIT_MS = 5_000;
/** sun_path holds 108 bytes including the terminating zero. */
const MAX_SOCKET_PATH = 107;
/** fill(): fallocate rounds before giving up; each halves the piece or fills it. */
const MAX_FILL_ROUNDS = 256;
const FILLER_NAME = '.fault-disk-filler';
const STATE_FILE = 'fault-disk.json';

export interface FaultDiskOptions {
  /** Working directory: backing file, undo file, sockets, FUSE mount point, logs. */
  dir: string;
  /** Device size, a multiple of 4 KiB (ext4 wants some tens of MiB at least). */
  sizeBytes: number;
  /** Where the ext4 filesystem is mounted (created when missing). */
  mountPoint: string;
  /** ext4 volume label (16 bytes at most). */
  label?: string;
  /** Mount options; the default is `noatime,errors=remount-ro,noinit_itable`. */
  mountOptions?: string;
  /** Bound on every external command except e2fsck (default 60 s). */
  commandTimeoutMs?: number;
  /** Bound on e2fsck (default 300 s). */
  fsckTimeoutMs?: number;
  /**
   * Whether the server fdatasyncs its backing file on FLUSH/FUA (default true: flushes cost
   * what they cost on the host disk). false makes fsync-heavy workloads much faster without
   * changing what a power cut keeps (see FaultyDeviceOptions.hostSync).
   */
  hostSync?: boolean;
}

export interface FsckRun {
  args: string[];
  code: number | null;
  output: string;
}

export interface FsckReport {
  /** `e2fsck -f -p`: replays the journal and fixes what is safe to fix unattended. */
  preen: FsckRun;
  /** `e2fsck -f -y`, run only when the preen pass refused or failed (exit code 4 or more). */
  full?: FsckRun;
  /** The preen pass found nothing to fix (exit 0). */
  clean: boolean;
  /** Errors are left after the last pass (its exit code has bit 4 or more set). */
  uncorrected: boolean;
}

export interface FaultDiskPowerCutResult extends PowerCutResult {
  fsck: FsckReport;
  /** What teardown had to force (a busy filesystem unmounted lazily, a FUSE connection aborted). */
  notes: string[];
}

export interface FillResult {
  fillerPath: string;
  fillerBytes: number;
  /** Free bytes statfs still reports as available (f_bavail) after the fill. */
  freeBytes: number;
}

export interface FaultDiskStats extends FaultDiskServerStats {
  loopDevice: string | undefined;
  mounted: boolean;
}

interface Paths {
  dir: string;
  image: string;
  undo: string;
  nbdSocket: string;
  controlSocket: string;
  fuseDir: string;
  fuseImage: string;
  pidFile: string;
  serverLog: string;
  nbdfuseLog: string;
  state: string;
}

interface SavedState {
  mountPoint: string;
  loopDevice?: string | undefined;
  nbdfusePid?: number | undefined;
  serverPid?: number | undefined;
}

function pathsFor(dir: string): Paths {
  const fuseDir = path.join(dir, 'fuse');
  return {
    dir,
    image: path.join(dir, 'disk.img'),
    undo: path.join(dir, 'disk.img.undo'),
    nbdSocket: path.join(dir, 'nbd.sock'),
    controlSocket: path.join(dir, 'control.sock'),
    fuseDir,
    fuseImage: path.join(fuseDir, 'nbd'),
    pidFile: path.join(dir, 'nbdfuse.pid'),
    serverLog: path.join(dir, 'server.log'),
    nbdfuseLog: path.join(dir, 'nbdfuse.log'),
    state: path.join(dir, STATE_FILE),
  };
}

/** Disks not destroyed yet: undone synchronously if this process exits without destroying them. */
const live = new Set<FaultDisk>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test that times out is SIGTERMed and exits through testkit's hook (which SIGKILLs the
  // server and nbdfuse): without this, its ext4 mount, loop device and FUSE mount would stay.
  process.on('exit', () => {
    for (const disk of live) disk.releaseNow();
  });
}

/** losetup --find races between concurrent callers on some versions: one at a time here. */
let losetupQueue: Promise<unknown> = Promise.resolve();
function serialized<T>(operation: () => Promise<T>): Promise<T> {
  const result = losetupQueue.then(operation, operation);
  losetupQueue = result.catch(() => undefined);
  return result;
}

/**
 * An ext4 filesystem on a FaultyDevice, for a storage node's data directory: the device is
 * served over NBD by serve.js (its own process, under testkit's ManagedProcess), shown as a
 * file by nbdfuse and as a block device by a loop device on that file, the way the agent
 * attaches volumes on hosts without the nbd module.
 */
export class FaultDisk {
  readonly mountPoint: string;
  readonly sizeBytes: number;
  readonly paths: Readonly<Paths>;
  private readonly options: FaultDiskOptions;
  private readonly timeoutMs: number;
  private readonly server: ManagedProcess;
  private readonly control: ControlClient;
  private nbdfuse: ManagedProcess | undefined;
  private loop: string | undefined;
  private mounted = false;
  private destroying: Promise<void> | undefined;
  /** One power cut, fill or teardown at a time. */
  private busy: Promise<unknown> = Promise.resolve();

  private constructor(options: FaultDiskOptions) {
    this.options = options;
    this.mountPoint = path.resolve(options.mountPoint);
    this.sizeBytes = options.sizeBytes;
    this.paths = pathsFor(path.resolve(options.dir));
    this.timeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.server = new ManagedProcess({
      id: 'fault-disk',
      command: process.execPath,
      args: [
        '--enable-source-maps',
        SERVE_JS,
        '--file',
        this.paths.image,
        '--size',
        String(options.sizeBytes),
        '--socket',
        this.paths.nbdSocket,
        '--control',
        this.paths.controlSocket,
        ...(options.hostSync === false ? ['--no-host-sync'] : []),
      ],
      // The server exits by itself when this process is gone (SIGKILLed runner).
      env: { ...process.env, BALLAST_PARENT_PID: String(process.pid) },
      logFile: this.paths.serverLog,
      readyWhen: (_line, json) => (json?.ready === true ? json : undefined),
      readyTimeoutMs: 30_000,
    });
    this.control = new ControlClient(this.paths.controlSocket, this.timeoutMs);
  }

  /**
   * Makes the backing file (sparse) unless it exists, starts the server, attaches it, makes
   * ext4 when the device holds no filesystem yet, and mounts it. Leftovers of an earlier run in
   * `dir` are cleaned up first. On failure everything started is undone.
   */
  static async create(options: FaultDiskOptions): Promise<FaultDisk> {
    const { sizeBytes } = options;
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % 4096 !== 0) {
      throw new Error(`sizeBytes must be a positive multiple of 4096, got ${sizeBytes}`);
    }
    const disk = new FaultDisk(options);
    const { paths } = disk;
    for (const socket of [paths.nbdSocket, paths.controlSocket]) {
      if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
        throw new Error(`${socket} is too long for a unix socket; use a shorter dir`);
      }
    }
    await fsp.mkdir(paths.dir, { recursive: true });
    await fsp.mkdir(disk.mountPoint, { recursive: true });
    await FaultDisk.removeStale(paths.dir, { keepImage: true, timeoutMs: disk.timeoutMs });
    installExitHook();
    live.add(disk);
    try {
      await disk.saveState();
      await disk.server.start();
      await disk.saveState();
      await disk.attach();
      await disk.makeFilesystemIfEmpty();
      await disk.mountFs();
      return disk;
    } catch (err) {
      const log = disk.server.tail(20);
      await disk.destroy();
      throw new Error(
        `fault disk: create failed: ${(err as Error).message}${log ? `\nserver log:\n${log}` : ''}`,
        { cause: err },
      );
    }
  }

  get loopDevice(): string | undefined {
    return this.loop;
  }

  get isMounted(): boolean {
    return this.mounted;
  }

  /**
   * Cuts power: the device drops its unflushed writes (but a seeded `keepFraction` of its 4 KiB
   * blocks) and fails everything; the filesystem, loop device and nbdfuse are torn down (what
   * the kernel still held is lost with them); then power comes back, the device is attached
   * again, checked with e2fsck and mounted. The caller makes sure nothing uses the mount (the
   * storage node was SIGKILLed); a busy filesystem is unmounted lazily and noted.
   */
  powerCut(options: PowerCutOptions = {}): Promise<FaultDiskPowerCutResult> {
    return this.exclusive(async () => {
      this.checkUsable();
      const cut = await this.control.powerCut(options);
      const notes: string[] = [];
      await this.takeDown(notes);
      await this.control.revive();
      await this.attach();
      const fsck = await this.fsck();
      try {
        await this.mountFs();
      } catch (err) {
        throw new Error(
          `fault disk: mount after power cut failed: ${(err as Error).message}; ` +
            `fsck: ${fsck.preen.output}${fsck.full ? `\n${fsck.full.output}` : ''}`,
          { cause: err },
        );
      }
      return { ...cut, fsck, notes };
    });
  }

  /** Requests overlapping a range fail with EIO (reads, writes or both); ranges add up. */
  async failRanges(ranges: FailRange[]): Promise<void> {
    this.checkUsable();
    await this.control.fail({ ranges });
  }

  /** Every read, write or both fail with EIO. */
  async failAll(ops: FaultOps = 'all'): Promise<void> {
    this.checkUsable();
    await this.control.fail({ all: ops });
  }

  async clearFailures(): Promise<void> {
    this.checkUsable();
    await this.control.clear();
  }

  /**
   * Device byte ranges holding a file's data (`filefrag -e`), for failRanges. Flush the file
   * first (fsync), or delayed allocation may not have placed it yet.
   */
  async extentsOf(file: string): Promise<Array<{ startBytes: number; endBytes: number }>> {
    const result = await runChecked('filefrag', ['-e', '-b4096', file], this.timeoutMs);
    const out: Array<{ startBytes: number; endBytes: number }> = [];
    // Rows look like "   0:        0..       3:      34816..     34819:      4:   last,eof".
    for (const line of result.stdout.split('\n')) {
      const match = /^\s*\d+:\s*\d+\.\.\s*\d+:\s*(\d+)\.\.\s*(\d+):/.exec(line);
      // Not placed on the device yet (delayed allocation) or stored in the inode: no range.
      if (match && !/unknown_loc|delalloc|inline/.test(line)) {
        out.push({ startBytes: Number(match[1]) * 4096, endBytes: (Number(match[2]) + 1) * 4096 });
      }
    }
    return out;
  }

  /**
   * Takes (almost) all free space with a preallocated file at the mount's root, so that new
   * writes fail with ENOSPC. mkfs used `-m 0`, so root gets no reserved blocks either.
   */
  fill(): Promise<FillResult> {
    return this.exclusive(async () => {
      this.checkUsable();
      const filler = path.join(this.mountPoint, FILLER_NAME);
      let offset = (await fsp.stat(filler).catch(() => undefined))?.size ?? 0;
      // bavail, not bfree: ext4 keeps a few clusters for metadata that data never gets.
      let stat = await fsp.statfs(this.mountPoint);
      let piece = Math.floor(stat.bavail) * stat.bsize;
      for (let round = 0; round < MAX_FILL_ROUNDS && piece >= stat.bsize; round++) {
        const result = await runCommand(
          'fallocate',
          ['-o', String(offset), '-l', String(piece), filler],
          this.timeoutMs,
        );
        if (result.code === 0) {
          offset += piece;
        } else if (/No space left/i.test(result.stderr)) {
          // Extent-tree blocks come out of the same free space: try a smaller piece.
          piece = Math.floor(piece / 2 / stat.bsize) * stat.bsize;
          continue;
        } else {
          throw new Error(`fault disk: fill: ${describeResult(result)}`);
        }
        stat = await fsp.statfs(this.mountPoint);
        piece = Math.min(piece, Math.floor(stat.bavail) * stat.bsize);
      }
      stat = await fsp.statfs(this.mountPoint);
      return { fillerPath: filler, fillerBytes: offset, freeBytes: stat.bavail * stat.bsize };
    });
  }

  /** Removes the filler file. */
  unfill(): Promise<void> {
    return this.exclusive(async () => {
      this.checkUsable();
      await fsp.rm(path.join(this.mountPoint, FILLER_NAME), { force: true });
    });
  }

  async stats(): Promise<FaultDiskStats> {
    this.checkUsable();
    const server = await this.control.stats();
    return { ...server, loopDevice: this.loop, mounted: this.mounted };
  }

  /**
   * Unmounts, detaches, stops the server and removes the files in `dir` (the mount point stays,
   * empty). Idempotent, bounded, never throws: it also works after a failed power cut or with
   * a dead server.
   */
  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      live.delete(this);
      // A running power cut or fill may hang on a dead stack; do not wait for it for ever.
      await within(
        this.busy.catch(() => undefined),
        this.timeoutMs,
      );
      const notes: string[] = [];
      await this.takeDown(notes).catch(() => undefined);
      await stopProcess(this.server, 5_000).catch(() => undefined);
      // Whatever takeDown missed (a loop it did not know about, a lingering process).
      await FaultDisk.removeStale(this.paths.dir, { timeoutMs: this.timeoutMs }).catch(
        () => undefined,
      );
    })();
    return this.destroying;
  }

  /**
   * Cleans up after a FaultDisk whose process died: unmounts its filesystem (mount point from
   * the state file), detaches loop devices on its FUSE file, unmounts that, stops its nbdfuse
   * and server, and removes its files. Never throws; bounded.
   */
  static async removeStale(
    dir: string,
    options: { keepImage?: boolean; timeoutMs?: number } = {},
  ): Promise<void> {
    const paths = pathsFor(path.resolve(dir));
    const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const state = await readState(paths.state);
    const step = async (what: () => Promise<unknown>): Promise<void> => {
      await what().catch(() => undefined);
    };
    const loops = await listLoopDevices(timeoutMs).catch(() => []);
    const ours = new Set(loops.filter((l) => l.backFile === paths.fuseImage).map((l) => l.name));
    if (state?.mountPoint !== undefined) {
      const mountPoint = state.mountPoint;
      await step(async () => {
        const entry = await mountAt(mountPoint);
        if (entry && (ours.has(entry.source) || entry.source === state.loopDevice)) {
          await unmount(mountPoint, timeoutMs, []);
        }
      });
    }
    for (const loop of ours) await step(() => runCommand('losetup', ['-d', loop], timeoutMs));
    await step(() => unmountFuse(paths.fuseDir, timeoutMs, []));
    // Only processes that name this disk's own paths: its nbdfuse and its server.
    for (const marker of [paths.fuseDir, paths.controlSocket]) {
      await step(async () => {
        for (const pid of await processesMentioning(marker)) await terminate(pid, 2_000);
      });
    }
    const files = [paths.undo, paths.nbdSocket, paths.controlSocket, paths.pidFile, paths.state];
    if (!options.keepImage) files.push(paths.image, paths.serverLog, paths.nbdfuseLog);
    for (const file of files) await step(() => fsp.rm(file, { force: true }));
    await step(async () => {
      if ((await mountAt(paths.fuseDir)) === undefined) await fsp.rmdir(paths.fuseDir);
    });
  }

  /**
   * Last resort at process exit (synchronous, bounded, best effort): lazily unmounts the
   * filesystem, detaches the loop device, lazily unmounts FUSE and kills nbdfuse. Files stay;
   * `removeStale(dir)` removes them.
   */
  releaseNow(): void {
    const run = (command: string, args: string[]): void => {
      try {
        spawnSync(command, args, { stdio: 'ignore', timeout: 5_000 });
      } catch {
        // best effort
      }
    };
    if (this.mounted) run('umount', ['-l', this.mountPoint]);
    if (this.loop !== undefined) run('losetup', ['-d', this.loop]);
    if (this.nbdfuse !== undefined) {
      run('umount', ['-l', this.paths.fuseDir]);
      this.nbdfuse.killNow();
    }
    this.server.killNow();
    live.delete(this);
  }

  // --- internals ---

  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.busy.then(operation, operation);
    this.busy = result.catch(() => undefined);
    return result;
  }

  private checkUsable(): void {
    if (this.destroying !== undefined) throw new Error('fault disk: destroyed');
  }

  private async saveState(): Promise<void> {
    const state: SavedState = {
      mountPoint: this.mountPoint,
      loopDevice: this.loop,
      nbdfusePid: this.nbdfuse?.pid,
      serverPid: this.server.pid,
    };
    const temp = `${this.paths.state}.tmp`;
    await fsp.writeFile(temp, `${JSON.stringify(state)}\n`);
    await fsp.rename(temp, this.paths.state);
  }

  /** nbdfuse on the server's socket, then a loop device on the FUSE file (as the agent does). */
  private async attach(): Promise<void> {
    const { paths } = this;
    await fsp.mkdir(paths.fuseDir, { recursive: true });
    if ((await mountAt(paths.fuseDir)) !== undefined) {
      throw new Error(`${paths.fuseDir} is still mounted`);
    }
    await fsp.rm(paths.pidFile, { force: true });
    const uri = `nbd+unix:///disk?socket=${paths.nbdSocket}`;
    const nbdfuse = new ManagedProcess({
      id: 'nbdfuse',
      command: 'nbdfuse',
      args: ['-P', paths.pidFile, paths.fuseDir, uri],
      logFile: paths.nbdfuseLog,
    });
    this.nbdfuse = nbdfuse;
    await nbdfuse.start();
    await this.saveState();
    const deadline = Date.now() + this.timeoutMs;
    while (!(await pathExists(paths.pidFile))) {
      if (!nbdfuse.running) throw new Error(`nbdfuse exited: ${nbdfuse.tail(10)}`);
      if (Date.now() > deadline) throw new Error(`nbdfuse not ready after ${this.timeoutMs} ms`);
      await sleep(10);
    }
    const size = (await fsp.stat(paths.fuseImage)).size;
    if (size !== this.sizeBytes) {
      throw new Error(`nbdfuse shows ${size} bytes, expected ${this.sizeBytes}`);
    }
    // --direct-io=on: the loop driver reads and writes the FUSE file with O_DIRECT, so no dirty
    // pages pile up in the FUSE file's page cache, and a flush from the filesystem reaches the
    // device as an NBD FLUSH (loop fsyncs the file, FUSE forwards it, nbdfuse sends FLUSH).
    const loop = await serialized(async () => {
      const result = await runChecked(
        'losetup',
        ['--find', '--show', '--direct-io=on', paths.fuseImage],
        this.timeoutMs,
      );
      return result.stdout.trim();
    });
    if (!/^\/dev\/loop\d+$/.test(loop)) throw new Error(`losetup printed ${JSON.stringify(loop)}`);
    this.loop = loop;
    await this.saveState();
  }

  private async makeFilesystemIfEmpty(): Promise<void> {
    const loop = this.loop!;
    const probe = await runCommand('blkid', ['-p', '-o', 'value', '-s', 'TYPE', loop], 30_000);
    if (probe.code === 0) {
      const type = probe.stdout.trim();
      if (type !== 'ext4') throw new Error(`${loop} holds ${type}, not ext4`);
      return;
    }
    if (probe.code !== 2) throw new Error(`blkid -p ${loop}: ${describeResult(probe)}`);
    // -m 0: no blocks reserved for root, so a full disk is full for the (root) storage node
    // too. No discard, lazy init: the device reads zeroes until written.
    const args = ['-q', '-m', '0', '-E', 'nodiscard,lazy_itable_init=1,lazy_journal_init=1'];
    if (this.options.label !== undefined) args.push('-L', this.options.label);
    await runChecked('mkfs.ext4', [...args, loop], this.timeoutMs);
  }

  private async mountFs(): Promise<void> {
    const options = this.options.mountOptions ?? DEFAULT_MOUNT_OPTIONS;
    await runChecked(
      'mount',
      ['-t', 'ext4', '-o', options, this.loop!, this.mountPoint],
      this.timeoutMs,
    );
    this.mounted = true;
  }

  private async fsck(): Promise<FsckReport> {
    const timeoutMs = this.options.fsckTimeoutMs ?? DEFAULT_FSCK_TIMEOUT_MS;
    const run = async (args: string[]): Promise<FsckRun> => {
      const result: CommandResult = await runCommand('e2fsck', args, timeoutMs);
      const output = `${result.stdout}${result.stderr}`.trim().slice(-8_000);
      return { args, code: result.code, output };
    };
    // -f: a full check even when the journal says clean; lost writes are what we look for.
    const preen = await run(['-f', '-p', this.loop!]);
    const failed = (r: FsckRun): boolean => r.code === null || r.code >= 4;
    let full: FsckRun | undefined;
    if (failed(preen)) full = await run(['-f', '-y', this.loop!]);
    return {
      preen,
      ...(full ? { full } : {}),
      clean: preen.code === 0,
      uncorrected: failed(full ?? preen),
    };
  }

  /**
   * Unmounts the filesystem (lazily when busy), detaches the loop device BEFORE the FUSE mount
   * behind it goes (after a lazy FUSE unmount the loop's backing file reads as a bare `/nbd`
   * and can no longer be told apart), then unmounts FUSE and waits for nbdfuse to exit.
   */
  private async takeDown(notes: string[]): Promise<void> {
    const { paths } = this;
    const errors: string[] = [];
    const step = async (what: string, action: () => Promise<unknown>): Promise<void> => {
      try {
        await action();
      } catch (err) {
        errors.push(`${what}: ${(err as Error).message}`);
      }
    };
    await step('unmount', async () => {
      const entry = await mountAt(this.mountPoint);
      if (entry !== undefined && entry.source.startsWith('/dev/loop')) {
        await unmount(this.mountPoint, this.timeoutMs, notes);
      }
      this.mounted = false;
    });
    await step('detach loop', async () => {
      const loops = await listLoopDevices(this.timeoutMs);
      const ours = loops.filter(
        (l) =>
          l.backFile === paths.fuseImage ||
          // Ours for sure (recorded); its file may show as /nbd if FUSE went away lazily.
          (l.name === this.loop && l.backFile.endsWith('/nbd')),
      );
      for (const loop of ours) await runChecked('losetup', ['-d', loop.name], this.timeoutMs);
      this.loop = undefined;
      const left = (await listLoopDevices(this.timeoutMs)).filter((l) =>
        ours.some((o) => o.name === l.name),
      );
      // A filesystem still using the loop keeps it (auto-clear) until it lets go.
      if (left.length > 0) notes.push(`loop ${left.map((l) => l.name).join(', ')} still held`);
    });
    let forced = false;
    await step('unmount fuse', async () => {
      forced = await unmountFuse(paths.fuseDir, this.timeoutMs, notes);
    });
    await step('stop nbdfuse', async () => {
      const nbdfuse = this.nbdfuse;
      this.nbdfuse = undefined;
      if (nbdfuse === undefined || !nbdfuse.running) return;
      // After a clean fusermount3 -u it exits by itself; after an abort it has nothing left to
      // do but may linger, and killing it is then harmless.
      const exited = forced ? undefined : await within(nbdfuse.exited(), NBDFUSE_EXIT_MS);
      if (exited === undefined) {
        if (!forced) notes.push('nbdfuse did not exit after its unmount; killed');
        await stopProcess(nbdfuse, 2_000);
      }
    });
    await step('state', async () => {
      await fsp.rm(paths.pidFile, { force: true });
      await this.saveState();
    });
    if (errors.length > 0) throw new Error(`fault disk: teardown: ${errors.join('; ')}`);
  }
}

/** umount, or lazily when it is busy (noted). */
async function unmount(mountPoint: string, timeoutMs: number, notes: string[]): Promise<void> {
  const plain = await runCommand('umount', [mountPoint], timeoutMs);
  if (plain.code === 0) return;
  notes.push(`umount ${mountPoint}: ${describeResult(plain)}; unmounted lazily`);
  await runChecked('umount', ['-l', mountPoint], timeoutMs);
}

/**
 * Unmounts an nbdfuse mount: fusermount3 -u, which makes nbdfuse exit. When that fails (the
 * FUSE file is still open, or nbdfuse is dead) it is unmounted lazily and its FUSE connection
 * aborted, so that whatever still holds the file gets errors instead of reaching the device.
 * Returns whether it had to force it.
 */
async function unmountFuse(fuseDir: string, timeoutMs: number, notes: string[]): Promise<boolean> {
  const entry = await mountAt(fuseDir);
  if (entry === undefined) return false;
  const result = await runCommand('fusermount3', ['-u', fuseDir], timeoutMs);
  if (result.code === 0) return false;
  notes.push(`fusermount3 -u ${fuseDir}: ${describeResult(result)}; lazy unmount and abort`);
  await runChecked('umount', ['-l', fuseDir], timeoutMs);
  const minor = entry.device.split(':')[1];
  if (entry.fsType.startsWith('fuse') && minor !== undefined && /^\d+$/.test(minor)) {
    await fsp.writeFile(`/sys/fs/fuse/connections/${minor}/abort`, '1').catch(() => undefined);
  }
  return true;
}

/**
 * SIGTERM, then SIGKILL after graceMs. (ManagedProcess.stop does the same but leaves its grace
 * timer running, which would keep a test process alive for that long after it is done.)
 */
async function stopProcess(child: ManagedProcess, graceMs: number): Promise<void> {
  if (!child.running) return;
  try {
    child.signal('SIGTERM');
  } catch {
    return;
  }
  if ((await within(child.exited(), graceMs)) === undefined) await child.kill();
}

/** The promise's value, or undefined once `ms` have passed (the timer never outlives it). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function readState(file: string): Promise<SavedState | undefined> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as SavedState;
  } catch {
    return undefined;
  }
}
