import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';
import t from 'tap';
import { isBallastError } from '@ballast/common';
import { ChunkStore, nativeAddonStatus } from '../src/index.js';
import { done, openStore, pattern, tempDir } from './helpers.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

function code(err: unknown): string | undefined {
  return isBallastError(err) ? err.code : undefined;
}

function f(epoch: number, incarnation = 0): { epoch: number; incarnation: number } {
  return { epoch, incarnation };
}

t.test('the native addon is built and loaded', async (t) => {
  const status = nativeAddonStatus();
  t.equal(status.error, null);
  t.equal(status.loaded, true);
});

t.test('create, write, read, reopen keeps everything', async (t) => {
  const dir = tempDir(t);
  let store = await ChunkStore.open({ dir });
  const replica = await store.createReplica('vol-a', { sizeBytes: 64 * MiB });
  t.equal(replica.chunkSizeBytes, 4 * MiB, 'default chunk size is 4 MiB');
  t.equal(replica.sizeBytes, 64 * MiB);
  const data = pattern(1, 3 * MiB + 123);
  await done(replica.write(5 * MiB - 77, data));
  t.same(replica.read(5 * MiB - 77, data.length), data);
  await store.close();

  store = await openStore(t, { dir });
  const reopened = store.replica('vol-a');
  t.same(reopened.read(5 * MiB - 77, data.length), data, 'data survives a clean reopen');
  const map = await reopened.fullChunkMap();
  t.same(
    map.map((e) => e.index),
    [1, 2],
    'the chunk map lists the written chunks',
  );
  for (const e of map) {
    t.equal(e.generation, 1);
    t.equal(e.dirty, false);
    t.equal(e.unclean, false);
  }
  t.same(
    store.listReplicas().map((r) => [r.replicaId, r.sizeBytes, r.chunkSizeBytes, r.state]),
    [['vol-a', 64 * MiB, 4 * MiB, 'open']],
  );
});

t.test('bad input gets a clear error and changes nothing', async (t) => {
  const dir = tempDir(t);
  const store = await openStore(t, { dir });
  const bad: Array<[string, () => Promise<unknown>]> = [
    ['empty id', () => store.createReplica('', { sizeBytes: MiB })],
    ['id with slash', () => store.createReplica('a/b', { sizeBytes: MiB })],
    ['id with colon', () => store.createReplica('a:b', { sizeBytes: MiB })],
    ['size not block aligned', () => store.createReplica('x', { sizeBytes: MiB + 1 })],
    ['size zero', () => store.createReplica('x', { sizeBytes: 0 })],
    ['size too big', () => store.createReplica('x', { sizeBytes: 2 ** 51 })],
    [
      'chunk size not power of two',
      () => store.createReplica('x', { sizeBytes: MiB, chunkSizeBytes: 3 * 65536 }),
    ],
    [
      'chunk size too small',
      () => store.createReplica('x', { sizeBytes: MiB, chunkSizeBytes: 32768 }),
    ],
    [
      'chunk size too big',
      () => store.createReplica('x', { sizeBytes: MiB, chunkSizeBytes: 128 * MiB }),
    ],
  ];
  for (const [name, fn] of bad) {
    await t.rejects(fn(), { code: 'INVALID_ARGUMENT' }, name);
  }
  t.same(store.listReplicas(), [], 'no replica was created');
  t.notOk(existsSync(join(dir, 'replicas', 'x.data')));

  const replica = await store.createReplica('r1', { sizeBytes: MiB, chunkSizeBytes: 65536 });
  await t.rejects(store.createReplica('r1', { sizeBytes: MiB }), { code: 'CONFLICT' });
  await done(replica.write(0, pattern(2, 8192)));
  const before = replica.read(0, MiB);
  const calls: Array<[string, () => unknown]> = [
    ['read past end', () => replica.read(MiB - 10, 11)],
    ['read negative', () => replica.read(-1, 10)],
    ['read fractional', () => replica.read(1.5, 10)],
    ['write past end', () => replica.write(MiB - 10, Buffer.alloc(11))],
    ['write too large', () => replica.write(0, Buffer.alloc(64 * MiB + 1))],
    ['trim past end', () => replica.trim(MiB, 1)],
    ['zero past end', () => replica.writeZeroes(0, MiB + 4096)],
    ['install wrong size', () => replica.installChunk(0, 1, Buffer.alloc(100))],
    ['install bad index', () => replica.installChunk(16, 1, null)],
    ['install bad generation', () => replica.installChunk(0, -1, null)],
    ['repair unaligned', () => replica.repairBlocks(1, Buffer.alloc(4096))],
    ['chunk info bad index', () => replica.chunkInfo(99)],
  ];
  for (const [name, fn] of calls) {
    let thrown: unknown;
    try {
      fn();
    } catch (err) {
      thrown = err;
    }
    t.ok(
      code(thrown) === 'INVALID_ARGUMENT' || code(thrown) === 'TOO_LARGE',
      `${name}: ${code(thrown)}`,
    );
  }
  t.same(replica.read(0, MiB), before, 'the replica is unchanged');
  t.throws(() => store.replica('nope'), { code: 'NOT_FOUND' });
  await t.rejects(store.acceptFence('v', f(-1)), { code: 'INVALID_ARGUMENT' });
  await t.rejects(store.acceptFence('v', f(1, -1)), { code: 'INVALID_ARGUMENT' });
  await t.rejects(store.acceptFence('v', f(1, 0.5)), { code: 'INVALID_ARGUMENT' });
  await t.rejects(store.acceptFence('bad id!', f(1)), { code: 'INVALID_ARGUMENT' });
});

