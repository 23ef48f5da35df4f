// Replica used bytes in the map: the reportReplicaUsage command (validated, deterministic,
// refused input changes nothing: MapHarness checks that after every apply), the heartbeat rule
// that decides when a figure is worth a log entry, and maps from before the field existed.
import t from 'tap';
import {
  ClusterMap,
  GiB,
  MAX_REPLICA_USAGE_REPORTS,
  MiB,
  replicaUsageReports,
  replicaUsedBytes,
  type ApplyResult,
} from '../src/index.js';
import { MapHarness } from './helpers/map-harness.js';

function code(result: ApplyResult): string {
  return result.ok ? 'OK' : result.error.code;
}

/** Three nodes in three zones; v (10 GiB) on n1 and n2, w (1 GiB) on n1. */
function setup(): MapHarness {
  const h = new MapHarness();
  h.addNode('n1', { zone: 'a' });
  h.addNode('n2', { zone: 'b' });
  h.addNode('n3', { zone: 'c' });
  h.createVolume('v', ['n1', 'n2'], { sizeBytes: 10 * GiB });
  h.createVolume('w', ['n1']);
  return h;
}

const usage = (name: string, h: MapHarness) =>
  h.volume(name).replicas.map((r) => [r.nodeId, r.usedBytes]);

t.test('reportReplicaUsage records figures per replica, in one revision', async (t) => {
  const h = setup();
  t.same(usage('v', h), [
    ['n1', undefined],
    ['n2', undefined],
  ]);
  const before = h.map.revision;
  const r = h.ok({
    type: 'reportReplicaUsage',
    nodeId: 'n1',
    replicas: [
      { volumeId: 'vol-v', usedBytes: 3 * GiB },
      { volumeId: 'vol-w', usedBytes: 0 },
    ],
  });
  t.equal(r.revision, before + 1, 'one command, one revision');
  t.match(r.value, { id: 'n1' }, 'the result shows the node');
  t.same(usage('v', h), [
    ['n1', 3 * GiB],
    ['n2', undefined],
  ]);
  t.same(usage('w', h), [['n1', 0]]);
  t.same(
    h.events.at(-1)!.changes.map((c) => c.id),
    ['vol-v', 'vol-w'],
  );
  t.equal(
    h.ok({
      type: 'reportReplicaUsage',
      nodeId: 'n1',
      replicas: [{ volumeId: 'vol-w', usedBytes: 0 }],
    }).changed,
    false,
    'the same figure again changes nothing',
  );
  // A replica the map no longer lists there (it moved, or the volume is gone) is skipped.
  const skipped = h.ok({
    type: 'reportReplicaUsage',
    nodeId: 'n3',
    replicas: [
      { volumeId: 'vol-v', usedBytes: GiB },
      { volumeId: 'vol-gone', usedBytes: GiB },
    ],
  });
  t.equal(skipped.changed, false);
});

t.test('bad reports are refused and change nothing', async (t) => {
  const h = setup();
  const bad: Array<[string, unknown]> = [
    ['INVALID_ARGUMENT', { nodeId: 'n1', replicas: [] }],
    ['INVALID_ARGUMENT', { nodeId: 'n1', replicas: [{ volumeId: 'vol-v', usedBytes: -1 }] }],
    ['INVALID_ARGUMENT', { nodeId: 'n1', replicas: [{ volumeId: 'vol-v', usedBytes: 1.5 }] }],
    ['INVALID_ARGUMENT', { nodeId: 'n1', replicas: [{ volumeId: 'vol-v' }] }],
    ['INVALID_ARGUMENT', { nodeId: 'n1', replicas: [{ volumeId: '-x', usedBytes: 1 }] }],
    [
      'INVALID_ARGUMENT',
      { nodeId: 'n1', replicas: [{ volumeId: 'vol-v', usedBytes: 1, extra: true }] },
    ],
    [
      'INVALID_ARGUMENT',
      {
        nodeId: 'n1',
        replicas: Array.from({ length: MAX_REPLICA_USAGE_REPORTS + 1 }, (_, i) => ({
          volumeId: `vol-${i}`,
          usedBytes: 0,
        })),
      },
    ],
    ['NOT_FOUND', { nodeId: 'zz', replicas: [{ volumeId: 'vol-v', usedBytes: 1 }] }],
    [
      'UNPROCESSABLE',
      {
        nodeId: 'n1',
        replicas: [
          { volumeId: 'vol-w', usedBytes: 1 },
          { volumeId: 'vol-v', usedBytes: GiB },
          { volumeId: 'vol-w', usedBytes: 2 },
        ],
      },
    ],
    [
      'UNPROCESSABLE',
      {
        nodeId: 'n1',
        replicas: [
          { volumeId: 'vol-w', usedBytes: 1 },
          { volumeId: 'vol-v', usedBytes: 10 * GiB + 1 },
        ],
      },
    ],
  ];
  for (const [want, body] of bad) {
    t.equal(
      code(h.apply({ type: 'reportReplicaUsage', ...(body as object) })),
      want,
      JSON.stringify(body).slice(0, 120),
    );
  }
  t.same(usage('w', h), [['n1', undefined]], 'the good entries of a refused report were not kept');
  h.ok({ type: 'setNodeState', nodeId: 'n3', action: 'remove' });
  t.equal(
    code(
      h.apply({
        type: 'reportReplicaUsage',
        nodeId: 'n3',
        replicas: [{ volumeId: 'vol-v', usedBytes: 1 }],
      }),
    ),
    'CONFLICT',
  );
});

