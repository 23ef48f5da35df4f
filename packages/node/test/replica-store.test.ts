// The data plane over the real chunk store, in this process (real TCP, real files): ordering
// of overlapping writes that wait for dirty marks, flush coverage, big trims, chunk copy between
// two nodes, replica lifecycle and the metrics a scrape shows.
import t from 'tap';
import { createLogger } from '@ballast/common';
import { StatusCode, isDataPlaneError } from '@ballast/dataplane';
import { startStorageNode, type StorageNode } from '../src/index.js';
import {
  SECRET,
  connect,
  metricValue,
  pattern,
  rejection,
  rng,
  seedFrom,
  tempDir,
} from './helpers.js';

const MiB = 1024 * 1024;
const BLOCK = 4096;
const log = createLogger({ name: 'node-test', level: 'silent', pretty: false });

async function startNode(
  t: { teardown(fn: () => unknown): void },
  id = 'n1',
): Promise<StorageNode> {
  const node = await startStorageNode(
    { id, dataDir: tempDir(t), dataPlaneSecret: SECRET, scrubBytesPerSecond: 0 },
    log,
  );
  t.teardown(() => node.close());
  return node;
}

function endpoint(node: StorageNode): { dataPlane: { host: string; port: number } } {
  const [host, port] = node.endpoints.dataPlane!.split(':');
  return { dataPlane: { host: host!, port: Number(port) } };
}

t.test('overlapping writes apply in arrival order while they wait for dirty marks', async (t) => {
  const seed = seedFrom('NODE_ORDER_SEED');
  t.comment(`seed ${seed} (replay with NODE_ORDER_SEED=${seed})`);
  const random = rng(seed);
  const node = await startNode(t);
  await node.replicas.create('vol1', { sizeBytes: 64 * MiB, chunkSizeBytes: 64 * 1024 });
  const client = await connect(t, endpoint(node));
  const session = await client.openSession({ volumeId: 'vol1', epoch: 1 });
  const span = 2 * MiB; // 32 chunks of 64 KiB
  const model = Buffer.alloc(span);
  for (let round = 0; round < 6; round++) {
    // After each flush every chunk needs a new dirty mark, so the first write to a chunk takes
    // the asynchronous path and later writes to already-marked chunks queue behind it.
    const acks: Array<Promise<void>> = [];
    for (let i = 0; i < 300; i++) {
      const offset = Math.floor(random() * (span - 20000));
      const length = 1 + Math.floor(random() * 20000);
      const data = pattern(seed + round * 1000 + i, length);
      data.copy(model, offset);
      acks.push(session.write(offset, data));
    }
    const flushed = session.flush(); // covers all 300, acknowledged or not
    await flushed;
    const map = await session.getChunkMap();
    t.equal(
      map.chunks.filter((c) => c.dirty).length,
      0,
      `round ${round}: the flush left nothing dirty`,
    );
    await Promise.all(acks);
    t.same(await session.read(0, span), model, `round ${round}: the last write wins everywhere`);
  }
  const counters = node.store.replica('vol1').stats().counters;
  t.ok(counters.mutationsQueued > 50, `the async path was taken ${counters.mutationsQueued} times`);
});

