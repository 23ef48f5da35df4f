import t from 'tap';
import {
  ClusterMap,
  DEFAULT_SETTINGS,
  GiB,
  MAX_FINISHED_TASKS,
  type ApplyResult,
} from '../src/index.js';
import { MapHarness } from './helpers/map-harness.js';

function code(result: ApplyResult): string {
  return result.ok ? 'OK' : result.error.code;
}

function message(result: ApplyResult): string {
  return result.ok ? '' : result.error.message;
}

/** Three nodes in three zones, each on its own host. */
function threeZones(): MapHarness {
  const h = new MapHarness();
  h.addNode('n1', { zone: 'a', host: 'h1' });
  h.addNode('n2', { zone: 'b', host: 'h2' });
  h.addNode('n3', { zone: 'c', host: 'h3' });
  return h;
}

t.test(
  'garbage log entries are refused, change nothing, and still advance the applied index',
  async (t) => {
    const h = threeZones();
    const garbage: unknown[] = [
      null,
      42,
      'registerNode',
      [],
      {},
      { type: 'nope', at: 1 },
      { type: 'registerNode' },
      {
        type: 'registerNode',
        at: 1,
        nodeId: 'x',
        address: 'x:1',
        labels: {},
        capacityBytes: -1,
        usedBytes: 0,
      },
      { type: 'attachVolume', at: 1, volumeId: 'v', host: 'h', force: 'yes' },
      { type: 'createVolume', at: 1, extra: true },
      JSON.parse('{"type":"labelNode","at":1,"nodeId":"n1","labels":{"__proto__":"x"}}'),
      JSON.parse(
        '{"type":"registerNode","at":1,"nodeId":"__proto__","address":"a:1","labels":{},"capacityBytes":1,"usedBytes":0}',
      ),
      { type: 'labelNode', at: 1, nodeId: 'n1', labels: { 'Bad Key': 'x' } },
    ];
    for (const entry of garbage) {
      const index = h.map.appliedIndex;
      const result = h.apply(entry);
      t.equal(code(result), 'INVALID_ARGUMENT', JSON.stringify(entry));
      t.equal(h.map.appliedIndex, index + 1);
    }
    t.equal(h.map.revision, 3, 'only the three registrations changed the map');
  },
);

t.test('apply refuses a log index that does not grow (a bug in the caller)', async (t) => {
  const map = new ClusterMap();
  map.apply({ type: 'updateSettings', at: 1, overProvisionPercent: 200 }, 5);
  t.throws(
    () => map.apply({ type: 'updateSettings', at: 1, overProvisionPercent: 200 }, 5),
    /assertion/,
  );
});

t.test('registerNode', async (t) => {
  const h = new MapHarness();
  const n1 = h.addNode('n1', { zone: 'a' });
  t.equal(n1.state, 'up');
  t.equal(n1.stateReason, 'registered');
  t.same(n1.labels, { zone: 'a' });
  t.equal(h.map.revision, 1);

  t.test(
    're-registration keeps the id, labels and replicas, updates address and capacity',
    async (t) => {
      h.addNode('n2', { zone: 'b' });
      h.createVolume('v', ['n1', 'n2']);
      h.ok({ type: 'setNodeState', nodeId: 'n1', action: 'down', reason: 'no heartbeat for 10s' });
      t.equal(h.node('n1').state, 'down');
      t.equal(h.volume('v').state, 'degraded');
      const r = h.ok({
        type: 'registerNode',
        nodeId: 'n1',
        address: '10.0.0.9:7100',
        labels: { zone: 'zzz' },
        capacityBytes: 200 * GiB,
        usedBytes: GiB,
      });
      t.equal(r.changed, true);
      const n = h.node('n1');
      t.equal(n.state, 'up');
      t.equal(n.stateReason, 'registered again');
      t.equal(n.address, '10.0.0.9:7100');
      t.equal(n.capacityBytes, 200 * GiB);
      t.same(n.labels, { zone: 'a' }, "labels are the map's after joining");
      t.same(
        h.volume('v').replicas.map((x) => x.nodeId),
        ['n1', 'n2'],
      );
      t.equal(h.volume('v').state, 'healthy');
      const again = h.ok({
        type: 'registerNode',
        nodeId: 'n1',
        address: '10.0.0.9:7100',
        labels: {},
        capacityBytes: 200 * GiB,
        usedBytes: GiB,
      });
      t.equal(again.changed, false, 'an identical re-registration is a no-op');
      t.equal((again.value as { id: string }).id, 'n1');
    },
  );

  t.test('refusals', async (t) => {
    const used = h.apply({
      type: 'registerNode',
      nodeId: 'n9',
      address: 'n9:1',
      labels: {},
      capacityBytes: 10,
      usedBytes: 11,
    });
    t.equal(code(used), 'UNPROCESSABLE');
    const sameAddress = h.apply({
      type: 'registerNode',
      nodeId: 'n9',
      address: h.node('n2').address,
      labels: {},
      capacityBytes: 10,
      usedBytes: 0,
    });
    t.equal(code(sameAddress), 'CONFLICT');
    t.match(message(sameAddress), /belongs to node n2/);
    h.addNode('gone');
    h.ok({ type: 'setNodeState', nodeId: 'gone', action: 'remove' });
    const reused = h.apply({
      type: 'registerNode',
      nodeId: 'gone',
      address: 'gone:1',
      labels: {},
      capacityBytes: 10,
      usedBytes: 0,
    });
    t.equal(code(reused), 'CONFLICT');
    t.match(message(reused), /never reused/);
  });

  t.test("a down node's address may be taken by a new node", async (t) => {
    h.addNode('old');
    h.ok({ type: 'setNodeState', nodeId: 'old', action: 'down' });
    h.ok({
      type: 'registerNode',
      nodeId: 'new',
      address: h.node('old').address,
      labels: {},
      capacityBytes: GiB,
      usedBytes: 0,
    });
    t.equal(h.node('new').address, h.node('old').address);
  });
});

