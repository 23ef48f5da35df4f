import { BallastError, assert } from '@ballast/common';
import { ballast } from '@ballast/proto';
import {
  EMPTY_HARD_STATE,
  MemoryStorage,
  bootstrapEntries,
  type ConfState,
  type Entry,
  type EntryType,
  type HardState,
  type Snapshot,
} from '@ballast/raft';
import { Level } from 'level';
import { memberError } from './errors.js';

/**
 * LevelDB layout (one database per member, keys are UTF-8 strings, values bytes):
 *
 *   m/ids          JSON { format, clusterId, memberId }   written once, checked on every open
 *   h              ballast.raft.HardState                 term, vote, commit
 *   c              ballast.raft.Entry {index, term}       the compaction point: entries at or
 *                                                         below it are gone from the log
 *   s/m            ballast.raft.SnapshotMetadata          the latest snapshot (index 0 = none)
 *   s/i            JSON { chunks, sizeBytes }             how its data is split
 *   s/d/<8 hex>    bytes                                  snapshot data, SNAPSHOT_CHUNK_BYTES each
 *   e/<16 hex>     ballast.raft.Entry                     log entries (compaction point, last]
 *
 * Every change is one LevelDB batch, which LevelDB applies atomically (its own write-ahead log
 * holds the whole batch as one record, checksummed; a torn record is discarded on recovery).
 */
const KEY_IDS = 'm/ids';
const KEY_HARD_STATE = 'h';
const KEY_COMPACTED = 'c';
const KEY_SNAP_META = 's/m';
const KEY_SNAP_INFO = 's/i';
const SNAP_DATA_PREFIX = 's/d/';
const ENTRY_PREFIX = 'e/';
const FORMAT = 1;
/** Snapshot data is split into values of this size (LevelDB copes badly with huge values). */
export const SNAPSHOT_CHUNK_BYTES = 4 * 1024 * 1024;

export function entryKey(index: number): string {
  return ENTRY_PREFIX + index.toString(16).padStart(16, '0');
}

function snapDataKey(chunk: number): string {
  return SNAP_DATA_PREFIX + chunk.toString(16).padStart(8, '0');
}

type Op = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

function jsonBytes(value: unknown): Uint8Array {
  return textEncoder.encode(JSON.stringify(value));
}

export interface DiskStorageOptions {
  dir: string;
  clusterId: string;
  memberId: string;
  /**
   * Founding voters, used only when the directory is new: the log starts with one committed
   * "add voter" entry per member (the same on every founding member). Leave it out for a member
   * that joins an existing cluster: it starts empty and learns everything from the leader.
   */
  bootstrapVoters?: readonly string[];
}

/** What a Ready asks to be made durable. */
export interface PersistRequest {
  hardState?: HardState;
  entries: readonly Entry[];
  snapshot?: Snapshot;
  /** fsync before resolving (Ready.mustSync). */
  sync: boolean;
}

export interface PersistStats {
  /** Keys put or deleted in the batch (0: nothing was written). */
  ops: number;
  bytes: number;
}

/**
 * The durable log of one member, in etcd's arrangement: a MemoryStorage in front (the Raft core
 * reads it synchronously) and LevelDB behind it as the write-ahead log. `persist` writes one
 * atomic batch and only then updates the in-memory view, so the in-memory view never shows
 * anything that is not on disk. Writes are serialised by the caller (the member's Ready loop);
 * an overlapping write is a bug and trips an assertion.
 */
export class DiskStorage {
  readonly memory: MemoryStorage;
  readonly clusterId: string;
  readonly memberId: string;
  private readonly db: Level<string, Uint8Array>;
  private writing = false;
  private closed = false;
  /** Durable log bounds: entries (compactedIndex, lastIndex] are in LevelDB. */
  private compactedIndex: number;
  private compactedTerm: number;
  private lastIndex: number;
  private snapshotChunks: number;
  private persistedHardState: HardState;
  /** True when the data directory was created by this open (bootstrap or empty joiner). */
  readonly created: boolean;

