import { BallastError, isBallastError } from '@ballast/common';
import type { BlockIndex } from './block-index.js';
import { HASH_BYTES, ZERO_HASH } from './codec.js';
import { keys, type Manifest } from './format.js';
import type { Repository } from './repository.js';
import { hex } from './util.js';

/**
 * Reads the tree blobs of backups (roots and leaves). Tree blobs sit together in tree packs, so
 * it fetches a tree pack whole on first use and keeps the last few: walking a backup of a 4 GiB
 * volume (32,768 leaves) costs a handful of GETs, not one per leaf.
 */
export class TreeReader {
  readonly #repo: Repository;
  readonly #index: BlockIndex;
  readonly #cache = new Map<string, Promise<Buffer>>();
  readonly #cachePacks: number;

  constructor(repo: Repository, index: BlockIndex, cachePacks = 4) {
    this.#repo = repo;
    this.#index = index;
    this.#cachePacks = cachePacks;
  }

  /** A tree blob's payload, checked against its hash. */
  async blob(hash: Buffer): Promise<Buffer> {
    const loc = this.#index.get(hash);
    if (!loc) {
      throw new BallastError('NOT_FOUND', `tree blob ${hex(hash)} is in no pack of the index`, {
        block: hex(hash),
      });
    }
    const packId = this.#index.packId(loc.pack)!;
    let pack = this.#cache.get(packId);
    if (pack) {
      this.#cache.delete(packId);
    } else {
      pack = this.#repo.target.get(keys.pack(packId)).catch((err: unknown) => {
        this.#cache.delete(packId);
        if (isBallastError(err, 'NOT_FOUND')) {
          throw new BallastError(
            'NOT_FOUND',
            `tree blob ${hex(hash)}: pack ${packId} is missing`,
            { block: hex(hash), pack: packId },
            err,
          );
        }
        throw err;
      });
      if (this.#cache.size >= this.#cachePacks)
        this.#cache.delete(this.#cache.keys().next().value!);
    }
    this.#cache.set(packId, pack);
    const bytes = await pack;
    const stored = bytes.subarray(loc.offset, loc.offset + loc.storedLength);
    return this.#repo.openBlob(stored, hash, packId, loc.rawLength);
  }

  /** The leaf hashes of a backup (ZERO_HASH for all-zero leaves), one 32-byte slice each. */
  async root(m: Manifest): Promise<Buffer> {
    const root = Buffer.from(m.root, 'hex');
    if (root.equals(ZERO_HASH)) return Buffer.alloc(m.leafCount * HASH_BYTES);
    const payload = await this.blob(root);
    if (payload.length !== m.leafCount * HASH_BYTES) {
      throw new BallastError(
        'CHECKSUM_MISMATCH',
        `backup ${m.backupId}: root lists ${payload.length / HASH_BYTES} leaves, manifest says ${m.leafCount}`,
      );
    }
    return payload;
  }

  /** A leaf's block hashes; an all-zero leaf is `blocks` zero hashes. */
  async leaf(hash: Buffer, blocks: number): Promise<Buffer> {
    if (hash.equals(ZERO_HASH)) return Buffer.alloc(blocks * HASH_BYTES);
    const payload = await this.blob(hash);
    if (payload.length !== blocks * HASH_BYTES) {
      throw new BallastError(
        'CHECKSUM_MISMATCH',
        `leaf ${hex(hash)} lists ${payload.length / HASH_BYTES} blocks, expected ${blocks}`,
      );
    }
    return payload;
  }
}

/** Blocks and leaves of a backup's geometry. */
export function geometry(sizeBytes: number, blockSizeBytes: number, leafBlocks: number) {
  const blocks = Math.ceil(sizeBytes / blockSizeBytes);
  const leaves = Math.ceil(blocks / leafBlocks);
  return {
    blocks,
    leaves,
    /** Blocks in leaf j (the last one may be short). */
    leafLength: (j: number): number => Math.min(leafBlocks, blocks - j * leafBlocks),
    /** Bytes of block k (the last one may be short). */
    blockLength: (k: number): number => Math.min(blockSizeBytes, sizeBytes - k * blockSizeBytes),
  };
}
