// ClusterBackend against a real meta member and three real storage nodes (chunk stores, data
// plane over TCP, each following the map with MetaSync), all in this process; I/O goes through
// the NBD export on its unix socket. No mounts here: the e2e test under packages/cli mounts.
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import t, { type Test } from 'tap';
import { createLogger, isBallastError, type Logger } from '@ballast/common';
import { startMetaMember, type RunningMember, type VolumeExplanation } from '@ballast/meta';
import { MetaSync, startStorageNode, type StorageNode } from '@ballast/node';
import { freePort, waitFor } from '@ballast/testkit';
import {
  ClusterBackend,
  NbdClient,
  RebuildProgressReporter,
  SILENT_LOGGER,
  type VolumeSpec,
} from '../src/index.js';
import { tempDir } from './helpers/env.js';

const TOKEN = 'cluster-backend-test-token-0123';
const SECRET = 'cluster-backend-test-secret-0123';
const CLUSTER = 'cb-test';
const MiB = 1024 * 1024;

function logger(name: string): Logger {
  return createLogger({
    name,
    level: process.env.BALLAST_TEST_LOG_LEVEL ?? 'silent',
    pretty: false,
    destination: 2,
  });
}

interface Cluster {
  dir: string;
  metaUrl: string;
  meta: RunningMember;
  nodes: Map<string, StorageNode>;
  backend(
    host: string,
    registry?: Registry,
    extra?: { requestTimeoutMs?: number },
  ): Promise<ClusterBackend>;
  /** Stops a node as a crash would look from outside (its port refuses connections). */
  stopNode(id: string): Promise<void>;
  /** Starts a stopped node again on its data directory and data-plane port. */
  startNode(id: string): Promise<void>;
}

async function startCluster(
  t: Test,
  opts: { hostTimeoutMs?: number; nodeTimeoutMs?: number } = {},
): Promise<Cluster> {
  const dir = tempDir(t, 'ballast-cb-');
  const port = await freePort();
  const metaUrl = `http://127.0.0.1:${port}`;
  const meta = await startMetaMember(
    {
      id: 'm1',
      dataDir: path.join(dir, 'm1'),
      host: '127.0.0.1',
      port,
      peers: { m1: metaUrl },
      clusterId: CLUSTER,
      token: TOKEN,
      ...(opts.hostTimeoutMs !== undefined ? { hostTimeoutMs: opts.hostTimeoutMs } : {}),
      ...(opts.nodeTimeoutMs !== undefined ? { nodeTimeoutMs: opts.nodeTimeoutMs } : {}),
    },
    logger('meta/m1'),
  );
  t.teardown(() => meta.close());
  await waitFor('a leader', () => meta.store.isLeader(), { timeoutMs: 20_000 });
  const nodes = new Map<string, StorageNode>();
  const stops = new Map<string, () => Promise<void>>();
  const ports = new Map<string, number>();
  const startNode = async (id: string): Promise<void> => {
    const log = logger(`node/${id}`);
    const labels = { zone: `zone-${id}`, host: `host-${id}` };
    if (!ports.has(id)) ports.set(id, await freePort());
    const node = await startStorageNode(
      {
        id,
        dataDir: path.join(dir, id),
        listen: `127.0.0.1:${ports.get(id)!}`,
        clusterId: CLUSTER,
        dataPlaneSecret: SECRET,
        scrubBytesPerSecond: 0,
        labels,
        capacity: '10GiB',
      },
      log,
    );
    const sync = new MetaSync({
      nodeId: id,
      address: node.endpoints.dataPlane!,
      labels,
      metaUrls: [metaUrl],
      token: TOKEN,
      replicas: node.replicas,
      capacity: () => node.capacity(),
      log,
      heartbeatIntervalMs: 500,
      orphanGraceMs: 300,
    });
    sync.start();
    let stopped: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopped ??= (async () => {
        await sync.close();
        await node.close();
      })());
    t.teardown(stop);
    stops.set(id, stop);
    if (!(await sync.waitRegistered(20_000))) throw new Error(`${id} did not register`);
    nodes.set(id, node);
  };
  for (const id of ['n1', 'n2', 'n3']) await startNode(id);
  const stopNode = async (id: string): Promise<void> => {
    await stops.get(id)!();
    nodes.delete(id);
  };
  const backend = async (
    host: string,
    registry?: Registry,
    extra: { requestTimeoutMs?: number } = {},
  ): Promise<ClusterBackend> => {
    const b = await ClusterBackend.open({
      host,
      metaUrls: [metaUrl],
      token: TOKEN,
      clusterId: CLUSTER,
      dataPlaneSecret: SECRET,
      runDir: path.join(dir, `run-${host}`),
      logger: logger(`agent/${host}`),
      registry,
      replicaTimeoutMs: 5_000,
      hostHeartbeatIntervalMs: 300,
      ...extra,
    });
    t.teardown(() => b.close());
    return b;
  };
  return { dir, metaUrl, meta, nodes, backend, stopNode, startNode };
}

