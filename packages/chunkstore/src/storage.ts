import {
  closeSync,
  existsSync,
  fdatasync,
  fstatSync,
  fsync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  statfsSync,
  writeSync,
  writevSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AbstractLevel } from 'abstract-level';
import { Level } from 'level';
import { BallastError } from '@ballast/common';
import { fileExtents, punchHole, zeroRange, type FileExtent } from './native.js';

const fdatasyncAsync = promisify(fdatasync);
const fsyncAsync = promisify(fsync);

/** The chunk store's index: an ordered key-value store (LevelDB on disk, memory in simulations). */
export type IndexDb = AbstractLevel<string | Buffer | Uint8Array, string, Buffer>;

/**
 * One replica's data file. Reads and writes are synchronous (the data path runs them on the
 * caller's thread, see Replica); only syncs wait. Errors carry an errno `code` (EIO, ENOSPC).
 */
export interface DataFile {
  /** Fills `buf` from `position`; past the end of the file reads as zeroes. */
  readFull(buf: Buffer, position: number): void;
  /** Writes every byte of `buffers`, in order, from `position` (one pwritev where possible). */
  writeAll(buffers: readonly Buffer[], position: number): void;
  /** Deallocates the range (reads as zeroes, uses no space). */
  punchHole(offsetBytes: number, lengthBytes: number): void;
  /** Makes the range read as zeroes, keeping it allocated. */
  zeroRange(offsetBytes: number, lengthBytes: number): void;
  /** Allocated and unallocated extents of the range (see native.fileExtents). */
  extents(offsetBytes: number, lengthBytes: number, maxExtents: number): FileExtent[];
  /** Bytes the file occupies on its disk (thin usage). */
  allocatedBytes(): number;
  truncate(sizeBytes: number): void;
  /** Makes every write so far durable: fsync with `metadata` (extent changes), else fdatasync. */
  sync(metadata: boolean): Promise<void>;
  close(): void;
}

/**
 * Where a chunk store keeps its data: the index and one data file per replica. `PosixStorage`
 * is a directory on a real file system; `MemoryStorage` (tests, the engine's simulation) keeps
 * everything in memory, injects disk faults and can lose what was not synced, as a power cut.
 */
export interface StoreStorage {
  /** What to call it in messages (the data directory). */
  readonly location: string;
  openIndex(): Promise<IndexDb>;
  fileExists(name: string): boolean;
  /** Creates (or truncates) a file of `sizeBytes`, durably, directory entry included. */
  createFile(name: string, sizeBytes: number): DataFile;
  /** Opens an existing file for reading and writing; throws (ENOENT) when it is missing. */
  openFile(name: string): DataFile;
  /** Removes a file durably; no error when it is missing. */
  removeFile(name: string): Promise<void>;
  /** The disk holding the data: its size and the bytes still free for this process. */
  capacity(): { totalBytes: number; availableBytes: number };
  /** Describes a file for messages (its path). */
  describe(name: string): string;
}

function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err
    ? String((err as { code: unknown }).code)
    : undefined;
}

function dropPrefix(buffers: readonly Buffer[], bytes: number): Buffer[] {
  const rest: Buffer[] = [];
  let skip = bytes;
  for (const b of buffers) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    rest.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return rest;
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A data file on a real file system: pread/pwritev on an open fd. */
class PosixDataFile implements DataFile {
  constructor(private fd: number) {}

  readFull(buf: Buffer, position: number): void {
    let done = 0;
    while (done < buf.length) {
      const n = readSync(this.fd, buf, done, buf.length - done, position + done);
      if (n === 0) {
        buf.fill(0, done);
        return;
      }
      done += n;
    }
  }

  writeAll(buffers: readonly Buffer[], position: number): void {
    let total = 0;
    for (const b of buffers) total += b.length;
    let pending = buffers;
    let done = 0;
    // Every round writes at least one byte or throws, so this ends.
    while (done < total) {
      const n =
        pending.length === 1
          ? writeSync(this.fd, pending[0]!, 0, pending[0]!.length, position + done)
          : writevSync(this.fd, pending as Buffer[], position + done);
      if (n <= 0) throw new Error(`pwrite wrote ${n} bytes at ${position + done}`);
      done += n;
      if (done < total) pending = dropPrefix(pending, n);
    }
  }

  punchHole(offsetBytes: number, lengthBytes: number): void {
    punchHole(this.fd, offsetBytes, lengthBytes);
  }

  zeroRange(offsetBytes: number, lengthBytes: number): void {
    zeroRange(this.fd, offsetBytes, lengthBytes);
  }

  extents(offsetBytes: number, lengthBytes: number, maxExtents: number): FileExtent[] {
    return fileExtents(this.fd, offsetBytes, lengthBytes, maxExtents);
  }

  allocatedBytes(): number {
    return fstatSync(this.fd).blocks * 512;
  }

  truncate(sizeBytes: number): void {
    ftruncateSync(this.fd, sizeBytes);
  }

  sync(metadata: boolean): Promise<void> {
    return metadata ? fsyncAsync(this.fd) : fdatasyncAsync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** A data directory on a real file system: `index/` (LevelDB) and `replicas/<name>`. */
export class PosixStorage implements StoreStorage {
  private readonly filesDir: string;

  constructor(readonly location: string) {
    this.filesDir = join(location, 'replicas');
  }

  async openIndex(): Promise<IndexDb> {
    mkdirSync(this.filesDir, { recursive: true });
    const db = new Level<string, Buffer>(join(this.location, 'index'), {
      keyEncoding: 'utf8',
      valueEncoding: 'buffer',
    });
    try {
      await db.open();
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      if (errnoOf(err) === 'LEVEL_LOCKED' || errnoOf(cause) === 'LEVEL_LOCKED') {
        throw new BallastError(
          'UNAVAILABLE',
          `chunk store ${this.location} is open in another process`,
          {},
          err,
        );
      }
      throw new BallastError(
        'IO',
        `cannot open the chunk store index in ${this.location}`,
        {},
        err,
      );
    }
    return db;
  }

  fileExists(name: string): boolean {
    return existsSync(this.describe(name));
  }

  createFile(name: string, sizeBytes: number): DataFile {
    const fd = openSync(this.describe(name), 'w+');
    try {
      ftruncateSync(fd, sizeBytes);
      fsyncSync(fd);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    fsyncPath(this.filesDir);
    return new PosixDataFile(fd);
  }

  openFile(name: string): DataFile {
    return new PosixDataFile(openSync(this.describe(name), 'r+'));
  }

  async removeFile(name: string): Promise<void> {
    await rm(this.describe(name), { force: true });
    fsyncPath(this.filesDir);
  }

  capacity(): { totalBytes: number; availableBytes: number } {
    const stats = statfsSync(this.location);
    return { totalBytes: stats.blocks * stats.bsize, availableBytes: stats.bavail * stats.bsize };
  }

  describe(name: string): string {
    return join(this.filesDir, name);
  }
}
