// Reconcile after an unclean detach: an engine crashes with writes in flight that reached only
// some replicas (some nodes crash too, leaving unclean chunks), a new attach reconciles before
// serving, and then every in-sync replica is byte-identical and every acknowledged write is
// intact. Seeded; replay with ENGINE_RECONCILE_SEED=<seed>.
import t from 'tap';
import { stampedGeneration } from '@ballast/session';
import { LocalCluster, pattern, prng } from './helpers/cluster.js';
import type { Fault } from './helpers/faulty-session.js';

const KiB = 1024;
const SIZE = 2048 * KiB;
const CHUNK = 64 * KiB;

const seeds = process.env.ENGINE_RECONCILE_SEED
  ? [Number(process.env.ENGINE_RECONCILE_SEED)]
  : [11, 23, 37, 41, 59, 67, 73, 89];

for (const seed of seeds) {
  t.test(`seed ${seed}`, async (t) => {
    t.teardown(() => {
      if (!t.passing())
        console.error(
          `# replay: ENGINE_RECONCILE_SEED=${seed} npx tap dist/test/reconcile.test.js`,
        );
    });
    const rnd = prng(seed);
    const cluster = await LocalCluster.create(t, {
      nodes: 3,
      sizeBytes: SIZE,
      chunkSizeBytes: CHUNK,
    });
    const epoch1 = await cluster.attach('hostA');
    const first = await cluster.openEngine(epoch1, { replicaTimeoutMs: 600_000 });
    const expected = Buffer.alloc(SIZE);
    const randomRange = (): { offset: number; length: number } => {
      const length = 1 + Math.floor(rnd() * 3 * 4096 * 2);
      return { offset: Math.floor(rnd() * (SIZE - length)), length };
    };

    // 1. Acknowledged and flushed writes (and a trim).
    for (let i = 0; i < 30; i++) {
      const { offset, length } = randomRange();
      const data = pattern(length, seed * 100 + i);
      await first.writeAt(offset, data);
      data.copy(expected, offset);
    }
    const trimmed = randomRange();
    await first.trim(trimmed.offset, trimmed.length);
    expected.fill(0, trimmed.offset, trimmed.offset + trimmed.length);
    await first.flush();
    // 2. Acknowledged, not flushed.
    for (let i = 0; i < 10; i++) {
      const { offset, length } = randomRange();
      const data = pattern(length, seed * 100 + 50 + i);
      await first.writeAt(offset, data);
      data.copy(expected, offset);
    }
    // 3. In flight at the crash: each reaches a random subset of the replicas, none is answered.
    cluster.decide = (call): Fault =>
      call.kind === 'write' || call.kind === 'trim'
        ? { type: 'hang', applied: rnd() < 0.5 }
        : { type: 'none' };
    const inFlight: Array<{ offset: number; length: number }> = [];
    for (let i = 0; i < 12; i++) {
      const { offset, length } = randomRange();
      // Never over an acknowledged range: what matters there is that acknowledged bytes survive.
      inFlight.push({ offset, length });
      if (rnd() < 0.8)
        void first.writeAt(offset, pattern(length, seed * 100 + 80 + i)).catch(() => undefined);
      else void first.trim(offset, length).catch(() => undefined);
    }
    // Let the applied halves land in the stores (they are synchronous or one index batch away).
    await new Promise((r) => setTimeout(r, 50));
    // 4. The host dies: no flush, no detach. Some storage nodes crash as well.
    await first.abandon();
    cluster.decide = () => ({ type: 'none' });
    const crashed = cluster.nodeIds.filter(() => rnd() < 0.4);
    for (const n of crashed) await cluster.crashNode(n);
    const divergedBefore = new Set(
      cluster.nodeIds.map((n) => cluster.contents(n).toString('base64')),
    ).size;

    // 5. Another host takes the volume over and reconciles before serving.
    const epoch2 = await cluster.attach('hostB', true);
    const second = await cluster.openEngine(epoch2);
    const progress = second.stats().reconcile;
    t.equal(progress.state, 'done');
    t.equal(progress.chunksDone, progress.chunksTotal);
    t.same(cluster.inSyncNodes(), ['n1', 'n2', 'n3'], 'no replica was dropped');
    const reference = cluster.contents('n1');
    for (const n of cluster.nodeIds) {
      t.ok(cluster.contents(n).equals(reference), `${n} is identical to n1 after reconcile`);
      const map = await cluster.store(n).replica(cluster.volumeId).fullChunkMap();
      t.notOk(
        map.some((e) => e.dirty || e.unclean),
        `${n} has no dirty or unclean chunk left`,
      );
    }
    const maps = await Promise.all(
      cluster.nodeIds.map((n) => cluster.store(n).replica(cluster.volumeId).fullChunkMap()),
    );
    t.same(
      maps.map((m) => m.map((e) => `${e.index}:${e.generation}`).join(',')),
      Array(3).fill(maps[0]!.map((e) => `${e.index}:${e.generation}`).join(',')),
      'every chunk has the same generation everywhere',
    );
    // Every acknowledged write is intact except where a later in-flight op may have landed.
    const covered = Buffer.alloc(SIZE);
    for (const r of inFlight) covered.fill(1, r.offset, r.offset + r.length);
    const volume = await second.readAt(0, SIZE);
    let bad = -1;
    for (let i = 0; i < SIZE; i++) {
      if (covered[i] === 0 && volume[i] !== expected[i]) {
        bad = i;
        break;
      }
    }
    t.equal(bad, -1, 'acknowledged data reads back');
    t.ok(volume.equals(reference), 'the engine serves the reconciled bytes');
    t.comment(
      `crashed ${crashed.join(',') || 'none'}; ${divergedBefore} distinct replica images before; ` +
        `reconciled ${progress.chunksTotal} chunks, ${progress.bytesCopied} bytes`,
    );

    // 6. After a clean detach, the next attach has nothing to reconcile.
    await second.close();
    await cluster.detach('hostB', epoch2);
    const epoch3 = await cluster.attach('hostC');
    const third = await cluster.openEngine(epoch3);
    t.equal(third.stats().reconcile.chunksTotal, 0, 'nothing to reconcile after a clean detach');
    t.ok((await third.readAt(0, SIZE)).equals(reference));
    await third.close();
  });
}

