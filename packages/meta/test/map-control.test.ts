// The map commands and task semantics the control loops rely on: markReplicaLost, rejoining a
// whole copy, rebuild/move task life cycles, the drain task, and the bounded task history.
import t from 'tap';
import { MAX_FINISHED_TASKS, type ApplyResult } from '../src/index.js';
import { MapHarness } from './helpers/map-harness.js';

function code(r: ApplyResult): string {
  return r.ok ? 'OK' : r.error.code;
}

function cluster(): MapHarness {
  const h = new MapHarness();
  for (const [i, zone] of ['a', 'b', 'c', 'd'].entries()) {
    h.addNode(`n${i + 1}`, { zone, host: `h${i + 1}` });
  }
  return h;
}

t.test('markReplicaLost: only idle volumes, only down nodes, never the last copy', async (t) => {
  const h = cluster();
  h.createVolume('v', ['n1', 'n2']);
  const lost = {
    type: 'markReplicaLost',
    volumeId: 'vol-v',
    nodeId: 'n2',
    epoch: 0,
    reason: 'x',
  } as const;
  t.equal(code(h.apply(lost)), 'CONFLICT', 'n2 is up');
  h.ok({ type: 'setNodeState', nodeId: 'n2', action: 'down' });
  t.equal(code(h.apply({ ...lost, epoch: 1 })), 'FENCED', 'not the volume epoch');
  h.ok({ type: 'attachVolume', volumeId: 'vol-v', host: 'd', force: false });
  t.equal(code(h.apply({ ...lost, epoch: 1 })), 'CONFLICT', 'attached: the engine decides');
  h.ok({ type: 'detachVolume', volumeId: 'vol-v', host: 'd', epoch: 1, force: false });
  h.ok({ ...lost, epoch: 1 });
  const v = h.volume('v');
  t.same(
    v.replicas.map((r) => r.nodeId),
    ['n1'],
  );
  t.match(v.staleReplicas, [{ nodeId: 'n2', epoch: 1, idle: true }]);
  t.equal(h.ok({ ...lost, epoch: 1 }).changed, false, 'a repeat is a no-op');
  h.ok({ type: 'setNodeState', nodeId: 'n1', action: 'down' });
  const last = h.apply({ ...lost, nodeId: 'n1', epoch: 1 });
  t.equal(code(last), 'CONFLICT');
  t.match(last.ok ? '' : last.error.message, /last in-sync replica/);
  t.equal(code(h.apply({ ...lost, nodeId: 'n3', epoch: 1 })), 'NOT_FOUND');
});

t.test('a copy that left an idle volume rejoins whole, unless a writer came since', async (t) => {
  const h = cluster();
  h.createVolume('v', ['n1', 'n2']);
  h.ok({ type: 'setNodeState', nodeId: 'n2', action: 'down' });
  h.ok({ type: 'markReplicaLost', volumeId: 'vol-v', nodeId: 'n2', epoch: 0, reason: 'down' });
  h.ok({ type: 'setNodeState', nodeId: 'n2', action: 'up' });
  h.ok({ type: 'addReplica', volumeId: 'vol-v', nodeId: 'n2' });
  t.match(h.volume('v').replicas, [
    { nodeId: 'n1', role: 'in-sync' },
    { nodeId: 'n2', role: 'in-sync' },
  ]);
  t.equal(h.volume('v').state, 'healthy');
  t.same(h.map.listTasks(), [], 'nothing to copy, no task');

  // Lost again; then an attach (a writer) before it returns: a rebuild is needed.
  h.ok({ type: 'setNodeState', nodeId: 'n2', action: 'down' });
  h.ok({ type: 'markReplicaLost', volumeId: 'vol-v', nodeId: 'n2', epoch: 0, reason: 'down' });
  h.ok({ type: 'attachVolume', volumeId: 'vol-v', host: 'd', force: false });
  h.ok({ type: 'detachVolume', volumeId: 'vol-v', host: 'd', epoch: 1, force: false });
  h.ok({ type: 'setNodeState', nodeId: 'n2', action: 'up' });
  h.ok({ type: 'addReplica', volumeId: 'vol-v', nodeId: 'n2' });
  t.match(h.volume('v').replicas.at(-1), { nodeId: 'n2', role: 'rebuilding' });
  t.match(h.map.listTasks(), [
    { kind: 'rebuild', nodeId: 'n2', sourceNodeId: 'n1', message: /delta rebuild.*epoch 0/ },
  ]);

  // An engine's out-of-sync mark is never whole, even at the same epoch after a clean detach.
  const g = cluster();
  g.createVolume('w', ['n1', 'n2']);
  g.ok({ type: 'attachVolume', volumeId: 'vol-w', host: 'd', force: false });
  g.ok({ type: 'markReplicaOutOfSync', volumeId: 'vol-w', nodeId: 'n2', epoch: 1, reason: 'io' });
  g.ok({ type: 'detachVolume', volumeId: 'vol-w', host: 'd', epoch: 1, force: false });
  t.notOk('idle' in g.volume('w').staleReplicas[0]!);
  g.ok({ type: 'addReplica', volumeId: 'vol-w', nodeId: 'n2' });
  t.match(g.volume('w').replicas.at(-1), { nodeId: 'n2', role: 'rebuilding' });
});

