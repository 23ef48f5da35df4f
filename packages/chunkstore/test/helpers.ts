import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChunkStore, type ChunkStoreOptions, type MemoryStorage } from '../src/index.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A fresh temporary directory removed when the test ends (also on failure). */
export function tempDir(t: Teardown, prefix = 'chunkstore-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Opens a store and makes sure it is closed when the test ends, whatever state it is in
 * (closing an already closed store is a no-op; a store that fails to close is abandoned).
 */
export async function openStore(t: Teardown, opts: ChunkStoreOptions): Promise<ChunkStore> {
  const store = await ChunkStore.open(opts);
  t.teardown(async () => {
    await store.close().catch(() => store.abandon());
  });
  return store;
}

/** Deterministic bytes for a seed (xorshift32): test data that differs between writes. */
export function pattern(seed: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let x = (seed * 2654435761) >>> 0 || 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf[i] = x & 0xff;
  }
  return buf;
}

/** Awaits a chunk-store mutation result, which is undefined when it completed synchronously. */
export async function done(result: Promise<void> | undefined): Promise<void> {
  if (result !== undefined) await result;
}

/** Opens a store on simulated storage (what a restart after a crash or a power cut does). */
export async function openMemoryStore(storage: MemoryStorage): Promise<ChunkStore> {
  return ChunkStore.open({ dir: storage.location, storage });
}

/** A small seeded PRNG (mulberry32): runs replay from their seed. */
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