t.test('setNodeState: cordon, drain, down, up, remove', async (t) => {
  const h = threeZones();
  t.equal(h.ok({ type: 'setNodeState', nodeId: 'n1', action: 'cordon' }).changed, true);
  t.equal(h.node('n1').state, 'cordoned');
  t.equal(
    h.ok({ type: 'setNodeState', nodeId: 'n1', action: 'cordon' }).changed,
    false,
    'idempotent',
  );
  h.ok({ type: 'setNodeState', nodeId: 'n1', action: 'down', reason: 'no heartbeat for 12s' });
  t.equal(h.node('n1').state, 'down');
  t.equal(h.node('n1').stateReason, 'no heartbeat for 12s');
  h.ok({ type: 'setNodeState', nodeId: 'n1', action: 'up' });
  t.equal(h.node('n1').state, 'cordoned', "coming back keeps the operator's cordon");
  h.ok({ type: 'setNodeState', nodeId: 'n1', action: 'drain' });
  t.equal(h.node('n1').state, 'draining');
  h.ok({ type: 'setNodeState', nodeId: 'n1', action: 'uncordon' });
  t.equal(h.node('n1').state, 'up');

  t.equal(code(h.apply({ type: 'setNodeState', nodeId: 'nx', action: 'cordon' })), 'NOT_FOUND');

  h.createVolume('v', ['n1', 'n2']);
  const blocked = h.apply({ type: 'setNodeState', nodeId: 'n1', action: 'remove' });
  t.equal(code(blocked), 'CONFLICT');
  t.match(message(blocked), /still holds replicas of 1 volume\(s\) \(v\)/);

  h.ok({ type: 'setNodeState', nodeId: 'n3', action: 'remove' });
  t.equal(h.node('n3').state, 'removed');
  t.equal(h.ok({ type: 'setNodeState', nodeId: 'n3', action: 'remove' }).changed, false);
  t.equal(code(h.apply({ type: 'setNodeState', nodeId: 'n3', action: 'up' })), 'CONFLICT');
  t.equal(code(h.apply({ type: 'setNodeState', nodeId: 'n3', action: 'uncordon' })), 'CONFLICT');
});

t.test(
  'node state changes refresh the state of the volumes on the node, in the same event',
  async (t) => {
    const h = threeZones();
    h.createVolume('v', ['n1', 'n2', 'n3']);
    h.ok({ type: 'setNodeState', nodeId: 'n2', action: 'down', reason: 'no heartbeat for 10s' });
    const event = h.events.at(-1)!;
    t.same(
      event.changes.map((c) => `${c.kind}:${c.id}`),
      ['node:n2', 'volume:vol-v'],
    );
    t.equal(h.volume('v').state, 'degraded');
    t.match(
      h.volume('v').stateReason,
      /2 of 3 replicas in-sync and reachable; in-sync replica on n2 unreachable: node is down/,
    );
    h.ok({ type: 'setNodeState', nodeId: 'n1', action: 'down' });
    h.ok({ type: 'setNodeState', nodeId: 'n3', action: 'down' });
    t.equal(h.volume('v').state, 'faulted');
    t.match(h.volume('v').stateReason, /no in-sync replica is reachable/);
    h.ok({ type: 'setNodeState', nodeId: 'n1', action: 'cordon' });
    t.equal(h.events.at(-1)!.changes.length, 1, 'a cordon of a down node changes only the node');
  },
);

