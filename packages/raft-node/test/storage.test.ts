import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { isBallastError } from '@ballast/common';
import { EntryType, type Entry } from '@ballast/raft';
import { DiskStorage } from '../src/disk-storage.js';
import { isMemberError } from '../src/errors.js';
import { expectedLog } from './fixtures/log-workload.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'raft-node-storage-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function ent(index: number, term: number, text = `${index}@${term}`): Entry {
  return { index, term, type: EntryType.ENTRY_NORMAL, data: enc.encode(text) };
}

async function open(dir: string, voters?: string[]): Promise<DiskStorage> {
  return DiskStorage.open({
    dir,
    clusterId: 'c1',
    memberId: 'm1',
    ...(voters ? { bootstrapVoters: voters } : {}),
  });
}

/** index -> term of every entry the in-memory view serves. */
function memoryLog(s: DiskStorage): Map<number, number> {
  const m = s.memory;
  const out = new Map<number, number>();
  const first = m.firstIndex();
  const last = m.lastIndex();
  if (last >= first) for (const e of m.entries(first, last + 1, Infinity)) out.set(e.index, e.term);
  return out;
}

t.test('a new data dir is bootstrapped with the founding voters', async (t) => {
  const dir = tempDir(t);
  const s = await open(dir, ['m1', 'm2', 'm3']);
  t.ok(s.created);
  t.same(s.memory.initialState().hardState, { term: 1, vote: '', commit: 3 });
  t.equal(s.memory.lastIndex(), 3);
  t.equal(s.memory.entries(1, 4, Infinity)[0]!.type, EntryType.ENTRY_CONF_CHANGE);
  await s.close();
  const again = await open(dir, ['m9']); // bootstrap is ignored for an existing dir
  t.notOk(again.created);
  t.equal(again.memory.lastIndex(), 3);
  t.same(again.memory.initialState().hardState, { term: 1, vote: '', commit: 3 });
  await again.close();
});

t.test('a joining member starts empty', async (t) => {
  const s = await open(tempDir(t));
  t.equal(s.memory.lastIndex(), 0);
  t.same(s.memory.initialState().hardState, { term: 0, vote: '', commit: 0 });
  await s.close();
});

t.test('append, conflicting suffix truncation, hard state, reopen', async (t) => {
  const dir = tempDir(t);
  const s = await open(dir, ['m1']);
  const es = [2, 3, 4, 5, 6, 7, 8].map((i) => ent(i, 2));
  await s.persist({ hardState: { term: 2, vote: 'm1', commit: 1 }, entries: es, sync: true });
  t.equal(s.memory.lastIndex(), 8);
  // A new leader at term 3 replaces 5..8 with a shorter suffix 5..6.
  await s.persist({
    hardState: { term: 3, vote: '', commit: 4 },
    entries: [ent(5, 3, 'new5'), ent(6, 3, 'new6')],
    sync: true,
  });
  t.equal(s.memory.lastIndex(), 6, 'memory view truncated');
  const durable = await s.readEntries();
  t.same(
    durable.map((e) => [e.index, e.term]),
    [
      [1, 1],
      [2, 2],
      [3, 2],
      [4, 2],
      [5, 3],
      [6, 3],
    ],
    'durable log truncated in the same batch',
  );
  // A Ready's entries are always the new tail of the log (as in MemoryStorage.append): what
  // follows them goes, in the memory view and on disk alike.
  await s.persist({ entries: [ent(4, 2), ent(5, 3, 'new5')], sync: true });
  t.equal(s.memory.lastIndex(), 5);
  t.same(
    (await s.readEntries()).map((e) => e.index),
    [1, 2, 3, 4, 5],
  );
  await s.persist({ entries: [ent(6, 3, 'new6')], sync: true });
  // A commit-only change is not written on its own, but memory has it and the next write
  // carries it.
  await s.persist({ hardState: { term: 3, vote: '', commit: 6 }, entries: [], sync: false });
  t.same(s.hardState, { term: 3, vote: '', commit: 4 }, 'commit alone is not a disk write');
  t.same(s.memory.initialState().hardState, { term: 3, vote: '', commit: 6 });
  await s.persist({ entries: [ent(7, 3)], sync: true });
  t.same(s.hardState, { term: 3, vote: '', commit: 6 }, 'carried by the next write');
  await s.close();

  const r = await open(dir);
  t.same(
    [...memoryLog(r)],
    [
      [1, 1],
      [2, 2],
      [3, 2],
      [4, 2],
      [5, 3],
      [6, 3],
      [7, 3],
    ],
  );
  t.equal(dec.decode(r.memory.entries(5, 6, Infinity)[0]!.data), 'new5');
  t.same(r.memory.initialState().hardState, { term: 3, vote: '', commit: 6 });
  await r.close();
});

t.test('a gap in the log is an invariant violation', async (t) => {
  const s = await open(tempDir(t), ['m1']);
  await t.rejects(s.persist({ entries: [ent(5, 1)], sync: true }), /gap/);
  await s.close().catch(() => undefined);
});

