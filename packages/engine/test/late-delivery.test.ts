// Issue 14 at the level of the data path, in this process and deterministic: requests an engine
// gave up on that reach a node later (a network that held them: the kernel's send queue of an
// abandoned connection, a partition that heals) must never be applied to that node's replica
// once the map has taken the replica out of the set and back in (decision D17).
//
// Three real storage nodes (chunk store, index, data-plane server) in this process, the real map
// in a DirectMetaStore, an engine over TCP. Between the engine and n2 sits a proxy that can
// freeze a connection: bytes sent by the client are held, nothing reaches the node, and the
// node's half stays open when the client resets its half. The sequence of the user report:
// freeze n2, write 0xaa (n2 times out and leaves the set), write 0xbb, the map takes n2 back,
// the engine rebuilds and promotes it, then the frozen bytes are released to the node.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import t, { type Test } from 'tap';
import { DirectControlPlane, DirectMetaStore, type Command } from '@ballast/meta';
import { startStorageNode, type StorageNode } from '@ballast/node';
import { remoteSessionFactory } from '@ballast/dataplane';
import { VolumeEngine } from '../src/index.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const CHUNK = 256 * KiB;
const SIZE = 4 * MiB;
const RANGE = 512 * KiB;
const CLUSTER_ID = 'late-delivery';
const SECRET = 'late-delivery-secret-0123456789abcdef';
const log = pino({ level: 'silent' });