t.test('labelNode and reportNodeCapacity', async (t) => {
  const h = threeZones();
  h.ok({ type: 'labelNode', nodeId: 'n1', labels: { zone: 'a', disk: 'ssd' } });
  t.same(h.node('n1').labels, { zone: 'a', disk: 'ssd' });
  t.equal(
    h.ok({ type: 'labelNode', nodeId: 'n1', labels: { disk: 'ssd', zone: 'a' } }).changed,
    false,
  );
  t.equal(code(h.apply({ type: 'labelNode', nodeId: 'zz', labels: {} })), 'NOT_FOUND');

  h.ok({ type: 'reportNodeCapacity', nodeId: 'n1', capacityBytes: 50 * GiB, usedBytes: 5 * GiB });
  t.equal(h.node('n1').capacityBytes, 50 * GiB);
  t.equal(
    h.ok({ type: 'reportNodeCapacity', nodeId: 'n1', capacityBytes: 50 * GiB, usedBytes: 5 * GiB })
      .changed,
    false,
  );
  t.equal(
    code(h.apply({ type: 'reportNodeCapacity', nodeId: 'n1', capacityBytes: 1, usedBytes: 2 })),
    'UNPROCESSABLE',
  );
  t.equal(
    code(h.apply({ type: 'reportNodeCapacity', nodeId: 'zz', capacityBytes: 1, usedBytes: 0 })),
    'NOT_FOUND',
  );
  h.ok({ type: 'setNodeState', nodeId: 'n3', action: 'remove' });
  t.equal(code(h.apply({ type: 'labelNode', nodeId: 'n3', labels: {} })), 'CONFLICT');
  t.equal(
    code(h.apply({ type: 'reportNodeCapacity', nodeId: 'n3', capacityBytes: 1, usedBytes: 0 })),
    'CONFLICT',
  );
});

t.test('createVolume', async (t) => {
  const h = threeZones();
  const v = h.createVolume('pgdata', ['n1', 'n2', 'n3'], {
    sizeBytes: 10 * GiB,
    zoneSpread: 'required',
  });
  t.equal(v.state, 'healthy');
  t.equal(v.epoch, 0);
  t.equal(v.attachment, null);
  t.same(
    v.replicas.map((r) => r.role),
    ['in-sync', 'in-sync', 'in-sync'],
  );
  t.equal(h.map.provisionedBytes('n1'), 10 * GiB);

  const base = {
    type: 'createVolume' as const,
    volumeId: 'vol-x',
    name: 'x',
    sizeBytes: GiB,
    chunkSizeBytes: 4 * 1024 * 1024,
    desiredReplicas: 2,
    constraints: { nodeSelector: {}, zoneSpread: 'preferred' as const },
    fs: 'xfs' as const,
    replicaNodeIds: ['n1', 'n2'],
  };
  const cases: Array<[string, object, string, RegExp?]> = [
    ['name taken', { name: 'pgdata' }, 'CONFLICT', /named pgdata already exists/],
    ['id taken', { volumeId: 'vol-pgdata' }, 'CONFLICT'],
    ['unaligned size', { sizeBytes: GiB + 1 }, 'UNPROCESSABLE', /block size/],
    ['chunk not a power of two', { chunkSizeBytes: 3 * 1024 * 1024 }, 'UNPROCESSABLE'],
    ['count mismatch', { replicaNodeIds: ['n1'] }, 'INVALID_ARGUMENT'],
    ['duplicate node', { replicaNodeIds: ['n1', 'n1'] }, 'INVALID_ARGUMENT'],
    ['unknown node', { replicaNodeIds: ['n1', 'nx'] }, 'NOT_FOUND'],
    ['no room', { sizeBytes: 95 * GiB }, 'UNPROCESSABLE', /has 90 GiB free, needs 95 GiB/],
    [
      'selector',
      { constraints: { nodeSelector: { disk: 'ssd' }, zoneSpread: 'preferred' } },
      'CONFLICT',
      /does not match disk=ssd/,
    ],
  ];
  for (const [what, patch, expected, pattern] of cases) {
    const result = h.apply({ ...base, ...patch });
    t.equal(code(result), expected, what);
    if (pattern) t.match(message(result), pattern, what);
  }

  t.test('re-validates eligibility: a node cordoned since placement is refused', async (t) => {
    h.ok({ type: 'setNodeState', nodeId: 'n2', action: 'cordon' });
    const result = h.apply(base);
    t.equal(code(result), 'CONFLICT');
    t.match(message(result), /node n2 is cordoned/);
    h.ok({ type: 'setNodeState', nodeId: 'n2', action: 'uncordon' });
  });

  t.test('hosts are always distinct; zones when required', async (t) => {
    h.addNode('n1b', { zone: 'a', host: 'h1' });
    h.addNode('n4', { zone: 'a', host: 'h4' });
    const sameHost = h.apply({ ...base, replicaNodeIds: ['n1', 'n1b'] });
    t.equal(code(sameHost), 'CONFLICT');
    t.match(message(sameHost), /same host/);
    const sameZone = h.apply({
      ...base,
      constraints: { nodeSelector: {}, zoneSpread: 'required' },
      replicaNodeIds: ['n1', 'n4'],
    });
    t.equal(code(sameZone), 'CONFLICT');
    t.match(message(sameZone), /requires its replicas in distinct zones/);
    h.ok({ ...base, replicaNodeIds: ['n1', 'n4'] });
  });
});

