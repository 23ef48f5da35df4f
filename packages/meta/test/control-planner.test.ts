// The control loops' planner, scenario by scenario: each drives the real map (invariants checked
// after every apply) with the commands the leader would propose.
import t from 'tap';
import {
  GiB,
  REBUILD_STALL_MS,
  SNAPSHOT_CUT_TIMEOUT_MS,
  planControl,
  usedLoads,
} from '../src/index.js';
import { ControlHarness } from './helpers/control-harness.js';

const GRACE_MS = 30_000;

/** Four zones, two hosts each: n-a1, n-a2, n-b1, ... */
function cluster(): ControlHarness {
  const h = new ControlHarness();
  for (const zone of ['a', 'b', 'c', 'd']) {
    for (const i of [1, 2]) h.addNode(`n-${zone}${i}`, { zone, host: `h-${zone}${i}` });
  }
  h.ok({ type: 'updateSettings', replicaReplacementGraceMs: GRACE_MS });
  return h;
}

t.test(
  'an idle volume on a down node: out of sync at once, replaced after the grace',
  async (t) => {
    const h = cluster();
    h.createVolume('v', ['n-a1', 'n-b1', 'n-c1'], { zoneSpread: 'required' });
    h.ok({ type: 'setNodeState', nodeId: 'n-b1', action: 'down' });

    const first = h.tick();
    t.match(first.commands, [
      { loop: 'failure', command: { type: 'markReplicaLost', nodeId: 'n-b1' } },
    ]);
    let v = h.volume('v');
    t.same(h.replicaNodes('v'), ['n-a1', 'n-c1']);
    t.match(v.staleReplicas, [{ nodeId: 'n-b1', reason: 'node n-b1 is down' }]);
    t.equal(v.state, 'degraded');

    // Within the grace period nothing is placed; the plan says what it waits for.
    const waiting = h.tick();
    t.equal(waiting.commands.length, 0);
    t.match(waiting.blocked, [
      { loop: 'repair', nodeId: 'n-b1', reason: /waiting for n-b1 to return/ },
    ]);
    t.equal(
      waiting.blocked[0]!.untilMs,
      v.staleReplicas[0]!.since + GRACE_MS,
      'the wait ends with the grace',
    );
    t.match(waiting.blocked[0]!.hint, /bring n-b1 back before then .*`ballast node drain n-b1`/);

    h.clockMs += GRACE_MS;
    const replace = h.tick();
    t.match(replace.commands, [
      { loop: 'repair', command: { type: 'addReplica', replacing: 'n-b1', nodeId: 'n-b2' } },
    ]);
    t.match(h.openTasks('rebuild'), [{ nodeId: 'n-b2', sourceNodeId: 'n-a1', totalBytes: GiB }]);
    t.match(h.openTasks('move'), [{ nodeId: 'n-b2', sourceNodeId: 'n-b1' }]);
    t.equal(h.tick().commands.length, 0, 'nothing more while the rebuild runs');

    t.equal(h.completeRebuilds(), 1);
    const trim = h.tick();
    t.match(trim.commands, [{ loop: 'trim', command: { type: 'removeReplica', nodeId: 'n-b1' } }]);
    v = h.volume('v');
    t.same(h.replicaNodes('v'), ['n-a1', 'n-b2', 'n-c1']);
    t.same(v.staleReplicas, []);
    t.equal(v.state, 'healthy');
    t.same(h.openTasks(), []);
    t.match(
      h.map.listTasks().find((x) => x.kind === 'move'),
      { state: 'succeeded' },
    );
    t.equal(h.tick().commands.length, 0, 'quiet once healthy');
  },
);

