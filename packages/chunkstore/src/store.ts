import {
  BallastError,
  systemClock,
  type Clock,
  compareFence,
  fenceRefusal,
  isFence,
  type Fence,
  type Logger,
} from '@ballast/common';
import {
  BLOCK_SIZE_BYTES,
  DEFAULT_CHUNK_SIZE_BYTES,
  DEFAULT_DIRTY_METADATA_BYTES,
  DEFAULT_METADATA_CACHE_BYTES,
  MAX_CHUNK_SIZE_BYTES,
  MAX_REPLICA_SIZE_BYTES,
  META_OVERHEAD_BYTES,
  MIN_CHUNK_SIZE_BYTES,
} from './constants.js';
import { IndexWriter } from './index-writer.js';
import {
  EPOCH_RANGE,
  FORMAT_KEY,
  FORMAT_VERSION,
  REPLICA_RANGE,
  chunkRange,
  decodeFence,
  encodeFence,
  epochKey,
  replicaKey,
  snapshotRange,
  versionRange,
} from './keys.js';

const NO_FENCE: Fence = Object.freeze({ epoch: 0, incarnation: 0 });
import { MetaCache } from './meta-cache.js';
import { decodeReplicaRecord, encodeReplicaRecord, type ReplicaRecord } from './records.js';
import { Replica, type ReplicaContext, type ReplicaStats } from './replica.js';
import { PosixStorage, type DataFile, type IndexDb, type StoreStorage } from './storage.js';

export interface ChunkStoreOptions {
  /** The node's data directory; holds `index/` (LevelDB) and `replicas/<id>.data`. */
  dir: string;
  /** Where the index and data files live (default: a PosixStorage on `dir`). */
  storage?: StoreStorage;
  /** Time and timers (default the system's); a simulation passes a SimClock. */
  clock?: Clock;
  /** Bound on clean (evictable) chunk metadata kept in memory. */
  metadataCacheBytes?: number;
  /**
   * Soft bound on dirty (pinned) chunk metadata: before more chunks are marked dirty past it,
   * the replica with the most dirty metadata is flushed.
   */
  dirtyMetadataBytes?: number;
  logger?: Logger;
}

export interface CreateReplicaOptions {
  sizeBytes: number;
  /** Power of two from 64 KiB to 64 MiB; 4 MiB when left out. */
  chunkSizeBytes?: number;
}

export interface ReplicaSummary {
  replicaId: string;
  sizeBytes: number;
  chunkSizeBytes: number;
  usedBytes: number;
  state: Replica['state'];
  /** Why a failed replica stopped serving. */
  failure: string | null;
}

export interface StoreCapacity {
  /** Size of the file system holding the data directory. */
  totalBytes: number;
  /** Free bytes available to this process on that file system. */
  availableBytes: number;
  /** Sum of replica sizes (thin provisioning: may exceed totalBytes). */
  provisionedBytes: number;
  /** Sum of bytes the replica files really occupy (st_blocks). */
  usedBytes: number;
}

export interface StoreStats {
  replicas: number;
  metadataCacheHits: number;
  metadataCacheMisses: number;
  metadataCacheEvictions: number;
  cleanMetadataBytes: number;
  pinnedMetadataBytes: number;
  indexBatches: number;
  indexOperations: number;
  /** Flushes the store started to keep dirty metadata within its bound. */
  pressureFlushes: number;
  checksumErrors: number;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function checkId(id: unknown, what: string): asserts id is string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new BallastError(
      'INVALID_ARGUMENT',
      `${what} must be 1-128 characters of [A-Za-z0-9._-] starting with a letter or digit`,
      { [what]: typeof id === 'string' ? id.slice(0, 200) : typeof id },
    );
  }
}

function checkReplicaSize(sizeBytes: number): void {
  if (
    !Number.isSafeInteger(sizeBytes) ||
    sizeBytes <= 0 ||
    sizeBytes % BLOCK_SIZE_BYTES !== 0 ||
    sizeBytes > MAX_REPLICA_SIZE_BYTES
  ) {
    throw new BallastError(
      'INVALID_ARGUMENT',
      `replica size must be a positive multiple of 4096 bytes up to 1 PiB, not ${sizeBytes}`,
    );
  }
}