t.test('resizeVolume', async (t) => {
  const h = threeZones();
  h.createVolume('v', ['n1', 'n2'], { sizeBytes: 10 * GiB });
  h.ok({ type: 'resizeVolume', volumeId: 'vol-v', sizeBytes: 20 * GiB });
  t.equal(h.volume('v').sizeBytes, 20 * GiB);
  t.equal(h.map.provisionedBytes('n1'), 20 * GiB);
  t.equal(h.ok({ type: 'resizeVolume', volumeId: 'vol-v', sizeBytes: 20 * GiB }).changed, false);
  const shrink = h.apply({ type: 'resizeVolume', volumeId: 'vol-v', sizeBytes: 10 * GiB });
  t.equal(code(shrink), 'UNPROCESSABLE');
  t.match(message(shrink), /grow only/);
  t.equal(
    code(h.apply({ type: 'resizeVolume', volumeId: 'vol-v', sizeBytes: 20 * GiB + 512 })),
    'UNPROCESSABLE',
  );
  const tooBig = h.apply({ type: 'resizeVolume', volumeId: 'vol-v', sizeBytes: 200 * GiB });
  t.equal(code(tooBig), 'UNPROCESSABLE');
  t.match(message(tooBig), /does not fit on n1/);
  t.equal(code(h.apply({ type: 'resizeVolume', volumeId: 'nope', sizeBytes: GiB })), 'NOT_FOUND');
  h.ok({ type: 'attachVolume', volumeId: 'vol-v', host: 'docker1', force: false });
  const attached = h.ok({ type: 'resizeVolume', volumeId: 'vol-v', sizeBytes: 30 * GiB });
  t.match(attached.value, { sizeBytes: 30 * GiB, attachment: { host: 'docker1' } }, 'online');
});

t.test('attach and detach: epochs and fencing', async (t) => {
  const h = threeZones();
  h.createVolume('v', ['n1', 'n2']);
  const a1 = h.ok({ type: 'attachVolume', volumeId: 'vol-v', host: 'docker1', force: false });
  t.match(a1.value, { epoch: 1, attachment: { host: 'docker1', epoch: 1 } });

  const other = h.apply({ type: 'attachVolume', volumeId: 'vol-v', host: 'docker2', force: false });
  t.equal(code(other), 'CONFLICT');
  t.match(message(other), /attached to host docker1 \(epoch 1\)/);
  t.same(!other.ok && other.error.details, {
    host: 'docker1',
    epoch: 1,
    since: h.volume('v').attachment!.since,
  });

  h.ok({ type: 'attachVolume', volumeId: 'vol-v', host: 'docker1', force: false });
  t.equal(h.volume('v').epoch, 2, 're-attach by the same host takes a new epoch');

  const stale = h.apply({
    type: 'detachVolume',
    volumeId: 'vol-v',
    host: 'docker1',
    epoch: 1,
    force: false,
  });
  t.equal(code(stale), 'FENCED');
  const wrongHost = h.apply({
    type: 'detachVolume',
    volumeId: 'vol-v',
    host: 'docker2',
    epoch: 2,
    force: false,
  });
  t.equal(code(wrongHost), 'FENCED');
  t.equal(
    code(h.apply({ type: 'detachVolume', volumeId: 'vol-v', host: 'docker1', force: false })),
    'INVALID_ARGUMENT',
  );

  h.ok({ type: 'attachVolume', volumeId: 'vol-v', host: 'docker2', force: true });
  t.match(
    h.volume('v'),
    { epoch: 3, attachment: { host: 'docker2', epoch: 3 } },
    'force takes over',
  );
  const fenced = h.apply({
    type: 'detachVolume',
    volumeId: 'vol-v',
    host: 'docker1',
    epoch: 2,
    force: false,
  });
  t.equal(code(fenced), 'FENCED', 'the old host cannot detach the new holder');

  h.ok({ type: 'detachVolume', volumeId: 'vol-v', host: 'docker2', epoch: 3, force: false });
  t.equal(h.volume('v').attachment, null);
  t.equal(h.volume('v').epoch, 3, 'a clean detach keeps the epoch');
  t.equal(
    h.ok({ type: 'detachVolume', volumeId: 'vol-v', host: 'docker2', epoch: 3, force: false })
      .changed,
    false,
    'detach is idempotent',
  );

  h.ok({ type: 'attachVolume', volumeId: 'vol-v', host: 'docker3', force: false });
  h.ok({ type: 'detachVolume', volumeId: 'vol-v', host: 'admin', force: true });
  t.match(h.volume('v'), { epoch: 5, attachment: null }, 'a forced detach fences the holder');
  t.equal(
    code(h.apply({ type: 'attachVolume', volumeId: 'zz', host: 'x', force: false })),
    'NOT_FOUND',
  );
  t.equal(
    code(h.apply({ type: 'detachVolume', volumeId: 'zz', host: 'x', force: true })),
    'NOT_FOUND',
  );
});

