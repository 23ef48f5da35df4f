// Longer run for `npm run test:e2e -w @ballast/meta`: a seeded random schedule of faults against
// 3 real `ballastd meta` members under 6 clients (SIGKILL the leader, SIGKILL any member, SIGSTOP
// one for a while, SIGKILL all and restart, swap a member through the membership API), then the
// same agreement and linearizability checks as the default process test.
// META_NEMESIS_SEED replays a schedule; META_NEMESIS_FAULTS sets its length (default 16).
import t from 'tap';
import { waitFor } from '@ballast/testkit';
import { checkAgreementAndHistory } from '../helpers/checks.js';
import { keepNodesAlive, registerFakeNodes } from '../helpers/fake-nodes.js';
import { metaFleet, startMetaCluster } from '../helpers/real-cluster.js';
import { VolumeWorkload, seededRandom } from '@ballast/testkit';

type Fault = 'kill-leader' | 'kill-one' | 'pause-one' | 'kill-all' | 'swap-member';
const FAULTS: Fault[] = ['kill-leader', 'kill-one', 'pause-one', 'kill-all', 'swap-member'];

t.test('seeded fault schedule under concurrent clients', async (t) => {
  const seed = Number(process.env.META_NEMESIS_SEED ?? Date.now() % 1_000_000);
  const faults = Number(process.env.META_NEMESIS_FAULTS ?? 16);
  t.comment(`nemesis seed ${seed} (replay with META_NEMESIS_SEED=${seed})`);
  const random = seededRandom(seed);
  const fleet = metaFleet(t, 'meta-nemesis-');
  const cluster = await startMetaCluster(fleet, 3);
  const members = new Set(cluster.urls.keys());
  const live = () =>
    [...members].filter((id) => cluster.proc(id).running && !cluster.proc(id).paused);
  await registerFakeNodes(cluster, await cluster.waitForLeader());
  const stopHeartbeats = keepNodesAlive(cluster, live);
  t.teardown(stopHeartbeats);
  const workload = new VolumeWorkload({ cluster, targets: live, names: 48, seed, prefix: 'nv' });
  let failed = true;
  t.teardown(() => {
    if (failed) t.comment(`history (last 400 operations):\n${workload.describeHistory()}`);
  });
  const progress = async (ops: number, what: string) => {
    const target = workload.completed + ops;
    await waitFor(
      `${ops} more completed operations (${what})`,
      () => workload.completed >= target,
      {
        timeoutMs: 60_000,
      },
    );
  };
  workload.start(6);
  await progress(30, 'healthy');
  let nextId = 4;

  for (let i = 0; i < faults; i++) {
    const fault = FAULTS[Math.floor(random() * FAULTS.length)]!;
    const leader = await cluster.waitForLeader([...members]);
    const pick = () => {
      const ids = [...members];
      return ids[Math.floor(random() * ids.length)]!;
    };
    t.comment(`fault ${i + 1}/${faults}: ${fault} (leader ${leader})`);
    switch (fault) {
      case 'kill-leader':
      case 'kill-one': {
        const victim = fault === 'kill-leader' ? leader : pick();
        await cluster.proc(victim).kill();
        await progress(20, `${victim} down`);
        await cluster.proc(victim).start();
        break;
      }
      case 'pause-one': {
        const victim = pick();
        cluster.proc(victim).pause();
        await progress(20, `${victim} stopped`);
        cluster.proc(victim).resume();
        break;
      }
      case 'kill-all': {
        const ids = [...members];
        await Promise.all(ids.map((id) => cluster.proc(id).kill()));
        await Promise.all(ids.map((id) => cluster.proc(id).start()));
        break;
      }
      case 'swap-member': {
        // Add a fresh member, then remove a random old one (the leader, sometimes).
        const id = `m${nextId++}`;
        const url = await cluster.startJoiner(id);
        const add = await cluster.call(
          leader,
          'POST',
          '/v1/cluster/members',
          { id, api: url },
          40_000,
        );
        t.equal(add.status, 200, `add ${id}: ${JSON.stringify(add.body)}`);
        if (add.status !== 200) break;
        members.add(id);
        const victim = pick();
        members.delete(victim);
        const via = [...members][0]!;
        await cluster.waitForLeader([...members]);
        const del = await cluster.call(
          via,
          'DELETE',
          `/v1/cluster/members/${victim}`,
          undefined,
          30_000,
        );
        t.equal(del.status, 200, `remove ${victim}: ${JSON.stringify(del.body)}`);
        await cluster.proc(victim).stop();
        break;
      }
    }
    await cluster.waitForLeader([...members]);
    await progress(20, `after ${fault}`);
  }

  await workload.stop();
  await stopHeartbeats();
  const finalLeader = await cluster.waitForLeader([...members]);
  await checkAgreementAndHistory(t, cluster, [...members], finalLeader, workload);
  failed = !t.passing();
});