function checkChunkSize(chunkSizeBytes: number): void {
  if (
    !Number.isSafeInteger(chunkSizeBytes) ||
    chunkSizeBytes < MIN_CHUNK_SIZE_BYTES ||
    chunkSizeBytes > MAX_CHUNK_SIZE_BYTES ||
    (chunkSizeBytes & (chunkSizeBytes - 1)) !== 0
  ) {
    throw new BallastError(
      'INVALID_ARGUMENT',
      `chunk size must be a power of two from 64 KiB to 64 MiB, not ${chunkSizeBytes}`,
    );
  }
}

/**
 * The chunk store of one storage node: many replicas, one LevelDB index, per-volume fences.
 * Open it with `ChunkStore.open`, close it with `close` (clean: flushes every replica).
 */
export class ChunkStore {
  private readonly replicas = new Map<string, Replica>();
  private readonly lifecycleBusy = new Set<string>();
  private readonly fences = new Map<string, Fence>();
  private readonly epochChains = new Map<string, Promise<void>>();
  private readonly writer: IndexWriter;
  private readonly cache: MetaCache;
  private readonly ctx: ReplicaContext;
  private pressureFlushes = 0;
  private isOpen = true;

  private constructor(
    readonly dir: string,
    private readonly storage: StoreStorage,
    private readonly db: IndexDb,
    private readonly clock: Clock,
    opts: ChunkStoreOptions,
  ) {
    this.writer = new IndexWriter(db);
    const dirtyLimit = opts.dirtyMetadataBytes ?? DEFAULT_DIRTY_METADATA_BYTES;
    this.cache = new MetaCache(opts.metadataCacheBytes ?? DEFAULT_METADATA_CACHE_BYTES, dirtyLimit);
    this.ctx = {
      db,
      writer: this.writer,
      cache: this.cache,
      clock,
      logger: opts.logger,
      reserveDirty: (bytes) => this.reserveDirty(bytes),
      openSnapshotFile: (replicaId) => {
        const name = this.snapshotFileName(replicaId);
        return this.storage.fileExists(name)
          ? this.storage.openFile(name)
          : this.storage.createFile(name, 0);
      },
    };
  }

  static async open(opts: ChunkStoreOptions): Promise<ChunkStore> {
    const cacheBytes = opts.metadataCacheBytes ?? DEFAULT_METADATA_CACHE_BYTES;
    const dirtyBytes = opts.dirtyMetadataBytes ?? DEFAULT_DIRTY_METADATA_BYTES;
    if (!Number.isSafeInteger(cacheBytes) || cacheBytes < 0) {
      throw new BallastError('CONFIG', `metadataCacheBytes must be a non-negative integer`);
    }
    // Room for the metadata of a few largest chunks, so one maximal request always fits.
    const minDirty = 4 * (META_OVERHEAD_BYTES + (MAX_CHUNK_SIZE_BYTES / BLOCK_SIZE_BYTES) * 4);
    if (!Number.isSafeInteger(dirtyBytes) || dirtyBytes < minDirty) {
      throw new BallastError('CONFIG', `dirtyMetadataBytes must be at least ${minDirty}`);
    }
    const storage = opts.storage ?? new PosixStorage(opts.dir);
    const db = await storage.openIndex();
    const store = new ChunkStore(opts.dir, storage, db, opts.clock ?? systemClock, opts);
    try {
      await store.load();
    } catch (err) {
      await store.abandon().catch(() => undefined);
      throw err;
    }
    return store;
  }

  private async load(): Promise<void> {
    const format = await this.db.get(FORMAT_KEY);
    if (format === undefined) {
      await this.writer.submit([
        { type: 'put', key: FORMAT_KEY, value: Buffer.from(FORMAT_VERSION) },
      ]);
    } else if (format.toString('utf8') !== FORMAT_VERSION) {
      throw new BallastError(
        'CONFIG',
        `chunk store format ${format.toString('utf8')} is not supported`,
      );
    }
    for (const [key, value] of await this.db.iterator(EPOCH_RANGE).all()) {
      this.fences.set(key.slice(2), decodeFence(key, value));
    }
    for (const [key, value] of await this.db.iterator(REPLICA_RANGE).all()) {
      const record = decodeReplicaRecord(value, key);
      if (record.state === 'deleting') {
        await this.finishDelete(record.replicaId);
      } else {
        if (record.state === 'creating') await this.finishCreate(record);
        const replica = this.openReplica(record);
        this.replicas.set(record.replicaId, replica);
        await replica.recover();
      }
    }
  }

  private fileName(replicaId: string): string {
    return `${replicaId}.data`;
  }