  private constructor(
    db: Level<string, Uint8Array>,
    memory: MemoryStorage,
    init: {
      clusterId: string;
      memberId: string;
      compactedIndex: number;
      compactedTerm: number;
      lastIndex: number;
      snapshotChunks: number;
      hardState: HardState;
      created: boolean;
    },
  ) {
    this.db = db;
    this.memory = memory;
    this.clusterId = init.clusterId;
    this.memberId = init.memberId;
    this.compactedIndex = init.compactedIndex;
    this.compactedTerm = init.compactedTerm;
    this.lastIndex = init.lastIndex;
    this.snapshotChunks = init.snapshotChunks;
    this.persistedHardState = init.hardState;
    this.created = init.created;
  }

  /**
   * Opens (or creates) the data directory and rebuilds the in-memory log from it. Refuses a
   * directory of another cluster or member with BallastError CONFIG, reason 'wrong-data-dir'.
   */
  static async open(options: DiskStorageOptions): Promise<DiskStorage> {
    if (!options.clusterId || !options.memberId) {
      throw new BallastError('CONFIG', 'clusterId and memberId must be non-empty');
    }
    const db = new Level<string, Uint8Array>(options.dir, {
      keyEncoding: 'utf8',
      valueEncoding: 'view',
    });
    try {
      await db.open();
    } catch (err) {
      throw new BallastError(
        'IO',
        `cannot open the raft log in ${options.dir} (in use by another process?)`,
        { dir: options.dir },
        err,
      );
    }
    try {
      return await DiskStorage.load(db, options);
    } catch (err) {
      await db.close().catch(() => undefined);
      throw err;
    }
  }