t.test('deleteVolume', async (t) => {
  const h = threeZones();
  h.createVolume('v', ['n1', 'n2']);
  h.ok({
    type: 'createTask',
    taskId: 't1',
    kind: 'rebuild',
    volumeId: 'vol-v',
    nodeId: 'n3',
    totalBytes: 100,
  });
  h.ok({ type: 'attachVolume', volumeId: 'vol-v', host: 'docker1', force: false });
  const attached = h.apply({ type: 'deleteVolume', volumeId: 'vol-v' });
  t.equal(code(attached), 'CONFLICT');
  t.match(message(attached), /attached to host docker1 \(epoch 1\); detach it first/);
  h.ok({ type: 'detachVolume', volumeId: 'vol-v', host: 'docker1', epoch: 1, force: false });
  const deleted = h.ok({ type: 'deleteVolume', volumeId: 'vol-v' });
  t.equal(deleted.value, null);
  t.equal(h.map.getVolumeByName('v'), undefined);
  t.equal(h.map.provisionedBytes('n1'), 0);
  t.match(h.task('t1'), { state: 'cancelled', message: 'volume deleted' });
  t.equal(code(h.apply({ type: 'deleteVolume', volumeId: 'vol-v' })), 'NOT_FOUND');
  h.createVolume('v', ['n1']);
  t.pass('the name is free again');
});

