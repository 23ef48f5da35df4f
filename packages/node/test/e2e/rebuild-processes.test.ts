// Node-driven rebuilds and scrub repair with real processes only: one `ballastd meta` and four
// `ballastd node` processes on loopback, talking over real sockets. The test writes the way an
// engine does (attach through meta, then data-plane sessions at the attach epoch on every
// replica) and never runs an agent: every copy here is node to node.
//
// (1) a new replica of an unattached volume is copied from a peer, thin, and verified byte for
// byte; (2) a node taken away (SIGSTOP) misses writes and comes back through a delta rebuild
// that copies only the changed chunks; (3) the source is SIGKILLed mid-copy: the rebuild moves to
// another source and never promotes a partial copy; (4) an attach during the copy stops it, no
// promotion happens, and after the detach the rebuild completes at the new epoch; (5) a byte
// flipped in a replica's data file on disk is repaired by the scrub from a peer.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { DataPlaneClient, type ClientSession } from '@ballast/dataplane';
import { Fleet, ballastdProcess, freePort, waitFor, type ManagedProcess } from '@ballast/testkit';
import { metricValue, pattern } from '../helpers.js';

const MiB = 1024 * 1024;
const CHUNK = 1 * MiB;
const SECRET = randomBytes(16).toString('hex');

interface VolumeView {
  id: string;
  name: string;
  epoch: number;
  sizeBytes: number;
  replicas: Array<{ nodeId: string; role: string; incarnation?: number }>;
  staleReplicas: Array<{ nodeId: string; incarnation?: number }>;
  attachment: { host: string; epoch: number } | null;
}

/** The map's incarnation of the copy on `nodeId`: part of a session's fence. */
function incarnationOn(v: VolumeView, nodeId: string): number {
  const member = v.replicas.find((r) => r.nodeId === nodeId);
  return member?.incarnation ?? v.staleReplicas.find((r) => r.nodeId === nodeId)?.incarnation ?? 0;
}

interface TaskView {
  id: string;
  kind: string;
  nodeId: string | null;
  state: string;
  doneBytes: number;
  totalBytes: number;
}

interface NodeProc {
  id: string;
  proc: ManagedProcess;
  port: number;
  dataDir: string;
  metrics: string;
}

interface Cluster {
  fleet: Fleet;
  url: string;
  token: string;
  nodes: Map<string, NodeProc>;
  call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  ok<T>(method: string, path: string, body: unknown, status: number): Promise<T>;
  startNode(id: string, extraArgs?: string[]): Promise<NodeProc>;
}