  /** Slots of the chunk versions kept for the replica's snapshots (created on first use). */
  private snapshotFileName(replicaId: string): string {
    return `${replicaId}.snap`;
  }

  private openReplica(record: ReplicaRecord): Replica {
    let file: DataFile;
    try {
      file = this.storage.openFile(this.fileName(record.replicaId));
    } catch (err) {
      // The index says the replica exists but its data is gone: keep it listed as failed
      // rather than recreate it empty and serve zeroes as if they were the volume.
      this.ctx.logger?.error(
        { replicaId: record.replicaId, err },
        'replica data file cannot be opened',
      );
      return new Replica(this.ctx, record, null, err);
    }
    // A crash between growing the file and persisting a resize leaves it longer; a crash
    // during creation may leave it shorter. The record is the truth.
    try {
      file.truncate(record.sizeBytes);
    } catch (err) {
      file.close();
      return new Replica(this.ctx, record, null, err);
    }
    return new Replica(this.ctx, record, file);
  }

  /** Finishes a create interrupted by a crash: no write was ever acknowledged to it. */
  private async finishCreate(record: ReplicaRecord): Promise<void> {
    await this.clearReplicaKeys(record.replicaId);
    await this.storage.removeFile(this.snapshotFileName(record.replicaId));
    this.storage.createFile(this.fileName(record.replicaId), record.sizeBytes).close();
    record.state = 'ready';
    await this.writer.submit([
      { type: 'put', key: replicaKey(record.replicaId), value: encodeReplicaRecord(record) },
    ]);
  }

  private async finishDelete(replicaId: string): Promise<void> {
    await this.storage.removeFile(this.fileName(replicaId));
    await this.storage.removeFile(this.snapshotFileName(replicaId));
    await this.clearReplicaKeys(replicaId);
    await this.writer.submit([{ type: 'del', key: replicaKey(replicaId) }]);
  }

  private async clearReplicaKeys(replicaId: string): Promise<void> {
    for (const kind of ['g', 'k', 'd'] as const) {
      await this.db.clear(chunkRange(kind, replicaId));
    }
    await this.db.clear(snapshotRange(replicaId));
    await this.db.clear(versionRange(replicaId));
  }

  // ---------------------------------------------------------------------------------------
  // Replica lifecycle

  /** Creates a thin replica: a sparse file of `sizeBytes` that uses no space until written. */
  async createReplica(replicaId: string, opts: CreateReplicaOptions): Promise<Replica> {
    this.checkOpen();
    checkId(replicaId, 'replicaId');
    checkReplicaSize(opts.sizeBytes);
    const chunkSizeBytes = opts.chunkSizeBytes ?? DEFAULT_CHUNK_SIZE_BYTES;
    checkChunkSize(chunkSizeBytes);
    if (this.replicas.has(replicaId) || this.lifecycleBusy.has(replicaId)) {
      throw new BallastError('CONFLICT', `replica ${replicaId} already exists`, { replicaId });
    }
    this.lifecycleBusy.add(replicaId);
    try {
      // The file is created only after the record says 'creating', so a file without a record
      // was not made by this store: refuse to overwrite it.
      if (this.storage.fileExists(this.fileName(replicaId))) {
        throw new BallastError(
          'CONFLICT',
          `${this.storage.describe(this.fileName(replicaId))} exists but the index has no replica ${replicaId}; remove it by hand if it is not needed`,
          { replicaId },
        );
      }
      const record: ReplicaRecord = {
        v: 1,
        replicaId,
        sizeBytes: opts.sizeBytes,
        chunkSizeBytes,
        createdAtMs: this.clock.wallMs(),
        state: 'creating',
      };
      await this.writer.submit([
        { type: 'put', key: replicaKey(replicaId), value: encodeReplicaRecord(record) },
      ]);
      await this.finishCreate(record);
      const replica = this.openReplica(record);
      this.replicas.set(replicaId, replica);
      return replica;
    } finally {
      this.lifecycleBusy.delete(replicaId);
    }
  }

  /** The open replica, or NOT_FOUND. */
  replica(replicaId: string): Replica {
    this.checkOpen();
    const replica = this.replicas.get(replicaId);
    if (replica === undefined) {
      throw new BallastError(
        'NOT_FOUND',
        `no replica ${String(replicaId).slice(0, 200)} in this store`,
        {
          replicaId: String(replicaId).slice(0, 200),
        },
      );
    }
    return replica;
  }

