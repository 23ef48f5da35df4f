// Node-driven rebuilds of unattached volumes and scrub repair from a peer, in this process but
// with real parts over real sockets: a meta member (Raft, REST API, watch) and storage nodes
// (chunk store, data plane) that follow the map with MetaSync. Data is written the way an
// engine writes it: attach through meta, then sessions at the attach epoch on every replica.
import { openSync, readSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { isBallastError } from '@ballast/common';
import type { ClientSession } from '@ballast/dataplane';
import { waitFor } from '@ballast/testkit';
import { MetaClient } from '@ballast/meta-client';
import {
  RebuildJob,
  chunksToFetch,
  type RebuildEnvironment,
  type RebuildOptions,
} from '../src/index.js';
import {
  MiB,
  TOKEN,
  api,
  apiOk,
  dataPlane,
  logger,
  metricSum,
  readAll,
  startMeta,
  startSyncedNode,
  incarnationOn,
  tempDir,
  volume,
  waitForRole,
  type SyncedNode,
  type TaskView,
  type Teardown,
  type VolumeView,
} from './in-process-cluster.js';
import { pattern } from './helpers.js';

const SIZE = 64 * MiB;
const CHUNK = 1 * MiB;

/** The test's writer: sessions on every replica at the attach epoch, and a byte model. */
class Writer {
  readonly model = Buffer.alloc(SIZE);
  private sessions: ClientSession[] = [];
  private epoch = 0;

  constructor(
    private readonly t: Teardown,
    private readonly url: string,
    private readonly name: string,
    private readonly nodes: Map<string, SyncedNode>,
  ) {}

  /** Attaches through meta and opens sessions on the given replicas at the new epoch. */
  async attach(replicaNodes: string[]): Promise<number> {
    const v = await apiOk<VolumeView>(
      this.url,
      'POST',
      `/v1/volumes/${this.name}/attach`,
      { host: 'writer' },
      200,
    );
    this.epoch = v.epoch;
    this.sessions = [];
    for (const id of replicaNodes) {
      const store = this.nodes.get(id)!.node.store;
      await waitFor(`the replica on ${id}`, () => store.hasReplica(v.id));
      const client = await dataPlane(this.t, this.nodes.get(id)!.address);
      this.sessions.push(
        await client.openSession({
          volumeId: v.id,
          epoch: v.epoch,
          incarnation: incarnationOn(v, id),
        }),
      );
    }
    return v.epoch;
  }

  async write(offset: number, data: Buffer): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.write(offset, data)));
    data.copy(this.model, offset);
  }

  async trim(offset: number, length: number): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.trim(offset, length)));
    this.model.fill(0, offset, offset + length);
  }

  async detach(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.flush()));
    for (const s of this.sessions) s.close();
    this.sessions = [];
    await apiOk(
      this.url,
      'POST',
      `/v1/volumes/${this.name}/detach`,
      { host: 'writer', epoch: this.epoch },
      200,
    );
  }
}

async function startCluster(
  t: Teardown,
  count: number,
  opts: { scrub?: boolean; rebuild?: RebuildOptions } = {},
): Promise<{ url: string; nodes: Map<string, SyncedNode>; dir: string }> {
  const dir = tempDir(t);
  const url = await startMeta(t, dir);
  const nodes = new Map<string, SyncedNode>();
  for (let i = 1; i <= count; i++) {
    const id = `n${i}`;
    nodes.set(
      id,
      await startSyncedNode(t, dir, url, id, {
        zone: `z${i}`,
        ...(opts.rebuild ? { rebuild: opts.rebuild } : {}),
        ...(opts.scrub
          ? { config: { scrubBytesPerSecond: 256 * MiB, scrubIntervalMs: 3_600_000 } }
          : {}),
      }),
    );
  }
  return { url, nodes, dir };
}

async function verifyReplica(
  t: Teardown,
  node: SyncedNode,
  v: VolumeView,
  model: Buffer,
): Promise<boolean> {
  const client = await dataPlane(t, node.address, 'test-verifier');
  const session = await client.openSession({
    volumeId: v.id,
    epoch: v.epoch,
    incarnation: incarnationOn(v, node.id),
  });
  const data = await readAll(session, v.sizeBytes);
  session.close();
  return data.equals(model);
}

