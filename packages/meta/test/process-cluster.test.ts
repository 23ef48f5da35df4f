// Real `ballastd meta` processes on loopback: concurrent REST clients while the leader is
// SIGKILLed, a follower SIGSTOPped, a member added and the leader removed through the API, and
// every member SIGKILLed and restarted. Afterwards every member holds the same map and the
// recorded history is linearizable under the per-volume-name model (acknowledged writes
// included: each name is read at the end).
import t from 'tap';
import { waitFor } from '@ballast/testkit';
import { keepNodesAlive, registerFakeNodes } from './helpers/fake-nodes.js';
import { checkAgreementAndHistory } from './helpers/checks.js';
import { metaFleet, startMetaCluster } from './helpers/real-cluster.js';
import { VolumeWorkload } from '@ballast/testkit';

interface ClusterBody {
  members: Array<{ id: string; role: string; api: string }>;
  leader: string | null;
}

t.test('3 members under concurrent clients: kill, pause, add, remove, restart all', async (t) => {
  const fleet = metaFleet(t, 'meta-process-');
  const cluster = await startMetaCluster(fleet, 3);
  const removed = new Set<string>();
  const live = (): string[] =>
    [...cluster.urls.keys()].filter((id) => {
      if (removed.has(id)) return false;
      const p = cluster.proc(id);
      return p.running && !p.paused;
    });

  const first = await cluster.waitForLeader();
  await registerFakeNodes(cluster, first);
  const stopHeartbeats = keepNodesAlive(cluster, live);
  t.teardown(stopHeartbeats);

  const seed = Number(process.env.META_PROCESS_SEED ?? Date.now() % 1_000_000);
  t.comment(`workload seed ${seed} (replay with META_PROCESS_SEED=${seed})`);
  const workload = new VolumeWorkload({ cluster, targets: live, names: 40, seed, prefix: 'vol' });
  const progress = async (ops: number, what: string): Promise<void> => {
    const target = workload.completed + ops;
    await waitFor(
      `${ops} more completed operations (${what})`,
      () => workload.completed >= target,
      {
        timeoutMs: 45_000,
      },
    );
  };
  let failed = true;
  t.teardown(() => {
    if (failed) t.comment(`history (last 400 operations):\n${workload.describeHistory()}`);
  });
  workload.start(4);
  await progress(40, 'healthy');

  // 1. SIGKILL the leader; the other two carry on; it comes back and catches up.
  const leader1 = await cluster.waitForLeader();
  await cluster.proc(leader1).kill();
  await progress(40, `after killing leader ${leader1}`);
  await cluster.proc(leader1).start();
  await progress(20, `after restarting ${leader1}`);

  // 2. SIGSTOP a follower for a while, then SIGCONT.
  const leader2 = await cluster.waitForLeader();
  const follower = live().find((id) => id !== leader2)!;
  cluster.proc(follower).pause();
  await progress(40, `while ${follower} is stopped`);
  cluster.proc(follower).resume();

  // 3. Add m4 through a follower's API (forwarded to the leader): learner, catch-up, voter.
  const m4Url = await cluster.startJoiner('m4');
  const via = live().find((id) => id !== leader2 && id !== 'm4') ?? leader2;
  const added = await cluster.call(
    via,
    'POST',
    '/v1/cluster/members',
    { id: 'm4', api: m4Url },
    40_000,
  );
  t.equal(added.status, 200, `add m4: ${JSON.stringify(added.body)}`);
  const afterAdd = added.body as ClusterBody;
  t.ok(
    afterAdd.members.some((m) => m.id === 'm4' && m.role !== 'learner'),
    'm4 is a voter after the add',
  );
  await progress(30, 'with m4 as a voter');

  // 4. Remove the current leader through the API: it commits its removal and steps down.
  const leader3 = await cluster.waitForLeader();
  removed.add(leader3);
  const other = live()[0]!;
  const gone = await cluster.call(
    other,
    'DELETE',
    `/v1/cluster/members/${leader3}`,
    undefined,
    30_000,
  );
  t.equal(gone.status, 200, `remove ${leader3}: ${JSON.stringify(gone.body)}`);
  await waitFor(`a cluster view without ${leader3}`, async () => {
    const r = await cluster.call(live()[0]!, 'GET', '/v1/cluster', undefined, 2_000);
    const b = r.body as ClusterBody;
    return r.status === 200 && b.leader !== null && !b.members.some((m) => m.id === leader3);
  });
  await cluster.proc(leader3).stop();
  await progress(40, `after removing ${leader3}`);

  // 5. SIGKILL every member, start them all again.
  const remaining = live();
  t.equal(remaining.length, 3, 'three members remain');
  await Promise.all(remaining.map((id) => cluster.proc(id).kill()));
  await Promise.all(remaining.map((id) => cluster.proc(id).start()));
  await cluster.waitForLeader(remaining);
  await progress(40, 'after restarting every member');

  await workload.stop();
  await stopHeartbeats();
  const finalLeader = await cluster.waitForLeader(remaining);

  await checkAgreementAndHistory(t, cluster, remaining, finalLeader, workload);
  failed = !t.passing();
});
