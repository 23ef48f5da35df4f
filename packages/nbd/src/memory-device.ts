import { BallastError, assert, type BlockDevice } from '@ballast/common';
import type { BlockDeviceFastPaths } from './device-extensions.js';

const DEFAULT_PAGE_BYTES = 64 * 1024;

export interface MemoryBlockDeviceOptions {
  /** Allocation granularity; a power of two. Unwritten pages read as zeroes and report holes. */
  pageBytes?: number;
}

/**
 * A sparse in-memory device: pages are allocated on first write and dropped by TRIM and by
 * WRITE_ZEROES without NO_HOLE, so `extents()` reports real holes. Meant for tests and as the
 * reference behaviour other devices are compared with.
 */
export class MemoryBlockDevice implements BlockDevice, BlockDeviceFastPaths {
  readonly sizeBytes: number;
  readonly fastZero = true;
  readonly pageBytes: number;
  private readonly pages = new Map<number, Buffer>();
  private closed = false;

  constructor(sizeBytes: number, options: MemoryBlockDeviceOptions = {}) {
    const pageBytes = options.pageBytes ?? DEFAULT_PAGE_BYTES;
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `sizeBytes must be a whole number, got ${sizeBytes}`,
      );
    }
    if (
      !Number.isSafeInteger(pageBytes) ||
      pageBytes < 512 ||
      (pageBytes & (pageBytes - 1)) !== 0
    ) {
      throw new BallastError('INVALID_ARGUMENT', `pageBytes must be a power of two >= 512`);
    }
    this.sizeBytes = sizeBytes;
    this.pageBytes = pageBytes;
  }

  /** Bytes of memory held by allocated pages. */
  get allocatedBytes(): number {
    return this.pages.size * this.pageBytes;
  }

  async readAt(offset: number, length: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(length);
    this.copyOut(offset, length, out, 0);
    return out;
  }

  async readInto(
    offset: number,
    length: number,
    target: Buffer,
    targetOffset: number,
  ): Promise<void> {
    assert(targetOffset + length <= target.length, 'readInto target too small');
    this.copyOut(offset, length, target, targetOffset);
  }

  async writeAt(offset: number, data: Buffer): Promise<void> {
    this.check(offset, data.length);
    let done = 0;
    while (done < data.length) {
      const position = offset + done;
      const index = Math.floor(position / this.pageBytes);
      const inPage = position - index * this.pageBytes;
      const count = Math.min(this.pageBytes - inPage, data.length - done);
      let page = this.pages.get(index);
      if (page === undefined) {
        page = Buffer.alloc(this.pageBytes);
        this.pages.set(index, page);
      }
      data.copy(page, inPage, done, done + count);
      done += count;
    }
  }

  async trim(offset: number, length: number): Promise<void> {
    this.zero(offset, length, true);
  }

  async writeZeroes(offset: number, length: number, opts?: { noHole?: boolean }): Promise<void> {
    this.zero(offset, length, !opts?.noHole);
  }

  async flush(): Promise<void> {
    this.check(0, 0);
  }

  async extents(
    offset: number,
    length: number,
  ): Promise<Array<{ length: number; hole: boolean; zero: boolean }>> {
    this.check(offset, length);
    const out: Array<{ length: number; hole: boolean; zero: boolean }> = [];
    let position = offset;
    const end = offset + length;
    while (position < end) {
      const index = Math.floor(position / this.pageBytes);
      const pageEnd = Math.min((index + 1) * this.pageBytes, end);
      const hole = !this.pages.has(index);
      const last = out[out.length - 1];
      if (last !== undefined && last.hole === hole) last.length += pageEnd - position;
      else out.push({ length: pageEnd - position, hole, zero: hole });
      position = pageEnd;
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pages.clear();
  }

  private copyOut(offset: number, length: number, target: Buffer, targetOffset: number): void {
    this.check(offset, length);
    let done = 0;
    while (done < length) {
      const position = offset + done;
      const index = Math.floor(position / this.pageBytes);
      const inPage = position - index * this.pageBytes;
      const count = Math.min(this.pageBytes - inPage, length - done);
      const page = this.pages.get(index);
      if (page === undefined) target.fill(0, targetOffset + done, targetOffset + done + count);
      else page.copy(target, targetOffset + done, inPage, inPage + count);
      done += count;
    }
  }

  /** Zeroes a range; whole pages are dropped (punched) when holes are allowed. */
  private zero(offset: number, length: number, allowHoles: boolean): void {
    this.check(offset, length);
    let position = offset;
    const end = offset + length;
    while (position < end) {
      const index = Math.floor(position / this.pageBytes);
      const pageStart = index * this.pageBytes;
      const inPage = position - pageStart;
      const count = Math.min(this.pageBytes - inPage, end - position);
      const page = this.pages.get(index);
      if (allowHoles && count === this.pageBytes) {
        this.pages.delete(index);
      } else if (page !== undefined) {
        page.fill(0, inPage, inPage + count);
      } else if (!allowHoles) {
        this.pages.set(index, Buffer.alloc(this.pageBytes));
      }
      position += count;
    }
  }

  private check(offset: number, length: number): void {
    if (this.closed) throw new BallastError('UNAVAILABLE', 'memory device is closed');
    if (offset < 0 || length < 0 || offset + length > this.sizeBytes) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `range ${offset}+${length} is outside the device (${this.sizeBytes} bytes)`,
      );
    }
  }
}