async function metaGet(url: string): Promise<Record<string, unknown>> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  return (await response.json()) as Record<string, unknown>;
}

const SPEC: VolumeSpec = { sizeBytes: 64 * MiB, replicas: 3, fs: 'ext4', labels: {} };

async function expectCode(t: Test, work: Promise<unknown>, code: string): Promise<unknown> {
  try {
    await work;
    t.fail(`expected ${code}`);
    return undefined;
  } catch (err) {
    t.ok(isBallastError(err, code as never), `${code}: ${(err as Error).message}`);
    return err;
  }
}

t.test('create, get, list and remove go through meta', async (t) => {
  const c = await startCluster(t);
  const backend = await c.backend('h1');
  const info = await backend.create('vol1', SPEC);
  t.equal(info.name, 'vol1');
  t.match(info.spec, { sizeBytes: 64 * MiB, replicas: 3, fs: 'ext4', chunkSizeBytes: 4 * MiB });
  const status = info.status as { replicas: Array<{ node: string }>; state: string };
  t.same(status.replicas.map((r) => r.node).sort(), ['n1', 'n2', 'n3']);
  t.equal(status.state, 'healthy');
  t.same((await backend.create('vol1', SPEC)).name, 'vol1', 'create is idempotent');
  const conflict = await expectCode(
    t,
    backend.create('vol1', { ...SPEC, sizeBytes: 128 * MiB }),
    'CONFLICT',
  );
  t.match((conflict as Error).message, /size is 64 MiB|different spec/);
  await expectCode(t, backend.create('vol2', { ...SPEC, replicas: 5 }), 'INVALID_ARGUMENT');
  await expectCode(t, backend.create('x'.repeat(70), SPEC), 'INVALID_ARGUMENT');
  await expectCode(t, backend.get('nope'), 'NOT_FOUND');
  await expectCode(t, backend.get('y'.repeat(70)), 'NOT_FOUND');
  t.same(
    (await backend.list()).map((v) => v.name),
    ['vol1'],
  );
  const zoned = await backend.create('zoned', {
    ...SPEC,
    replicas: 1,
    zone: 'zone-n2',
    labels: { host: 'host-n2' },
  });
  t.same((zoned.status as { replicas: Array<{ node: string }> }).replicas, [
    { node: 'n2', role: 'in-sync' },
  ]);
  t.equal(zoned.spec.zone, 'zone-n2');
  t.same(zoned.spec.labels, { host: 'host-n2' });

  await backend.remove('vol1');
  await expectCode(t, backend.get('vol1'), 'NOT_FOUND');
  await expectCode(t, backend.remove('vol1'), 'NOT_FOUND');
});