t.test('a second process cannot open the same store', async (t) => {
  const dir = tempDir(t);
  await openStore(t, { dir });
  await t.rejects(ChunkStore.open({ dir }), { code: 'UNAVAILABLE' });
});

t.test('thin provisioning: a 1 TiB replica uses almost no disk', async (t) => {
  const dir = tempDir(t);
  const store = await openStore(t, { dir });
  const replica = await store.createReplica('big', { sizeBytes: TiB });
  t.equal(statSync(join(dir, 'replicas', 'big.data')).size, TiB, 'the file is 1 TiB long');
  t.ok(replica.usedBytes() < MiB, `usedBytes ${replica.usedBytes()} < 1 MiB`);
  await done(replica.write(700 * GiB, pattern(3, 64 * 1024)));
  await replica.flush();
  t.ok(replica.usedBytes() >= 64 * 1024, 'the written range is allocated');
  t.ok(replica.usedBytes() < 2 * MiB, `usedBytes ${replica.usedBytes()} stays small`);
  const extents = replica.allocatedExtents(0, TiB);
  t.same(extents, [
    { offsetBytes: 0, lengthBytes: 700 * GiB, hole: true },
    { offsetBytes: 700 * GiB, lengthBytes: 64 * 1024, hole: false },
    { offsetBytes: 700 * GiB + 64 * 1024, lengthBytes: TiB - 700 * GiB - 64 * 1024, hole: true },
  ]);
  t.same(replica.read(700 * GiB - 4096, 4096), Buffer.alloc(4096), 'unwritten space reads zeroes');
  const cap = store.capacity();
  t.equal(cap.provisionedBytes, TiB);
  t.ok(cap.usedBytes < 2 * MiB);
  t.ok(cap.totalBytes > 0 && cap.availableBytes > 0);
});

t.test('trim punches holes and frees space; zeroes keep checksums right', async (t) => {
  const dir = tempDir(t);
  const store = await openStore(t, { dir });
  const replica = await store.createReplica('t', { sizeBytes: 64 * MiB, chunkSizeBytes: MiB });
  const data = pattern(4, 16 * MiB);
  await done(replica.write(0, data));
  await replica.flush();
  const usedBefore = replica.usedBytes();
  t.ok(usedBefore >= 16 * MiB, `written: ${usedBefore}`);

  // Unaligned trim: partial edge blocks are zeroed, whole blocks punched, whole chunks become holes.
  const start = MiB - 100;
  const end = 13 * MiB + 5;
  await done(replica.trim(start, end - start));
  const expected = Buffer.from(data);
  expected.fill(0, start, end);
  t.same(replica.read(0, 16 * MiB), expected, 'contents after trim');
  const usedAfter = replica.usedBytes();
  t.ok(usedBefore - usedAfter >= 11 * MiB, `trim freed ${usedBefore - usedAfter} bytes`);
  const map = new Map((await replica.fullChunkMap()).map((e) => [e.index, e]));
  for (let c = 1; c < 13; c++) {
    t.equal(map.get(c)?.hole, true, `chunk ${c} is a hole`);
    t.equal(map.get(c)?.generation, 2, `chunk ${c} generation counts the trim`);
  }
  t.equal(map.get(0)?.hole, false);
  t.equal(map.get(13)?.hole, false);

  // writeZeroes with noHole keeps space allocated but reads zero.
  const usedBeforeZero = replica.usedBytes();
  await done(replica.writeZeroes(14 * MiB + 10, MiB, { noHole: true }));
  expected.fill(0, 14 * MiB + 10, 15 * MiB + 10);
  t.same(replica.read(0, 16 * MiB), expected);
  t.ok(replica.usedBytes() >= usedBeforeZero - 8192, 'noHole keeps the range allocated');

  await store.close();
  const again = await openStore(t, { dir });
  t.same(again.replica('t').read(0, 16 * MiB), expected, 'trim and zeroes survive reopen');
});

