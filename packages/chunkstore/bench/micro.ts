// Micro-benchmark, run by hand (not part of the tests):
//   npm run build && node packages/chunkstore/dist/bench/micro.js [--ops=200000] [--region-mib=256]
// 4 KiB random writes and reads per second through the chunk store's synchronous API against
// plain fs.writeSync/readSync on a file, in the same process. The variants alternate in slices
// of --slice ops, so page-cache writeback and neighbours' load hit them alike.
import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ChunkStore } from '../src/index.js';

const BLOCK = 4096;
const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k!, Number(v)];
  }),
);
const OPS = args.get('ops') ?? 200_000;
const SLICE = args.get('slice') ?? 2000;
const REGION_BYTES = (args.get('region-mib') ?? 256) * 1024 * 1024;

function offsets(seed: number, count: number): Float64Array {
  const out = new Float64Array(count);
  let x = seed >>> 0 || 1;
  const blocks = REGION_BYTES / BLOCK;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = (x % blocks) * BLOCK;
  }
  return out;
}

type Variant = (offs: Float64Array, from: number, to: number) => void;

/** Runs the variants alternately, slice by slice; returns ops per second for each. */
function race(variants: Record<string, Variant>, seed: number): Record<string, number> {
  const offs = offsets(seed, OPS);
  const spentMs: Record<string, number> = {};
  for (const name of Object.keys(variants)) spentMs[name] = 0;
  for (let from = 0; from < OPS; from += SLICE) {
    const to = Math.min(OPS, from + SLICE);
    for (const [name, run] of Object.entries(variants)) {
      const start = performance.now();
      run(offs, from, to);
      spentMs[name]! += performance.now() - start;
    }
  }
  return Object.fromEntries(Object.entries(spentMs).map(([n, ms]) => [n, OPS / (ms / 1000)]));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'chunkstore-bench-'));
  try {
    const data = Buffer.alloc(BLOCK, 0xab);
    const readBuf = Buffer.alloc(BLOCK);
    const plainFd = openSync(join(dir, 'plain.img'), 'w+');
    ftruncateSync(plainFd, REGION_BYTES);
    const store = await ChunkStore.open({ dir: join(dir, 'store') });
    const replica = await store.createReplica('bench', { sizeBytes: REGION_BYTES });
    // Prefill both so reads hit allocated data, and every chunk of the store holds a dirty
    // mark (the steady state inside a flush interval: writes run synchronously).
    const fill = Buffer.alloc(1024 * 1024, 0x11);
    for (let off = 0; off < REGION_BYTES; off += fill.length) {
      writeSync(plainFd, fill, 0, fill.length, off);
      const p = replica.write(off, fill);
      if (p) await p;
    }
    const queuedBefore = replica.stats().counters.mutationsQueued;
    const writes = race(
      {
        plain: (offs, from, to) => {
          for (let i = from; i < to; i++) writeSync(plainFd, data, 0, BLOCK, offs[i]!);
        },
        store: (offs, from, to) => {
          for (let i = from; i < to; i++) {
            if (replica.write(offs[i]!, data) !== undefined)
              throw new Error('write left the synchronous path');
          }
        },
      },
      1,
    );
    const reads = race(
      {
        plain: (offs, from, to) => {
          for (let i = from; i < to; i++) readSync(plainFd, readBuf, 0, BLOCK, offs[i]!);
        },
        storeRead: (offs, from, to) => {
          for (let i = from; i < to; i++) replica.read(offs[i]!, BLOCK);
        },
        storeReadInto: (offs, from, to) => {
          for (let i = from; i < to; i++) replica.readInto(offs[i]!, readBuf);
        },
      },
      2,
    );
    const flushStart = performance.now();
    await replica.flush();
    const flushMs = performance.now() - flushStart;
    closeSync(plainFd);
    await store.close();
    const k = (n: number): string => `${(n / 1000).toFixed(1)}k/s`;
    console.log(
      `4 KiB random ops over ${REGION_BYTES >> 20} MiB, ${OPS} ops per variant, alternating slices of ${SLICE}`,
    );
    console.log(
      `write: plain fs.writeSync ${k(writes.plain!)}   store.write ${k(writes.store!)}   ratio ${(writes.store! / writes.plain!).toFixed(2)}`,
    );
    console.log(
      `read:  plain fs.readSync  ${k(reads.plain!)}   store.read ${k(reads.storeRead!)} (ratio ${(reads.storeRead! / reads.plain!).toFixed(2)})   store.readInto ${k(reads.storeReadInto!)} (ratio ${(reads.storeReadInto! / reads.plain!).toFixed(2)})`,
    );
    console.log(
      `writes that waited for a dirty mark during the run: ${replica.stats().counters.mutationsQueued - queuedBefore}; final flush ${flushMs.toFixed(1)} ms`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