t.test('trims larger than the store takes at once are split, in order', async (t) => {
  const node = await startNode(t);
  await node.replicas.create('big', { sizeBytes: 256 * MiB });
  const client = await connect(t, endpoint(node));
  const session = await client.openSession({ volumeId: 'big', epoch: 1, sizeBytes: 256 * MiB });
  const data = pattern(1, MiB);
  for (const off of [0, 50 * MiB, 130 * MiB, 255 * MiB]) await session.write(off, data);
  await session.trim(10 * MiB, 200 * MiB, { fua: true });
  t.same(await session.read(0, MiB), data, 'before the range: kept');
  t.same(await session.read(50 * MiB, MiB), Buffer.alloc(MiB), 'inside: gone');
  t.same(await session.read(130 * MiB, MiB), Buffer.alloc(MiB), 'inside: gone');
  t.same(await session.read(255 * MiB, MiB), data, 'after the range: kept');
  await session.write(100 * MiB, data);
  await session.zero(100 * MiB + BLOCK, 2 * BLOCK, { noHole: true });
  const back = await session.read(100 * MiB, 3 * BLOCK);
  t.same(back.subarray(0, BLOCK), data.subarray(0, BLOCK));
  t.same(back.subarray(BLOCK), Buffer.alloc(2 * BLOCK), 'write-zeroes in the middle');
  const err = await rejection(session.trim(255 * MiB, 2 * MiB));
  t.ok(isDataPlaneError(err, StatusCode.INVALID), 'a trim past the end is refused');
});

t.test('a replica copied chunk by chunk to another node reads the same', async (t) => {
  const a = await startNode(t, 'a');
  const b = await startNode(t, 'b');
  const opts = { sizeBytes: 16 * MiB, chunkSizeBytes: MiB };
  await a.replicas.create('vol', opts);
  await b.replicas.create('vol', opts);
  const ca = await connect(t, endpoint(a));
  const cb = await connect(t, endpoint(b));
  const sa = await ca.openSession({ volumeId: 'vol', epoch: 3 });
  for (let i = 0; i < 6; i++) await sa.write(i * 2 * MiB + 777, pattern(i, 300_000));
  await sa.trim(4 * MiB, MiB);
  await sa.flush();
  // Rebuild-style: the source is read without a session, the target gets whole chunks.
  const sb = await cb.openSession({ volumeId: 'vol', epoch: 3 });
  const map = await ca.getChunkMap('vol');
  t.ok(map.chunks.length >= 6);
  for (const entry of map.chunks) {
    const chunk = await ca.readChunk('vol', entry.index);
    t.equal(chunk.generation, entry.generation);
    await sb.writeChunk(entry.index, chunk.generation, chunk.data);
  }
  t.same(await sb.read(0, 16 * MiB), await sa.read(0, 16 * MiB), 'byte-identical replicas');
  const mapB = await sb.getChunkMap();
  t.same(
    mapB.chunks.map((c) => [c.index, c.generation]),
    map.chunks.map((c) => [c.index, c.generation]),
    'and the same generations',
  );
});

t.test('replica lifecycle through the local admin API', async (t) => {
  const node = await startNode(t);
  const client = await connect(t, endpoint(node));
  const missing = await rejection(client.openSession({ volumeId: 'v', epoch: 1 }));
  t.ok(isDataPlaneError(missing, StatusCode.NOT_FOUND), 'no replica yet');
  await node.replicas.ensure('v', { sizeBytes: 4 * MiB, chunkSizeBytes: MiB });
  await node.replicas.ensure('v', { sizeBytes: 4 * MiB, chunkSizeBytes: MiB });
  await t.rejects(node.replicas.ensure('v', { sizeBytes: 8 * MiB }), { code: 'CONFLICT' });
  const session = await client.openSession({
    volumeId: 'v',
    epoch: 1,
    sizeBytes: 4 * MiB,
    chunkSizeBytes: MiB,
  });
  const wrongShape = await rejection(
    client.openSession({ volumeId: 'v', epoch: 1, chunkSizeBytes: 64 * 1024 }),
  );
  t.ok(isDataPlaneError(wrongShape, StatusCode.INVALID), 'a chunk-size mismatch is refused');
  await session.write(0, Buffer.alloc(BLOCK, 1));
  await node.replicas.acceptFence('v', { epoch: 9, incarnation: 0 });
  t.equal(node.replicas.highestEpoch('v'), 9);
  const fenced = await rejection(session.write(0, Buffer.alloc(BLOCK, 2)));
  t.ok(
    isDataPlaneError(fenced, StatusCode.FENCED),
    'an epoch learned from the map fences live sessions',
  );
  const s9 = await client.openSession({ volumeId: 'v', epoch: 9 });
  await node.replicas.delete('v');
  const gone = await rejection(s9.read(0, BLOCK));
  t.ok(isDataPlaneError(gone, StatusCode.NOT_FOUND), 'a deleted replica answers NOT_FOUND');
  t.same(node.replicas.list(), []);
});

