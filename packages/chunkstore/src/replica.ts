import { GENERATION_STAMP, type ChunkMapEntry } from '@ballast/session';
import { crc32c } from '@node-rs/crc32';
import {
  AssertionError,
  BallastError,
  assert,
  isAllZero,
  type Clock,
  type Logger,
} from '@ballast/common';
import {
  BLOCK_SIZE_BYTES,
  FLUSH_LATENCY_SAMPLE_CAPACITY,
  MAX_IO_BYTES,
  MAX_MARK_ATTEMPTS,
  MAX_QUEUED_OPS_PER_REPLICA,
  META_OVERHEAD_BYTES,
  RECOVERY_GROUP_CHUNKS,
  SCRUB_STEP_BYTES,
  ZERO_BLOCK_CRC,
} from './constants.js';
import type { IndexOp, IndexWriter } from './index-writer.js';
import { chunkKey, chunkRange, indexOfChunkKey, replicaKey } from './keys.js';
import { ChunkMeta, type MetaCache, type MetaOwner } from './meta-cache.js';
import type { FileExtent } from './native.js';
import {
  FLAG_HOLE,
  FLAG_UNCLEAN,
  decodeChecksums,
  decodeChunkHeader,
  encodeChecksums,
  encodeChunkHeader,
  encodeReplicaRecord,
  type ReplicaRecord,
  type SnapshotRecord,
} from './records.js';
import {
  ReplicaSnapshots,
  type KeptChunkState,
  type PendingVersions,
  type SnapshotUsage,
} from './snapshots.js';
import type { DataFile, IndexDb } from './storage.js';
const EMPTY = Buffer.alloc(0);

/** One entry of a replica's chunk map (see README, "Generations"). */

export interface ChunkData extends ChunkMapEntry {
  /** The whole chunk (its length is the chunk size, shorter for a partial last chunk); null for a hole. */
  data: Buffer | null;
}

export interface ChunkMapPage {
  entries: ChunkMapEntry[];
  /** Where the next page starts, or null when the map is complete. */
  nextIndex: number | null;
}

export interface BadBlock {
  chunkIndex: number;
  /** Block number within the replica (offsetBytes / 4096). */
  blockIndex: number;
  offsetBytes: number;
  expectedCrc: number;
  actualCrc: number;
}

export interface ScrubChunkResult {
  chunkIndex: number;
  generation: number;
  bytesVerified: number;
  badBlocks: BadBlock[];
}

export interface ScrubOptions {
  /** Verification rate bound (required: scrub must never starve the data path). */
  bytesPerSecond: number;
  fromIndex?: number;
  signal?: AbortSignal;
}

/** Plain counters for the metrics exporter (monotonic unless noted). */
export interface ReplicaCounters {
  readOps: number;
  readBytes: number;
  writeOps: number;
  writeBytes: number;
  trimOps: number;
  trimBytes: number;
  zeroOps: number;
  zeroBytes: number;
  chunkInstalls: number;
  chunkReads: number;
  repairedBlocks: number;
  checksumErrors: number;
  scrubbedBytes: number;
  flushes: number;
  flushErrors: number;
  flushLatencyMsTotal: number;
  /** Chunks durably marked dirty. */
  dirtyMarks: number;
  /** Mutations that had to wait for a dirty mark (took the asynchronous path). */
  mutationsQueued: number;
  /** Chunks flagged unclean because a mutation of them failed here. */
  uncleanFlags: number;
}

export interface ReplicaStats {
  replicaId: string;
  state: ReplicaState;
  sizeBytes: number;
  chunkSizeBytes: number;
  usedBytes: number;
  /** Chunks marked dirty in the current flush interval (gauge). */
  dirtyChunks: number;
  /** Mutations waiting for dirty marks (gauge). */
  queuedMutations: number;
  /** Chunks found dirty and recovered when the store was last opened. */
  recoveredChunks: number;
  counters: ReplicaCounters;
}

export type ReplicaState = 'open' | 'closing' | 'closed' | 'deleted' | 'failed';

/** What a replica needs from its store. */
export interface ReplicaContext {
  readonly db: IndexDb;
  readonly writer: IndexWriter;
  readonly cache: MetaCache;
  readonly clock: Clock;
  readonly logger: Logger | undefined;
  /** Waits until `bytes` more pinned metadata fits the budget, flushing replicas if needed. */
  reserveDirty(bytes: number): Promise<void>;
  /** Opens (creating it when missing) the file holding a replica's kept snapshot versions. */
  openSnapshotFile(replicaId: string): DataFile;
}

/** A snapshot as a replica reports it. */
export interface SnapshotInfo extends SnapshotUsage {
  createdAtMs: number;
  sizeBytes: number;
}

type Mutation =
  | { kind: 'write'; offset: number; length: number; data: Buffer | readonly Buffer[] }
  | { kind: 'zero'; offset: number; length: number; punch: boolean; trim: boolean }
  | { kind: 'install'; index: number; generation: number; data: Buffer | null };

interface QueuedMutation {
  mutation: Mutation;
  first: number;
  last: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function newCounters(): ReplicaCounters {
  return {
    readOps: 0,
    readBytes: 0,
    writeOps: 0,
    writeBytes: 0,
    trimOps: 0,
    trimBytes: 0,
    zeroOps: 0,
    zeroBytes: 0,
    chunkInstalls: 0,
    chunkReads: 0,
    repairedBlocks: 0,
    checksumErrors: 0,
    scrubbedBytes: 0,
    flushes: 0,
    flushErrors: 0,
    flushLatencyMsTotal: 0,
    dirtyMarks: 0,
    mutationsQueued: 0,
    uncleanFlags: 0,
  };
}

/**
 * Read buffers come from 256 KiB slabs (as Node's own Buffer pool does for small buffers):
 * allocating a fresh 4 KiB ArrayBuffer per read costs several microseconds of allocation and
 * GC, more than the checksum. A caller that keeps a small read buffer for long keeps its slab
 * alive, so the data plane should let read buffers go once they are sent.
 */
const SLAB_BYTES = 256 * 1024;
const SLAB_MAX_TAKE_BYTES = 32 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let slabUsed = 0;

function takeBuffer(size: number): Buffer {
  if (size > SLAB_MAX_TAKE_BYTES) return Buffer.allocUnsafeSlow(size);
  if (slabUsed + size > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const buf = slab.subarray(slabUsed, slabUsed + size);
  slabUsed += size; // sizes are whole blocks, so slices stay 4 KiB aligned within the slab
  return buf;
}

/**
 * One mutation more on a chunk. Generations count mutations from the stamp of the last
 * reconcile that re-stamped the chunk (D23); a count that reaches the next stamp could equal a
 * generation another lineage was given, so the chunk is flagged unclean from then on (it is
 * copied instead of compared, until an install or a re-stamp).
 */
function advanceGeneration(meta: ChunkMeta): void {
  meta.generation += 1;
  if (meta.generation % GENERATION_STAMP === 0) meta.flags |= FLAG_UNCLEAN;
}

/** Checksums of the blocks of one mutation, reused (mutations are applied one at a time). */
const scratchCrcs = new Uint32Array(MAX_IO_BYTES / BLOCK_SIZE_BYTES);

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const floorBlock = (n: number): number => n - (n % BLOCK_SIZE_BYTES);
const ceilBlock = (n: number): number => floorBlock(n + BLOCK_SIZE_BYTES - 1);

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err
    ? String((err as { code: unknown }).code)
    : undefined;
}

/**
 * One replica: a sparse data file plus its chunk metadata. Reads, writes, trims and zeroes run
 * synchronously on the caller's thread (pread/pwrite on an open fd) whenever the chunks they
 * touch already hold a dirty mark in the current flush interval; otherwise they queue, the
 * marks are written (one synced LevelDB batch for everything waiting), and the returned promise
 * settles once the mutation is applied. Flush, recovery, scrub and lifecycle are asynchronous.
 */
export class Replica implements MetaOwner {
  readonly replicaId: string;
  readonly chunkSizeBytes: number;
  readonly blocksPerChunk: number;
  private record: ReplicaRecord;
  /** Null once released (or when it could not be opened). */
  private file: DataFile | null;
  private stateValue: ReplicaState;
  private failure: unknown = null;
  private readonly counters = newCounters();
  private flushLatencySamplesMs: number[] = [];
  private recoveredChunks = 0;

  /** Cached chunk metadata; pinned entries are always present. */
  private readonly metas = new Map<number, ChunkMeta>();
  /** Chunks holding a durable dirty mark in the current flush interval. */
  private markedMetas = new Set<ChunkMeta>();
  /** Chunks of the flush in progress; until `closingBuilt`, a write may take one back. */
  private closingBuilt = false;
  /** Dirty marks being written, by chunk. */
  private readonly markInFlight = new Map<number, Promise<void>>();
  private readonly queue: QueuedMutation[] = [];
  private queueRunning = false;
  private queueIdleWaiters: Array<() => void> = [];
  private flushInFlight: Promise<void> | null = null;
  private flushNext: Promise<void> | null = null;
  /** A pwrite or hole punch happened since the last fdatasync began. */
  private dataSyncNeeded = false;
  /**
   * A hole was punched or a range zeroed since the last sync began: that changes the file's
   * extent map, so the flush uses fsync, which commits all metadata, not only what fdatasync
   * needs to read data back.
   */
  private metadataSyncNeeded = false;
  private readonly fullMetaBytes: number;
  private holeDigest: number | null = null;
  private readonly snapshots: ReplicaSnapshots;