async function startCluster(t: Parameters<typeof Fleet.forTest>[0]): Promise<Cluster> {
  const fleet = Fleet.forTest(t, 'ballast-node-rebuild-');
  const token = randomBytes(16).toString('hex');
  const metaPort = await freePort();
  const url = `http://127.0.0.1:${metaPort}`;
  const meta = fleet.add(
    ballastdProcess({
      role: 'meta',
      id: 'm1',
      // A long node timeout: SIGSTOPped nodes stay `up`, so no control loop replaces them.
      args: [
        '--id',
        'm1',
        '--data-dir',
        fleet.path('m1'),
        '--listen',
        `127.0.0.1:${metaPort}`,
        '--node-timeout',
        '120s',
      ],
      env: { BALLAST_TOKEN: token, BALLAST_LOG_LEVEL: 'info' },
      logFile: fleet.path('m1.log'),
    }),
  );
  await meta.start();
  const call = async <T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const ok = async <T>(method: string, path: string, body: unknown, status: number) => {
    const r = await call<T>(method, path, body);
    if (r.status !== status) {
      throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    return r.body;
  };
  const nodes = new Map<string, NodeProc>();
  const ports = new Map<string, number>();
  const incarnations = new Map<string, number>();
  const startNode = async (id: string, extraArgs: string[] = []): Promise<NodeProc> => {
    const port = ports.get(id) ?? (await freePort());
    ports.set(id, port);
    const n = (incarnations.get(id) ?? 0) + 1;
    incarnations.set(id, n);
    const dataDir = fleet.path(id);
    const proc = fleet.add(
      ballastdProcess({
        role: 'node',
        id: n === 1 ? id : `${id}#${n}`,
        args: [
          '--id',
          id,
          '--data-dir',
          dataDir,
          '--listen',
          `127.0.0.1:${port}`,
          '--meta',
          url,
          '--labels',
          `zone=z-${id},host=${id}`,
          '--heartbeat-interval',
          '500ms',
          '--scrub-rate',
          '0',
          ...extraArgs,
        ],
        env: {
          BALLAST_JOIN_TOKEN: token,
          BALLAST_DATA_PLANE_SECRET: SECRET,
          BALLAST_LOG_LEVEL: 'info',
        },
        logFile: fleet.path(`${id}.log`),
      }),
    );
    const endpoints = (await proc.start()) as Record<string, string>;
    const node: NodeProc = { id, proc, port, dataDir, metrics: endpoints.metrics! };
    nodes.set(id, node);
    return node;
  };
  for (const id of ['n1', 'n2', 'n3', 'n4']) await startNode(id);
  await waitFor('four nodes up', async () => {
    const r = await call<{ items: Array<{ state: string }> }>('GET', '/v1/nodes');
    return r.body.items.filter((n) => n.state === 'up').length === 4 ? true : undefined;
  });
  return { fleet, url, token, nodes, call, ok, startNode };
}

async function connect(c: Cluster, nodeId: string, clientId: string): Promise<DataPlaneClient> {
  return DataPlaneClient.connect({
    host: '127.0.0.1',
    port: c.nodes.get(nodeId)!.port,
    clusterId: 'ballast',
    clientId,
    secret: SECRET,
    expectedNodeId: nodeId,
    connectTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
  });
}

/** The test's writer: attach through meta, sessions on the replicas, a byte model. */
class Writer {
  readonly model: Buffer;
  private clients: DataPlaneClient[] = [];
  private sessions: ClientSession[] = [];
  private epoch = 0;

  constructor(
    private readonly c: Cluster,
    private readonly name: string,
    sizeBytes: number,
  ) {
    this.model = Buffer.alloc(sizeBytes);
  }

  async attach(replicaNodes: string[]): Promise<number> {
    const v = await this.c.ok<VolumeView>(
      'POST',
      `/v1/volumes/${this.name}/attach`,
      { host: 'writer' },
      200,
    );
    this.epoch = v.epoch;
    for (const id of replicaNodes) {
      const client = await connect(this.c, id, 'test-writer');
      this.clients.push(client);
      // The node creates the replica when it sees the volume in the map.
      const session = await waitFor(`a session on ${id}`, () =>
        client
          .openSession({ volumeId: v.id, epoch: v.epoch, incarnation: incarnationOn(v, id) })
          .catch(() => undefined),
      );
      this.sessions.push(session);
    }
    return v.epoch;
  }

  async write(offset: number, data: Buffer): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.write(offset, data)));
    data.copy(this.model, offset);
  }

  async detach(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.flush()));
    for (const client of this.clients) client.destroy();
    this.clients = [];
    this.sessions = [];
    await this.c.ok(
      'POST',
      `/v1/volumes/${this.name}/detach`,
      { host: 'writer', epoch: this.epoch },
      200,
    );
  }
}

async function volume(c: Cluster, name: string): Promise<VolumeView> {
  return c.ok<VolumeView>('GET', `/v1/volumes/${name}`, undefined, 200);
}

async function waitForRole(
  c: Cluster,
  name: string,
  nodeId: string,
  role: string,
  timeoutMs = 120_000,
): Promise<VolumeView> {
  let last: VolumeView | undefined;
  try {
    return await waitFor(
      `${nodeId} ${role} in ${name}`,
      async () => {
        last = await volume(c, name);
        return last.replicas.some((r) => r.nodeId === nodeId && r.role === role) ? last : undefined;
      },
      { timeoutMs },
    );
  } catch (err) {
    // What CI shows of a failure is this message: say where the volume and the node's rebuilds are.
    const outcomes: string[] = [];
    for (const outcome of ['promoted', 'aborted', 'fenced', 'failed']) {
      const n = await metric(c, nodeId, 'ballast_node_rebuilds_total', { outcome }).catch(
        () => NaN,
      );
      outcomes.push(`${outcome}=${n}`);
    }
    const active = await metric(c, nodeId, 'ballast_node_rebuild_active').catch(() => NaN);
    throw new Error(
      `${(err as Error).message}; volume: ${JSON.stringify(last)}; ${nodeId} rebuilds: ${outcomes.join(' ')} active=${active}`,
      { cause: err },
    );
  }
}

