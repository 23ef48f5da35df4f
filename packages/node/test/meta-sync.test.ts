// The storage node's sync with meta: real meta members (Raft, REST API, watch) and a real storage
// node (chunk store, data plane) in this process, over real sockets. Checks registration,
// heartbeats through followers, replicas following the map (create, epoch, resize, delete), the
// safety rule for missing replicas, and recovery from a leader failure.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import t from 'tap';
import { createLogger, type Logger } from '@ballast/common';
import { MAX_REPLICA_USAGE_REPORTS, startMetaMember, type RunningMember } from '@ballast/meta';
import { freePort, waitFor } from '@ballast/testkit';
import { parseNode, parseVolume } from '@ballast/meta-client';
import { MetaSync, startStorageNode, type StorageNode } from '../src/index.js';
import { MAX_REPLICA_USAGE_PER_HEARTBEAT } from '../src/meta-sync.js';
import { connect, pattern } from './helpers.js';

const TOKEN = 'meta-sync-test-token-0123456789';
const SECRET = 'meta-sync-test-secret-0123456789';
const MiB = 1024 * 1024;

interface Teardown {
  teardown(fn: () => unknown): void;
}

function logger(name: string): Logger {
  return createLogger({
    name,
    level: process.env.BALLAST_TEST_LOG_LEVEL ?? 'silent',
    pretty: false,
    destination: 2,
  });
}

