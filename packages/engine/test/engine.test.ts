// The engine over real chunk stores in one process: the data path, reads, failures and
// invariant 4, fencing, membership changes and rebuild.
import t from 'tap';
import { BallastError } from '@ballast/common';
import { LocalCluster, pattern } from './helpers/cluster.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const SIZE = 4 * MiB;
const CHUNK = 64 * KiB;

async function waitFor(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function allIdentical(cluster: LocalCluster, nodeIds: string[]): boolean {
  const first = cluster.contents(nodeIds[0]!);
  return nodeIds.every((n) => cluster.contents(n).equals(first));
}

t.test('writes reach every replica, reads and flushes work, counters count', async (t) => {
  const cluster = await LocalCluster.create(t, {
    nodes: 3,
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
  });
  const epoch = await cluster.attach();
  const engine = await cluster.openEngine(epoch);
  t.equal(engine.sizeBytes, SIZE);
  t.equal(engine.state, 'open');

  const a = pattern(8 * KiB, 1);
  const b = pattern(3000, 2); // unaligned, spans a 4 KiB block boundary
  await Promise.all([engine.writeAt(0, a), engine.writeAt(CHUNK - 1000, b, true)]);
  await engine.trim(2 * CHUNK, CHUNK);
  await engine.writeZeroes(4096, 100, { noHole: true });
  await engine.flush();

  const expected = Buffer.alloc(SIZE);
  a.copy(expected, 0);
  b.copy(expected, CHUNK - 1000);
  expected.fill(0, 4096, 4196);
  t.ok((await engine.readAt(0, SIZE)).equals(expected), 'the volume reads back what was written');
  const target = Buffer.alloc(5000, 0xee);
  await engine.readInto(CHUNK - 1100, 3100, target, 7);
  t.ok(target.subarray(7, 3107).equals(expected.subarray(CHUNK - 1100, CHUNK + 2000)), 'readInto');
  for (const n of cluster.nodeIds)
    t.ok(cluster.contents(n).equals(expected), `replica ${n} holds it`);

  const s = engine.stats();
  t.equal(s.ops.write.ops, 2);
  t.equal(s.ops.write.bytes, a.length + b.length);
  t.equal(s.ops.trim.ops, 1);
  t.equal(s.ops.zero.ops, 1);
  t.equal(s.ops.flush.ops, 1);
  t.equal(s.ops.read.ops, 2);
  t.equal(s.latency.write.count, 2);
  t.equal(s.inFlight, 0);
  t.equal(s.replicaWriteFailures, 0);

  await t.rejects(engine.writeAt(SIZE - 10, Buffer.alloc(20)), { code: 'INVALID_ARGUMENT' });
  await t.rejects(engine.readAt(-1, 10), { code: 'INVALID_ARGUMENT' });
  t.equal(engine.stats().ops.write.errors, 1, 'refused requests are counted as errors');
  await engine.close();
  t.equal(engine.state, 'closed');
  await t.rejects(engine.readAt(0, 1), { code: 'UNAVAILABLE' });
  // A clean close flushes everything: nothing is dirty on any replica.
  for (const n of cluster.nodeIds) {
    const map = await cluster.store(n).replica(cluster.volumeId).fullChunkMap();
    t.notOk(
      map.some((e) => e.dirty || e.unclean),
      `${n} has no dirty chunk after close`,
    );
  }
});

t.test('reads go to the local replica, else the least loaded one', async (t) => {
  const cluster = await LocalCluster.create(t, {
    nodes: 3,
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
  });
  const epoch = await cluster.attach();
  const local = await cluster.openEngine(epoch, { preferredNodeIds: ['n2'] });
  await local.writeAt(0, pattern(4096, 3));
  const before = cluster.nodeIds.map((n) => cluster.session(n).calls);
  await Promise.all(Array.from({ length: 20 }, (_, i) => local.readAt(i * 100, 100)));
  const after = cluster.nodeIds.map((n) => cluster.session(n).calls);
  t.same(
    after.map((c, i) => c - before[i]!),
    [0, 20, 0],
    'every read went to the replica on this host',
  );
  await local.close();

  const epoch2 = await cluster.attach();
  const remote = await cluster.openEngine(epoch2);
  const before2 = cluster.nodeIds.map((n) => cluster.session(n).calls);
  await Promise.all(Array.from({ length: 30 }, (_, i) => remote.readAt(i * 100, 100)));
  const spread = cluster.nodeIds.map((n, i) => cluster.session(n).calls - before2[i]!);
  t.equal(
    spread.reduce((x, y) => x + y, 0),
    30,
  );
  t.ok(
    spread.every((c) => c > 0),
    `reads are spread over equal replicas (${spread.join(',')})`,
  );
  await remote.close();
});

t.test('a replica failing a write leaves the set before the write is acknowledged', async (t) => {
  const cluster = await LocalCluster.create(t, {
    nodes: 3,
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
  });
  const epoch = await cluster.attach();
  const engine = await cluster.openEngine(epoch);
  cluster.decide = (c) =>
    c.nodeId === 'n2' && c.kind === 'write'
      ? { type: 'fail', kind: 'io', applied: false }
      : { type: 'none' };
  const data = pattern(4096, 4);
  await engine.writeAt(8192, data);
  // At the ack: n2 (which did not take the write) is out of the in-sync set, in the map.
  t.same(cluster.inSyncNodes(), ['n1', 'n3']);
  t.same(
    cluster.volume().staleReplicas.map((s) => s.nodeId),
    ['n2'],
  );
  t.match(cluster.volume().staleReplicas[0]!.reason, /write failed on n2/);
  t.equal(cluster.session('n2').writeOutcomes.get(data), 'failed');
  const s = engine.stats();
  t.equal(s.replicaWriteFailures, 1);
  t.equal(s.replicasMarkedOutOfSync, 1);
  t.same(engine.replicaSet(), { inSync: ['n1', 'n3'], rebuilding: [], leaving: ['n2'] });
  // Later writes no longer go to n2, and reads are served by the others.
  const callsBefore = cluster.session('n2').calls;
  await engine.writeAt(0, pattern(4096, 5));
  t.ok((await engine.readAt(8192, 4096)).equals(data));
  t.equal(cluster.session('n2').calls, callsBefore, 'nothing more was sent to n2');
  await engine.close();
});

t.test(
  'a replica the engine dropped rejoins when the map lists it again as rebuilding',
  async (t) => {
    const cluster = await LocalCluster.create(t, {
      nodes: 3,
      sizeBytes: SIZE,
      chunkSizeBytes: CHUNK,
    });
    const epoch = await cluster.attach();
    const engine = await cluster.openEngine(epoch);
    let failing = true;
    cluster.decide = (c) =>
      failing && c.nodeId === 'n2' && c.kind === 'write'
        ? { type: 'fail', kind: 'io', applied: false }
        : { type: 'none' };
    await engine.writeAt(0, pattern(8192, 1));
    t.same(engine.replicaSet(), { inSync: ['n1', 'n3'], rebuilding: [], leaving: ['n2'] });
    // While it is away, more writes land on the others only.
    for (let i = 0; i < 6; i++) await engine.writeAt(i * CHUNK, pattern(4096, 10 + i));
    // Its node is back: meta takes the copy back for a delta rebuild.
    failing = false;
    await cluster.propose({
      type: 'addReplica',
      at: Date.now(),
      volumeId: cluster.volumeId,
      nodeId: 'n2',
    });
    await engine.updateVolume(cluster.volume());
    t.same(engine.replicaSet().rebuilding, ['n2'], 'it joins again as rebuilding');
    const result = await engine.rebuildReplica('n2');
    t.ok(result.chunksCopied > 0, `copied ${result.chunksCopied} chunks`);
    t.same([...cluster.inSyncNodes()].sort(), ['n1', 'n2', 'n3'], 'meta promoted it');
    t.same([...engine.replicaSet().inSync].sort(), ['n1', 'n2', 'n3']);
    const s = engine.stats();
    t.equal(
      s.replicas.find((r) => r.nodeId === 'n2')!.writeFailures,
      1,
      'its failure counter carried over',
    );
    await engine.writeAt(3 * CHUNK, pattern(4096, 99));
    await engine.flush();
    t.ok(allIdentical(cluster, ['n1', 'n2', 'n3']), 'all three replicas are identical');
    await engine.close();
  },
);

t.test('a hung replica is timed out and dropped; the write still completes', async (t) => {
  const cluster = await LocalCluster.create(t, {
    nodes: 3,
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
  });
  const epoch = await cluster.attach();
  const engine = await cluster.openEngine(epoch, { replicaTimeoutMs: 200 });
  cluster.decide = (c) =>
    c.nodeId === 'n3' && c.kind === 'write' ? { type: 'hang', applied: true } : { type: 'none' };
  await engine.writeAt(0, pattern(4096, 6));
  t.same(cluster.inSyncNodes(), ['n1', 'n2']);
  t.match(cluster.volume().staleReplicas[0]!.reason, /no answer within 200 ms/);
  await engine.close();
});

t.test('a last in-sync replica that never answers fails I/O with EIO, not a hang', async (t) => {
  const cluster = await LocalCluster.create(t, {
    nodes: 2,
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
  });
  const epoch = await cluster.attach();
  const failures: BallastError[] = [];
  const engine = await cluster.openEngine(epoch, {
    replicaTimeoutMs: 200,
    lastReplicaTimeoutMs: 400,
    onFailed: (err) => failures.push(err),
  });
  await engine.writeAt(0, pattern(4096, 7));
  cluster.decide = (c) =>
    c.kind === 'write' ? { type: 'hang', applied: false } : { type: 'none' };
  const err = await engine.writeAt(4096, pattern(4096, 8)).catch((e: unknown) => e);
  t.type(err, BallastError);
  t.equal((err as BallastError).code, 'IO');
  await waitFor(() => engine.state === 'failed', 'the engine to stop');
  t.equal(cluster.inSyncNodes().length, 1, 'meta kept the last in-sync replica');
  await t.rejects(engine.readAt(0, 10), { code: 'IO' }, 'later I/O fails at once');
  await t.rejects(engine.flush(), { code: 'IO' });
  t.equal(failures.length, 1, 'the holder is told once, so it can reopen the volume (D22)');
  t.match(failures[0]!.message, /last in-sync replica/);
});

t.test('a slow last in-sync replica is waited for, not dropped (the volume goes on)', async (t) => {
  // Torture seed 7: the last in-sync replica answered a read after more than the replica
  // timeout (a slowed link); dropping it stopped the volume for good.
  const cluster = await LocalCluster.create(t, {
    nodes: 2,
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
  });
  const epoch = await cluster.attach();
  const engine = await cluster.openEngine(epoch, {
    replicaTimeoutMs: 200,
    lastReplicaTimeoutMs: 10_000,
  });
  await engine.writeAt(0, pattern(4096, 1));
  // n2 stops answering writes: it is dropped after the replica timeout, n1 carries the volume.
  cluster.decide = (c) =>
    c.nodeId === 'n2' && c.kind === 'write' ? { type: 'hang', applied: true } : { type: 'none' };
  await engine.writeAt(4096, pattern(4096, 2));
  t.same(cluster.inSyncNodes(), ['n1'], 'n2 was dropped');
  // Now the last in-sync replica answers slowly: three times the replica timeout.
  cluster.decide = (c) => (c.nodeId === 'n1' ? { type: 'delay', ms: 600 } : { type: 'none' });
  await engine.writeAt(8192, pattern(4096, 3));
  t.ok((await engine.readAt(8192, 4096)).equals(pattern(4096, 3)), 'a slow read is answered');
  await engine.flush();
  t.equal(engine.state, 'open', 'the engine goes on');
  t.same(cluster.inSyncNodes(), ['n1'], 'meta was not asked to drop the last copy');
  cluster.decide = () => ({ type: 'none' });
  t.ok((await engine.readAt(0, 8192)).equals(Buffer.concat([pattern(4096, 1), pattern(4096, 2)])));
  await engine.close();
});

t.test('a read that fails its checksum is served by another replica and repaired', async (t) => {
  const cluster = await LocalCluster.create(t, {
    nodes: 3,
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
  });
  const epoch = await cluster.attach();
  const engine = await cluster.openEngine(epoch, { preferredNodeIds: ['n1'] });
  const data = pattern(16 * KiB, 9);
  await engine.writeAt(CHUNK, data);
  await engine.flush();
  // Rot one byte of n1's file under the store.
  const { openSync, writeSync, closeSync } = await import('node:fs');
  const fd = openSync(`${cluster.dir}/n1/replicas/${cluster.volumeId}.data`, 'r+');
  writeSync(fd, Buffer.from([0xff ^ data[5000]!]), 0, 1, CHUNK + 5000);
  closeSync(fd);
  const got = await engine.readAt(CHUNK + 4000, 2000); // unaligned, inside the bad block
  t.ok(got.equals(data.subarray(4000, 6000)), 'the client gets the good bytes');
  await engine.close(); // waits for the repair, which holds the range
  const s = engine.stats();
  t.equal(s.readRepairs, 1);
  t.equal(s.readFallbacks, 1);
  t.equal(s.replicas.find((r) => r.nodeId === 'n1')!.checksumErrors, 1);
  t.ok(cluster.contents('n1').equals(cluster.contents('n2')), 'n1 was repaired');
  t.same(cluster.inSyncNodes(), ['n1', 'n2', 'n3'], 'a repaired replica stays in the set');
});

t.test('a fenced engine stops acknowledging', async (t) => {
  const cluster = await LocalCluster.create(t, {
    nodes: 3,
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
  });
  const epoch1 = await cluster.attach('hostA');
  let failures = 0;
  const old = await cluster.openEngine(epoch1, { onFailed: () => (failures += 1) });
  await old.writeAt(0, pattern(4096, 10));
  const epoch2 = await cluster.attach('hostB', true);
  t.ok(epoch2 > epoch1);
  const fresh = await cluster.openEngine(epoch2);
  // Every node has persisted epoch2: the old engine's next write is refused by the nodes.
  await t.rejects(old.writeAt(0, pattern(4096, 11)), { code: 'FENCED' });
  t.equal(old.state, 'fenced');
  await t.rejects(old.readAt(0, 10), { code: 'FENCED' });
  await t.rejects(old.flush(), { code: 'FENCED' });
  t.same(cluster.inSyncNodes(), ['n1', 'n2', 'n3'], 'a fenced engine changed nothing in the map');
  t.equal(failures, 0, 'fencing is not a failure to recover from: the holder is not told');
  t.ok((await fresh.readAt(0, 4096)).equals(pattern(4096, 10)));
  await fresh.close();
});

t.test('meta refuses a fenced engine that tries to drop a replica', async (t) => {
  const cluster = await LocalCluster.create(t, {
    nodes: 3,
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
  });
  const epoch1 = await cluster.attach('hostA');
  const old = await cluster.openEngine(epoch1);
  // Meta moves on (a forced attach elsewhere) before any node sees the new epoch.
  await cluster.attach('hostB', true);
  cluster.decide = (c) =>
    c.nodeId === 'n1' && c.kind === 'write'
      ? { type: 'fail', kind: 'io', applied: false }
      : { type: 'none' };
  await t.rejects(old.writeAt(0, pattern(4096, 12)), { code: 'FENCED' });
  t.equal(old.state, 'fenced');
  t.same(cluster.inSyncNodes(), ['n1', 'n2', 'n3']);
});

t.test('opening at a stale epoch is refused', async (t) => {
  const cluster = await LocalCluster.create(t, {
    nodes: 2,
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
  });
  const epoch1 = await cluster.attach('hostA');
  const epoch2 = await cluster.attach('hostB', true);
  const engine = await cluster.openEngine(epoch2);
  await engine.close();
  await t.rejects(cluster.openEngine(epoch1), { code: 'FENCED' });
});

t.test('an unreachable in-sync replica is dropped at open; none reachable fails', async (t) => {
  const cluster = await LocalCluster.create(t, {
    nodes: 3,
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
  });
  const epoch = await cluster.attach();
  const base = cluster.factory();
  const engine = await cluster.openEngine(epoch, {
    connect: async (nodeId, session) => {
      if (nodeId === 'n3') throw new Error('connect ECONNREFUSED 127.0.0.1:7102');
      return base(nodeId, session);
    },
  });
  t.same(cluster.inSyncNodes(), ['n1', 'n2']);
  t.match(cluster.volume().staleReplicas[0]!.reason, /open session failed on n3/);
  await engine.close();
  const epoch2 = await cluster.attach();
  await t.rejects(
    cluster.openEngine(epoch2, {
      connect: async () => {
        throw new Error('connect ECONNREFUSED');
      },
    }),
    { code: 'IO' },
  );
});

t.test('a slow or failing rebuilding replica never delays the acknowledgement', async (t) => {
  const cluster = await LocalCluster.create(t, {
    nodes: 3,
    replicas: 2,
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
  });
  await cluster.propose({
    type: 'addReplica',
    at: Date.now(),
    volumeId: cluster.volumeId,
    nodeId: 'n3',
  });
  await cluster.createReplica('n3');
  const epoch = await cluster.attach();
  const engine = await cluster.openEngine(epoch, { replicaTimeoutMs: 60_000 });
  t.same(engine.replicaSet().rebuilding, ['n3']);
  cluster.decide = (c) =>
    c.nodeId === 'n3' && c.kind === 'write' ? { type: 'hang', applied: true } : { type: 'none' };
  // The write is acknowledged by n1 and n2 while n3 never answers (timeout 60 s).
  await engine.writeAt(0, pattern(4096, 13));
  t.pass('acknowledged without the rebuilding replica');
  // The link to n3 drops: its pending leg fails, n3 leaves without any write waiting on meta.
  cluster.decide = () => ({ type: 'none' });
  cluster.session('n3').abort();
  await engine.writeAt(0, pattern(4096, 14));
  await waitFor(() => engine.replicaSet().rebuilding.length === 0, 'n3 dropped');
  await waitFor(() => cluster.volume().replicas.length === 2, 'n3 out of the map');
  t.same(
    cluster.volume().replicas.map((r) => r.nodeId),
    ['n1', 'n2'],
  );
  await engine.close();
});

t.test('a rebuild whose only source is slow waits for it and completes', async (t) => {
  // Torture seed 7: the rebuild read from the last in-sync replica over a slowed link, timed
  // it out, and the engine stopped the volume by dropping its last copy.
  const cluster = await LocalCluster.create(t, {
    nodes: 2,
    replicas: 1,
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
  });
  const epoch = await cluster.attach();
  const engine = await cluster.openEngine(epoch, {
    replicaTimeoutMs: 200,
    lastReplicaTimeoutMs: 10_000,
  });
  for (let i = 0; i < 4; i++) await engine.writeAt(i * CHUNK, pattern(8192, 40 + i));
  await cluster.propose({
    type: 'addReplica',
    at: Date.now(),
    volumeId: cluster.volumeId,
    nodeId: 'n2',
  });
  await cluster.createReplica('n2');
  await engine.updateVolume(cluster.volume());
  // The only in-sync replica answers every request after three replica timeouts.
  cluster.decide = (c) => (c.nodeId === 'n1' ? { type: 'delay', ms: 600 } : { type: 'none' });
  const result = await engine.rebuildReplica('n2');
  t.ok(result.chunksCopied >= 4, `copied ${result.chunksCopied} chunks from the slow source`);
  t.equal(engine.state, 'open', 'the volume goes on');
  t.same(cluster.inSyncNodes(), ['n1', 'n2'], 'n2 promoted, n1 never dropped');
  cluster.decide = () => ({ type: 'none' });
  await engine.flush();
  t.ok(allIdentical(cluster, ['n1', 'n2']), 'the rebuilt replica is identical');
  await engine.close();
});

t.test('rebuild copies what a new replica lacks under live writes, then promotes it', async (t) => {
  const cluster = await LocalCluster.create(t, {
    nodes: 3,
    replicas: 2,
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
  });
  const epoch = await cluster.attach();
  const engine = await cluster.openEngine(epoch);
  for (let i = 0; i < 20; i++)
    await engine.writeAt(((i * 3 * CHUNK) / 2) % (SIZE - 8192), pattern(8192, 100 + i));
  await cluster.propose({
    type: 'addReplica',
    at: Date.now(),
    volumeId: cluster.volumeId,
    nodeId: 'n3',
  });
  await cluster.createReplica('n3');
  await engine.updateVolume(cluster.volume());
  t.same(engine.replicaSet().rebuilding, ['n3']);
  // Writes go on while the rebuild runs.
  let writing = true;
  const writer = (async () => {
    let i = 0;
    while (writing) {
      await engine.writeAt((i * 7 * 4096) % (SIZE - 4096), pattern(4096, 200 + i));
      i++;
    }
    return i;
  })();
  // Progress is visible while the copy runs (the agent exports it as metrics).
  let sawRemaining = 0;
  const watcher = setInterval(() => {
    sawRemaining = Math.max(sawRemaining, engine.stats().rebuild.remainingChunks);
  }, 1);
  const result = await engine.rebuildReplica('n3');
  clearInterval(watcher);
  writing = false;
  const writes = await writer;
  const progress = engine.stats().rebuild;
  t.equal(progress.remainingChunks, 0, 'nothing remains once the rebuild ended');
  t.equal(progress.copiedChunks, result.chunksCopied, 'copied chunks are counted');
  t.equal(progress.copiedBytes, result.bytesCopied, 'copied bytes are counted');
  t.ok(sawRemaining <= result.chunksCopied + 1, `remaining seen ${sawRemaining} is bounded`);
  t.ok(result.chunksCopied > 0, `copied ${result.chunksCopied} chunks in ${result.passes} passes`);
  t.ok(writes > 0);
  t.same(cluster.inSyncNodes(), ['n1', 'n2', 'n3'], 'meta promoted n3');
  t.same(engine.replicaSet().inSync, ['n1', 'n2', 'n3']);
  await engine.flush();
  t.ok(allIdentical(cluster, ['n1', 'n2', 'n3']), 'the rebuilt replica is identical');
  await engine.close();
});

t.test(
  'a promotion meta refuses leaves the replica rebuilding, and a retry promotes it',
  async (t) => {
    const cluster = await LocalCluster.create(t, {
      nodes: 3,
      replicas: 2,
      sizeBytes: SIZE,
      chunkSizeBytes: CHUNK,
    });
    const epoch = await cluster.attach();
    const engine = await cluster.openEngine(epoch);
    await engine.writeAt(0, pattern(8192, 7));
    await cluster.propose({
      type: 'addReplica',
      at: Date.now(),
      volumeId: cluster.volumeId,
      nodeId: 'n3',
    });
    await cluster.createReplica('n3');
    await engine.updateVolume(cluster.volume());
    // Meta presumes n3's node down (its heartbeats were late) while the engine reaches it fine.
    await cluster.propose({ type: 'setNodeState', at: Date.now(), nodeId: 'n3', action: 'down' });
    await t.rejects(
      engine.rebuildReplica('n3'),
      { code: 'CONFLICT' },
      'meta refuses the promotion',
    );
    t.same(engine.replicaSet().rebuilding, ['n3'], 'the engine counts n3 as rebuilding again');
    t.same(cluster.inSyncNodes(), ['n1', 'n2']);
    await cluster.propose({ type: 'setNodeState', at: Date.now(), nodeId: 'n3', action: 'up' });
    await engine.writeAt(4096, pattern(4096, 8));
    await engine.rebuildReplica('n3');
    t.same(cluster.inSyncNodes(), ['n1', 'n2', 'n3'], 'the retry is promoted');
    t.same(engine.replicaSet().inSync, ['n1', 'n2', 'n3']);
    await engine.flush();
    t.ok(allIdentical(cluster, ['n1', 'n2', 'n3']), 'identical replicas');
    await engine.close();
  },
);

t.test(
  'map updates: a new attachment fences, a replica removed by the map gets no more I/O',
  async (t) => {
    const cluster = await LocalCluster.create(t, {
      nodes: 3,
      sizeBytes: SIZE,
      chunkSizeBytes: CHUNK,
    });
    const epoch = await cluster.attach('hostA');
    const engine = await cluster.openEngine(epoch);
    await cluster.propose({
      type: 'removeReplica',
      at: Date.now(),
      volumeId: cluster.volumeId,
      nodeId: 'n3',
      force: true,
    });
    await engine.updateVolume(cluster.volume());
    t.same(engine.replicaSet().inSync, ['n1', 'n2']);
    const calls = cluster.session('n3').calls;
    await engine.writeAt(0, pattern(4096, 20));
    t.equal(cluster.session('n3').calls, calls, 'n3 gets nothing once the map dropped it');
    await cluster.attach('hostB', true);
    await engine.updateVolume(cluster.volume());
    t.equal(engine.state, 'fenced', 'a newer attachment in the map fences the engine');
    await t.rejects(engine.writeAt(0, pattern(4096, 21)), { code: 'FENCED' });
  },
);

t.test('online resize: the engine serves the new size once every replica has grown', async (t) => {
  const cluster = await LocalCluster.create(t, {
    nodes: 3,
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
  });
  const epoch = await cluster.attach();
  const engine = await cluster.openEngine(epoch);
  const head = pattern(64 * KiB, 7);
  await engine.writeAt(0, head);
  const bigger = SIZE + 2 * MiB;

  // Two of three nodes have grown: an in-sync replica holds the size back, nothing changes.
  await cluster.store('n1').resizeReplica(cluster.volumeId, bigger);
  await cluster.store('n2').resizeReplica(cluster.volumeId, bigger);
  await t.rejects(
    engine.grow(bigger, { timeoutMs: 300, pollMs: 20 }),
    { code: 'UNAVAILABLE', message: /n3 has not grown/ },
    'refused while n3 is smaller',
  );
  t.equal(engine.sizeBytes, SIZE, 'still the old size');
  await t.rejects(engine.writeAt(SIZE, Buffer.alloc(4096)), { code: 'INVALID_ARGUMENT' });

  // The last node grows while the engine waits: the new size is served.
  const growing = engine.grow(bigger, { timeoutMs: 20_000, pollMs: 20 });
  setTimeout(() => void cluster.store('n3').resizeReplica(cluster.volumeId, bigger), 100);
  t.equal(await growing, true, 'grown');
  t.equal(engine.sizeBytes, bigger);
  t.equal(engine.volume.sizeBytes, bigger);
  t.equal(engine.stats().sizeBytes, bigger, 'stats report the served size');
  t.equal(await engine.grow(bigger), false, 'growing to the same size changes nothing');
  t.equal(await engine.grow(SIZE), false, 'never shrinks');
  t.equal(engine.sizeBytes, bigger);

  const tail = pattern(1 * MiB, 9);
  await engine.writeAt(bigger - tail.length, tail, true);
  t.ok((await engine.readAt(0, head.length)).equals(head), 'the old data is intact');
  t.ok((await engine.readAt(bigger - tail.length, tail.length)).equals(tail), 'the new end');
  for (const n of cluster.nodeIds) {
    const replica = cluster.store(n).replica(cluster.volumeId);
    t.ok(replica.read(bigger - tail.length, tail.length).equals(tail), `${n} holds the new end`);
  }
  t.equal(engine.stats().replicaWriteFailures, 0, 'no replica failed');
  await t.rejects(engine.grow(0), { code: 'INVALID_ARGUMENT' });
  // A grow waiting for a replica ends when the engine closes (no poll loop outlives it).
  const waiting = engine.grow(bigger + MiB, { timeoutMs: 60_000, pollMs: 20 });
  await engine.close();
  await t.rejects(waiting, { code: 'UNAVAILABLE' });
});
