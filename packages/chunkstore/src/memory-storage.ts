import { MemoryLevel } from 'memory-level';
import { BallastError, type Clock } from '@ballast/common';
import type { FileExtent } from './native.js';
import type { DataFile, IndexDb, StoreStorage } from './storage.js';

/** What a data file is asked to do, for a fault policy to decide on. */
export interface StorageOp {
  file: string;
  kind: 'read' | 'write' | 'punch' | 'zero' | 'sync';
  offsetBytes: number;
  lengthBytes: number;
  /** Operations on this storage so far (a stable coordinate for seeded decisions). */
  seq: number;
}

/** EIO: the disk failed the call; ENOSPC: it is full. */
export type StorageFault = 'EIO' | 'ENOSPC' | null;

export interface MemoryStorageOptions {
  location?: string;
  /** Size of the simulated disk: writes that need more blocks fail with ENOSPC. */
  capacityBytes?: number;
  /** Times syncs (default: they complete on the next microtask). */
  clock?: Clock;
  /** Virtual time one sync takes (needs `clock`). */
  syncDelayMs?: () => number;
  /** Decides a fault per operation (default none). */
  fault?: (op: StorageOp) => StorageFault;
}

const SECTOR = 512;
const BLOCK = 4096;

function ioError(code: 'EIO' | 'ENOSPC' | 'ENOENT', what: string): Error {
  const messages = {
    EIO: 'i/o error',
    ENOSPC: 'no space left on device',
    ENOENT: 'no such file or directory',
  };
  return Object.assign(new Error(`${code}: ${messages[code]}, ${what}`), { code });
}

/**
 * A file as the disk holds it (`durable`) and as the page cache shows it (`current`), with the
 * sectors written since their last sync. A power cut keeps any subset of those sectors.
 */
class FileState {
  current: Buffer;
  durable: Buffer;
  sizeBytes: number;
  durableSizeBytes: number;
  /** 4 KiB blocks allocated in the current view and on the disk. */
  allocated = new Set<number>();
  durableAllocated = new Set<number>();
  /** Sectors written since they were last made durable. */
  dirty = new Set<number>();

  constructor(sizeBytes: number) {
    this.current = Buffer.alloc(sizeBytes);
    this.durable = Buffer.alloc(sizeBytes);
    this.sizeBytes = sizeBytes;
    this.durableSizeBytes = sizeBytes;
  }

  resize(sizeBytes: number): void {
    if (sizeBytes > this.current.length) {
      // Geometric growth: a file extended a chunk at a time must not copy itself every time.
      const grown = Buffer.alloc(
        Math.max(sizeBytes, Math.min(2 * this.current.length, sizeBytes + 64 * 1024 * 1024)),
      );
      this.current.copy(grown);
      this.current = grown;
    } else {
      this.current.fill(0, sizeBytes);
      for (const block of [...this.allocated]) {
        if (block * BLOCK >= sizeBytes) this.allocated.delete(block);
      }
    }
    this.sizeBytes = sizeBytes;
  }

  markDirty(start: number, end: number): void {
    for (let s = Math.floor(start / SECTOR); s * SECTOR < end; s++) this.dirty.add(s);
  }
}

/**
 * Storage in memory for simulations and tests: a MemoryLevel index and data files with a page
 * cache. Faults come from the policy (EIO on any call, ENOSPC on writes) and from the disk's
 * size; `powerCut` loses every write not yet synced except a random subset of its sectors (torn
 * writes), and fails every call on the handles open at the moment, as a machine turned off.
 * Index writes survive a power cut (the chunk store syncs every index batch it relies on).
 */
export class MemoryStorage implements StoreStorage {
  readonly location: string;
  private readonly files = new Map<string, FileState>();
  private readonly db: MemoryLevel<string, Buffer>;
  private capacityBytes: number;
  private generation = 0;
  private indexClaimed = false;
  private seq = 0;
  /** Faults injected so far, by kind. */
  readonly injected = { EIO: 0, ENOSPC: 0 };

  constructor(private readonly options: MemoryStorageOptions = {}) {
    this.location = options.location ?? 'memory';
    this.capacityBytes = options.capacityBytes ?? 2 ** 40;
    this.db = new MemoryLevel<string, Buffer>({ keyEncoding: 'utf8', valueEncoding: 'buffer' });
  }

  async openIndex(): Promise<IndexDb> {
    // The database opens itself when made; a store that used it closes it at shutdown.
    if (this.indexClaimed && this.db.status !== 'closed') {
      throw new BallastError(
        'UNAVAILABLE',
        `chunk store ${this.location} is open in another process`,
      );
    }
    this.indexClaimed = true;
    await this.db.open();
    return this.db as unknown as IndexDb;
  }

  fileExists(name: string): boolean {
    return this.files.has(name);
  }

