import t from 'tap';
import { GiB } from '../src/index.js';
import { placeReplacement, placeReplicas, type PlacementRequest } from '../src/placement/index.js';
import { MapHarness } from './helpers/map-harness.js';

function request(count: number, extra: Partial<PlacementRequest> = {}): PlacementRequest {
  return { count, sizeBytes: GiB, nodeSelector: {}, zoneSpread: 'required', ...extra };
}

t.test(
  'spreads over distinct zones first, then by free capacity (fraction, then bytes)',
  async (t) => {
    const h = new MapHarness();
    h.addNode('a1', { zone: 'a', host: 'ha1' }, 100 * GiB);
    h.addNode('a2', { zone: 'a', host: 'ha2' }, 500 * GiB);
    h.addNode('b1', { zone: 'b', host: 'hb1' }, 200 * GiB);
    h.addNode('c1', { zone: 'c', host: 'hc1' }, 50 * GiB);
    const d = placeReplicas(h.map, request(3));
    t.same(
      d,
      { ok: true, nodeIds: ['a2', 'b1', 'c1'] },
      'one per zone; all empty, so the biggest first',
    );
    h.createVolume('half', ['a2'], { sizeBytes: 300 * GiB });
    t.same(
      placeReplicas(h.map, request(1)),
      { ok: true, nodeIds: ['b1'] },
      'a2 has more free bytes (200 GiB) but is 60% full; b1 is empty',
    );
    t.same(
      placeReplicas(h.map, request(2)),
      { ok: true, nodeIds: ['b1', 'a1'] },
      'in zone a, empty a1 beats a2',
    );
  },
);

t.test('required zone spread refuses with an explanation naming the zones', async (t) => {
  const h = new MapHarness();
  h.addNode('a1', { zone: 'zone-a', host: 'h1' });
  h.addNode('a2', { zone: 'zone-a', host: 'h2' });
  h.addNode('b1', { zone: 'zone-b', host: 'h3' });
  h.addNode('c1', { zone: 'zone-c', host: 'h4' });
  h.ok({ type: 'setNodeState', nodeId: 'c1', action: 'down' });
  const d = placeReplicas(h.map, request(3));
  t.equal(d.ok, false);
  if (d.ok) return;
  t.equal(
    d.reason,
    'need 3 replica(s) in distinct zones, only 2 zones have a node with room (zone-a: 2 nodes, zone-b: 1 node); excluded 1 not up: c1 (down)',
  );
  t.equal(d.missing, 1);
});

t.test(
  'preferred zone spread places more replicas than zones, evenly, on distinct hosts',
  async (t) => {
    const h = new MapHarness();
    h.addNode('a1', { zone: 'a', host: 'h1' }, 300 * GiB);
    h.addNode('a2', { zone: 'a', host: 'h2' }, 200 * GiB);
    h.addNode('a3', { zone: 'a', host: 'h3' }, 100 * GiB);
    h.addNode('b1', { zone: 'b', host: 'h4' }, 10 * GiB);
    h.addNode('b2', { zone: 'b', host: 'h5' }, 5 * GiB);
    const d = placeReplicas(h.map, request(4, { zoneSpread: 'preferred' }));
    t.same(d, { ok: true, nodeIds: ['a1', 'b1', 'a2', 'b2'] }, 'water-filling: a, b, a, b');
    const five = placeReplicas(h.map, request(5, { zoneSpread: 'preferred' }));
    t.same(five, { ok: true, nodeIds: ['a1', 'b1', 'a2', 'b2', 'a3'] });
    const six = placeReplicas(h.map, request(6, { zoneSpread: 'preferred' }));
    t.equal(six.ok, false);
    if (!six.ok)
      t.equal(
        six.reason,
        'need 6 replica(s) on distinct hosts, only 5 hosts have a node with room (a: 3 hosts, b: 2 hosts)',
      );
  },
);

