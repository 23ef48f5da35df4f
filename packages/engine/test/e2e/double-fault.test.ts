// The double fault that generations alone cannot see, with real storage-node processes:
// two in-sync replicas each fail a *different* in-flight write to the same chunk (here a
// transient checksum failure in the read-modify-write of a partial block), a flush lands after
// the failed writes on both, the engine dies before meta has committed either removal (meta
// accepted the connection and stopped answering, as a SIGSTOPped process does), and then both
// nodes are SIGKILLed and restarted. Both replicas show the same generation for the chunk with
// different bytes. The nodes flag a chunk unclean when a mutation of it fails there, so the next
// attach reconciles the chunk and the replicas end up byte-identical.
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { DataPlaneClient, remoteSessionFactory } from '@ballast/dataplane';
import { DirectControlPlane, DirectMetaStore, type Command } from '@ballast/meta';
import { MetaControlPlane } from '@ballast/meta-client';
import { VolumeEngine } from '../../src/index.js';
import { startNodes, stopNodes, type NodeProcess } from '../../bench/nodes.js';
import { waitFor } from '@ballast/testkit';

const MiB = 1024 * 1024;
const BLOCK = 4096;
const SIZE = 16 * MiB;
const CHUNK = MiB;
const VOLUME_ID = 'vol-df';
const CLUSTER_ID = 'df-cluster';

/** XORs bytes of a replica's data file behind the node's back; twice restores them. */
function flipBytes(path: string, offset: number, count: number): void {
  const fd = openSync(path, 'r+');
  try {
    const buf = Buffer.alloc(count);
    readSync(fd, buf, 0, count, offset);
    for (let i = 0; i < count; i++) buf[i] = buf[i]! ^ 0x5a;
    writeSync(fd, buf, 0, count, offset);
  } finally {
    closeSync(fd);
  }
}

async function connect(node: NodeProcess, secret: string): Promise<DataPlaneClient> {
  const [host, port] = node.address.split(':');
  return DataPlaneClient.connect({
    host: host!,
    port: Number(port),
    clusterId: CLUSTER_ID,
    clientId: 'df-checker',
    secret,
    expectedNodeId: node.id,
  });
}

async function readChunk0(
  node: NodeProcess,
  secret: string,
): Promise<{ generation: number; data: Buffer | null; dirty: boolean; unclean?: boolean }> {
  const client = await connect(node, secret);
  try {
    const map = await client.getChunkMap(VOLUME_ID);
    const entry = map.chunks.find((c) => c.index === 0)!;
    const chunk = await client.readChunk(VOLUME_ID, 0);
    return {
      generation: chunk.generation,
      data: chunk.data,
      dirty: entry.dirty,
      ...(entry.unclean !== undefined ? { unclean: entry.unclean } : {}),
    };
  } finally {
    await client.close();
  }
}

