// The control loops in real `ballastd meta` processes: 3 members, storage nodes registered
// through the API and kept alive (or not) by heartbeats this test sends, and this test playing
// the nodes' copiers (it reports progress and promotes each rebuild task it sees, as a storage
// node does after copying). Covers: a silent node goes down, its replicas leave the in-sync sets
// at once, a replacement is added after the grace period and the lost copy dropped once the new
// one is in sync; a drain moves everything with bounded moves and never below the desired count;
// remove is refused while replicas remain, then accepted; the rebalance kill switch.
import t from 'tap';
import { waitFor } from '@ballast/testkit';
import { metaFleet, startMetaCluster, type MetaCluster } from '../helpers/real-cluster.js';

interface Volume {
  id: string;
  name: string;
  sizeBytes: number;
  state: string;
  epoch: number;
  desiredReplicas: number;
  replicas: Array<{ nodeId: string; role: string; usedBytes?: number }>;
  staleReplicas: Array<{ nodeId: string; since: number; idle?: boolean }>;
}
interface Task {
  id: string;
  kind: string;
  state: string;
  volumeId: string | null;
  nodeId: string | null;
  sourceNodeId: string | null;
  totalBytes: number;
  doneBytes: number;
  createdAt: number;
  message: string;
}

const GiB = 2 ** 30;
const GRACE_MS = 3000;
const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];

async function body<T>(
  cluster: MetaCluster,
  via: string,
  method: string,
  path: string,
  payload?: unknown,
): Promise<T> {
  const r = await cluster.call(via, method, path, payload);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as T;
}