t.test(
  'markReplicaOutOfSync: only the current writer, never the last in-sync replica',
  async (t) => {
    const h = threeZones();
    h.createVolume('v', ['n1', 'n2', 'n3']);
    const notAttached = h.apply({
      type: 'markReplicaOutOfSync',
      volumeId: 'vol-v',
      nodeId: 'n2',
      epoch: 0,
      reason: 'x',
    });
    t.equal(code(notAttached), 'FENCED');
    h.ok({ type: 'attachVolume', volumeId: 'vol-v', host: 'docker1', force: false });
    h.ok({ type: 'attachVolume', volumeId: 'vol-v', host: 'docker2', force: true });

    const stale = h.apply({
      type: 'markReplicaOutOfSync',
      volumeId: 'vol-v',
      nodeId: 'n2',
      epoch: 1,
      reason: 'write failed',
    });
    t.equal(code(stale), 'FENCED', 'a fenced engine cannot change the set');
    t.match(
      message(stale),
      /epoch 1 no longer holds volume v: it is attached to docker2 at epoch 2/,
    );
    t.equal(
      code(
        h.apply({
          type: 'markReplicaOutOfSync',
          volumeId: 'vol-v',
          nodeId: 'n2',
          epoch: 9,
          reason: 'x',
        }),
      ),
      'INVALID_ARGUMENT',
    );
    t.equal(
      code(
        h.apply({
          type: 'markReplicaOutOfSync',
          volumeId: 'vol-v',
          nodeId: 'nx',
          epoch: 2,
          reason: 'x',
        }),
      ),
      'NOT_FOUND',
    );
    t.equal(
      code(
        h.apply({
          type: 'markReplicaOutOfSync',
          volumeId: 'zz',
          nodeId: 'n1',
          epoch: 2,
          reason: 'x',
        }),
      ),
      'NOT_FOUND',
    );

    h.ok({
      type: 'markReplicaOutOfSync',
      volumeId: 'vol-v',
      nodeId: 'n2',
      epoch: 2,
      reason: 'write failed: ECONNRESET',
    });
    let v = h.volume('v');
    t.same(
      v.replicas.map((r) => r.nodeId),
      ['n1', 'n3'],
    );
    t.match(v.staleReplicas, [{ nodeId: 'n2', epoch: 2, reason: 'write failed: ECONNRESET' }]);
    t.equal(v.state, 'degraded');
    t.match(v.stateReason, /n2 out of sync since epoch 2: write failed: ECONNRESET/);
    t.equal(
      h.ok({
        type: 'markReplicaOutOfSync',
        volumeId: 'vol-v',
        nodeId: 'n2',
        epoch: 2,
        reason: 'retry',
      }).changed,
      false,
      'a retried report is a no-op',
    );
    h.ok({
      type: 'markReplicaOutOfSync',
      volumeId: 'vol-v',
      nodeId: 'n3',
      epoch: 2,
      reason: 'timeout',
    });
    const last = h.apply({
      type: 'markReplicaOutOfSync',
      volumeId: 'vol-v',
      nodeId: 'n1',
      epoch: 2,
      reason: 'timeout',
    });
    t.equal(code(last), 'CONFLICT');
    t.match(message(last), /last in-sync replica of volume v/);
    v = h.volume('v');
    t.same(
      v.replicas.map((r) => r.nodeId),
      ['n1'],
    );
  },
);

t.test('addReplica, promoteReplica, removeReplica: a repair', async (t) => {
  const h = threeZones();
  h.addNode('n4', { zone: 'a', host: 'h4' });
  h.addNode('n5', { zone: 'd', host: 'h5' });
  h.createVolume('v', ['n1', 'n2', 'n3'], { zoneSpread: 'required' });
  h.ok({ type: 'attachVolume', volumeId: 'vol-v', host: 'docker1', force: false });
  h.ok({
    type: 'markReplicaOutOfSync',
    volumeId: 'vol-v',
    nodeId: 'n2',
    epoch: 1,
    reason: 'node lost',
  });

  const sameZone = h.apply({ type: 'addReplica', volumeId: 'vol-v', nodeId: 'n4' });
  t.equal(code(sameZone), 'CONFLICT', 'n4 is in zone a, which n1 already holds');
  t.match(message(sameZone), /requires its replicas in distinct zones/);
  t.equal(
    code(h.apply({ type: 'addReplica', volumeId: 'vol-v', nodeId: 'n1' })),
    'CONFLICT',
    'already a member',
  );
  t.equal(code(h.apply({ type: 'addReplica', volumeId: 'vol-v', nodeId: 'nx' })), 'NOT_FOUND');
  t.equal(
    code(h.apply({ type: 'addReplica', volumeId: 'vol-v', nodeId: 'n5', replacing: 'n4' })),
    'NOT_FOUND',
    'n4 holds neither a replica nor a stale record of v',
  );

  h.ok({ type: 'addReplica', volumeId: 'vol-v', nodeId: 'n2' });
  let v = h.volume('v');
  t.match(v.replicas.at(-1), { nodeId: 'n2', role: 'rebuilding' });
  t.same(v.staleReplicas, [], 'the rebuild takes over the stale copy');

  const wrongEpoch = h.apply({ type: 'promoteReplica', volumeId: 'vol-v', nodeId: 'n2', epoch: 0 });
  t.equal(code(wrongEpoch), 'FENCED');
  h.ok({ type: 'promoteReplica', volumeId: 'vol-v', nodeId: 'n2', epoch: 1 });
  v = h.volume('v');
  t.equal(v.state, 'healthy');
  t.equal(
    h.ok({ type: 'promoteReplica', volumeId: 'vol-v', nodeId: 'n2', epoch: 1 }).changed,
    false,
  );
  t.equal(
    code(h.apply({ type: 'promoteReplica', volumeId: 'vol-v', nodeId: 'n5', epoch: 1 })),
    'NOT_FOUND',
  );

  t.test('a move: add the new replica replacing the old, promote, remove the old', async (t) => {
    h.ok({ type: 'addReplica', volumeId: 'vol-v', nodeId: 'n5', replacing: 'n3' });
    const belowDesired = h.apply({
      type: 'removeReplica',
      volumeId: 'vol-v',
      nodeId: 'n3',
      force: false,
    });
    t.equal(code(belowDesired), 'CONFLICT');
    t.match(message(belowDesired), /fewer than the 3 desired/);
    h.ok({ type: 'promoteReplica', volumeId: 'vol-v', nodeId: 'n5', epoch: 1 });
    h.ok({ type: 'removeReplica', volumeId: 'vol-v', nodeId: 'n3', force: false });
    t.same(
      h.volume('v').replicas.map((r) => r.nodeId),
      ['n1', 'n2', 'n5'],
    );
    t.equal(h.map.provisionedBytes('n3'), 0);
    h.ok({ type: 'setNodeState', nodeId: 'n3', action: 'remove' });
  });

  t.test('removeReplica refusals and force', async (t) => {
    t.equal(
      code(h.apply({ type: 'removeReplica', volumeId: 'vol-v', nodeId: 'n3', force: false })),
      'NOT_FOUND',
    );
    h.ok({ type: 'removeReplica', volumeId: 'vol-v', nodeId: 'n5', force: true });
    h.ok({ type: 'removeReplica', volumeId: 'vol-v', nodeId: 'n2', force: true });
    const last = h.apply({ type: 'removeReplica', volumeId: 'vol-v', nodeId: 'n1', force: true });
    t.equal(code(last), 'CONFLICT');
    t.match(message(last), /last in-sync replica/);
  });
});

