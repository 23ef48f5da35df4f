import { BallastError, isBallastError } from '@ballast/common';
import type { BlockIndex, Location } from './block-index.js';
import { HASH_BYTES, ZERO_HASH } from './codec.js';
import { keys, type Manifest } from './format.js';
import type { BadRecord, Repository } from './repository.js';
import { geometry, TreeReader } from './tree.js';
import { hex, TaskWindow } from './util.js';

/** Where a restore writes: the lead implements it over a new volume. */
export interface RestoreSink {
  /** Chunk `index` of the backup: `data` has `lengthBytes` bytes, or is null for all zeros. */
  writeChunk(index: number, data: Buffer | null, lengthBytes: number): Promise<void>;
}

export interface RestoreProgress {
  bytesTotal: number;
  bytesRestored: number;
  bytesSkipped: number;
  bytesDownloaded: number;
  elapsedMs: number;
  bytesPerSecond: number;
}

export interface RestoreOptions {
  repo: Repository;
  backupId: string;
  sink: RestoreSink;
  /** The sink's chunk size: a positive multiple of the repository's block size. */
  chunkSizeBytes: number;
  /** Chunks already restored by an earlier, interrupted run: not fetched or written again. */
  skip?: Set<number> | ((index: number) => boolean);
  signal?: AbortSignal;
  onProgress?: (p: RestoreProgress) => void;
  /** Chunks fetched and written at once; default 4. */
  concurrency?: number;
}

/** Reads coalesce neighbouring blobs of one pack when the gap between them is at most this. */
const MAX_GAP_BYTES = 64 * 1024;
const MAX_READ_BYTES = 16 * 1024 * 1024;

/**
 * Writes backup `backupId` to `sink`, chunk by chunk. Every block is checked against its
 * SHA-256 before it is written; a missing or corrupt block fails the restore with an error
 * naming the block, its pack and the chunk. Chunks in `skip` are left alone, so a failed
 * restore resumes where it stopped.
 */
export async function restoreBackup(opts: RestoreOptions): Promise<Manifest> {
  const { repo, sink } = opts;
  const m = await repo.manifest(opts.backupId);
  const B = m.blockSizeBytes;
  const C = opts.chunkSizeBytes;
  if (!Number.isInteger(C) || C <= 0 || C % B !== 0) {
    throw new BallastError(
      'INVALID_ARGUMENT',
      `chunk size ${C} must be a positive multiple of the backup's block size ${B}`,
    );
  }
  const signal = opts.signal ?? new AbortController().signal;
  const loaded = await repo.loadIndex();
  const badBlocks = badBlockPacks(loaded.bad);
  const trees = new TreeReader(repo, loaded.index);
  const leaves = await trees.root(m);
  const g = geometry(m.sizeBytes, B, m.leafBlocks);
  const chunks = Math.ceil(m.sizeBytes / C);
  const blocksPerChunk = C / B;
  const skip = opts.skip;
  const skipped = (c: number): boolean =>
    skip === undefined ? false : typeof skip === 'function' ? skip(c) : skip.has(c);
  const progress = { bytesRestored: 0, bytesSkipped: 0, bytesDownloaded: 0 };
  const started = Date.now();
  const report = (): void => {
    if (!opts.onProgress) return;
    const elapsedMs = Date.now() - started;
    opts.onProgress({
      bytesTotal: m.sizeBytes,
      ...progress,
      elapsedMs,
      bytesPerSecond:
        elapsedMs > 0 ? ((progress.bytesRestored + progress.bytesSkipped) * 1000) / elapsedMs : 0,
    });
  };

  let leaf: { j: number; hashes: Buffer } | undefined;
  const blockHash = async (k: number): Promise<Buffer> => {
    const j = Math.floor(k / m.leafBlocks);
    if (leaf?.j !== j) {
      leaf = {
        j,
        hashes: await trees.leaf(
          leaves.subarray(j * HASH_BYTES, (j + 1) * HASH_BYTES),
          g.leafLength(j),
        ),
      };
    }
    const i = k - j * m.leafBlocks;
    return leaf.hashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES);
  };

  const window = new TaskWindow(opts.concurrency ?? 4);
  try {
    for (let c = 0; c < chunks; c++) {
      signal.throwIfAborted();
      const len = Math.min(C, m.sizeBytes - c * C);
      if (skipped(c)) {
        progress.bytesSkipped += len;
        continue;
      }
      const k0 = c * blocksPerChunk;
      const k1 = Math.min(g.blocks, k0 + blocksPerChunk);
      const wanted: { k: number; hash: Buffer; loc: Location }[] = [];
      for (let k = k0; k < k1; k++) {
        const h = await blockHash(k);
        if (h.equals(ZERO_HASH)) continue;
        const loc = loaded.index.get(h);
        if (!loc) throw missingBlock(h, c, badBlocks);
        wanted.push({ k, hash: Buffer.from(h), loc });
      }
      await window.run(async () => {
        if (wanted.length === 0) {
          await sink.writeChunk(c, null, len);
        } else {
          const data = Buffer.alloc(len);
          progress.bytesDownloaded += await fetchBlocks(
            repo,
            loaded.index,
            wanted,
            c,
            (w, block) => {
              block.copy(data, (w.k - k0) * B);
            },
          );
          signal.throwIfAborted();
          await sink.writeChunk(c, data, len);
        }
        progress.bytesRestored += len;
        report();
      });
    }
    await window.drain();
  } catch (err) {
    await window.settle();
    throw err;
  }
  report();
  return m;
}