t.test('rebuild and move tasks follow their replicas', async (t) => {
  const h = cluster();
  h.createVolume('v', ['n1', 'n2']);
  h.ok({ type: 'addReplica', volumeId: 'vol-v', nodeId: 'n3', replacing: 'n2', taskId: 'r1' });
  t.match(h.task('r1'), { kind: 'rebuild', nodeId: 'n3', sourceNodeId: 'n2', state: 'pending' });
  const move = h.map.listTasks().find((x) => x.kind === 'move')!;
  t.match(move, { nodeId: 'n3', sourceNodeId: 'n2', state: 'pending' });
  t.equal(
    code(h.apply({ type: 'addReplica', volumeId: 'vol-v', nodeId: 'n4', taskId: 'r1' })),
    'CONFLICT',
    'a task id in use',
  );
  t.equal(
    code(h.apply({ type: 'addReplica', volumeId: 'vol-v', nodeId: 'n3', replacing: 'n3' })),
    'CONFLICT',
  );

  h.ok({ type: 'updateTask', taskId: 'r1', doneBytes: 512 * 1024 * 1024 });
  t.match(h.task(move.id), { state: 'running', doneBytes: 512 * 1024 * 1024 }, 'mirrored');

  // The target fails a write: out of the set, its tasks cancelled.
  h.ok({ type: 'attachVolume', volumeId: 'vol-v', host: 'd', force: false });
  h.ok({ type: 'markReplicaOutOfSync', volumeId: 'vol-v', nodeId: 'n3', epoch: 1, reason: 'io' });
  t.match(h.task('r1'), { state: 'cancelled', message: /left the set: io/ });
  t.match(h.task(move.id), { state: 'cancelled' });

  // Again, to completion: promote finishes the rebuild; removing the origin ends the move.
  h.ok({ type: 'addReplica', volumeId: 'vol-v', nodeId: 'n3', replacing: 'n2', taskId: 'r2' });
  h.ok({ type: 'promoteReplica', volumeId: 'vol-v', nodeId: 'n3', epoch: 1 });
  t.match(h.task('r2'), { state: 'succeeded', doneBytes: h.task('r2').totalBytes });
  const move2 = h.map.listTasks().find((x) => x.kind === 'move' && x.state === 'running')!;
  t.ok(move2, 'the move waits for its origin to go');
  h.ok({ type: 'removeReplica', volumeId: 'vol-v', nodeId: 'n2', force: false });
  t.match(h.task(move2.id), { state: 'succeeded', message: /moved from n2 to n3/ });
});

