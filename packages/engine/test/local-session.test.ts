// LocalSession against real storage nodes started in this process (startStorageNode:
// chunk store, index, data-plane server): the in-process session keeps what a TCP session
// guarantees (epoch fencing by any later attach, mutation order, flush and FUA, detailed chunk
// maps), and an engine that reaches one replica in process and the other over TCP replicates,
// prefers the local replica for reads and reconciles after an unclean stop.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import t, { type Test } from 'tap';
import { DataPlaneClient, remoteSessionFactory } from '@ballast/dataplane';
import { DirectControlPlane, DirectMetaStore, type Command } from '@ballast/meta';
import { startStorageNode, type StorageNode } from '@ballast/node';
import {
  LocalSession,
  SessionError,
  localSessionFactory,
  type SessionSpec,
} from '@ballast/session';
import { VolumeEngine } from '../src/index.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const CHUNK = 256 * KiB;
const SIZE = 8 * MiB;
const CLUSTER_ID = 'handler-session';
const SECRET = 'handler-session-secret-0123456789';
const PEER = { clientId: 'agent-a', remoteAddress: 'in-process' };
const log = pino({ level: 'silent' });

async function startNode(t: Test, id: string): Promise<StorageNode> {
  const dir = mkdtempSync(join(tmpdir(), `ballast-hc-${id}-`));
  const node = await startStorageNode(
    {
      id,
      dataDir: dir,
      clusterId: CLUSTER_ID,
      dataPlaneSecret: SECRET,
      scrubBytesPerSecond: 0,
    },
    log,
  );
  t.teardown(async () => {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return node;
}

function spec(volumeId: string, epoch: number, sizeBytes = SIZE): SessionSpec {
  return { volumeId, epoch, incarnation: 0, sizeBytes, chunkSizeBytes: CHUNK };
}

async function rejectsKind(t: Test, p: Promise<unknown>, kind: string, what: string) {
  try {
    await p;
    t.fail(`${what}: resolved`);
  } catch (err) {
    t.ok(err instanceof SessionError, `${what}: a SessionError`);
    t.equal((err as SessionError).kind, kind, `${what}: ${kind}`);
  }
}

t.test('an in-process session over a real node handler', async (t) => {
  const node = await startNode(t, 'n1');
  await node.replicas.create('v1', { sizeBytes: SIZE, chunkSizeBytes: CHUNK });
  const ch = await LocalSession.open('n1', node.replicaStore, spec('v1', 3), PEER);
  t.equal(node.replicas.highestEpoch('v1'), 3, 'the epoch is persisted by the open');

  const data = randomBytes(64 * KiB);
  await ch.write(CHUNK - 4 * KiB, data, false);
  t.ok((await ch.read(CHUNK - 4 * KiB, data.length)).equals(data), 'read back across a chunk edge');
  const target = Buffer.alloc(data.length + 10, 0xee);
  await ch.readInto(CHUNK - 4 * KiB, data.length, target, 10);
  t.ok(target.subarray(10).equals(data) && target[9] === 0xee, 'readInto fills only its range');

  let map = await ch.chunkMap();
  t.same(
    map.map((c) => [c.index, c.dirty, c.unclean, c.hole]),
    [
      [0, true, false, false],
      [1, true, false, false],
    ],
    'the map is detailed: written chunks are dirty until a flush, none unclean',
  );
  // A payload in parts is written back to back; FUA makes it (and what came before) durable.
  const parts = [randomBytes(4 * KiB), randomBytes(8 * KiB)];
  await ch.write(3 * CHUNK, parts, true);
  t.ok((await ch.read(3 * CHUNK, 12 * KiB)).equals(Buffer.concat(parts)), 'parts written in order');
  map = await ch.chunkMap();
  t.same(
    map.map((c) => [c.index, c.dirty]),
    [
      [0, false],
      [1, false],
      [3, false],
    ],
    'after a FUA write nothing is dirty',
  );
  await ch.write(6 * CHUNK, randomBytes(4 * KiB), false);
  t.ok((await ch.chunkMap()).find((c) => c.index === 6)?.dirty, 'a plain write is dirty');
  await ch.flush();
  map = await ch.chunkMap();
  t.ok(
    map.every((c) => !c.dirty),
    'a flush makes every earlier mutation durable',
  );

  await ch.writeZeroes(0, CHUNK, false, false);
  await ch.trim(CHUNK, CHUNK, true);
  t.ok((await ch.read(0, 2 * CHUNK)).equals(Buffer.alloc(2 * CHUNK)), 'zeroed and trimmed');
  // Trims larger than one store call are split and applied in order.
  await ch.writeZeroes(0, SIZE, false, false);
  t.ok((await ch.read(3 * CHUNK, CHUNK)).equals(Buffer.alloc(CHUNK)), 'a whole-volume zero');
  map = await ch.chunkMap();
  t.ok(
    map.every((c) => c.hole),
    'zeroed chunks are holes in the map',
  );

  const copy = randomBytes(CHUNK);
  await ch.writeChunk(5, 42, copy);
  const chunk = await ch.readChunk(5);
  t.equal(chunk.generation, 42, 'an installed chunk keeps its generation');
  t.ok(chunk.data?.equals(copy), 'and its bytes');

  await node.replicas.resize('v1', 2 * SIZE);
  t.equal(await ch.replicaSizeBytes(), 2 * SIZE, 'the probe sees the grown replica');
  await rejectsKind(t, ch.read(2 * SIZE - 1, 2), 'invalid', 'a read past the replica');
  await ch.close();
  await rejectsKind(t, ch.read(0, 1), 'disconnected', 'a read after close');
});

t.test(
  'fencing: an older epoch is refused, a newer attach over TCP fences the session',
  async (t) => {
    const node = await startNode(t, 'n1');
    await node.replicas.create('v1', { sizeBytes: SIZE, chunkSizeBytes: CHUNK });
    await node.replicas.acceptFence('v1', { epoch: 5, incarnation: 0 });
    await rejectsKind(
      t,
      LocalSession.open('n1', node.replicaStore, spec('v1', 4), PEER),
      'fenced',
      'open at an epoch older than the node has seen',
    );
    const ch = await LocalSession.open('n1', node.replicaStore, spec('v1', 5), PEER);
    const before = randomBytes(CHUNK);
    // Not awaited: the takeover below must find it applied (the clean cut), not lost.
    const inFlight = ch.write(0, before, false);

    const client = await DataPlaneClient.connect({
      host: '127.0.0.1',
      port: Number(node.endpoints.dataPlane!.split(':').pop()),
      clusterId: CLUSTER_ID,
      clientId: 'agent-b',
      expectedNodeId: 'n1',
      secret: SECRET,
    });
    t.teardown(() => client.destroy());
    const remote = await client.openSession({ volumeId: 'v1', epoch: 6 });
    await inFlight;
    t.ok((await remote.read(0, CHUNK)).equals(before), 'the newer writer sees the older write');
    await rejectsKind(
      t,
      ch.write(CHUNK, randomBytes(4 * KiB), false),
      'fenced',
      'a write after it',
    );
    await rejectsKind(t, ch.read(0, 4 * KiB), 'fenced', 'a read after it');
    await rejectsKind(t, ch.flush(), 'fenced', 'a flush after it');
    t.ok((await remote.read(CHUNK, 4 * KiB)).equals(Buffer.alloc(4 * KiB)), 'nothing landed');
    remote.close();
  },
);

t.test('abort: nothing more reaches the replica', async (t) => {
  const node = await startNode(t, 'n1');
  await node.replicas.create('v1', { sizeBytes: SIZE, chunkSizeBytes: CHUNK });
  const ch = await LocalSession.open('n1', node.replicaStore, spec('v1', 1), PEER);
  ch.abort();
  await rejectsKind(t, ch.write(0, randomBytes(4 * KiB), false), 'disconnected', 'a write');
  await rejectsKind(t, ch.chunkMap(), 'disconnected', 'a chunk map');
  const again = await LocalSession.open('n1', node.replicaStore, spec('v1', 1), PEER);
  t.ok((await again.read(0, 4 * KiB)).equals(Buffer.alloc(4 * KiB)), 'the write never landed');
  await again.close();
});

t.test('a smaller replica is waited for, another shape is refused', async (t) => {
  const node = await startNode(t, 'n1');
  await node.replicas.create('v1', { sizeBytes: SIZE, chunkSizeBytes: CHUNK });
  const grown = LocalSession.open('n1', node.replicaStore, spec('v1', 1, 2 * SIZE), PEER);
  setTimeout(() => void node.replicas.resize('v1', 2 * SIZE), 300);
  const ch = await grown;
  await ch.write(2 * SIZE - 4 * KiB, randomBytes(4 * KiB), false);
  t.pass('opened once the node grew the replica, and writes its new end');
  await ch.close();
  await rejectsKind(
    t,
    LocalSession.open(
      'n1',
      node.replicaStore,
      { ...spec('v1', 1, 2 * SIZE), chunkSizeBytes: 2 * CHUNK },
      PEER,
    ),
    'invalid',
    'another chunk size',
  );
  await rejectsKind(
    t,
    LocalSession.open('n1', node.replicaStore, spec('v-missing', 1), PEER),
    'io',
    'no such replica',
  );
});

t.test('an engine with one replica in process and one over TCP', async (t) => {
  const local = await startNode(t, 'n1');
  const remote = await startNode(t, 'n2');
  for (const n of [local, remote]) {
    await n.replicas.create('v1', { sizeBytes: SIZE, chunkSizeBytes: CHUNK });
  }
  const meta = new DirectMetaStore();
  t.teardown(() => meta.close());
  const propose = async (command: Command): Promise<void> => {
    const result = await meta.propose(command);
    if (!result.ok) throw new Error(`${command.type}: ${result.error.message}`);
  };
  for (const [i, n] of [local, remote].entries()) {
    await propose({
      type: 'registerNode',
      at: Date.now(),
      nodeId: `n${i + 1}`,
      address: n.endpoints.dataPlane!,
      labels: { zone: 'z', host: `h${i + 1}` },
      capacityBytes: 2 ** 40,
      usedBytes: 0,
    });
  }
  await propose({
    type: 'createVolume',
    at: Date.now(),
    volumeId: 'v1',
    name: 'v1',
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
    desiredReplicas: 2,
    constraints: { nodeSelector: {}, zoneSpread: 'preferred' },
    fs: 'ext4',
    replicaNodeIds: ['n1', 'n2'],
  });
  let remoteReads = 0;
  const tcp = remoteSessionFactory({
    addressOf: (id) => (id === 'n2' ? remote.endpoints.dataPlane! : 'nowhere:1'),
    clusterId: CLUSTER_ID,
    clientId: 'agent',
    secret: SECRET,
  });
  const open = async (host: string): Promise<VolumeEngine> => {
    await propose({ type: 'attachVolume', at: Date.now(), volumeId: 'v1', host, force: true });
    const volume = meta.map.getVolume('v1')!;
    const engine = await VolumeEngine.open({
      volume,
      epoch: volume.attachment!.epoch,
      connect: localSessionFactory(
        new Map([['n1', local.replicaStore]]),
        { clientId: host, remoteAddress: 'in-process' },
        async (nodeId, session) => {
          const ch = await tcp(nodeId, session);
          // Count what reaches the remote replica: reads should not.
          const read = ch.read.bind(ch);
          const readInto = ch.readInto.bind(ch);
          ch.read = (...args) => ((remoteReads += 1), read(...args));
          ch.readInto = (...args) => ((remoteReads += 1), readInto(...args));
          return ch;
        },
      ),
      controlPlane: new DirectControlPlane(meta),
      preferredNodeIds: ['n1'],
    });
    t.teardown(() => engine.abandon());
    return engine;
  };

  const first = await open('h1');
  const data = randomBytes(SIZE);
  await first.writeAt(0, data);
  await first.flush();
  const late = randomBytes(3 * CHUNK);
  await first.writeAt(2 * CHUNK, late); // acknowledged, never flushed
  late.copy(data, 2 * CHUNK);
  remoteReads = 0;
  t.ok((await first.readAt(0, SIZE)).equals(data), 'reads back');
  t.equal(remoteReads, 0, 'reads went to the in-process replica only');
  await first.abandon(); // an unclean stop: the next attach reconciles

  const second = await open('h2');
  t.ok((await second.readAt(0, SIZE)).equals(data), 'every acknowledged write survives');
  await second.flush();
  const [a, b] = await Promise.all(
    [local, remote].map((n) => n.store.replica('v1').read(0, SIZE) as Buffer),
  );
  t.ok(a!.equals(data) && b!.equals(data), 'both replicas hold exactly the data');
  await second.close();
});

t.test('an in-process session of an earlier replica incarnation is refused (D17)', async (t) => {
  const node = await startNode(t, 'n1');
  await node.replicas.create('v1', { sizeBytes: SIZE, chunkSizeBytes: CHUNK });
  const old = await LocalSession.open(
    'n1',
    node.replicaStore,
    { ...spec('v1', 3), incarnation: 10 },
    PEER,
  );
  await old.write(0, randomBytes(4 * KiB), false);
  // The map demoted this replica and took it back: its node learns the new incarnation.
  await node.replicas.acceptFence('v1', { epoch: 3, incarnation: 20 });
  const before = (node.store.replica('v1').read(0, 4 * KiB) as Buffer).toString('hex');
  await rejectsKind(t, old.write(0, randomBytes(4 * KiB), false), 'superseded', 'a late write');
  await rejectsKind(t, old.flush(), 'superseded', 'a late flush');
  t.equal(
    (node.store.replica('v1').read(0, 4 * KiB) as Buffer).toString('hex'),
    before,
    'nothing was applied',
  );
  await rejectsKind(
    t,
    LocalSession.open('n1', node.replicaStore, { ...spec('v1', 3), incarnation: 10 }, PEER),
    'superseded',
    'a new session under the old incarnation',
  );
  const current = await LocalSession.open(
    'n1',
    node.replicaStore,
    { ...spec('v1', 3), incarnation: 20 },
    PEER,
  );
  await current.write(0, randomBytes(4 * KiB), false);
  await current.close();
});
