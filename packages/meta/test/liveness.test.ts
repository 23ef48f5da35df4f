import t from 'tap';
import {
  DirectMetaStore,
  GiB,
  MiB,
  NodeLiveness,
  capacityReportNeeded,
  nodesToMarkDown,
  sweepLiveness,
} from '../src/index.js';
import { MapHarness } from './helpers/map-harness.js';

const TIMEOUT_MS = 10_000;

t.test(
  'nodesToMarkDown: silence past the timeout, counted from the later of last heartbeat and leadership',
  async (t) => {
    const h = new MapHarness();
    h.addNode('quiet');
    h.addNode('chatty');
    h.addNode('never-heard');
    h.addNode('already-down');
    h.addNode('gone');
    h.ok({ type: 'setNodeState', nodeId: 'already-down', action: 'down' });
    h.ok({ type: 'setNodeState', nodeId: 'gone', action: 'remove' });
    const leaderSince = 1_000_000;
    const seen: Record<string, number> = {
      quiet: leaderSince + 1_000,
      chatty: leaderSince + 14_000,
    };
    const last = (id: string) => seen[id];

    t.same(
      nodesToMarkDown(h.map, last, leaderSince + 10_000, leaderSince, TIMEOUT_MS),
      [],
      'nobody is past the timeout yet',
    );
    const at = leaderSince + 11_500;
    t.same(nodesToMarkDown(h.map, last, at, leaderSince, TIMEOUT_MS), [
      {
        nodeId: 'never-heard',
        silentForMs: 11_500,
        reason: 'no heartbeat for 11.5s (timeout 10.0s)',
      },
      { nodeId: 'quiet', silentForMs: 10_500, reason: 'no heartbeat for 10.5s (timeout 10.0s)' },
    ]);
    t.same(
      nodesToMarkDown(
        h.map,
        () => leaderSince - 60_000,
        leaderSince + 5_000,
        leaderSince,
        TIMEOUT_MS,
      ),
      [],
      'heartbeats from before this leadership do not count against a node',
    );
  },
);

t.test('NodeLiveness ignores reordered heartbeats', async (t) => {
  const l = new NodeLiveness();
  t.equal(l.record('n1', 100, 5), true);
  t.equal(l.record('n1', 200, 3), false);
  t.equal(l.lastSeenMs('n1'), 100);
  t.equal(l.record('n1', 300), true, 'no sequence: accepted');
  t.equal(l.record('n1', 400, 6), true);
  t.equal(l.lastSeenMs('n1'), 400);
  l.forget('n1');
  t.equal(l.lastSeenMs('n1'), undefined);
  l.record('n2', 1);
  l.clear();
  t.equal(l.lastSeenMs('n2'), undefined);
});

t.test('capacityReportNeeded only for changes worth a log entry', async (t) => {
  const h = new MapHarness();
  const node = h.addNode('n', {}, 100 * GiB);
  t.equal(capacityReportNeeded(node, 100 * GiB, 0), false);
  t.equal(capacityReportNeeded(node, 100 * GiB, 500 * MiB), false, 'below 1% of 100 GiB');
  t.equal(capacityReportNeeded(node, 100 * GiB, 2 * GiB), true);
  t.equal(capacityReportNeeded(node, 101 * GiB, 0), true, 'any capacity change');
  const small = h.addNode('s', {}, GiB);
  t.equal(capacityReportNeeded(small, GiB, 32 * MiB), false, 'at least 64 MiB');
  t.equal(capacityReportNeeded(small, GiB, 64 * MiB), true);
});

t.test('sweepLiveness proposes down for silent nodes on the leader only', async (t) => {
  const clock = { nowMs: 5_000_000 };
  const store = new DirectMetaStore({ clock: () => clock.nowMs });
  for (const id of ['a', 'b']) {
    await store.propose({
      type: 'registerNode',
      at: clock.nowMs,
      nodeId: id,
      address: `${id}:1`,
      labels: {},
      capacityBytes: GiB,
      usedBytes: 0,
    });
  }
  await store.propose({
    type: 'createVolume',
    at: clock.nowMs,
    volumeId: 'v',
    name: 'v',
    sizeBytes: GiB / 2,
    chunkSizeBytes: 4 * MiB,
    desiredReplicas: 2,
    constraints: { nodeSelector: {}, zoneSpread: 'preferred' },
    fs: 'ext4',
    replicaNodeIds: ['a', 'b'],
  });
  const liveness = new NodeLiveness();
  clock.nowMs += 8_000;
  liveness.record('a', clock.nowMs);
  t.equal(await sweepLiveness(store, liveness, clock.nowMs, TIMEOUT_MS), 0);
  clock.nowMs += 3_000;
  t.equal(
    await sweepLiveness(store, liveness, clock.nowMs, TIMEOUT_MS),
    1,
    'b has been silent 11 s',
  );
  t.match(store.map.getNode('b'), {
    state: 'down',
    stateReason: 'no heartbeat for 11.0s (timeout 10.0s)',
  });
  t.match(store.map.getVolume('v'), { state: 'degraded' });
  t.equal(
    await sweepLiveness(store, liveness, clock.nowMs, TIMEOUT_MS),
    0,
    'a down node is not marked again',
  );
  store.close();
  t.equal(
    await sweepLiveness(store, liveness, clock.nowMs + 60_000, TIMEOUT_MS),
    0,
    'not the leader: nothing',
  );
});
