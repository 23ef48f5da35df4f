import { availableParallelism } from 'node:os';
import { randomFillSync } from 'node:crypto';
import { BallastError, isAllZero, isBallastError } from '@ballast/common';
import type { BlockIndex } from './block-index.js';
import { HASH_BYTES, sha256, ZERO_HASH } from './codec.js';
import { loadCondemnedPacks } from './collect.js';
import {
  BlobKind,
  encodeIndex,
  FORMAT_VERSION,
  keys,
  PACK_HEADER_BYTES,
  PACK_MAGIC,
  PackKind,
  type BackupStats,
  type IndexEntry,
  type Manifest,
} from './format.js';
import { newBackupId, type Repository } from './repository.js';
import type { SealedBatch, SealPool } from './seal-pool.js';
import { geometry, TreeReader } from './tree.js';
import { TaskWindow } from './util.js';

/**
 * What a backup reads: a point-in-time image of a volume (the lead implements it over a
 * snapshot). Chunks are the source's own read unit (a multiple of the repository's block size);
 * the last one may be short when the size is not a multiple of it.
 */
export interface BackupSource {
  sizeBytes: number;
  chunkSizeBytes: number;
  /** Chunk `index`'s bytes, or null when it is all zeros (never written, trimmed). */
  readChunk(index: number, signal: AbortSignal): Promise<Buffer | null>;
  /**
   * Chunks that may differ from what `parent` backed up ('all' when the source cannot tell).
   * Chunks not in the set are taken from the parent's tree without being read. Without this
   * method every chunk is read (unchanged blocks are still deduplicated, not uploaded).
   */
  changedSince?(parent: Manifest): Promise<Set<number> | 'all'>;
}

export interface BackupProgress {
  bytesTotal: number;
  /** Bytes of the volume dealt with so far (read, or taken from the parent unread). */
  bytesScanned: number;
  /** Bytes taken from the parent without reading them. */
  bytesReused: number;
  /** Bytes of blocks the repository did not have (before compression). */
  bytesNew: number;
  /** Bytes of blocks read that the repository already had. */
  bytesDeduplicated: number;
  bytesZero: number;
  /** Bytes written to the target (packs and their indexes), compressed and sealed. */
  bytesUploaded: number;
  packsUploaded: number;
  elapsedMs: number;
  bytesPerSecond: number;
}

export interface BackupOptions {
  repo: Repository;
  source: BackupSource;
  /** A backup of the same volume to build on: unchanged chunks reuse its tree. */
  parent?: string;
  labels?: Record<string, string>;
  signal?: AbortSignal;
  onProgress?: (p: BackupProgress) => void;
  /** Chunk reads in flight; default 4. */
  readConcurrency?: number;
  /** Pack uploads in flight (each holds one pack in memory); default 2. */
  uploadConcurrency?: number;
  /** How often the backup's lock is rewritten so collect sees it alive; default 60 s. */
  lockRefreshMs?: number;
  /**
   * Worker threads that compress and seal new blocks while the main thread hashes the next
   * chunk, started at the first new block; default one less than the cores (at least 1, at
   * most 4) for volumes of 64 MiB or more, else 0; 0 seals on the main thread.
   */
  sealThreads?: number;
}

/**
 * Backs up `source` into `repo` and returns the new backup's manifest. The manifest is written
 * last, after every pack and index it needs is durable: a backup is complete iff its manifest
 * exists, and a crash or abort before that leaves only unreferenced packs for `collect()`.
 */