t.test('resize grows a replica; shrinking is refused; delete removes everything', async (t) => {
  const dir = tempDir(t);
  let store = await ChunkStore.open({ dir });
  const replica = await store.createReplica('g', {
    sizeBytes: 3 * 65536 + 4096,
    chunkSizeBytes: 65536,
  });
  t.equal(replica.chunkCount, 4);
  t.equal(replica.chunkLengthBytes(3), 4096, 'the last chunk is partial');
  await done(replica.write(3 * 65536, pattern(5, 4096)));
  await t.rejects(store.resizeReplica('g', 65536), { code: 'INVALID_ARGUMENT' });
  await store.resizeReplica('g', 8 * 65536);
  t.equal(replica.sizeBytes, 8 * 65536);
  t.same(replica.read(3 * 65536, 4096), pattern(5, 4096));
  t.same(replica.read(3 * 65536 + 4096, 65536), Buffer.alloc(65536), 'grown space reads zeroes');
  await done(replica.write(7 * 65536, pattern(6, 65536)));
  await store.close();

  store = await ChunkStore.open({ dir });
  const g = store.replica('g');
  t.equal(g.sizeBytes, 8 * 65536, 'the new size survives reopen');
  t.same(g.read(7 * 65536, 65536), pattern(6, 65536));
  await store.deleteReplica('g');
  t.throws(() => g.read(0, 1), { code: 'NOT_FOUND' }, 'the old handle is dead');
  t.notOk(existsSync(join(dir, 'replicas', 'g.data')), 'the data file is gone');
  t.same(store.listReplicas(), []);
  await store.close();

  store = await openStore(t, { dir });
  t.same(store.listReplicas(), [], 'deleted stays deleted');
  const fresh = await store.createReplica('g', { sizeBytes: 65536 * 4, chunkSizeBytes: 65536 });
  t.same(await fresh.fullChunkMap(), [], 'a new replica with the same id starts empty');
  t.same(fresh.read(3 * 65536, 4096), Buffer.alloc(4096));
});

t.test('epoch fencing survives reopen', async (t) => {
  const dir = tempDir(t);
  let store = await ChunkStore.open({ dir });
  t.equal(store.highestEpoch('vol-1'), 0);
  await store.acceptFence('vol-1', f(3));
  await store.acceptFence('vol-1', f(3));
  await t.rejects(store.acceptFence('vol-1', f(2)), { code: 'FENCED' });
  t.throws(() => store.checkFence('vol-1', f(2)), { code: 'FENCED' });
  t.equal(store.checkFence('vol-1', f(3)), 'current');
  t.equal(store.checkFence('vol-1', f(4)), 'newer');
  // Concurrent: the newer one wins, the older one is fenced even though it passed the first check.
  const newer = store.acceptFence('vol-1', f(7));
  const older = store.acceptFence('vol-1', f(6));
  await newer;
  await t.rejects(older, { code: 'FENCED' });
  await store.acceptFence('vol-2', f(1));
  await store.close();

  store = await openStore(t, { dir });
  t.equal(store.highestEpoch('vol-1'), 7, 'the highest epoch is durable');
  t.equal(store.highestEpoch('vol-2'), 1);
  await t.rejects(store.acceptFence('vol-1', f(6)), { code: 'FENCED' });
  t.throws(() => store.checkFence('vol-1', f(5)), { code: 'FENCED' });
  await store.acceptFence('vol-1', f(8));
  t.equal(store.highestEpoch('vol-1'), 8);
});

