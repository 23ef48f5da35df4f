// Space that N snapshots keep, against the bytes that changed after them: the chunk store
// directly (one replica on this disk, no engine, no fio). Each round takes a snapshot, then
// writes K distinct 4 KiB blocks with a known pattern. Copy-on-write works per chunk: the
// first write to a chunk after a snapshot copies the chunk's non-zero blocks (D27), so the
// space kept is (chunks touched per round) x (their non-zero bytes), not K x 4 KiB. A model
// of exactly that rule runs alongside and must agree with the store's own count.
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatSize } from '@ballast/common';
import { ChunkStore } from '@ballast/chunkstore';

export interface SnapshotSpaceOptions {
  dir: string;
  resultsDir: string;
  /** Replica size (default 64 MiB). */
  sizeBytes?: number;
  /** Snapshots (rounds) per case (default 20). */
  rounds?: number;
  /** Distinct 4 KiB blocks written after each snapshot (default 4). */
  blocksPerRound?: number;
  chunkSizes?: number[];
  /** Snapshot counts of the live-cost table (default 0 and 1,000). */
  liveCounts?: number[];
}

const BLOCK = 4096;
const KiB = 1024;
const MiB = 1024 * KiB;

type Pattern = 'scattered' | 'clustered' | 'same-blocks';

interface SpaceCase {
  pattern: Pattern;
  /** The whole replica written before the first snapshot (else it starts empty). */
  full: boolean;
  chunkSizeBytes: number;
}

interface SpaceResult extends SpaceCase {
  rounds: number;
  blocksPerRound: number;
  changedBytes: number;
  chunksCopied: number;
  modelBytes: number;
  snapshotBytes: number;
  exclusiveBytes: number;
  sharedBytes: number;
  snapFileBytes: number;
  snapshotMsP50: number;
  snapshotMsMax: number;
}