  private static async load(
    db: Level<string, Uint8Array>,
    options: DiskStorageOptions,
  ): Promise<DiskStorage> {
    const idsRaw = await db.get(KEY_IDS);
    let created = false;
    if (idsRaw === undefined) {
      for await (const key of db.keys({ limit: 1 })) {
        throw new BallastError(
          'IO',
          `raft log in ${options.dir} has data (${key}) but no identity: refusing to use it`,
        );
      }
      const ops: Op[] = [
        {
          type: 'put',
          key: KEY_IDS,
          value: jsonBytes({
            format: FORMAT,
            clusterId: options.clusterId,
            memberId: options.memberId,
          }),
        },
      ];
      if (options.bootstrapVoters !== undefined) {
        const { entries, hardState } = bootstrapEntries(options.bootstrapVoters);
        for (const e of entries)
          ops.push({ type: 'put', key: entryKey(e.index), value: encodeEntry(e) });
        ops.push({ type: 'put', key: KEY_HARD_STATE, value: encodeHardState(hardState) });
      }
      await db.batch(ops, { sync: true });
      created = true;
    } else {
      let ids: { format?: unknown; clusterId?: unknown; memberId?: unknown };
      try {
        ids = JSON.parse(textDecoder.decode(idsRaw)) as typeof ids;
      } catch (err) {
        throw new BallastError('IO', `raft log identity in ${options.dir} is corrupt`, {}, err);
      }
      if (ids.format !== FORMAT) {
        throw new BallastError('IO', `raft log format ${String(ids.format)} is not supported`);
      }
      if (ids.clusterId !== options.clusterId || ids.memberId !== options.memberId) {
        throw memberError(
          'wrong-data-dir',
          `data dir ${options.dir} belongs to cluster ${String(ids.clusterId)} member ` +
            `${String(ids.memberId)}, not cluster ${options.clusterId} member ${options.memberId}`,
          {
            dir: options.dir,
            foundClusterId: ids.clusterId,
            foundMemberId: ids.memberId,
          },
        );
      }
    }

    const hsRaw = await db.get(KEY_HARD_STATE);
    const hardState = hsRaw === undefined ? EMPTY_HARD_STATE : decodeHardState(hsRaw);
    const cRaw = await db.get(KEY_COMPACTED);
    const compacted = cRaw === undefined ? { index: 0, term: 0 } : decodeMark(cRaw);
    const snapMetaRaw = await db.get(KEY_SNAP_META);
    let snapshot: Snapshot | undefined;
    let snapshotChunks = 0;
    if (snapMetaRaw !== undefined) {
      const metadata = decodeSnapshotMetadata(snapMetaRaw);
      const infoRaw = await db.get(KEY_SNAP_INFO);
      assert(infoRaw !== undefined, 'raft log: snapshot metadata without data info');
      const info = JSON.parse(textDecoder.decode(infoRaw)) as { chunks: number; sizeBytes: number };
      snapshotChunks = info.chunks;
      const data = new Uint8Array(info.sizeBytes);
      let offset = 0;
      for (let i = 0; i < info.chunks; i++) {
        const part = await db.get(snapDataKey(i));
        assert(part !== undefined, `raft log: snapshot chunk ${i} missing`);
        data.set(part, offset);
        offset += part.length;
      }
      assert(offset === info.sizeBytes, 'raft log: snapshot size does not match its chunks');
      snapshot = { metadata, data };
    }

    const entries: Entry[] = [];
    let expected = compacted.index + 1;
    for await (const [key, value] of db.iterator({ gte: ENTRY_PREFIX, lt: 'e0' })) {
      const e = decodeEntry(value);
      assert(key === entryKey(e.index), `raft log: entry under ${key} says index ${e.index}`);
      assert(
        e.index === expected,
        `raft log: expected entry ${expected}, found ${e.index} (gap or stale entry)`,
      );
      entries.push(e);
      expected++;
    }
    const lastIndex = compacted.index + entries.length;

    // Rebuild the in-memory view exactly: the compaction point first, then the entries, then
    // the snapshot (which may be later than the compaction point: entries after a snapshot are
    // kept so that slow followers can catch up without one).
    const memory = new MemoryStorage();
    if (snapshot !== undefined && snapshot.metadata.index === compacted.index) {
      memory.applySnapshot(snapshot);
    } else if (compacted.index > 0) {
      memory.applySnapshot({
        metadata: {
          index: compacted.index,
          term: compacted.term,
          confState: snapshot?.metadata.confState ?? { voters: [], learners: [] },
        },
        data: new Uint8Array(0),
      });
    }
    memory.append(entries);
    if (snapshot !== undefined && snapshot.metadata.index > compacted.index) {
      assert(
        snapshot.metadata.index <= lastIndex,
        `raft log: snapshot ${snapshot.metadata.index} beyond last index ${lastIndex}`,
      );
      const made = memory.createSnapshot(
        snapshot.metadata.index,
        snapshot.metadata.confState,
        snapshot.data,
      );
      assert(
        made.metadata.term === snapshot.metadata.term,
        `raft log: snapshot term ${snapshot.metadata.term} differs from the log's ${made.metadata.term}`,
      );
    }
    assert(
      hardState.commit <= lastIndex,
      `raft log: commit ${hardState.commit} beyond last index ${lastIndex}`,
    );
    memory.setHardState(hardState);
    return new DiskStorage(db, memory, {
      clusterId: options.clusterId,
      memberId: options.memberId,
      compactedIndex: compacted.index,
      compactedTerm: compacted.term,
      lastIndex,
      snapshotChunks,
      hardState,
      created,
    });
  }

  /** Durable log bounds, for status and tests. */
  bounds(): { compactedIndex: number; lastIndex: number; snapshotIndex: number } {
    return {
      compactedIndex: this.compactedIndex,
      lastIndex: this.lastIndex,
      snapshotIndex: this.memory.snapshot().metadata.index,
    };
  }

  /** Last index of the durable log (written by completed batches). */
  get durableLastIndex(): number {
    return this.lastIndex;
  }

  /** The hard state last written to disk. */
  get hardState(): HardState {
    return this.persistedHardState;
  }

