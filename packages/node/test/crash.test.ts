// SIGKILL the node in the middle of a pipelined write stream with periodic flushes, restart it,
// and check every block of every flushed write byte for byte (invariant 1 at the node).
// Replay with NODE_CRASH_SEED=<seed>.
import t from 'tap';
import { isBallastError } from '@ballast/common';
import type { ClientSession } from '@ballast/dataplane';
import { connect, pattern, rng, seedFrom, startNodeProcess } from './helpers.js';

const BLOCK = 4096;
const VOLUME = 'vol1';
const SIZE = 64 * 1024 * 1024;
const CHUNK = 1024 * 1024; // small chunks: many dirty marks, so the async path runs a lot
const QUEUE_DEPTH = 16;
const FLUSH_EVERY_WRITES = 40;
const FLUSHES_BEFORE_KILL = 6;

interface WriteRecord {
  seq: number;
  offset: number;
  length: number;
  acked: boolean;
  /** Acknowledged before a flush that was itself acknowledged was sent. */
  covered: boolean;
}

/** Per block: every write that touched it, in send order. */
class History {
  readonly writes: WriteRecord[] = [];
  readonly byBlock = new Map<number, WriteRecord[]>();

  add(w: WriteRecord): void {
    this.writes.push(w);
    for (let b = Math.floor(w.offset / BLOCK); b * BLOCK < w.offset + w.length; b++) {
      let list = this.byBlock.get(b);
      if (!list) this.byBlock.set(b, (list = []));
      list.push(w);
    }
  }

  /**
   * What block `b` may hold after a crash: the last covered write to it, or any write sent
   * after that one (acknowledged or not: it may or may not have landed). The block holds whole
   * write payloads only (writes are block-aligned), so the choices are exact.
   */
  allowed(b: number): WriteRecord[] | null {
    const list = this.byBlock.get(b) ?? [];
    let last = -1;
    for (let i = 0; i < list.length; i++) if (list[i]!.covered) last = i;
    if (last < 0) return null; // nothing durable was promised for this block
    return list.slice(last);
  }
}

function blockOf(w: WriteRecord, b: number): Buffer {
  const data = pattern(w.seq, w.length);
  const start = b * BLOCK - w.offset;
  return data.subarray(start, start + BLOCK);
}

/** Streams writes at QD16 with a flush every 40, until `stop` says so or the node dies. */
async function writeStream(
  session: ClientSession,
  history: History,
  random: () => number,
  firstSeq: number,
  stop: (flushesDone: number) => boolean,
): Promise<{ flushes: number; lostWrites: number }> {
  let seq = firstSeq;
  let flushes = 0;
  let failed = false;
  let lostWrites = 0;
  let sinceFlush = 0;
  const inFlight = new Set<Promise<void>>();
  while (!failed && !stop(flushes)) {
    while (inFlight.size < QUEUE_DEPTH && !failed) {
      const blocks = 1 + Math.floor(random() * 16);
      const offset = Math.floor(random() * (SIZE / BLOCK - blocks)) * BLOCK;
      const w: WriteRecord = {
        seq: seq++,
        offset,
        length: blocks * BLOCK,
        acked: false,
        covered: false,
      };
      history.add(w);
      const p = session.write(offset, pattern(w.seq, w.length)).then(
        () => {
          w.acked = true;
        },
        () => {
          failed = true;
          lostWrites += 1;
        },
      );
      inFlight.add(p);
      void p.then(() => inFlight.delete(p));
      if (++sinceFlush >= FLUSH_EVERY_WRITES) {
        sinceFlush = 0;
        const toCover = history.writes.filter((x) => x.acked && !x.covered);
        const f = session.flush().then(
          () => {
            for (const x of toCover) x.covered = true;
            flushes += 1;
          },
          () => {
            failed = true;
          },
        );
        inFlight.add(f);
        void f.then(() => inFlight.delete(f));
      }
    }
    await Promise.race(inFlight);
  }
  await Promise.allSettled([...inFlight]);
  return { flushes, lostWrites };
}

t.test('flushed writes survive SIGKILL mid-stream, twice', async (t) => {
  const seed = seedFrom('NODE_CRASH_SEED');
  t.comment(`seed ${seed} (replay with NODE_CRASH_SEED=${seed})`);
  const random = rng(seed);
  const node = await startNodeProcess(t, {
    replicas: [{ volumeId: VOLUME, sizeBytes: SIZE, chunkSizeBytes: CHUNK }],
  });
  const history = new History();
  let nextSeq = seed % 100000;

  for (let cycle = 0; cycle < 2; cycle++) {
    const client = await connect(t, node);
    const session = await client.openSession({ volumeId: VOLUME, epoch: 1, sizeBytes: SIZE });
    let killed: Promise<unknown> | undefined;
    const before = history.writes.length;
    const result = await writeStream(session, history, random, nextSeq, (flushes) => {
      if (flushes >= FLUSHES_BEFORE_KILL && killed === undefined) {
        // SIGKILL with the pipeline full: writes and possibly a flush are in flight.
        killed = node.proc.kill();
      }
      return false;
    });
    nextSeq += history.writes.length - before;
    t.ok(killed, `cycle ${cycle}: the node was killed after ${result.flushes} flushes`);
    await killed;
    t.ok(
      result.lostWrites > 0,
      `cycle ${cycle}: ${result.lostWrites} writes were in flight at the kill`,
    );
    const reason = await client.closed;
    t.ok(isBallastError(reason, 'UNAVAILABLE'), 'the client saw the connection go');

    await node.start();
    const after = await connect(t, node);
    const check = await after.openSession({ volumeId: VOLUME, epoch: 1, sizeBytes: SIZE });
    let blocksChecked = 0;
    const bad: string[] = [];
    const blocks = [...history.byBlock.keys()].sort((a, b) => a - b);
    // Read in parallel batches; every block that was promised durable is checked.
    for (let i = 0; i < blocks.length; i += 256) {
      await Promise.all(
        blocks.slice(i, i + 256).map(async (b) => {
          const allowed = history.allowed(b);
          if (allowed === null) return;
          const got = await check.read(b * BLOCK, BLOCK);
          blocksChecked += 1;
          if (!allowed.some((w) => blockOf(w, b).equals(got))) {
            bad.push(`block ${b}: matches none of writes ${allowed.map((w) => w.seq).join(',')}`);
          }
        }),
      );
    }
    t.same(bad.slice(0, 10), [], `cycle ${cycle}: every flushed block reads back byte for byte`);
    t.ok(blocksChecked > 100, `cycle ${cycle}: ${blocksChecked} blocks checked`);
    const map = await after.getChunkMap(VOLUME);
    t.comment(
      `cycle ${cycle}: ${history.writes.length} writes so far; after restart ${map.chunks.filter((c) => c.dirty).length} of ${map.chunks.length} chunks are flagged for resync`,
    );
    // From here on the writes are durable again (the next cycle starts from this state).
    await check.flush();
    for (const w of history.writes) if (w.acked) w.covered = true;
    await after.close();
  }
});