export async function runSnapshotSpace(o: SnapshotSpaceOptions): Promise<string> {
  const sizeBytes = o.sizeBytes ?? 64 * MiB;
  const rounds = o.rounds ?? 20;
  const k = o.blocksPerRound ?? 4;
  const chunkSizes = o.chunkSizes ?? [4 * MiB, 256 * KiB, 64 * KiB];
  const cases: SpaceCase[] = [];
  for (const chunkSizeBytes of chunkSizes) {
    for (const pattern of ['scattered', 'clustered', 'same-blocks'] as const) {
      cases.push({ pattern, full: true, chunkSizeBytes });
    }
    cases.push({ pattern: 'scattered', full: false, chunkSizeBytes });
  }
  const results: SpaceResult[] = [];
  for (const c of cases) {
    const dir = join(o.dir, `${c.pattern}-${c.full ? 'full' : 'empty'}-${c.chunkSizeBytes}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    try {
      const r = await runCase(dir, c, sizeBytes, rounds, k);
      results.push(r);
      process.stderr.write(
        `space ${c.pattern} ${c.full ? 'full' : 'empty'} chunk ${formatSize(c.chunkSizeBytes)}: ` +
          `changed ${formatSize(r.changedBytes)}, kept ${formatSize(r.snapshotBytes)}\n`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const live = await liveCost(o.dir, o.liveCounts ?? [0, 1000]);
  writeFileSync(
    join(o.resultsDir, 'snapshot-space.json'),
    JSON.stringify({ sizeBytes, rounds, blocksPerRound: k, results, live }, null, 2),
  );
  const head = [
    'volume before',
    'pattern',
    'chunk',
    'bytes changed',
    'chunks copied',
    'snapshotBytes()',
    'model',
    '.snap on disk',
    'kept / changed',
    'Σ exclusive / Σ shared',
    'createSnapshot p50 / max ms',
  ];
  const lines = results.map((r) => [
    r.full ? 'full' : 'empty',
    r.pattern,
    formatSize(r.chunkSizeBytes),
    formatSize(r.changedBytes),
    String(r.chunksCopied),
    formatSize(r.snapshotBytes),
    r.modelBytes === r.snapshotBytes ? 'same' : formatSize(r.modelBytes),
    formatSize(r.snapFileBytes),
    `${(r.snapshotBytes / r.changedBytes).toFixed(r.snapshotBytes < r.changedBytes ? 2 : 1)}x`,
    `${formatSize(r.exclusiveBytes)} / ${formatSize(r.sharedBytes)}`,
    `${r.snapshotMsP50.toFixed(1)} / ${r.snapshotMsMax.toFixed(1)}`,
  ]);
  return (
    `\n## Snapshots: space after ${rounds} snapshots, ${k} distinct 4 KiB blocks written after each ` +
    `(${formatSize(sizeBytes)} replica, chunk store directly)\n\n` +
    `${[head, head.map(() => '---'), ...lines].map((l) => `| ${l.join(' | ')} |`).join('\n')}\n` +
    `\nBytes changed: K x 4 KiB per round. Model: per round, the chunks the round's writes fall in, ` +
    `times their non-zero blocks before the round ("same" when it equals snapshotBytes()). ` +
    `Σ exclusive / Σ shared: listSnapshots() summed over the snapshots; a version read by m ` +
    `snapshots counts m times in Σ shared. createSnapshot: flush + synced record, idle replica.\n` +
    liveTable(live)
  );
}

interface LiveCost {
  snapshots: number;
  rep: number;
  writeUs: number;
  writeCpuUs: number;
  readUs: number;
  readCpuUs: number;
}

const LIVE_SIZE = 256 * MiB;
const LIVE_OPS = 20_000;

/**
 * The live path's cost with N snapshots, in one process without sockets (less noise than fio
 * on a shared machine): a 256 MiB replica with 4 MiB chunks takes N snapshots with 4 random
 * 4 KiB writes before each (as serve.js --snapshots does), is then written in full (so every
 * chunk has been copied once since the newest snapshot, as in the fio runs), and 20,000 random
 * 4 KiB writes (32 at a time) and reads are timed, wall and CPU per operation. The counts run
 * alternately, twice.
 */
async function liveCost(base: string, counts: number[]): Promise<LiveCost[]> {
  const out: LiveCost[] = [];
  const blocks = LIVE_SIZE / BLOCK;
  const data = randomBytes(BLOCK);
  for (let rep = 0; rep < 2; rep++) {
    for (const n of counts) {
      const dir = join(base, `live-${n}-${rep}`);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      const store = await ChunkStore.open({ dir });
      try {
        const replica = await store.createReplica('live', { sizeBytes: LIVE_SIZE });
        for (let seq = 1; seq <= n; seq++) {
          await Promise.all(
            Array.from({ length: 4 }, () =>
              settle(replica.write(randomInt(blocks) * BLOCK, randomBytes(BLOCK))),
            ),
          );
          await replica.createSnapshot(seq);
        }
        const piece = Buffer.alloc(MiB, 0xa5);
        for (let off = 0; off < LIVE_SIZE; off += MiB) await settle(replica.write(off, piece));
        await replica.flush();
        const offsets = Array.from({ length: LIVE_OPS }, () => randomInt(blocks) * BLOCK);
        let t0 = performance.now();
        let c0 = process.cpuUsage();
        for (let i = 0; i < LIVE_OPS; i += 32) {
          await Promise.all(
            offsets.slice(i, i + 32).map((off) => settle(replica.write(off, data))),
          );
        }
        let c1 = process.cpuUsage(c0);
        const writeUs = ((performance.now() - t0) * 1000) / LIVE_OPS;
        const writeCpuUs = (c1.user + c1.system) / LIVE_OPS;
        t0 = performance.now();
        c0 = process.cpuUsage();
        for (const off of offsets) replica.read(off, BLOCK);
        c1 = process.cpuUsage(c0);
        const readUs = ((performance.now() - t0) * 1000) / LIVE_OPS;
        out.push({
          snapshots: n,
          rep,
          writeUs,
          writeCpuUs,
          readUs,
          readCpuUs: (c1.user + c1.system) / LIVE_OPS,
        });
        process.stderr.write(
          `live cost, ${n} snapshots: write ${writeUs.toFixed(1)} µs, read ${readUs.toFixed(1)} µs\n`,
        );
      } finally {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  return out;
}

function liveTable(live: LiveCost[]): string {
  const counts = [...new Set(live.map((l) => l.snapshots))];
  const zero = live.filter((l) => l.snapshots === counts[0]);
  const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const lines = counts.map((n) => {
    const mine = live.filter((l) => l.snapshots === n);
    const cell = (f: (l: LiveCost) => number): string =>
      `${avg(mine.map(f)).toFixed(1)} (${mine.map((l) => f(l).toFixed(1)).join(', ')})`;
    return [
      String(n),
      cell((l) => l.writeUs),
      cell((l) => l.writeCpuUs),
      `${(avg(mine.map((l) => l.writeUs)) / avg(zero.map((l) => l.writeUs))).toFixed(2)}`,
      cell((l) => l.readUs),
      cell((l) => l.readCpuUs),
      `${(avg(mine.map((l) => l.readUs)) / avg(zero.map((l) => l.readUs))).toFixed(2)}`,
    ];
  });
  const head = [
    'snapshots',
    'write µs/op (runs)',
    'write CPU µs/op',
    'write time ratio',
    'read µs/op (runs)',
    'read CPU µs/op',
    'read time ratio',
  ];
  return (
    `\n## Snapshots: live 4 KiB path with N snapshots (chunk store directly, ${formatSize(LIVE_SIZE)} ` +
    `replica, 4 MiB chunks, ${LIVE_OPS} random writes at 32 in flight, then as many reads)\n\n` +
    `${[head, head.map(() => '---'), ...lines].map((l) => `| ${l.join(' | ')} |`).join('\n')}\n`
  );
}

async function runCase(
  dir: string,
  c: SpaceCase,
  sizeBytes: number,
  rounds: number,
  k: number,
): Promise<SpaceResult> {
  const store = await ChunkStore.open({ dir });
  try {
    const replica = await store.createReplica('space', {
      sizeBytes,
      chunkSizeBytes: c.chunkSizeBytes,
    });
    const blocks = sizeBytes / BLOCK;
    const perChunk = c.chunkSizeBytes / BLOCK;
    // The model: which blocks are non-zero.
    const written = new Uint8Array(blocks);
    if (c.full) {
      const piece = Buffer.alloc(MiB, 0xa5);
      for (let off = 0; off < sizeBytes; off += MiB) await settle(replica.write(off, piece));
      written.fill(1);
    }
    await replica.flush();
    const fixed = pick(c.pattern === 'same-blocks' ? 'scattered' : c.pattern, blocks, k);
    let changedBytes = 0;
    let modelBytes = 0;
    let chunksCopied = 0;
    const snapshotMs: number[] = [];
    for (let seq = 1; seq <= rounds; seq++) {
      const t0 = performance.now();
      await replica.createSnapshot(seq);
      snapshotMs.push(performance.now() - t0);
      const targets = c.pattern === 'same-blocks' ? fixed : pick(c.pattern, blocks, k);
      // The model: the first write to a chunk after the snapshot copies its non-zero blocks.
      const chunks = new Set(targets.map((b) => Math.floor(b / perChunk)));
      for (const chunk of chunks) {
        let nonZero = 0;
        for (let b = chunk * perChunk; b < (chunk + 1) * perChunk; b++) nonZero += written[b]!;
        if (nonZero > 0) chunksCopied++;
        modelBytes += nonZero * BLOCK;
      }
      await Promise.all(targets.map((b) => settle(replica.write(b * BLOCK, randomBytes(BLOCK)))));
      for (const b of targets) written[b] = 1;
      changedBytes += targets.length * BLOCK;
    }
    await replica.flush();
    const list = replica.listSnapshots();
    snapshotMs.sort((a, b) => a - b);
    return {
      ...c,
      rounds,
      blocksPerRound: k,
      changedBytes,
      chunksCopied,
      modelBytes,
      snapshotBytes: replica.snapshotBytes(),
      exclusiveBytes: list.reduce((a, s) => a + s.exclusiveBytes, 0),
      sharedBytes: list.reduce((a, s) => a + s.sharedBytes, 0),
      snapFileBytes: snapFile(dir),
      snapshotMsP50: snapshotMs[Math.floor(snapshotMs.length / 2)] ?? NaN,
      snapshotMsMax: snapshotMs[snapshotMs.length - 1] ?? NaN,
    };
  } finally {
    await store.close();
  }
}

/** K distinct blocks: anywhere (scattered) or one run of K adjacent blocks (clustered). */
function pick(pattern: Pattern, blocks: number, k: number): number[] {
  if (pattern === 'clustered') {
    const start = randomInt(blocks - k + 1);
    return Array.from({ length: k }, (_, i) => start + i);
  }
  const set = new Set<number>();
  while (set.size < k) set.add(randomInt(blocks));
  return [...set];
}

function settle(p: Promise<void> | undefined): Promise<void> {
  return p ?? Promise.resolve();
}

function snapFile(dir: string): number {
  try {
    return statSync(join(dir, 'replicas', 'space.snap')).blocks * 512;
  } catch {
    return NaN;
  }
}
