// RaftMember in one process: real LevelDB directories, real WebSockets on loopback, real
// timers. Partitions come from the transport's fault hook (setBlockedPeers).
import t from 'tap';
import { waitFor } from '@ballast/testkit';
import { isMemberError } from '../src/errors.js';
import { RaftMember } from '../src/member.js';
import { encodeKvCommand } from './fixtures/kv-state-machine.js';
import { KvStateMachine } from './fixtures/kv-state-machine.js';
import { LocalCluster, SECRET } from './fixtures/local-cluster.js';

async function histogramCount(h: {
  get(): Promise<{ values: Array<{ metricName?: string; value: number }> }>;
}): Promise<{ count: number; sum: number }> {
  const { values } = await h.get();
  let count = 0;
  let sum = 0;
  for (const v of values) {
    if (v.metricName?.endsWith('_count')) count += v.value;
    if (v.metricName?.endsWith('_sum')) sum += v.value;
  }
  return { count, sum };
}

t.test('proposals, not-leader hints, linearizable reads on every member', async (t) => {
  const c = new LocalCluster(t);
  await c.startAll(['m1', 'm2', 'm3']);
  const leader = await c.leader();
  const result = await c.put(leader, 'a', '1');
  t.same(result, { ok: true, prev: null }, 'resolves with the state machine result');
  t.same(await c.put(leader, 'a', '2'), { ok: true, prev: '1' });

  const follower = c.running().find((m) => m !== leader)!;
  const err = await c.put(follower, 'a', 'x').catch((e: unknown) => e);
  t.ok(isMemberError(err, 'not-leader'), 'a follower refuses proposals');
  t.same((err as { details: Record<string, unknown> }).details['leader'], {
    id: leader.id,
    api: `http://api-of-${leader.id}`,
  });
  t.equal((err as { code: string }).code, 'UNAVAILABLE');

  for (const m of c.running()) {
    await m.readBarrier();
    const sm = c.members.get(m.id)!.sm;
    t.equal(sm.data.get('a'), '2', `${m.id} reads the latest value after a barrier`);
  }
  const st = leader.status();
  t.equal(st.role, 'leader');
  t.equal(st.members.length, 3);
  t.ok(st.members.every((m) => m.suffrage === 'voter' && m.apiUrl.startsWith('http://api-of-')));
  t.ok(st.commitIndex >= 5, 'bootstrap entries + leader entry + 2 commands');
  await t.rejects(leader.propose(new Uint8Array(0)), { code: 'INVALID_ARGUMENT' });
  await t.rejects(leader.propose(new Uint8Array(2 * 1024 * 1024)), { code: 'TOO_LARGE' });
});

t.test('concurrent proposals share disk writes (group commit)', async (t) => {
  const c = new LocalCluster(t);
  await c.startAll(['m1', 'm2', 'm3']);
  const leader = await c.leader();
  await c.put(leader, 'warm', 'up');
  const before = await histogramCount(leader.metrics.entriesPerBatch);
  const n = 200;
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) => c.put(leader, `k${i}`, `v${i}`)),
  );
  t.equal(results.filter((r) => r.ok).length, n, 'all proposals applied');
  const after = await histogramCount(leader.metrics.entriesPerBatch);
  const writes = after.count - before.count;
  const entries = after.sum - before.sum;
  t.ok(entries >= n, `${entries} entries written`);
  t.ok(writes < n / 4, `${n} proposals made durable in ${writes} batch writes`);
  t.comment(`group commit: ${n} proposals in ${writes} writes`);
});

t.test('a proposal overwritten by a new leader rejects; it never resolves', async (t) => {
  const c = new LocalCluster(t);
  await c.startAll(['m1', 'm2', 'm3']);
  const old = await c.leader();
  await c.put(old, 'k', 'before');
  const others = c.running().filter((m) => m !== old);
  // Partition the leader from both followers, both ways.
  old.transport.setBlockedPeers(others.map((m) => m.id));
  for (const m of others) m.transport.setBlockedPeers([old.id]);
  const doomed = c.put(old, 'k', 'lost').then(
    () => 'resolved',
    (e: unknown) => e,
  );
  const timedOut = old
    .propose(encodeKvCommand({ op: 'put', key: 'k', value: 'lost2' }), { timeoutMs: 300 })
    .catch((e: unknown) => e);
  t.ok(isMemberError(await timedOut, 'timeout'), 'a proposal without a quorum times out');
  const fresh = await c.leader(others);
  t.not(fresh.id, old.id);
  await c.put(fresh, 'k', 'after');
  // Heal: the old leader's entry at that index is replaced by the new leader's.
  old.transport.setBlockedPeers([]);
  for (const m of others) m.transport.setBlockedPeers([]);
  const outcome = await doomed;
  t.ok(
    isMemberError(outcome, 'proposal-dropped'),
    `the overwritten proposal rejected: ${String(outcome)}`,
  );
  await c.converged();
  for (const lm of c.members.values())
    t.equal(lm.sm.data.get('k'), 'after', `${lm.id} never applied it`);
});

