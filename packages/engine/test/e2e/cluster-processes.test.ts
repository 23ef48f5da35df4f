// Real processes, real sockets: 3 storage nodes (startStorageNode, each in its own process), the
// cluster map behind meta's real REST API, and the engine behind @ballast/nbd in an agent
// stand-in process (bench/serve.ts) that drops failed replicas through that REST API. Clients
// nobody here wrote drive it:
// - fio (nbd engine, crc32c verify) streams writes while one node is SIGKILLed: fio finishes
//   without an error, and the node is out of the in-sync set in the map;
// - the two surviving replicas are identical when read back over the data plane;
// - qemu-io writes a pattern and another qemu-io process reads it back;
// - the killed node is restarted, rejoins as rebuilding, an engine rebuilds it over the data
//   plane and promotes it, and all three replicas are then identical.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { DataPlaneClient, remoteSessionFactory } from '@ballast/dataplane';
import {
  DirectControlPlane,
  DirectMetaStore,
  NodeLiveness,
  buildApi,
  type Command,
} from '@ballast/meta';
import { ManagedProcess, waitFor } from '@ballast/testkit';
import { VolumeEngine } from '../../src/index.js';
import { startNodes, stopNodes } from '../../bench/nodes.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const SIZE = 256 * MiB;
const CHUNK = MiB;
const VOLUME_ID = 'vol-e2e';
const VOLUME_NAME = 'e2e';
const CLUSTER_ID = 'e2e-cluster';
const TOKEN = 'e2e-token-0123456789';
const serveScript = new URL('../../bench/serve.js', import.meta.url).pathname;

async function readReplica(
  address: string,
  nodeId: string,
  secret: string,
): Promise<{
  generations: string;
  chunks: Map<number, Buffer | null>;
}> {
  const [host, port] = address.split(':');
  const client = await DataPlaneClient.connect({
    host: host!,
    port: Number(port),
    clusterId: CLUSTER_ID,
    clientId: 'e2e-checker',
    secret,
    expectedNodeId: nodeId,
  });
  try {
    const map = await client.getChunkMap(VOLUME_ID);
    const chunks = new Map<number, Buffer | null>();
    for (const c of map.chunks)
      chunks.set(c.index, (await client.readChunk(VOLUME_ID, c.index)).data);
    return {
      generations: map.chunks.map((c) => `${c.index}:${c.generation}`).join(','),
      chunks,
    };
  } finally {
    await client.close();
  }
}

function sameData(a: Map<number, Buffer | null>, b: Map<number, Buffer | null>): boolean {
  const zero = Buffer.alloc(CHUNK);
  const indices = new Set([...a.keys(), ...b.keys()]);
  for (const i of indices) {
    const x = a.get(i) ?? zero;
    const y = b.get(i) ?? zero;
    if (!x.equals(y)) return false;
  }
  return true;
}