t.test('a node back within the grace period: its copy rejoins (whole, or by delta)', async (t) => {
  const h = cluster();
  h.createVolume('v', ['n-a1', 'n-b1']);
  h.createVolume('w', ['n-a1', 'n-b1']);
  h.ok({ type: 'setNodeState', nodeId: 'n-b1', action: 'down' });
  h.tick();
  h.tick();
  t.equal(h.volume('v').staleReplicas.length, 1);
  t.equal(h.volume('w').staleReplicas.length, 1);
  // w is written to while n-b1 is away: its copy there misses those writes.
  h.ok({ type: 'attachVolume', volumeId: 'vol-w', host: 'h-c1', force: false });
  h.clockMs += GRACE_MS / 2;
  h.ok({ type: 'setNodeState', nodeId: 'n-b1', action: 'up' });
  const back = h.tick();
  t.same(
    back.commands.map((c) => [c.loop, c.command.type, 'nodeId' in c.command && c.command.nodeId]),
    [
      ['repair', 'addReplica', 'n-b1'],
      ['repair', 'addReplica', 'n-b1'],
    ],
  );
  t.notOk(
    back.commands.some((c) => 'replacing' in c.command),
    'the node replaces nothing: it is itself',
  );
  // v was idle all along: its copy is whole and rejoins in sync at once, nothing to copy.
  t.match(h.volume('v').replicas, [
    { nodeId: 'n-a1', role: 'in-sync' },
    { nodeId: 'n-b1', role: 'in-sync' },
  ]);
  // w had a writer since: a delta rebuild (only chunks that changed are copied).
  t.match(h.volume('w').replicas.at(-1), { nodeId: 'n-b1', role: 'rebuilding' });
  t.match(h.openTasks('rebuild'), [{ nodeId: 'n-b1', message: /delta rebuild of w/ }]);
  h.completeRebuilds();
  t.equal(h.volume('w').state, 'healthy');
  h.clockMs += GRACE_MS;
  t.equal(h.tick().commands.length, 0, 'no replacement after the grace period either');
});

t.test('an attached volume: the engine decides; the leader replaces after the grace', async (t) => {
  const h = cluster();
  h.createVolume('v', ['n-a1', 'n-b1']);
  h.ok({ type: 'attachVolume', volumeId: 'vol-v', host: 'h-c2', force: false });
  h.ok({ type: 'setNodeState', nodeId: 'n-b1', action: 'down' });
  t.equal(h.tick().commands.length, 0, 'no markReplicaLost for an attached volume');
  h.clockMs += GRACE_MS;
  const replace = h.tick();
  // Data locality: the attaching host's node gets the replacement.
  t.match(replace.commands, [
    { command: { type: 'addReplica', nodeId: 'n-c2', replacing: 'n-b1' } },
  ]);
  h.completeRebuilds();
  h.tick();
  t.same(h.replicaNodes('v'), ['n-a1', 'n-c2']);
  t.equal(h.volume('v').state, 'healthy');
});

t.test(
  'the last in-sync replica on a down node: nothing to do but wait, said plainly',
  async (t) => {
    const h = cluster();
    h.createVolume('v', ['n-a1']);
    h.ok({ type: 'setNodeState', nodeId: 'n-a1', action: 'down' });
    h.clockMs += GRACE_MS * 2;
    const plan = h.tick();
    t.same(plan.commands, [], 'a new replica would have nothing to copy from');
    t.match(plan.blocked, [
      { loop: 'failure', reason: /the only in-sync replica of v is on n-a1, which is down/ },
      { loop: 'repair', reason: /no in-sync replica of v is reachable; waiting for one to return/ },
    ]);
    t.match(plan.blocked[0]!.hint, /start n-a1 again/);
    t.match(plan.blocked[1]!.hint, /start the node holding an in-sync replica again \(n-a1\)/);
    t.equal(h.volume('v').state, 'faulted');
  },
);

