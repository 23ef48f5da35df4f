import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { BallastError, type BlockDevice } from '@ballast/common';
import type { BlockDeviceFastPaths } from './device-extensions.js';

const fdatasync = promisify(fs.fdatasync);
const writeAsync = promisify(fs.write);

/** Zeroes are written from one shared buffer of this size. */
const ZERO_PIECE_BYTES = 1024 * 1024;
/** Ranges up to this size are zeroed synchronously; longer ones go through the threadpool so
 * that a whole-device discard does not stall every other connection on the event loop. */
const SYNC_ZERO_LIMIT_BYTES = 4 * 1024 * 1024;
const ZEROES = Buffer.alloc(ZERO_PIECE_BYTES);

export interface FileBlockDeviceOptions {
  /** Export size. Defaults to the file's size; a larger value extends the file (sparsely). */
  sizeBytes?: number;
  /** Create the file when it does not exist (then `sizeBytes` is required). */
  create?: boolean;
  readOnly?: boolean;
}

/**
 * A plain file as a block device. Reads and writes are synchronous pread/pwrite on the event
 * loop: on this path the threadpool hand-off costs more than the copy into the page cache (see
 * the data-path measurements), at the price of stalling the loop on a page-cache miss. FLUSH and
 * FUA use fdatasync through the threadpool, so a slow disk sync does not stall the loop.
 *
 * TRIM and WRITE_ZEROES write zeroes, except that a range reaching the end of the file (and not
 * marked NO_HOLE) is punched by truncating the file and extending it again, which leaves a hole.
 * Punching holes elsewhere needs fallocate(2), which Node does not expose without a native addon.
 */
export class FileBlockDevice implements BlockDevice, BlockDeviceFastPaths {
  readonly sizeBytes: number;
  readonly readOnly: boolean;
  readonly path: string;
  readonly fastZero = false;
  private fd: number;
  /** Threadpool operations still using the fd; close() waits for them so the fd number is not
   * reused by another open while a sync or zero write is still queued against it. */
  private readonly pending = new Set<Promise<unknown>>();

  private constructor(path: string, fd: number, sizeBytes: number, readOnly: boolean) {
    this.path = path;
    this.fd = fd;
    this.sizeBytes = sizeBytes;
    this.readOnly = readOnly;
  }

  static async open(path: string, options: FileBlockDeviceOptions = {}): Promise<FileBlockDevice> {
    const readOnly = options.readOnly ?? false;
    const wanted = options.sizeBytes;
    if (wanted !== undefined && (!Number.isSafeInteger(wanted) || wanted < 0)) {
      throw new BallastError('INVALID_ARGUMENT', `sizeBytes must be a whole number, got ${wanted}`);
    }
    let flags = readOnly ? fs.constants.O_RDONLY : fs.constants.O_RDWR;
    if (options.create) {
      if (readOnly || wanted === undefined) {
        throw new BallastError('INVALID_ARGUMENT', 'create needs sizeBytes and a writable device');
      }
      flags |= fs.constants.O_CREAT;
    }
    let fd: number;
    try {
      fd = fs.openSync(path, flags, 0o600);
    } catch (err) {
      throw new BallastError('IO', `cannot open ${path}: ${(err as Error).message}`, { path }, err);
    }
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile())
        throw new BallastError('INVALID_ARGUMENT', `${path} is not a regular file`);
      const sizeBytes = wanted ?? stat.size;
      if (sizeBytes < stat.size) {
        throw new BallastError(
          'INVALID_ARGUMENT',
          `${path} holds ${stat.size} bytes, more than the requested size ${sizeBytes}`,
        );
      }
      if (sizeBytes > stat.size) {
        if (readOnly) {
          throw new BallastError('INVALID_ARGUMENT', `${path} is smaller than ${sizeBytes} bytes`);
        }
        fs.ftruncateSync(fd, sizeBytes);
      }
      return new FileBlockDevice(path, fd, sizeBytes, readOnly);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  async readAt(offset: number, length: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(length);
    this.readFully(offset, length, out, 0);
    return out;
  }

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
    let done = 0;
    while (done < data.length) {
      done += fs.writeSync(this.fd, data, done, data.length - done, offset + done);
    }
    if (fua) await this.sync();
  }

  /** A large payload as received (see `BlockDeviceFastPaths.writeParts`): one pwritev, no join. */
  async writeParts(offset: number, parts: readonly Buffer[], fua?: boolean): Promise<void> {
    let total = 0;
    for (const part of parts) total += part.length;
    this.checkWrite(offset, total);
    const pending: Buffer[] = [...parts];
    let done = 0;
    // Every round writes at least one byte (or throws), so this ends.
    while (done < total) {
      const n = fs.writevSync(this.fd, pending, offset + done);
      done += n;
      let skip = n;
      while (pending.length > 0 && skip >= pending[0]!.length) skip -= pending.shift()!.length;
      if (skip > 0) pending[0] = pending[0]!.subarray(skip);
    }
    if (fua) await this.sync();
  }

  async trim(offset: number, length: number, fua?: boolean): Promise<void> {
    await this.zeroRange(offset, length, true);
    if (fua) await this.sync();
  }

  async writeZeroes(
    offset: number,
    length: number,
    opts?: { noHole?: boolean; fua?: boolean },
  ): Promise<void> {
    await this.zeroRange(offset, length, !opts?.noHole);
    if (opts?.fua) await this.sync();
  }

  async flush(): Promise<void> {
    await this.sync();
  }

  async close(): Promise<void> {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    await Promise.allSettled([...this.pending]);
    fs.closeSync(fd);
  }

  private sync(): Promise<void> {
    this.checkOpen();
    return this.track(fdatasync(this.fd));
  }

  private track<T>(operation: Promise<T>): Promise<T> {
    this.pending.add(operation);
    const forget = (): void => {
      this.pending.delete(operation);
    };
    operation.then(forget, forget);
    return operation;
  }

  private readFully(offset: number, length: number, target: Buffer, targetOffset: number): void {
    this.checkOpen();
    this.checkRange(offset, length);
    let done = 0;
    while (done < length) {
      const count = fs.readSync(this.fd, target, targetOffset + done, length - done, offset + done);
      if (count === 0) {
        // The file was truncated behind our back: past its end it reads as zeroes.
        target.fill(0, targetOffset + done, targetOffset + length);
        return;
      }
      done += count;
    }
  }

  private async zeroRange(offset: number, length: number, allowHole: boolean): Promise<void> {
    this.checkWrite(offset, length);
    if (length === 0) return;
    if (allowHole && offset + length === this.sizeBytes) {
      fs.ftruncateSync(this.fd, offset);
      fs.ftruncateSync(this.fd, this.sizeBytes);
      return;
    }
    let done = 0;
    while (done < length) {
      const count = Math.min(ZERO_PIECE_BYTES, length - done);
      if (length <= SYNC_ZERO_LIMIT_BYTES) {
        done += fs.writeSync(this.fd, ZEROES, 0, count, offset + done);
      } else {
        this.checkOpen();
        const { bytesWritten } = await this.track(
          writeAsync(this.fd, ZEROES, 0, count, offset + done),
        );
        done += bytesWritten;
      }
    }
  }

  private checkWrite(offset: number, length: number): void {
    this.checkOpen();
    if (this.readOnly) throw new BallastError('FORBIDDEN', `${this.path} is open read-only`);
    this.checkRange(offset, length);
  }

  private checkRange(offset: number, length: number): void {
    if (offset < 0 || length < 0 || offset + length > this.sizeBytes) {
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