t.test('snapshot, compaction and reopen', async (t) => {
  const dir = tempDir(t);
  const s = await open(dir, ['m1']);
  const es = [];
  for (let i = 2; i <= 20; i++) es.push(ent(i, 2));
  await s.persist({ hardState: { term: 2, vote: 'm1', commit: 20 }, entries: es, sync: true });
  const conf = { voters: ['m1'], learners: [] };
  const { snapshot, compactedIndex } = await s.saveSnapshot(15, conf, enc.encode('state@15'), 5);
  t.equal(snapshot.metadata.index, 15);
  t.equal(snapshot.metadata.term, 2);
  t.equal(compactedIndex, 10);
  t.equal(s.memory.firstIndex(), 11, 'memory compacted behind the snapshot');
  const durable = await s.readEntries();
  t.equal(durable[0]!.index, 11, 'compacted entries deleted from LevelDB');
  t.equal(durable.length, 10);
  await s.close();

  const r = await open(dir);
  t.equal(r.memory.firstIndex(), 11);
  t.equal(r.memory.lastIndex(), 20);
  t.equal(r.memory.term(10), 2, 'compaction point term kept');
  t.same(r.memory.snapshot().metadata, { index: 15, term: 2, confState: conf });
  t.equal(dec.decode(r.memory.snapshot().data), 'state@15');
  // A later snapshot with keepEntries 0 compacts everything up to it.
  await r.saveSnapshot(20, conf, enc.encode('state@20'), 0);
  t.equal(r.memory.firstIndex(), 21);
  t.same(await r.readEntries(), []);
  await r.close();
  const r2 = await open(dir);
  t.equal(r2.memory.firstIndex(), 21);
  t.equal(r2.memory.lastIndex(), 20);
  t.equal(dec.decode(r2.memory.snapshot().data), 'state@20');
  await r2.close();
});

t.test('a snapshot from the leader replaces the log; large data is chunked', async (t) => {
  const dir = tempDir(t);
  const s = await open(dir, ['m1']);
  await s.persist({
    hardState: { term: 2, vote: '', commit: 3 },
    entries: [ent(2, 2), ent(3, 2), ent(4, 2)],
    sync: true,
  });
  const big = new Uint8Array(9 * 1024 * 1024 + 17);
  for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) & 0xff;
  const conf = { voters: ['m1', 'm2'], learners: ['m3'] };
  await s.persist({
    hardState: { term: 5, vote: '', commit: 100 },
    entries: [ent(101, 5)],
    snapshot: { metadata: { index: 100, term: 4, confState: conf }, data: big },
    sync: true,
  });
  t.equal(s.memory.firstIndex(), 101);
  t.equal(s.memory.lastIndex(), 101);
  t.same(
    (await s.readEntries()).map((e) => e.index),
    [101],
    'old entries gone',
  );
  await s.close();

  const r = await open(dir);
  t.same(r.memory.snapshot().metadata, { index: 100, term: 4, confState: conf });
  t.ok(Buffer.from(r.memory.snapshot().data).equals(Buffer.from(big)), '9 MiB snapshot intact');
  t.same(r.memory.initialState().confState, conf);
  // A smaller snapshot removes the chunks the big one used.
  await r.saveSnapshot(101, conf, enc.encode('small'), 0);
  await r.close();
  const r2 = await open(dir);
  t.equal(dec.decode(r2.memory.snapshot().data), 'small');
  await r2.close();
});

t.test('a data dir of another cluster or member is refused', async (t) => {
  const dir = tempDir(t);
  const s = await open(dir, ['m1']);
  await s.close();
  for (const [clusterId, memberId] of [
    ['other', 'm1'],
    ['c1', 'm2'],
  ] as const) {
    const err = await DiskStorage.open({ dir, clusterId, memberId }).catch((e: unknown) => e);
    t.ok(isMemberError(err, 'wrong-data-dir'), `${clusterId}/${memberId} refused`);
    t.equal((err as { code: string }).code, 'CONFIG');
  }
  // And the refusal changed nothing.
  const r = await open(dir);
  t.equal(r.memory.lastIndex(), 1);
  await r.close();
});

t.test('a data dir open in another process (or twice) is refused', async (t) => {
  const dir = tempDir(t);
  const s = await open(dir, ['m1']);
  const err = await open(dir).catch((e: unknown) => e);
  t.ok(isBallastError(err, 'IO'), 'LevelDB lock held');
  await s.close();
});