t.test('no room anywhere: the refusal explains itself', async (t) => {
  const h = new ControlHarness();
  h.addNode('n1', { zone: 'a' });
  h.addNode('n2', { zone: 'b' });
  h.addNode('n3', { zone: 'c' });
  h.ok({ type: 'updateSettings', replicaReplacementGraceMs: 0 });
  h.createVolume('v', ['n1', 'n2', 'n3'], { zoneSpread: 'required' });
  h.ok({ type: 'setNodeState', nodeId: 'n3', action: 'down' });
  h.tick();
  const plan = h.tick();
  t.match(plan.blocked, [
    {
      loop: 'repair',
      reason:
        /cannot place a replica of v: need 1 more replica\(s\) beside the 2 existing in distinct zones other than a, b, only 0 zones have a node with room; excluded 1 not up: n3 \(down\)/,
      hint: /add a node the volume may use .*or bring n3 back/,
    },
  ]);
});

t.test('drain: add-then-remove, bounded moves, a task with progress, then removable', async (t) => {
  const h = cluster();
  h.ok({ type: 'updateSettings', maxConcurrentMoves: 2 });
  for (let i = 0; i < 5; i++) h.createVolume(`v${i}`, ['n-a1', i % 2 ? 'n-b1' : 'n-c1']);
  h.ok({ type: 'setNodeState', nodeId: 'n-a1', action: 'drain' });
  const [drain] = h.openTasks('drain');
  t.match(drain, { nodeId: 'n-a1', totalBytes: 5 * GiB, doneBytes: 0 });
  let ticks = 0;
  let maxMoves = 0;
  while (h.map.volumesOnNode('n-a1').length > 0 && ticks++ < 50) {
    const plan = h.tick();
    maxMoves = Math.max(maxMoves, h.openTasks('move').length);
    for (const v of h.map.listVolumes()) {
      const inSync = v.replicas.filter((r) => r.role === 'in-sync').length;
      t.ok(inSync >= 2, `${v.name} never below its desired 2 in-sync replicas`);
    }
    if (plan.commands.length === 0) h.completeRebuilds();
  }
  t.equal(maxMoves, 2, 'never more than maxConcurrentMoves moves at once');
  t.match(h.task(drain!.id), { state: 'succeeded', doneBytes: 5 * GiB });
  for (const v of h.map.listVolumes()) {
    t.notOk(
      v.replicas.some((r) => r.nodeId === 'n-a1'),
      `${v.name} moved`,
    );
    t.equal(v.state, 'healthy');
  }
  h.ok({ type: 'setNodeState', nodeId: 'n-a1', action: 'remove' });
});

t.test('a drain that cannot place says why in its task', async (t) => {
  const h = new ControlHarness();
  h.addNode('n1', { zone: 'a' });
  h.addNode('n2', { zone: 'b' });
  h.createVolume('v', ['n1', 'n2'], { zoneSpread: 'required' });
  h.ok({ type: 'setNodeState', nodeId: 'n1', action: 'drain' });
  h.tick();
  t.match(h.openTasks('drain'), [
    { message: /1 replica\(s\) left to move off n1; 1 blocked: cannot place a replica of v/ },
  ]);
  t.equal(h.tick().commands.length, 0, 'the same message is not written again');
});

t.test('rebalance: a new node fills up to the margin; the kill switch stops it', async (t) => {
  const h = new ControlHarness();
  for (const zone of ['a', 'b', 'c']) h.addNode(`n-${zone}`, { zone }, 40 * GiB);
  for (let i = 0; i < 30; i++) {
    h.createVolume(`v${i}`, [['n-a', 'n-b', 'n-c'][i % 3]!]);
    // Written full: used = provisioned here (test/control-rebalance.test.ts has thin volumes).
    h.usedByVolume.set(`v${i}`, GiB);
  }
  h.addNode('n-new', { zone: 'a' }, 40 * GiB);
  h.ok({ type: 'updateSettings', rebalanceEnabled: false });
  t.equal(h.tick().commands.length, 0, 'switched off: nothing moves');
  t.equal(h.lastPlan!.balanced, false);

  h.ok({ type: 'updateSettings', rebalanceEnabled: true, rebalanceMarginPercent: 5 });
  const ticks = h.settle(200);
  t.ok(h.lastPlan!.balanced, `balanced after ${ticks} ticks`);
  // 30 GiB over 160 GiB: a mean of 18.75%; 5 points are 2 GiB of a 40 GiB node.
  const loads = usedLoads(h.map);
  const shares = ['n-a', 'n-b', 'n-c', 'n-new'].map(
    (id) => (100 * (loads.get(id) ?? 0)) / (40 * GiB),
  );
  t.ok(
    shares.every((s) => Math.abs(s - 18.75) <= 5),
    `every node within 5 points of the 18.75% mean: ${shares.join(', ')}`,
  );
  t.ok(h.map.provisionedBytes('n-new') >= 3 * GiB, 'the new node took replicas');
  t.same(h.openTasks(), [], 'every move finished');
  t.ok(
    h.map
      .listTasks()
      .filter((x) => x.kind === 'move')
      .every((x) => x.state === 'succeeded'),
    'and succeeded',
  );
});