/** Adds a replica (201), or finds that meta's own loop already re-added it (409). */
async function addReplica(c: Cluster, name: string, body: object): Promise<void> {
  const r = await c.call('POST', `/v1/volumes/${name}/replicas`, body);
  if (r.status !== 201 && r.status !== 409) {
    throw new Error(`add replica: ${r.status} ${JSON.stringify(r.body)}`);
  }
}

async function metric(
  c: Cluster,
  nodeId: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const v = await metricValue(c.nodes.get(nodeId)!.metrics, name, labels);
  return Number.isNaN(v) ? 0 : v;
}

/** Reads the whole replica on a node at the volume's epoch and compares it with the model. */
async function verify(c: Cluster, nodeId: string, v: VolumeView, model: Buffer): Promise<boolean> {
  const client = await connect(c, nodeId, 'test-verifier');
  try {
    const session = await client.openSession({
      volumeId: v.id,
      epoch: v.epoch,
      incarnation: incarnationOn(v, nodeId),
    });
    for (let off = 0; off < v.sizeBytes; off += 4 * MiB) {
      const n = Math.min(4 * MiB, v.sizeBytes - off);
      const got = await session.read(off, n);
      if (!got.equals(model.subarray(off, off + n))) return false;
    }
    return true;
  } finally {
    client.destroy();
  }
}

async function createVolume(
  c: Cluster,
  name: string,
  sizeMiB: number,
  replicas: number,
): Promise<VolumeView> {
  return c.ok<VolumeView>(
    'POST',
    '/v1/volumes',
    { name, size: `${sizeMiB}MiB`, replicas, chunkSize: '1MiB' },
    201,
  );
}

/** Sets meta's rebuild bandwidth (the nodes read it from the map). */
async function setBandwidth(c: Cluster, bytesPerSecond: number): Promise<void> {
  await c.ok('PATCH', '/v1/settings', { rebuildBandwidthBytesPerSecond: bytesPerSecond }, 200);
  await waitFor('the nodes to see the bandwidth', async () => {
    for (const id of c.nodes.keys()) {
      const v = await metric(c, id, 'ballast_node_rebuild_bandwidth_bytes_per_second');
      if (v !== bytesPerSecond) return undefined;
    }
    return true;
  });
}