t.test('promoteReplica refuses a replica on a down node', async (t) => {
  const h = threeZones();
  h.createVolume('v', ['n1']);
  h.ok({ type: 'addReplica', volumeId: 'vol-v', nodeId: 'n2' });
  h.ok({ type: 'setNodeState', nodeId: 'n2', action: 'down' });
  const r = h.apply({ type: 'promoteReplica', volumeId: 'vol-v', nodeId: 'n2', epoch: 0 });
  t.equal(code(r), 'CONFLICT');
  t.match(message(r), /n2 is down/);
});

t.test('removing a node drops its stale replica records', async (t) => {
  const h = threeZones();
  h.createVolume('v', ['n1', 'n2']);
  h.ok({ type: 'attachVolume', volumeId: 'vol-v', host: 'd', force: false });
  h.ok({
    type: 'markReplicaOutOfSync',
    volumeId: 'vol-v',
    nodeId: 'n2',
    epoch: 1,
    reason: 'disk failed',
  });
  h.ok({ type: 'setNodeState', nodeId: 'n2', action: 'remove' });
  t.same(h.volume('v').staleReplicas, []);
  t.same(
    h.events.at(-1)!.changes.map((c) => `${c.kind}:${c.id}`),
    ['node:n2', 'volume:vol-v'],
  );
});

t.test('tasks', async (t) => {
  const h = threeZones();
  h.createVolume('v', ['n1']);
  h.ok({
    type: 'createTask',
    taskId: 't1',
    kind: 'rebuild',
    volumeId: 'vol-v',
    nodeId: 'n2',
    sourceNodeId: 'n1',
    totalBytes: 1000,
  });
  t.match(h.task('t1'), { state: 'pending', doneBytes: 0, totalBytes: 1000, finishedAt: null });
  t.equal(
    code(h.apply({ type: 'createTask', taskId: 't1', kind: 'rebuild', totalBytes: 1 })),
    'CONFLICT',
  );
  t.equal(
    code(
      h.apply({ type: 'createTask', taskId: 't2', kind: 'rebuild', volumeId: 'zz', totalBytes: 1 }),
    ),
    'NOT_FOUND',
  );
  t.equal(
    code(h.apply({ type: 'createTask', taskId: 't2', kind: 'drain', nodeId: 'zz', totalBytes: 1 })),
    'NOT_FOUND',
  );
  h.ok({ type: 'updateTask', taskId: 't1', doneBytes: 500, message: 'copying' });
  t.match(h.task('t1'), { state: 'running', doneBytes: 500, message: 'copying' });
  t.equal(code(h.apply({ type: 'updateTask', taskId: 't1', doneBytes: 2000 })), 'UNPROCESSABLE');
  t.equal(code(h.apply({ type: 'updateTask', taskId: 'zz', doneBytes: 1 })), 'NOT_FOUND');
  h.ok({ type: 'finishTask', taskId: 't1', outcome: 'succeeded' });
  t.match(h.task('t1'), { state: 'succeeded', doneBytes: 1000 });
  t.equal(h.ok({ type: 'finishTask', taskId: 't1', outcome: 'succeeded' }).changed, false);
  t.equal(code(h.apply({ type: 'finishTask', taskId: 't1', outcome: 'failed' })), 'CONFLICT');
  t.equal(code(h.apply({ type: 'updateTask', taskId: 't1', doneBytes: 1 })), 'CONFLICT');
  t.equal(code(h.apply({ type: 'finishTask', taskId: 'zz', outcome: 'failed' })), 'NOT_FOUND');
});