t.test('metrics: per-volume I/O, latency, sessions, capacity', async (t) => {
  const node = await startNode(t);
  await node.replicas.create('m', { sizeBytes: 8 * MiB });
  const client = await connect(t, endpoint(node));
  const session = await client.openSession({ volumeId: 'm', epoch: 1 });
  for (let i = 0; i < 10; i++) await session.write(i * BLOCK, Buffer.alloc(BLOCK, i));
  for (let i = 0; i < 4; i++) await session.read(i * BLOCK, BLOCK);
  await session.flush();
  await rejection(client.openSession({ volumeId: 'no-such-volume', epoch: 1 }));
  const url = node.endpoints.metrics!;
  const labels = { volume: 'm', node: 'n1' };
  t.equal(await metricValue(url, 'ballast_node_write_ops_total', labels), 10);
  t.equal(await metricValue(url, 'ballast_node_written_bytes_total', labels), 10 * BLOCK);
  t.equal(await metricValue(url, 'ballast_node_read_ops_total', labels), 4);
  t.equal(await metricValue(url, 'ballast_node_read_bytes_total', labels), 4 * BLOCK);
  t.equal(await metricValue(url, 'ballast_node_open_sessions', labels), 1);
  t.equal(
    await metricValue(url, 'ballast_node_request_duration_seconds_count', {
      ...labels,
      op: 'write',
    }),
    10,
  );
  t.ok((await metricValue(url, 'ballast_node_flush_duration_seconds_count', labels)) >= 1);
  t.ok((await metricValue(url, 'ballast_node_capacity_bytes')) > 0);
  t.ok((await metricValue(url, 'ballast_node_used_bytes')) >= 10 * BLOCK);
  t.ok((await metricValue(url, 'ballast_node_free_bytes')) > 0);
  t.equal(await metricValue(url, 'ballast_node_provisioned_bytes'), 8 * MiB);
  t.equal(
    await metricValue(url, 'ballast_node_request_errors_total', {
      volume: '_unknown',
      op: 'open',
      status: 'NOT_FOUND',
    }),
    1,
    'requests for volumes the node does not hold share one label',
  );
  session.close();
  await client.close();
  t.equal(
    await metricValue(url, 'ballast_node_open_sessions', labels),
    0,
    'closed sessions are gone',
  );
});

t.test('configuration errors stop start-up with a clear message', async (t) => {
  await t.rejects(
    startStorageNode({ id: 'x', dataDir: tempDir(t) }, log),
    { code: 'CONFIG', message: /secret/ },
    'no secret',
  );
  await t.rejects(
    startStorageNode(
      { id: 'x', dataDir: tempDir(t), dataPlaneSecretFile: '/nonexistent/secret' },
      log,
    ),
    { code: 'CONFIG' },
    'unreadable secret file',
  );
  await t.rejects(
    startStorageNode({ id: 'x', dataDir: tempDir(t), dataPlaneSecret: 'short' }, log),
    { code: 'CONFIG' },
    'a short secret',
  );
  const dataDir = tempDir(t);
  const first = await startStorageNode(
    { id: 'x', dataDir, dataPlaneSecret: SECRET, scrubBytesPerSecond: 0 },
    log,
  );
  t.teardown(() => first.close());
  await t.rejects(
    startStorageNode({ id: 'y', dataDir, dataPlaneSecret: SECRET }, log),
    { code: 'UNAVAILABLE' },
    'a data directory in use by another node',
  );
});