t.test('attach serves a replicated volume over NBD; one writer; release detaches', async (t) => {
  const c = await startCluster(t);
  const registry = new Registry();
  const backend = await c.backend('h1', registry);
  const info = await backend.create('data', SPEC);
  const volumeId = (info.status as { volumeId: string }).volumeId;

  const attachment = await backend.attach('data', { host: 'h1' });
  t.equal(attachment.sizeBytes, 64 * MiB);
  t.equal(attachment.fs, 'ext4');
  const record = await metaGet(`${c.metaUrl}/v1/volumes/data`);
  t.match(record, { epoch: 1, attachment: { host: 'h1', epoch: 1 }, state: 'healthy' });
  for (const node of c.nodes.values()) {
    t.equal(node.replicas.highestEpoch(volumeId), 1, 'every replica holds epoch 1');
  }

  const client = await NbdClient.connect(attachment.exportSocketPath, attachment.exportName, 5_000);
  const pattern = randomBytes(1 * MiB);
  await client.write(3 * MiB, pattern, false);
  await client.flush();
  t.ok((await client.read(3 * MiB, 1 * MiB)).equals(pattern), 'reads back what it wrote');

  await expectCode(t, backend.attach('data', { host: 'h1' }), 'CONFLICT');
  const other = await c.backend('h2');
  const held = await expectCode(t, other.attach('data', { host: 'h2' }), 'CONFLICT');
  t.equal((held as { details?: { host?: string } }).details?.host, 'h1', 'names the holder');
  await expectCode(t, backend.remove('data'), 'CONFLICT');

  const metrics = await registry.metrics();
  t.match(metrics, /ballast_agent_volume_ops_total\{volume="data",op="write"\} [1-9]/);
  t.match(
    metrics,
    /ballast_agent_volume_op_duration_seconds_bucket\{volume="data",op="write",le="\+Inf"\} [1-9]/,
  );
  t.match(metrics, /ballast_agent_volume_replicas\{volume="data",role="in-sync"\} 3/);
  t.match(metrics, /ballast_agent_volumes_attached 1/);
  t.match(metrics, /ballast_agent_volume_rebuild_remaining_chunks\{volume="data"\} 0/);
  t.match(metrics, /ballast_agent_volume_rebuild_copied_bytes_total\{volume="data"\} 0/);

  await client.close();
  await attachment.release();
  t.match(await metaGet(`${c.metaUrl}/v1/volumes/data`), { attachment: null, epoch: 1 });
  t.match(await registry.metrics(), /ballast_agent_volumes_attached 0/);
  t.match(
    await registry.metrics(),
    /ballast_agent_volume_ops_total\{volume="data",op="write"\} [1-9]/,
    'counters outlive the engine',
  );

  // Another host now: a new epoch, and the data is there.
  const moved = await other.attach('data', { host: 'h2' });
  t.match(await metaGet(`${c.metaUrl}/v1/volumes/data`), { attachment: { host: 'h2', epoch: 2 } });
  const reader = await NbdClient.connect(moved.exportSocketPath, moved.exportName, 5_000);
  t.ok((await reader.read(3 * MiB, 1 * MiB)).equals(pattern), 'the data moved with the volume');
  await reader.close();
  await moved.release();
  await backend.remove('data');
  for (const node of c.nodes.values()) {
    await waitFor(
      'replicas to be deleted',
      () => !node.replicas.list().some((r) => r.replicaId === volumeId),
      { timeoutMs: 20_000 },
    );
  }
  t.pass('every node deleted its replica');
});

t.test('a forced attach elsewhere fences the old writer', async (t) => {
  const c = await startCluster(t);
  const a = await c.backend('h1');
  const b = await c.backend('h2');
  await a.create('shared', SPEC);
  const first = await a.attach('shared', { host: 'h1' });
  const writer = await NbdClient.connect(first.exportSocketPath, first.exportName, 5_000);
  await writer.write(0, Buffer.alloc(4096, 1), true);

  const second = await b.attach('shared', { host: 'h2', force: true });
  t.match(await metaGet(`${c.metaUrl}/v1/volumes/shared`), {
    attachment: { host: 'h2', epoch: 2 },
  });
  let refused: unknown;
  try {
    await writer.write(0, Buffer.alloc(4096, 2), true);
  } catch (err) {
    refused = err;
  }
  t.ok(refused, `the old holder cannot write any more (${String(refused)})`);
  const reader = await NbdClient.connect(second.exportSocketPath, second.exportName, 5_000);
  t.ok((await reader.read(0, 4096)).equals(Buffer.alloc(4096, 1)), 'the fenced write did not land');
  await reader.close();
  await writer.close().catch(() => undefined);
  await first.release();
  t.match(
    await metaGet(`${c.metaUrl}/v1/volumes/shared`),
    { attachment: { host: 'h2', epoch: 2 } },
    "the fenced holder's release leaves the new attachment alone",
  );
  await second.release();
});