async function rebuildTask(url: string, volumeId: string, nodeId: string): Promise<TaskView> {
  const list = await apiOk<{ items: TaskView[] }>(
    url,
    'GET',
    `/v1/tasks?volume=${volumeId}`,
    undefined,
    200,
  );
  const tasks = list.items.filter((x) => x.kind === 'rebuild' && x.nodeId === nodeId);
  return tasks[tasks.length - 1]!;
}

t.test('chunksToFetch: generations, dirt on either side, holes and chunks only here', async (t) => {
  const clean = (index: number, generation: number, extra: object = {}) => ({
    index,
    generation,
    hole: false,
    dirty: false,
    unclean: false,
    ...extra,
  });
  const source = [
    clean(1, 3),
    clean(2, 5),
    // Left unclean by a crash of the source: its generation is no proof of content.
    clean(3, 2, { unclean: true }),
    clean(4, 7),
    clean(6, 1),
    // Written since the source's last flush, by a writer that stopped without flushing.
    clean(10, 4, { dirty: true }),
  ];
  const local = [
    clean(1, 3),
    clean(2, 4),
    clean(3, 2),
    clean(4, 7, { unclean: true }),
    clean(5, 2),
    clean(7, 0, { hole: true }),
    clean(8, 0, { hole: true, dirty: true }),
    clean(10, 4),
  ];
  t.same(chunksToFetch(source, local, new Set()), [2, 3, 4, 5, 6, 8, 10]);
  t.same(
    chunksToFetch(source, local, new Set([3, 10])),
    [2, 4, 5, 6, 8],
    'an unclean or dirty source chunk copied in this attempt is not copied again',
  );
  t.same(
    chunksToFetch(
      source,
      source.map((s) => clean(s.index, s.generation)),
      new Set([3, 10]),
    ),
    [],
  );
});