export async function backupVolume(opts: BackupOptions): Promise<Manifest> {
  const { repo, source } = opts;
  repo.assertWritable('write a backup');
  const cfg = repo.config;
  const B = cfg.blockSizeBytes;
  const L = cfg.leafBlocks;
  const C = source.chunkSizeBytes;
  if (!Number.isSafeInteger(source.sizeBytes) || source.sizeBytes < 0) {
    throw new BallastError('INVALID_ARGUMENT', `bad source size ${source.sizeBytes}`);
  }
  if (!Number.isInteger(C) || C <= 0 || C % B !== 0) {
    throw new BallastError(
      'INVALID_ARGUMENT',
      `source chunk size ${C} must be a positive multiple of the repository's block size ${B}`,
    );
  }
  const parent = opts.parent !== undefined ? await repo.manifest(opts.parent) : undefined;
  const signal = opts.signal ?? new AbortController().signal;
  signal.throwIfAborted();

  const startedAt = new Date();
  const backupId = newBackupId(startedAt);
  // The lock first, then what collect may have condemned: either collect sees this lock or this
  // backup sees its condemned packs (docs/backup-format.md, "Collect").
  const lock = await repo.writeLock('backup', backupId);
  // A lock that vanished was judged stale by a collect (this process stalled for longer than
  // its stale limit): packs this backup points at may be gone, so it must not complete.
  let lockLost = false;
  const refresh = setInterval(() => {
    void (async () => {
      if (!(await repo.target.head(lock.key))) lockLost = true;
      else await repo.writeLock('backup', backupId);
    })().catch(() => undefined);
  }, opts.lockRefreshMs ?? 60_000);
  refresh.unref();
  const uploads = new TaskWindow(opts.uploadConcurrency ?? 2);
  let pool: SealPool | undefined;
  try {
    const condemned = await loadCondemnedPacks(repo);
    const loaded = await repo.loadIndex();
    // Threads pay off on volumes of some size; a worker costs tens of ms to start.
    const threads =
      opts.sealThreads ??
      (source.sizeBytes >= 64 * 1024 * 1024
        ? Math.min(4, Math.max(1, availableParallelism() - 1))
        : 0);
    const w = new Writer(repo, loaded.index, condemned, uploads, signal, () => {
      pool ??= threads > 0 ? repo.createSealPool(threads) : undefined;
      return pool;
    });
    const stats = await w.run(source, parent, loaded.bad.size > 0, opts);
    await uploads.drain();
    const g = geometry(source.sizeBytes, B, L);
    const manifest: Manifest = {
      version: FORMAT_VERSION,
      backupId,
      repositoryId: cfg.repositoryId,
      clusterId: cfg.clusterId,
      labels: opts.labels ?? {},
      sizeBytes: source.sizeBytes,
      blockSizeBytes: B,
      leafBlocks: L,
      root: w.rootHash.toString('hex'),
      leafCount: g.leaves,
      parent: parent?.backupId ?? null,
      startedAt: startedAt.toISOString(),
      completedAt: new Date().toISOString(),
      stats: { ...stats, bytesUploaded: w.bytesUploaded, packsUploaded: w.packsUploaded },
    };
    signal.throwIfAborted();
    if (lockLost || !(await repo.target.head(lock.key))) {
      throw new BallastError(
        'CONFLICT',
        `backup ${backupId}: its lock was removed by a collect that judged it stale; not writing a manifest that may point at deleted packs`,
      );
    }
    await repo.putSealedJson(keys.backup(backupId), manifest);
    return manifest;
  } catch (err) {
    await uploads.settle();
    throw err;
  } finally {
    await pool?.close();
    clearInterval(refresh);
    await repo.target.delete(lock.key).catch(() => undefined);
  }
}

/** A pack being filled: blobs appended in memory until it reaches the pack size. */
class PackBuilder {
  readonly kind: PackKind;
  readonly number: number;
  readonly entries: IndexEntry[] = [];
  /** Blobs are copied straight into one growing buffer: no per-blob allocation survives. */
  buf: Buffer;
  size = PACK_HEADER_BYTES;

  constructor(kind: PackKind, number: number, initialBytes: number) {
    this.kind = kind;
    this.number = number;
    this.buf = Buffer.allocUnsafe(Math.max(initialBytes, 64 * 1024));
    PACK_MAGIC.copy(this.buf, 0);
    randomFillSync(this.buf, PACK_MAGIC.length, PACK_HEADER_BYTES - PACK_MAGIC.length);
  }

