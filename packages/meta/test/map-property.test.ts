import t from 'tap';
import fc from 'fast-check';
import { ClusterMap, GiB, MiB } from '../src/index.js';
import { fcParams } from './helpers/fc-params.js';
import { MapHarness, type Draft } from './helpers/map-harness.js';

// A small universe so that random commands often refer to things that exist and hit the
// interesting refusals (stale epochs, last in-sync replica, names taken, hosts shared).
const nodeId = fc.constantFrom('n0', 'n1', 'n2', 'n3', 'n4', 'n5');
const volumeId = fc.constantFrom('v0', 'v0', 'v0', 'v1', 'v2', 'v3');
const name = fc.constantFrom('alpha', 'beta', 'gamma');
const host = fc.constantFrom('d0', 'd1', 'd2');
const taskId = fc.constantFrom('t0', 't1', 't2');
const epoch = fc.constantFrom(0, 1, 1, 1, 2, 3);
const labels = fc.record(
  { zone: fc.constantFrom('a', 'b', 'c'), host: fc.constantFrom('h0', 'h1', 'h2', 'h3') },
  { requiredKeys: [] },
);
const size = fc.constantFrom(GiB, 2 * GiB, 40 * GiB, GiB + 1);

const w = (weight: number, arbitrary: fc.Arbitrary<unknown>) => ({ weight, arbitrary });
const commandArb = fc.oneof(
  w(
    2,
    fc.record({
      type: fc.constant('registerNode'),
      nodeId,
      address: fc.constantFrom('a:1', 'b:1', 'c:1', 'd:1', 'e:1', 'f:1'),
      labels,
      capacityBytes: fc.constantFrom(50 * GiB, 100 * GiB),
      usedBytes: fc.constantFrom(0, GiB),
    }),
  ),
  w(
    3,
    fc.record({
      type: fc.constant('setNodeState'),
      nodeId,
      action: fc.constantFrom('cordon', 'uncordon', 'drain', 'down', 'up', 'remove'),
    }),
  ),
  w(1, fc.record({ type: fc.constant('labelNode'), nodeId, labels })),
  w(
    1,
    fc.record({
      type: fc.constant('reportNodeCapacity'),
      nodeId,
      capacityBytes: fc.constantFrom(10 * GiB, 100 * GiB),
      usedBytes: fc.constantFrom(0, 20 * GiB),
    }),
  ),
  w(
    2,
    fc.record({
      type: fc.constant('reportReplicaUsage'),
      nodeId,
      // Sometimes a duplicate or a figure above the size: refusals must change nothing.
      replicas: fc.oneof(
        fc.uniqueArray(fc.record({ volumeId, usedBytes: fc.constantFrom(0, MiB, GiB, 2 * GiB) }), {
          minLength: 1,
          maxLength: 3,
          selector: (r) => r.volumeId,
        }),
        fc.array(fc.record({ volumeId, usedBytes: fc.constantFrom(0, GiB) }), {
          minLength: 1,
          maxLength: 3,
        }),
      ),
    }),
  ),
  w(
    3,
    fc
      .record({
        type: fc.constant('createVolume'),
        volumeId,
        name,
        sizeBytes: size,
        chunkSizeBytes: fc.constantFrom(4 * MiB, 4 * MiB, 3 * MiB),
        constraints: fc.record({
          nodeSelector: fc.constantFrom({}, {}, { zone: 'a' }),
          zoneSpread: fc.constantFrom('required', 'preferred'),
        }),
        fs: fc.constantFrom('ext4', 'xfs'),
        replicaNodeIds: fc.uniqueArray(nodeId, { minLength: 1, maxLength: 3 }),
      })
      .map((c) => ({ ...c, desiredReplicas: c.replicaNodeIds.length })),
  ),
  w(2, fc.record({ type: fc.constant('resizeVolume'), volumeId, sizeBytes: size })),
  w(1, fc.record({ type: fc.constant('deleteVolume'), volumeId })),
  w(3, fc.record({ type: fc.constant('attachVolume'), volumeId, host, force: fc.boolean() })),
  w(
    3,
    fc.record(
      { type: fc.constant('detachVolume'), volumeId, host, epoch, force: fc.boolean() },
      { requiredKeys: ['type', 'volumeId', 'host', 'force'] },
    ),
  ),
  w(
    5,
    fc.record({
      type: fc.constant('markReplicaOutOfSync'),
      volumeId,
      nodeId,
      epoch,
      reason: fc.constant('write failed'),
    }),
  ),
  w(
    10,
    fc.record({
      type: fc.constant('markReplicaLost'),
      volumeId,
      nodeId,
      epoch,
      reason: fc.constant('node down'),
    }),
  ),
  w(
    5,
    fc.record(
      { type: fc.constant('addReplica'), volumeId, nodeId, replacing: nodeId, taskId },
      { requiredKeys: ['type', 'volumeId', 'nodeId'] },
    ),
  ),
  w(5, fc.record({ type: fc.constant('promoteReplica'), volumeId, nodeId, epoch })),
  w(4, fc.record({ type: fc.constant('removeReplica'), volumeId, nodeId, force: fc.boolean() })),
  w(
    2,
    fc.record(
      {
        type: fc.constant('createTask'),
        taskId,
        kind: fc.constantFrom('rebuild', 'move', 'delete', 'drain'),
        volumeId,
        nodeId,
        totalBytes: fc.constantFrom(0, 100),
      },
      { requiredKeys: ['type', 'taskId', 'kind', 'totalBytes'] },
    ),
  ),
  w(
    2,
    fc.record({ type: fc.constant('updateTask'), taskId, doneBytes: fc.constantFrom(0, 50, 200) }),
  ),
  w(
    2,
    fc.record({
      type: fc.constant('finishTask'),
      taskId,
      outcome: fc.constantFrom('succeeded', 'failed', 'cancelled'),
    }),
  ),
  w(
    1,
    fc.record(
      {
        type: fc.constant('updateSettings'),
        overProvisionPercent: fc.constantFrom(100, 300),
        rebalanceEnabled: fc.boolean(),
        maxConcurrentMoves: fc.constantFrom(1, 4),
      },
      { requiredKeys: ['type'] },
    ),
  ),
  // Garbage among the good entries.
  w(1, fc.anything()),
) as fc.Arbitrary<Draft>;