t.test('close() keeps the attachment; the next agent attaches again', async (t) => {
  const c = await startCluster(t);
  const first = await c.backend('h1');
  await first.create('kept', SPEC);
  const attachment = await first.attach('kept', { host: 'h1' });
  const client = await NbdClient.connect(attachment.exportSocketPath, attachment.exportName, 5_000);
  const data = randomBytes(64 * 1024);
  await client.write(MiB, data, false);
  await client.flush();
  await client.close();
  await first.close();
  t.match(await metaGet(`${c.metaUrl}/v1/volumes/kept`), { attachment: { host: 'h1', epoch: 1 } });

  const restarted = await c.backend('h1');
  const again = await restarted.attach('kept', { host: 'h1' });
  t.equal(
    again.exportSocketPath,
    attachment.exportSocketPath,
    'the same socket path (relays find it)',
  );
  t.match(await metaGet(`${c.metaUrl}/v1/volumes/kept`), { attachment: { host: 'h1', epoch: 2 } });
  const reader = await NbdClient.connect(again.exportSocketPath, again.exportName, 5_000);
  t.ok((await reader.read(MiB, data.length)).equals(data));
  await reader.close();
  await again.release();
});

t.test(
  "detach: another host's only with force, this host's leftover, never a served one",
  async (t) => {
    const c = await startCluster(t);
    const a = await c.backend('h1');
    const b = await c.backend('h2');
    await a.create('d', SPEC);
    t.same(await b.detach('d', { host: 'h2' }), { previousHost: undefined, epoch: 0 });
    const held = await a.attach('d', { host: 'h1' });
    t.equal(held.epoch, 1);
    await expectCode(t, a.detach('d', { host: 'h1' }), 'CONFLICT');
    const refused = await expectCode(t, b.detach('d', { host: 'h2' }), 'CONFLICT');
    t.equal((refused as { details?: { host?: string } }).details?.host, 'h1', 'names the holder');
    t.match((refused as Error).message, /if h1 is dead, `ballast volume detach --force d`/);
    t.match(await metaGet(`${c.metaUrl}/v1/volumes/d`), { attachment: { host: 'h1', epoch: 1 } });

    t.same(await b.detach('d', { host: 'h2', force: true }), { previousHost: 'h1', epoch: 2 });
    t.match(await metaGet(`${c.metaUrl}/v1/volumes/d`), { attachment: null, epoch: 2 });
    const writer = await NbdClient.connect(held.exportSocketPath, held.exportName, 5_000);
    await t.rejects(writer.write(0, Buffer.alloc(4096, 7), true), 'the old holder is fenced');
    await writer.close().catch(() => undefined);
    t.equal(held.fenced?.(), true, 'and knows it');
    await held.release();
    t.equal(held.fenced?.(), true, 'and still says so once released');
    t.match(await metaGet(`${c.metaUrl}/v1/volumes/d`), { attachment: null, epoch: 2 });

    // An attachment left by an agent that stopped serving (close() keeps it) is handed back.
    const gone = await c.backend('h3');
    await gone.attach('d', { host: 'h3' });
    await gone.close();
    const back = await c.backend('h3');
    t.same(await back.detach('d', { host: 'h3' }), { previousHost: 'h3', epoch: 3 });
    t.match(await metaGet(`${c.metaUrl}/v1/volumes/d`), { attachment: null, epoch: 3 });
    await expectCode(t, back.detach('nope', { host: 'h3' }), 'NOT_FOUND');
  },
);

t.test(
  'a Docker mount takes a volume over from a host whose agent went silent, never from a live one',
  async (t) => {
    const c = await startCluster(t, { hostTimeoutMs: 2_000 });
    const a = await c.backend('ha');
    const b = await c.backend('hb');
    await a.create('moved', { ...SPEC, replicas: 2 });
    await a.attach('moved', { host: 'ha', mountPath: '/mnt/ha/moved' });
    const hostA = await waitFor(
      'ha to heartbeat',
      async () => {
        const h = await metaGet(`${c.metaUrl}/v1/hosts/ha`);
        return h.lastHeartbeatAt !== null && h.alive === true ? h : undefined;
      },
      { timeoutMs: 20_000 },
    );
    t.match(hostA, { id: 'ha', alive: true, attachedVolumes: ['moved'] });
    t.ok(a.heartbeatCounts().sent > 0, 'the backend counts its heartbeats');

    // ha is alive: a mount on hb is refused, naming ha and saying it is alive.
    const refused = (await expectCode(
      t,
      b.attach('moved', { host: 'hb', takeOverFromDeadHolder: true }),
      'CONFLICT',
    )) as { message: string; details?: Record<string, unknown> };
    t.match(refused.message, /attached to host ha .*heard from [0-9.]+s ago/);
    t.match(refused.details, { host: 'ha', holderAlive: true });
    const epochBefore = (await metaGet(`${c.metaUrl}/v1/volumes/moved`)).epoch as number;

    // ha's agent dies (it stops serving and heartbeating; meta still has the attachment).
    await a.close();
    await waitFor(
      'meta to presume ha dead',
      async () => (await metaGet(`${c.metaUrl}/v1/hosts/ha`)).alive === false,
      { timeoutMs: 30_000 },
    );
    const taken = await b.attach('moved', { host: 'hb', takeOverFromDeadHolder: true });
    const after = await metaGet(`${c.metaUrl}/v1/volumes/moved`);
    t.match(after, { attachment: { host: 'hb' } });
    t.ok((after.epoch as number) > epochBefore, 'the takeover took a new epoch (ha is fenced)');
    await taken.release();
  },
);