t.test('failure handling, drain, remove and the rebalance kill switch', async (t) => {
  const fleet = metaFleet(t, 'meta-control-');
  const cluster = await startMetaCluster(fleet, 3, ['--node-timeout', '2s']);
  const leader = await cluster.waitForLeader();
  const get = <T>(path: string) => body<T>(cluster, leader, 'GET', path);
  const volumes = async () => (await get<{ items: Volume[] }>('/v1/volumes?limit=1000')).items;
  const tasks = async () => (await get<{ items: Task[] }>('/v1/tasks?limit=1000')).items;

  const register = async (id: string, zone: string) =>
    body(cluster, leader, 'POST', '/v1/nodes', {
      id,
      address: `127.0.0.1:${10 + NODES.indexOf(id) + 1}`,
      labels: { zone, host: id },
      capacityBytes: 1024 * GiB,
    });
  for (const [i, id] of NODES.entries()) await register(id, `z${i + 1}`);

  // The nodes: heartbeats from the live ones, and copiers that finish every rebuild task. The
  // heartbeats carry replica usage (rebalance evens it out): in-sync replicas are written full,
  // rebuilding ones hold nothing yet.
  const alive = new Set(NODES);
  let stopped = false;
  const usageOn = (vs: Volume[], nodeId: string) =>
    vs.flatMap((v) => {
      const r = v.replicas.find((x) => x.nodeId === nodeId);
      return r ? [{ volumeId: v.id, usedBytes: r.role === 'in-sync' ? v.sizeBytes : 0 }] : [];
    });
  const heartbeats = (async () => {
    while (!stopped) {
      const vs = await volumes().catch(() => [] as Volume[]);
      await Promise.all(
        [...alive].map((id) =>
          cluster
            .call(leader, 'POST', `/v1/nodes/${id}/heartbeat`, { replicas: usageOn(vs, id) }, 2000)
            .catch(() => undefined),
        ),
      );
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  let copied = 0;
  const copiers = (async () => {
    while (!stopped) {
      try {
        const open = (await tasks()).filter(
          (x) => x.kind === 'rebuild' && (x.state === 'pending' || x.state === 'running'),
        );
        const byId = new Map((await volumes()).map((v) => [v.id, v]));
        for (const task of open) {
          const v = byId.get(task.volumeId!);
          if (!v || !alive.has(task.nodeId!)) continue;
          await cluster.call(leader, 'POST', `/v1/tasks/${task.id}/progress`, {
            doneBytes: Math.floor(task.totalBytes / 2),
            message: 'copying',
          });
          const r = await cluster.call(
            leader,
            'POST',
            `/v1/volumes/${v.name}/replicas/${task.nodeId}/promote`,
            { epoch: v.epoch },
          );
          if (r.status === 200) copied++;
        }
      } catch {
        // the next round tries again
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  t.teardown(async () => {
    stopped = true;
    await Promise.all([heartbeats, copiers]);
  });

  const settings = await body<Record<string, unknown>>(cluster, leader, 'PATCH', '/v1/settings', {
    replicaReplacementGraceMs: GRACE_MS,
    rebalanceEnabled: false,
    maxConcurrentMoves: 2,
  });
  t.match(settings, { replicaReplacementGraceMs: GRACE_MS, rebalanceEnabled: false });
  for (const name of ['a', 'b', 'c', 'd']) {
    await body(cluster, leader, 'POST', '/v1/volumes', { name, size: '100GiB', replicas: 3 });
  }
  const healthy = async (avoid: string[] = []) => {
    const vs = await volumes();
    const ok = vs.every(
      (v) =>
        v.state === 'healthy' &&
        v.staleReplicas.length === 0 &&
        v.replicas.length === v.desiredReplicas &&
        v.replicas.every((r) => r.role === 'in-sync' && !avoid.includes(r.nodeId)),
    );
    return ok && (await tasks()).every((x) => x.state !== 'pending' && x.state !== 'running');
  };
  const holders = async () => {
    const count = new Map<string, number>();
    for (const v of await volumes()) {
      for (const r of v.replicas) count.set(r.nodeId, (count.get(r.nodeId) ?? 0) + 1);
    }
    return [...count].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
  };

  t.test('a silent node: down, replicas out of sync, replaced after the grace', async (t) => {
    const [victim] = (await holders())[0]!;
    const affected = (await volumes()).filter((v) => v.replicas.some((r) => r.nodeId === victim));
    alive.delete(victim);
    await waitFor(
      `${victim} marked down`,
      async () => (await get<{ state: string }>(`/v1/nodes/${victim}`)).state === 'down',
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    // The idle volumes' replicas leave the in-sync sets: degraded, honestly.
    const staleSince = new Map<string, number>();
    await waitFor(
      'every affected volume degraded with a stale record on the down node',
      async () => {
        for (const v of await volumes()) {
          const stale = v.staleReplicas.find((s) => s.nodeId === victim);
          if (stale && !staleSince.has(v.id)) staleSince.set(v.id, stale.since);
        }
        return staleSince.size === affected.length;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    await waitFor('replacements in sync, lost copies dropped', () => healthy([victim]), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    const moves = (await tasks()).filter((x) => x.kind === 'move' && x.sourceNodeId === victim);
    t.equal(moves.length, affected.length, 'one replacement per affected volume');
    for (const move of moves) {
      t.equal(move.state, 'succeeded');
      t.ok(
        move.createdAt - staleSince.get(move.volumeId!)! >= GRACE_MS,
        `${move.volumeId}: replaced ${move.createdAt - staleSince.get(move.volumeId!)!} ms after it went out of sync (grace ${GRACE_MS})`,
      );
    }
    t.equal(
      (await cluster.call(leader, 'DELETE', `/v1/nodes/${victim}`)).status,
      200,
      'the emptied down node can be removed',
    );
  });

  t.test('drain moves everything, two at a time, never below 3 in sync', async (t) => {
    const [drained] = (await holders())[0]!;
    await body(cluster, leader, 'POST', `/v1/nodes/${drained}/drain`, { reason: 'disk swap' });
    let maxMoves = 0;
    let minInSync = Infinity;
    await waitFor(
      `${drained} drained`,
      async () => {
        const open = (await tasks()).filter(
          (x) => x.kind === 'move' && (x.state === 'pending' || x.state === 'running'),
        );
        maxMoves = Math.max(maxMoves, open.length);
        for (const v of await volumes()) {
          minInSync = Math.min(minInSync, v.replicas.filter((r) => r.role === 'in-sync').length);
        }
        const drain = (await tasks()).find((x) => x.kind === 'drain' && x.nodeId === drained);
        return drain?.state === 'succeeded' && (await healthy([drained]));
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    t.ok(maxMoves <= 2, `at most 2 moves at once (saw ${maxMoves})`);
    t.equal(minInSync, 3, 'no volume went below its 3 in-sync replicas');
    const drain = (await tasks()).find((x) => x.kind === 'drain' && x.nodeId === drained)!;
    t.match(drain, { state: 'succeeded', message: /all replicas moved/ });
    t.equal(drain.doneBytes, drain.totalBytes);

    const [holder] = (await holders())[0]!;
    const refused = await cluster.call(leader, 'DELETE', `/v1/nodes/${holder}`);
    t.equal(refused.status, 409, 'a node holding replicas cannot be removed');
    t.match(refused.body, {
      code: 'CONFLICT',
      detail: /still holds replicas of 4 volume\(s\) \(a, b, c, d\); drain it first/,
      details: { volumeCount: 4 },
    });
    const removed = await cluster.call(leader, 'DELETE', `/v1/nodes/${drained}`);
    t.equal(removed.status, 200, 'the drained node is removed');
    t.match(removed.body, { state: 'removed' });
  });

  t.test('the kill switch stops rebalancing; switched on, a new node fills', async (t) => {
    await register('n6', 'z6');
    alive.add('n6');
    const ticks = async () => {
      const r = await fetch(`${cluster.urls.get(leader)!}/metrics`);
      const m = /ballast_meta_control_plan_seconds_count(?:\{[^}]*\})? (\d+)/.exec(await r.text());
      return Number(m?.[1] ?? 0);
    };
    const before = await ticks();
    await waitFor('3 control ticks on the leader', async () => (await ticks()) >= before + 3, {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    t.equal(
      (await holders()).find(([id]) => id === 'n6'),
      undefined,
      'nothing moved to n6',
    );
    t.notOk((await tasks()).some((x) => x.kind === 'move' && x.nodeId === 'n6'));

    await body(cluster, leader, 'PATCH', '/v1/settings', { rebalanceEnabled: true });
    await waitFor(
      'n6 holds replicas and every move finished',
      async () =>
        ((await holders()).find(([id]) => id === 'n6')?.[1] ?? 0) > 0 && (await healthy()),
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const counts = new Map(await holders());
    t.ok((counts.get('n6') ?? 0) >= 2, `n6 took ${counts.get('n6')} replicas`);
    t.ok(
      (await volumes()).every((v) => v.replicas.every((r) => r.usedBytes === v.sizeBytes)),
      "the map holds every replica's used bytes, from the heartbeats",
    );
    const metrics = await (await fetch(`${cluster.urls.get(leader)!}/metrics`)).text();
    t.match(
      metrics,
      /ballast_meta_control_commands_total\{[^}]*loop="rebalance",outcome="accepted"[^}]*\} [1-9]/,
    );
    t.ok(copied > 0, `the copiers promoted ${copied} rebuilds`);
  });
});