t.test('replicas that failed different writes to one chunk are reconciled', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ballast-engine-df-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const secret = randomBytes(32).toString('hex');

  const meta = new DirectMetaStore();
  t.teardown(() => meta.close());
  const propose = async (command: Command): Promise<void> => {
    const result = await meta.propose(command);
    if (!result.ok) throw new Error(`${command.type}: ${result.error.message}`);
  };
  const nodes = await startNodes({
    dir,
    count: 2,
    clusterId: CLUSTER_ID,
    secret,
    replicas: [{ volumeId: VOLUME_ID, sizeBytes: SIZE, chunkSizeBytes: CHUNK }],
  });
  t.teardown(() => stopNodes(nodes));
  for (const [i, n] of nodes.entries()) {
    await propose({
      type: 'registerNode',
      at: Date.now(),
      nodeId: n.id,
      address: n.address,
      labels: { zone: 'z', host: `h${i + 1}` },
      capacityBytes: 2 ** 40,
      usedBytes: 0,
    });
  }
  await propose({
    type: 'createVolume',
    at: Date.now(),
    volumeId: VOLUME_ID,
    name: 'df',
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
    desiredReplicas: 2,
    constraints: { nodeSelector: {}, zoneSpread: 'preferred' },
    fs: 'ext4',
    replicaNodeIds: nodes.map((n) => n.id),
  });
  await propose({
    type: 'attachVolume',
    at: Date.now(),
    volumeId: VOLUME_ID,
    host: 'agent-1',
    force: false,
  });
  const connectChannels = remoteSessionFactory({
    addressOf: (id) => nodes.find((n) => n.id === id)!.address,
    clusterId: CLUSTER_ID,
    clientId: 'df-agent',
    secret,
  });

  // A meta member that accepts connections and never answers.
  const held = new Set<Socket>();
  const frozenMeta = createServer((socket) => {
    held.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => frozenMeta.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    for (const s of held) s.destroy();
    await new Promise((resolve) => frozenMeta.close(resolve));
  });
  const frozenPort = (frozenMeta.address() as { port: number }).port;

  const first = meta.map.getVolume(VOLUME_ID)!;
  const engine = await VolumeEngine.open({
    volume: first,
    epoch: first.attachment!.epoch,
    connect: connectChannels,
    controlPlane: new MetaControlPlane({
      apiUrls: [`http://127.0.0.1:${frozenPort}`],
      token: 'df-token',
    }),
  });
  t.teardown(() => engine.abandon());
  const base = randomBytes(CHUNK);
  await engine.writeAt(0, base);
  await engine.flush();

  // Transient damage: n1 will fail the read-modify-write of block 1, n2 that of block 2.
  const files = nodes.map((n) => join(n.dataDir, 'replicas', `${VOLUME_ID}.data`));
  flipBytes(files[0]!, BLOCK + 100, 2);
  flipBytes(files[1]!, 2 * BLOCK + 100, 2);
  const w1 = { offset: BLOCK + 1000, data: Buffer.from('the first write, failed on n1') };
  const w2 = { offset: 2 * BLOCK + 1000, data: Buffer.from('the second write, failed on n2') };
  const settled: string[] = [];
  for (const [name, p] of [
    ['w1', engine.writeAt(w1.offset, w1.data)],
    ['w2', engine.writeAt(w2.offset, w2.data)],
  ] as const) {
    p.then(
      () => settled.push(`${name} ok`),
      () => settled.push(`${name} failed`),
    );
  }
  await waitFor('both replicas to fail a write', () => engine.replicaSet().leaving.length === 2, {
    timeoutMs: 30_000,
  });
  t.same(engine.replicaSet().leaving.sort(), ['n1', 'n2'], 'each node failed one of the writes');
  t.same(settled, [], 'nothing is acknowledged while meta has not committed the removals');

  // A flush already on its way lands on both nodes after the failed writes (same epoch), then
  // the engine dies with both removals unconfirmed.
  for (const node of nodes) {
    const client = await connect(node, secret);
    const session = await client.openSession({
      volumeId: VOLUME_ID,
      epoch: first.attachment!.epoch,
      incarnation: first.replicas.find((r) => r.nodeId === node.id)?.incarnation ?? 0,
    });
    await session.flush();
    await client.close();
  }
  await engine.abandon();
  flipBytes(files[0]!, BLOCK + 100, 2);
  flipBytes(files[1]!, 2 * BLOCK + 100, 2);

  const before = await Promise.all(nodes.map((n) => readChunk0(n, secret)));
  t.equal(before[0]!.generation, before[1]!.generation, 'the chunk has one generation on both');
  t.not(before[0]!.data!.equals(before[1]!.data!), true, 'but different bytes');
  t.same(
    before.map((b) => b.unclean ?? b.dirty),
    [true, true],
    'each node reports the chunk unclean',
  );

  // Both nodes crash and come back: the flag was written with the flush, so it survives.
  for (const node of nodes) {
    const killed = await node.process.kill();
    t.equal(killed.signal, 'SIGKILL');
    await node.process.start();
  }
  const restarted = await Promise.all(nodes.map((n) => readChunk0(n, secret)));
  t.same(
    restarted.map((b) => b.unclean ?? b.dirty),
    [true, true],
    'still unclean after SIGKILL and restart',
  );

  // The map still lists both replicas in-sync; a new attachment reconciles before serving.
  await propose({
    type: 'attachVolume',
    at: Date.now(),
    volumeId: VOLUME_ID,
    host: 'agent-2',
    force: true,
  });
  const second = meta.map.getVolume(VOLUME_ID)!;
  t.same(
    second.replicas.map((r) => `${r.nodeId}:${r.role}`),
    ['n1:in-sync', 'n2:in-sync'],
  );
  const reattached = await VolumeEngine.open({
    volume: second,
    epoch: second.attachment!.epoch,
    connect: connectChannels,
    controlPlane: new DirectControlPlane(meta),
  });
  t.teardown(() => reattached.abandon());
  t.equal(reattached.reconcileProgress.chunksDone, 1, 'reconcile copied the chunk');
  const data = await reattached.readAt(0, CHUNK);
  await reattached.close();

  const after = await Promise.all(nodes.map((n) => readChunk0(n, secret)));
  t.ok(after[0]!.data!.equals(after[1]!.data!), 'n1 and n2 hold identical bytes');
  t.equal(after[0]!.generation, after[1]!.generation);
  t.same(
    after.map((a) => [a.dirty, a.unclean ?? false]),
    [
      [false, false],
      [false, false],
    ],
    'and nothing is left dirty or unclean',
  );
  t.ok(after[0]!.data!.equals(data), 'the engine reads what the replicas hold');
  // Outside the two unacknowledged writes, the flushed data is intact.
  const outside = (buf: Buffer): Buffer =>
    Buffer.concat([buf.subarray(0, BLOCK), buf.subarray(3 * BLOCK)]);
  t.ok(outside(data).equals(outside(base)), 'every flushed byte is intact');
});