/** A cluster to start from, so random commands often find what they name. */
const prelude: Draft[] = [
  ...['a', 'b', 'c', 'a', 'b', 'c'].map((zone, i): Draft => ({
    type: 'registerNode',
    nodeId: `n${i}`,
    address: `10.0.0.${i}:7100`,
    labels: { zone, host: `h${i}` },
    capacityBytes: 100 * GiB,
    usedBytes: 0,
  })),
  {
    type: 'createVolume',
    volumeId: 'v0',
    name: 'alpha',
    sizeBytes: GiB,
    chunkSizeBytes: 4 * MiB,
    desiredReplicas: 3,
    constraints: { nodeSelector: {}, zoneSpread: 'required' },
    fs: 'ext4',
    replicaNodeIds: ['n0', 'n1', 'n2'],
  },
  { type: 'attachVolume', volumeId: 'v0', host: 'd0', force: false },
  // An idle volume with a replica on a down node (what markReplicaLost is for).
  {
    type: 'createVolume',
    volumeId: 'v1',
    name: 'beta',
    sizeBytes: GiB,
    chunkSizeBytes: 4 * MiB,
    desiredReplicas: 2,
    constraints: { nodeSelector: {}, zoneSpread: 'preferred' },
    fs: 'ext4',
    replicaNodeIds: ['n3', 'n4'],
  },
  { type: 'setNodeState', nodeId: 'n4', action: 'down' },
];

const sequence = fc
  .array(commandArb, { minLength: 30, maxLength: 100 })
  .map((c) => [...prelude, ...c]);

const ACCEPTED_TYPES = [
  'registerNode',
  'setNodeState',
  'labelNode',
  'reportNodeCapacity',
  'reportReplicaUsage',
  'createVolume',
  'resizeVolume',
  'deleteVolume',
  'attachVolume',
  'detachVolume',
  'markReplicaOutOfSync',
  'markReplicaLost',
  'addReplica',
  'promoteReplica',
  'removeReplica',
  'createTask',
  'updateTask',
  'finishTask',
  'updateSettings',
];