  hasReplica(replicaId: string): boolean {
    return this.replicas.has(replicaId);
  }

  listReplicas(): ReplicaSummary[] {
    this.checkOpen();
    return [...this.replicas.values()]
      .map((r) => ({
        replicaId: r.replicaId,
        sizeBytes: r.sizeBytes,
        chunkSizeBytes: r.chunkSizeBytes,
        usedBytes: r.state === 'open' ? r.usedBytes() : 0,
        state: r.state,
        failure: r.failureReason,
      }))
      .sort((a, b) => (a.replicaId < b.replicaId ? -1 : a.replicaId > b.replicaId ? 1 : 0));
  }

  /** Grows a replica (never shrinks). Durable when it resolves. */
  async resizeReplica(replicaId: string, sizeBytes: number): Promise<void> {
    const replica = this.replica(replicaId);
    if (this.lifecycleBusy.has(replicaId)) {
      throw new BallastError(
        'CONFLICT',
        `replica ${replicaId} is busy with another lifecycle change`,
      );
    }
    this.lifecycleBusy.add(replicaId);
    try {
      await replica.resize(sizeBytes, checkReplicaSize);
    } finally {
      this.lifecycleBusy.delete(replicaId);
    }
  }

  /**
   * Deletes a replica: stops serving it (pending mutations fail with NOT_FOUND), then removes
   * its file and every index entry. Crash-safe: an interrupted delete finishes on next open.
   */
  async deleteReplica(replicaId: string): Promise<void> {
    const replica = this.replica(replicaId);
    if (this.lifecycleBusy.has(replicaId)) {
      throw new BallastError(
        'CONFLICT',
        `replica ${replicaId} is busy with another lifecycle change`,
      );
    }
    this.lifecycleBusy.add(replicaId);
    try {
      await replica.destroy();
      this.replicas.delete(replicaId);
      // Nothing for this replica can still be queued: destroy waited for its marks and flushes.
      await this.writer.idle();
      const record = (await this.db.get(replicaKey(replicaId)))!;
      const deleting = {
        ...decodeReplicaRecord(record, replicaKey(replicaId)),
        state: 'deleting' as const,
      };
      await this.writer.submit([
        { type: 'put', key: replicaKey(replicaId), value: encodeReplicaRecord(deleting) },
      ]);
      await this.finishDelete(replicaId);
    } finally {
      this.lifecycleBusy.delete(replicaId);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Fences (epoch, then replica incarnation): old writers and abandoned sessions are refused

  /** Highest epoch persisted for the volume, 0 when none. */
  highestEpoch(volumeId: string): number {
    return this.fences.get(volumeId)?.epoch ?? 0;
  }

  /** Highest fence persisted for the volume, epoch and incarnation 0 when none. */
  highestFence(volumeId: string): Fence {
    return this.fences.get(volumeId) ?? NO_FENCE;
  }

  /**
   * Synchronous check for the data path: throws FENCED for an epoch older than the highest
   * persisted, SUPERSEDED for the same epoch and an older incarnation; returns 'current' when it
   * is the highest, 'newer' when acceptFence must run first.
   */
  checkFence(volumeId: string, fence: Fence): 'current' | 'newer' {
    const highest = this.fences.get(volumeId);
    if (highest === undefined) return 'newer';
    const order = compareFence(fence, highest);
    if (order < 0) throw fenceRefusal(volumeId, fence, highest);
    return order === 0 ? 'current' : 'newer';
  }

  /**
   * Accepts `fence` for the volume: refuses one older than the highest persisted (FENCED or
   * SUPERSEDED), persists a newer one with a synced write before resolving. Calls for one volume
   * apply in order, so a slower older fence can never overwrite a newer one.
   */
  acceptFence(volumeId: string, fence: Fence): Promise<void> {
    try {
      this.checkOpen();
      checkId(volumeId, 'volumeId');
      if (!isFence(fence)) {
        throw new BallastError(
          'INVALID_ARGUMENT',
          `epoch and incarnation must be non-negative integers, not ${JSON.stringify(fence)}`,
        );
      }
      this.checkFence(volumeId, fence);
    } catch (err) {
      return Promise.reject(err);
    }
    const previous = this.epochChains.get(volumeId) ?? Promise.resolve();
    const next = previous.then(() => this.persistFence(volumeId, fence));
    const tail = next.catch(() => undefined);
    this.epochChains.set(volumeId, tail);
    void tail.then(() => {
      if (this.epochChains.get(volumeId) === tail) this.epochChains.delete(volumeId);
    });
    return next;
  }

  private async persistFence(volumeId: string, fence: Fence): Promise<void> {
    const highest = this.fences.get(volumeId);
    if (highest !== undefined) {
      const order = compareFence(fence, highest);
      if (order < 0) throw fenceRefusal(volumeId, fence, highest);
      if (order === 0) return;
    }
    const value = { epoch: fence.epoch, incarnation: fence.incarnation };
    await this.writer.submit([{ type: 'put', key: epochKey(volumeId), value: encodeFence(value) }]);
    this.fences.set(volumeId, value);
  }

  // ---------------------------------------------------------------------------------------
  // Reporting

  capacity(): StoreCapacity {
    this.checkOpen();
    const disk = this.storage.capacity();
    let provisionedBytes = 0;
    let usedBytes = 0;
    for (const r of this.replicas.values()) {
      provisionedBytes += r.sizeBytes;
      if (r.state === 'open') usedBytes += r.usedBytes();
    }
    return {
      totalBytes: disk.totalBytes,
      availableBytes: disk.availableBytes,
      provisionedBytes,
      usedBytes,
    };
  }

  stats(): StoreStats {
    let checksumErrors = 0;
    for (const r of this.replicas.values()) checksumErrors += r.stats().counters.checksumErrors;
    return {
      replicas: this.replicas.size,
      metadataCacheHits: this.cache.hits,
      metadataCacheMisses: this.cache.misses,
      metadataCacheEvictions: this.cache.evictions,
      cleanMetadataBytes: this.cache.cleanBytes,
      pinnedMetadataBytes: this.cache.pinnedBytes,
      indexBatches: this.writer.batches,
      indexOperations: this.writer.operations,
      pressureFlushes: this.pressureFlushes,
      checksumErrors,
    };
  }

  replicaStats(): ReplicaStats[] {
    return [...this.replicas.values()].map((r) => r.stats());
  }

  // ---------------------------------------------------------------------------------------
  // Shutdown

  /** Clean shutdown: applies queued mutations, flushes every replica, closes the index. */
  async close(): Promise<void> {
    if (!this.isOpen) return;
    this.isOpen = false;
    const errors: unknown[] = [];
    for (const replica of this.replicas.values()) {
      try {
        await replica.close();
      } catch (err) {
        errors.push(err);
      }
    }
    await this.shutdownIndex();
    if (errors.length > 0) {
      throw new BallastError(
        'IO',
        `closing the chunk store: ${errors.length} replica(s) failed to flush`,
        {},
        errors[0],
      );
    }
  }

  /**
   * Drops every in-memory state without flushing and closes files and the index: what a
   * SIGKILL leaves behind, minus the process exit. For crash tests.
   */
  async abandon(): Promise<void> {
    this.isOpen = false;
    for (const replica of this.replicas.values()) await replica.abandon();
    await this.shutdownIndex();
  }

  private async shutdownIndex(): Promise<void> {
    await this.writer.idle();
    this.writer.close();
    await Promise.allSettled([...this.epochChains.values()]);
    await this.db.close();
  }

  private checkOpen(): void {
    if (!this.isOpen) throw new BallastError('UNAVAILABLE', 'the chunk store is closed');
  }

  /**
   * Keeps pinned (dirty) metadata near its bound: while marking `bytes` more would pass it,
   * flush the replica holding the most dirty metadata. Soft bound: after a few rounds the
   * marks proceed anyway rather than fail writes (what is pinned then is bounded by the
   * mutations in flight).
   */
  private async reserveDirty(bytes: number): Promise<void> {
    for (let round = 0; round < 4; round++) {
      if (this.cache.pinnedBytes + bytes <= this.cache.dirtyLimitBytes) return;
      let victim: Replica | null = null;
      for (const r of this.replicas.values()) {
        if (
          r.dirtyMetadataBytes > 0 &&
          (victim === null || r.dirtyMetadataBytes > victim.dirtyMetadataBytes)
        ) {
          victim = r;
        }
      }
      if (victim === null) return;
      this.pressureFlushes += 1;
      try {
        await victim.flushForPressure();
      } catch (err) {
        this.ctx.logger?.warn({ replicaId: victim.replicaId, err }, 'pressure flush failed');
        return;
      }
    }
  }
}
