// The long run (npm run test:e2e): a random schedule of faults against 3 (then 4) kv-server
// processes under concurrent clients for a bounded time, then the same end checks as the
// default suite: agreement, every acknowledged write present, a linearizable history.
//
//   RAFT_NODE_NEMESIS_SEED=123 RAFT_NODE_NEMESIS_FAULTS=30 npm run test:e2e -w @ballast/raft-node
//
// The seed picks the faults and their order (printed); process timing is real, so a seed
// replays the schedule, not the exact interleaving.
import t from 'tap';
import { SeededRng } from '@ballast/raft';
import { waitFor } from '@ballast/testkit';
import { http } from '../fixtures/kv-cluster.js';
import { KvWorkload } from '../fixtures/kv-workload.js';
import { clusterForTest, verifyCluster } from '../fixtures/verify.js';

const seed = Number(process.env.RAFT_NODE_NEMESIS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const faults = Number(process.env.RAFT_NODE_NEMESIS_FAULTS ?? 24);

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

t.test(`nemesis: ${faults} faults, seed ${seed}`, async (t) => {
  t.comment(`replay the schedule with RAFT_NODE_NEMESIS_SEED=${seed}`);
  const rng = new SeededRng(seed);
  const cluster = clusterForTest(t, 'nemesis', {
    tickMs: 50,
    electionTicks: 10,
    snapshotEveryEntries: 250,
    keepEntriesAfterSnapshot: 40,
    snapshotChunkBytes: 512,
    pingIntervalMs: 500,
    proposalTimeoutMs: 2500,
  });
  let members = ['m1', 'm2', 'm3'];
  await cluster.startAll(members);
  await cluster.define(['m4']);
  let spare: string | undefined = 'm4';
  await cluster.leader();
  const workload = new KvWorkload(cluster, {
    clients: 8,
    sharedKeys: 16,
    maxOps: 60_000,
    thinkMs: 20,
  });
  workload.start();

  const kinds = [
    'kill-leader',
    'kill-one',
    'pause-one',
    'kill-all',
    'transfer',
    'membership',
  ] as const;
  for (let i = 0; i < faults; i++) {
    const kind = rng.pick(kinds);
    const leader = await cluster.leader(members, 60_000);
    const victim = rng.pick(members);
    t.comment(`fault ${i + 1}/${faults}: ${kind} (leader ${leader}, victim ${victim})`);
    switch (kind) {
      case 'kill-leader':
        await cluster.node(leader).proc.kill();
        await sleep(rng.intBetween(500, 2500));
        await cluster.start(leader);
        break;
      case 'kill-one':
        await cluster.node(victim).proc.kill();
        await sleep(rng.intBetween(200, 2000));
        await cluster.start(victim);
        break;
      case 'pause-one':
        cluster.node(victim).proc.pause();
        await sleep(rng.intBetween(500, 4000));
        cluster.node(victim).proc.resume();
        break;
      case 'kill-all':
        await cluster.stopAll();
        await Promise.all(members.map((id) => cluster.start(id)));
        break;
      case 'transfer': {
        const to = rng.pick(members.filter((m) => m !== leader));
        await http(
          'POST',
          `${cluster.node(leader).api}/transfer`,
          JSON.stringify({ to }),
          5000,
        ).catch(() => undefined);
        break;
      }
      case 'membership': {
        // Swap one member out: add the spare as a learner, promote it, remove the victim.
        if (spare === undefined) break;
        const joining = spare;
        const addr = cluster.peers[joining]!;
        await cluster.start(joining);
        const api = cluster.node(leader).api;
        const add = await http(
          'POST',
          `${api}/members`,
          JSON.stringify({
            action: 'add-learner',
            id: joining,
            peerUrl: addr.peerUrl,
            apiUrl: addr.apiUrl,
          }),
          5000,
        ).catch(() => undefined);
        if (add?.status !== 200) {
          await cluster.node(joining).proc.kill();
          break;
        }
        await waitFor(
          `${joining} catches up`,
          async () => {
            const [s, l] = await Promise.all([cluster.status(joining), cluster.status(leader)]);
            return s.appliedIndex >= l.commitIndex - 20;
          },
          { timeoutMs: 60_000, intervalMs: 200 },
        );
        const promote = await http(
          'POST',
          `${api}/members`,
          JSON.stringify({ action: 'promote', id: joining }),
          5000,
        );
        t.equal(promote.status, 200, `promoted ${joining}`);
        const current = await cluster.leader([...members, joining], 60_000);
        const removed = await http(
          'POST',
          `${cluster.node(current).api}/members`,
          JSON.stringify({ action: 'remove', id: victim }),
          5000,
        );
        t.equal(removed.status, 200, `removed ${victim}`);
        members = [...members.filter((m) => m !== victim), joining];
        await cluster.leader(members, 60_000);
        await cluster.node(victim).proc.kill();
        spare = undefined; // a removed member's id is never reused
        break;
      }
    }
    await sleep(rng.intBetween(500, 2000));
  }
  await verifyCluster(t, cluster, workload, members);
});