function badBlockPacks(bad: Map<string, BadRecord>): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of bad.values()) for (const b of r.blocks) out.set(b, r.packId);
  return out;
}

function missingBlock(h: Buffer, chunk: number, bad: Map<string, string>): BallastError {
  const pack = bad.get(hex(h));
  if (pack) {
    return new BallastError(
      'CHECKSUM_MISMATCH',
      `block ${hex(h)} (chunk ${chunk}) in pack ${pack} was found corrupt by verify and not stored again since`,
      {
        block: hex(h),
        pack,
        chunk,
      },
    );
  }
  return new BallastError(
    'NOT_FOUND',
    `block ${hex(h)} (chunk ${chunk}) is in no pack of the repository`,
    { block: hex(h), chunk },
  );
}

/** Fetches blobs, coalescing neighbours in a pack into one ranged read; returns bytes fetched. */
async function fetchBlocks<W extends { hash: Buffer; loc: Location }>(
  repo: Repository,
  index: BlockIndex,
  wanted: W[],
  chunk: number,
  put: (w: W, block: Buffer) => void,
): Promise<number> {
  const sorted = [...wanted].sort((a, b) => a.loc.pack - b.loc.pack || a.loc.offset - b.loc.offset);
  let fetched = 0;
  for (let i = 0; i < sorted.length;) {
    const first = sorted[i]!;
    let end = first.loc.offset + first.loc.storedLength;
    let j = i + 1;
    while (j < sorted.length) {
      const n = sorted[j]!;
      if (n.loc.pack !== first.loc.pack || n.loc.offset - end > MAX_GAP_BYTES) break;
      const newEnd = Math.max(end, n.loc.offset + n.loc.storedLength);
      if (newEnd - first.loc.offset > MAX_READ_BYTES) break;
      end = newEnd;
      j++;
    }
    const packId = index.packId(first.loc.pack)!;
    let bytes: Buffer;
    try {
      bytes = await repo.target.get(keys.pack(packId), {
        offset: first.loc.offset,
        length: end - first.loc.offset,
      });
    } catch (err) {
      if (isBallastError(err, 'NOT_FOUND')) {
        throw new BallastError(
          'NOT_FOUND',
          `block ${hex(first.hash)} (chunk ${chunk}): pack ${packId} is missing`,
          {
            block: hex(first.hash),
            pack: packId,
            chunk,
          },
          err,
        );
      }
      throw err;
    }
    fetched += bytes.length;
    for (let x = i; x < j; x++) {
      const w = sorted[x]!;
      const rel = w.loc.offset - first.loc.offset;
      const stored = bytes.subarray(rel, rel + w.loc.storedLength);
      try {
        put(w, repo.openBlob(stored, w.hash, packId, w.loc.rawLength));
      } catch (err) {
        if (isBallastError(err)) {
          throw new BallastError(
            err.code,
            `${err.message} (chunk ${chunk})`,
            { ...err.details, chunk },
            err,
          );
        }
        throw err;
      }
    }
    i = j;
  }
  return fetched;
}
