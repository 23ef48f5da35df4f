import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type {
  BackupSource,
  BackupTarget,
  ListPage,
  Manifest,
  ObjectInfo,
  RestoreSink,
} from '../src/index.js';

/** mulberry32: a small seeded generator, so every run sees the same data and changes. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills `buf` (from `offset`, `length` bytes) with seeded random bytes. */
export function fillRandom(
  buf: Buffer,
  rand: () => number,
  offset = 0,
  length = buf.length - offset,
): void {
  let i = offset;
  const end = offset + length;
  for (; i + 4 <= end; i += 4) buf.writeUInt32LE((rand() * 4294967296) >>> 0, i);
  for (; i < end; i++) buf[i] = (rand() * 256) | 0;
}

/**
 * A volume image in memory: random data with zero regions and a repeated region (so the
 * round trip covers zero blocks, dedup within a volume and a short last chunk and block).
 */
export function makeVolume(sizeBytes: number, seed: number): Buffer {
  const rand = seeded(seed);
  const vol = Buffer.alloc(sizeBytes);
  fillRandom(vol, rand);
  // A zero region of 300 KiB a third of the way in, and a zero tail of 70 KiB + 100 bytes.
  const z = Math.floor(sizeBytes / 3);
  vol.fill(0, z, Math.min(sizeBytes, z + 300 * 1024));
  vol.fill(0, Math.max(0, sizeBytes - 70 * 1024 - 100));
  // The first 64 KiB repeated at two thirds (block aligned).
  const r = Math.floor((2 * sizeBytes) / 3 / 4096) * 4096;
  if (r + 65536 < sizeBytes) vol.copy(vol, r, 0, 65536);
  return vol;
}

/** A BackupSource over a buffer; counts the chunks read; `changed` feeds changedSince. */
export class BufferSource implements BackupSource {
  readonly data: Buffer;
  readonly chunkSizeBytes: number;
  readonly reads: number[] = [];
  changed: Set<number> | 'all' | undefined;
  /** Resolves before each read when set (tests hold a backup in the middle with it). */
  gate: (() => Promise<void>) | undefined;

  constructor(data: Buffer, chunkSizeBytes: number, changed?: Set<number> | 'all') {
    this.data = data;
    this.chunkSizeBytes = chunkSizeBytes;
    this.changed = changed;
  }

  get sizeBytes(): number {
    return this.data.length;
  }

  async readChunk(index: number, signal: AbortSignal): Promise<Buffer | null> {
    if (this.gate) await this.gate();
    signal.throwIfAborted();
    this.reads.push(index);
    const start = index * this.chunkSizeBytes;
    const chunk = this.data.subarray(
      start,
      Math.min(this.data.length, start + this.chunkSizeBytes),
    );
    return chunk.every((b) => b === 0) ? null : Buffer.from(chunk);
  }

  get changedSince(): ((parent: Manifest) => Promise<Set<number> | 'all'>) | undefined {
    if (this.changed === undefined) return undefined;
    const c = this.changed;
    return async () => c;
  }
}

/** A RestoreSink into a buffer of the backup's size; records the chunks written. */
export class BufferSink implements RestoreSink {
  readonly data: Buffer;
  readonly chunkSizeBytes: number;
  readonly written: number[] = [];

  constructor(sizeBytes: number, chunkSizeBytes: number) {
    this.data = Buffer.alloc(sizeBytes, 0xee);
    this.chunkSizeBytes = chunkSizeBytes;
  }

  async writeChunk(index: number, data: Buffer | null, lengthBytes: number): Promise<void> {
    const start = index * this.chunkSizeBytes;
    if (data === null) this.data.fill(0, start, start + lengthBytes);
    else data.copy(this.data, start);
    this.written.push(index);
  }
}

/**
 * Passes everything to a real target and counts what it was sent, per top-level prefix
 * ("packs", "index", "backups", ...). Not a mock: the objects land in the target.
 */
export class CountingTarget implements BackupTarget {
  readonly inner: BackupTarget;
  readonly description: string;
  readonly bytesPut = new Map<string, number>();

  constructor(inner: BackupTarget) {
    this.inner = inner;
    this.description = inner.description;
  }

  total(): number {
    let n = 0;
    for (const v of this.bytesPut.values()) n += v;
    return n;
  }

  reset(): void {
    this.bytesPut.clear();
  }

  async put(key: string, body: Buffer | Readable, opts?: { signal?: AbortSignal }): Promise<void> {
    await this.inner.put(key, body, opts);
    if (Buffer.isBuffer(body)) {
      const top = key.split('/')[0]!;
      this.bytesPut.set(top, (this.bytesPut.get(top) ?? 0) + body.length);
    }
  }

  get(key: string, range?: { offset: number; length: number }): Promise<Buffer> {
    return this.inner.get(key, range);
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.head(key);
  }

  listPage(prefix: string, next?: string, pageSize?: number): Promise<ListPage> {
    return this.inner.listPage(prefix, next, pageSize);
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  validate(): Promise<void> {
    return this.inner.validate();
  }

  async abortIncompleteUploads(olderThanMs: number): Promise<number> {
    return (await this.inner.abortIncompleteUploads?.(olderThanMs)) ?? 0;
  }
}

/** A temp dir removed at the end of the test (`t.teardown`). */
export function tempDir(t: { teardown(fn: () => void): void }, name = 'ballast-backup-'): string {
  const dir = mkdtempSync(join(tmpdir(), name));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Changes `fraction` of the 4 KiB blocks of `vol` in place at seeded random positions; returns the blocks. */
export function changeBlocks(vol: Buffer, fraction: number, seed: number): Set<number> {
  const rand = seeded(seed);
  const blocks = Math.floor(vol.length / 4096);
  const want = Math.round(blocks * fraction);
  const changed = new Set<number>();
  while (changed.size < want) changed.add(Math.floor(rand() * blocks));
  for (const b of changed) fillRandom(vol, rand, b * 4096, 4096);
  return changed;
}

export const MiB = 1024 * 1024;
export const KiB = 1024;