t.test('a promoted replica takes the in-sync figure; what rebalance counts', async (t) => {
  const h = setup();
  h.ok({
    type: 'reportReplicaUsage',
    nodeId: 'n1',
    replicas: [{ volumeId: 'vol-v', usedBytes: 4 * GiB }],
  });
  h.ok({
    type: 'reportReplicaUsage',
    nodeId: 'n2',
    replicas: [{ volumeId: 'vol-v', usedBytes: 3 * GiB }],
  });
  h.ok({ type: 'addReplica', volumeId: 'vol-v', nodeId: 'n3' });
  // The rebuild's node reports how far its copy got.
  h.ok({
    type: 'reportReplicaUsage',
    nodeId: 'n3',
    replicas: [{ volumeId: 'vol-v', usedBytes: GiB }],
  });
  const v = h.volume('v');
  t.equal(replicaUsedBytes(v, 'n1'), 4 * GiB, 'in sync, reported: its own figure');
  t.equal(replicaUsedBytes(v, 'n2'), 3 * GiB);
  t.equal(replicaUsedBytes(v, 'n3'), 4 * GiB, 'rebuilding: the largest figure of the volume');
  t.equal(replicaUsedBytes(v, 'n9'), 0, 'no replica there');
  t.equal(replicaUsedBytes(h.volume('w'), 'n1'), 0, 'a volume nobody reported counts 0');

  h.ok({ type: 'promoteReplica', volumeId: 'vol-v', nodeId: 'n3', epoch: 0 });
  t.same(usage('v', h), [
    ['n1', 4 * GiB],
    ['n2', 3 * GiB],
    ['n3', 4 * GiB],
  ]);
  // Without any in-sync figure, the promoted replica stays unknown.
  h.ok({ type: 'addReplica', volumeId: 'vol-w', nodeId: 'n2' });
  h.ok({ type: 'promoteReplica', volumeId: 'vol-w', nodeId: 'n2', epoch: 0 });
  t.same(usage('w', h), [
    ['n1', undefined],
    ['n2', undefined],
  ]);
});

t.test('the heartbeat rule: new figures, and changes of max(64 MiB, 5% of size)', async (t) => {
  const h = setup();
  const v = [{ volumeId: 'vol-v', usedBytes: 0 }];
  t.same(replicaUsageReports(h.map, 'n1', v), v, 'never reported: always worth it, even 0');
  t.same(replicaUsageReports(h.map, 'n3', v), [], 'not a replica on that node: left out');
  t.same(replicaUsageReports(h.map, 'n1', [{ volumeId: 'nope', usedBytes: 1 }]), []);
  t.same(
    replicaUsageReports(h.map, 'n1', [{ volumeId: 'vol-w', usedBytes: 5 * GiB }]),
    [{ volumeId: 'vol-w', usedBytes: GiB }],
    'clipped to the volume size',
  );
  h.ok({
    type: 'reportReplicaUsage',
    nodeId: 'n1',
    replicas: [
      { volumeId: 'vol-v', usedBytes: 2 * GiB },
      { volumeId: 'vol-w', usedBytes: 100 * MiB },
    ],
  });
  // v is 10 GiB: 5% is 512 MiB. w is 1 GiB: 5% is ~51 MiB, so the 64 MiB floor applies.
  const at = (volumeId: string, usedBytes: number) =>
    replicaUsageReports(h.map, 'n1', [{ volumeId, usedBytes }]).length;
  t.equal(at('vol-v', 2 * GiB + 511 * MiB), 0);
  t.equal(at('vol-v', 2 * GiB - 511 * MiB), 0);
  t.equal(at('vol-v', 2 * GiB + 512 * MiB), 1);
  t.equal(at('vol-v', 2 * GiB - 512 * MiB), 1);
  t.equal(at('vol-w', 163 * MiB), 0);
  t.equal(at('vol-w', 164 * MiB), 1);
  t.equal(at('vol-w', 36 * MiB), 1);
});

t.test('maps from before replica usage load; the figures survive snapshots', async (t) => {
  const h = setup();
  const old = h.map.snapshot();
  t.notOk(
    old.volumes.some((v) => v.replicas.some((r) => 'usedBytes' in r)),
    'no replica record carries the field yet',
  );
  const restored = ClusterMap.restore(JSON.parse(JSON.stringify(old)));
  t.equal(replicaUsedBytes(restored.getVolume('vol-v')!, 'n1'), 0, 'unknown, counted as 0');
  // A format 1 snapshot (older still) loads too.
  const v1 = { ...old, format: 1, settings: { overProvisionPercent: 100 } };
  t.equal(
    ClusterMap.restore(JSON.parse(JSON.stringify(v1))).getVolume('vol-v')!.replicas.length,
    2,
  );

  h.ok({
    type: 'reportReplicaUsage',
    nodeId: 'n2',
    replicas: [{ volumeId: 'vol-v', usedBytes: 7 * GiB }],
  });
  const snap = h.map.snapshot();
  const back = ClusterMap.restore(JSON.parse(JSON.stringify(snap)));
  t.equal(JSON.stringify(back.snapshot()), JSON.stringify(snap), 'byte for byte');
  t.equal(replicaUsedBytes(back.getVolume('vol-v')!, 'n1'), 7 * GiB);
  // A bad figure in a snapshot is refused like any other bad field.
  const broken = JSON.parse(JSON.stringify(snap)) as typeof snap;
  (broken.volumes[0]!.replicas[0] as { usedBytes?: number }).usedBytes = -5;
  t.throws(() => ClusterMap.restore(broken), { code: 'INVALID_ARGUMENT' });
});