  /**
   * Makes a Ready's hard state, entries and snapshot durable in ONE atomic batch (fsync'd when
   * `sync`), then updates the in-memory view. A hard state that differs from the persisted one
   * only in its commit index is not written on its own: the commit index is not needed for
   * safety (a restarted member learns it again from the leader), so it rides along with the
   * next write instead of costing a disk round trip on the commit path.
   */
  async persist(req: PersistRequest): Promise<PersistStats> {
    this.beginWrite();
    try {
      const ops: Op[] = [];
      let bytes = 0;
      if (req.snapshot !== undefined) {
        bytes += this.snapshotOps(req.snapshot, ops);
        // A snapshot from the leader replaces the whole log.
        for (let i = this.compactedIndex + 1; i <= this.lastIndex; i++) {
          ops.push({ type: 'del', key: entryKey(i) });
        }
        const m = req.snapshot.metadata;
        ops.push({ type: 'put', key: KEY_COMPACTED, value: encodeMark(m.index, m.term) });
      }
      const floor = req.snapshot !== undefined ? req.snapshot.metadata.index : this.compactedIndex;
      let last = req.snapshot !== undefined ? req.snapshot.metadata.index : this.lastIndex;
      let ents = req.entries;
      if (ents.length > 0 && ents[0]!.index <= floor) {
        // Entries at or below the compaction point are committed and already covered.
        ents = ents.slice(Math.min(ents.length, floor + 1 - ents[0]!.index));
      }
      if (ents.length > 0) {
        const first = ents[0]!.index;
        assert(
          first <= last + 1,
          `raft log: appending ${first} after last index ${last} leaves a gap`,
        );
        const newLast = ents[ents.length - 1]!.index;
        // A conflicting suffix from an older leader goes, in the same batch.
        for (let i = Math.max(first, newLast + 1); i <= last; i++) {
          ops.push({ type: 'del', key: entryKey(i) });
        }
        for (const e of ents) {
          const value = encodeEntry(e);
          bytes += value.length;
          ops.push({ type: 'put', key: entryKey(e.index), value });
        }
        last = newLast;
      }
      let hs = req.hardState;
      const termOrVoteChanged =
        hs !== undefined &&
        (hs.term !== this.persistedHardState.term || hs.vote !== this.persistedHardState.vote);
      if (ops.length > 0 || termOrVoteChanged) {
        // Whenever we write anyway, the newest hard state goes along.
        hs ??= this.memory.initialState().hardState;
        ops.push({ type: 'put', key: KEY_HARD_STATE, value: encodeHardState(hs) });
      } else {
        hs = undefined;
      }
      if (ops.length > 0) {
        await this.db.batch(ops, { sync: req.sync });
        this.lastIndex = last;
        if (req.snapshot !== undefined) {
          this.compactedIndex = req.snapshot.metadata.index;
          this.compactedTerm = req.snapshot.metadata.term;
        }
        if (hs !== undefined) this.persistedHardState = hs;
      }
      // Only now does the in-memory view (which the core reads) show the new state.
      if (req.snapshot !== undefined) this.memory.applySnapshot(req.snapshot);
      this.memory.append(ents);
      if (req.hardState !== undefined) this.memory.setHardState(req.hardState);
      return { ops: ops.length, bytes };
    } finally {
      this.writing = false;
    }
  }

  /**
   * Records a snapshot of the application state at `index` (applied by the application, with
   * `confState` the configuration at that index) and compacts the log up to
   * `index - keepEntries`: snapshot and deletions in one atomic, fsync'd batch. Returns the
   * snapshot and the new compaction point.
   */
  async saveSnapshot(
    index: number,
    confState: ConfState,
    data: Uint8Array,
    keepEntries: number,
  ): Promise<{ snapshot: Snapshot; compactedIndex: number }> {
    this.beginWrite();
    try {
      assert(
        index <= this.lastIndex,
        `snapshot index ${index} beyond durable last index ${this.lastIndex}`,
      );
      const snapshot = this.memory.createSnapshot(index, confState, data);
      const ops: Op[] = [];
      this.snapshotOps(snapshot, ops);
      const compactTo = Math.max(this.compactedIndex, index - Math.max(0, keepEntries));
      let compactTerm = this.compactedTerm;
      if (compactTo > this.compactedIndex) {
        compactTerm = this.memory.term(compactTo);
        for (let i = this.compactedIndex + 1; i <= compactTo; i++) {
          ops.push({ type: 'del', key: entryKey(i) });
        }
        ops.push({ type: 'put', key: KEY_COMPACTED, value: encodeMark(compactTo, compactTerm) });
      }
      // On restart the commit index must cover the snapshot.
      const hs = this.persistedHardState;
      const newHs: HardState = { ...hs, commit: Math.max(hs.commit, index) };
      ops.push({ type: 'put', key: KEY_HARD_STATE, value: encodeHardState(newHs) });
      await this.db.batch(ops, { sync: true });
      this.persistedHardState = newHs;
      if (compactTo > this.compactedIndex) {
        this.memory.compact(compactTo);
        this.compactedIndex = compactTo;
        this.compactedTerm = compactTerm;
      }
      return { snapshot, compactedIndex: this.compactedIndex };
    } finally {
      this.writing = false;
    }
  }