  /** Appends a stored blob given as pieces; returns its offset and length. */
  append(parts: Buffer[]): { offset: number; length: number } {
    let length = 0;
    for (const p of parts) length += p.length;
    if (this.size + length > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.size + length));
      this.buf.copy(grown, 0, 0, this.size);
      this.buf = grown;
    }
    const offset = this.size;
    for (const p of parts) this.size += p.copy(this.buf, this.size);
    return { offset, length };
  }
}

class Writer {
  readonly #repo: Repository;
  readonly #index: BlockIndex;
  readonly #condemned: Set<string>;
  readonly #uploads: TaskWindow;
  readonly #signal: AbortSignal;
  readonly #builders = new Map<PackKind, PackBuilder>();
  readonly #poolFor: () => SealPool | undefined;
  /** Blocks decided new whose sealing runs in a worker: already "in the repository" for dedup. */
  readonly #pending = new Set<string>();
  /** Sealing batches in chunk order; appended to the data pack in that order. */
  readonly #sealing: { hashes: Buffer[]; raw: number[]; done: Promise<SealedBatch> }[] = [];
  rootHash: Buffer = ZERO_HASH;
  bytesUploaded = 0;
  packsUploaded = 0;

  constructor(
    repo: Repository,
    index: BlockIndex,
    condemned: Set<string>,
    uploads: TaskWindow,
    signal: AbortSignal,
    poolFor: () => SealPool | undefined,
  ) {
    this.#poolFor = poolFor;
    this.#repo = repo;
    this.#index = index;
    this.#condemned = condemned;
    this.#uploads = uploads;
    this.#signal = signal;
  }

  /** Whether the repository holds a blob this backup may point at. */
  #have(hash: Buffer): boolean {
    if (this.#pending.size > 0 && this.#pending.has(hash.toString('latin1'))) return true;
    const loc = this.#index.get(hash);
    if (!loc) return false;
    const id = this.#index.packId(loc.pack);
    // A pack collect has condemned may be deleted once the backups it waits for are done:
    // store the blob again rather than point at it.
    if (id !== undefined && this.#condemned.has(id)) {
      this.#index.delete(hash);
      return false;
    }
    return true;
  }

  /** Stores a blob unless the repository has it; returns whether it was new. */
  async #store(hash: Buffer, kind: BlobKind, payload: Buffer): Promise<boolean> {
    if (this.#have(hash)) return false;
    await this.#append(hash, kind, this.#repo.sealParts(payload, hash), payload.length);
    return true;
  }

  /** Appends a sealed blob to the open pack of its kind and indexes it. */
  async #append(hash: Buffer, kind: BlobKind, parts: Buffer[], rawLength: number): Promise<void> {
    const packKind = kind === BlobKind.DATA ? PackKind.DATA : PackKind.TREE;
    let b = this.#builders.get(packKind);
    if (!b) {
      // Data packs fill up: allocate them whole. Tree packs of an incremental stay small.
      const initial =
        packKind === PackKind.DATA ? this.#repo.config.packSizeBytes + 256 * 1024 : 1024 * 1024;
      b = new PackBuilder(packKind, this.#index.addPack(), initial);
      this.#builders.set(packKind, b);
    }
    const { offset, length } = b.append(parts);
    b.entries.push({ hash, kind, offset, storedLength: length, rawLength });
    this.#index.add(hash, { pack: b.number, kind, offset, storedLength: length, rawLength });
    if (b.size >= this.#repo.config.packSizeBytes) await this.#seal(packKind);
  }

  /**
   * The new blocks of one chunk: sealed in a worker (appended later, in order) or here. The
   * caller has checked `#have` for each; duplicates within the batch are not repeated.
   */
  async #storeBlocks(hashes: Buffer[], payloads: Buffer[]): Promise<void> {
    if (hashes.length === 0) return;
    const pool = this.#poolFor();
    if (!pool) {
      for (let i = 0; i < hashes.length; i++) {
        await this.#append(
          hashes[i]!,
          BlobKind.DATA,
          this.#repo.sealParts(payloads[i]!, hashes[i]!),
          payloads[i]!.length,
        );
        this.#pending.delete(hashes[i]!.toString('latin1'));
      }
      return;
    }
    const done = pool.seal(hashes, payloads);
    done.catch(() => undefined); // awaited in order by #drainSealing; keeps it from being unhandled
    this.#sealing.push({ hashes, raw: payloads.map((p) => p.length), done });
    // Bounded: a few batches (chunks) in flight.
    while (this.#sealing.length > 3) await this.#appendSealed();
  }