t.test(
  'a failed engine is reopened at a new epoch once its last in-sync replica answers again (D22)',
  async (t) => {
    const c = await startCluster(t, { nodeTimeoutMs: 2_000 });
    const registry = new Registry();
    const backend = await c.backend('h1', registry);
    await backend.create('solo', { ...SPEC, replicas: 1 });
    const volume = await metaGet(`${c.metaUrl}/v1/volumes/solo`);
    const holder = (volume.replicas as Array<{ nodeId: string }>)[0]!.nodeId;
    const attachment = await backend.attach('solo', { host: 'h1' });
    t.equal(attachment.epoch, 1);
    const client = await NbdClient.connect(
      attachment.exportSocketPath,
      attachment.exportName,
      5_000,
    );
    const before = randomBytes(1 * MiB);
    await client.write(2 * MiB, before, false);
    await client.flush();

    // The only replica's node stops: the engine cannot take it out of the set (meta refuses to
    // drop the last in-sync replica), so it fails and I/O gets EIO on the same connection.
    await c.stopNode(holder);
    await t.rejects(client.write(0, Buffer.alloc(4096, 1), false), 'a write fails (EIO)');
    await t.rejects(client.read(2 * MiB, 4096), 'and so does a read');
    // The failure is final once meta has refused to drop the last in-sync replica.
    await waitFor('the engine to fail', () => backend.engineStats('solo')?.state === 'failed', {
      timeoutMs: 30_000,
    });
    await t.rejects(client.write(0, Buffer.alloc(4096, 1), false), 'a failed engine gets EIO');

    // The agent tells meta with its heartbeat; the explanation says what happened, what the
    // agent does next and when, and what the operator can do.
    const failing = await waitFor(
      'the explanation to show the failed engine with a next attempt',
      async () => {
        const e = (await metaGet(
          `${c.metaUrl}/v1/volumes/solo/explanation`,
        )) as unknown as VolumeExplanation;
        return e.engine?.state === 'failed' && e.engine.attempts >= 1 ? e : undefined;
      },
      { timeoutMs: 30_000 },
    );
    t.comment(JSON.stringify(failing, null, 1));
    t.equal(failing.state, 'failed');
    t.match(failing.stateReason, /^the engine on host h1 failed at epoch 1: volume solo: /);
    t.match(failing.engine, { host: 'h1', epoch: 1, lastError: String });
    t.ok(
      failing.engine!.nextAttemptAt! >= failing.engine!.reportedAt,
      'the next attempt is due after the report',
    );
    t.ok(failing.engine!.failedAt <= failing.engine!.reportedAt);
    t.match(failing.events, [{ text: /^the engine on host h1 failed at epoch 1: / }]);
    t.match(failing.next[0], {
      loop: 'engine',
      text: /^the agent on h1 reopens the engine at a new epoch.*attempt \d+ is due/,
      until: failing.engine!.nextAttemptAt,
    });
    t.match(failing.actions, [new RegExp(`\`ballast node inspect ${holder}\``), /release it/]);

    // Meta marks the node down: the agent stops attaching again (each attach is an epoch)
    // until a node holding an in-sync replica is reachable.
    await waitFor(
      'meta to mark the node down',
      async () => {
        const n = await metaGet(`${c.metaUrl}/v1/nodes/${holder}`);
        return n.reachable === false;
      },
      { timeoutMs: 30_000 },
    );
    const waiting = await waitFor(
      'the explanation to say why the agent does not attach again',
      async () => {
        const e = (await metaGet(
          `${c.metaUrl}/v1/volumes/solo/explanation`,
        )) as unknown as VolumeExplanation;
        return /as unreachable/.test(e.engine?.lastError ?? '') ? e : undefined;
      },
      { timeoutMs: 30_000 },
    );
    t.match(waiting.next[0]?.text, /the last attempt: not attaching again: meta has every node/);

    const quietEpoch = (await metaGet(`${c.metaUrl}/v1/volumes/solo`)).epoch as number;
    await new Promise((r) => setTimeout(r, 4_000));
    t.equal(
      (await metaGet(`${c.metaUrl}/v1/volumes/solo`)).epoch,
      quietEpoch,
      'no attach while the only in-sync replica is on a node meta has as down',
    );

    // The node comes back: the agent reopens the volume by itself, behind the same export.
    await c.startNode(holder);
    await waitFor(
      'the engine to be reopened',
      () => backend.engineStats('solo')?.state === 'open',
      {
        timeoutMs: 60_000,
      },
    );
    const record = await metaGet(`${c.metaUrl}/v1/volumes/solo`);
    t.ok((record.epoch as number) > 1, `a new epoch (${record.epoch as number})`);
    t.match(record, { attachment: { host: 'h1', epoch: record.epoch } });
    t.equal(attachment.epoch, record.epoch, 'the attachment reports the new epoch');
    t.equal(attachment.fenced?.(), false, 'a recovered attachment is not fenced');
    const past = await waitFor(
      'the explanation to show the reopening as a past event',
      async () => {
        const e = (await metaGet(
          `${c.metaUrl}/v1/volumes/solo/explanation`,
        )) as unknown as VolumeExplanation;
        return e.engine?.state === 'recovered' ? e : undefined;
      },
      { timeoutMs: 10_000 },
    );
    t.comment(JSON.stringify(past, null, 1));
    t.match(past.engine, { epoch: 1, recoveredEpoch: record.epoch, nextAttemptAt: null });
    t.ok(past.engine!.attempts >= 2, `reopened after ${past.engine!.attempts} attempts`);
    t.notMatch(past.state, /failed|recovering/, "the state is the map's again");
    t.match(past.events.at(-1), {
      at: past.engine!.recoveredAt,
      text: new RegExp(
        `^the agent on h1 reopened the engine at epoch ${record.epoch as number} after`,
      ),
    });
    t.notOk(
      past.next.some((n) => n.loop === 'engine'),
      'nothing more for the agent to do',
    );
    t.ok(
      (await client.read(2 * MiB, 1 * MiB)).equals(before),
      'the same NBD connection reads what was acknowledged before the failure',
    );
    const after = randomBytes(256 * 1024);
    await client.write(5 * MiB, after, true);
    t.ok((await client.read(5 * MiB, after.length)).equals(after), 'and writes again');
    t.match(
      await registry.metrics(),
      /ballast_agent_volume_ops_total\{volume="solo",op="write"\} (?:[2-9]|[1-9][0-9]+)\n/,
      "the failed engine's counters are kept",
    );
    await client.close();
    await attachment.release();
    t.match(await metaGet(`${c.metaUrl}/v1/volumes/solo`), { attachment: null });
  },
);