t.test('the drain task: created with the drain, one per node, ends with it', async (t) => {
  const h = cluster();
  h.createVolume('v', ['n1', 'n2']);
  h.ok({ type: 'setNodeState', nodeId: 'n1', action: 'drain' });
  const drain = h.map.listTasks().find((x) => x.kind === 'drain')!;
  t.match(drain, { nodeId: 'n1', state: 'pending', totalBytes: 1024 ** 3 });
  t.equal(
    code(h.apply({ type: 'createTask', taskId: 'd2', kind: 'drain', nodeId: 'n1', totalBytes: 0 })),
    'CONFLICT',
    'one open drain task per node',
  );
  h.ok({ type: 'deleteVolume', volumeId: 'vol-v' });
  t.match(h.task(drain.id), { state: 'succeeded', message: /all replicas moved off n1/ });
  // An empty node's drain is done at once.
  h.ok({ type: 'setNodeState', nodeId: 'n3', action: 'drain' });
  t.match(
    h.map.listTasks().find((x) => x.kind === 'drain' && x.nodeId === 'n3'),
    { state: 'succeeded', message: 'nothing to move' },
  );
});

t.test('tasks finished by other commands count towards the bounded history', async (t) => {
  const h = cluster();
  h.createVolume('v', ['n1']);
  for (let i = 0; i < MAX_FINISHED_TASKS + 5; i++) {
    h.ok({ type: 'addReplica', volumeId: 'vol-v', nodeId: 'n2' });
    h.ok({ type: 'removeReplica', volumeId: 'vol-v', nodeId: 'n2', force: false });
  }
  const finished = h.map.listTasks().filter((x) => x.finishedAt !== null);
  t.equal(finished.length, MAX_FINISHED_TASKS);
  t.ok(finished.every((x) => x.state === 'cancelled'));
  t.notOk(h.map.getTask('rebuild-3'), 'the oldest went first');
});

t.test(
  'replica incarnations (D17): new on every entry to the set and every demotion',
  async (t) => {
    const h = cluster();
    h.createVolume('v', ['n1', 'n2', 'n3']);
    const inc = (nodeId: string): number | undefined => {
      const v = h.volume('v');
      return (
        v.replicas.find((r) => r.nodeId === nodeId)?.incarnation ??
        v.staleReplicas.find((r) => r.nodeId === nodeId)?.incarnation
      );
    };
    const created = inc('n1')!;
    t.ok(created > 0, 'createVolume gives every replica an incarnation');
    t.equal(inc('n2'), created);
    h.ok({ type: 'attachVolume', volumeId: 'vol-v', host: 'd', force: false });
    const out = {
      type: 'markReplicaOutOfSync',
      volumeId: 'vol-v',
      nodeId: 'n2',
      epoch: 1,
      incarnation: created,
      reason: 'io',
    } as const;
    t.equal(
      code(h.apply({ ...out, incarnation: created + 1000 })),
      'INVALID_ARGUMENT',
      'an incarnation newer than the map is refused',
    );
    h.ok(out);
    const demoted = inc('n2')!;
    t.ok(demoted > created, `the stale copy gets a newer incarnation (${demoted})`);
    h.ok({ type: 'addReplica', volumeId: 'vol-v', nodeId: 'n2' });
    const back = inc('n2')!;
    t.ok(back > demoted, `taken back: newer again (${back})`);
    // The engine's retry of its first report (its answer was lost) must not drop the new copy.
    t.equal(h.ok(out).changed, false, 'an out-of-sync report for the old incarnation is a no-op');
    t.match(h.volume('v').replicas.at(-1), { nodeId: 'n2', role: 'rebuilding', incarnation: back });
    // A rebuild that copied to an earlier incarnation is not promoted.
    const promote = {
      type: 'promoteReplica',
      volumeId: 'vol-v',
      nodeId: 'n2',
      epoch: 1,
      incarnation: created,
    } as const;
    t.equal(code(h.apply(promote)), 'CONFLICT', 'promotion of another incarnation is refused');
    h.ok({ ...promote, incarnation: back });
    t.match(h.volume('v').replicas.at(-1), { nodeId: 'n2', role: 'in-sync', incarnation: back });
    t.equal(inc('n1'), created, 'untouched members keep theirs');
    // Without an incarnation (an older engine) the report applies to whatever is there.
    h.ok({ ...out, incarnation: undefined });
    t.ok(inc('n2')! > back, 'demoted again');
  },
);