t.test(
  'never two replicas on one host; nodes without a host label are their own host',
  async (t) => {
    const h = new MapHarness();
    h.addNode('x1', { host: 'big' }, 500 * GiB);
    h.addNode('x2', { host: 'big' }, 400 * GiB);
    h.addNode('y', {}, 10 * GiB);
    h.addNode('z', {}, 10 * GiB);
    const d = placeReplicas(h.map, request(3, { zoneSpread: 'preferred' }));
    t.same(d, { ok: true, nodeIds: ['x1', 'y', 'z'] });
    const required = placeReplicas(h.map, request(2));
    t.equal(required.ok, false, 'nodes without a zone label share one zone');
    if (!required.ok)
      t.match(required.reason, /only 1 zone has a node with room \(\(no zone label\): 4 nodes\)/);
  },
);

t.test('excludes cordoned, draining, down and removed nodes, and says why', async (t) => {
  const h = new MapHarness();
  for (const id of ['n1', 'n2', 'n3', 'n4', 'n5']) h.addNode(id, { zone: id, host: id });
  h.ok({ type: 'setNodeState', nodeId: 'n1', action: 'cordon' });
  h.ok({ type: 'setNodeState', nodeId: 'n2', action: 'drain' });
  h.ok({ type: 'setNodeState', nodeId: 'n3', action: 'down' });
  h.ok({ type: 'setNodeState', nodeId: 'n4', action: 'remove' });
  t.same(placeReplicas(h.map, request(1)), { ok: true, nodeIds: ['n5'] });
  const d = placeReplicas(h.map, request(2));
  t.equal(d.ok, false);
  if (!d.ok) {
    t.equal(
      d.reason,
      'need 2 replica(s) in distinct zones, only 1 zone has a node with room (n5: 1 node); excluded 3 not up: n1 (cordoned), n2 (draining), n3 (down)',
    );
  }
});

t.test('honours label selectors and free capacity', async (t) => {
  const h = new MapHarness();
  h.addNode('ssd1', { zone: 'a', disk: 'ssd' }, 20 * GiB);
  h.addNode('ssd2', { zone: 'b', disk: 'ssd' }, 5 * GiB);
  h.addNode('hdd1', { zone: 'c', disk: 'hdd' }, 1000 * GiB);
  const d = placeReplicas(
    h.map,
    request(2, { nodeSelector: { disk: 'ssd' }, sizeBytes: 10 * GiB }),
  );
  t.equal(d.ok, false);
  if (!d.ok) {
    t.equal(
      d.reason,
      'need 2 replica(s) in distinct zones, only 1 zone has a node with room (a: 1 node); excluded 1 not matching disk=ssd: hdd1; 1 without room for 10 GiB: ssd2: 5 GiB free',
    );
  }
  t.same(placeReplicas(h.map, request(2, { nodeSelector: { disk: 'ssd' }, sizeBytes: 4 * GiB })), {
    ok: true,
    nodeIds: ['ssd1', 'ssd2'],
  });
});

t.test(
  'free capacity counts the volumes already placed (thin: provisioned, not used)',
  async (t) => {
    const h = new MapHarness();
    h.addNode('a', { zone: 'a' }, 100 * GiB);
    h.addNode('b', { zone: 'b' }, 80 * GiB);
    t.same(placeReplicas(h.map, request(1)), { ok: true, nodeIds: ['a'] });
    h.createVolume('v', ['a'], { sizeBytes: 30 * GiB });
    t.same(
      placeReplicas(h.map, request(1)),
      { ok: true, nodeIds: ['b'] },
      'a has 70 GiB free now, b 80',
    );
    h.createVolume('w', ['b'], { sizeBytes: 40 * GiB });
    t.same(placeReplicas(h.map, request(1)), { ok: true, nodeIds: ['a'] }, 'a is 30% full, b 50%');
    h.ok({ type: 'updateSettings', overProvisionPercent: 200 });
    t.same(
      placeReplicas(h.map, request(1)),
      { ok: true, nodeIds: ['a'] },
      'a: 30 of 200 GiB, b: 40 of 160 GiB',
    );
  },
);