t.test('membership: add a learner, catch up from a snapshot, promote, remove', async (t) => {
  const c = new LocalCluster(t, { snapshotEveryEntries: 40, keepEntriesAfterSnapshot: 5 });
  await c.startAll(['m1', 'm2', 'm3']);
  await c.define(['m4']);
  let leader = await c.leader();
  for (let i = 0; i < 100; i++) await c.put(leader, `k${i % 10}`, `v${i}`);
  t.ok(leader.status().snapshotIndex > 0, 'the leader took snapshots');
  t.ok(leader.status().firstIndex > 1, 'and compacted its log');

  // m4 starts empty, knowing the founding members; the leader learns m4's address from the
  // conf change context.
  const m4 = await c.start('m4', { peers: { ...c.peers } });
  const founding = Object.fromEntries(Object.entries(c.peers).filter(([id]) => id !== 'm4'));
  t.ok(founding);
  const conf = await leader.addLearner('m4', c.peers['m4']!);
  t.same(conf.learners, ['m4']);
  await waitFor('m4 catches up', () => m4.status().appliedIndex >= leader.status().commitIndex, {
    timeoutMs: 30_000,
  });
  t.equal(m4.status().role, 'learner');
  t.ok(m4.status().snapshotIndex > 0, 'm4 caught up through a snapshot');
  await m4.readBarrier();
  t.same(c.members.get('m4')!.sm.sorted(), c.members.get(leader.id)!.sm.sorted(), 'same data');

  const promoted = await leader.promote('m4');
  t.ok(promoted.voters.includes('m4'));
  t.same(promoted.learners, []);
  // Remove one of the founders (maybe the leader itself).
  const victim = 'm1';
  leader = await c.leader();
  const afterRemove = await leader.removeMember(victim);
  t.notOk(afterRemove.voters.includes(victim));
  await c.stop(victim);
  leader = await c.leader();
  await c.put(leader, 'after-remove', 'yes');
  await c.converged();
  for (const m of c.running()) {
    t.same(m.membership().voters.sort(), ['m2', 'm3', 'm4'], `${m.id} sees the new voters`);
  }
  // Bad requests change nothing.
  await t.rejects(leader.addLearner('bad id!', { peerUrl: 'ws://x/raft' }), {
    code: 'INVALID_ARGUMENT',
  });
  await t.rejects(leader.addLearner('m9', { peerUrl: 'http://not-ws' }), {
    code: 'INVALID_ARGUMENT',
  });
  await t.rejects(leader.removeMember('m9'), { code: 'INVALID_ARGUMENT' });
});

t.test('leadership transfer', async (t) => {
  const c = new LocalCluster(t);
  await c.startAll(['m1', 'm2', 'm3']);
  const leader = await c.leader();
  const target = c.running().find((m) => m !== leader)!;
  await leader.transferLeadership(target.id);
  const now = await c.leader();
  t.equal(now.id, target.id);
  t.same(await c.put(now, 'x', '1'), { ok: true, prev: null });
});

t.test('restart of all members: state comes back from snapshot and log', async (t) => {
  const c = new LocalCluster(t, { snapshotEveryEntries: 25, keepEntriesAfterSnapshot: 3 });
  await c.startAll(['m1', 'm2', 'm3']);
  const leader = await c.leader();
  for (let i = 0; i < 60; i++) await c.put(leader, `k${i}`, `v${i}`);
  await c.converged();
  const before = c.members.get('m1')!.sm.sorted();
  for (const id of ['m1', 'm2', 'm3']) await c.stop(id);
  for (const id of ['m1', 'm2', 'm3']) await c.start(id, { initialVoters: ['m1', 'm2', 'm3'] });
  const again = await c.leader();
  await again.readBarrier();
  t.same(c.members.get(again.id)!.sm.sorted(), before, 'every acknowledged write is back');
  t.same(await c.put(again, 'k0', 'new'), { ok: true, prev: 'v0' });
  await c.converged();
});