t.test('a rebuild that keeps failing is retried, then placed elsewhere', async (t) => {
  const h = cluster();
  h.createVolume('v', ['n-a1', 'n-b1']);
  h.ok({ type: 'removeReplica', volumeId: 'vol-v', nodeId: 'n-b1', force: true });
  const add = h.tick();
  t.match(add.commands, [{ loop: 'repair', command: { type: 'addReplica' } }]);
  const target = h.openTasks('rebuild')[0]!.nodeId!;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const [task] = h.openTasks('rebuild');
    t.equal(task!.nodeId, target);
    h.ok({ type: 'finishTask', taskId: task!.id, outcome: 'failed', message: 'disk error' });
    const next = h.tick();
    if (attempt < 3) {
      t.match(next.commands, [
        { loop: 'tasks', command: { type: 'createTask', kind: 'rebuild', nodeId: target } },
      ]);
    } else {
      t.match(next.commands, [
        { loop: 'tasks', command: { type: 'removeReplica', nodeId: target } },
      ]);
    }
  }
  const elsewhere = h.tick();
  t.match(elsewhere.commands, [{ command: { type: 'addReplica' } }]);
  t.not(h.openTasks('rebuild')[0]!.nodeId, target, 'not the node that failed three times');
});

t.test('a running rebuild that stops making progress is failed, then retried', async (t) => {
  const h = cluster();
  h.createVolume('v', ['n-a1', 'n-b1']);
  h.ok({ type: 'removeReplica', volumeId: 'vol-v', nodeId: 'n-b1', force: true });
  h.tick();
  const [task] = h.openTasks('rebuild');
  // Never started (queued on its node): pending tasks are not timed out.
  h.clockMs += REBUILD_STALL_MS * 2;
  t.notOk(
    h.tick().commands.some((c) => c.command.type === 'finishTask'),
    'a pending task waits',
  );
  // It starts, reports, then falls silent.
  h.ok({ type: 'updateTask', taskId: task!.id, doneBytes: 1024 });
  h.clockMs += REBUILD_STALL_MS / 2;
  t.notOk(
    h.tick().commands.some((c) => c.command.type === 'finishTask'),
    'a slow copy is not stalled',
  );
  h.clockMs += REBUILD_STALL_MS;
  const stalled = h.tick();
  t.match(stalled.commands, [
    {
      loop: 'tasks',
      command: { type: 'finishTask', taskId: task!.id, outcome: 'failed' },
      why: /no progress for 1[05] min/,
    },
  ]);
  t.match(
    h.map.listTasks().find((x) => x.id === task!.id),
    {
      state: 'failed',
      message: /stalled/,
    },
  );
  t.match(h.tick().commands, [
    { loop: 'tasks', command: { type: 'createTask', kind: 'rebuild', nodeId: task!.nodeId } },
  ]);
});

