import { BallastError, assert, type Logger } from '@ballast/common';
import { BLOCK_SIZE_BYTES, ZERO_BLOCK_CRC } from './constants.js';
import type { IndexOp, IndexWriter } from './index-writer.js';
import { parseVersionKey, snapshotKey, snapshotRange, versionKey, versionRange } from './keys.js';
import {
  decodeSnapshotRecord,
  decodeVersionRecord,
  encodeSnapshotRecord,
  encodeVersionRecord,
  type SnapshotRecord,
  type VersionRecord,
} from './records.js';
import type { DataFile, IndexDb } from './storage.js';

/**
 * A kept version of one chunk, as memory knows it. It holds the chunk as it was at snapshot
 * `tag` and at every snapshot back to the previous version's tag (exclusive): a version is made
 * at the first mutation of the chunk after the newest snapshot, so nothing changed the chunk
 * between those snapshots. See docs/snapshots.md.
 */
interface Version {
  tag: number;
  /** Slot in the snapshot file, -1 when the chunk was all zeroes (nothing stored). */
  slot: number;
  /** Bytes stored for it (non-zero blocks). */
  bytes: number;
}

/** A chunk's state at the moment it is kept: taken together with its data, synchronously. */
export interface KeptChunkState {
  index: number;
  generation: number;
  flags: number;
  digest: number;
  checksums: Uint32Array | null;
}

/** What a snapshot costs on this replica. */
export interface SnapshotUsage {
  seq: number;
  /** Bytes kept for this snapshot alone: deleting it gives them back. */
  exclusiveBytes: number;
  /** Bytes kept for this snapshot and others. */
  sharedBytes: number;
}

/** Versions made by `keep`, durable once `ops` are; then `commit`, else `abort`. */
export interface PendingVersions {
  ops: IndexOp[];
  commit(): void;
  abort(): void;
}

/** Version records deleted per index batch when a snapshot goes. */
const DROP_BATCH = 1024;