t.test('random command sequences keep every invariant after every apply', async (t) => {
  const accepted = new Map<string, number>();
  let applied = 0;
  const property = fc.property(sequence, (commands) => {
    const h = new MapHarness();
    for (const c of commands) {
      const result = h.apply(c);
      applied++;
      if (result.ok && result.changed) {
        const type = (c as { type: string }).type;
        accepted.set(type, (accepted.get(type) ?? 0) + 1);
      }
    }
  });
  fc.assert(property, fcParams(200));
  // Some commands are accepted only after a chain of others (promoteReplica needs an accepted
  // addReplica on the same volume at the current epoch): an unlucky seed can miss one in 200
  // sequences. More random batches (bounded) rather than a fixed seed, so every run still
  // explores new sequences; each batch checks the invariants too.
  for (let batch = 0; batch < 10; batch++) {
    if (ACCEPTED_TYPES.every((type) => (accepted.get(type) ?? 0) > 0)) break;
    fc.assert(property, fcParams(100));
  }
  t.comment(
    `applied ${applied} commands; accepted: ${JSON.stringify(Object.fromEntries(accepted))}`,
  );
  for (const type of ACCEPTED_TYPES) {
    t.ok((accepted.get(type) ?? 0) > 0, `the generator reaches states where ${type} is accepted`);
  }
});

t.test(
  'a member restored from a snapshot agrees with one that applied the whole log',
  async (t) => {
    fc.assert(
      fc.property(sequence, fc.nat(), (commands, cut) => {
        const split = 1 + (cut % (commands.length - 1));
        const a = new MapHarness();
        commands.slice(0, split).forEach((c) => a.apply(c));
        const b = new MapHarness(ClusterMap.restore(JSON.parse(JSON.stringify(a.map.snapshot()))));
        b.clockMs = a.clockMs;
        for (const c of commands.slice(split)) {
          const ra = a.apply(c);
          const rb = b.apply(c);
          if (JSON.stringify(ra) !== JSON.stringify(rb)) {
            throw new Error(
              `results differ for ${JSON.stringify(c)}: ${JSON.stringify(ra)} vs ${JSON.stringify(rb)}`,
            );
          }
        }
        const sa = JSON.stringify(a.map.snapshot());
        if (sa !== JSON.stringify(b.map.snapshot())) throw new Error('snapshots differ');
        if (JSON.stringify(ClusterMap.restore(JSON.parse(sa)).snapshot()) !== sa) {
          throw new Error('snapshot does not round-trip');
        }
      }),
      fcParams(100),
    );
    t.pass('results and snapshots identical on both members');
  },
);

t.test('change events replayed onto the previous state rebuild the same map', async (t) => {
  fc.assert(
    fc.property(sequence, (commands) => {
      const h = new MapHarness();
      const nodes = new Map<string, unknown>();
      const volumes = new Map<string, unknown>();
      const tasks = new Map<string, unknown>();
      let settings: unknown = h.map.settings;
      for (const c of commands) h.apply(c);
      for (const event of h.events) {
        for (const change of event.changes) {
          if (change.kind === 'node') nodes.set(change.id, change.value);
          else if (change.kind === 'settings') settings = change.value;
          else {
            const target = change.kind === 'volume' ? volumes : tasks;
            if (change.value === null) target.delete(change.id);
            else target.set(change.id, change.value);
          }
        }
      }
      const snap = h.map.snapshot();
      const byId = (m: Map<string, unknown>) => [...m.keys()].sort().map((k) => m.get(k));
      if (JSON.stringify(byId(nodes)) !== JSON.stringify(snap.nodes))
        throw new Error('nodes differ');
      if (JSON.stringify(byId(volumes)) !== JSON.stringify(snap.volumes))
        throw new Error('volumes differ');
      if (JSON.stringify(byId(tasks)) !== JSON.stringify(snap.tasks))
        throw new Error('tasks differ');
      if (JSON.stringify(settings) !== JSON.stringify(snap.settings))
        throw new Error('settings differ');
    }),
    fcParams(100),
  );
  t.pass('a watcher that applies every event holds the map');
});