function tempDir(t: Teardown): string {
  const dir = mkdtempSync(join(tmpdir(), 'ballast-meta-sync-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Stops a member: Raft first, then the API. RunningMember.close() does it the other way round and
 * hangs while peers are connected (the HTTP server waits for the inbound Raft websockets that
 * only the Raft member closes); reported to the lead.
 */
async function closeMember(m: RunningMember): Promise<void> {
  await m.store.member.close().catch(() => undefined);
  await m.app.close().catch(() => undefined);
}

interface MetaCluster {
  urls: string[];
  members: Map<string, RunningMember>;
  leader(): Promise<RunningMember>;
}

/** `count` real meta members on loopback (stopped at teardown). */
async function startMeta(t: Teardown, dir: string, count: number): Promise<MetaCluster> {
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  const peers: Record<string, string> = {};
  ports.forEach((p, i) => (peers[`m${i + 1}`] = `http://127.0.0.1:${p}`));
  const members = new Map<string, RunningMember>();
  t.teardown(async () => {
    for (const m of members.values()) await closeMember(m);
  });
  await Promise.all(
    ports.map(async (port, i) => {
      const id = `m${i + 1}`;
      const member = await startMetaMember(
        {
          id,
          dataDir: join(dir, id),
          host: '127.0.0.1',
          port,
          peers,
          clusterId: 'test',
          token: TOKEN,
          // Fake nodes registered by the tests do not heartbeat.
          nodeTimeoutMs: 120_000,
          // These tests drive the map by hand: meta's control loops (repair re-adding replicas)
          // would race them.
          controlIntervalMs: 3_600_000,
        },
        logger(`meta/${id}`),
      );
      members.set(id, member);
    }),
  );
  const leader = async (): Promise<RunningMember> =>
    waitFor('a meta leader', () => [...members.values()].find((m) => m.store.isLeader()), {
      timeoutMs: 20_000,
    });
  await leader();
  return { urls: Object.values(peers), members, leader };
}

async function api<T = Record<string, unknown>>(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

interface SyncedNode {
  node: StorageNode;
  sync: MetaSync;
  registry: Registry;
  restartSync(): Promise<MetaSync>;
}

async function startSyncedNode(
  t: Teardown,
  dir: string,
  metaUrls: string[],
  id = 'n1',
): Promise<SyncedNode> {
  const log = logger(`node/${id}`);
  const node = await startStorageNode(
    {
      id,
      dataDir: join(dir, id),
      dataPlaneSecret: SECRET,
      scrubBytesPerSecond: 0,
      labels: { zone: 'z1', host: `host-${id}` },
      capacity: '10GiB',
    },
    log,
  );
  const newSync = (registry: Registry): MetaSync =>
    new MetaSync({
      nodeId: id,
      address: node.endpoints.dataPlane!,
      labels: { zone: 'z1', host: `host-${id}` },
      metaUrls,
      token: TOKEN,
      replicas: node.replicas,
      capacity: () => node.capacity(),
      log,
      registry,
      heartbeatIntervalMs: 200,
      orphanGraceMs: 300,
      fullPassIntervalMs: 2_000,
    });
  const registry = new Registry();
  const state: SyncedNode = {
    node,
    registry,
    sync: newSync(registry),
    restartSync: async () => {
      await state.sync.close();
      state.sync = newSync(registry);
      state.sync.start();
      return state.sync;
    },
  };
  t.teardown(async () => {
    await state.sync.close();
    await node.close();
  });
  state.sync.start();
  if (!(await state.sync.waitRegistered(20_000))) throw new Error(`${id} did not register`);
  if (!(await state.sync.waitSynced(20_000))) throw new Error(`${id} did not sync the map`);
  return state;
}

function localReplica(node: StorageNode, volumeId: string) {
  return node.replicas.list().find((r) => r.replicaId === volumeId);
}

/** Registers a node in the map that no process runs (a placement target only). */
async function registerPaperNode(url: string, id: string, port: number): Promise<void> {
  const r = await api(url, 'POST', '/v1/nodes', {
    id,
    address: `127.0.0.1:${port}`,
    labels: { zone: 'z2', host: `host-${id}` },
    capacityBytes: 10 * 1024 * MiB,
  });
  if (r.status !== 201) throw new Error(`register ${id}: ${JSON.stringify(r.body)}`);
}

t.test('replicas follow the map: create, attach epoch, grow, delete', async (t) => {
  const dir = tempDir(t);
  const meta = await startMeta(t, dir, 1);
  const url = meta.urls[0]!;
  const n = await startSyncedNode(t, dir, meta.urls);

  const view = await api<{ address: string; labels: Record<string, string>; state: string }>(
    url,
    'GET',
    '/v1/nodes/n1',
  );
  t.equal(view.body.address, n.node.endpoints.dataPlane, 'registered with its data-plane address');
  t.same(view.body.labels, { zone: 'z1', host: 'host-n1' });
  t.equal(view.body.state, 'up');
  await waitFor('a heartbeat', () => n.sync.status().lastHeartbeatAtMs !== null, {
    timeoutMs: 10_000,
  });
  t.pass('heartbeats are accepted');

  const created = await api<{ id: string }>(url, 'POST', '/v1/volumes', {
    name: 'a',
    size: '64MiB',
    replicas: 1,
    chunkSize: '1MiB',
  });
  t.equal(created.status, 201);
  const volumeId = created.body.id;
  const replica = await waitFor('the replica', () => localReplica(n.node, volumeId), {
    timeoutMs: 10_000,
  });
  t.equal(replica.sizeBytes, 64 * MiB);
  t.equal(replica.chunkSizeBytes, 1 * MiB);
  t.equal(n.node.replicas.highestEpoch(volumeId), 0, 'never attached: epoch 0');

  const attached = await api<{ epoch: number }>(url, 'POST', '/v1/volumes/a/attach', {
    host: 'h1',
  });
  t.equal(attached.body.epoch, 1);
  await waitFor('epoch 1 persisted', () => n.node.replicas.highestEpoch(volumeId) === 1, {
    timeoutMs: 10_000,
  });
  t.pass('the node persisted the attach epoch from the map (older writers are fenced)');
  const forced = await api<{ epoch: number }>(url, 'POST', '/v1/volumes/a/detach', {
    host: 'someone',
    force: true,
  });
  t.equal(forced.body.epoch, 2, 'a forced detach bumps the epoch');
  await waitFor('epoch 2 persisted', () => n.node.replicas.highestEpoch(volumeId) === 2, {
    timeoutMs: 10_000,
  });
  t.pass('a forced detach fences the old holder at the node');

  t.equal((await api(url, 'PATCH', '/v1/volumes/a', { size: '128MiB' })).status, 200);
  await waitFor(
    'the replica to grow',
    () => localReplica(n.node, volumeId)?.sizeBytes === 128 * MiB,
    { timeoutMs: 10_000 },
  );
  t.pass('the replica grew with the volume');

  t.equal((await api(url, 'DELETE', '/v1/volumes/a')).status, 204);
  await waitFor('the replica to go', () => localReplica(n.node, volumeId) === undefined, {
    timeoutMs: 10_000,
  });
  t.pass('the replica of a deleted volume is deleted');

  await waitFor('the delete to be counted', async () =>
    /ballast_node_replica_actions_total\{action="delete"\} 1/.test(await n.registry.metrics()),
  );
  const metrics = await n.registry.metrics();
  t.match(metrics, /ballast_node_replica_actions_total\{action="create"\} 1/);
  t.match(metrics, /ballast_node_meta_registered 1/);
});

t.test('heartbeats carry replica used bytes; meta keeps the meaningful changes', async (t) => {
  t.equal(
    MAX_REPLICA_USAGE_PER_HEARTBEAT,
    MAX_REPLICA_USAGE_REPORTS,
    "the node's bound is meta's schema bound",
  );
  const dir = tempDir(t);
  const meta = await startMeta(t, dir, 1);
  const url = meta.urls[0]!;
  const n = await startSyncedNode(t, dir, meta.urls);
  const created = await api<{ id: string }>(url, 'POST', '/v1/volumes', {
    name: 'u',
    size: '128MiB',
    replicas: 1,
    chunkSize: '1MiB',
  });
  t.equal(created.status, 201);
  const volumeId = created.body.id;
  // The file system's free space travels with the heartbeats too (a full disk takes no replica).
  const free = await waitFor(
    "the node's free disk space in the map",
    async () =>
      (await api<{ availableBytes?: number }>(url, 'GET', '/v1/nodes/n1')).body.availableBytes,
    { timeoutMs: 60_000 },
  );
  t.ok(free > 0, `n1 reports ${free} bytes free on its file system`);
  const mapUsage = async () =>
    (
      await api<{ replicas: Array<{ nodeId: string; usedBytes?: number }> }>(
        url,
        'GET',
        '/v1/volumes/u',
      )
    ).body.replicas.find((r) => r.nodeId === 'n1')?.usedBytes;
  // A new replica's figure is reported at once (thin: next to nothing written yet).
  const first = await waitFor(
    'the first figure in the map',
    async () => {
      const used = await mapUsage();
      return used === undefined ? undefined : { used };
    },
    { timeoutMs: 60_000 },
  );
  t.ok(first.used < MiB, `an empty replica uses ${first.used} bytes`);

  const attached = await api<{
    epoch: number;
    replicas: Array<{ nodeId: string; incarnation?: number }>;
  }>(url, 'POST', '/v1/volumes/u/attach', {
    host: 'h1',
  });
  await waitFor('the epoch on the node', () => n.node.replicas.highestEpoch(volumeId) === 1, {
    timeoutMs: 60_000,
  });
  const [host, port] = n.node.endpoints.dataPlane!.split(':');
  const client = await connect(
    t,
    { dataPlane: { host: host!, port: Number(port) } },
    { secret: SECRET },
  );
  const session = await client.openSession({
    volumeId,
    epoch: attached.body.epoch,
    incarnation: attached.body.replicas[0]?.incarnation ?? 0,
  });
  // A small write: below max(64 MiB, 5% of 128 MiB), the map keeps the old figure.
  await session.write(0, pattern(1, MiB));
  await session.flush();
  const beats = async (count: number) => {
    for (let i = 0; i < count; i++) {
      const before = n.sync.status().lastHeartbeatAtMs ?? 0;
      await waitFor('a heartbeat', () => (n.sync.status().lastHeartbeatAtMs ?? 0) > before, {
        timeoutMs: 60_000,
      });
    }
  };
  await beats(3);
  t.ok(
    n.sync.replicaUsage().some((r) => r.volumeId === volumeId && r.usedBytes >= MiB),
    'the node reports the written MiB',
  );
  t.equal(await mapUsage(), first.used, 'a 1 MiB change does not reach the log');

  // 80 MiB more: well past the threshold.
  for (let i = 1; i <= 80; i++) await session.write(i * MiB, pattern(i + 1, MiB));
  await session.flush();
  // The map follows within the threshold (a heartbeat during the writes may have sent a figure
  // that is close enough to the final one already).
  const later = await waitFor(
    'a new figure in the map',
    async () => {
      const used = (await mapUsage()) ?? 0;
      return used >= first.used + 64 * MiB ? { used } : undefined;
    },
    { timeoutMs: 60_000 },
  );
  const onNode = n.node.replicas.list().find((r) => r.replicaId === volumeId)!.usedBytes;
  t.ok(onNode >= 81 * MiB, `the node measures ${onNode} bytes`);
  t.ok(
    Math.abs(onNode - later.used) < 64 * MiB,
    `the map's ${later.used} bytes are within 64 MiB of it`,
  );
});

t.test('SAFETY: a lost replica of a written volume is reported, never created empty', async (t) => {
  const dir = tempDir(t);
  const meta = await startMeta(t, dir, 1);
  const url = meta.urls[0]!;
  const leader = await meta.leader();
  await registerPaperNode(url, 'n9', await freePort());
  const n = await startSyncedNode(t, dir, meta.urls);

  const created = await api<{ id: string; replicas: Array<{ nodeId: string }> }>(
    url,
    'POST',
    '/v1/volumes',
    { name: 'b', size: '32MiB', replicas: 2 },
  );
  t.equal(created.status, 201);
  const volumeId = created.body.id;
  t.same(created.body.replicas.map((r) => r.nodeId).sort(), ['n1', 'n9']);
  await waitFor('the replica', () => localReplica(n.node, volumeId), { timeoutMs: 10_000 });
  await api(url, 'POST', '/v1/volumes/b/attach', { host: 'h1' });
  await waitFor('epoch 1', () => n.node.replicas.highestEpoch(volumeId) === 1, {
    timeoutMs: 10_000,
  });

  // The node loses its copy (a wiped disk) while the map still lists it in-sync.
  await n.sync.close();
  await n.node.replicas.delete(volumeId);
  const sync = await n.restartSync();
  t.ok(await sync.waitSynced(20_000));
  await waitFor(
    'the missing replica to be reported',
    () => sync.status().missingReplicas.some((m) => m.volumeId === volumeId),
    { timeoutMs: 10_000 },
  );
  t.same(sync.status().missingReplicas, [{ volumeId, volumeName: 'b', role: 'in-sync', epoch: 1 }]);
  t.equal(localReplica(n.node, volumeId), undefined, 'not created empty while listed in-sync');
  t.match(await n.registry.metrics(), /ballast_node_missing_replicas 1/);

  // The engine takes it out of the in-sync set: a stale record is not recreated either.
  const oos = await api(url, 'POST', `/v1/volumes/b/replicas/n1/out-of-sync`, {
    epoch: 1,
    reason: 'test: replica lost',
  });
  t.equal(oos.status, 200);
  await waitFor(
    'the stale record',
    () => sync.status().missingReplicas.some((m) => m.role === 'stale'),
    { timeoutMs: 10_000 },
  );
  t.equal(localReplica(n.node, volumeId), undefined, 'a stale record is not recreated');

  // A rebuild brings it back: as `rebuilding` it may be created empty (the rebuild fills it).
  const added = await leader.store.propose({
    type: 'addReplica',
    at: Date.now(),
    volumeId,
    nodeId: 'n1',
  });
  t.ok(added.ok, JSON.stringify(added));
  const rebuilt = await waitFor('the rebuilding replica', () => localReplica(n.node, volumeId), {
    timeoutMs: 10_000,
  });
  t.equal(rebuilt.sizeBytes, 32 * MiB);
  await waitFor('epoch 1 on the new copy', () => n.node.replicas.highestEpoch(volumeId) === 1);
  t.same(sync.status().missingReplicas, [], 'nothing missing any more');
  t.match(await n.registry.metrics(), /ballast_node_missing_replicas 0/);

  // Moved away: the map no longer lists the replica here, so the node deletes it.
  const removed = await leader.store.propose({
    type: 'removeReplica',
    at: Date.now(),
    volumeId,
    nodeId: 'n1',
    force: true,
  });
  t.ok(removed.ok, JSON.stringify(removed));
  await waitFor('the replica to go', () => localReplica(n.node, volumeId) === undefined, {
    timeoutMs: 10_000,
  });
  t.pass('a replica moved away is deleted');
});

t.test('heartbeats reach the leader through followers, also after it moves', async (t) => {
  const dir = tempDir(t);
  const meta = await startMeta(t, dir, 3);
  const first = await meta.leader();
  // Followers first: heartbeats must follow the leader hint.
  const followers = [...meta.members.entries()].filter(([, m]) => m !== first);
  const n = await startSyncedNode(t, dir, [...followers.map(([, m]) => m.apiUrl), first.apiUrl]);
  const beat = n.sync.status().lastHeartbeatAtMs ?? 0;
  await waitFor('heartbeats', () => (n.sync.status().lastHeartbeatAtMs ?? 0) > beat, {
    timeoutMs: 10_000,
  });
  t.pass('heartbeats accepted (only the leader answers them)');

  const [nextId, next] = followers[0]!;
  await first.store.member.transferLeadership(nextId, { timeoutMs: 10_000 });
  await waitFor('the new leader', () => next.store.isLeader(), { timeoutMs: 10_000 });
  const movedAt = Date.now();
  const seen = await waitFor(
    'a heartbeat at the new leader',
    async () => {
      const view = await api<{ lastHeartbeatAt: number | null }>(
        next.apiUrl,
        'GET',
        '/v1/nodes/n1',
      );
      return (view.body.lastHeartbeatAt ?? 0) > movedAt ? view.body.lastHeartbeatAt : undefined;
    },
    { timeoutMs: 20_000 },
  );
  t.ok(seen, 'the new leader receives the heartbeats');

  const created = await api<{ id: string }>(first.apiUrl, 'POST', '/v1/volumes', {
    name: 'c',
    size: '16MiB',
    replicas: 1,
  });
  t.equal(created.status, 201, JSON.stringify(created.body));
  await waitFor('the replica', () => localReplica(n.node, created.body.id), { timeoutMs: 20_000 });
  t.pass('the node follows the map under the new leader');
});

t.test('the map watch comes back after meta restarts', async (t) => {
  const dir = tempDir(t);
  const meta = await startMeta(t, dir, 1);
  const n = await startSyncedNode(t, dir, meta.urls);
  const [id, member] = [...meta.members.entries()][0]!;
  const port = Number(new URL(member.apiUrl).port);
  await closeMember(member);
  meta.members.delete(id);
  const failuresBefore = n.sync.status().lastHeartbeatAtMs;
  const restarted = await startMetaMember(
    {
      id,
      dataDir: join(dir, id),
      host: '127.0.0.1',
      port,
      peers: { [id]: member.apiUrl },
      clusterId: 'test',
      token: TOKEN,
    },
    logger(`meta/${id}`),
  );
  meta.members.set(id, restarted);
  await meta.leader();
  const created = await api<{ id: string }>(restarted.apiUrl, 'POST', '/v1/volumes', {
    name: 'd',
    size: '16MiB',
    replicas: 1,
  });
  t.equal(created.status, 201, JSON.stringify(created.body));
  await waitFor('the replica', () => localReplica(n.node, created.body.id), { timeoutMs: 20_000 });
  t.pass('the node reconnected its watch and created the replica');
  await waitFor(
    'heartbeats again',
    () => (n.sync.status().lastHeartbeatAtMs ?? 0) > (failuresBefore ?? 0),
    { timeoutMs: 20_000 },
  );
  t.pass('heartbeats resumed');
});

t.test('record parsers refuse garbage without crashing', async (t) => {
  fc.assert(
    fc.property(fc.anything(), (value) => {
      for (const parse of [parseNode, parseVolume]) {
        try {
          parse(value);
        } catch (err) {
          if (!(err instanceof Error) || !/malformed/.test(err.message)) throw err;
        }
      }
    }),
    { numRuns: 2000 },
  );
  t.throws(() => parseVolume({ id: 'v', name: 'v', sizeBytes: -1 }), /malformed volume/);
  t.throws(
    () =>
      parseVolume({
        id: 'v',
        name: 'v',
        sizeBytes: 4096,
        chunkSizeBytes: 65536,
        epoch: 0,
        replicas: [{ nodeId: 'n1', role: 'leader' }],
        staleReplicas: [],
        attachment: null,
      }),
    /malformed replica/,
  );
});