  /** @internal Use ChunkStore.createReplica / ChunkStore.replica. */
  constructor(
    private readonly ctx: ReplicaContext,
    record: ReplicaRecord,
    file: DataFile | null,
    failure: unknown = null,
  ) {
    this.record = record;
    this.replicaId = record.replicaId;
    this.chunkSizeBytes = record.chunkSizeBytes;
    this.blocksPerChunk = record.chunkSizeBytes / BLOCK_SIZE_BYTES;
    this.fullMetaBytes = META_OVERHEAD_BYTES + this.blocksPerChunk * 4;
    this.file = file;
    this.failure = failure;
    this.stateValue = failure === null ? 'open' : 'failed';
    this.snapshots = new ReplicaSnapshots(
      ctx.db,
      ctx.writer,
      record.replicaId,
      record.chunkSizeBytes,
      () => ctx.openSnapshotFile(record.replicaId),
      ctx.logger,
    );
  }

  get sizeBytes(): number {
    return this.record.sizeBytes;
  }

  get state(): ReplicaState {
    return this.stateValue;
  }

  get chunkCount(): number {
    return Math.ceil(this.record.sizeBytes / this.chunkSizeBytes);
  }

  /** Length of chunk `index` (the last chunk may be shorter than the chunk size). */
  chunkLengthBytes(index: number): number {
    return Math.min(this.chunkSizeBytes, this.record.sizeBytes - index * this.chunkSizeBytes);
  }

  // ---------------------------------------------------------------------------------------
  // Hot path

  /**
   * Reads and verifies [offset, offset+length). Every 4 KiB block the range touches is checked
   * against its CRC32C; a mismatch throws CHECKSUM_MISMATCH naming the block and nothing is
   * returned. The buffer is the caller's.
   */
  read(offsetBytes: number, lengthBytes: number): Buffer {
    this.checkUsable();
    this.checkRange(offsetBytes, lengthBytes);
    if (lengthBytes === 0) return Buffer.alloc(0);
    const alignedStart = floorBlock(offsetBytes);
    const alignedEnd = ceilBlock(offsetBytes + lengthBytes);
    const buf = takeBuffer(alignedEnd - alignedStart);
    this.preadFull(buf, alignedStart);
    this.verifyOrThrow(buf, alignedStart);
    this.counters.readOps += 1;
    this.counters.readBytes += lengthBytes;
    const skip = offsetBytes - alignedStart;
    return skip === 0 && lengthBytes === buf.length ? buf : buf.subarray(skip, skip + lengthBytes);
  }

  /**
   * Like read, into the caller's buffer (all of `target` is filled): the data plane can pread
   * straight into its reply frame. Block-aligned ranges need no other buffer. On a checksum
   * mismatch `target` may hold unverified bytes and must not be sent.
   */
  readInto(offsetBytes: number, target: Uint8Array): void {
    this.checkUsable();
    const lengthBytes = target.byteLength;
    this.checkRange(offsetBytes, lengthBytes);
    if (lengthBytes === 0) return;
    const out = asBuffer(target);
    if (offsetBytes % BLOCK_SIZE_BYTES === 0 && lengthBytes % BLOCK_SIZE_BYTES === 0) {
      this.preadFull(out, offsetBytes);
      this.verifyOrThrow(out, offsetBytes);
    } else {
      const alignedStart = floorBlock(offsetBytes);
      const alignedEnd = ceilBlock(offsetBytes + lengthBytes);
      const buf = takeBuffer(alignedEnd - alignedStart);
      this.preadFull(buf, alignedStart);
      this.verifyOrThrow(buf, alignedStart);
      buf.copy(out, 0, offsetBytes - alignedStart, offsetBytes - alignedStart + lengthBytes);
    }
    this.counters.readOps += 1;
    this.counters.readBytes += lengthBytes;
  }

  /**
   * Writes `data` at `offset` (any alignment; partial blocks are read, verified, merged). `data`
   * is one buffer or parts written back to back (a network payload as it arrived: block-aligned
   * parts go to the file with one pwritev, no copy). Returns undefined when the write was
   * applied synchronously (it is then in the page cache and the in-memory index:
   * acknowledged), or a promise when it first had to durably mark a chunk dirty. Do not reuse
   * `data` until then. Errors of a synchronous write are thrown.
   */
  write(offsetBytes: number, data: Uint8Array | readonly Uint8Array[]): Promise<void> | undefined {
    this.checkUsable();
    let payload: Buffer | readonly Buffer[];
    let length = 0;
    if (data instanceof Uint8Array) {
      payload = asBuffer(data);
      length = data.byteLength;
    } else {
      const parts: Buffer[] = [];
      for (const part of data) {
        if (part.byteLength === 0) continue;
        parts.push(asBuffer(part));
        length += part.byteLength;
      }
      payload = parts.length === 1 ? parts[0]! : parts;
    }
    this.checkRange(offsetBytes, length);
    if (length === 0) return undefined;
    return this.submit(
      { kind: 'write', offset: offsetBytes, length, data: payload },
      this.chunkOf(offsetBytes),
      this.chunkOf(offsetBytes + length - 1),
    );
  }

  /** Discards the range: whole blocks become holes, partial edge blocks are zeroed. */
  trim(offsetBytes: number, lengthBytes: number): Promise<void> | undefined {
    return this.zeroOp(offsetBytes, lengthBytes, true, true);
  }

  /**
   * Makes the range read as zeroes: whole blocks are punched (or, with `noHole`, zeroed in place
   * and kept allocated), partial edge blocks are zeroed.
   */
  writeZeroes(
    offsetBytes: number,
    lengthBytes: number,
    opts: { noHole?: boolean } = {},
  ): Promise<void> | undefined {
    return this.zeroOp(offsetBytes, lengthBytes, opts.noHole !== true, false);
  }

  private zeroOp(
    offsetBytes: number,
    lengthBytes: number,
    punch: boolean,
    trim: boolean,
  ): Promise<void> | undefined {
    this.checkUsable();
    this.checkRange(offsetBytes, lengthBytes);
    if (lengthBytes === 0) return undefined;
    return this.submit(
      { kind: 'zero', offset: offsetBytes, length: lengthBytes, punch, trim },
      this.chunkOf(offsetBytes),
      this.chunkOf(offsetBytes + lengthBytes - 1),
    );
  }

  /**
   * Makes every mutation acknowledged before this call durable: fdatasync of the data file,
   * then one synced index batch with the current checksums and generations that also clears
   * the dirty marks. Concurrent calls share work; writes may continue meanwhile.
   */
  async flush(): Promise<void> {
    this.checkUsable();
    return this.requestFlush();
  }

  // ---------------------------------------------------------------------------------------
  // Snapshots (docs/snapshots.md)