t.test('an unattached volume is rebuilt node to node: thin, verified, then a delta', async (t) => {
  const { url, nodes } = await startCluster(t, 3);
  const created = await apiOk<VolumeView>(
    url,
    'POST',
    '/v1/volumes',
    { name: 'rb', size: '64MiB', replicas: 2, chunkSize: '1MiB' },
    201,
  );
  const placed = created.replicas.map((r) => r.nodeId);
  const target = [...nodes.keys()].find((id) => !placed.includes(id))!;
  const writer = new Writer(t, url, 'rb', nodes);

  await writer.attach(placed);
  for (const chunk of [0, 5, 6, 20]) await writer.write(chunk * CHUNK, pattern(chunk + 1, CHUNK));
  await writer.write(40 * CHUNK + 8192, pattern(99, 4096)); // one block of chunk 40
  await writer.detach();
  const allocatedChunks = 5;

  await apiOk(url, 'POST', '/v1/volumes/rb/replicas', { nodeId: target }, 201);
  const after = await waitForRole(url, 'rb', target, 'in-sync');
  t.equal(after.attachment, null, 'no agent attached the volume at any point');
  const node = nodes.get(target)!;
  const label = { volume: created.id };
  t.equal(
    await metricSum(node.node.registry, 'ballast_node_rebuild_bytes_total', label),
    allocatedChunks * CHUNK,
    'copied the allocated chunks only (thin): 5 MiB of a 64 MiB volume',
  );
  await waitFor('the rebuild to end', async () =>
    (await metricSum(node.node.registry, 'ballast_node_rebuild_active')) === 0 ? true : undefined,
  );
  t.equal(
    await metricSum(node.node.registry, 'ballast_node_rebuilds_total', { outcome: 'promoted' }),
    1,
    'one rebuild, promoted',
  );
  t.ok(await verifyReplica(t, node, after, writer.model), 'every byte of the new replica matches');
  const used = node.node.store.replica(created.id).usedBytes();
  t.ok(used <= allocatedChunks * CHUNK + 64 * 1024, `the copy is thin on disk (${used} bytes)`);
  const task = await rebuildTask(url, created.id, target);
  t.equal(task.state, 'succeeded', 'the rebuild task succeeded with the promotion');
  t.equal(task.doneBytes, task.totalBytes);
  t.equal(task.totalBytes, allocatedChunks * CHUNK, 'the task total is what the compare found');

  // Delta: the replica misses writes of an attach (the engine marks it out of sync), then it
  // comes back as rebuilding and only what changed is copied.
  const epoch = await writer.attach(placed);
  await apiOk(
    url,
    'POST',
    `/v1/volumes/rb/replicas/${target}/out-of-sync`,
    { epoch, reason: 'test: the node is away' },
    200,
  );
  await writer.write(6 * CHUNK, pattern(1000, CHUNK)); // overwrite
  await writer.write(30 * CHUNK + 4096, pattern(1001, 65536)); // a new chunk, partly
  await writer.trim(20 * CHUNK, CHUNK); // a whole-chunk trim: copied as a hole
  await writer.detach();
  const bytesBefore = await metricSum(
    node.node.registry,
    'ballast_node_rebuild_bytes_total',
    label,
  );
  const chunksBefore = await metricSum(
    node.node.registry,
    'ballast_node_rebuild_chunks_total',
    label,
  );
  await apiOk(url, 'POST', '/v1/volumes/rb/replicas', { nodeId: target }, 201);
  const back = await waitForRole(url, 'rb', target, 'in-sync');
  t.equal(
    (await metricSum(node.node.registry, 'ballast_node_rebuild_bytes_total', label)) - bytesBefore,
    2 * CHUNK,
    'the delta copied the two changed chunks with data',
  );
  t.equal(
    (await metricSum(node.node.registry, 'ballast_node_rebuild_chunks_total', label)) -
      chunksBefore,
    3,
    'and the trimmed chunk as a hole, nothing else',
  );
  t.ok(await verifyReplica(t, node, back, writer.model), 'every byte matches after the delta');
});