t.test('finished tasks are bounded: the oldest are dropped', async (t) => {
  const map = new ClusterMap();
  let index = 0;
  for (let i = 0; i < MAX_FINISHED_TASKS + 5; i++) {
    const id = `t${String(i).padStart(5, '0')}`;
    map.apply({ type: 'createTask', at: i, taskId: id, kind: 'delete', totalBytes: 0 }, ++index);
    const { result } = map.apply(
      { type: 'finishTask', at: i, taskId: id, outcome: 'succeeded' },
      ++index,
    );
    if (!result.ok) t.fail(JSON.stringify(result));
  }
  t.equal(map.listTasks().length, MAX_FINISHED_TASKS);
  t.equal(map.listTasks()[0]!.id, 't00005');
});

t.test('updateSettings changes what counts as room', async (t) => {
  const h = threeZones();
  const big = 150 * GiB;
  const before = h.apply({
    type: 'createVolume',
    volumeId: 'vol-big',
    name: 'big',
    sizeBytes: big,
    chunkSizeBytes: 4 * 1024 * 1024,
    desiredReplicas: 1,
    constraints: { nodeSelector: {}, zoneSpread: 'preferred' },
    fs: 'ext4',
    replicaNodeIds: ['n1'],
  });
  t.equal(code(before), 'UNPROCESSABLE');
  h.ok({ type: 'updateSettings', overProvisionPercent: 200 });
  t.equal(h.map.settings.overProvisionPercent, 200);
  h.createVolume('big', ['n1'], { sizeBytes: big });
  t.equal(h.ok({ type: 'updateSettings', overProvisionPercent: 200 }).changed, false);
});

t.test(
  'snapshot and restore round-trip exactly, and the restored map behaves the same',
  async (t) => {
    const h = threeZones();
    h.createVolume('a', ['n1', 'n2']);
    h.createVolume('b', ['n3']);
    h.ok({ type: 'attachVolume', volumeId: 'vol-a', host: 'd1', force: false });
    h.ok({ type: 'markReplicaOutOfSync', volumeId: 'vol-a', nodeId: 'n2', epoch: 1, reason: 'x' });
    h.ok({ type: 'createTask', taskId: 't', kind: 'rebuild', volumeId: 'vol-a', totalBytes: 10 });
    h.ok({ type: 'setNodeState', nodeId: 'n3', action: 'cordon' });
    const snap = h.map.snapshot();
    const restored = ClusterMap.restore(JSON.parse(JSON.stringify(snap)));
    t.same(restored.snapshot(), snap);
    t.equal(JSON.stringify(restored.snapshot()), JSON.stringify(snap), 'byte for byte');
    t.equal(restored.provisionedBytes('n1'), h.map.provisionedBytes('n1'));

    const next = { type: 'addReplica', at: 99, volumeId: 'vol-a', nodeId: 'n3' };
    const r1 = h.map.apply(next, h.map.appliedIndex + 1);
    const r2 = restored.apply(next, restored.appliedIndex + 1);
    t.same(r2, r1, 'same result from both');

    t.throws(() => ClusterMap.restore({ ...snap, format: 3 }), { code: 'INVALID_ARGUMENT' });
    // Format 1 (before the control-loop settings) still loads, with their defaults.
    const v1 = { ...snap, format: 1, settings: { overProvisionPercent: 200 } };
    const upgraded = ClusterMap.restore(JSON.parse(JSON.stringify(v1)));
    t.same(upgraded.settings, { ...DEFAULT_SETTINGS, overProvisionPercent: 200 });
    t.equal(upgraded.snapshot().format, 2);
    t.throws(() => ClusterMap.restore({ ...snap, nodes: [...snap.nodes, snap.nodes[0]] }), {
      code: 'INVALID_ARGUMENT',
    });
    t.throws(() => ClusterMap.restore('garbage'), { code: 'INVALID_ARGUMENT' });
  },
);

t.test(
  'records handed out are frozen: callers cannot change the map behind its back',
  async (t) => {
    const h = threeZones();
    const node = h.node('n1');
    t.throws(() => {
      (node as { state: string }).state = 'removed';
    });
    t.equal(h.node('n1').state, 'up');
  },
);