  /** Reads the durable entries (for tests and tools; the core reads `memory`). */
  async readEntries(): Promise<Entry[]> {
    const out: Entry[] = [];
    for await (const value of this.db.values({ gte: ENTRY_PREFIX, lt: 'e0' })) {
      out.push(decodeEntry(value));
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }

  private beginWrite(): void {
    assert(!this.closed, 'raft log is closed');
    assert(!this.writing, 'raft log writes must not overlap');
    this.writing = true;
  }

  private snapshotOps(snapshot: Snapshot, ops: Op[]): number {
    const data = snapshot.data;
    const chunks = Math.ceil(data.length / SNAPSHOT_CHUNK_BYTES);
    for (let i = 0; i < chunks; i++) {
      ops.push({
        type: 'put',
        key: snapDataKey(i),
        value: data.subarray(i * SNAPSHOT_CHUNK_BYTES, (i + 1) * SNAPSHOT_CHUNK_BYTES),
      });
    }
    for (let i = chunks; i < this.snapshotChunks; i++)
      ops.push({ type: 'del', key: snapDataKey(i) });
    this.snapshotChunks = chunks;
    ops.push({
      type: 'put',
      key: KEY_SNAP_META,
      value: ballast.raft.SnapshotMetadata.encode({
        index: snapshot.metadata.index,
        term: snapshot.metadata.term,
        confState: {
          voters: [...snapshot.metadata.confState.voters],
          learners: [...snapshot.metadata.confState.learners],
        },
      }).finish(),
    });
    ops.push({
      type: 'put',
      key: KEY_SNAP_INFO,
      value: jsonBytes({ chunks, sizeBytes: data.length }),
    });
    return data.length;
  }
}

function encodeEntry(e: Entry): Uint8Array {
  return ballast.raft.Entry.encode({
    term: e.term,
    index: e.index,
    type: e.type,
    data: e.data,
  }).finish();
}

function decodeEntry(bytes: Uint8Array): Entry {
  const m = ballast.raft.Entry.decode(bytes);
  return {
    term: Number(m.term),
    index: Number(m.index),
    type: m.type as EntryType,
    data: m.data,
  };
}

function encodeHardState(hs: HardState): Uint8Array {
  return ballast.raft.HardState.encode({
    term: hs.term,
    vote: hs.vote,
    commit: hs.commit,
  }).finish();
}

function decodeHardState(bytes: Uint8Array): HardState {
  const m = ballast.raft.HardState.decode(bytes);
  return { term: Number(m.term), vote: m.vote, commit: Number(m.commit) };
}

function encodeMark(index: number, term: number): Uint8Array {
  return ballast.raft.Entry.encode({ index, term }).finish();
}

function decodeMark(bytes: Uint8Array): { index: number; term: number } {
  const m = ballast.raft.Entry.decode(bytes);
  return { index: Number(m.index), term: Number(m.term) };
}

function decodeSnapshotMetadata(bytes: Uint8Array): Snapshot['metadata'] {
  const m = ballast.raft.SnapshotMetadata.decode(bytes);
  return {
    index: Number(m.index),
    term: Number(m.term),
    confState: {
      voters: [...(m.confState?.voters ?? [])],
      learners: [...(m.confState?.learners ?? [])],
    },
  };
}