t.test('fio keeps writing while a replica node is killed; replicas agree; rebuild', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ballast-engine-e2e-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const secret = randomBytes(32).toString('hex');

  // The cluster map behind meta's REST API.
  const meta = new DirectMetaStore();
  const api = await buildApi({
    store: meta,
    token: TOKEN,
    liveness: new NodeLiveness(),
    defaultReplicas: 3,
  });
  await api.listen({ host: '127.0.0.1', port: 0 });
  const address = api.server.address();
  const metaUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  t.teardown(async () => {
    await api.close();
    meta.close();
  });
  const propose = async (command: Command): Promise<void> => {
    const result = await meta.propose(command);
    if (!result.ok) throw new Error(`${command.type}: ${result.error.message}`);
  };

  const nodes = await startNodes({
    dir,
    count: 3,
    clusterId: CLUSTER_ID,
    secret,
    replicas: [{ volumeId: VOLUME_ID, sizeBytes: SIZE, chunkSizeBytes: CHUNK }],
    logLevel: 'info',
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
    name: VOLUME_NAME,
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
    desiredReplicas: 3,
    constraints: { nodeSelector: {}, zoneSpread: 'preferred' },
    fs: 'ext4',
    replicaNodeIds: nodes.map((n) => n.id),
  });
  const attach = async (host: string, force = false): Promise<number> => {
    const response = await fetch(`${metaUrl}/v1/volumes/${VOLUME_NAME}/attach`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ host, force }),
    });
    const body = (await response.json()) as { attachment: { epoch: number } };
    if (!response.ok) throw new Error(`attach: ${JSON.stringify(body)}`);
    return body.attachment.epoch;
  };
  await attach('agent-1');

  // The agent stand-in: engine + NBD server, failures reported over REST.
  const socket = join(dir, 'vol.sock');
  const agent = new ManagedProcess({
    id: 'agent',
    command: process.execPath,
    args: [
      serveScript,
      '--socket',
      socket,
      '--meta-url',
      metaUrl,
      '--token',
      TOKEN,
      '--volume-name',
      VOLUME_NAME,
      '--secret',
      secret,
      '--cluster-id',
      CLUSTER_ID,
      '--replica-timeout-ms',
      '5000',
      '--log-level',
      'info',
    ],
    logFile: join(dir, 'agent.log'),
    readyWhen: (line) => (line.includes('"ready":true') ? true : undefined),
    readyTimeoutMs: 60_000,
  });
  t.teardown(() => agent.stop(15_000));
  await agent.start();
  const uri = `nbd+unix:///?socket=${socket}`;

  // fio streams verified writes; n2 dies once it holds 8 MiB of them.
  const victim = nodes[1]!;
  const victimFile = join(victim.dataDir, 'replicas', `${VOLUME_ID}.data`);
  const fio = run(
    'fio',
    [
      '--name=stream',
      '--ioengine=nbd',
      `--uri=${uri}`,
      '--rw=randwrite',
      '--bs=4k',
      '--iodepth=16',
      '--size=48M',
      '--verify=crc32c',
      '--do_verify=1',
      '--verify_fatal=1',
      '--verify_state_save=0',
      '--output-format=json',
    ],
    { maxBuffer: 16 * MiB },
  );
  await waitFor(
    'n2 to hold 8 MiB of the stream',
    () => statSync(victimFile).blocks * 512 >= 8 * MiB,
    {
      timeoutMs: 120_000,
      intervalMs: 10,
    },
  );
  const killed = await victim.process.kill();
  t.equal(killed.signal, 'SIGKILL', 'n2 was SIGKILLed mid-stream');
  const { stdout: fioOut } = await fio; // rejects if fio exits non-zero
  const stdout = fioOut.slice(fioOut.indexOf('{'));
  t.comment(fioOut.slice(0, fioOut.indexOf('{')).trim());
  const job = (
    JSON.parse(stdout) as {
      jobs: Array<{ error: number; write: { total_ios: number }; read: { total_ios: number } }>;
    }
  ).jobs[0]!;
  t.equal(job.error, 0, 'fio finished without an error');
  t.ok(job.write.total_ios >= 12_000, `fio wrote ${job.write.total_ios} blocks`);
  t.ok(job.read.total_ios >= 12_000, `fio verified ${job.read.total_ios} blocks`);

  const volume = meta.map.getVolume(VOLUME_ID)!;
  t.same(
    volume.replicas.map((r) => `${r.nodeId}:${r.role}`),
    ['n1:in-sync', 'n3:in-sync'],
    'n2 left the in-sync set',
  );
  t.same(
    volume.staleReplicas.map((s) => s.nodeId),
    ['n2'],
  );

  // qemu-io: one process writes a pattern, another reads it back.
  const qemu = (cmd: string) => run('qemu-io', ['-f', 'raw', uri, '-c', cmd]);
  await qemu(`write -P 0x5a ${100 * MiB} ${4 * MiB}`);
  await qemu(`write -P 0xa5 ${100 * MiB + 12345} 777`);
  const check = await qemu(`read -P 0x5a ${100 * MiB} 12345`);
  t.match(check.stdout, /read 12345\/12345 bytes/);
  const check2 = await qemu(`read -P 0xa5 ${100 * MiB + 12345} 777`);
  t.match(check2.stdout, /read 777\/777 bytes/);
  await t.rejects(qemu(`read -P 0x5a ${100 * MiB + 12000} 1000`), 'a wrong pattern is caught');

  // Clean detach of the agent: everything flushed.
  const stopped = await agent.stop(15_000);
  t.equal(stopped.code, 0, 'the agent stopped cleanly');

  // The two in-sync replicas hold the same bytes; the killed one missed writes.
  const n1 = await readReplica(nodes[0]!.address, 'n1', secret);
  const n3 = await readReplica(nodes[2]!.address, 'n3', secret);
  t.ok(sameData(n1.chunks, n3.chunks), 'n1 and n3 hold identical data');
  t.equal(n1.generations, n3.generations, 'n1 and n3 have identical chunk generations');
  await victim.process.start();
  const n2 = await readReplica(victim.address, 'n2', secret);
  t.not(n2.generations, n1.generations, 'the restarted n2 is behind');

  // n2 rejoins as rebuilding; an engine (new attachment) rebuilds it over the data plane.
  await propose({ type: 'addReplica', at: Date.now(), volumeId: VOLUME_ID, nodeId: 'n2' });
  const epoch = await attach('agent-2', true);
  const engine = await VolumeEngine.open({
    volume: meta.map.getVolume(VOLUME_ID)!,
    epoch,
    connect: remoteSessionFactory({
      addressOf: (id) => nodes.find((n) => n.id === id)!.address,
      clusterId: CLUSTER_ID,
      clientId: 'e2e-rebuilder',
      secret,
    }),
    controlPlane: new DirectControlPlane(meta),
  });
  t.teardown(() => engine.abandon());
  t.same(engine.replicaSet().rebuilding, ['n2']);
  const writes = (async () => {
    for (let i = 0; i < 200; i++) await engine.writeAt((i * 37 * 4096) % SIZE, randomBytes(4096));
  })();
  writes.catch(() => undefined); // awaited below; a failed rebuild must not leave it unhandled
  const result = await engine.rebuildReplica('n2');
  await writes;
  t.ok(
    result.chunksCopied > 0,
    `rebuild copied ${result.chunksCopied} chunks (${result.bytesCopied} bytes)`,
  );
  t.same(
    meta.map
      .getVolume(VOLUME_ID)!
      .replicas.map((r) => `${r.nodeId}:${r.role}`)
      .sort(),
    ['n1:in-sync', 'n2:in-sync', 'n3:in-sync'],
    'n2 was promoted',
  );
  await engine.close();
  const after = await Promise.all(nodes.map((n) => readReplica(n.address, n.id, secret)));
  t.ok(sameData(after[0]!.chunks, after[1]!.chunks), 'n2 is identical to n1 after the rebuild');
  t.ok(sameData(after[0]!.chunks, after[2]!.chunks), 'n3 is identical to n1');
  t.equal(after[1]!.generations, after[0]!.generations, 'same generations everywhere');
});