t.test('reconcile copies from the replica whose node did not crash', async (t) => {
  const cluster = await LocalCluster.create(t, {
    nodes: 2,
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
  });
  const epoch1 = await cluster.attach('hostA');
  const first = await cluster.openEngine(epoch1);
  await first.writeAt(0, pattern(8192, 1));
  await first.flush();
  const acked = pattern(8192, 2);
  await first.writeAt(0, acked); // acknowledged, not flushed
  await first.abandon();
  // n1 crashes: its chunk 0 becomes unclean (in this process the page cache survives, so lose
  // the unflushed write by hand, as a power cut would).
  const { openSync, writeSync, closeSync } = await import('node:fs');
  await cluster.store('n1').abandon();
  const fd = openSync(`${cluster.dir}/n1/replicas/${cluster.volumeId}.data`, 'r+');
  writeSync(fd, pattern(8192, 1), 0, 8192, 0);
  closeSync(fd);
  await cluster.reopenNode('n1');
  const mapBefore = await cluster.store('n1').replica(cluster.volumeId).fullChunkMap();
  t.ok(mapBefore.find((e) => e.index === 0)?.unclean, 'n1 chunk 0 is unclean after its crash');
  const epoch2 = await cluster.attach('hostB', true);
  const second = await cluster.openEngine(epoch2);
  t.ok((await second.readAt(0, 8192)).equals(acked), 'the acknowledged write survived');
  t.ok(cluster.contents('n1').equals(cluster.contents('n2')));
  await second.close();
});

t.test(
  'a lone replica left unclean by a failed write over a damaged block still attaches',
  async (t) => {
    const cluster = await LocalCluster.create(t, {
      nodes: 1,
      sizeBytes: SIZE,
      chunkSizeBytes: CHUNK,
    });
    const epoch1 = await cluster.attach('hostA');
    const first = await cluster.openEngine(epoch1);
    const data = pattern(CHUNK, 3);
    await first.writeAt(0, data);
    await first.flush();
    const { openSync, readSync, writeSync, closeSync } = await import('node:fs');
    const fd = openSync(`${cluster.dir}/n1/replicas/${cluster.volumeId}.data`, 'r+');
    const damaged = Buffer.alloc(1);
    readSync(fd, damaged, 0, 1, 4096 + 7);
    damaged[0] = damaged[0]! ^ 0xff;
    writeSync(fd, damaged, 0, 1, 4096 + 7);
    closeSync(fd);
    // The read-modify-write of block 1 fails its checksum: the chunk is left unclean, and the
    // engine (its only in-sync replica failed) stops.
    await t.rejects(first.writeAt(4096 + 100, Buffer.from('partial')));
    const replica = cluster.store('n1').replica(cluster.volumeId);
    t.equal(replica.chunkInfo(0).unclean, true, 'the chunk is unclean');
    await first.abandon();

    const epoch2 = await cluster.attach('hostB', true);
    const second = await cluster.openEngine(epoch2);
    // D23: an unclean chunk kept as the truth is re-stamped by re-installing its bytes; this one
    // cannot be read whole, so it stays unclean (never trusted by generation) and the attach
    // goes on.
    t.equal(second.reconcileProgress.chunksTotal, 1, 'the unclean chunk is the only work');
    t.equal(replica.chunkInfo(0).unclean, true, 'it stays unclean: its bytes cannot be read');
    t.ok((await second.readAt(0, 4096)).equals(data.subarray(0, 4096)), 'good blocks read');
    await t.rejects(second.readAt(4096, 4096), { code: 'CHECKSUM_MISMATCH' }, 'the bad one fails');
    await second.close();
  },
);

t.test('a kept unclean chunk gets the attach epoch as its generation (D23)', async (t) => {
  const cluster = await LocalCluster.create(t, {
    nodes: 2,
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
  });
  const epoch1 = await cluster.attach('hostA');
  const first = await cluster.openEngine(epoch1);
  await first.writeAt(0, pattern(8192, 11));
  await first.flush();
  await first.writeAt(0, pattern(4096, 12));
  await first.abandon();
  // Both nodes crash with chunk 0 dirty: both copies come back unclean, with made-up
  // generations that a third lineage could share.
  await cluster.crashNode('n1');
  await cluster.crashNode('n2');
  for (const n of ['n1', 'n2']) {
    t.ok(cluster.store(n).replica(cluster.volumeId).chunkInfo(0).unclean, `${n} is unclean`);
  }
  const epoch2 = await cluster.attach('hostB', true);
  const second = await cluster.openEngine(epoch2);
  for (const n of ['n1', 'n2']) {
    const info = cluster.store(n).replica(cluster.volumeId).chunkInfo(0);
    t.equal(info.generation, stampedGeneration(epoch2), `${n} holds the epoch's stamp`);
    t.equal(info.unclean, false, `${n} is clean again`);
  }
  t.ok(cluster.contents('n1').equals(cluster.contents('n2')), 'the copies are identical');
  await second.writeAt(0, pattern(4096, 13));
  t.equal(
    cluster.store('n1').replica(cluster.volumeId).chunkInfo(0).generation,
    stampedGeneration(epoch2) + 1,
    'counts go on from the stamp',
  );
  await second.close();
});