t.test('data locality: one replica on the preferred host when it costs no spread', async (t) => {
  const h = new MapHarness();
  h.addNode('a1', { zone: 'a', host: 'docker1' }, 10 * GiB);
  h.addNode('a2', { zone: 'a', host: 'h2' }, 500 * GiB);
  h.addNode('b1', { zone: 'b', host: 'h3' }, 100 * GiB);
  h.addNode('c1', { zone: 'c', host: 'h4' }, 100 * GiB);
  t.same(placeReplicas(h.map, request(3, { preferHost: 'docker1' })), {
    ok: true,
    nodeIds: ['a1', 'b1', 'c1'],
  });
  t.same(
    placeReplicas(h.map, request(3)),
    { ok: true, nodeIds: ['a2', 'b1', 'c1'] },
    'without the hint',
  );
  t.same(
    placeReplicas(h.map, request(2, { preferHost: 'nowhere' })),
    { ok: true, nodeIds: ['a2', 'b1'] },
    'an unknown host is only a hint',
  );
  h.ok({ type: 'setNodeState', nodeId: 'a1', action: 'cordon' });
  t.same(placeReplicas(h.map, request(1, { preferHost: 'docker1' })), {
    ok: true,
    nodeIds: ['a2'],
  });
});

t.test('replacement keeps the spread rule relative to the remaining replicas', async (t) => {
  const h = new MapHarness();
  h.addNode('a1', { zone: 'a', host: 'h1' }, 100 * GiB);
  h.addNode('a2', { zone: 'a', host: 'h2' }, 900 * GiB);
  h.addNode('b1', { zone: 'b', host: 'h3' });
  h.addNode('c1', { zone: 'c', host: 'h4' });
  h.addNode('c2', { zone: 'c', host: 'h5' }, 50 * GiB);
  const v = h.createVolume('v', ['a1', 'b1', 'c1'], { zoneSpread: 'required' });
  h.ok({ type: 'setNodeState', nodeId: 'c1', action: 'down' });
  t.same(
    placeReplacement(h.map, v, 'c1'),
    { ok: true, nodeIds: ['c2'] },
    'the only zone-c candidate',
  );
  h.ok({ type: 'setNodeState', nodeId: 'c2', action: 'down' });
  const d = placeReplacement(h.map, v, 'c1');
  t.equal(d.ok, false);
  if (!d.ok) {
    t.equal(
      d.reason,
      'need 1 more replica(s) beside the 2 existing in distinct zones other than a, b, only 0 zones have a node with room; excluded 1 not up: c2 (down)',
    );
  }
  const preferred = h.createVolume('p', ['a1', 'b1'], { zoneSpread: 'preferred' });
  t.same(
    placeReplacement(h.map, preferred, 'b1'),
    { ok: true, nodeIds: ['a2'] },
    'a zone-a host other than a1',
  );
});

t.test('no nodes at all', async (t) => {
  const h = new MapHarness();
  t.same(placeReplicas(h.map, request(1)), {
    ok: false,
    missing: 1,
    reason: 'need 1 replica(s), but no storage node is available',
  });
});

t.test('a placement is accepted by the state machine', async (t) => {
  const h = new MapHarness();
  for (let i = 0; i < 6; i++) h.addNode(`n${i}`, { zone: `z${i % 3}`, host: `h${i}` });
  const d = placeReplicas(h.map, request(3, { sizeBytes: 10 * GiB }));
  t.equal(d.ok, true);
  if (d.ok) {
    h.ok({
      type: 'createVolume',
      volumeId: 'v1',
      name: 'v1',
      sizeBytes: 10 * GiB,
      chunkSizeBytes: 4 * 1024 * 1024,
      desiredReplicas: 3,
      constraints: { nodeSelector: {}, zoneSpread: 'required' },
      fs: 'ext4',
      replicaNodeIds: d.nodeIds,
    });
  }
});