t.test('a data dir of another cluster or member is refused', async (t) => {
  const c = new LocalCluster(t);
  await c.startAll(['m1']);
  await c.leader();
  await c.stop('m1');
  const lm = c.members.get('m1')!;
  const err = await RaftMember.open({
    clusterId: 'another',
    memberId: 'm1',
    dataDir: lm.dir,
    secret: SECRET,
    peers: c.peers,
    stateMachine: new KvStateMachine(),
    logger: c.logger,
  }).catch((e: unknown) => e);
  t.ok(isMemberError(err, 'wrong-data-dir'), String(err));
  // The dir is intact.
  const m = await c.start('m1');
  await c.leader();
  t.same(await c.put(m, 'still', 'here'), { ok: true, prev: null });
});

t.test('single member cluster commits alone; close rejects pending work', async (t) => {
  const c = new LocalCluster(t);
  await c.startAll(['solo']);
  const m = await c.leader();
  t.same(await c.put(m, 'a', 'b'), { ok: true, prev: null });
  await m.readBarrier();
  await c.stop('solo');
  const proposeErr = await m
    .propose(encodeKvCommand({ op: 'put', key: 'a', value: 'c' }))
    .catch((e: unknown) => e);
  t.ok(isMemberError(proposeErr, 'stopped'), 'proposal after close rejects with stopped');
  t.ok(isMemberError(await m.readBarrier().catch((e: unknown) => e), 'stopped'), 'so does a read');
});

t.test('reads on a cut-off follower fail within their bound; metrics and events', async (t) => {
  const c = new LocalCluster(t, { readTimeoutMs: 600, readRetryMs: 200 });
  await c.startAll(['m1', 'm2', 'm3']);
  const leader = await c.leader();
  const applied: number[] = [];
  leader.on('applied', (e: { index: number }) => applied.push(e.index));
  await c.put(leader, 'a', '1');
  t.ok(applied.length >= 1, 'applied events are emitted');
  t.equal(applied[applied.length - 1], leader.status().appliedIndex);

  const follower = c.running().find((m) => m !== leader)!;
  const others = c.running().filter((m) => m !== follower);
  follower.transport.setBlockedPeers(others.map((m) => m.id));
  for (const m of others) m.transport.setBlockedPeers([follower.id]);
  const err = await follower.readBarrier().catch((e: unknown) => e);
  t.ok(
    isMemberError(err, 'read-timeout') ||
      isMemberError(err, 'not-leader') ||
      isMemberError(err, 'read-rejected'),
    `a read that cannot reach the leader fails: ${String(err)}`,
  );
  follower.transport.setBlockedPeers([]);
  for (const m of others) m.transport.setBlockedPeers([]);
  await waitFor('the follower reads again', () =>
    follower.readBarrier().then(
      () => true,
      () => false,
    ),
  );

  const text = await leader.metrics.registry.metrics();
  for (const name of [
    'ballast_raft_term',
    'ballast_raft_is_leader 1',
    'ballast_raft_commit_index',
    'ballast_raft_applied_index',
    'ballast_raft_disk_write_seconds_bucket',
    'ballast_raft_entries_per_batch_bucket',
    'ballast_raft_proposals_committed_total 1',
    'ballast_raft_peer_queue_messages{peer=',
    'ballast_raft_peer_dropped_messages_total{peer=',
  ]) {
    t.ok(text.includes(name), `metrics expose ${name}`);
  }
  await t.rejects(leader.transferLeadership('nobody'), { code: 'INVALID_ARGUMENT' });
});

t.test(
  'strict persist-then-send mode (leaderSendsBeforePersist: false) works the same',
  async (t) => {
    const c = new LocalCluster(t, { leaderSendsBeforePersist: false });
    await c.startAll(['m1', 'm2', 'm3']);
    const leader = await c.leader();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => c.put(leader, `k${i % 5}`, `v${i}`)),
    );
    t.equal(results.filter((r) => r.ok).length, 50);
    await c.converged();
    t.same(c.members.get('m1')!.sm.sorted(), c.members.get('m3')!.sm.sorted());
  },
);
