// A real crash: a child process writes a stream with periodic flushes and reports them; the
// parent SIGKILLs it mid-stream, reopens the store and checks that every flushed write is
// intact byte for byte and that every chunk holding anything newer is reported unclean.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { ChunkStore } from '../src/index.js';
import {
  CELL_BYTES,
  CRASH_CHUNK_BYTES,
  CRASH_REPLICA_BYTES,
  decodeCell,
  plannedWrite,
  type PlannedWrite,
} from './crash-plan.js';
import { openStore, tempDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url));
const FLUSHES_BEFORE_KILL = 6;
const WAIT_LIMIT_MS = 60_000;

interface ChildReport {
  acked: number;
  flushed: number;
  flushReports: number;
}

async function runChildUntilKilled(t: Test, dir: string, seed: number): Promise<ChildReport> {
  const child = spawn(process.execPath, [CHILD, dir, String(seed)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const report: ChildReport = { acked: 0, flushed: 0, flushReports: 0 };
  const extraWrites = 1 + (seed % 39); // below FLUSH_EVERY_WRITES, so it is always reached
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let buffered = '';
  let killed = false;
  const exited = once(child, 'exit');
  const timer = setTimeout(() => child.kill('SIGKILL'), WAIT_LIMIT_MS);
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const [kind, n] = line.split(' ');
      if (kind === 'A') report.acked = Math.max(report.acked, Number(n));
      if (kind === 'F') {
        report.flushed = Math.max(report.flushed, Number(n));
        report.flushReports += 1;
      }
      // Kill in the middle of the stream: some writes after the last reported flush, often
      // while the next flush is running.
      if (
        !killed &&
        report.flushReports >= FLUSHES_BEFORE_KILL &&
        report.acked >= report.flushed + extraWrites
      ) {
        killed = true;
        child.kill('SIGKILL');
      }
    }
  });
  await exited;
  clearTimeout(timer);
  // Lines written before the kill are still in the pipe; 'exit' can come first.
  if (!child.stdout.readableEnded) await once(child.stdout, 'end');
  t.equal(child.signalCode, 'SIGKILL', `the child was killed (stderr: ${stderr.slice(0, 500)})`);
  return report;
}