t.test('replica incarnations fence sessions of the same epoch, durably', async (t) => {
  const dir = tempDir(t);
  let store = await ChunkStore.open({ dir });
  await store.acceptFence('vol-1', f(5, 10));
  t.equal(store.checkFence('vol-1', f(5, 10)), 'current');
  t.equal(store.checkFence('vol-1', f(5, 11)), 'newer');
  // An abandoned session of an earlier incarnation: SUPERSEDED, not FENCED (the writer is fine).
  t.throws(() => store.checkFence('vol-1', f(5, 9)), { code: 'SUPERSEDED' });
  await store.acceptFence('vol-1', f(5, 20));
  t.throws(() => store.checkFence('vol-1', f(5, 10)), { code: 'SUPERSEDED' });
  await t.rejects(store.acceptFence('vol-1', f(5, 19)), { code: 'SUPERSEDED' });
  // The epoch counts first: a new writer with the incarnation it knows is accepted.
  await store.acceptFence('vol-1', f(6, 3));
  t.throws(() => store.checkFence('vol-1', f(5, 20)), { code: 'FENCED' });
  t.same(store.highestFence('vol-1'), f(6, 3));
  await store.close();
  store = await openStore(t, { dir });
  t.same(store.highestFence('vol-1'), f(6, 3), 'the fence is durable');
  t.throws(() => store.checkFence('vol-1', f(6, 2)), { code: 'SUPERSEDED' });
});

t.test('counters and flush latency samples', async (t) => {
  const dir = tempDir(t);
  const store = await openStore(t, { dir });
  const replica = await store.createReplica('c', { sizeBytes: 4 * MiB, chunkSizeBytes: MiB });
  await done(replica.write(0, pattern(7, 10000)));
  await done(replica.write(100, pattern(8, 100)));
  replica.read(0, 5000);
  await done(replica.trim(MiB, MiB));
  await done(replica.writeZeroes(2 * MiB, 4096));
  await replica.flush();
  await replica.flush();
  const s = replica.stats();
  t.equal(s.counters.writeOps, 2);
  t.equal(s.counters.writeBytes, 10100);
  t.equal(s.counters.readOps, 1);
  t.equal(s.counters.readBytes, 5000);
  t.equal(s.counters.trimOps, 1);
  t.equal(s.counters.trimBytes, MiB);
  t.equal(s.counters.zeroOps, 1);
  t.equal(s.counters.flushes, 2);
  t.equal(s.counters.checksumErrors, 0);
  t.equal(s.counters.dirtyMarks, 3, 'three chunks were marked dirty');
  t.equal(s.dirtyChunks, 0, 'nothing is dirty after a flush');
  const samples = replica.takeFlushLatencySamples();
  t.equal(samples.length, 2);
  t.ok(samples.every((ms) => ms >= 0));
  t.same(replica.takeFlushLatencySamples(), [], 'samples are handed out once');
  t.equal(store.stats().replicas, 1);
});

t.test('a write over a queued write applies in order', async (t) => {
  const dir = tempDir(t);
  const store = await openStore(t, { dir });
  const replica = await store.createReplica('o', { sizeBytes: 4 * MiB, chunkSizeBytes: MiB });
  // Neither chunk is marked yet: both writes queue, and must apply in submission order.
  const first = replica.write(MiB - 4096, pattern(9, 8192));
  const second = replica.write(MiB, pattern(10, 4096));
  t.ok(first instanceof Promise && second instanceof Promise, 'both had to wait for marks');
  await Promise.all([first, second]);
  const expected = Buffer.concat([pattern(9, 8192).subarray(0, 4096), pattern(10, 4096)]);
  t.same(replica.read(MiB - 4096, 8192), expected);
  t.equal(
    replica.write(MiB, pattern(11, 10)),
    undefined,
    'a marked chunk is written synchronously',
  );
});