  /**
   * Takes snapshot `seq` of this replica: every mutation acknowledged before the call is in
   * it, none started after it resolves is; mutations queued meanwhile may fall on either side
   * (whoever needs a cut across replicas holds writes around it, as the engine does). `seq`
   * must be higher than every snapshot this replica has had; taking an existing one again
   * returns it (a retried request).
   */
  async createSnapshot(
    seq: number,
    createdAtMs = this.ctx.clock.wallMs(),
  ): Promise<SnapshotRecord> {
    this.checkUsable();
    if (!Number.isSafeInteger(seq) || seq < 1) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `snapshot seq must be a positive integer, not ${seq}`,
      );
    }
    const existing = this.snapshots.get(seq);
    if (existing !== undefined) return existing;
    if (seq <= this.snapshots.latestSeq) {
      throw new BallastError(
        'CONFLICT',
        `snapshot ${seq} is not newer than snapshot ${this.snapshots.latestSeq} of replica ${this.replicaId}`,
        { replicaId: this.replicaId, seq, latestSeq: this.snapshots.latestSeq },
      );
    }
    const record = this.snapshots.begin(seq, this.record.sizeBytes, createdAtMs);
    try {
      // Everything acknowledged so far becomes durable in place; every mutation from here on
      // keeps its chunk first, so the snapshot reads this moment even after a power cut.
      await this.requestFlush();
      await this.snapshots.complete(record);
    } catch (err) {
      await this.snapshots.cancel(seq).catch(() => undefined);
      throw err;
    }
    return { ...record };
  }

  /**
   * Makes the live replica read what snapshot `seq` reads (revert). Only the chunks that
   * changed since the snapshot are written, through the ordinary write path, so the snapshots
   * newer than `seq` keep what they read; the part of the volume beyond the snapshot's size
   * (it grew since) reads as zeroes. Durable on return. Idempotent: a revert interrupted by a
   * crash is finished by running it again. The caller makes sure nothing else writes meanwhile
   * (the volume is detached and its epoch bumped, D31).
   */
  async revertToSnapshot(seq: number): Promise<{ chunksWritten: number }> {
    this.checkUsable();
    const snapshot = this.snapshotOrThrow(seq);
    let chunksWritten = 0;
    for (let index = 0; index < this.chunkCount; index++) {
      const start = index * this.chunkSizeBytes;
      const length = this.chunkLengthBytes(index);
      const inSnapshot = Math.max(0, Math.min(length, snapshot.sizeBytes - start));
      const version = inSnapshot > 0 ? this.snapshots.resolve(seq, index) : null;
      // Unchanged since the snapshot and wholly inside it: live already reads the snapshot.
      if (version === null && inSnapshot === length) continue;
      const target = Buffer.alloc(length);
      if (inSnapshot > 0) {
        if (version === null) this.readInto(start, target.subarray(0, inSnapshot));
        else if (version.slot >= 0) {
          this.readKeptVersion(version, index, 0, target.subarray(0, inSnapshot));
        }
      }
      if (isAllZero(target)) {
        if (this.chunkInfo(index).hole) continue;
        await this.trim(start, length);
      } else {
        // A chunk reverted before (a revert run again after a crash) already reads the same:
        // writing it again would only copy it aside for the newer snapshots.
        if (this.read(start, length).equals(target)) continue;
        await this.write(start, target);
      }
      chunksWritten += 1;
    }
    await this.flush();
    return { chunksWritten };
  }

  /** Deletes a snapshot; the space only it held is given back. */
  async deleteSnapshot(seq: number): Promise<void> {
    this.checkUsable();
    await this.snapshots.remove(seq);
  }

  /** Complete snapshots, oldest first, with the space each one holds here. */
  listSnapshots(): SnapshotInfo[] {
    const usage = new Map(this.snapshots.usage().map((u) => [u.seq, u]));
    return this.snapshots.list().map((r) => ({
      seq: r.seq,
      createdAtMs: r.createdAtMs,
      sizeBytes: r.sizeBytes,
      exclusiveBytes: usage.get(r.seq)?.exclusiveBytes ?? 0,
      sharedBytes: usage.get(r.seq)?.sharedBytes ?? 0,
    }));
  }

  /** Bytes stored for all snapshots of this replica (non-zero blocks of kept versions). */
  snapshotBytes(): number {
    return this.snapshots.keptBytes();
  }

  /** For metrics: snapshots, bytes kept, and copy-on-write copies made since the store opened. */
  snapshotStats(): { snapshots: number; keptBytes: number; copies: number } {
    return {
      snapshots: this.snapshots.list().length,
      keptBytes: this.snapshots.keptBytes(),
      copies: this.snapshots.counters.versionsKept,
    };
  }

  /**
   * Reads [offset, offset+length) of snapshot `seq`, verified block by block like live reads.
   * Synchronous: a chunk's version and its bytes are read in the same step.
   */
  readSnapshot(seq: number, offsetBytes: number, lengthBytes: number): Buffer {
    this.checkUsable();
    const snapshot = this.snapshotOrThrow(seq);
    this.checkRange(offsetBytes, lengthBytes);
    if (offsetBytes + lengthBytes > snapshot.sizeBytes) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `range ${offsetBytes}+${lengthBytes} is outside snapshot ${seq} (${snapshot.sizeBytes} bytes)`,
        { replicaId: this.replicaId, seq, sizeBytes: snapshot.sizeBytes },
      );
    }
    const out = Buffer.alloc(lengthBytes);
    let done = 0;
    while (done < lengthBytes) {
      const pos = offsetBytes + done;
      const index = this.chunkOf(pos);
      const chunkStart = index * this.chunkSizeBytes;
      const n = Math.min(lengthBytes - done, chunkStart + this.chunkSizeBytes - pos);
      const target = out.subarray(done, done + n);
      const version = this.snapshots.resolve(seq, index);
      if (version === null) this.readInto(pos, target);
      else if (version.slot >= 0) this.readKeptVersion(version, index, pos - chunkStart, target);
      done += n;
    }
    return out;
  }

  /** What snapshot `seq` holds for a chunk (generation and digest as in the chunk map). */
  snapshotChunkInfo(seq: number, index: number): ChunkMapEntry {
    this.checkUsable();
    this.snapshotOrThrow(seq);
    this.checkChunkIndex(index);
    const version = this.snapshots.resolve(seq, index);
    if (version === null) return this.infoOf(this.getMeta(index));
    return {
      index,
      generation: version.generation,
      hole: version.slot < 0,
      dirty: false,
      unclean: (version.flags & FLAG_UNCLEAN) !== 0,
      digest: version.digest,
    };
  }

  private snapshotOrThrow(seq: number): SnapshotRecord {
    const snapshot = Number.isSafeInteger(seq) ? this.snapshots.get(seq) : undefined;
    if (snapshot === undefined) {
      throw new BallastError('NOT_FOUND', `replica ${this.replicaId} has no snapshot ${seq}`, {
        replicaId: this.replicaId,
        seq,
      });
    }
    return snapshot;
  }

  /** Reads part of a kept version from its slot; zero blocks are not stored and read as zeroes. */
  private readKeptVersion(
    version: { slot: number; checksums: Uint32Array | null },
    index: number,
    offsetInChunk: number,
    target: Buffer,
  ): void {
    const checksums = version.checksums!;
    const alignedStart = floorBlock(offsetInChunk);
    const alignedEnd = ceilBlock(offsetInChunk + target.length);
    const buf = Buffer.allocUnsafe(alignedEnd - alignedStart);
    this.snapshots.readSlot(version.slot, buf, alignedStart);
    for (let at = 0; at < buf.length; at += BLOCK_SIZE_BYTES) {
      const block = buf.subarray(at, at + BLOCK_SIZE_BYTES);
      const expected = checksums[(alignedStart + at) / BLOCK_SIZE_BYTES]!;
      if (expected === ZERO_BLOCK_CRC) {
        block.fill(0);
        continue;
      }
      const actual = crc32c(block);
      if (actual !== expected) {
        this.counters.checksumErrors += 1;
        const pos = index * this.chunkSizeBytes + alignedStart + at;
        throw new BallastError(
          'CHECKSUM_MISMATCH',
          `checksum mismatch in a snapshot version of block ${pos / BLOCK_SIZE_BYTES} of replica ${this.replicaId}`,
          {
            replicaId: this.replicaId,
            chunkIndex: index,
            offsetBytes: pos,
            expectedCrc: expected,
            actualCrc: actual,
          },
        );
      }
    }
    const skip = offsetInChunk - alignedStart;
    buf.copy(target, 0, skip, skip + target.length);
  }

  // ---------------------------------------------------------------------------------------
  // Rebuild and reconcile

  /** Chunk map entry for one chunk (synchronous, from memory or the index). */
  chunkInfo(index: number): ChunkMapEntry {
    this.checkUsable();
    this.checkChunkIndex(index);
    return this.infoOf(this.getMeta(index));
  }

  /**
   * One page of the chunk map in index order. Chunks never written (generation 0, hole, clean)
   * are left out. Safe to call while writes go on; each entry is current as of the call.
   */
  async chunkMap(opts: { fromIndex?: number; limit?: number } = {}): Promise<ChunkMapPage> {
    this.checkUsable();
    const fromIndex = opts.fromIndex ?? 0;
    const limit = opts.limit ?? 4096;
    if (!Number.isSafeInteger(fromIndex) || fromIndex < 0) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `fromIndex must be a chunk index, not ${fromIndex}`,
      );
    }
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 65536) {
      throw new BallastError('INVALID_ARGUMENT', `limit must be 1..65536, not ${limit}`);
    }
    const stored = await this.ctx.db
      .iterator({ ...chunkRange('g', this.replicaId, fromIndex), limit })
      .all();
    this.checkUsable();
    const byIndex = new Map<number, ChunkMapEntry>();
    for (const [key, value] of stored) {
      const index = indexOfChunkKey(key);
      const header = decodeChunkHeader(value, key);
      byIndex.set(index, {
        index,
        generation: header.generation,
        hole: (header.flags & FLAG_HOLE) !== 0,
        unclean: (header.flags & FLAG_UNCLEAN) !== 0,
        dirty: this.markInFlight.has(index),
        ...(header.digest !== undefined ? { digest: header.digest } : {}),
      });
    }
    const lastStored =
      stored.length === limit ? indexOfChunkKey(stored[stored.length - 1]![0]) : null;
    const upTo = lastStored ?? Number.MAX_SAFE_INTEGER;
    // Memory is newer than the index for every cached chunk.
    for (const [index, meta] of this.metas) {
      if (index >= fromIndex && index <= upTo) byIndex.set(index, this.infoOf(meta));
    }
    for (const index of this.markInFlight.keys()) {
      if (index >= fromIndex && index <= upTo && !byIndex.has(index)) {
        byIndex.set(index, { index, generation: 0, hole: true, dirty: true, unclean: false });
      }
    }
    const entries = [...byIndex.values()]
      .filter((e) => e.generation !== 0 || !e.hole || e.dirty || e.unclean)
      .sort((a, b) => a.index - b.index);
    if (entries.length > limit) {
      entries.length = limit;
      return { entries, nextIndex: entries[limit - 1]!.index + 1 };
    }
    return { entries, nextIndex: lastStored === null ? null : lastStored + 1 };
  }

  /** Every page of the chunk map (for small replicas and tests; page with chunkMap otherwise). */
  async fullChunkMap(): Promise<ChunkMapEntry[]> {
    const all: ChunkMapEntry[] = [];
    let from: number | null = 0;
    for (let pages = 0; from !== null; pages++) {
      assert(pages <= this.chunkCount + 1, 'chunk map paging does not advance');
      const page: ChunkMapPage = await this.chunkMap({ fromIndex: from, limit: 4096 });
      all.push(...page.entries);
      from = page.nextIndex;
    }
    return all;
  }

  /**
   * Reads a whole chunk with its generation, verified block by block (synchronous, so the data
   * and the generation belong together even while writes go on). Holes come back as data null.
   */
  readChunk(index: number): ChunkData {
    this.checkUsable();
    this.checkChunkIndex(index);
    const meta = this.getMeta(index);
    const info = this.infoOf(meta);
    if (meta.hole) return { ...info, data: null };
    const start = index * this.chunkSizeBytes;
    const buf = Buffer.allocUnsafe(this.chunkLengthBytes(index));
    this.preadFull(buf, start);
    this.verifyOrThrow(buf, start);
    this.counters.chunkReads += 1;
    return { ...info, data: buf };
  }

  /**
   * Replaces a whole chunk with a peer's copy at the peer's generation (data null installs a
   * hole). Clears the chunk's unclean flag. Same synchronous-or-promise contract as write.
   */
  installChunk(
    index: number,
    generation: number,
    data: Uint8Array | null,
  ): Promise<void> | undefined {
    this.checkUsable();
    this.checkChunkIndex(index);
    if (!Number.isSafeInteger(generation) || generation < 0) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `generation must be a non-negative integer, not ${generation}`,
      );
    }
    if (data !== null && data.byteLength !== this.chunkLengthBytes(index)) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `chunk ${index} is ${this.chunkLengthBytes(index)} bytes, got ${data.byteLength}`,
      );
    }
    return this.submit(
      { kind: 'install', index, generation, data: data === null ? null : asBuffer(data) },
      index,
      index,
    );
  }

  /**
   * Clears the unclean flag of the given chunks (after reconcile chose this replica's copy as
   * the good one, or when there is no peer to reconcile with). Durable when it resolves.
   */
  async markChunksClean(indices: number[]): Promise<void> {
    this.checkUsable();
    for (const index of indices) this.checkChunkIndex(index);
    const pinned: ChunkMeta[] = [];
    const ops: IndexOp[] = [];
    for (const index of new Set(indices)) {
      if ((this.getMeta(index).flags & FLAG_UNCLEAN) === 0) continue;
      const meta = this.acquire(index, (m) => {
        m.ioPins += 1;
      });
      meta.flags &= ~FLAG_UNCLEAN;
      pinned.push(meta);
      this.pushRecordOps(ops, meta);
    }
    try {
      await this.ctx.writer.submit(ops);
    } finally {
      for (const meta of pinned) {
        meta.ioPins -= 1;
        this.ctx.cache.updatePin(meta);
      }
    }
  }

  /**
   * Allocated (data) and unallocated (hole) extents of the data file over the range, from
   * lseek SEEK_DATA/SEEK_HOLE: for NBD base:allocation and thin rebuild. At most `maxExtents`
   * entries; the remainder is then reported as data.
   */
  allocatedExtents(offsetBytes: number, lengthBytes: number, maxExtents = 4096): FileExtent[] {
    this.checkUsable();
    this.checkRange(offsetBytes, lengthBytes, Number.MAX_SAFE_INTEGER);
    if (!Number.isSafeInteger(maxExtents) || maxExtents < 2) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `maxExtents must be at least 2, not ${maxExtents}`,
      );
    }
    return this.dataFile().extents(offsetBytes, lengthBytes, maxExtents);
  }

  // ---------------------------------------------------------------------------------------
  // Scrub and repair

  /**
   * Verifies every non-hole chunk against its checksums at no more than `bytesPerSecond`,
   * yielding one result per chunk (bad blocks are also counted in checksumErrors). Each step
   * reads at most 1 MiB synchronously, so it is consistent with concurrent writes. Stops early
   * when the signal aborts or the replica closes.
   */
  async *scrub(opts: ScrubOptions): AsyncGenerator<ScrubChunkResult, void, undefined> {
    this.checkUsable();
    if (!(opts.bytesPerSecond > 0) || !Number.isFinite(opts.bytesPerSecond)) {
      throw new BallastError('INVALID_ARGUMENT', 'scrub needs a positive finite bytesPerSecond');
    }
    const startedMs = this.ctx.clock.monotonicMs();
    let verifiedBytes = 0;
    let from: number | null = opts.fromIndex ?? 0;
    for (let pages = 0; from !== null; pages++) {
      assert(pages <= this.chunkCount + 1, 'scrub paging does not advance');
      if (this.stateValue !== 'open' || opts.signal?.aborted) return;
      const page: ChunkMapPage = await this.chunkMap({ fromIndex: from, limit: 256 });
      for (const entry of page.entries) {
        if (entry.hole || entry.index >= this.chunkCount) continue;
        const chunkLength = this.chunkLengthBytes(entry.index);
        const badBlocks: BadBlock[] = [];
        let chunkVerified = 0;
        for (let off = 0; off < chunkLength; off += SCRUB_STEP_BYTES) {
          if (this.stateValue !== 'open' || opts.signal?.aborted) return;
          const stepBytes = Math.min(SCRUB_STEP_BYTES, chunkLength - off);
          this.scrubStep(entry.index, off, stepBytes, badBlocks);
          chunkVerified += stepBytes;
          verifiedBytes += stepBytes;
          const waitMs =
            startedMs + (verifiedBytes / opts.bytesPerSecond) * 1000 - this.ctx.clock.monotonicMs();
          if (waitMs > 0) {
            try {
              await this.ctx.clock.sleep(waitMs, opts.signal);
            } catch {
              return; // aborted
            }
          }
        }
        yield {
          chunkIndex: entry.index,
          generation: this.peekMeta(entry.index).generation,
          bytesVerified: chunkVerified,
          badBlocks,
        };
      }
      from = page.nextIndex;
    }
  }

  private scrubStep(
    index: number,
    offsetInChunk: number,
    lengthBytes: number,
    bad: BadBlock[],
  ): void {
    if (this.stateValue !== 'open') return;
    const meta = this.peekMeta(index);
    if (meta.hole && !meta.pinned) return;
    const start = index * this.chunkSizeBytes + offsetInChunk;
    const buf = Buffer.allocUnsafe(lengthBytes);
    this.preadFull(buf, start);
    this.counters.scrubbedBytes += lengthBytes;
    for (let off = 0; off < lengthBytes; off += BLOCK_SIZE_BYTES) {
      const blockInChunk = (offsetInChunk + off) / BLOCK_SIZE_BYTES;
      const expected = meta.checksums ? meta.checksums[blockInChunk]! : ZERO_BLOCK_CRC;
      const actual = crc32c(buf.subarray(off, off + BLOCK_SIZE_BYTES));
      if (actual !== expected) {
        this.counters.checksumErrors += 1;
        bad.push({
          chunkIndex: index,
          blockIndex: (start + off) / BLOCK_SIZE_BYTES,
          offsetBytes: start + off,
          expectedCrc: expected,
          actualCrc: actual,
        });
      }
    }
  }

  /**
   * Rewrites whole blocks from known-good bytes (a peer's copy). Every supplied block must match
   * the checksum this replica already holds for it, otherwise nothing is written and
   * CHECKSUM_MISMATCH is thrown (the peer's chunk differs: use installChunk for the whole chunk).
   * The index does not change, so no dirty mark is needed; the next flush makes it durable.
   */
  repairBlocks(offsetBytes: number, data: Uint8Array): void {
    this.checkUsable();
    this.checkRange(offsetBytes, data.byteLength);
    if (offsetBytes % BLOCK_SIZE_BYTES !== 0 || data.byteLength % BLOCK_SIZE_BYTES !== 0) {
      throw new BallastError('INVALID_ARGUMENT', 'repairBlocks needs whole 4 KiB blocks');
    }
    const buf = asBuffer(data);
    for (let off = 0; off < buf.length; off += BLOCK_SIZE_BYTES) {
      const pos = offsetBytes + off;
      const expected = this.expectedCrc(pos);
      const actual = crc32c(buf.subarray(off, off + BLOCK_SIZE_BYTES));
      if (actual !== expected) {
        throw new BallastError(
          'CHECKSUM_MISMATCH',
          `repair bytes for block ${pos / BLOCK_SIZE_BYTES} do not match its stored checksum`,
          { replicaId: this.replicaId, blockIndex: pos / BLOCK_SIZE_BYTES, offsetBytes: pos },
        );
      }
    }
    try {
      this.pwriteAll([buf], offsetBytes);
    } catch (err) {
      this.dataSyncNeeded = true;
      throw new BallastError(
        'IO',
        `repair write failed: ${String(err)}`,
        { errno: errnoOf(err) },
        err,
      );
    }
    this.dataSyncNeeded = true;
    this.counters.repairedBlocks += buf.length / BLOCK_SIZE_BYTES;
  }

  // ---------------------------------------------------------------------------------------
  // Reporting

  /** Bytes the data file really occupies (st_blocks), i.e. thin-provisioned usage. */
  usedBytes(): number {
    return this.file === null ? 0 : this.file.allocatedBytes() + this.snapshots.allocatedBytes();
  }

  stats(): ReplicaStats {
    return {
      replicaId: this.replicaId,
      state: this.stateValue,
      sizeBytes: this.record.sizeBytes,
      chunkSizeBytes: this.chunkSizeBytes,
      usedBytes: this.stateValue === 'open' || this.stateValue === 'closing' ? this.usedBytes() : 0,
      dirtyChunks: this.markedMetas.size,
      queuedMutations: this.queue.length,
      recoveredChunks: this.recoveredChunks,
      counters: { ...this.counters },
    };
  }

  /** Flush latencies (ms) since the last call, oldest first; at most 1024 are kept. */
  takeFlushLatencySamples(): number[] {
    const samples = this.flushLatencySamplesMs;
    this.flushLatencySamplesMs = [];
    return samples;
  }

  /** @internal The failure that stopped this replica, if any. */
  get failureReason(): string | null {
    return this.failure === null ? null : String(this.failure);
  }

  // ---------------------------------------------------------------------------------------
  // Lifecycle (driven by ChunkStore)

  /** @internal Grows the replica; the record is durable before the new size is served. */
  async resize(newSizeBytes: number, validate: (size: number) => void): Promise<void> {
    this.checkUsable();
    validate(newSizeBytes);
    if (newSizeBytes < this.record.sizeBytes) {
      throw new BallastError('INVALID_ARGUMENT', 'replicas only grow; shrinking is not supported', {
        sizeBytes: this.record.sizeBytes,
        requestedBytes: newSizeBytes,
      });
    }
    if (newSizeBytes === this.record.sizeBytes) return;
    this.dataFile().truncate(newSizeBytes);
    try {
      await this.dataFile().sync(true);
    } catch (err) {
      // Any failed sync of the data file may have dropped dirty pages of earlier writes, not
      // only the resize's: the same rule as a failed flush (fsyncgate), the replica stops.
      this.fail(err);
      throw new BallastError(
        'IO',
        `fsync failed on replica ${this.replicaId} while growing it`,
        { errno: errnoOf(err) },
        err,
      );
    }
    const next: ReplicaRecord = { ...this.record, sizeBytes: newSizeBytes };
    await this.ctx.writer.submit([
      { type: 'put', key: replicaKey(this.replicaId), value: encodeReplicaRecord(next) },
    ]);
    this.record = next;
  }

  /**
   * @internal After an unclean stop, every chunk with a dirty mark may hold writes the index
   * does not describe. Make the file durable as it is, recompute those chunks' checksums from
   * it, bump their generations and flag them unclean, then drop the marks.
   */
  async recover(): Promise<number> {
    if (this.stateValue !== 'open') return 0;
    try {
      const recovered = await this.recoverMarkedChunks();
      await this.snapshots.load();
      return recovered;
    } catch (err) {
      // A chunk that cannot be read back (EIO) cannot be described: this replica stops serving,
      // its marks stay for the next attempt, and the store's other replicas open as usual.
      this.fail(err);
      return 0;
    }
  }

  private async recoverMarkedChunks(): Promise<number> {
    const markKeys = await this.ctx.db.keys(chunkRange('d', this.replicaId)).all();
    if (markKeys.length === 0) return 0;
    await this.dataFile().sync(true);
    const buf = Buffer.allocUnsafe(this.chunkSizeBytes);
    for (let i = 0; i < markKeys.length; i += RECOVERY_GROUP_CHUNKS) {
      const ops: IndexOp[] = [];
      for (const key of markKeys.slice(i, i + RECOVERY_GROUP_CHUNKS)) {
        const index = indexOfChunkKey(key);
        ops.push({ type: 'del', key });
        if (index >= this.chunkCount) continue;
        const gKey = chunkKey('g', this.replicaId, index);
        const stored = await this.ctx.db.get(gKey);
        const previous = stored === undefined ? 0 : decodeChunkHeader(stored, gKey).generation;
        const length = this.chunkLengthBytes(index);
        const view = buf.subarray(0, length);
        this.preadFull(view, index * this.chunkSizeBytes);
        const checksums = new Uint32Array(this.blocksPerChunk).fill(ZERO_BLOCK_CRC);
        let allZero = true;
        for (let b = 0; b * BLOCK_SIZE_BYTES < length; b++) {
          const crc = crc32c(view.subarray(b * BLOCK_SIZE_BYTES, (b + 1) * BLOCK_SIZE_BYTES));
          checksums[b] = crc;
          if (crc !== ZERO_BLOCK_CRC) allZero = false;
        }
        const meta = new ChunkMeta(
          this,
          index,
          previous + 1,
          FLAG_UNCLEAN | (allZero ? FLAG_HOLE : 0),
          allZero ? null : checksums,
        );
        this.pushRecordOps(ops, meta);
      }
      await this.ctx.writer.submit(ops);
    }
    this.recoveredChunks = markKeys.length;
    this.ctx.logger?.warn(
      { replicaId: this.replicaId, chunks: markKeys.length },
      'recovered dirty chunks after an unclean stop; they are flagged unclean until reconciled',
    );
    return markKeys.length;
  }

  /** @internal Clean close: applies queued mutations, flushes, closes the file. */
  async close(): Promise<void> {
    if (this.stateValue !== 'open') {
      await this.release();
      return;
    }
    this.stateValue = 'closing';
    try {
      await this.whenQueueIdle();
      // Marks still landing (asked for ahead by mutations that no longer needed them) must be
      // cleared by the final flush, or the next open would treat their chunks as crashed.
      while (this.markInFlight.size > 0) {
        await Promise.allSettled([...this.markInFlight.values()]);
      }
      await this.requestFlush();
    } finally {
      await this.release();
      if (this.stateValue === 'closing') this.stateValue = 'closed';
    }
  }

  /** @internal Drops all in-memory state without flushing (a simulated crash, for tests). */
  async abandon(): Promise<void> {
    if (this.stateValue === 'open' || this.stateValue === 'closing') this.stateValue = 'closed';
    await this.release();
  }

  /** @internal Stops serving before the store deletes the replica's file and keys. */
  async destroy(): Promise<void> {
    this.stateValue = 'deleted';
    await this.release();
  }

  private async release(): Promise<void> {
    await this.whenQueueIdle();
    while (this.flushInFlight !== null || this.flushNext !== null) {
      await (this.flushNext ?? this.flushInFlight)?.catch(() => undefined);
    }
    while (this.markInFlight.size > 0) {
      await Promise.allSettled([...this.markInFlight.values()]);
    }
    this.snapshots.close();
    if (this.file !== null) {
      this.file.close();
      this.file = null;
    }
    for (const meta of this.metas.values()) this.ctx.cache.drop(meta);
    this.metas.clear();
    this.markedMetas.clear();
  }

  /** Evicted from the cache (MetaOwner). */
  evictMeta(meta: ChunkMeta): void {
    assert(!meta.pinned, 'evicting pinned chunk metadata');
    if (this.metas.get(meta.index) === meta) this.metas.delete(meta.index);
  }

  // ---------------------------------------------------------------------------------------
  // Mutation queue and dirty marks

  private submit(mutation: Mutation, first: number, last: number): Promise<void> | undefined {
    if (this.queue.length === 0 && this.tryClaim(first, last)) {
      this.apply(mutation, first, last);
      return undefined;
    }
    if (this.queue.length >= MAX_QUEUED_OPS_PER_REPLICA) {
      this.flagUnclean(first, last);
      throw new BallastError('UNAVAILABLE', 'too many mutations waiting for dirty marks', {
        replicaId: this.replicaId,
        queued: this.queue.length,
      });
    }
    this.counters.mutationsQueued += 1;
    const promise = new Promise<void>((resolve, reject) => {
      this.queue.push({ mutation, first, last, resolve, reject });
    });
    // Start marking now so that marks of many queued mutations share one batch; a failure
    // here surfaces when the mutation reaches the head of the queue and retries.
    this.markChunks(first, last).catch(() => undefined);
    if (!this.queueRunning) void this.runQueue();
    return promise;
  }

  /**
   * True when every chunk in [first, last] may be mutated now: it holds a durable mark in the
   * current interval, or belongs to the flush being prepared whose batch is not built yet (the
   * flush will then keep its mark). Claims those chunks for the current interval.
   */
  private tryClaim(first: number, last: number): boolean {
    const keeping = this.snapshots.active;
    for (let c = first; c <= last; c++) {
      const meta = this.metas.get(c);
      if (meta === undefined) return false;
      if (!meta.marked && !(meta.closing && !this.closingBuilt)) return false;
      // The first mutation after a snapshot keeps the chunk first (on the marking path).
      if (keeping && this.snapshots.needsKeep(c)) return false;
    }
    for (let c = first; c <= last; c++) {
      const meta = this.metas.get(c)!;
      if (!meta.marked) {
        meta.marked = true;
        this.markedMetas.add(meta);
      }
    }
    return true;
  }

  private markChunks(first: number, last: number): Promise<void> {
    const waits: Promise<void>[] = [];
    const fresh: number[] = [];
    for (let c = first; c <= last; c++) {
      const meta = this.metas.get(c);
      if (
        meta !== undefined &&
        (meta.marked || (meta.closing && !this.closingBuilt)) &&
        !this.snapshots.needsKeep(c)
      ) {
        continue;
      }
      const inFlight = this.markInFlight.get(c);
      if (inFlight !== undefined) waits.push(inFlight);
      else fresh.push(c);
    }
    if (fresh.length > 0) {
      const written = this.writeMarks(fresh);
      for (const c of fresh) this.markInFlight.set(c, written);
      waits.push(written);
    }
    if (waits.length === 0) return Promise.resolve();
    return Promise.all(waits).then(() => undefined);
  }

  private async writeMarks(indices: number[]): Promise<void> {
    let kept: PendingVersions | null = null;
    try {
      await this.ctx.reserveDirty(indices.length * this.fullMetaBytes);
      if (this.stateValue !== 'open' && this.stateValue !== 'closing') throw this.unusableError();
      const ops: IndexOp[] = indices.map((c) => ({
        type: 'put' as const,
        key: chunkKey('d', this.replicaId, c),
        value: EMPTY,
      }));
      if (this.snapshots.active) {
        kept = await this.keepForSnapshots(indices.filter((c) => this.snapshots.needsKeep(c)));
        if (kept !== null) ops.push(...kept.ops);
      }
      // The kept versions and the marks land in one batch: a chunk is never mutated before
      // the version a snapshot reads is durable.
      await this.ctx.writer.submit(ops);
      kept?.commit();
      kept = null;
      this.counters.dirtyMarks += indices.length;
      if (this.stateValue === 'open' || this.stateValue === 'closing') {
        for (const c of indices) this.pinMarked(c);
      }
    } finally {
      kept?.abort();
      for (const c of indices) this.markInFlight.delete(c);
    }
  }

  /**
   * Copies chunks a snapshot still reads before their first mutation since it (the state and
   * the data are taken in this synchronous step; nothing mutates them until the versions are
   * committed, because tryClaim refuses chunks that still need keeping).
   */
  private async keepForSnapshots(indices: number[]): Promise<PendingVersions | null> {
    if (indices.length === 0) return null;
    const states: KeptChunkState[] = indices.map((c) => {
      const meta = this.getMeta(c);
      return {
        index: c,
        generation: meta.generation,
        flags: meta.flags,
        digest: this.digestOf(meta.checksums),
        checksums: meta.checksums,
      };
    });
    let kept: PendingVersions;
    try {
      kept = await this.snapshots.keep(states, (buf, position) => this.preadFull(buf, position));
    } catch (err) {
      // Pages of the snapshot file may be gone: the same rule as the data file (D26).
      if ((err as { syncFailed?: boolean }).syncFailed === true) this.fail(err);
      throw err;
    }
    // Another sync of the snapshot file failed while ours ran: the pages it dropped may be
    // these versions', and ours may have reported success without them (found by the
    // simulation, seed 483: a version committed that way read back corrupt after a power cut).
    if ((this.stateValue as ReplicaState) === 'failed') {
      kept.abort();
      throw this.unusableError();
    }
    return kept;
  }

  private pinMarked(index: number): void {
    const meta = this.acquire(index, (m) => {
      m.marked = true;
    });
    this.markedMetas.add(meta);
  }

  /**
   * Pins a chunk's metadata (loading it if needed) so that eviction cannot separate the entry
   * being changed from the one in the lookup map.
   */
  private acquire(index: number, pin: (meta: ChunkMeta) => void): ChunkMeta {
    let meta = this.metas.get(index);
    if (meta === undefined) {
      meta = this.loadMeta(index);
      pin(meta);
      this.metas.set(index, meta);
      this.ctx.cache.add(meta);
    } else {
      pin(meta);
      this.ctx.cache.updatePin(meta);
    }
    return meta;
  }

  private async runQueue(): Promise<void> {
    this.queueRunning = true;
    try {
      while (this.queue.length > 0) {
        const head = this.queue[0]!;
        let error: unknown = null;
        for (let attempt = 0; error === null; attempt++) {
          if (this.stateValue !== 'open' && this.stateValue !== 'closing') {
            error = this.unusableError();
          } else if (this.tryClaim(head.first, head.last)) {
            break;
          } else if (attempt >= MAX_MARK_ATTEMPTS) {
            error = new BallastError('UNAVAILABLE', 'could not keep chunks marked dirty', {
              replicaId: this.replicaId,
            });
          } else {
            try {
              await this.markChunks(head.first, head.last);
            } catch (err) {
              error = err;
            }
          }
        }
        this.queue.shift();
        if (error !== null) {
          this.flagUnclean(head.first, head.last);
          head.reject(error);
          continue;
        }
        try {
          this.apply(head.mutation, head.first, head.last);
          head.resolve();
        } catch (err) {
          head.reject(err);
        }
      }
    } finally {
      this.queueRunning = false;
      const waiters = this.queueIdleWaiters;
      this.queueIdleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private whenQueueIdle(): Promise<void> {
    if (!this.queueRunning && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.queueIdleWaiters.push(resolve));
  }

  // ---------------------------------------------------------------------------------------
  // Applying mutations (all chunks involved are claimed: marked in the current interval)

  private apply(mutation: Mutation, first: number, last: number): void {
    try {
      switch (mutation.kind) {
        case 'write':
          this.applyWrite(mutation.offset, mutation.data, mutation.length);
          break;
        case 'zero':
          this.applyZero(mutation.offset, mutation.length, mutation.punch, mutation.trim);
          break;
        case 'install':
          this.applyInstall(mutation.index, mutation.generation, mutation.data);
          break;
      }
    } catch (err) {
      if (err instanceof AssertionError) throw err;
      const failure = err instanceof BallastError ? err : this.afterFailedMutation(mutation, err);
      this.flagUnclean(first, last);
      throw failure;
    }
  }

  /**
   * A mutation of these chunks failed here after it was accepted (a checksum failure in a
   * read-modify-write, a disk error, no dirty mark), while later mutations of the same chunks
   * may still apply: the replica then no longer holds a prefix of the stream it was sent, and
   * its generation stops saying which writes it holds. A peer that failed a different write to
   * the same chunk could reach the same generation with other bytes. Flag the chunks unclean
   * (durably, and in memory at once so any later flush writes the flag too) so that reconcile
   * and rebuild copy them instead of trusting equal generations.
   */
  private flagUnclean(first: number, last: number): void {
    if (this.stateValue !== 'open' && this.stateValue !== 'closing') return;
    const pinned: ChunkMeta[] = [];
    const ops: IndexOp[] = [];
    for (let c = first; c <= last; c++) {
      let meta: ChunkMeta;
      try {
        meta = this.acquire(c, (m) => {
          m.ioPins += 1;
        });
      } catch (err) {
        // An unreadable index record fails every access to the chunk anyway.
        this.ctx.logger?.warn(
          { replicaId: this.replicaId, chunkIndex: c, err },
          'cannot flag a chunk unclean after a failed mutation',
        );
        continue;
      }
      meta.flags |= FLAG_UNCLEAN;
      pinned.push(meta);
      this.pushRecordOps(ops, meta);
    }
    if (pinned.length === 0) return;
    this.counters.uncleanFlags += pinned.length;
    this.ctx.writer.submit(ops).then(
      () => this.unpin(pinned),
      (err: unknown) => {
        // The flag stays in memory and reaches the index with the next flush of the chunk.
        this.ctx.logger?.error(
          { replicaId: this.replicaId, err },
          'writing unclean flags after a failed mutation failed',
        );
        this.unpin(pinned);
      },
    );
  }

  private unpin(metas: ChunkMeta[]): void {
    for (const meta of metas) {
      meta.ioPins -= 1;
      this.ctx.cache.updatePin(meta);
    }
  }

  private applyWrite(offset: number, payload: Buffer | readonly Buffer[], length: number): void {
    let data: Buffer;
    if (Buffer.isBuffer(payload)) {
      data = payload;
    } else if (offset % BLOCK_SIZE_BYTES === 0 && length % BLOCK_SIZE_BYTES === 0) {
      this.applyAlignedParts(offset, payload, length);
      return;
    } else {
      // Unaligned edges need read-modify-write on whole blocks: join the parts (rare for
      // multi-part payloads, which are large writes).
      data = Buffer.concat(payload as Buffer[], length);
    }
    const end = offset + data.length;
    const alignedStart = floorBlock(offset);
    const alignedEnd = ceilBlock(end);
    const lastBlock = alignedEnd - BLOCK_SIZE_BYTES;
    let head: Buffer | null = null;
    let tail: Buffer | null = null;
    if (offset !== alignedStart || end < alignedStart + BLOCK_SIZE_BYTES) {
      head = this.readVerifiedBlock(alignedStart);
      data.copy(
        head,
        offset - alignedStart,
        0,
        Math.min(end, alignedStart + BLOCK_SIZE_BYTES) - offset,
      );
    }
    if (lastBlock > alignedStart && end < alignedEnd) {
      tail = this.readVerifiedBlock(lastBlock);
      data.copy(tail, 0, lastBlock - offset, data.length);
    }
    const buffers: Buffer[] = [];
    if (head) buffers.push(head);
    const midStart = head ? alignedStart + BLOCK_SIZE_BYTES : alignedStart;
    const midEnd = tail ? lastBlock : alignedEnd;
    if (midEnd > midStart) buffers.push(data.subarray(midStart - offset, midEnd - offset));
    if (tail) buffers.push(tail);
    let count = 0;
    for (const b of buffers) {
      if (b.length === BLOCK_SIZE_BYTES) {
        scratchCrcs[count++] = crc32c(b);
        continue;
      }
      for (let off = 0; off < b.length; off += BLOCK_SIZE_BYTES) {
        scratchCrcs[count++] = crc32c(b.subarray(off, off + BLOCK_SIZE_BYTES));
      }
    }
    this.pwriteAll(buffers, alignedStart);
    this.dataSyncNeeded = true;
    this.setChecksums(alignedStart, scratchCrcs, count);
    this.bumpGenerations(this.chunkOf(offset), this.chunkOf(end - 1));
    this.counters.writeOps += 1;
    this.counters.writeBytes += data.length;
  }

  /**
   * A block-aligned write given in parts: checksums per block (a block may span parts: its
   * CRC is carried from one part into the next), then one pwritev of the parts as they are.
   */
  private applyAlignedParts(offset: number, parts: readonly Buffer[], length: number): void {
    let count = 0;
    let crc = 0;
    let inBlock = 0;
    for (const part of parts) {
      let pos = 0;
      while (pos < part.length) {
        if (inBlock === 0 && part.length - pos >= BLOCK_SIZE_BYTES) {
          scratchCrcs[count++] = crc32c(part.subarray(pos, pos + BLOCK_SIZE_BYTES));
          pos += BLOCK_SIZE_BYTES;
          continue;
        }
        const take = Math.min(BLOCK_SIZE_BYTES - inBlock, part.length - pos);
        crc = crc32c(part.subarray(pos, pos + take), crc);
        inBlock += take;
        pos += take;
        if (inBlock === BLOCK_SIZE_BYTES) {
          scratchCrcs[count++] = crc;
          crc = 0;
          inBlock = 0;
        }
      }
    }
    assert(
      inBlock === 0 && count * BLOCK_SIZE_BYTES === length,
      'aligned parts cover whole blocks',
    );
    this.pwriteAll(parts as Buffer[], offset);
    this.dataSyncNeeded = true;
    this.setChecksums(offset, scratchCrcs, count);
    this.bumpGenerations(this.chunkOf(offset), this.chunkOf(offset + length - 1));
    this.counters.writeOps += 1;
    this.counters.writeBytes += length;
  }

  private applyZero(offset: number, length: number, punch: boolean, trim: boolean): void {
    const end = offset + length;
    const headBlock = offset % BLOCK_SIZE_BYTES !== 0 ? floorBlock(offset) : -1;
    let tailBlock = end % BLOCK_SIZE_BYTES !== 0 ? floorBlock(end) : -1;
    if (tailBlock === headBlock) tailBlock = -1;
    // Read and verify both edges before changing anything.
    const edges: Array<{ pos: number; buf: Buffer }> = [];
    if (headBlock >= 0) {
      const buf = this.readVerifiedBlock(headBlock);
      buf.fill(0, offset - headBlock, Math.min(end, headBlock + BLOCK_SIZE_BYTES) - headBlock);
      edges.push({ pos: headBlock, buf });
    }
    if (tailBlock >= 0) {
      const buf = this.readVerifiedBlock(tailBlock);
      buf.fill(0, Math.max(offset, tailBlock) - tailBlock, end - tailBlock);
      edges.push({ pos: tailBlock, buf });
    }
    const wholeStart = ceilBlock(offset);
    const wholeEnd = floorBlock(end);
    for (const edge of edges) this.pwriteAll([edge.buf], edge.pos);
    if (wholeEnd > wholeStart) {
      this.metadataSyncNeeded = true;
      if (punch) this.dataFile().punchHole(wholeStart, wholeEnd - wholeStart);
      else this.dataFile().zeroRange(wholeStart, wholeEnd - wholeStart);
    }
    this.dataSyncNeeded = true;
    for (const edge of edges) {
      scratchCrcs[0] = crc32c(edge.buf);
      this.setChecksums(edge.pos, scratchCrcs, 1);
    }
    const first = this.chunkOf(offset);
    const last = this.chunkOf(end - 1);
    for (let c = first; c <= last; c++) {
      const meta = this.claimedMeta(c);
      const chunkStart = c * this.chunkSizeBytes;
      const chunkEnd = chunkStart + this.chunkLengthBytes(c);
      if (offset <= chunkStart && end >= chunkEnd) {
        this.makeHole(meta);
      } else {
        const from = Math.max(wholeStart, chunkStart);
        const to = Math.min(wholeEnd, chunkEnd);
        if (to > from) {
          const checksums = this.materialize(meta);
          checksums.fill(
            ZERO_BLOCK_CRC,
            (from - chunkStart) / BLOCK_SIZE_BYTES,
            (to - chunkStart) / BLOCK_SIZE_BYTES,
          );
        }
        if (meta.checksums !== null && meta.checksums.every((crc) => crc === ZERO_BLOCK_CRC)) {
          this.makeHole(meta);
        }
      }
      advanceGeneration(meta);
    }
    if (trim) {
      this.counters.trimOps += 1;
      this.counters.trimBytes += length;
    } else {
      this.counters.zeroOps += 1;
      this.counters.zeroBytes += length;
    }
  }

  private applyInstall(index: number, generation: number, data: Buffer | null): void {
    const start = index * this.chunkSizeBytes;
    const length = this.chunkLengthBytes(index);
    const meta = this.claimedMeta(index);
    if (data === null) {
      this.metadataSyncNeeded = true;
      this.dataFile().punchHole(start, length);
      this.dataSyncNeeded = true;
      this.makeHole(meta);
    } else {
      const checksums = new Uint32Array(this.blocksPerChunk).fill(ZERO_BLOCK_CRC);
      let allZero = true;
      for (let b = 0; b * BLOCK_SIZE_BYTES < length; b++) {
        const crc = crc32c(data.subarray(b * BLOCK_SIZE_BYTES, (b + 1) * BLOCK_SIZE_BYTES));
        checksums[b] = crc;
        if (crc !== ZERO_BLOCK_CRC) allZero = false;
      }
      this.pwriteAll([data], start);
      this.dataSyncNeeded = true;
      if (allZero) {
        this.makeHole(meta);
      } else {
        meta.checksums = checksums;
        meta.flags &= ~FLAG_HOLE;
        this.ctx.cache.reaccount(meta);
      }
    }
    meta.flags &= ~FLAG_UNCLEAN;
    meta.generation = generation;
    this.counters.chunkInstalls += 1;
  }

  /**
   * A pwrite or fallocate failed part-way (ENOSPC, EIO): the file may hold any mix of old and
   * new bytes in the range. Re-derive the checksums of the range from what the file holds, so
   * reads stay truthful, and bump generations (the chunks are marked dirty, so this is also
   * what recovery would do). If even that fails, the replica stops serving.
   */
  private afterFailedMutation(mutation: Mutation, cause: unknown): BallastError {
    this.dataSyncNeeded = true;
    this.metadataSyncNeeded = true;
    let start: number;
    let end: number;
    if (mutation.kind === 'install') {
      start = mutation.index * this.chunkSizeBytes;
      end = start + this.chunkLengthBytes(mutation.index);
    } else {
      start = floorBlock(mutation.offset);
      end = ceilBlock(mutation.offset + mutation.length);
    }
    try {
      const block = Buffer.allocUnsafe(BLOCK_SIZE_BYTES);
      for (let pos = start; pos < end; pos += BLOCK_SIZE_BYTES) {
        this.preadFull(block, pos);
        scratchCrcs[0] = crc32c(block);
        this.setChecksums(pos, scratchCrcs, 1);
      }
      this.bumpGenerations(this.chunkOf(start), this.chunkOf(end - 1));
    } catch (err) {
      this.fail(err);
    }
    return new BallastError(
      'IO',
      `${mutation.kind} failed on replica ${this.replicaId}: ${String(cause)}`,
      { replicaId: this.replicaId, errno: errnoOf(cause) },
      cause,
    );
  }

  private claimedMeta(index: number): ChunkMeta {
    const meta = this.metas.get(index);
    if (meta === undefined || !meta.marked) {
      throw new AssertionError(`chunk ${index} mutated without a dirty mark`);
    }
    return meta;
  }

  private materialize(meta: ChunkMeta): Uint32Array {
    if (meta.checksums === null) {
      meta.checksums = new Uint32Array(this.blocksPerChunk).fill(ZERO_BLOCK_CRC);
      this.ctx.cache.reaccount(meta);
    }
    meta.flags &= ~FLAG_HOLE;
    return meta.checksums;
  }

  private makeHole(meta: ChunkMeta): void {
    meta.checksums = null;
    meta.flags |= FLAG_HOLE;
    this.ctx.cache.reaccount(meta);
  }

  /** Stores the first `count` CRCs of `crcs` for consecutive blocks from the block-aligned `start`. */
  private setChecksums(start: number, crcs: Uint32Array, count: number): void {
    let i = 0;
    let pos = start;
    const end = start + count * BLOCK_SIZE_BYTES;
    while (pos < end) {
      const c = this.chunkOf(pos);
      const chunkStart = c * this.chunkSizeBytes;
      const stop = Math.min(chunkStart + this.chunkSizeBytes, end);
      const checksums = this.materialize(this.claimedMeta(c));
      for (let p = pos; p < stop; p += BLOCK_SIZE_BYTES) {
        checksums[(p - chunkStart) / BLOCK_SIZE_BYTES] = crcs[i++]!;
      }
      pos = stop;
    }
  }

  private bumpGenerations(first: number, last: number): void {
    for (let c = first; c <= last; c++) advanceGeneration(this.claimedMeta(c));
  }

  // ---------------------------------------------------------------------------------------
  // Flush

  private requestFlush(): Promise<void> {
    if (this.flushInFlight === null) return this.startFlush();
    if (this.flushNext === null) {
      this.flushNext = this.flushInFlight
        .catch(() => undefined)
        .then(() => {
          this.flushNext = null;
          return this.startFlush();
        });
    }
    return this.flushNext;
  }

  private startFlush(): Promise<void> {
    const running = this.runFlush();
    this.flushInFlight = running;
    const clear = (): void => {
      if (this.flushInFlight === running) this.flushInFlight = null;
    };
    running.then(clear, clear);
    return running;
  }

  private async runFlush(): Promise<void> {
    if (this.stateValue !== 'open' && this.stateValue !== 'closing') throw this.unusableError();
    const startedMs = this.ctx.clock.monotonicMs();
    const closing = this.markedMetas;
    this.markedMetas = new Set();
    for (const meta of closing) {
      meta.marked = false;
      meta.closing = true; // still pinned
    }
    this.closingBuilt = false;
    const syncData = this.dataSyncNeeded || closing.size > 0;
    const syncMetadata = this.metadataSyncNeeded;
    this.dataSyncNeeded = false;
    this.metadataSyncNeeded = false;
    let committed = false;
    try {
      if (syncData) {
        try {
          await this.dataFile().sync(syncMetadata);
        } catch (err) {
          // After a failed fdatasync the kernel may have dropped the dirty pages: retrying
          // could report success for data that is gone. Stop serving (fsyncgate).
          this.fail(err);
          throw new BallastError(
            'IO',
            `fdatasync failed on replica ${this.replicaId}`,
            { errno: errnoOf(err) },
            err,
          );
        }
      }
      // Another sync of this file failed while ours ran (a resize's): the pages it dropped may
      // be ones this flush covers, and ours may have reported success without them.
      if ((this.stateValue as ReplicaState) === 'failed') throw this.unusableError();
      const ops: IndexOp[] = [];
      for (const meta of closing) {
        this.pushRecordOps(ops, meta);
        // Keep the mark of a chunk written again since this flush began (or being marked).
        if (!meta.marked && !this.markInFlight.has(meta.index)) {
          ops.push({ type: 'del', key: chunkKey('d', this.replicaId, meta.index) });
        }
      }
      this.closingBuilt = true;
      await this.ctx.writer.submit(ops);
      committed = true;
    } catch (err) {
      this.counters.flushErrors += 1;
      throw err;
    } finally {
      for (const meta of closing) {
        meta.closing = false;
        if (!committed && !meta.marked && this.metas.get(meta.index) === meta) {
          // The batch did not land, so the durable mark is still there: keep the chunk dirty.
          meta.marked = true;
          this.markedMetas.add(meta);
        }
        this.ctx.cache.updatePin(meta);
      }
      this.closingBuilt = false;
    }
    const latencyMs = this.ctx.clock.monotonicMs() - startedMs;
    this.counters.flushes += 1;
    this.counters.flushLatencyMsTotal += latencyMs;
    if (this.flushLatencySamplesMs.length >= FLUSH_LATENCY_SAMPLE_CAPACITY) {
      this.flushLatencySamplesMs.shift();
    }
    this.flushLatencySamplesMs.push(latencyMs);
  }

  /** @internal Bytes of metadata pinned dirty by this replica (for the store's pressure relief). */
  get dirtyMetadataBytes(): number {
    return this.markedMetas.size * this.fullMetaBytes;
  }

  /** @internal A flush requested by the store to bring pinned metadata under its budget. */
  flushForPressure(): Promise<void> {
    if (this.stateValue !== 'open' && this.stateValue !== 'closing') return Promise.resolve();
    return this.requestFlush();
  }

  private pushRecordOps(ops: IndexOp[], meta: ChunkMeta): void {
    const gKey = chunkKey('g', this.replicaId, meta.index);
    const kKey = chunkKey('k', this.replicaId, meta.index);
    if (meta.generation === 0 && meta.flags === FLAG_HOLE) {
      ops.push({ type: 'del', key: gKey }, { type: 'del', key: kKey });
      return;
    }
    // The checksums record ends with the CRC32C of the checksums as little-endian u32s, which
    // is the chunk's digest (D24): computed once for both records.
    const checksums = meta.checksums === null ? null : encodeChecksums(meta.checksums);
    const digest =
      checksums === null ? this.digestOf(null) : checksums.readUInt32LE(checksums.length - 4);
    ops.push({
      type: 'put',
      key: gKey,
      value: encodeChunkHeader({ generation: meta.generation, flags: meta.flags, digest }),
    });
    if (checksums === null) ops.push({ type: 'del', key: kKey });
    else ops.push({ type: 'put', key: kKey, value: checksums });
  }

  // ---------------------------------------------------------------------------------------
  // Metadata access

  private getMeta(index: number): ChunkMeta {
    const cached = this.metas.get(index);
    if (cached !== undefined) {
      this.ctx.cache.hits += 1;
      this.ctx.cache.touch(cached);
      return cached;
    }
    this.ctx.cache.misses += 1;
    const meta = this.loadMeta(index);
    this.metas.set(index, meta);
    this.ctx.cache.add(meta);
    return meta;
  }

  /** Metadata without caching it (scrub walks whole replicas and must not flush the cache). */
  private peekMeta(index: number): ChunkMeta {
    return this.metas.get(index) ?? this.loadMeta(index);
  }

  private loadMeta(index: number): ChunkMeta {
    const gKey = chunkKey('g', this.replicaId, index);
    const header = this.ctx.db.getSync(gKey);
    if (header === undefined) return new ChunkMeta(this, index, 0, FLAG_HOLE, null);
    const { generation, flags } = decodeChunkHeader(header, gKey);
    if ((flags & FLAG_HOLE) !== 0) return new ChunkMeta(this, index, generation, flags, null);
    const kKey = chunkKey('k', this.replicaId, index);
    const stored = this.ctx.db.getSync(kKey);
    if (stored === undefined) {
      throw new BallastError('CHECKSUM_MISMATCH', `index has no checksums for chunk ${index}`, {
        replicaId: this.replicaId,
        chunkIndex: index,
      });
    }
    return new ChunkMeta(
      this,
      index,
      generation,
      flags,
      decodeChecksums(stored, this.blocksPerChunk, kKey),
    );
  }

  private infoOf(meta: ChunkMeta): ChunkMapEntry {
    return {
      index: meta.index,
      generation: meta.generation,
      hole: meta.hole,
      dirty: meta.marked || meta.closing || this.markInFlight.has(meta.index),
      unclean: (meta.flags & FLAG_UNCLEAN) !== 0,
      digest: this.digestOf(meta.checksums),
    };
  }

  /**
   * The chunk's digest (D24): CRC32C of its block checksums as little-endian u32s, a hole
   * counting as zero blocks, so the same bytes give the same digest however they were written.
   */
  private digestOf(checksums: Uint32Array | null): number {
    if (checksums === null) {
      if (this.holeDigest === null) {
        this.holeDigest = this.digestOf(new Uint32Array(this.blocksPerChunk).fill(ZERO_BLOCK_CRC));
      }
      return this.holeDigest;
    }
    const bytes = Buffer.from(checksums.buffer, checksums.byteOffset, checksums.byteLength);
    if (LITTLE_ENDIAN) return crc32c(bytes);
    const le = Buffer.allocUnsafe(checksums.length * 4);
    for (let i = 0; i < checksums.length; i++) le.writeUInt32LE(checksums[i]!, i * 4);
    return crc32c(le);
  }

  private expectedCrc(pos: number): number {
    const c = this.chunkOf(pos);
    const meta = this.getMeta(c);
    return meta.checksums
      ? meta.checksums[(pos - c * this.chunkSizeBytes) / BLOCK_SIZE_BYTES]!
      : ZERO_BLOCK_CRC;
  }

  // ---------------------------------------------------------------------------------------
  // Verification and raw I/O

  /** Verifies block-aligned `buf` read from `start`; throws on the first bad block. */
  private verifyOrThrow(buf: Buffer, start: number): void {
    let pos = start;
    const end = start + buf.length;
    while (pos < end) {
      const c = this.chunkOf(pos);
      const chunkStart = c * this.chunkSizeBytes;
      const stop = Math.min(chunkStart + this.chunkSizeBytes, end);
      const meta = this.getMeta(c);
      const checksums = meta.checksums;
      for (let p = pos; p < stop; p += BLOCK_SIZE_BYTES) {
        const expected = checksums
          ? checksums[(p - chunkStart) / BLOCK_SIZE_BYTES]!
          : ZERO_BLOCK_CRC;
        const actual = crc32c(
          buf.length === BLOCK_SIZE_BYTES
            ? buf
            : buf.subarray(p - start, p - start + BLOCK_SIZE_BYTES),
        );
        if (actual !== expected) throw this.checksumError(c, p, expected, actual);
      }
      pos = stop;
    }
  }

  private readVerifiedBlock(pos: number): Buffer {
    const block = takeBuffer(BLOCK_SIZE_BYTES);
    this.preadFull(block, pos);
    this.verifyOrThrow(block, pos);
    return block;
  }

  private checksumError(
    chunkIndex: number,
    pos: number,
    expected: number,
    actual: number,
  ): BallastError {
    this.counters.checksumErrors += 1;
    const blockIndex = pos / BLOCK_SIZE_BYTES;
    return new BallastError(
      'CHECKSUM_MISMATCH',
      `checksum mismatch in replica ${this.replicaId} block ${blockIndex} (offset ${pos})`,
      {
        replicaId: this.replicaId,
        chunkIndex,
        blockIndex,
        offsetBytes: pos,
        expectedCrc: expected,
        actualCrc: actual,
      },
    );
  }

  /** Reads until `buf` is full; past the end of the file reads as zeroes. */
  private preadFull(buf: Buffer, position: number): void {
    this.dataFile().readFull(buf, position);
  }

  private pwriteAll(buffers: Buffer[], position: number): void {
    this.dataFile().writeAll(buffers, position);
  }

  /** The open data file; a released replica has none (checkUsable refuses before this). */
  private dataFile(): DataFile {
    if (this.file === null) {
      throw new BallastError('UNAVAILABLE', `replica ${this.replicaId} is not open`);
    }
    return this.file;
  }

  // ---------------------------------------------------------------------------------------
  // Checks

  private chunkOf(offset: number): number {
    return Math.floor(offset / this.chunkSizeBytes);
  }

  private checkRange(offset: number, length: number, maxLength = MAX_IO_BYTES): void {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `offset must be a non-negative integer, not ${offset}`,
      );
    }
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `length must be a non-negative integer, not ${length}`,
      );
    }
    if (length > maxLength) {
      throw new BallastError('TOO_LARGE', `requests are at most ${maxLength} bytes, got ${length}`);
    }
    if (offset + length > this.record.sizeBytes) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `range ${offset}+${length} is outside replica ${this.replicaId} (${this.record.sizeBytes} bytes)`,
        {
          replicaId: this.replicaId,
          offsetBytes: offset,
          lengthBytes: length,
          sizeBytes: this.record.sizeBytes,
        },
      );
    }
  }

  private checkChunkIndex(index: number): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.chunkCount) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `chunk index ${index} is outside replica ${this.replicaId} (${this.chunkCount} chunks)`,
      );
    }
  }

  private checkUsable(): void {
    if (this.stateValue !== 'open') throw this.unusableError();
  }

  private unusableError(): BallastError {
    switch (this.stateValue) {
      case 'deleted':
        return new BallastError('NOT_FOUND', `replica ${this.replicaId} was deleted`);
      case 'failed':
        return new BallastError('IO', `replica ${this.replicaId} failed: ${String(this.failure)}`, {
          replicaId: this.replicaId,
        });
      default:
        return new BallastError('UNAVAILABLE', `replica ${this.replicaId} is ${this.stateValue}`);
    }
  }

  private fail(err: unknown): void {
    if (this.stateValue === 'failed') return;
    this.failure = err;
    this.stateValue = 'failed';
    this.ctx.logger?.error({ replicaId: this.replicaId, err }, 'replica failed; it stops serving');
  }
}