t.test('excess replicas are trimmed to the desired count, keeping the spread', async (t) => {
  const h = cluster();
  h.createVolume('v', ['n-a1', 'n-b1']);
  h.ok({ type: 'addReplica', volumeId: 'vol-v', nodeId: 'n-a2' });
  h.ok({ type: 'addReplica', volumeId: 'vol-v', nodeId: 'n-c1' });
  t.equal(h.tick().commands.length, 0, 'nothing is removed while rebuilds run');
  h.completeRebuilds();
  h.settle();
  const nodes = h.replicaNodes('v');
  t.equal(nodes.length, 2);
  t.equal(new Set(nodes.map((n) => n.slice(2, 3))).size, 2, `two zones: ${nodes.join(', ')}`);
});

t.test('the plan is bounded and deterministic', async (t) => {
  const h = cluster();
  h.ok({ type: 'updateSettings', replicaReplacementGraceMs: 0 });
  for (let i = 0; i < 20; i++) h.createVolume(`v${i}`, ['n-a1', 'n-b1']);
  h.ok({ type: 'setNodeState', nodeId: 'n-a1', action: 'down' });
  const one = planControl({ map: h.map, nowMs: h.clockMs, maxCommands: 7 });
  const two = planControl({ map: h.map, nowMs: h.clockMs, maxCommands: 7 });
  t.equal(one.commands.length, 7);
  t.same(one, two);
  t.equal(planControl({ map: h.map, nowMs: h.clockMs, maxCommands: 0 }).commands.length, 0);
});

t.test(
  'a replica an engine demoted is not taken back before its node is heard from again',
  async (t) => {
    const h = cluster();
    h.createVolume('v', ['n-a1', 'n-b1']);
    h.ok({ type: 'attachVolume', volumeId: 'vol-v', host: 'h-c1', force: false });
    const epoch = h.volume('v').epoch;
    // The node died a moment ago: the engine saw the write fail, the map still has it up.
    const heardBeforeMs = h.clockMs - 500;
    h.ok({
      type: 'markReplicaOutOfSync',
      volumeId: 'vol-v',
      nodeId: 'n-b1',
      epoch,
      reason: 'write failed',
    });
    const staleSince = h.volume('v').staleReplicas[0]!.since;
    let lastHeard = heardBeforeMs;
    const plan = (): ReturnType<typeof planControl> =>
      planControl({
        map: h.map,
        nowMs: h.clockMs,
        maxCommands: 100,
        lastHeardMs: (id) => (id === 'n-b1' ? lastHeard : h.clockMs),
      });
    const before = plan();
    t.notOk(
      before.commands.some((c) => c.command.type === 'addReplica'),
      'no delta rebuild onto a node not heard from since the demotion',
    );
    // A heartbeat after the demotion: the node is really back; its copy catches up by delta.
    lastHeard = staleSince + 1;
    const after = plan();
    t.match(after.commands, [
      { loop: 'repair', command: { type: 'addReplica', nodeId: 'n-b1' }, why: /is back/ },
    ]);
  },
);

t.test('a node that is back but cannot hold its copy: replaced now, and said why', async (t) => {
  const h = new ControlHarness();
  for (const [i, zone] of ['a', 'b', 'c'].entries()) h.addNode(`n${i + 1}`, { zone });
  h.ok({ type: 'updateSettings', replicaReplacementGraceMs: GRACE_MS });
  h.createVolume('v', ['n1', 'n2', 'n3'], { zoneSpread: 'required' });
  h.ok({ type: 'attachVolume', volumeId: 'vol-v', host: 'h9', force: false });
  h.ok({ type: 'markReplicaOutOfSync', volumeId: 'vol-v', nodeId: 'n3', epoch: 1, reason: 'io' });
  // n3 is up and heard from, but now offers less than the volume needs.
  h.ok({ type: 'reportNodeCapacity', nodeId: 'n3', capacityBytes: GiB / 2, usedBytes: 0 });
  const stuck = h.tick();
  t.same(stuck.commands, [], 'nowhere to put a replacement in zone c');
  t.match(stuck.blocked, [
    {
      loop: 'repair',
      nodeId: 'n3',
      reason:
        /cannot place a replica of v: .*; n3 is up but cannot take its copy back \(node n3 has .* free, needs 1 GiB\): free space there or add a node/,
    },
  ]);
  // A node with room in zone c: the copy is replaced at once, without waiting for the grace.
  h.addNode('n4', { zone: 'c' });
  const replaced = h.tick();
  t.match(replaced.commands, [
    {
      loop: 'repair',
      command: { type: 'addReplica', nodeId: 'n4', replacing: 'n3' },
      why: /n3, which is up but cannot take its copy back/,
    },
  ]);
});