t.test('node-driven rebuilds and scrub repair, real processes', async (t) => {
  const c = await startCluster(t);

  let v1: VolumeView;
  let w1: Writer;
  await t.test('(1) a new replica is copied from a peer: thin and byte-identical', async (t) => {
    const size = 128;
    v1 = await createVolume(c, 'v1', size, 3);
    const placed = v1.replicas.map((r) => r.nodeId);
    const spare = [...c.nodes.keys()].find((id) => !placed.includes(id))!;
    w1 = new Writer(c, 'v1', size * MiB);
    await w1.attach(placed);
    const chunks = [0, 1, 2, 17, 64, 65, 100, 101, 127];
    for (const i of chunks) await w1.write(i * CHUNK, pattern(i + 7, CHUNK));
    await w1.detach();

    const leaving = placed[placed.length - 1]!;
    await addReplica(c, 'v1', { nodeId: spare, replacing: leaving });
    const after = await waitForRole(c, 'v1', spare, 'in-sync');
    t.equal(after.attachment, null, 'no agent was involved');
    const removed = await c.call('DELETE', `/v1/volumes/v1/replicas/${leaving}`);
    t.ok([200, 404].includes(removed.status), 'the replaced replica leaves the set');
    const copied = await metric(c, spare, 'ballast_node_rebuild_bytes_total', { volume: v1.id });
    t.equal(copied, chunks.length * CHUNK, `copied ${copied} bytes: the written chunks only`);
    t.ok(copied < after.sizeBytes / 10, 'far less than the volume size (thin)');
    t.ok(await verify(c, spare, after, w1.model), 'every byte of the new replica matches');
    const tasks = await c.ok<{ items: TaskView[] }>(
      'GET',
      `/v1/tasks?volume=${v1.id}`,
      undefined,
      200,
    );
    const rebuild = tasks.items.find((x) => x.kind === 'rebuild' && x.nodeId === spare);
    t.equal(rebuild?.state, 'succeeded', 'the rebuild task succeeded');
    t.comment(
      `(1) copied ${copied} bytes for ${chunks.length} written chunks of a ${size} MiB volume`,
    );
  });

  await t.test('(2) a node back from SIGSTOP catches up by a delta rebuild', async (t) => {
    const v = await volume(c, 'v1');
    const members = v.replicas.map((r) => r.nodeId);
    const away = members[0]!;
    const staying = members.slice(1);
    const node = c.nodes.get(away)!;
    const before = await metric(c, away, 'ballast_node_rebuild_bytes_total', { volume: v.id });

    node.proc.pause();
    const epoch = await w1.attach(staying);
    // What the engine does when a replica fails a write: meta takes it out of the in-sync set.
    await c.ok(
      'POST',
      `/v1/volumes/v1/replicas/${away}/out-of-sync`,
      { epoch, reason: 'test: node stopped' },
      200,
    );
    const changed = [2, 64, 90];
    for (const i of changed) await w1.write(i * CHUNK + 4096, pattern(i + 500, 3 * 4096));
    await w1.detach();
    node.proc.resume();

    await addReplica(c, 'v1', { nodeId: away });
    const back = await waitForRole(c, 'v1', away, 'in-sync');
    const delta =
      (await metric(c, away, 'ballast_node_rebuild_bytes_total', { volume: v.id })) - before;
    t.equal(delta, changed.length * CHUNK, 'only the three changed chunks were copied');
    t.ok(await verify(c, away, back, w1.model), 'the returning replica matches byte for byte');
    t.comment(`(2) delta copied ${delta} bytes of a ${back.sizeBytes}-byte volume`);
  });

  await t.test('(3) the source is SIGKILLed mid-rebuild: another source finishes it', async (t) => {
    await setBandwidth(c, 4 * MiB);
    const size = 64;
    const v3 = await createVolume(c, 'v3', size, 3);
    const placed = v3.replicas.map((r) => r.nodeId);
    const target = [...c.nodes.keys()].find((id) => !placed.includes(id))!;
    const w = new Writer(c, 'v3', size * MiB);
    await w.attach(placed);
    for (let i = 0; i < 24; i++) await w.write(i * 2 * CHUNK, pattern(i + 3000, CHUNK));
    await w.detach();

    await addReplica(c, 'v3', { nodeId: target });
    const label = { volume: v3.id };
    const source = await waitFor(
      'the copy to be under way',
      async () => {
        const text = await (await fetch(c.nodes.get(target)!.metrics)).text();
        const m = new RegExp(
          `ballast_node_rebuild_source_info\\{[^}]*volume="${v3.id}"[^}]*source="([^"]+)"`,
        ).exec(text);
        const bytes = await metric(c, target, 'ballast_node_rebuild_bytes_total', label);
        return m !== null && bytes > 0 ? m[1]! : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const partial = await metric(c, target, 'ballast_node_rebuild_bytes_total', label);
    t.ok(partial < 24 * CHUNK, `the copy was partial (${partial} bytes) when the source died`);
    await c.nodes.get(source)!.proc.kill();
    const v = await volume(c, 'v3');
    t.ok(
      v.replicas.some((r) => r.nodeId === target && r.role === 'rebuilding'),
      'not promoted with a partial copy',
    );

    const done = await waitForRole(c, 'v3', target, 'in-sync');
    t.ok(
      (await metric(c, target, 'ballast_node_rebuild_attempt_failures_total', label)) >= 1,
      'the attempt from the dead source failed and was retried',
    );
    t.ok(await verify(c, target, done, w.model), 'the finished copy matches byte for byte');
    await c.startNode(source);
    await setBandwidth(c, 0);
  });

  await t.test(
    '(4) an attach during the copy stops it; no promotion at the old epoch',
    async (t) => {
      await setBandwidth(c, 4 * MiB);
      const size = 64;
      const v4 = await createVolume(c, 'v4', size, 2);
      const placed = v4.replicas.map((r) => r.nodeId);
      const target = [...c.nodes.keys()].find((id) => !placed.includes(id))!;
      const w = new Writer(c, 'v4', size * MiB);
      await w.attach(placed);
      for (let i = 0; i < 24; i++) await w.write(i * 2 * CHUNK, pattern(i + 4000, CHUNK));
      await w.detach();
      const label = { volume: v4.id };
      const stoppedBefore =
        (await metric(c, target, 'ballast_node_rebuilds_total', { outcome: 'aborted' })) +
        (await metric(c, target, 'ballast_node_rebuilds_total', { outcome: 'fenced' }));
      const promotedBefore = await metric(c, target, 'ballast_node_rebuilds_total', {
        outcome: 'promoted',
      });

      await addReplica(c, 'v4', { nodeId: target });
      await waitFor(
        'the copy to be under way',
        async () =>
          (await metric(c, target, 'ballast_node_rebuild_bytes_total', label)) > 0
            ? true
            : undefined,
        { timeoutMs: 60_000 },
      );
      const attached = await c.ok<VolumeView>(
        'POST',
        '/v1/volumes/v4/attach',
        { host: 'agent-x' },
        200,
      );
      await waitFor(
        'the rebuild to stop',
        async () => {
          const stopped =
            (await metric(c, target, 'ballast_node_rebuilds_total', { outcome: 'aborted' })) +
            (await metric(c, target, 'ballast_node_rebuilds_total', { outcome: 'fenced' }));
          return stopped > stoppedBefore ? true : undefined;
        },
        { timeoutMs: 60_000 },
      );
      const partial = await metric(c, target, 'ballast_node_rebuild_bytes_total', label);
      t.ok(partial < 24 * CHUNK, `stopped part-way (${partial} bytes copied)`);
      const v = await volume(c, 'v4');
      t.ok(
        v.replicas.some((r) => r.nodeId === target && r.role === 'rebuilding'),
        'still rebuilding: no promotion happened',
      );
      t.equal(
        await metric(c, target, 'ballast_node_rebuilds_total', { outcome: 'promoted' }),
        promotedBefore,
        'the node did not promote',
      );
      const promote = await c.call('POST', `/v1/volumes/v4/replicas/${target}/promote`, {
        epoch: attached.epoch - 1,
      });
      t.equal(promote.status, 409, 'a promotion at the epoch the copy ran under is refused');
      t.equal((promote.body as { code?: string }).code, 'FENCED');

      // The agent detaches without having rebuilt it: the node takes it up again at the new epoch.
      await c.ok('POST', '/v1/volumes/v4/detach', { host: 'agent-x', epoch: attached.epoch }, 200);
      await setBandwidth(c, 0);
      const done = await waitForRole(c, 'v4', target, 'in-sync');
      t.equal(done.epoch, attached.epoch, 'promoted at the new epoch');
      t.ok(await verify(c, target, done, w.model), 'and the copy matches byte for byte');
    },
  );

  await t.test('(5) the scrub repairs a flipped byte from a peer', async (t) => {
    const v = await volume(c, 'v1');
    const victim = v.replicas.find((r) => r.role === 'in-sync')!.nodeId;
    const node = c.nodes.get(victim)!;
    await node.proc.stop();
    const file = join(node.dataDir, 'replicas', `${v.id}.data`);
    const offset = 17 * CHUNK + 9 * 4096 + 123;
    const fd = openSync(file, 'r+');
    try {
      const b = Buffer.alloc(1);
      readSync(fd, b, 0, 1, offset);
      b[0] = b[0]! ^ 0x5a;
      writeSync(fd, b, 0, 1, offset);
    } finally {
      closeSync(fd);
    }
    // Restarted with the scrub on: its first pass runs at start (and waits for the map).
    await c.startNode(victim, ['--scrub-rate', '64MiB', '--scrub-interval', '1h']);
    await waitFor(
      'the repair',
      async () =>
        (await metric(c, victim, 'ballast_node_repaired_blocks_total', { volume: v.id })) >= 1
          ? true
          : undefined,
      { timeoutMs: 60_000 },
    );
    t.equal(await metric(c, victim, 'ballast_node_checksum_errors_total', { volume: v.id }), 1);
    t.equal(await metric(c, victim, 'ballast_node_scrub_repair_failures_total'), 0);
    t.ok(await verify(c, victim, await volume(c, 'v1'), w1.model), 'the replica reads back whole');
  });
});