function firstTagAtLeast(list: readonly Version[], seq: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.tag < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * One replica's snapshots: their records, the kept chunk versions (copy-on-write at chunk
 * granularity: before the first mutation of a chunk after a snapshot, the chunk is copied to a
 * slot of the replica's snapshot file and a version record names it), reading a snapshot's
 * chunk, and deleting a snapshot (the versions only it needed are dropped and their slots
 * freed). The live data file is never redirected: a volume with no snapshot pays one `length`
 * check per mutation.
 */
export class ReplicaSnapshots {
  /** Ascending by seq; the one being created (not yet durable) is included. */
  private records: SnapshotRecord[] = [];
  private creating: number | null = null;
  /** Kept versions by chunk index, ascending by tag. */
  private readonly versions = new Map<number, Version[]>();
  private freeSlots: number[] = [];
  private nextSlot = 0;
  private file: DataFile | null = null;
  /** Copy-on-write copies made since the store opened (a metric). */
  readonly counters = { versionsKept: 0 };

  constructor(
    private readonly db: IndexDb,
    private readonly writer: IndexWriter,
    private readonly replicaId: string,
    private readonly chunkSizeBytes: number,
    private readonly openFile: () => DataFile,
    private readonly logger: Logger | undefined,
  ) {}

  /** True while any snapshot exists (the mutation path's one check). */
  get active(): boolean {
    return this.records.length > 0;
  }

  /**
   * Loads records and versions, then drops versions no snapshot needs (left by a crash in the
   * middle of a delete, or made for a snapshot whose record never became durable).
   */
  async load(): Promise<number> {
    this.records = [];
    this.versions.clear();
    for (const [key, value] of await this.db.iterator(snapshotRange(this.replicaId)).all()) {
      this.records.push(decodeSnapshotRecord(value, key));
    }
    this.records.sort((a, b) => a.seq - b.seq);
    const used = new Set<number>();
    for (const [key, value] of await this.db.iterator(versionRange(this.replicaId)).all()) {
      const { index, tag } = parseVersionKey(key);
      const record = decodeVersionRecord(value, key);
      let list = this.versions.get(index);
      if (list === undefined) this.versions.set(index, (list = []));
      list.push({ tag, slot: record.slot, bytes: this.storedBytes(record.checksums) });
      if (record.slot >= 0) used.add(record.slot);
    }
    let maxSlot = -1;
    for (const slot of used) maxSlot = Math.max(maxSlot, slot);
    this.nextSlot = maxSlot + 1;
    this.freeSlots = [];
    for (let s = 0; s < this.nextSlot; s++) if (!used.has(s)) this.freeSlots.push(s);
    const unneeded: Array<{ index: number; version: Version }> = [];
    for (const [index, list] of this.versions) {
      list.sort((a, b) => a.tag - b.tag);
      for (let i = 0; i < list.length; i++) {
        if (!this.needed(index, list, i)) unneeded.push({ index, version: list[i]! });
      }
    }
    await this.drop(unneeded);
    return unneeded.length;
  }

  /** Complete snapshots, oldest first. */
  list(): SnapshotRecord[] {
    return this.records.filter((r) => r.seq !== this.creating).map((r) => ({ ...r }));
  }

  get(seq: number): SnapshotRecord | undefined {
    return seq === this.creating ? undefined : this.records.find((r) => r.seq === seq);
  }

  /** The highest seq known here, complete or being created (0 when none). */
  get latestSeq(): number {
    return this.records.length === 0 ? 0 : this.records[this.records.length - 1]!.seq;
  }

  /**
   * Starts a snapshot: from now on the first mutation of each chunk keeps the chunk first.
   * The caller makes everything before this point durable, then calls `complete`.
   */
  begin(seq: number, sizeBytes: number, createdAtMs: number): SnapshotRecord {
    assert(this.creating === null, 'one snapshot at a time');
    assert(seq > this.latestSeq, 'snapshot sequence numbers increase');
    const record: SnapshotRecord = { v: 1, seq, createdAtMs, sizeBytes };
    this.records.push(record);
    this.creating = seq;
    return record;
  }

  /** Makes the record durable: the snapshot exists from here on, also after a crash. */
  async complete(record: SnapshotRecord): Promise<void> {
    assert(this.creating === record.seq, 'completing a snapshot that is not being created');
    await this.writer.submit([
      {
        type: 'put',
        key: snapshotKey(this.replicaId, record.seq),
        value: encodeSnapshotRecord(record),
      },
    ]);
    this.creating = null;
  }

  /** Gives up a snapshot that `begin` started: its versions go as for a delete. */
  async cancel(seq: number): Promise<void> {
    assert(this.creating === seq, 'cancelling a snapshot that is not being created');
    this.creating = null;
    await this.removeRecord(seq);
  }

  /** True when mutating the chunk now would change what some snapshot reads. */
  needsKeep(index: number): boolean {
    if (this.records.length === 0) return false;
    return this.tagFor(index) > this.maxTag(index);
  }

  /**
   * Copies the chunks (whose state the caller took in the same synchronous step as this call)
   * to free slots and syncs the snapshot file. The returned index ops must land durably before
   * any of these chunks is mutated; then `commit` (or `abort` when the batch failed). A failed
   * sync is thrown with `syncFailed` set: pages of the snapshot file may be gone.
   */
  async keep(
    chunks: readonly KeptChunkState[],
    readLive: (buf: Buffer, position: number) => void,
  ): Promise<PendingVersions> {
    const ops: IndexOp[] = [];
    const made: Array<{ index: number; version: Version }> = [];
    let wrote = false;
    const release = (): void => {
      for (const m of made) if (m.version.slot >= 0) this.freeSlots.push(m.version.slot);
    };
    try {
      for (const chunk of chunks) {
        const tag = this.tagFor(chunk.index);
        assert(tag > this.maxTag(chunk.index), 'keeping a chunk no snapshot needs');
        const stored = this.storedBytes(chunk.checksums);
        const slot = stored === 0 ? -1 : this.allocateSlot();
        const version: Version = { tag, slot, bytes: stored };
        made.push({ index: chunk.index, version });
        if (slot >= 0) {
          this.copyRuns(chunk, slot, readLive);
          wrote = true;
        }
        const record: VersionRecord = {
          generation: chunk.generation,
          flags: chunk.flags,
          digest: chunk.digest,
          slot,
          checksums: slot >= 0 ? chunk.checksums : null,
        };
        ops.push({
          type: 'put',
          key: versionKey(this.replicaId, chunk.index, tag),
          value: encodeVersionRecord(record),
        });
      }
      if (wrote) {
        try {
          await this.snapshotFile().sync(false);
        } catch (err) {
          throw Object.assign(
            new BallastError(
              'IO',
              `fdatasync failed on the snapshot file of ${this.replicaId}`,
              {},
              err,
            ),
            { syncFailed: true },
          );
        }
      }
    } catch (err) {
      release();
      throw err;
    }
    return {
      ops,
      commit: () => {
        for (const { index, version } of made) {
          let list = this.versions.get(index);
          if (list === undefined) this.versions.set(index, (list = []));
          list.splice(firstTagAtLeast(list, version.tag), 0, version);
          this.counters.versionsKept += 1;
        }
      },
      abort: release,
    };
  }

  /**
   * The version snapshot `seq` reads for a chunk, or null when it reads the live chunk (the
   * chunk was not mutated since that snapshot). Synchronous: nothing can change in between.
   */
  resolve(seq: number, index: number): VersionRecord | null {
    const list = this.versions.get(index);
    if (list === undefined) return null;
    const i = firstTagAtLeast(list, seq);
    if (i === list.length) return null;
    const version = list[i]!;
    const key = versionKey(this.replicaId, index, version.tag);
    const stored = this.db.getSync(key);
    if (stored === undefined) {
      throw new BallastError('CHECKSUM_MISMATCH', `index has no version record ${key}`, {
        replicaId: this.replicaId,
        chunkIndex: index,
      });
    }
    return decodeVersionRecord(stored, key);
  }

  /** Reads `buf.length` bytes of a kept version's slot from `offsetInChunk`. */
  readSlot(slot: number, buf: Buffer, offsetInChunk: number): void {
    this.snapshotFile().readFull(buf, slot * this.chunkSizeBytes + offsetInChunk);
  }

  /** Deletes a snapshot: its record first (durably), then the versions only it needed. */
  async remove(seq: number): Promise<void> {
    if (this.get(seq) === undefined) {
      throw new BallastError('NOT_FOUND', `replica ${this.replicaId} has no snapshot ${seq}`, {
        replicaId: this.replicaId,
        seq,
      });
    }
    await this.writer.submit([{ type: 'del', key: snapshotKey(this.replicaId, seq) }]);
    await this.removeRecord(seq);
  }

  /** Space per snapshot (computed from memory). */
  usage(): SnapshotUsage[] {
    const bySeq = new Map<number, SnapshotUsage>();
    for (const r of this.records)
      bySeq.set(r.seq, { seq: r.seq, exclusiveBytes: 0, sharedBytes: 0 });
    for (const [index, list] of this.versions) {
      for (let i = 0; i < list.length; i++) {
        const covering = this.covering(index, list, i);
        for (const seq of covering) {
          const u = bySeq.get(seq)!;
          if (covering.length === 1) u.exclusiveBytes += list[i]!.bytes;
          else u.sharedBytes += list[i]!.bytes;
        }
      }
    }
    return [...bySeq.values()].filter((u) => u.seq !== this.creating);
  }

  /** Bytes stored for every kept version. */
  keptBytes(): number {
    let total = 0;
    for (const list of this.versions.values()) for (const v of list) total += v.bytes;
    return total;
  }

  /** Bytes the snapshot file occupies on disk. */
  allocatedBytes(): number {
    return this.file === null ? 0 : this.file.allocatedBytes();
  }

  close(): void {
    this.file?.close();
    this.file = null;
  }

  // ---------------------------------------------------------------------------------------

  private async removeRecord(seq: number): Promise<void> {
    const at = this.records.findIndex((r) => r.seq === seq);
    if (at >= 0) this.records.splice(at, 1);
    const unneeded: Array<{ index: number; version: Version }> = [];
    for (const [index, list] of this.versions) {
      // Only the version that covered `seq` can have lost its last reader.
      const i = firstTagAtLeast(list, seq);
      if (i < list.length && !this.needed(index, list, i)) {
        unneeded.push({ index, version: list[i]! });
      }
    }
    await this.drop(unneeded);
  }

  /** Deletes version records (durably, in batches), then frees their slots. */
  private async drop(unneeded: ReadonlyArray<{ index: number; version: Version }>): Promise<void> {
    for (let i = 0; i < unneeded.length; i += DROP_BATCH) {
      const part = unneeded.slice(i, i + DROP_BATCH);
      await this.writer.submit(
        part.map(({ index, version }) => ({
          type: 'del' as const,
          key: versionKey(this.replicaId, index, version.tag),
        })),
      );
      for (const { index, version } of part) {
        const list = this.versions.get(index);
        const at = list?.indexOf(version) ?? -1;
        if (list !== undefined && at >= 0) {
          list.splice(at, 1);
          if (list.length === 0) this.versions.delete(index);
        }
        if (version.slot >= 0) this.freeSlot(version.slot);
      }
    }
  }

  private freeSlot(slot: number): void {
    // Space back now; a slot is reused only after its record is gone, and reads never look
    // at zero blocks of a slot, so stale bytes left by a failed punch are never served.
    try {
      this.snapshotFile().punchHole(slot * this.chunkSizeBytes, this.chunkSizeBytes);
    } catch (err) {
      this.logger?.warn(
        { replicaId: this.replicaId, slot, err },
        'could not punch a freed snapshot slot',
      );
    }
    this.freeSlots.push(slot);
  }

  private allocateSlot(): number {
    return this.freeSlots.pop() ?? this.nextSlot++;
  }

  /** Copies the chunk's non-zero blocks, in runs, to the same offsets of the slot. */
  private copyRuns(
    chunk: KeptChunkState,
    slot: number,
    readLive: (buf: Buffer, position: number) => void,
  ): void {
    const checksums = chunk.checksums!;
    const file = this.snapshotFile();
    const chunkStart = chunk.index * this.chunkSizeBytes;
    let b = 0;
    while (b < checksums.length) {
      if (checksums[b] === ZERO_BLOCK_CRC) {
        b++;
        continue;
      }
      let end = b + 1;
      while (end < checksums.length && checksums[end] !== ZERO_BLOCK_CRC) end++;
      const buf = Buffer.allocUnsafe((end - b) * BLOCK_SIZE_BYTES);
      readLive(buf, chunkStart + b * BLOCK_SIZE_BYTES);
      file.writeAll([buf], slot * this.chunkSizeBytes + b * BLOCK_SIZE_BYTES);
      b = end;
    }
  }

  private storedBytes(checksums: Uint32Array | null): number {
    if (checksums === null) return 0;
    let blocks = 0;
    for (const crc of checksums) if (crc !== ZERO_BLOCK_CRC) blocks++;
    return blocks * BLOCK_SIZE_BYTES;
  }

  private snapshotFile(): DataFile {
    if (this.file === null) this.file = this.openFile();
    return this.file;
  }

  private covers(record: SnapshotRecord, index: number): boolean {
    return index * this.chunkSizeBytes < record.sizeBytes;
  }

  /** The newest snapshot that reads this chunk (0 when none). */
  private tagFor(index: number): number {
    for (let i = this.records.length - 1; i >= 0; i--) {
      if (this.covers(this.records[i]!, index)) return this.records[i]!.seq;
    }
    return 0;
  }

  private maxTag(index: number): number {
    const list = this.versions.get(index);
    return list === undefined ? 0 : list[list.length - 1]!.tag;
  }

  /** Snapshots that read version `i` of the chunk: those in (previous tag, tag]. */
  private covering(index: number, list: readonly Version[], i: number): number[] {
    const low = i === 0 ? 0 : list[i - 1]!.tag;
    const high = list[i]!.tag;
    const seqs: number[] = [];
    for (let r = this.firstRecordAfter(low); r < this.records.length; r++) {
      const record = this.records[r]!;
      if (record.seq > high) break;
      if (this.covers(record, index)) seqs.push(record.seq);
    }
    return seqs;
  }

  private needed(index: number, list: readonly Version[], i: number): boolean {
    const low = i === 0 ? 0 : list[i - 1]!.tag;
    const high = list[i]!.tag;
    for (let r = this.firstRecordAfter(low); r < this.records.length; r++) {
      const record = this.records[r]!;
      if (record.seq > high) return false;
      if (this.covers(record, index)) return true;
    }
    return false;
  }

  /** Position of the first record with a seq above `seq`. */
  private firstRecordAfter(seq: number): number {
    let lo = 0;
    let hi = this.records.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.records[mid]!.seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