t.test("an engine rebuild's progress reaches its task in meta, at most every 2 s", async (t) => {
  const c = await startCluster(t);
  const backend = await c.backend('h1');
  await backend.create('prog', { ...SPEC, replicas: 2 });
  const volume = await metaGet(`${c.metaUrl}/v1/volumes/prog`);
  const holders = (volume.replicas as Array<{ nodeId: string }>).map((r) => r.nodeId);
  const target = ['n1', 'n2', 'n3'].find((id) => !holders.includes(id))!;
  // Attached to a host with no engine running: neither a node (they copy only unattached
  // volumes) nor an engine reports on this task, only the reporter under test.
  const attached = await fetch(`${c.metaUrl}/v1/volumes/prog/attach`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ host: 'elsewhere' }),
  });
  t.ok(attached.ok, 'attached to another host');
  // The operator adds a third replica: meta makes it `rebuilding` with a rebuild task.
  const added = await fetch(`${c.metaUrl}/v1/volumes/prog/replicas`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ nodeId: target }),
  });
  t.ok(added.ok, `replica added: ${added.status}`);
  const taskOf = async () => {
    const tasks = (await metaGet(`${c.metaUrl}/v1/tasks?volume=${volume.id as string}`))
      .items as Array<{
      id: string;
      kind: string;
      nodeId: string;
      doneBytes: number;
      totalBytes: number;
      message: string;
    }>;
    return tasks.find((x) => x.kind === 'rebuild' && x.nodeId === target)!;
  };
  t.equal((await taskOf()).totalBytes, SPEC.sizeBytes, 'the task starts with the volume size');

  const reporter = new RebuildProgressReporter(
    backend.client,
    volume.id as string,
    target,
    SILENT_LOGGER,
  );
  // A delta rebuild: 5 chunks of 1 MiB to copy, 2 copied so far.
  reporter.onProgress({
    chunksCopied: 2,
    bytesCopied: 2 * MiB,
    remainingChunks: 3,
    chunkSizeBytes: MiB,
  });
  await reporter.settle();
  t.match(await taskOf(), {
    doneBytes: 2 * MiB,
    totalBytes: 5 * MiB,
    message: /2 chunks copied, 3 to go/,
  });
  // Within 2 s of the last report nothing is sent (each report is a log entry).
  reporter.onProgress({
    chunksCopied: 3,
    bytesCopied: 3 * MiB,
    remainingChunks: 2,
    chunkSizeBytes: MiB,
  });
  await reporter.settle();
  t.match(await taskOf(), { doneBytes: 2 * MiB }, 'throttled');
});

