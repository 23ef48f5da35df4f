import { setTimeout as sleep } from 'node:timers/promises';
import { BallastError, compareFence, fenceRefusal, type Fence } from '@ballast/common';
import type { ChunkMapResult, OpenSessionArgs, OpenedSession, ReplicaStore } from './store.js';
import type { ChunkCopy, TrimOptions } from './types.js';

const BLOCK_SIZE_BYTES = 4096;
/** Bound on mutations waiting in one volume's queue (as the chunk store bounds its own). */
const MAX_QUEUED_MUTATIONS = 4096;

export interface MemoryStoreOptions {
  /**
   * Asked once per mutation: a number of milliseconds makes that mutation wait (as a chunk-store
   * write waits for its dirty mark); undefined applies it at once when nothing is queued ahead.
   */
  mutationDelayMs?: (volumeId: string) => number | undefined;
  /** Largest request the volumes accept (the chunk store's limit). */
  maxIoBytes?: number;
}

interface QueuedMutation {
  delayMs: number;
  apply: () => void;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** One in-memory replica. Chunks are allocated when first written (thin, like the real one). */
export class MemoryVolume {
  readonly volumeId: string;
  readonly sizeBytes: number;
  readonly chunkSizeBytes: number;
  highestFence: Fence = { epoch: 0, incarnation: 0 };
  readonly chunks = new Map<number, Buffer>();
  readonly generations = new Map<number, number>();
  readonly dirty = new Set<number>();
  /** Chunks a test declares unclean (as a crashed or failed store would); cleared by writeChunk. */
  readonly unclean = new Set<number>();
  readonly queue: QueuedMutation[] = [];
  queueRunning = false;
  idleWaiters: Array<() => void> = [];
  flushes = 0;
  /** Snapshots: a copy of every chunk as it was (memory is cheap in tests). */
  readonly snapshots = new Map<number, { chunks: Map<number, Buffer>; sizeBytes: number }>();
  appliedMutations = 0;
  delayedMutations = 0;

  constructor(volumeId: string, sizeBytes: number, chunkSizeBytes: number) {
    this.volumeId = volumeId;
    this.sizeBytes = sizeBytes;
    this.chunkSizeBytes = chunkSizeBytes;
  }

  /** Bytes as the replica holds them now (for test assertions). */
  peek(offsetBytes: number, lengthBytes: number): Buffer {
    const out = Buffer.alloc(lengthBytes);
    let pos = offsetBytes;
    while (pos < offsetBytes + lengthBytes) {
      const index = Math.floor(pos / this.chunkSizeBytes);
      const inChunk = pos - index * this.chunkSizeBytes;
      const n = Math.min(this.chunkSizeBytes - inChunk, offsetBytes + lengthBytes - pos);
      this.chunks.get(index)?.copy(out, pos - offsetBytes, inChunk, inChunk + n);
      pos += n;
    }
    return out;
  }

  poke(offsetBytes: number, data: Buffer): void {
    let done = 0;
    while (done < data.length) {
      const pos = offsetBytes + done;
      const index = Math.floor(pos / this.chunkSizeBytes);
      const inChunk = pos - index * this.chunkSizeBytes;
      const n = Math.min(this.chunkSizeBytes - inChunk, data.length - done);
      let chunk = this.chunks.get(index);
      if (chunk === undefined) {
        chunk = Buffer.alloc(this.chunkSizeBytes);
        this.chunks.set(index, chunk);
      }
      data.copy(chunk, inChunk, done, done + n);
      this.touch(index);
      done += n;
    }
  }

  fill(offsetBytes: number, lengthBytes: number): void {
    let pos = offsetBytes;
    while (pos < offsetBytes + lengthBytes) {
      const index = Math.floor(pos / this.chunkSizeBytes);
      const inChunk = pos - index * this.chunkSizeBytes;
      const n = Math.min(this.chunkSizeBytes - inChunk, offsetBytes + lengthBytes - pos);
      this.chunks.get(index)?.fill(0, inChunk, inChunk + n);
      this.touch(index);
      pos += n;
    }
  }

  touch(index: number): void {
    this.generations.set(index, (this.generations.get(index) ?? 0) + 1);
    this.dirty.add(index);
  }
}

/**
 * A ReplicaStore over memory, with the same contract as the node's chunk store:
 * mutations of one volume apply in call order (a delayed one holds back every later one),
 * epochs are fenced, and a newer epoch waits for older mutations before the session opens.
 * For protocol tests, engine tests and tools; nothing is durable.
 */
export class MemoryReplicaStore implements ReplicaStore<MemoryVolume> {
  readonly #volumes = new Map<string, MemoryVolume>();
  readonly #delay: ((volumeId: string) => number | undefined) | undefined;
  readonly #maxIoBytes: number;