t.test(
  'SIGKILL mid-stream: flushed writes survive, unflushed chunks are reported unclean',
  async (t) => {
    const dir = tempDir(t);
    const seed = Number(process.env.CHUNKSTORE_CRASH_SEED ?? Date.now() % 1_000_000);
    t.comment(`seed ${seed} (replay: CHUNKSTORE_CRASH_SEED=${seed})`);
    const setup = await ChunkStore.open({ dir });
    await setup.createReplica('crash', {
      sizeBytes: CRASH_REPLICA_BYTES,
      chunkSizeBytes: CRASH_CHUNK_BYTES,
    });
    await setup.close();

    const report = await runChildUntilKilled(t, dir, seed);
    t.ok(report.flushReports >= FLUSHES_BEFORE_KILL, `saw ${report.flushReports} flushes`);
    t.ok(
      report.acked > report.flushed,
      `killed after write ${report.acked}, last flush covered ${report.flushed}`,
    );

    const store = await openStore(t, { dir });
    const replica = store.replica('crash');
    // Every block must verify: recovery recomputed the checksums of the chunks written after the flush.
    const data = replica.read(0, CRASH_REPLICA_BYTES);
    const map = new Map((await replica.fullChunkMap()).map((e) => [e.index, e]));
    const unclean = new Set([...map.values()].filter((e) => e.unclean).map((e) => e.index));
    t.ok(unclean.size > 0, `${unclean.size} chunks recovered as unclean`);

    // The child may have applied write acked+1 before dying without reporting it.
    const horizon = report.acked + 1;
    const writes: PlannedWrite[] = [];
    for (let seq = 1; seq <= horizon; seq++) writes.push(plannedWrite(seed, seq));
    const cells = CRASH_REPLICA_BYTES / CELL_BYTES;
    const cellsPerChunk = CRASH_CHUNK_BYTES / CELL_BYTES;
    const covers = (w: PlannedWrite, cell: number): boolean =>
      cell * CELL_BYTES >= w.offsetBytes && cell * CELL_BYTES < w.offsetBytes + w.lengthBytes;

    // 1. Flushed writes are intact: each cell holds the last write <= flushed that covered it, or
    //    a later write that covers it (in flight at the kill). Nothing else, nothing older.
    const lastFlushed = new Uint32Array(cells);
    for (const w of writes.slice(0, report.flushed)) {
      lastFlushed.fill(
        w.seq,
        w.offsetBytes / CELL_BYTES,
        (w.offsetBytes + w.lengthBytes) / CELL_BYTES,
      );
    }
    let badCells = 0;
    let newerCells = 0;
    for (let cell = 0; cell < cells; cell++) {
      const seq = decodeCell(data, cell * CELL_BYTES, cell);
      if (seq === lastFlushed[cell]) continue;
      if (seq > report.flushed && seq <= horizon && covers(writes[seq - 1]!, cell)) {
        newerCells++;
        continue;
      }
      if (badCells++ < 5)
        t.fail(`cell ${cell}: holds write ${seq}, flushed state says ${lastFlushed[cell]}`);
    }
    t.equal(badCells, 0, 'every flushed write reads back byte for byte');
    t.comment(`${newerCells} cells hold writes newer than the last reported flush`);

    // 2. The unclean set covers everything not flushed. Flushes persist the state as of some
    //    write number P (at least the last reported one; later flushes may have landed without
    //    being reported). A chunk that is not unclean must hold exactly the state after its
    //    generation-th write, and all those chunks must agree on one P.
    const touching: PlannedWrite[][] = [];
    for (let c = 0; c < CRASH_REPLICA_BYTES / CRASH_CHUNK_BYTES; c++) touching.push([]);
    for (const w of writes) {
      const first = Math.floor(w.offsetBytes / CRASH_CHUNK_BYTES);
      const last = Math.floor((w.offsetBytes + w.lengthBytes - 1) / CRASH_CHUNK_BYTES);
      for (let c = first; c <= last; c++) touching[c]!.push(w);
    }
    let low = report.flushed;
    let high = Number.MAX_SAFE_INTEGER;
    let inconsistent = 0;
    for (let c = 0; c < touching.length; c++) {
      if (unclean.has(c)) continue;
      const generation = map.get(c)?.generation ?? 0;
      const list = touching[c]!;
      if (generation > list.length) {
        if (inconsistent++ < 5)
          t.fail(`chunk ${c}: generation ${generation} but only ${list.length} writes touch it`);
        continue;
      }
      // This chunk's state is "after its generation-th write": P lies in [that write, the next one).
      const from = generation === 0 ? 0 : list[generation - 1]!.seq;
      const until = generation < list.length ? list[generation]!.seq - 1 : Number.MAX_SAFE_INTEGER;
      low = Math.max(low, from);
      high = Math.min(high, until);
      const expected = new Uint32Array(cellsPerChunk);
      for (const w of list.slice(0, generation)) {
        const a = Math.max(w.offsetBytes, c * CRASH_CHUNK_BYTES) / CELL_BYTES - c * cellsPerChunk;
        const b =
          Math.min(w.offsetBytes + w.lengthBytes, (c + 1) * CRASH_CHUNK_BYTES) / CELL_BYTES -
          c * cellsPerChunk;
        expected.fill(w.seq, a, b);
      }
      for (let i = 0; i < cellsPerChunk; i++) {
        const cell = c * cellsPerChunk + i;
        if (decodeCell(data, cell * CELL_BYTES, cell) !== expected[i]) {
          if (inconsistent++ < 5)
            t.fail(`chunk ${c} is not unclean but holds unflushed data at cell ${cell}`);
          break;
        }
      }
    }
    t.equal(inconsistent, 0, 'every chunk not reported unclean holds exactly its flushed state');
    t.ok(low <= high, `all clean chunks agree on one flush point (between ${low} and ${high})`);
    t.comment(
      `acked ${report.acked}, reported flushed ${report.flushed}, flush point in [${low}, ${high}]`,
    );

    // 3. Recovery is complete: the store is clean again after a flush, and reopens without marks.
    await replica.flush();
    t.equal(replica.stats().dirtyChunks, 0);
  },
);
