import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { BallastError, type BlockDevice } from '@ballast/common';

const fdatasync = promisify(fs.fdatasync);

/** Durability, loss and error granularity: what a 4Kn disk persists atomically. */
export const FAULT_BLOCK_BYTES = 4096;
/** Zeroes are written from one shared buffer of this size (bounded memory per request). */
const ZERO_PIECE_BYTES = 1024 * 1024;
const ZERO_PIECE = Buffer.alloc(ZERO_PIECE_BYTES);
const ZERO_BLOCK = ZERO_PIECE.subarray(0, FAULT_BLOCK_BYTES);
/** Injected error ranges kept at once; more is a caller bug, not a disk model. */
export const MAX_FAIL_RANGES = 1024;

export type FaultOps = 'read' | 'write' | 'all';

export interface FailRange {
  /** Inclusive start, in device bytes. */
  startBytes: number;
  /** Exclusive end, in device bytes. */
  endBytes: number;
  ops: FaultOps;
}

export interface PowerCutOptions {
  /** Share of the unflushed 4 KiB blocks that survive (0 = none, the default; 1 = all). */
  keepFraction?: number;
  /** Seed for choosing the survivors; the same writes and seed keep the same blocks. */
  seed?: number;
}

export interface PowerCutResult {
  /** Unflushed blocks rolled back to their last durable content. */
  droppedBlocks: number;
  /** Unflushed blocks that survived (became durable at the cut). */
  keptBlocks: number;
}

export interface FaultyDeviceStats {
  sizeBytes: number;
  dead: boolean;
  reads: number;
  readBytes: number;
  /** WRITE requests (FUA ones included) and their bytes. */
  writes: number;
  writeBytes: number;
  fuaWrites: number;
  /** TRIM and WRITE_ZEROES requests (they go through the cache like writes). */
  zeroes: number;
  zeroBytes: number;
  flushes: number;
  /** Blocks written since they were last made durable: what a power cut now would put at risk. */
  cachedBlocks: number;
  cachedBytes: number;
  powerCuts: number;
  /** Totals over all power cuts. */
  droppedBlocks: number;
  keptBlocks: number;
  /** Requests failed on purpose, by cause. */
  injectedErrors: { read: number; write: number; flush: number; dead: number };
  failures: FailRange[];
}

export interface FaultyDeviceOptions {
  /** Device size; a multiple of 4 KiB. Required when the file is created. */
  sizeBytes?: number;
  /** Create the data file (sparse) when missing. */
  create?: boolean;
  /** Where pre-images of unflushed blocks go; defaults to `<path>.undo`. */
  undoPath?: string;
  /**
   * fdatasync the data file on FLUSH, FUA and power cut (default true), which gives flushes
   * a real disk's cost. Off, they cost nothing: what a simulated power cut keeps does not
   * change, only durability against a crash of the host itself is lost.
   */
  hostSync?: boolean;
}

/**
 * A file-backed disk with a volatile write cache that can lose power and fail I/O on command.
 *
 * The cache is kept as an undo log rather than as data in memory: a write goes straight to the
 * data file, but the first write to a block after it was last made durable first saves that
 * block's durable content (its pre-image) to a sparse undo file at the same offset (an all-zero
 * pre-image is only noted, not written). FLUSH fdatasyncs the data file and forgets the
 * pre-images; a FUA write does the same for its own blocks. A power cut puts the pre-images of
 * the blocks that do not survive back into the data file. To a reader this is the same as a
 * write-back cache over the file with reads seeing the cache, but memory stays bounded (one map
 * entry per cached block) and writes never stall waiting for a flush that the kernel might only
 * send after those very writes complete.
 *
 * Simplifications (see the README): loss is per 4 KiB block, and a block that survives a cut
 * has its newest content (never an intermediate version); a write that lands while a FLUSH is
 * running may become durable with it; a failed request changes nothing.
 */
export class FaultyDevice implements BlockDevice {
  readonly sizeBytes: number;
  readonly path: string;
  readonly undoPath: string;
  private fd: number;
  private undoFd: number;
  private readonly hostSync: boolean;
  /** Cached (unflushed) blocks: true when the pre-image is in the undo file, false when zero. */
  private readonly cached = new Map<number, boolean>();
  private failures: FailRange[] = [];
  private dead = false;
  /** Bumped by every power cut, so a flush or FUA write that spans one does not report success. */
  private powerEpoch = 0;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly counters = {
    reads: 0,
    readBytes: 0,
    writes: 0,
    writeBytes: 0,
    fuaWrites: 0,
    zeroes: 0,
    zeroBytes: 0,
    flushes: 0,
    powerCuts: 0,
    droppedBlocks: 0,
    keptBlocks: 0,
  };
  private readonly injected = { read: 0, write: 0, flush: 0, dead: 0 };