// Random operations against a plain model; after each run the reopened log must equal it.
t.test('random appends, truncations and snapshots survive reopen (property)', async (t) => {
  const op = fc.oneof(
    fc.record({
      kind: fc.constant('append' as const),
      back: fc.nat({ max: 6 }),
      count: fc.integer({ min: 1, max: 5 }),
    }),
    fc.record({
      kind: fc.constant('snapshot' as const),
      back: fc.nat({ max: 4 }),
      keep: fc.nat({ max: 4 }),
    }),
    fc.record({
      kind: fc.constant('leader-snapshot' as const),
      ahead: fc.integer({ min: 1, max: 5 }),
    }),
  );
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 14 }), async (ops) => {
      const dir = join(tempDir(t), `run${run++}`);
      const s = await open(dir, ['m1']);
      // The model: index -> term for live entries, compaction point, snapshot index.
      const model = new Map<number, number>([[1, 1]]);
      let compacted = 0;
      let snapIndex = 0;
      let last = 1;
      let term = 1;
      let commit = 1;
      for (const o of ops) {
        if (o.kind === 'append') {
          // Rewrite from above the commit index (committed entries never change).
          const from = Math.max(commit + 1, last + 1 - o.back);
          term++;
          const es: Entry[] = [];
          for (let i = 0; i < o.count; i++) es.push(ent(from + i, term));
          await s.persist({ hardState: { term, vote: '', commit }, entries: es, sync: false });
          for (const i of [...model.keys()]) if (i >= from) model.delete(i);
          for (const e of es) model.set(e.index, e.term);
          last = from + o.count - 1;
          // What precedes the new entries is committed now (as after a leader's append).
          commit = Math.max(commit, from - 1);
        } else if (o.kind === 'snapshot') {
          // The application snapshots what it applied, at most the commit index.
          const at = commit - o.back;
          if (at <= snapIndex || at < 1) continue;
          await s.saveSnapshot(at, { voters: ['m1'], learners: [] }, enc.encode(`s${at}`), o.keep);
          snapIndex = at;
          const to = Math.max(compacted, at - o.keep);
          for (const i of [...model.keys()]) if (i <= to) model.delete(i);
          compacted = to;
        } else {
          const at = last + o.ahead;
          term++;
          await s.persist({
            hardState: { term, vote: '', commit: at },
            entries: [],
            snapshot: {
              metadata: { index: at, term, confState: { voters: ['m1'], learners: [] } },
              data: enc.encode(`s${at}`),
            },
            sync: false,
          });
          model.clear();
          compacted = at;
          snapIndex = at;
          last = at;
          commit = at;
        }
      }
      t.same([...memoryLog(s)], [...model], 'memory view matches the model');
      await s.close();
      const r = await open(dir);
      const ok =
        JSON.stringify([...memoryLog(r)]) === JSON.stringify([...model]) &&
        r.memory.firstIndex() === compacted + 1 &&
        r.memory.lastIndex() === last &&
        r.memory.snapshot().metadata.index === snapIndex &&
        (snapIndex === 0 || dec.decode(r.memory.snapshot().data) === `s${snapIndex}`) &&
        r.memory.initialState().hardState.commit >= snapIndex;
      await r.close();
      return ok;
    }),
    { numRuns: 40 },
  );
});

// A real process is SIGKILLed while it writes synced batches as fast as it can. After each
// kill the reopened log must be exactly the log after the last acknowledged batch, or after
// the one batch that was in flight: nothing acknowledged is lost and nothing is torn.
t.test('SIGKILL during writes loses nothing acknowledged and tears nothing', async (t) => {
  const writer = fileURLToPath(new URL('./fixtures/log-writer.js', import.meta.url));
  for (let round = 0; round < 3; round++) {
    const dir = join(tempDir(t), `crash${round}`);
    const ackFile = `${dir}.acks`;
    const child = spawn(process.execPath, [writer, dir, ackFile], { stdio: 'ignore' });
    t.teardown(() => child.kill('SIGKILL'));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // Wait until a number of batches that differs per round are acknowledged, then kill.
    const target = 20 + round * 37;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const acks = readAcks(ackFile);
      if (acks >= target) break;
      if (Date.now() > deadline) throw new Error(`writer made only ${acks} batches in 60 s`);
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    await exited;
    const acked = readAcks(ackFile);
    const s = await DiskStorage.open({ dir, clusterId: 'crash', memberId: 'w1' });
    const found = memoryLog(s);
    const durable = new Map((await s.readEntries()).map((e) => [e.index, e] as const));
    await s.close();
    const matchesAcked = sameLog(found, expectedLog(acked));
    const matchesNext = sameLog(found, expectedLog(acked + 1));
    t.ok(
      matchesAcked || matchesNext,
      `round ${round}: log after ${acked} acknowledged batches is batch ${acked} or ${acked + 1}`,
    );
    let contentOk = true;
    for (const [index, e] of durable) {
      if (index === 1) continue; // the bootstrap entry
      if (dec.decode(e.data) !== `${index}:${e.term}`) contentOk = false;
    }
    t.ok(contentOk, `round ${round}: every entry's content matches its index and term`);
  }
});

function readAcks(file: string): number {
  try {
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n').filter((l) => l.length > 0);
    return lines.length === 0 ? 0 : Number(lines[lines.length - 1]);
  } catch {
    return 0;
  }
}

function sameLog(a: Map<number, number>, b: Map<number, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [i, term] of a) if (b.get(i) !== term) return false;
  return true;
}