t.test('interrupted create and delete finish on the next open', async (t) => {
  const dir = tempDir(t);
  let store = await ChunkStore.open({ dir });
  const doomed = await store.createReplica('doomed', {
    sizeBytes: 4 * 65536,
    chunkSizeBytes: 65536,
  });
  await done(doomed.write(0, pattern(1, 65536)));
  await store.createReplica('fresh', { sizeBytes: 4 * 65536, chunkSizeBytes: 65536 });
  await store.close();
  // Edit the index as a crash in the middle of each operation would have left it.
  const db = new Level<string, Buffer>(join(dir, 'index'), {
    keyEncoding: 'utf8',
    valueEncoding: 'buffer',
  });
  await db.open();
  for (const [id, state] of [
    ['doomed', 'deleting'],
    ['fresh', 'creating'],
  ] as const) {
    const record = JSON.parse((await db.get(`r:${id}`))!.toString()) as Record<string, unknown>;
    await db.put(`r:${id}`, Buffer.from(JSON.stringify({ ...record, state })));
  }
  await db.put('d:fresh:000000000000', Buffer.alloc(0)); // a stale key the create must clear
  await db.close();
  rmSync(join(dir, 'replicas', 'fresh.data'));

  store = await openStore(t, { dir });
  t.same(
    store.listReplicas().map((r) => [r.replicaId, r.state]),
    [['fresh', 'open']],
    'the delete finished and the create completed',
  );
  t.notOk(existsSync(join(dir, 'replicas', 'doomed.data')));
  const fresh = store.replica('fresh');
  t.equal(statSync(join(dir, 'replicas', 'fresh.data')).size, 4 * 65536);
  t.same(await fresh.fullChunkMap(), [], 'the created replica is empty and clean');
  t.same(fresh.read(0, 65536), Buffer.alloc(65536));
});

t.test('a replica whose data file vanished is listed as failed, not recreated', async (t) => {
  const dir = tempDir(t);
  let store = await ChunkStore.open({ dir });
  await store.createReplica('lost', { sizeBytes: 65536 * 2, chunkSizeBytes: 65536 });
  await store.close();
  rmSync(join(dir, 'replicas', 'lost.data'));
  store = await openStore(t, { dir });
  const [summary] = store.listReplicas();
  t.equal(summary?.state, 'failed');
  t.ok(summary?.failure?.includes('ENOENT'));
  t.throws(() => store.replica('lost').read(0, 1), { code: 'IO' });
  t.notOk(existsSync(join(dir, 'replicas', 'lost.data')), 'no empty file took its place');
  await store.deleteReplica('lost');
  t.same(store.listReplicas(), []);
});

t.test('a write given in parts equals the same write in one buffer', async (t) => {
  const dir = tempDir(t);
  const store = await openStore(t, { dir });
  const a = await store.createReplica('parts', { sizeBytes: 64 * MiB, chunkSizeBytes: MiB });
  const b = await store.createReplica('whole', { sizeBytes: 64 * MiB, chunkSizeBytes: MiB });
  // Part boundaries that fall inside blocks (as socket reads cut a payload), with empty parts.
  const cuts = (data: Buffer, seed: number): Buffer[] => {
    const parts: Buffer[] = [];
    let pos = 0;
    let x = seed;
    while (pos < data.length) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const n = Math.min(data.length - pos, [0, 1, 28, 4095, 4097, 65536, 70000][x % 7]!);
      parts.push(data.subarray(pos, pos + n));
      pos += n;
    }
    return parts;
  };
  const cases: Array<[number, number]> = [
    [0, MiB], // aligned: one pwritev of the parts
    [3 * MiB, 2 * MiB + 8192], // aligned, across chunks
    [7 * MiB + 100, 300_000], // unaligned: joined, read-modify-write at the edges
    [9 * MiB, 4096], // one block
  ];
  for (const [i, [offset, length]] of cases.entries()) {
    const data = pattern(10 + i, length);
    await done(a.write(offset, cuts(data, i + 1)));
    await done(b.write(offset, data));
    t.ok(
      a.read(offset, length).equals(data),
      `case ${i}: the parts read back (checksums verified)`,
    );
  }
  await done(a.flush());
  await done(b.flush());
  t.ok(a.read(0, 16 * MiB).equals(b.read(0, 16 * MiB)), 'both replicas hold the same bytes');
  const [ma, mb] = [await a.fullChunkMap(), await b.fullChunkMap()];
  t.same(
    ma.map((c) => [c.index, c.generation]),
    mb.map((c) => [c.index, c.generation]),
    'and the same chunk generations',
  );
  let bad = 0;
  for await (const chunk of a.scrub({ bytesPerSecond: 1024 * MiB })) bad += chunk.badBlocks.length;
  t.equal(bad, 0, 'a scrub finds every stored checksum right');
  await done(a.write(20 * MiB, []));
  t.ok(a.read(20 * MiB, 4096).equals(Buffer.alloc(4096)), 'an empty list of parts writes nothing');
});