  async #appendSealed(): Promise<void> {
    const job = this.#sealing.shift()!;
    const batch = await job.done;
    let off = 0;
    for (let i = 0; i < job.hashes.length; i++) {
      const stored = batch.sealed.subarray(off, off + batch.lengths[i]!);
      off += batch.lengths[i]!;
      await this.#append(job.hashes[i]!, BlobKind.DATA, [stored], job.raw[i]!);
      this.#pending.delete(job.hashes[i]!.toString('latin1'));
    }
  }

  async #drainSealing(): Promise<void> {
    while (this.#sealing.length > 0) await this.#appendSealed();
  }

  /** Closes the current pack of `kind` and queues its upload: the pack, then its index. */
  async #seal(kind: PackKind): Promise<void> {
    const b = this.#builders.get(kind);
    if (!b || b.entries.length === 0) return;
    this.#builders.delete(kind);
    const pack = b.buf.subarray(0, b.size);
    const packId = sha256(pack).toString('hex');
    this.#index.namePack(b.number, packId);
    const indexKey = keys.index(packId);
    const index = this.#repo.seal(
      encodeIndex({ packId, packSizeBytes: pack.length, packKind: kind, entries: b.entries }),
      Buffer.from(indexKey),
    );
    await this.#uploads.run(async () => {
      await this.#repo.target.put(keys.pack(packId), pack, { signal: this.#signal });
      await this.#repo.target.put(indexKey, index, { signal: this.#signal });
      this.bytesUploaded += pack.length + index.length;
      this.packsUploaded++;
    });
  }

  async run(
    source: BackupSource,
    parent: Manifest | undefined,
    repairCheck: boolean,
    opts: BackupOptions,
  ): Promise<Omit<BackupStats, 'bytesUploaded' | 'packsUploaded'>> {
    const cfg = this.#repo.config;
    const B = cfg.blockSizeBytes;
    const L = cfg.leafBlocks;
    const C = source.chunkSizeBytes;
    const size = source.sizeBytes;
    const g = geometry(size, B, L);
    const chunks = Math.ceil(size / C);
    const blocksPerChunk = C / B;
    const trees = new TreeReader(this.#repo, this.#index);

    // Which chunks to read, which leaves to take from the parent unread.
    const changed = new Uint8Array(chunks).fill(1);
    const reusable = new Uint8Array(g.leaves);
    let parentRoot: Buffer | undefined;
    if (parent && parent.blockSizeBytes === B && parent.leafBlocks === L) {
      parentRoot = await trees.root(parent);
      const says = source.changedSince ? await source.changedSince(parent) : 'all';
      if (says !== 'all') {
        const sameSize = parent.sizeBytes === size;
        for (let c = 0; c < chunks; c++) {
          // A chunk that is not whole in both the parent and this backup (the volume grew or
          // shrank) is read whatever the source says: its last block may differ in length.
          const within = sameSize || (c + 1) * C <= Math.min(parent.sizeBytes, size);
          changed[c] = within && !says.has(c) ? 0 : 1;
        }
        const leafOk = (j: number): boolean => {
          if (j >= parent.leafCount) return false;
          if (!(sameSize || (j + 1) * L * B <= Math.min(size, parent.sizeBytes))) return false;
          const h = parentRoot!.subarray(j * HASH_BYTES, (j + 1) * HASH_BYTES);
          return h.equals(ZERO_HASH) || this.#have(h);
        };
        // A parent leaf that is gone (verify found it bad) cannot be reused: read its chunks.
        for (let j = 0; j < g.leaves; j++) {
          if (j < parent.leafCount && !leafOk(j))
            this.#markChunks(changed, j, L, blocksPerChunk, g.blocks);
        }
        if (repairCheck)
          await this.#markBadBlocks(changed, parentRoot, parent, trees, g, L, blocksPerChunk);
        for (let j = 0; j < g.leaves; j++) {
          reusable[j] =
            leafOk(j) && this.#leafChunksUnchanged(changed, j, L, blocksPerChunk, g.blocks) ? 1 : 0;
        }
      }
    }

    const stats = {
      bytesScanned: 0,
      bytesReused: 0,
      bytesNew: 0,
      bytesDeduplicated: 0,
      bytesZero: 0,
    };
    const rootHashes = Buffer.alloc(g.leaves * HASH_BYTES);
    const leafBuf = Buffer.alloc(L * HASH_BYTES);
    let leafDone = 0; // leaves [0, leafDone) are finished
    let parentLeaf: { j: number; hashes: Buffer } | undefined;
    const parentLeafHashes = async (j: number): Promise<Buffer> => {
      if (parentLeaf?.j !== j) {
        const h = parentRoot!.subarray(j * HASH_BYTES, (j + 1) * HASH_BYTES);
        parentLeaf = {
          j,
          hashes: await trees.leaf(h, geometry(parent!.sizeBytes, B, L).leafLength(j)),
        };
      }
      return parentLeaf.hashes;
    };
    const finishLeaves = async (upToBlock: number): Promise<void> => {
      const until = upToBlock >= g.blocks ? g.leaves : Math.floor(upToBlock / L);
      for (; leafDone < until; leafDone++) {
        const j = leafDone;
        const slot = rootHashes.subarray(j * HASH_BYTES, (j + 1) * HASH_BYTES);
        if (reusable[j]) {
          parentRoot!.copy(slot, 0, j * HASH_BYTES, (j + 1) * HASH_BYTES);
          continue;
        }
        const payload = leafBuf.subarray(0, g.leafLength(j) * HASH_BYTES);
        if (isAllZero(payload)) continue; // slot stays ZERO_HASH
        const h = sha256(payload);
        h.copy(slot);
        await this.#store(h, BlobKind.LEAF, payload);
      }
    };

    // Reads run ahead of the chunk being hashed, in chunk order, at most readConcurrency at once.
    const toRead: number[] = [];
    for (let c = 0; c < chunks; c++) if (changed[c]) toRead.push(c);
    const reads = new Map<number, Promise<Buffer | null>>();
    let nextRead = 0;
    const pump = (): void => {
      while (reads.size < (opts.readConcurrency ?? 4) && nextRead < toRead.length) {
        const c = toRead[nextRead++]!;
        const p = source.readChunk(c, this.#signal);
        p.catch(() => undefined); // awaited below; keeps an early failure from being unhandled
        reads.set(c, p);
      }
    };
    const started = Date.now();
    const report = (): void => {
      if (!opts.onProgress) return;
      const elapsedMs = Date.now() - started;
      opts.onProgress({
        bytesTotal: size,
        ...stats,
        bytesUploaded: this.bytesUploaded,
        packsUploaded: this.packsUploaded,
        elapsedMs,
        bytesPerSecond: elapsedMs > 0 ? (stats.bytesScanned * 1000) / elapsedMs : 0,
      });
    };

    for (let c = 0; c < chunks; c++) {
      this.#signal.throwIfAborted();
      const k0 = c * blocksPerChunk;
      const k1 = Math.min(g.blocks, k0 + blocksPerChunk);
      const chunkBytes = Math.min(C, size - c * C);
      if (changed[c]) {
        pump();
        let data = await reads.get(c)!;
        reads.delete(c);
        pump();
        if (data !== null && data.length !== chunkBytes) {
          throw new BallastError(
            'INVALID_ARGUMENT',
            `source chunk ${c} has ${data.length} bytes, expected ${chunkBytes}`,
          );
        }
        if (data !== null && isAllZero(data)) data = null;
        const newHashes: Buffer[] = [];
        const newBlocks: Buffer[] = [];
        for (let k = k0; k < k1; k++) {
          const j = Math.floor(k / L);
          const slot = leafBuf.subarray((k - j * L) * HASH_BYTES, (k - j * L + 1) * HASH_BYTES);
          const len = g.blockLength(k);
          const block = data?.subarray((k - k0) * B, (k - k0) * B + len);
          if (!block || isAllZero(block)) {
            ZERO_HASH.copy(slot);
            stats.bytesZero += len;
          } else {
            const h = sha256(block);
            h.copy(slot);
            if (this.#have(h)) {
              stats.bytesDeduplicated += len;
            } else {
              // Counts as present for the rest of this backup from now on.
              this.#pending.add(h.toString('latin1'));
              newHashes.push(h);
              newBlocks.push(block);
              stats.bytesNew += len;
            }
          }
          if ((k + 1) % L === 0) await finishLeaves(k + 1);
        }
        await this.#storeBlocks(newHashes, newBlocks);
      } else {
        for (let k = k0; k < k1;) {
          const j = Math.floor(k / L);
          const end = Math.min(k1, (j + 1) * L);
          if (!reusable[j]) {
            const ph = await parentLeafHashes(j);
            ph.copy(
              leafBuf,
              (k - j * L) * HASH_BYTES,
              (k - j * L) * HASH_BYTES,
              (end - j * L) * HASH_BYTES,
            );
          }
          k = end;
          if (k % L === 0) await finishLeaves(k);
        }
        stats.bytesReused += chunkBytes;
      }
      stats.bytesScanned += chunkBytes;
      await finishLeaves(k1);
      report();
    }
    await finishLeaves(g.blocks);
    await this.#drainSealing();

    if (!isAllZero(rootHashes)) {
      this.rootHash = sha256(rootHashes);
      await this.#store(this.rootHash, BlobKind.ROOT, rootHashes);
    }
    await this.#seal(PackKind.DATA);
    await this.#seal(PackKind.TREE);
    await this.#uploads.drain();
    report();
    return stats;
  }

  #markChunks(
    changed: Uint8Array,
    j: number,
    L: number,
    blocksPerChunk: number,
    blocks: number,
  ): void {
    const first = Math.floor((j * L) / blocksPerChunk);
    const last = Math.floor((Math.min(blocks, (j + 1) * L) - 1) / blocksPerChunk);
    for (let c = first; c <= last && c < changed.length; c++) changed[c] = 1;
  }

  #leafChunksUnchanged(
    changed: Uint8Array,
    j: number,
    L: number,
    blocksPerChunk: number,
    blocks: number,
  ): boolean {
    const first = Math.floor((j * L) / blocksPerChunk);
    const last = Math.floor((Math.min(blocks, (j + 1) * L) - 1) / blocksPerChunk);
    for (let c = first; c <= last; c++) if (changed[c]) return false;
    return true;
  }

  /**
   * After verify found bad blocks, chunks of the parent that hold a block the repository no
   * longer has (bad or missing) are read again so the block is stored anew: the repair. Costs a
   * walk of the parent's leaves, only when bad records exist.
   */
  async #markBadBlocks(
    changed: Uint8Array,
    parentRoot: Buffer,
    parent: Manifest,
    trees: TreeReader,
    g: ReturnType<typeof geometry>,
    L: number,
    blocksPerChunk: number,
  ): Promise<void> {
    const pg = geometry(parent.sizeBytes, parent.blockSizeBytes, parent.leafBlocks);
    for (let j = 0; j < Math.min(parent.leafCount, g.leaves); j++) {
      const h = parentRoot.subarray(j * HASH_BYTES, (j + 1) * HASH_BYTES);
      if (h.equals(ZERO_HASH) || !this.#have(h)) continue;
      let leaf: Buffer;
      try {
        leaf = await trees.leaf(h, pg.leafLength(j));
      } catch (err) {
        if (!isBallastError(err)) throw err;
        this.#markChunks(changed, j, L, blocksPerChunk, g.blocks);
        continue;
      }
      for (let i = 0; i < pg.leafLength(j); i++) {
        const bh = leaf.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES);
        const k = j * L + i;
        if (k < g.blocks && !bh.equals(ZERO_HASH) && !this.#have(bh)) {
          const c = Math.floor(k / blocksPerChunk);
          if (c < changed.length) changed[c] = 1;
        }
      }
    }
  }
}
