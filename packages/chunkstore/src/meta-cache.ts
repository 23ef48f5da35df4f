import { assert } from '@ballast/common';
import { META_OVERHEAD_BYTES } from './constants.js';
import { FLAG_HOLE } from './records.js';

/** Whoever holds a chunk's metadata in its lookup map (a replica); told when it is evicted. */
export interface MetaOwner {
  evictMeta(meta: ChunkMeta): void;
}

/**
 * In-memory metadata of one chunk: generation, flags and (unless the chunk is a hole) one CRC32C
 * per block. It is the authority while the store runs; LevelDB holds the state as of the last
 * flush plus dirty marks.
 */
export class ChunkMeta {
  /** Holds a durable dirty mark in the current flush interval: writes may apply at once. */
  marked = false;
  /** Part of the flush being written: its mark and record are about to be settled. */
  closing = false;
  /** Index writes in flight that carry this chunk's record (it must stay until they land). */
  ioPins = 0;
  /** Bytes this entry is accounted for in the cache (kept in step by MetaCache.reaccount). */
  accountedBytes = 0;
  inLru = false;

  constructor(
    readonly owner: MetaOwner,
    readonly index: number,
    public generation: number,
    public flags: number,
    /** null when every block is known to be zero (hole or never written). */
    public checksums: Uint32Array | null,
  ) {}

  get pinned(): boolean {
    return this.marked || this.closing || this.ioPins > 0;
  }

  get hole(): boolean {
    return (this.flags & FLAG_HOLE) !== 0;
  }

  sizeBytes(): number {
    return META_OVERHEAD_BYTES + (this.checksums ? this.checksums.byteLength : 0);
  }
}

/**
 * Bounds chunk metadata in memory for the whole store. Entries that are clean (state equals the
 * index) sit in an LRU and are evicted past `cleanLimitBytes`; they reload from LevelDB on the
 * next access. Pinned entries (dirty in the current interval, in a flush, or with an index
 * write in flight) cannot be dropped; their total is held near `dirtyLimitBytes` by flushing the
 * replica with the most dirty metadata before new chunks are marked (see ChunkStore).
 */
export class MetaCache {
  private readonly lru = new Set<ChunkMeta>();
  cleanBytes = 0;
  pinnedBytes = 0;
  hits = 0;
  misses = 0;
  evictions = 0;

  constructor(
    readonly cleanLimitBytes: number,
    readonly dirtyLimitBytes: number,
  ) {}

  /** Registers a freshly loaded or created entry. */
  add(meta: ChunkMeta): void {
    assert(meta.accountedBytes === 0 && !meta.inLru, 'meta added twice');
    meta.accountedBytes = meta.sizeBytes();
    if (meta.pinned) {
      this.pinnedBytes += meta.accountedBytes;
    } else {
      this.cleanBytes += meta.accountedBytes;
      this.lru.add(meta);
      meta.inLru = true;
      this.evict();
    }
  }

  /** Marks recent use. */
  touch(meta: ChunkMeta): void {
    if (meta.inLru) {
      this.lru.delete(meta);
      this.lru.add(meta);
    }
  }

  /** Call after the entry's checksum array was replaced, allocated or dropped. */
  reaccount(meta: ChunkMeta): void {
    const size = meta.sizeBytes();
    const delta = size - meta.accountedBytes;
    if (delta === 0) return;
    meta.accountedBytes = size;
    if (meta.inLru) this.cleanBytes += delta;
    else this.pinnedBytes += delta;
  }

  /** Call after `marked`, `closing` or `ioPins` changed. */
  updatePin(meta: ChunkMeta): void {
    if (meta.pinned && meta.inLru) {
      this.lru.delete(meta);
      meta.inLru = false;
      this.cleanBytes -= meta.accountedBytes;
      this.pinnedBytes += meta.accountedBytes;
    } else if (!meta.pinned && !meta.inLru) {
      this.pinnedBytes -= meta.accountedBytes;
      this.cleanBytes += meta.accountedBytes;
      this.lru.add(meta);
      meta.inLru = true;
      this.evict();
    }
  }

  /** Forgets an entry entirely (its replica is closing or deleted). */
  drop(meta: ChunkMeta): void {
    if (meta.inLru) {
      this.lru.delete(meta);
      meta.inLru = false;
      this.cleanBytes -= meta.accountedBytes;
    } else {
      this.pinnedBytes -= meta.accountedBytes;
    }
    meta.accountedBytes = 0;
  }

  private evict(): void {
    while (this.cleanBytes > this.cleanLimitBytes) {
      const oldest = this.lru.values().next();
      if (oldest.done) break;
      const meta = oldest.value;
      this.lru.delete(meta);
      meta.inLru = false;
      this.cleanBytes -= meta.accountedBytes;
      meta.accountedBytes = 0;
      this.evictions += 1;
      meta.owner.evictMeta(meta);
    }
  }
}