t.test(
  'a node whose disk is full takes no replica and its copies are replaced, saying why',
  async (t) => {
    const h = new ControlHarness();
    for (const [i, zone] of ['a', 'b', 'c'].entries()) h.addNode(`n${i + 1}`, { zone });
    h.ok({ type: 'updateSettings', replicaReplacementGraceMs: GRACE_MS });
    h.createVolume('v', ['n1', 'n2', 'n3'], { zoneSpread: 'required' });
    h.ok({ type: 'attachVolume', volumeId: 'vol-v', host: 'h9', force: false });
    // n3's file system fills: a write fails there (ENOSPC) and the engine drops it.
    h.ok({
      type: 'reportNodeCapacity',
      nodeId: 'n3',
      capacityBytes: 100 * GiB,
      usedBytes: 0,
      availableBytes: 0,
    });
    h.ok({
      type: 'markReplicaOutOfSync',
      volumeId: 'vol-v',
      nodeId: 'n3',
      epoch: 1,
      reason: 'no space',
    });
    const stuck = h.tick();
    t.same(stuck.commands, [], 'n3 is not taken back, and zone c has no other node');
    t.match(stuck.blocked, [
      {
        loop: 'repair',
        nodeId: 'n3',
        reason:
          /n3 is up but cannot take its copy back \(node n3's disk is full \(0 B free of 100 GiB\)\)/,
      },
    ]);
    // Space comes back: the copy is taken back for a delta rebuild.
    h.ok({
      type: 'reportNodeCapacity',
      nodeId: 'n3',
      capacityBytes: 100 * GiB,
      usedBytes: 0,
      availableBytes: 50 * GiB,
    });
    t.match(h.tick().commands, [
      {
        loop: 'repair',
        command: { type: 'addReplica', nodeId: 'n3' },
        why: /n3 is back; delta rebuild/,
      },
    ]);
    // A new volume is never placed on a full node.
    h.ok({
      type: 'reportNodeCapacity',
      nodeId: 'n2',
      capacityBytes: 100 * GiB,
      usedBytes: 0,
      availableBytes: 1024,
    });
    t.match(h.apply({ type: 'addReplica', volumeId: 'vol-v', nodeId: 'n2' }), { ok: false });
  },
);

t.test('a snapshot cut nobody finishes fails after SNAPSHOT_CUT_TIMEOUT_MS', async (t) => {
  const h = cluster();
  const v = h.createVolume('v', ['n-a1', 'n-b1', 'n-c1']);
  h.ok({ type: 'createVolumeSnapshot', volumeId: v.id, snapshotId: 'snap-1', name: 's1' });
  h.ok({
    type: 'takeVolumeSnapshot',
    volumeId: v.id,
    snapshotId: 'snap-1',
    nodeId: 'n-a1',
    epoch: v.epoch,
    ok: true,
    reason: '',
  });
  t.equal(h.tick().commands.length, 0, 'nothing while the nodes may still take it');
  h.clockMs += SNAPSHOT_CUT_TIMEOUT_MS;
  const plan = h.tick();
  t.match(plan.commands, [
    {
      loop: 'tasks',
      command: { type: 'finishVolumeSnapshot', snapshotId: 'snap-1', ok: false },
      why: /still creating/,
    },
  ]);
  t.match(h.volume('v').snapshots, [
    {
      name: 's1',
      state: 'failed',
      nodeIds: [],
      stateReason: /n-b1, n-c1 did not take it within 60 s/,
    },
  ]);
  t.equal(h.tick().commands.length, 0, 'decided once');
});