t.test(
  'a promotion at an epoch the volume left is FENCED; so are old-epoch installs',
  async (t) => {
    const { url, nodes } = await startCluster(t, 2);
    const created = await apiOk<VolumeView>(
      url,
      'POST',
      '/v1/volumes',
      { name: 'fz', size: '64MiB', replicas: 1, chunkSize: '1MiB' },
      201,
    );
    const sourceId = created.replicas[0]!.nodeId;
    const targetId = sourceId === 'n1' ? 'n2' : 'n1';
    const writer = new Writer(t, url, 'fz', nodes);
    await writer.attach([sourceId]);
    for (const chunk of [1, 2, 3]) await writer.write(chunk * CHUNK, pattern(chunk, CHUNK));
    await writer.detach();
    const target = nodes.get(targetId)!;
    const source = nodes.get(sourceId)!;
    const stale = await volume(url, 'fz');

    // The target's own sync must not start a rebuild here: the job below is driven by hand with
    // a view that misses the attach (a lagging watch), which the map's abort would otherwise hide.
    await target.sync.close();
    await target.node.replicas.ensure(created.id, { sizeBytes: SIZE, chunkSizeBytes: CHUNK });
    await apiOk(url, 'POST', '/v1/volumes/fz/replicas', { nodeId: targetId }, 201);
    // An agent attaches: the epoch moves on in meta. No node has seen it yet (the source is told
    // below only for the second job).
    await source.sync.close();
    const attached = await apiOk<VolumeView>(
      url,
      'POST',
      '/v1/volumes/fz/attach',
      { host: 'agent-b' },
      200,
    );
    t.equal(attached.epoch, stale.epoch + 1);

    const meta = new MetaClient({ urls: [url], token: TOKEN });
    const env = (promoted: { calls: number }): RebuildEnvironment => ({
      nodeId: targetId,
      store: target.node.store,
      replicaStore: target.node.replicaStore,
      log: logger('test/job'),
      sources: () => [
        {
          id: sourceId,
          address: source.node.endpoints.dataPlane!,
          incarnation: incarnationOn(stale, sourceId),
        },
      ],
      connect: async (peer) => {
        const [host, port] = peer.address.split(':');
        return dataPlane(t, { host: host!, port: Number(port) }, targetId);
      },
      bytesPerSecond: () => Infinity,
      progress: () => undefined,
      copied: () => undefined,
      attemptFailed: () => undefined,
      sourceChanged: () => undefined,
      promote: async (epoch, incarnation) => {
        promoted.calls += 1;
        await meta.post(`/v1/volumes/fz/replicas/${targetId}/promote`, { epoch, incarnation });
      },
    });
    const job = {
      id: created.id,
      name: 'fz',
      sizeBytes: SIZE,
      chunkSizeBytes: CHUNK,
      incarnation: incarnationOn(attached, targetId),
    };
    const first = { calls: 0 };
    const report = await new RebuildJob({ ...job, epoch: stale.epoch }, env(first), {
      retryMinMs: 10,
    }).run(new AbortController().signal);
    t.equal(report.outcome, 'fenced', 'meta refused the promotion at the old epoch');
    t.equal(report.bytesCopied, 3 * CHUNK, 'the copy itself had completed');
    t.equal(first.calls, 1);
    const v = await volume(url, 'fz');
    t.ok(
      v.replicas.some((r) => r.nodeId === targetId && r.role === 'rebuilding'),
      'the replica is still rebuilding: no promotion happened',
    );

    // The source learns the new epoch (as its sync or the new engine would tell it): a copy at
    // the old epoch is refused there before anything is read.
    await source.node.replicas.acceptFence(created.id, {
      epoch: attached.epoch,
      incarnation: incarnationOn(attached, sourceId),
    });
    const second = { calls: 0 };
    const refused = await new RebuildJob({ ...job, epoch: stale.epoch }, env(second)).run(
      new AbortController().signal,
    );
    t.equal(refused.outcome, 'fenced', 'the source refuses reads at the old epoch');
    t.equal(refused.bytesCopied, 0);
    t.equal(second.calls, 0, 'no promotion was asked for');

    // And locally: once the node accepted the new epoch, installs of the old one are refused.
    const targetFence = { epoch: attached.epoch, incarnation: incarnationOn(attached, targetId) };
    await target.node.replicas.acceptFence(created.id, targetFence);
    let err: unknown;
    try {
      await target.node.replicaStore.installChunk(
        created.id,
        { epoch: stale.epoch, incarnation: targetFence.incarnation },
        1,
        99,
        null,
      );
    } catch (e) {
      err = e;
    }
    t.ok(isBallastError(err, 'FENCED'), 'an install at the old epoch is FENCED here too');
    t.equal(target.node.store.replica(created.id).chunkInfo(1).generation !== 99, true);
  },
);