  constructor(opts: MemoryStoreOptions = {}) {
    this.#delay = opts.mutationDelayMs;
    this.#maxIoBytes = opts.maxIoBytes ?? 64 * 1024 * 1024;
  }

  createVolume(volumeId: string, sizeBytes: number, chunkSizeBytes = 1024 * 1024): MemoryVolume {
    if (this.#volumes.has(volumeId)) {
      throw new BallastError('CONFLICT', `volume ${volumeId} already exists`);
    }
    const volume = new MemoryVolume(volumeId, sizeBytes, chunkSizeBytes);
    this.#volumes.set(volumeId, volume);
    return volume;
  }

  volume(volumeId: string): MemoryVolume {
    const v = this.#volumes.get(volumeId);
    if (v === undefined)
      throw new BallastError('NOT_FOUND', `no replica of volume ${volumeId} here`);
    return v;
  }

  async openSession(request: OpenSessionArgs): Promise<OpenedSession<MemoryVolume>> {
    const v = this.volume(request.volumeId);
    if (request.sizeBytes !== 0 && request.sizeBytes !== v.sizeBytes) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `replica is ${v.sizeBytes} bytes, not ${request.sizeBytes}`,
      );
    }
    if (request.chunkSizeBytes !== 0 && request.chunkSizeBytes !== v.chunkSizeBytes) {
      throw new BallastError('INVALID_ARGUMENT', `replica has ${v.chunkSizeBytes}-byte chunks`);
    }
    const fence = { epoch: request.epoch, incarnation: request.incarnation };
    this.checkFence(v.volumeId, fence);
    // Persisting takes time in the real store; let other requests interleave here as well.
    await sleep(0);
    this.checkFence(v.volumeId, fence);
    if (compareFence(fence, v.highestFence) > 0) {
      v.highestFence = fence;
      // A clean cut: mutations of older sessions that were already accepted land first.
      await this.#whenIdle(v);
    }
    return {
      binding: v,
      sizeBytes: v.sizeBytes,
      chunkSizeBytes: v.chunkSizeBytes,
      blockSizeBytes: BLOCK_SIZE_BYTES,
      highestEpoch: v.highestFence.epoch,
      highestIncarnation: v.highestFence.incarnation,
    };
  }

  checkFence(volumeId: string, fence: Fence): void {
    const v = this.volume(volumeId);
    if (compareFence(fence, v.highestFence) < 0) {
      throw fenceRefusal(volumeId, fence, v.highestFence);
    }
  }

  read(v: MemoryVolume, offsetBytes: number, lengthBytes: number): Buffer {
    this.#checkRange(v, offsetBytes, lengthBytes);
    return v.peek(offsetBytes, lengthBytes);
  }

  readInto(v: MemoryVolume, offsetBytes: number, target: Buffer): undefined {
    this.#checkRange(v, offsetBytes, target.length);
    v.peek(offsetBytes, target.length).copy(target);
    return undefined;
  }

  write(
    v: MemoryVolume,
    offsetBytes: number,
    payload: Buffer | readonly Buffer[],
  ): Promise<void> | undefined {
    const data = Buffer.isBuffer(payload) ? payload : Buffer.concat(payload as Buffer[]);
    this.#checkRange(v, offsetBytes, data.length);
    return this.#submit(v, () => v.poke(offsetBytes, data));
  }

  trim(
    v: MemoryVolume,
    offsetBytes: number,
    lengthBytes: number,
    _opts: TrimOptions,
  ): Promise<void> | undefined {
    this.#checkRange(v, offsetBytes, lengthBytes);
    return this.#submit(v, () => v.fill(offsetBytes, lengthBytes));
  }

  async flush(v: MemoryVolume): Promise<void> {
    v.dirty.clear();
    v.flushes += 1;
  }

  async chunkMap(volumeId: string): Promise<ChunkMapResult> {
    const v = this.volume(volumeId);
    const chunks = [...v.generations.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([index, generation]) => ({
        index,
        generation,
        dirty: v.dirty.has(index),
        unclean: v.unclean.has(index),
        hole: !v.chunks.has(index),
      }));
    return { chunkSizeBytes: v.chunkSizeBytes, chunks };
  }

  readChunk(volumeId: string, index: number): ChunkCopy {
    const v = this.volume(volumeId);
    if (index * v.chunkSizeBytes >= v.sizeBytes) {
      throw new BallastError('INVALID_ARGUMENT', `chunk ${index} is outside the replica`);
    }
    const chunk = v.chunks.get(index);
    return { generation: v.generations.get(index) ?? 0, data: chunk ? Buffer.from(chunk) : null };
  }

  writeChunk(
    v: MemoryVolume,
    index: number,
    generation: number,
    data: Buffer | null,
  ): Promise<void> | undefined {
    if (index * v.chunkSizeBytes >= v.sizeBytes) {
      throw new BallastError('INVALID_ARGUMENT', `chunk ${index} is outside the replica`);
    }
    if (data !== null && data.length !== v.chunkSizeBytes) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `chunk ${index} is ${v.chunkSizeBytes} bytes, got ${data.length}`,
      );
    }
    return this.#submit(v, () => {
      if (data === null) v.chunks.delete(index);
      else v.chunks.set(index, Buffer.from(data));
      v.generations.set(index, generation);
      v.dirty.add(index);
      v.unclean.delete(index);
    });
  }

  #checkRange(v: MemoryVolume, offsetBytes: number, lengthBytes: number): void {
    if (lengthBytes > this.#maxIoBytes) {
      throw new BallastError('TOO_LARGE', `requests are at most ${this.#maxIoBytes} bytes`);
    }
    if (offsetBytes + lengthBytes > v.sizeBytes) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `range ${offsetBytes}+${lengthBytes} is outside the ${v.sizeBytes}-byte replica`,
      );
    }
  }

  #submit(v: MemoryVolume, apply: () => void): Promise<void> | undefined {
    const delayMs = this.#delay?.(v.volumeId);
    if (v.queue.length === 0 && delayMs === undefined) {
      apply();
      v.appliedMutations += 1;
      return undefined;
    }
    if (v.queue.length >= MAX_QUEUED_MUTATIONS) {
      throw new BallastError('UNAVAILABLE', `too many mutations queued on volume ${v.volumeId}`);
    }
    v.delayedMutations += 1;
    const done = new Promise<void>((resolve, reject) => {
      v.queue.push({ delayMs: delayMs ?? 0, apply, resolve, reject });
    });
    if (!v.queueRunning) void this.#run(v);
    return done;
  }

  async #run(v: MemoryVolume): Promise<void> {
    v.queueRunning = true;
    try {
      while (v.queue.length > 0) {
        const head = v.queue[0]!;
        await sleep(head.delayMs);
        v.queue.shift();
        try {
          head.apply();
          v.appliedMutations += 1;
          head.resolve();
        } catch (err) {
          head.reject(err);
        }
      }
    } finally {
      v.queueRunning = false;
      const waiters = v.idleWaiters;
      v.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  async createSnapshot(v: MemoryVolume, seq: number): Promise<void> {
    if (!Number.isSafeInteger(seq) || seq < 1) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `snapshot seq must be a positive integer, not ${seq}`,
      );
    }
    await this.#whenIdle(v);
    if (v.snapshots.has(seq)) return;
    const latest = Math.max(0, ...v.snapshots.keys());
    if (seq <= latest) {
      throw new BallastError('CONFLICT', `snapshot ${seq} is not newer than snapshot ${latest}`);
    }
    const chunks = new Map<number, Buffer>();
    for (const [index, data] of v.chunks) chunks.set(index, Buffer.from(data));
    v.snapshots.set(seq, { chunks, sizeBytes: v.sizeBytes });
  }

  readSnapshot(volumeId: string, seq: number, offsetBytes: number, lengthBytes: number): Buffer {
    const v = this.volume(volumeId);
    const snapshot = v.snapshots.get(seq);
    if (snapshot === undefined) {
      throw new BallastError('NOT_FOUND', `volume ${volumeId} has no snapshot ${seq}`);
    }
    this.#checkRange(v, offsetBytes, lengthBytes);
    const out = Buffer.alloc(lengthBytes);
    for (let pos = offsetBytes; pos < offsetBytes + lengthBytes;) {
      const index = Math.floor(pos / v.chunkSizeBytes);
      const inChunk = pos - index * v.chunkSizeBytes;
      const n = Math.min(v.chunkSizeBytes - inChunk, offsetBytes + lengthBytes - pos);
      snapshot.chunks.get(index)?.copy(out, pos - offsetBytes, inChunk, inChunk + n);
      pos += n;
    }
    return out;
  }

  #whenIdle(v: MemoryVolume): Promise<void> {
    if (!v.queueRunning && v.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => v.idleWaiters.push(resolve));
  }
}