async function startNode(t: Test, id: string): Promise<StorageNode> {
  const dir = mkdtempSync(join(tmpdir(), `ballast-late-${id}-`));
  const node = await startStorageNode(
    { id, dataDir: dir, clusterId: CLUSTER_ID, dataPlaneSecret: SECRET, scrubBytesPerSecond: 0 },
    log,
  );
  t.teardown(async () => {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return node;
}

/**
 * A TCP proxy to one node. `freeze()` holds every byte of the connections open at that moment
 * (both ways) and keeps the node's side open when the client goes away, as a network holding
 * packets would; `release()` delivers the held client bytes to the node.
 */
class HoldingProxy {
  private readonly server: Server;
  private readonly pairs: Array<{ client: Socket; node: Socket; held: Buffer[] | null }> = [];
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => {
      const node = netConnect(this.target);
      const pair = { client, node, held: null as Buffer[] | null };
      this.pairs.push(pair);
      client.on('data', (d: Buffer) => {
        if (pair.held !== null) pair.held.push(Buffer.from(d));
        else node.write(d);
      });
      node.on('data', (d: Buffer) => {
        if (pair.held === null && !client.destroyed) client.write(d);
      });
      client.on('error', () => undefined);
      node.on('error', () => undefined);
      // A frozen pair's node side outlives the client (the bytes are still on their way).
      client.on('close', () => {
        if (pair.held === null) node.destroy();
      });
      node.on('close', () => client.destroy());
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
    return this.port;
  }

  /** Holds the connections open now; later ones pass through. Returns how many it froze. */
  freeze(): number {
    let n = 0;
    for (const p of this.pairs) {
      if (p.held === null && !p.node.destroyed) {
        p.held = [];
        n += 1;
      }
    }
    return n;
  }

  /** Delivers every held byte to the node; the pairs then close. Returns the bytes delivered. */
  async release(): Promise<number> {
    let bytes = 0;
    for (const p of this.pairs) {
      if (p.held === null) continue;
      const held = p.held;
      p.held = null;
      for (const d of held) {
        bytes += d.length;
        p.node.write(d);
      }
    }
    // Let the node read and answer them before the sockets close.
    await new Promise((resolve) => setTimeout(resolve, 500));
    return bytes;
  }

  async close(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.node.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function counter(node: StorageNode, name: string, status: string): Promise<number> {
  return node.registry.getSingleMetricAsString(name).then((text) => {
    let sum = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith(name) && line.includes(`status="${status}"`)) {
        sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  });
}

t.test('writes held by the network never reach a replica that was rebuilt since', async (t) => {
  const nodes = await Promise.all(['n1', 'n2', 'n3'].map((id) => startNode(t, id)));
  for (const n of nodes) await n.replicas.create('v1', { sizeBytes: SIZE, chunkSizeBytes: CHUNK });
  const [host, port] = nodes[1]!.endpoints.dataPlane!.split(':');
  const proxy = new HoldingProxy({ host: host!, port: Number(port) });
  await proxy.listen();
  t.teardown(() => proxy.close());

  const meta = new DirectMetaStore();
  t.teardown(() => meta.close());
  const propose = async (command: Command): Promise<void> => {
    const result = await meta.propose(command);
    if (!result.ok) throw new Error(`${command.type}: ${result.error.message}`);
  };
  for (const [i, n] of nodes.entries()) {
    await propose({
      type: 'registerNode',
      at: Date.now(),
      nodeId: `n${i + 1}`,
      address: n.endpoints.dataPlane!,
      labels: { zone: `z${i + 1}`, host: `h${i + 1}` },
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
    desiredReplicas: 3,
    constraints: { nodeSelector: {}, zoneSpread: 'preferred' },
    fs: 'ext4',
    replicaNodeIds: ['n1', 'n2', 'n3'],
  });
  await propose({ type: 'attachVolume', at: Date.now(), volumeId: 'v1', host: 'h0', force: false });
  const volume = meta.map.getVolume('v1')!;
  const engine = await VolumeEngine.open({
    volume,
    epoch: volume.attachment!.epoch,
    connect: remoteSessionFactory({
      addressOf: (id) =>
        id === 'n2'
          ? `127.0.0.1:${proxy.port}`
          : nodes[Number(id.slice(1)) - 1]!.endpoints.dataPlane!,
      clusterId: CLUSTER_ID,
      clientId: 'h0',
      secret: SECRET,
    }),
    controlPlane: new DirectControlPlane(meta),
    replicaTimeoutMs: 500,
  });
  t.teardown(() => engine.abandon());
  await engine.writeAt(0, randomBytes(RANGE));
  await engine.flush();

  t.equal(proxy.freeze(), 1, 'the engine session to n2 is frozen');
  const writes = (fill: number) =>
    Promise.all(
      Array.from({ length: RANGE / (16 * KiB) }, (_, i) =>
        engine.writeAt(i * 16 * KiB, Buffer.alloc(16 * KiB, fill)),
      ),
    );
  await writes(0xaa);
  const out = meta.map.getVolume('v1')!;
  t.notOk(
    out.replicas.some((r) => r.nodeId === 'n2'),
    'n2 timed out and left the in-sync set before 0xaa was acknowledged',
  );
  await writes(0xbb);

  // The map takes n2 back (as the control loop does when its node is heard from) and the
  // engine rebuilds it over a new connection, under the new incarnation.
  await propose({ type: 'addReplica', at: Date.now(), volumeId: 'v1', nodeId: 'n2' });
  const back = meta.map.getVolume('v1')!;
  const n2 = back.replicas.find((r) => r.nodeId === 'n2')!;
  const before = volume.replicas.find((r) => r.nodeId === 'n2')!;
  t.ok((n2.incarnation ?? 0) > (before.incarnation ?? 0), 'n2 comes back as a new incarnation');
  await engine.updateVolume(back);
  const rebuilt = await engine.rebuildReplica('n2');
  t.ok(rebuilt.chunksCopied > 0, `n2 rebuilt (${rebuilt.chunksCopied} chunks)`);
  t.same(
    meta.map
      .getVolume('v1')!
      .replicas.filter((r) => r.role === 'in-sync')
      .map((r) => r.nodeId)
      .sort(),
    ['n1', 'n2', 'n3'],
    'n2 is in sync again',
  );

  // Now the network delivers what it held: the 0xaa writes of the abandoned session.
  const refusedBefore = await counter(nodes[1]!, 'ballast_node_request_errors_total', 'SUPERSEDED');
  const delivered = await proxy.release();
  t.ok(delivered > RANGE / 2, `the held requests reached n2 (${delivered} bytes)`);
  const refused =
    (await counter(nodes[1]!, 'ballast_node_request_errors_total', 'SUPERSEDED')) - refusedBefore;
  t.ok(refused > 0, `n2 refused them as superseded (${refused} requests)`);

  await engine.flush();
  const expected = Buffer.alloc(RANGE, 0xbb);
  for (const [i, n] of nodes.entries()) {
    const data = n.store.replica('v1').read(0, RANGE);
    t.ok(data.equals(expected), `the replica on n${i + 1} holds only the 0xbb writes`);
  }
  for (let i = 0; i < 6; i++) {
    t.ok((await engine.readAt(0, RANGE)).equals(expected), `read ${i + 1} through the engine`);
  }
  await engine.close();
});