  private constructor(
    path: string,
    undoPath: string,
    fd: number,
    undoFd: number,
    size: number,
    hostSync: boolean,
  ) {
    this.path = path;
    this.hostSync = hostSync;
    this.undoPath = undoPath;
    this.fd = fd;
    this.undoFd = undoFd;
    this.sizeBytes = size;
  }

  static open(path: string, options: FaultyDeviceOptions = {}): FaultyDevice {
    const wanted = options.sizeBytes;
    if (
      wanted !== undefined &&
      (!Number.isSafeInteger(wanted) || wanted <= 0 || wanted % FAULT_BLOCK_BYTES !== 0)
    ) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `sizeBytes must be a positive multiple of ${FAULT_BLOCK_BYTES}, got ${wanted}`,
      );
    }
    if (options.create && wanted === undefined) {
      throw new BallastError('INVALID_ARGUMENT', 'create needs sizeBytes');
    }
    const flags = fs.constants.O_RDWR | (options.create ? fs.constants.O_CREAT : 0);
    const fd = fs.openSync(path, flags, 0o600);
    let undoFd = -1;
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile()) throw new BallastError('INVALID_ARGUMENT', `${path} is not a file`);
      const size = wanted ?? stat.size;
      if (size < stat.size) {
        throw new BallastError('INVALID_ARGUMENT', `${path} is larger than ${size} bytes`);
      }
      if (size % FAULT_BLOCK_BYTES !== 0 || size === 0) {
        throw new BallastError('INVALID_ARGUMENT', `${path}: size ${size} is not whole 4 KiB`);
      }
      if (size > stat.size) fs.ftruncateSync(fd, size);
      const undoPath = options.undoPath ?? `${path}.undo`;
      // A leftover undo file belongs to a previous process whose cache state is gone: start empty.
      undoFd = fs.openSync(undoPath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
      fs.ftruncateSync(undoFd, 0);
      return new FaultyDevice(path, undoPath, fd, undoFd, size, options.hostSync ?? true);
    } catch (err) {
      fs.closeSync(fd);
      if (undoFd >= 0) fs.closeSync(undoFd);
      throw err;
    }
  }

  get isDead(): boolean {
    return this.dead;
  }

  async readAt(offset: number, length: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(length);
    this.readFully(offset, length, out, 0);
    return out;
  }

  /** The NBD server's fast path: read straight into the reply buffer. */
  async readInto(
    offset: number,
    length: number,
    target: Buffer,
    targetOffset: number,
  ): Promise<void> {
    this.readFully(offset, length, target, targetOffset);
  }

  async writeAt(offset: number, data: Buffer, fua?: boolean): Promise<void> {
    this.checkWrite(offset, data.length);
    this.counters.writes++;
    this.counters.writeBytes += data.length;
    if (fua) this.counters.fuaWrites++;
    this.saveBlocks(offset, data.length);
    writeFully(this.fd, data, offset);
    if (fua) await this.makeDurable(offset, data.length);
  }

  async trim(offset: number, length: number, fua?: boolean): Promise<void> {
    await this.zeroRange(offset, length, fua ?? false);
  }

  async writeZeroes(
    offset: number,
    length: number,
    opts?: { noHole?: boolean; fua?: boolean },
  ): Promise<void> {
    await this.zeroRange(offset, length, opts?.fua ?? false);
  }

  async flush(): Promise<void> {
    this.checkAlive();
    this.counters.flushes++;
    const blocks = [...this.cached.keys()];
    // A disk that cannot write its cached blocks out cannot complete the flush.
    for (const block of this.failures.length > 0 ? blocks : []) {
      const start = block * FAULT_BLOCK_BYTES;
      if (this.failing('write', start, FAULT_BLOCK_BYTES)) {
        this.injected.flush++;
        throw ioError(`injected write error on cached block at ${start} during FLUSH`);
      }
    }
    const epoch = this.powerEpoch;
    await this.sync();
    if (epoch !== this.powerEpoch) {
      this.injected.dead++;
      throw ioError('power was cut during the FLUSH');
    }
    for (const block of blocks) this.cached.delete(block);
    this.trimUndo();
  }

  /**
   * Cuts power: unflushed blocks go back to their durable content, except a seeded random
   * `keepFraction` of them, and every request fails with EIO until `revive()`.
   */
  powerCut(options: PowerCutOptions = {}): PowerCutResult {
    this.checkOpen();
    const keepFraction = options.keepFraction ?? 0;
    if (!(keepFraction >= 0 && keepFraction <= 1)) {
      throw new BallastError('INVALID_ARGUMENT', `keepFraction must be in [0, 1]`);
    }
    const random = splitmix32(options.seed ?? 0);
    // Sorted, so that the same writes and seed always pick the same survivors.
    const blocks = [...this.cached.keys()].sort((a, b) => a - b);
    let dropped = 0;
    let kept = 0;
    const scratch = Buffer.allocUnsafe(FAULT_BLOCK_BYTES);
    for (const block of blocks) {
      // Always draw, so the choice for one block does not depend on keepFraction elsewhere.
      const keep = random() < keepFraction;
      if (keep) {
        kept++;
        continue;
      }
      dropped++;
      const at = block * FAULT_BLOCK_BYTES;
      if (this.cached.get(block)) {
        readFully(this.undoFd, scratch, at);
        writeFully(this.fd, scratch, at);
      } else {
        writeFully(this.fd, ZERO_BLOCK, at);
      }
    }
    this.cached.clear();
    // The rolled-back state is what the disk holds from now on, also for the host.
    if (this.hostSync) fs.fdatasyncSync(this.fd);
    this.trimUndo();
    this.dead = true;
    this.powerEpoch++;
    this.counters.powerCuts++;
    this.counters.droppedBlocks += dropped;
    this.counters.keptBlocks += kept;
    return { droppedBlocks: dropped, keptBlocks: kept };
  }

  /** Power back on: requests are served again (injected failure ranges stay). */
  revive(): void {
    this.dead = false;
  }

  /** Adds failure ranges: requests overlapping one fail with EIO (for its ops). */
  failRanges(ranges: readonly FailRange[]): void {
    for (const range of ranges) {
      const { startBytes, endBytes, ops } = range;
      if (
        !Number.isSafeInteger(startBytes) ||
        !Number.isSafeInteger(endBytes) ||
        startBytes < 0 ||
        endBytes <= startBytes ||
        !['read', 'write', 'all'].includes(ops)
      ) {
        throw new BallastError(
          'INVALID_ARGUMENT',
          `bad failure range ${JSON.stringify(range)}: want 0 <= startBytes < endBytes, ops read|write|all`,
        );
      }
    }
    if (this.failures.length + ranges.length > MAX_FAIL_RANGES) {
      throw new BallastError('INVALID_ARGUMENT', `at most ${MAX_FAIL_RANGES} failure ranges`);
    }
    this.failures = [
      ...this.failures,
      ...ranges.map((r) => ({ startBytes: r.startBytes, endBytes: r.endBytes, ops: r.ops })),
    ];
  }

  /** Every request of these ops fails with EIO. */
  failAll(ops: FaultOps = 'all'): void {
    this.failRanges([{ startBytes: 0, endBytes: this.sizeBytes, ops }]);
  }

  clearFailures(): void {
    this.failures = [];
  }

  stats(): FaultyDeviceStats {
    return {
      sizeBytes: this.sizeBytes,
      dead: this.dead,
      ...this.counters,
      cachedBlocks: this.cached.size,
      cachedBytes: this.cached.size * FAULT_BLOCK_BYTES,
      injectedErrors: { ...this.injected },
      failures: this.failures.map((f) => ({ ...f })),
    };
  }

  /** Closes the files. Cached blocks stay as written: closing is not a power cut. */
  async close(): Promise<void> {
    if (this.fd < 0) return;
    const fd = this.fd;
    const undoFd = this.undoFd;
    this.fd = -1;
    this.undoFd = -1;
    await Promise.allSettled([...this.pending]);
    fs.closeSync(fd);
    fs.closeSync(undoFd);
  }

  private async zeroRange(offset: number, length: number, fua: boolean): Promise<void> {
    this.checkWrite(offset, length);
    this.counters.zeroes++;
    this.counters.zeroBytes += length;
    this.saveBlocks(offset, length);
    // Zeroes are written, never punched: Node has no fallocate, and the cost is only disk space.
    for (let done = 0; done < length;) {
      const count = Math.min(ZERO_PIECE_BYTES, length - done);
      writeFully(this.fd, ZERO_PIECE.subarray(0, count), offset + done);
      done += count;
    }
    if (fua) await this.makeDurable(offset, length);
  }

  /** Saves the durable content of every block of the range that is not cached yet. */
  private saveBlocks(offset: number, length: number): void {
    if (length === 0) return;
    const first = Math.floor(offset / FAULT_BLOCK_BYTES);
    const end = Math.ceil((offset + length) / FAULT_BLOCK_BYTES);
    // Runs of not-yet-cached blocks, read and saved a bounded piece at a time.
    const maxRunBlocks = ZERO_PIECE_BYTES / FAULT_BLOCK_BYTES;
    let block = first;
    while (block < end) {
      if (this.cached.has(block)) {
        block++;
        continue;
      }
      let runEnd = block + 1;
      while (runEnd < end && runEnd - block < maxRunBlocks && !this.cached.has(runEnd)) runEnd++;
      const run = Buffer.allocUnsafe((runEnd - block) * FAULT_BLOCK_BYTES);
      readFully(this.fd, run, block * FAULT_BLOCK_BYTES);
      // Consecutive non-zero pre-images are saved with one write.
      let saveFrom = -1;
      for (let b = block; b <= runEnd; b++) {
        const at = (b - block) * FAULT_BLOCK_BYTES;
        const nonZero = b < runEnd && !run.subarray(at, at + FAULT_BLOCK_BYTES).equals(ZERO_BLOCK);
        if (nonZero && saveFrom < 0) saveFrom = b;
        if (!nonZero && saveFrom >= 0) {
          writeFully(
            this.undoFd,
            run.subarray((saveFrom - block) * FAULT_BLOCK_BYTES, at),
            saveFrom * FAULT_BLOCK_BYTES,
          );
          saveFrom = -1;
        }
        if (b < runEnd) this.cached.set(b, nonZero);
      }
      block = runEnd;
    }
  }

  /** FUA: the blocks of this range are durable once the data file is synced. */
  private async makeDurable(offset: number, length: number): Promise<void> {
    const epoch = this.powerEpoch;
    await this.sync();
    if (epoch !== this.powerEpoch) {
      this.injected.dead++;
      throw ioError('power was cut during a FUA write');
    }
    const first = Math.floor(offset / FAULT_BLOCK_BYTES);
    const end = Math.ceil((offset + length) / FAULT_BLOCK_BYTES);
    for (let block = first; block < end; block++) this.cached.delete(block);
    this.trimUndo();
  }

  /** Frees the undo file's space once nothing is cached. */
  private trimUndo(): void {
    if (this.cached.size === 0 && this.undoFd >= 0) fs.ftruncateSync(this.undoFd, 0);
  }

  private async sync(): Promise<void> {
    this.checkOpen();
    if (!this.hostSync) return;
    const operation = fdatasync(this.fd);
    this.pending.add(operation);
    const forget = (): void => {
      this.pending.delete(operation);
    };
    operation.then(forget, forget);
    return operation;
  }

  private readFully(offset: number, length: number, target: Buffer, targetOffset: number): void {
    this.checkAlive();
    this.checkRange(offset, length);
    if (this.failing('read', offset, length)) {
      this.injected.read++;
      throw ioError(`injected read error at ${offset}+${length}`);
    }
    this.counters.reads++;
    this.counters.readBytes += length;
    readFully(this.fd, target.subarray(targetOffset, targetOffset + length), offset);
  }

  private checkWrite(offset: number, length: number): void {
    this.checkAlive();
    this.checkRange(offset, length);
    if (this.failing('write', offset, length)) {
      this.injected.write++;
      throw ioError(`injected write error at ${offset}+${length}`);
    }
  }

  private failing(op: 'read' | 'write', offset: number, length: number): boolean {
    const end = offset + Math.max(length, 1);
    for (const f of this.failures) {
      if ((f.ops === op || f.ops === 'all') && offset < f.endBytes && f.startBytes < end) {
        return true;
      }
    }
    return false;
  }

  private checkAlive(): void {
    this.checkOpen();
    if (this.dead) {
      this.injected.dead++;
      throw ioError('the disk has no power');
    }
  }

  private checkRange(offset: number, length: number): void {
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset + length > this.sizeBytes
    ) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `range ${offset}+${length} is outside the device (${this.sizeBytes} bytes)`,
      );
    }
  }

  private checkOpen(): void {
    if (this.fd < 0) throw new BallastError('UNAVAILABLE', `${this.path} is closed`);
  }
}

/** An error the NBD server answers with NBD_EIO (nbdErrorFor maps BallastError IO to EIO). */
function ioError(message: string): BallastError {
  return new BallastError('IO', message);
}

function writeFully(fd: number, data: Buffer, position: number): void {
  let done = 0;
  while (done < data.length) {
    done += fs.writeSync(fd, data, done, data.length - done, position + done);
  }
}

function readFully(fd: number, target: Buffer, position: number): void {
  let done = 0;
  while (done < target.length) {
    const count = fs.readSync(fd, target, done, target.length - done, position + done);
    if (count === 0) {
      // Past the end of a (sparse or truncated) file: zeroes.
      target.fill(0, done);
      return;
    }
    done += count;
  }
}

/** A small seeded PRNG (splitmix32): uniform in [0, 1), the same sequence for the same seed. */
export function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 0x100000000;
  };
}