t.test('the scrub repairs a bad block from an in-sync peer, attached or not', async (t) => {
  const { url, nodes, dir } = await startCluster(t, 2, { scrub: true });
  const created = await apiOk<VolumeView>(
    url,
    'POST',
    '/v1/volumes',
    { name: 'sc', size: '64MiB', replicas: 2, chunkSize: '1MiB' },
    201,
  );
  const writer = new Writer(t, url, 'sc', nodes);
  await writer.attach(['n1', 'n2']);
  await writer.write(3 * CHUNK, pattern(3, CHUNK));
  await writer.write(9 * CHUNK, pattern(9, CHUNK));
  await writer.detach();
  const n2 = nodes.get('n2')!;
  const file = join(dir, 'n2', 'replicas', `${created.id}.data`);
  const flip = (offset: number): void => {
    const fd = openSync(file, 'r+');
    try {
      const b = Buffer.alloc(1);
      readSync(fd, b, 0, 1, offset);
      b[0] = b[0]! ^ 0xff;
      writeSync(fd, b, 0, 1, offset);
    } finally {
      closeSync(fd);
    }
  };
  const repaired = () =>
    metricSum(n2.node.registry, 'ballast_node_repaired_blocks_total', { volume: created.id });
  const scrubPass = async (): Promise<void> => {
    await waitFor('the scrub to be idle', () => n2.node.scrubber!.stats().current === null);
    await n2.node.scrubber!.runPass();
  };

  flip(3 * CHUNK + 5 * 4096 + 17);
  const client = await dataPlane(t, n2.address, 'test-reader');
  const v1 = await volume(url, 'sc');
  const session = await client.openSession({
    volumeId: created.id,
    epoch: v1.epoch,
    incarnation: incarnationOn(v1, 'n2'),
  });
  const before = await session.read(3 * CHUNK, CHUNK).then(
    () => 'ok',
    (e: unknown) => (e as { code?: string }).code,
  );
  t.equal(before, 'CHECKSUM_MISMATCH', 'the flipped byte is detected on read');
  await scrubPass();
  t.equal(await repaired(), 1, 'one block repaired');
  t.ok((await session.read(3 * CHUNK, CHUNK)).equals(writer.model.subarray(3 * CHUNK, 4 * CHUNK)));
  t.pass('the block reads back with the written bytes (unattached volume)');

  // Attached: the engine's sessions are at the attach epoch; the repair reads the peer at that
  // epoch too and only takes bytes matching the stored checksum.
  await writer.attach(['n1', 'n2']);
  flip(9 * CHUNK + 100 * 4096 + 1);
  await scrubPass();
  t.equal(await repaired(), 2, 'repaired while attached');
  const v2 = await volume(url, 'sc');
  const s2 = await client.openSession({
    volumeId: created.id,
    epoch: v2.epoch,
    incarnation: incarnationOn(v2, 'n2'),
  });
  t.ok((await s2.read(9 * CHUNK, CHUNK)).equals(writer.model.subarray(9 * CHUNK, 10 * CHUNK)));
  t.equal(
    await metricSum(n2.node.registry, 'ballast_node_scrub_repair_failures_total'),
    0,
    'no repair failed',
  );
  await writer.detach();
  const r = await api(url, 'GET', '/v1/volumes/sc');
  t.equal(r.status, 200);
});

t.test('a rebuild with no reachable source gives up and fails its task in meta', async (t) => {
  const { url, nodes } = await startCluster(t, 2, {
    rebuild: { maxAttempts: 3, retryMinMs: 50, retryMaxMs: 200 },
  });
  const created = await apiOk<VolumeView>(
    url,
    'POST',
    '/v1/volumes',
    { name: 'gone', size: '64MiB', replicas: 1, chunkSize: '1MiB' },
    201,
  );
  const sourceId = created.replicas[0]!.nodeId;
  const targetId = sourceId === 'n1' ? 'n2' : 'n1';
  const writer = new Writer(t, url, 'gone', nodes);
  await writer.attach([sourceId]);
  await writer.write(0, pattern(5, CHUNK));
  await writer.detach();
  // The source's process goes away; meta still lists its node as up (no timeout yet).
  const source = nodes.get(sourceId)!;
  await source.sync.close();
  await source.node.close();

  await apiOk(url, 'POST', '/v1/volumes/gone/replicas', { nodeId: targetId }, 201);
  const target = nodes.get(targetId)!;
  const task = await waitFor(
    'the rebuild task to fail',
    async () => {
      const x = await rebuildTask(url, created.id, targetId);
      return x.state === 'failed' ? x : undefined;
    },
    { timeoutMs: 60_000 },
  );
  t.match(task, { state: 'failed' }, 'the node told meta it gave up');
  t.equal(
    await metricSum(target.node.registry, 'ballast_node_rebuilds_total', { outcome: 'failed' }),
    1,
  );
  t.ok(
    (await metricSum(target.node.registry, 'ballast_node_rebuild_attempt_failures_total')) >= 1,
    'after retrying',
  );
  const v = await volume(url, 'gone');
  t.ok(
    v.replicas.some((r) => r.nodeId === targetId && r.role === 'rebuilding'),
    'nothing was promoted',
  );
});