t.test(
  'with meta gone, fast lookups answer from the map last followed; the rest fail',
  async (t) => {
    const c = await startCluster(t);
    // A short bound on the calls that need meta, so that their failures below come soon.
    const backend = await c.backend('h1', undefined, { requestTimeoutMs: 3_000 });
    await backend.create('kept', SPEC);
    const fresh = await backend.get('kept', { fast: true });
    t.notOk(
      (fresh.status as Record<string, unknown>).metaUnreachable,
      'from meta while it answers',
    );
    await waitFor('the map follower to see the volume', () =>
      (backend.lastKnownVolumeNames() ?? []).includes('kept'),
    );
    await expectCode(t, backend.get('nope', { fast: true }), 'NOT_FOUND');

    // Meta stops: its port refuses connections from now on (the cluster's teardown closes it
    // again: make that a no-op).
    const closing = c.meta.close();
    c.meta.close = () => closing;
    await closing;
    const got = await backend.get('kept', { fast: true });
    t.equal(got.name, 'kept');
    t.match(got.spec, { sizeBytes: 64 * MiB, replicas: 3 });
    t.match(got.status, { backend: 'cluster', metaUnreachable: true, source: /last followed/ });
    const listed = await backend.list({ fast: true });
    t.same(
      listed.map((v) => v.name),
      ['kept'],
      'the list is the last known one',
    );
    const unknown = await expectCode(t, backend.get('other', { fast: true }), 'UNAVAILABLE');
    t.match((unknown as Error).message, /meta did not answer within 1000 ms/);
    t.match((unknown as Error).message, /1 volumes last known from it do not include it/);
    // Without `fast`, lookups and everything that decides something still need meta.
    await expectCode(t, backend.get('kept'), 'UNAVAILABLE');
    await expectCode(t, backend.create('new', SPEC), 'UNAVAILABLE');
    await expectCode(t, backend.remove('kept'), 'UNAVAILABLE');
  },
);

t.test('before the map was ever read, a fast lookup fails at once naming why', async (t) => {
  const dir = tempDir(t, 'ballast-cb-nometa-');
  // A port nothing listens on.
  const port = await freePort();
  const backend = await ClusterBackend.open({
    host: 'h1',
    metaUrls: [`http://127.0.0.1:${port}`],
    token: TOKEN,
    clusterId: CLUSTER,
    dataPlaneSecret: SECRET,
    runDir: path.join(dir, 'run'),
    logger: SILENT_LOGGER,
    hostHeartbeatIntervalMs: 0,
  });
  t.teardown(() => backend.close());
  t.equal(backend.lastKnownVolumeNames(), undefined);
  const listErr = await expectCode(t, backend.list({ fast: true }), 'UNAVAILABLE');
  t.match((listErr as Error).message, /has not read the cluster map since it started/);
  await expectCode(t, backend.get('any', { fast: true }), 'UNAVAILABLE');
});