  createFile(name: string, sizeBytes: number): DataFile {
    this.files.set(name, new FileState(sizeBytes));
    return new MemoryDataFile(this, name, this.generation);
  }

  openFile(name: string): DataFile {
    if (!this.files.has(name)) throw ioError('ENOENT', `open ${this.describe(name)}`);
    return new MemoryDataFile(this, name, this.generation);
  }

  removeFile(name: string): Promise<void> {
    this.files.delete(name);
    return Promise.resolve();
  }

  capacity(): { totalBytes: number; availableBytes: number } {
    return {
      totalBytes: this.capacityBytes,
      availableBytes: Math.max(0, this.capacityBytes - this.allocatedBlocks() * BLOCK),
    };
  }

  describe(name: string): string {
    return `${this.location}/replicas/${name}`;
  }

  /**
   * Turns the machine off: each sector written since its last sync reaches the disk with
   * probability one half (`random` decides), the rest is lost; handles open now fail every call.
   * Returns the number of sectors lost.
   */
  powerCut(random: () => number): number {
    this.generation += 1;
    let lost = 0;
    for (const state of this.files.values()) {
      const kept = new Set(state.durableAllocated);
      for (const sector of [...state.dirty].sort((a, b) => a - b)) {
        const start = sector * SECTOR;
        if (start >= state.durableSizeBytes) continue;
        if (random() < 0.5) {
          state.current.copy(state.durable, start, start, start + SECTOR);
          if (state.allocated.has(Math.floor(start / BLOCK))) kept.add(Math.floor(start / BLOCK));
        } else {
          lost += 1;
        }
      }
      state.dirty.clear();
      state.sizeBytes = state.durableSizeBytes;
      state.current = Buffer.alloc(state.durableSizeBytes);
      state.durable.copy(
        state.current,
        0,
        0,
        Math.min(state.durable.length, state.durableSizeBytes),
      );
      state.durable = Buffer.from(state.current);
      state.allocated = kept;
      state.durableAllocated = new Set(kept);
    }
    return lost;
  }

  /** A bigger (or smaller) disk from now on: space freed, or filled by someone else. */
  setCapacity(capacityBytes: number): void {
    this.capacityBytes = capacityBytes;
  }

  /** Bytes of a file as a reader would see them now (for checks). */
  contents(name: string): Buffer {
    const state = this.files.get(name);
    if (state === undefined) throw ioError('ENOENT', name);
    return Buffer.from(state.current.subarray(0, state.sizeBytes));
  }

  // --- used by MemoryDataFile -------------------------------------------------------------

  /** @internal */
  state(name: string, generation: number, what: string): FileState {
    if (generation !== this.generation) throw ioError('EIO', `${what}: the machine lost power`);
    const state = this.files.get(name);
    if (state === undefined) throw ioError('EIO', `${what}: the file was removed`);
    return state;
  }

  /** @internal Throws the fault the policy picks for `op`, if any. */
  decide(op: Omit<StorageOp, 'seq'>): StorageFault {
    const fault = this.options.fault?.({ ...op, seq: this.seq++ }) ?? null;
    if (fault !== null) this.injected[fault] += 1;
    return fault;
  }

  /** @internal Blocks that may still be allocated before the disk is full. */
  freeBlocks(): number {
    return Math.max(0, Math.floor(this.capacityBytes / BLOCK) - this.allocatedBlocks());
  }

  /** @internal */
  syncDelay(): Promise<void> {
    const clock = this.options.clock;
    if (clock === undefined) return Promise.resolve();
    return clock.sleep(this.options.syncDelayMs?.() ?? 0);
  }

  private allocatedBlocks(): number {
    let blocks = 0;
    for (const state of this.files.values()) blocks += state.allocated.size;
    return blocks;
  }
}

class MemoryDataFile implements DataFile {
  private closed = false;

  constructor(
    private readonly storage: MemoryStorage,
    private readonly name: string,
    private readonly generation: number,
  ) {}

  private state(what: string): FileState {
    if (this.closed) throw ioError('EIO', `${what} on a closed file`);
    return this.storage.state(this.name, this.generation, what);
  }

  readFull(buf: Buffer, position: number): void {
    const state = this.state('read');
    const fault = this.storage.decide({
      file: this.name,
      kind: 'read',
      offsetBytes: position,
      lengthBytes: buf.length,
    });
    if (fault !== null) throw ioError('EIO', `read at ${position}`);
    buf.fill(0);
    if (position < state.sizeBytes) {
      state.current.copy(buf, 0, position, Math.min(state.sizeBytes, position + buf.length));
    }
  }

  writeAll(buffers: readonly Buffer[], position: number): void {
    const state = this.state('write');
    let total = 0;
    for (const b of buffers) total += b.length;
    const fault = this.storage.decide({
      file: this.name,
      kind: 'write',
      offsetBytes: position,
      lengthBytes: total,
    });
    // A failing write lands part-way, as a real pwrite interrupted by an error may.
    let writable = fault === null ? total : Math.floor(total / 2 / SECTOR) * SECTOR;
    const newBlocks: number[] = [];
    for (let b = Math.floor(position / BLOCK); b * BLOCK < position + total; b++) {
      if (!state.allocated.has(b)) newBlocks.push(b);
    }
    const free = this.storage.freeBlocks();
    let noSpace = false;
    if (newBlocks.length > free) {
      noSpace = true;
      const firstMissing = newBlocks[free]!;
      writable = Math.min(writable, Math.max(0, firstMissing * BLOCK - position));
    }
    if (position + writable > state.sizeBytes) state.resize(position + writable);
    let at = position;
    let left = writable;
    for (const b of buffers) {
      if (left <= 0) break;
      const n = Math.min(b.length, left);
      b.copy(state.current, at, 0, n);
      at += n;
      left -= n;
    }
    for (let b = Math.floor(position / BLOCK); b * BLOCK < position + writable; b++) {
      state.allocated.add(b);
    }
    state.markDirty(position, position + writable);
    if (noSpace) {
      if (fault === null) this.storage.injected.ENOSPC += 1;
      throw ioError('ENOSPC', `write at ${position}`);
    }
    if (fault !== null) throw ioError(fault, `write at ${position}`);
  }

  punchHole(offsetBytes: number, lengthBytes: number): void {
    this.clear('punch', offsetBytes, lengthBytes, true);
  }

  zeroRange(offsetBytes: number, lengthBytes: number): void {
    this.clear('zero', offsetBytes, lengthBytes, false);
  }

  private clear(
    kind: 'punch' | 'zero',
    offsetBytes: number,
    lengthBytes: number,
    deallocate: boolean,
  ): void {
    const state = this.state(kind);
    const fault = this.storage.decide({ file: this.name, kind, offsetBytes, lengthBytes });
    if (fault !== null) throw ioError(fault, `${kind} at ${offsetBytes}`);
    const end = Math.min(state.sizeBytes, offsetBytes + lengthBytes);
    if (end <= offsetBytes) return;
    state.current.fill(0, offsetBytes, end);
    state.markDirty(offsetBytes, end);
    for (let b = Math.ceil(offsetBytes / BLOCK); (b + 1) * BLOCK <= end; b++) {
      if (deallocate) state.allocated.delete(b);
      else state.allocated.add(b);
    }
  }

  extents(offsetBytes: number, lengthBytes: number, maxExtents: number): FileExtent[] {
    const state = this.state('extents');
    const end = offsetBytes + lengthBytes;
    const extents: FileExtent[] = [];
    let pos = offsetBytes;
    while (pos < end) {
      if (extents.length === maxExtents - 1) {
        extents.push({ offsetBytes: pos, lengthBytes: end - pos, hole: false });
        break;
      }
      const hole = !state.allocated.has(Math.floor(pos / BLOCK));
      let next = (Math.floor(pos / BLOCK) + 1) * BLOCK;
      while (next < end && !state.allocated.has(next / BLOCK) === hole) next += BLOCK;
      next = Math.min(next, end);
      extents.push({ offsetBytes: pos, lengthBytes: next - pos, hole });
      pos = next;
    }
    return extents;
  }

  allocatedBytes(): number {
    return this.state('stat').allocated.size * BLOCK;
  }

  truncate(sizeBytes: number): void {
    this.state('truncate').resize(sizeBytes);
  }

  async sync(metadata: boolean): Promise<void> {
    const state = this.state(metadata ? 'fsync' : 'fdatasync');
    const pending = [...state.dirty];
    await this.storage.syncDelay();
    const after = this.state(metadata ? 'fsync' : 'fdatasync');
    if (after !== state) throw ioError('EIO', 'sync: the file was replaced');
    const fault = this.storage.decide({
      file: this.name,
      kind: 'sync',
      offsetBytes: 0,
      lengthBytes: 0,
    });
    if (fault !== null) {
      // As Linux does after a failed writeback: the pages are marked clean without reaching the
      // disk, so a retried sync reports success for data a power cut would lose.
      for (const sector of pending) state.dirty.delete(sector);
      throw ioError('EIO', 'sync');
    }
    for (const sector of pending) {
      if (!state.dirty.has(sector)) continue;
      const start = sector * SECTOR;
      if (start >= state.sizeBytes) {
        state.dirty.delete(sector);
        continue;
      }
      if (state.durable.length < state.current.length) {
        const grown = Buffer.alloc(state.current.length);
        state.durable.copy(grown);
        state.durable = grown;
      }
      state.current.copy(state.durable, start, start, start + SECTOR);
      state.dirty.delete(sector);
    }
    state.durableSizeBytes = state.sizeBytes;
    state.durableAllocated = new Set(state.allocated);
  }

  close(): void {
    this.closed = true;
  }
}
