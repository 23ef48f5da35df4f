import t from 'tap';
import type { LightMyRequestResponse } from 'fastify';
import {
  ClusterMap,
  DirectMetaStore,
  GiB,
  MAX_REPLICA_USAGE_REPORTS,
  MiB,
  buildApi,
  type ApplyResult,
  type ClusterMapReader,
  type ClusterStatus,
  type Command,
  type LeaderHint,
  type MetaStore,
  type WatchListener,
  type WatchSubscription,
} from '../src/index.js';
import {
  AUTH,
  LeaderlessStore,
  TOKEN,
  addNodes,
  isProblem,
  startApi,
} from './helpers/api-harness.js';

/** The part of a tap Test these helpers use. */
type Test = { equal(found: unknown, wanted: unknown, message: string): boolean };

/** Asserts a problem+json answer with this status and code; returns its body. */
function problem(
  t: Test,
  res: LightMyRequestResponse,
  status: number,
  code: string,
): Record<string, unknown> {
  t.equal(isProblem(res, status, code), null, `${status} ${code}`);
  return res.json() as Record<string, unknown>;
}

t.test('cluster, health, docs and metrics', async (t) => {
  const api = await startApi(t);
  const cluster = await api.call('GET', '/v1/cluster');
  t.equal(cluster.statusCode, 200);
  t.same(cluster.json(), {
    members: [{ id: 'meta-1', api: 'http://meta-1.test:7000', role: 'leader' }],
    leader: 'meta-1',
    term: 1,
    commitIndex: 0,
    revision: 0,
  });
  const health = await api.app.inject({ method: 'GET', url: '/healthz' });
  t.same(health.json(), { status: 'ok', leader: true, revision: 0 });

  const docs = await api.app.inject({ method: 'GET', url: '/docs/json' });
  t.equal(docs.statusCode, 200);
  const openapi = docs.json() as {
    openapi: string;
    paths: Record<string, Record<string, unknown>>;
  };
  t.equal(openapi.openapi, '3.1.0');
  for (const [path, methods] of Object.entries({
    '/v1/cluster': ['get'],
    '/v1/nodes': ['get', 'post'],
    '/v1/nodes/{id}': ['get', 'delete'],
    '/v1/nodes/{id}/heartbeat': ['post'],
    '/v1/nodes/{id}/cordon': ['post'],
    '/v1/nodes/{id}/uncordon': ['post'],
    '/v1/nodes/{id}/drain': ['post'],
    '/v1/nodes/{id}/labels': ['put'],
    '/v1/volumes': ['get', 'post'],
    '/v1/volumes/{name}': ['get', 'patch', 'delete'],
    '/v1/volumes/{name}/attach': ['post'],
    '/v1/volumes/{name}/detach': ['post'],
    '/v1/volumes/{name}/replicas/{nodeId}/out-of-sync': ['post'],
    '/v1/tasks': ['get'],
    '/v1/tasks/{id}': ['get'],
    '/v1/hosts': ['get'],
    '/v1/hosts/{id}': ['get'],
    '/v1/hosts/{id}/heartbeat': ['post'],
    '/v1/watch': ['get'],
    '/healthz': ['get'],
  })) {
    for (const method of methods)
      t.ok(openapi.paths[path]?.[method], `OpenAPI documents ${method} ${path}`);
  }
  const createBody = (
    openapi.paths['/v1/volumes']!.post as {
      requestBody: { content: Record<string, { schema: { additionalProperties: boolean } }> };
    }
  ).requestBody.content['application/json']!.schema;
  t.equal(createBody.additionalProperties, false, 'schemas are closed in the document too');

  const ui = await api.app.inject({ method: 'GET', url: '/docs' });
  t.equal(ui.statusCode, 200);
  t.match(ui.body, /swagger-ui/i);

  const metrics = await api.app.inject({ method: 'GET', url: '/metrics' });
  t.equal(metrics.statusCode, 200);
  t.match(
    metrics.body,
    /ballast_meta_http_requests_total\{route="\/v1\/cluster",method="GET",status="200"\} 1/,
  );
  t.match(metrics.body, /ballast_meta_map_revision 0/);
});

t.test(
  'nodes: register, re-register, get, list, labels, cordon, drain, uncordon, delete',
  async (t) => {
    const api = await startApi(t);
    const created = await api.call('POST', '/v1/nodes', {
      address: '10.0.0.1:7100',
      labels: { zone: 'a', host: 'h1' },
      capacityBytes: 100 * GiB,
    });
    t.equal(created.statusCode, 201);
    t.match(created.json(), {
      id: 'node-1',
      state: 'up',
      provisionedBytes: 0,
      replicaCount: 0,
      lastHeartbeatAt: api.clock.nowMs,
    });

    const again = await api.call('POST', '/v1/nodes', {
      id: 'node-1',
      address: '10.0.0.1:7101',
      capacityBytes: 200 * GiB,
      usedBytes: GiB,
    });
    t.equal(again.statusCode, 200, 're-registration answers 200');
    t.match(again.json(), {
      id: 'node-1',
      address: '10.0.0.1:7101',
      capacityBytes: 200 * GiB,
      labels: { zone: 'a' },
    });

    await addNodes(api, 3);
    const page1 = await api.call('GET', '/v1/nodes?limit=2');
    t.equal(page1.statusCode, 200);
    const p1 = page1.json() as {
      items: Array<{ id: string }>;
      nextCursor: string | null;
      revision: number;
    };
    t.same(
      p1.items.map((n) => n.id),
      ['n1', 'n2'],
    );
    t.type(p1.nextCursor, 'string');
    t.equal(p1.revision, api.store.map.revision);
    const page2 = (
      await api.call('GET', `/v1/nodes?limit=2&cursor=${p1.nextCursor}`)
    ).json() as typeof p1;
    t.same(
      page2.items.map((n) => n.id),
      ['n3', 'node-1'],
    );
    t.equal(page2.nextCursor, null);

    t.match((await api.call('GET', '/v1/nodes/n2')).json(), { id: 'n2', labels: { zone: 'z2' } });
    problem(t, await api.call('GET', '/v1/nodes/zz'), 404, 'NOT_FOUND');
    problem(t, await api.call('GET', '/v1/nodes/bad%20id'), 400, 'INVALID_ARGUMENT');

    const labelled = await api.call('PUT', '/v1/nodes/n1/labels', {
      labels: { zone: 'z1', disk: 'ssd' },
    });
    t.match(labelled.json(), { labels: { zone: 'z1', disk: 'ssd' } });
    problem(
      t,
      await api.call('PUT', '/v1/nodes/n1/labels', { labels: { 'Not Valid': 'x' } }),
      400,
      'INVALID_ARGUMENT',
    );
    problem(t, await api.call('PUT', '/v1/nodes/zz/labels', { labels: {} }), 404, 'NOT_FOUND');

    t.match((await api.call('POST', '/v1/nodes/n1/cordon')).json(), {
      state: 'cordoned',
      stateReason: 'cordoned by an operator',
    });
    t.match(
      (await api.call('POST', '/v1/nodes/n1/drain', { reason: 'replacing its disk' })).json(),
      {
        state: 'draining',
        stateReason: 'replacing its disk',
      },
    );
    t.match((await api.call('POST', '/v1/nodes/n1/uncordon', {})).json(), { state: 'up' });
    problem(t, await api.call('POST', '/v1/nodes/zz/cordon'), 404, 'NOT_FOUND');
    problem(
      t,
      await api.call('POST', '/v1/nodes/n1/cordon', { why: 'x' }),
      400,
      'INVALID_ARGUMENT',
    );

    const listed = (await api.call('GET', '/v1/nodes?state=up')).json() as {
      items: Array<{ id: string }>;
    };
    t.same(
      listed.items.map((n) => n.id),
      ['n1', 'n2', 'n3', 'node-1'],
    );

    await api.call('POST', '/v1/volumes', {
      name: 'v',
      size: '1GiB',
      replicas: 1,
      preferHost: 'h2',
    });
    const blocked = problem(t, await api.call('DELETE', '/v1/nodes/n2'), 409, 'CONFLICT');
    t.match(blocked.detail, /still holds replicas of 1 volume\(s\) \(v\); drain it first/);
    const removed = await api.call('DELETE', '/v1/nodes/n3');
    t.equal(removed.statusCode, 200);
    t.match(removed.json(), { id: 'n3', state: 'removed' });
    problem(t, await api.call('POST', '/v1/nodes/n3/uncordon'), 409, 'CONFLICT');
    const reused = problem(
      t,
      await api.call('POST', '/v1/nodes', { id: 'n3', address: 'x:1', capacityBytes: 1 }),
      409,
      'CONFLICT',
    );
    t.match(reused.detail, /never reused/);
    problem(
      t,
      await api.call('POST', '/v1/nodes', { address: 'x:1', capacityBytes: 1, usedBytes: 2 }),
      422,
      'UNPROCESSABLE',
    );
    problem(
      t,
      await api.call('POST', '/v1/nodes', { address: 'no-port', capacityBytes: 1 }),
      400,
      'INVALID_ARGUMENT',
    );
    problem(t, await api.call('GET', '/v1/nodes?state=sleeping'), 400, 'INVALID_ARGUMENT');
    problem(t, await api.call('GET', '/v1/nodes?cursor=AAAA'), 400, 'INVALID_ARGUMENT');
    problem(t, await api.call('GET', '/v1/nodes?limit=0'), 400, 'INVALID_ARGUMENT');
    problem(t, await api.call('GET', '/v1/nodes?bogus=1'), 400, 'INVALID_ARGUMENT');
  },
);

t.test(
  'heartbeats: liveness in memory, state transitions and capacity through the log',
  async (t) => {
    const api = await startApi(t);
    await addNodes(api, 1);
    const revision = api.store.map.revision;
    api.clock.nowMs += 1000;
    const beat = await api.call('POST', '/v1/nodes/n1/heartbeat', {
      sequence: 5,
      capacityBytes: 100 * GiB,
      usedBytes: 1024,
    });
    t.equal(beat.statusCode, 200);
    t.equal(beat.json().lastHeartbeatAt, api.clock.nowMs);
    t.equal(api.store.map.revision, revision, 'a small usage change does not touch the log');
    t.equal(api.store.map.getNode('n1')!.usedBytes, 0, 'the map keeps its figure');
    t.match(beat.json(), { usedBytes: 1024, silentMs: 0 }, "but the view shows the heartbeat's");
    api.clock.nowMs += 7000;
    t.match(
      (await api.call('GET', '/v1/nodes/n1')).json(),
      { state: 'up', usedBytes: 1024, silentMs: 7000 },
      'the leader says how long a node has been quiet before it counts as down',
    );

    await api.call('POST', '/v1/nodes/n1/heartbeat', {
      sequence: 6,
      capacityBytes: 100 * GiB,
      usedBytes: 10 * GiB,
    });
    t.equal(api.store.map.getNode('n1')!.usedBytes, 10 * GiB, 'a large one does');
    const rev = api.store.map.revision;
    const reordered = await api.call('POST', '/v1/nodes/n1/heartbeat', {
      sequence: 2,
      usedBytes: 50 * GiB,
    });
    t.equal(reordered.statusCode, 200);
    t.equal(api.store.map.revision, rev, 'a reordered heartbeat is ignored');

    await api.store.propose({
      type: 'setNodeState',
      at: api.clock.nowMs,
      nodeId: 'n1',
      action: 'down',
      reason: 'silent',
    });
    const back = await api.call('POST', '/v1/nodes/n1/heartbeat', { sequence: 7 });
    t.match(back.json(), { state: 'up', stateReason: 'heartbeats resumed' });
    const empty = await api.call('POST', '/v1/nodes/n1/heartbeat');
    t.equal(empty.statusCode, 200, 'the body is optional');

    problem(t, await api.call('POST', '/v1/nodes/zz/heartbeat', {}), 404, 'NOT_FOUND');
    problem(
      t,
      await api.call('POST', '/v1/nodes/n1/heartbeat', { usedBytes: -1 }),
      400,
      'INVALID_ARGUMENT',
    );
    problem(
      t,
      await api.call('POST', '/v1/nodes/n1/heartbeat', { capacityBytes: 10, usedBytes: 20 }),
      422,
      'UNPROCESSABLE',
    );
    await api.call('POST', '/v1/nodes', { id: 'n2', address: '10.0.0.2:7100', capacityBytes: GiB });
    await api.call('DELETE', '/v1/nodes/n2');
    problem(t, await api.call('POST', '/v1/nodes/n2/heartbeat', {}), 409, 'CONFLICT');
  },
);

t.test(
  'heartbeats: replica usage reaches the map only when new or changed meaningfully',
  async (t) => {
    const api = await startApi(t);
    await addNodes(api, 3);
    const created = await api.call('POST', '/v1/volumes', {
      name: 'data',
      size: '10GiB',
      replicas: 2,
    });
    t.equal(created.statusCode, 201);
    const volume = created.json() as { id: string; replicas: Array<{ nodeId: string }> };
    const holder = volume.replicas[0]!.nodeId;
    const stranger = ['n1', 'n2', 'n3'].find(
      (id) => !volume.replicas.some((r) => r.nodeId === id),
    )!;
    let sequence = 0;
    const beat = (nodeId: string, replicas: unknown) =>
      api.call('POST', `/v1/nodes/${nodeId}/heartbeat`, { sequence: ++sequence, replicas });
    const usedOn = (nodeId: string) =>
      api.store.map.getVolume(volume.id)!.replicas.find((r) => r.nodeId === nodeId)!.usedBytes;

    let revision = api.store.map.revision;
    t.equal((await beat(holder, [{ volumeId: volume.id, usedBytes: GiB }])).statusCode, 200);
    t.equal(api.store.map.revision, revision + 1, 'a first figure is committed');
    t.equal(usedOn(holder), GiB);
    revision = api.store.map.revision;
    // 5% of 10 GiB is 512 MiB: smaller moves stay out of the log.
    await beat(holder, [{ volumeId: volume.id, usedBytes: GiB + 500 * MiB }]);
    await beat(holder, [{ volumeId: volume.id, usedBytes: GiB - 500 * MiB }]);
    t.equal(api.store.map.revision, revision, 'small changes do not touch the log');
    t.equal(usedOn(holder), GiB);
    await beat(holder, [{ volumeId: volume.id, usedBytes: 2 * GiB }]);
    t.equal(api.store.map.revision, revision + 1, 'a large one does');
    t.equal(usedOn(holder), 2 * GiB);
    revision = api.store.map.revision;
    // Replicas the map does not list on the sender, and unknown volumes, are left out.
    await beat(stranger, [
      { volumeId: volume.id, usedBytes: 5 * GiB },
      { volumeId: 'vol-none', usedBytes: GiB },
    ]);
    t.equal(api.store.map.revision, revision, 'nothing to commit');
    // A figure above the volume size (preallocation) is clipped to it.
    await beat(holder, [{ volumeId: volume.id, usedBytes: 20 * GiB }]);
    t.equal(usedOn(holder), 10 * GiB);
    // A reordered heartbeat is not acted upon.
    const state = api.mapState();
    const stale = await api.call('POST', `/v1/nodes/${holder}/heartbeat`, {
      sequence: 1,
      replicas: [{ volumeId: volume.id, usedBytes: 0 }],
    });
    t.equal(stale.statusCode, 200);
    t.equal(api.mapState(), state, 'reordered: ignored');

    // Bad input is refused and changes nothing.
    const many = Array.from({ length: MAX_REPLICA_USAGE_REPORTS + 1 }, (_, i) => ({
      volumeId: `vol-${i}`,
      usedBytes: 0,
    }));
    for (const replicas of [
      [
        { volumeId: volume.id, usedBytes: 0 },
        { volumeId: volume.id, usedBytes: 0 },
      ],
      [{ volumeId: volume.id, usedBytes: -1 }],
      [{ volumeId: volume.id }],
      [{ volumeId: volume.id, usedBytes: 0, more: 1 }],
      [{ volumeId: '../x', usedBytes: 0 }],
      many,
      'all of them',
    ]) {
      problem(t, await beat(holder, replicas), 400, 'INVALID_ARGUMENT');
      t.equal(api.mapState(), state, 'unchanged');
    }
    t.equal(usedOn(holder), 10 * GiB);
    // The largest list allowed fits the body limit and is accepted.
    const full = Array.from({ length: MAX_REPLICA_USAGE_REPORTS }, (_, i) => ({
      volumeId: `${'v'.repeat(55)}-${String(i).padStart(4, '0')}`,
      usedBytes: Number.MAX_SAFE_INTEGER,
    }));
    t.equal((await beat(holder, full)).statusCode, 200, 'a full list is accepted');
  },
);

t.test('volumes: create (idempotent), get, list, resize, delete', async (t) => {
  const api = await startApi(t);
  await addNodes(api, 3);
  const body = { name: 'pgdata', size: '10GiB', replicas: 3, zoneSpread: 'required', fs: 'xfs' };
  const created = await api.call('POST', '/v1/volumes', body);
  t.equal(created.statusCode, 201);
  const volume = created.json();
  t.match(volume, {
    id: 'volume-1',
    name: 'pgdata',
    sizeBytes: 10 * GiB,
    chunkSizeBytes: 4 * 1024 * 1024,
    desiredReplicas: 3,
    fs: 'xfs',
    state: 'healthy',
    epoch: 0,
    attachment: null,
    constraints: { nodeSelector: {}, zoneSpread: 'required' },
  });
  t.same(volume.replicas.map((r: { nodeId: string }) => r.nodeId).sort(), ['n1', 'n2', 'n3']);

  const same = await api.call('POST', '/v1/volumes', { ...body, size: 10 * GiB });
  t.equal(same.statusCode, 200, 'same name, same spec: the existing volume');
  t.same(same.json(), volume);
  const different = problem(
    t,
    await api.call('POST', '/v1/volumes', { ...body, size: '20GiB' }),
    409,
    'CONFLICT',
  );
  t.match(different.detail, /already exists with a different spec: size is 10 GiB, asked 20 GiB/);

  for (const [size, pattern] of [
    ['0', /more than 0/],
    [4097, /multiple of 4096/],
    ['ten gigs', /cannot parse/],
    ['1PiB', /more than the 64 TiB/],
  ] as const) {
    const res = problem(
      t,
      await api.call('POST', '/v1/volumes', { name: 'bad', size }),
      422,
      'UNPROCESSABLE',
    );
    t.match(res.detail, pattern);
  }
  problem(
    t,
    await api.call('POST', '/v1/volumes', { name: 'bad', size: '1GiB', chunkSize: '3MiB' }),
    422,
    'UNPROCESSABLE',
  );
  problem(
    t,
    await api.call('POST', '/v1/volumes', { name: 'bad', size: '1GiB', replicas: 9 }),
    400,
    'INVALID_ARGUMENT',
  );
  problem(
    t,
    await api.call('POST', '/v1/volumes', { name: '-bad', size: '1GiB' }),
    400,
    'INVALID_ARGUMENT',
  );
  problem(
    t,
    await api.call('POST', '/v1/volumes', { name: 'bad', size: '1GiB', colour: 'red' }),
    400,
    'INVALID_ARGUMENT',
  );
  problem(
    t,
    await api.call('POST', '/v1/volumes', { name: 'bad', size: true }),
    400,
    'INVALID_ARGUMENT',
  );
  const unplaceable = problem(
    t,
    await api.call('POST', '/v1/volumes', {
      name: 'wide',
      size: '1GiB',
      replicas: 4,
      zoneSpread: 'required',
    }),
    422,
    'UNPROCESSABLE',
  );
  t.equal(
    unplaceable.detail,
    'cannot place volume wide: need 4 replica(s) in distinct zones, only 3 zones have a node with room (z1: 1 node, z2: 1 node, z3: 1 node)',
  );
  const tooBig = problem(
    t,
    await api.call('POST', '/v1/volumes', { name: 'big', size: '95GiB', replicas: 1 }),
    422,
    'UNPROCESSABLE',
  );
  t.match(tooBig.detail, /without room for 95 GiB/);

  t.same((await api.call('GET', '/v1/volumes/pgdata')).json(), volume);
  problem(t, await api.call('GET', '/v1/volumes/nope'), 404, 'NOT_FOUND');

  await api.call('POST', '/v1/volumes', {
    name: 'a-small',
    size: 4096,
    replicas: 1,
    nodeSelector: { zone: 'z2' },
  });
  const list = (await api.call('GET', '/v1/volumes?limit=1')).json() as {
    items: Array<{ name: string }>;
    nextCursor: string;
  };
  t.same(
    list.items.map((v) => v.name),
    ['a-small'],
  );
  const rest = (await api.call('GET', `/v1/volumes?cursor=${list.nextCursor}`)).json() as {
    items: Array<{ name: string }>;
    nextCursor: null;
  };
  t.same(
    rest.items.map((v) => v.name),
    ['pgdata'],
  );
  t.equal(rest.nextCursor, null);
  const onN1 = (await api.call('GET', '/v1/volumes?node=n1')).json() as {
    items: Array<{ name: string }>;
  };
  t.same(
    onN1.items.map((v) => v.name),
    ['pgdata'],
  );
  const degraded = (await api.call('GET', '/v1/volumes?state=degraded')).json() as {
    items: unknown[];
  };
  t.same(degraded.items, []);

  const grown = await api.call('PATCH', '/v1/volumes/pgdata', { size: '20GiB' });
  t.equal(grown.statusCode, 200);
  t.equal(grown.json().sizeBytes, 20 * GiB);
  const shrink = problem(
    t,
    await api.call('PATCH', '/v1/volumes/pgdata', { size: '1GiB' }),
    422,
    'UNPROCESSABLE',
  );
  t.match(shrink.detail, /grow only/);
  problem(t, await api.call('PATCH', '/v1/volumes/pgdata', { size: '1TiB' }), 422, 'UNPROCESSABLE');
  problem(t, await api.call('PATCH', '/v1/volumes/nope', { size: '1GiB' }), 404, 'NOT_FOUND');
  problem(t, await api.call('PATCH', '/v1/volumes/pgdata', {}), 400, 'INVALID_ARGUMENT');

  await api.call('POST', '/v1/volumes/pgdata/attach', { host: 'docker1' });
  const resizeAttached = await api.call('PATCH', '/v1/volumes/pgdata', { size: '30GiB' });
  t.equal(resizeAttached.statusCode, 200, 'an attached volume grows (online resize)');
  t.match(resizeAttached.json(), { sizeBytes: 30 * GiB, attachment: { host: 'docker1' } });
  const deleteAttached = problem(
    t,
    await api.call('DELETE', '/v1/volumes/pgdata'),
    409,
    'CONFLICT',
  );
  t.match(deleteAttached.detail, /attached to host docker1 \(epoch 1\); detach it first/);
  await api.call('POST', '/v1/volumes/pgdata/detach', { host: 'docker1', epoch: 1 });
  const deleted = await api.call('DELETE', '/v1/volumes/pgdata');
  t.equal(deleted.statusCode, 204);
  t.equal(deleted.body, '');
  problem(t, await api.call('DELETE', '/v1/volumes/pgdata'), 404, 'NOT_FOUND');
});

t.test('attach, detach and out-of-sync: epochs and fencing over the API', async (t) => {
  const api = await startApi(t);
  await addNodes(api, 3);
  await api.call('POST', '/v1/volumes', { name: 'v', size: '1GiB' });
  const a1 = await api.call('POST', '/v1/volumes/v/attach', { host: 'docker1' });
  t.equal(a1.statusCode, 200);
  t.match(a1.json(), {
    epoch: 1,
    attachment: { host: 'docker1', epoch: 1, since: api.clock.nowMs },
  });

  const taken = problem(
    t,
    await api.call('POST', '/v1/volumes/v/attach', { host: 'docker2' }),
    409,
    'CONFLICT',
  );
  t.match(taken.detail, /attached to host docker1 \(epoch 1\)/);
  t.match(taken.details, { host: 'docker1', epoch: 1 });

  // A mount path must be absolute; a bad one is refused and changes nothing.
  problem(
    t,
    await api.call('POST', '/v1/volumes/v/attach', {
      host: 'docker2',
      force: true,
      mountPath: 'relative/path',
    }),
    400,
    'INVALID_ARGUMENT',
  );
  t.match((await api.call('GET', '/v1/volumes/v')).json(), {
    epoch: 1,
    attachment: { host: 'docker1' },
  });
  t.notOk(
    'mountPath' in (a1.json() as { attachment: object }).attachment,
    'a raw attach has no path',
  );

  const forced = await api.call('POST', '/v1/volumes/v/attach', {
    host: 'docker2',
    force: true,
    mountPath: '/var/lib/ballast/mounts/v',
  });
  t.match(forced.json(), {
    epoch: 2,
    attachment: { host: 'docker2', epoch: 2, mountPath: '/var/lib/ballast/mounts/v' },
  });

  problem(
    t,
    await api.call('POST', '/v1/volumes/v/replicas/n1/out-of-sync', { epoch: 1 }),
    409,
    'FENCED',
  );
  problem(
    t,
    await api.call('POST', '/v1/volumes/v/replicas/zz/out-of-sync', { epoch: 2 }),
    404,
    'NOT_FOUND',
  );
  problem(
    t,
    await api.call('POST', '/v1/volumes/nope/replicas/n1/out-of-sync', { epoch: 2 }),
    404,
    'NOT_FOUND',
  );
  problem(
    t,
    await api.call('POST', '/v1/volumes/v/replicas/n1/out-of-sync', {}),
    400,
    'INVALID_ARGUMENT',
  );
  const dropped = await api.call('POST', '/v1/volumes/v/replicas/n1/out-of-sync', {
    epoch: 2,
    reason: 'ECONNRESET',
  });
  t.equal(dropped.statusCode, 200);
  t.match(dropped.json(), {
    state: 'degraded',
    staleReplicas: [{ nodeId: 'n1', epoch: 2, reason: 'ECONNRESET' }],
  });
  await api.call('POST', '/v1/volumes/v/replicas/n2/out-of-sync', { epoch: 2 });
  const last = problem(
    t,
    await api.call('POST', '/v1/volumes/v/replicas/n3/out-of-sync', { epoch: 2 }),
    409,
    'CONFLICT',
  );
  t.match(last.detail, /last in-sync replica/);

  problem(
    t,
    await api.call('POST', '/v1/volumes/v/detach', { host: 'docker1', epoch: 1 }),
    409,
    'FENCED',
  );
  problem(
    t,
    await api.call('POST', '/v1/volumes/v/detach', { host: 'docker2', epoch: 1 }),
    409,
    'FENCED',
  );
  problem(
    t,
    await api.call('POST', '/v1/volumes/v/detach', { host: 'docker2' }),
    400,
    'INVALID_ARGUMENT',
  );
  const detached = await api.call('POST', '/v1/volumes/v/detach', { host: 'docker2', epoch: 2 });
  t.match(detached.json(), { epoch: 2, attachment: null });
  t.equal(
    (await api.call('POST', '/v1/volumes/v/detach', { host: 'docker2', epoch: 2 })).statusCode,
    200,
    'idempotent',
  );
  await api.call('POST', '/v1/volumes/v/attach', { host: 'docker3' });
  t.match((await api.call('POST', '/v1/volumes/v/detach', { host: 'admin', force: true })).json(), {
    epoch: 4,
    attachment: null,
  });
  problem(t, await api.call('POST', '/v1/volumes/nope/attach', { host: 'd' }), 404, 'NOT_FOUND');
  problem(t, await api.call('POST', '/v1/volumes/v/attach', {}), 400, 'INVALID_ARGUMENT');
  problem(
    t,
    await api.call('POST', '/v1/volumes/v/attach', { host: 'docker1', force: 'yes' }),
    400,
    'INVALID_ARGUMENT',
  );
});

t.test('tasks', async (t) => {
  const api = await startApi(t);
  await addNodes(api, 2);
  await api.call('POST', '/v1/volumes', { name: 'v', size: '1GiB', replicas: 1 });
  for (const [taskId, state] of [
    ['t1', 'running'],
    ['t2', 'pending'],
    ['t3', 'succeeded'],
  ] as const) {
    await api.store.propose({
      type: 'createTask',
      at: 1,
      taskId,
      kind: 'rebuild',
      volumeId: 'volume-1',
      nodeId: 'n2',
      totalBytes: 100,
    });
    if (state === 'running')
      await api.store.propose({ type: 'updateTask', at: 2, taskId, doneBytes: 40 });
    if (state === 'succeeded')
      await api.store.propose({ type: 'finishTask', at: 3, taskId, outcome: 'succeeded' });
  }
  const all = (await api.call('GET', '/v1/tasks')).json() as {
    items: Array<{ id: string; state: string }>;
  };
  t.same(
    all.items.map((x) => `${x.id}:${x.state}`),
    ['t1:running', 't2:pending', 't3:succeeded'],
  );
  const running = (await api.call('GET', '/v1/tasks?state=running&volume=volume-1')).json() as {
    items: Array<{ id: string; doneBytes: number }>;
  };
  t.same(
    running.items.map((x) => [x.id, x.doneBytes]),
    [['t1', 40]],
  );
  const paged = (await api.call('GET', '/v1/tasks?limit=2')).json() as {
    items: unknown[];
    nextCursor: string;
  };
  t.equal(paged.items.length, 2);
  t.match((await api.call('GET', '/v1/tasks/t3')).json(), {
    id: 't3',
    state: 'succeeded',
    doneBytes: 100,
  });
  problem(t, await api.call('GET', '/v1/tasks/zz'), 404, 'NOT_FOUND');
  problem(t, await api.call('GET', '/v1/tasks?state=done'), 400, 'INVALID_ARGUMENT');
});

t.test('transport-level errors are problem+json too', async (t) => {
  const api = await startApi(t, { bodyLimitBytes: 1024 });
  problem(t, await api.call('GET', '/v1/nope'), 404, 'NOT_FOUND');
  problem(t, await api.call('DELETE', '/v1/cluster'), 404, 'NOT_FOUND');
  const big = await api.app.inject({
    method: 'POST',
    url: '/v1/volumes',
    headers: { ...AUTH, 'content-type': 'application/json' },
    payload: JSON.stringify({ name: 'x', size: '1GiB', nodeSelector: { a: 'x'.repeat(2000) } }),
  });
  problem(t, big, 413, 'TOO_LARGE');
  const badJson = await api.app.inject({
    method: 'POST',
    url: '/v1/volumes',
    headers: { ...AUTH, 'content-type': 'application/json' },
    payload: '{"name": "x", ',
  });
  problem(t, badJson, 400, 'INVALID_ARGUMENT');
  const text = await api.app.inject({
    method: 'POST',
    url: '/v1/volumes',
    headers: { ...AUTH, 'content-type': 'text/plain' },
    payload: 'hello',
  });
  problem(t, text, 400, 'INVALID_ARGUMENT');
  const xml = await api.app.inject({
    method: 'POST',
    url: '/v1/volumes',
    headers: { ...AUTH, 'content-type': 'application/xml' },
    payload: '<volume/>',
  });
  problem(t, xml, 415, 'INVALID_ARGUMENT');
  problem(t, await api.call('POST', '/v1/volumes'), 400, 'INVALID_ARGUMENT');
  const plainWatch = await api.call('GET', '/v1/watch');
  problem(t, plainWatch, 426, 'INVALID_ARGUMENT');
});

t.test('503 when there is no leader, with the map unchanged', async (t) => {
  const inner = new DirectMetaStore();
  const app = await buildApi({ store: new LeaderlessStore(inner), token: TOKEN });
  t.teardown(() => app.close());
  for (const [method, url, payload] of [
    ['GET', '/v1/volumes', undefined],
    ['POST', '/v1/volumes', { name: 'v', size: '1GiB' }],
    ['POST', '/v1/nodes', { address: 'a:1', capacityBytes: 1 }],
    ['POST', '/v1/nodes/n1/heartbeat', {}],
    ['POST', '/v1/nodes/n1/cordon', undefined],
  ] as const) {
    const res = await app.inject({ method, url, headers: AUTH, ...(payload ? { payload } : {}) });
    t.equal(isProblem(res, 503, 'UNAVAILABLE'), null, `${method} ${url}`);
    t.equal(res.headers['retry-after'], '1');
  }
  t.equal(inner.map.revision, 0);
  t.match((await app.inject({ method: 'GET', url: '/v1/cluster', headers: AUTH })).json(), {
    leader: null,
  });
  t.match((await app.inject({ method: 'GET', url: '/healthz' })).json(), { leader: false });

  const closed = new DirectMetaStore();
  const app2 = await buildApi({ store: closed, token: TOKEN });
  t.teardown(() => app2.close());
  closed.close();
  const res = await app2.inject({
    method: 'POST',
    url: '/v1/volumes',
    headers: AUTH,
    payload: { name: 'v', size: '1GiB' },
  });
  t.equal(isProblem(res, 503, 'UNAVAILABLE'), null, 'a closed store answers 503');
});

/** Commits a macrotask after the proposal, as a log would: concurrent requests interleave. */
class SlowLogStore extends DirectMetaStore {
  override async propose(command: Command): Promise<ApplyResult> {
    await new Promise((resolve) => setImmediate(resolve));
    return super.propose(command);
  }
}

t.test('a create that loses a race to another create of the same name', async (t) => {
  const store = new SlowLogStore();
  let ids = 0;
  const app = await buildApi({ store, token: TOKEN, newId: (kind) => `${kind}-${++ids}` });
  t.teardown(() => app.close());
  for (let i = 1; i <= 3; i++) {
    await app.inject({
      method: 'POST',
      url: '/v1/nodes',
      headers: AUTH,
      payload: {
        id: `n${i}`,
        address: `n${i}:1`,
        labels: { zone: `z${i}` },
        capacityBytes: 100 * GiB,
      },
    });
  }
  const create = (size: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/volumes',
      headers: AUTH,
      payload: { name: 'race', size },
    });
  const [a, b] = await Promise.all([create('1GiB'), create('1GiB')]);
  t.same(
    [a.statusCode, b.statusCode].sort(),
    [200, 201],
    'same spec: the loser answers 200 with the winner',
  );
  t.same(a.json(), b.json());
  const [c, d] = await Promise.all([create('2GiB'), create('3GiB')]);
  t.same([c.statusCode, d.statusCode], [409, 409], 'different spec from the existing volume');
  const [e, f] = await Promise.all([
    app.inject({
      method: 'POST',
      url: '/v1/volumes',
      headers: AUTH,
      payload: { name: 'race2', size: '1GiB' },
    }),
    app.inject({
      method: 'POST',
      url: '/v1/volumes',
      headers: AUTH,
      payload: { name: 'race2', size: '2GiB' },
    }),
  ]);
  t.same([e.statusCode, f.statusCode], [201, 409], 'the loser with another spec gets 409');
  t.equal(isProblem(f, 409, 'CONFLICT'), null);
  t.equal(store.map.listVolumes().length, 2);
});

t.test('hosts: agent heartbeats, liveness, and the holder named alive or dead', async (t) => {
  const api = await startApi(t);
  await addNodes(api, 3);
  await api.call('POST', '/v1/volumes', { name: 'v', size: '1GiB' });
  const beat = await api.call('POST', '/v1/hosts/docker1/heartbeat', { sequence: 1 });
  t.equal(beat.statusCode, 200);
  t.same(beat.json(), {
    id: 'docker1',
    lastHeartbeatAt: api.clock.nowMs,
    silentMs: 0,
    alive: true,
    attachedVolumes: [],
  });
  problem(
    t,
    await api.call('POST', '/v1/hosts/-bad/heartbeat', { sequence: 1 }),
    400,
    'INVALID_ARGUMENT',
  );
  problem(
    t,
    await api.call('POST', '/v1/hosts/docker1/heartbeat', { sequence: -1 }),
    400,
    'INVALID_ARGUMENT',
  );
  await api.call('POST', '/v1/volumes/v/attach', { host: 'docker1', mountPath: '/mnt/v' });
  t.match((await api.call('GET', '/v1/hosts')).json(), {
    items: [{ id: 'docker1', alive: true, attachedVolumes: ['v'] }],
  });

  // docker1 is alive: another host's attach is refused, and the refusal says so.
  api.clock.nowMs += 5_000;
  const refused = problem(
    t,
    await api.call('POST', '/v1/volumes/v/attach', { host: 'docker2' }),
    409,
    'CONFLICT',
  );
  t.match(refused.detail, /attached to host docker1.*heard from 5\.0s ago \(alive\)/);
  t.match(refused.details, { host: 'docker1', holderAlive: true, holderSilentMs: 5_000 });

  // Silent past the host timeout (30 s): presumed dead, and the refusal says a forced takeover fences it.
  api.clock.nowMs += 40_000;
  const dead = problem(
    t,
    await api.call('POST', '/v1/volumes/v/attach', { host: 'docker2' }),
    409,
    'CONFLICT',
  );
  t.match(dead.detail, /silent for 45\.0s \(presumed dead/);
  t.match(dead.details, { holderAlive: false });
  t.match((await api.call('GET', '/v1/hosts/docker1')).json(), {
    id: 'docker1',
    alive: false,
    silentMs: 45_000,
    attachedVolumes: ['v'],
  });
  // A host never heard from counts its silence from the start of this leadership.
  t.match((await api.call('GET', '/v1/hosts/docker7')).json(), {
    lastHeartbeatAt: null,
    alive: false,
    attachedVolumes: [],
  });
  t.match((await api.call('GET', '/v1/volumes/v')).json(), {
    attachment: { host: 'docker1' },
  });
  // The attachments a heartbeat answer names follow the map (its index is rebuilt on change).
  const taken = (
    await api.call('POST', '/v1/volumes/v/attach', { host: 'docker2', force: true })
  ).json();
  t.match((await api.call('POST', '/v1/hosts/docker1/heartbeat', {})).json(), {
    attachedVolumes: [],
  });
  t.match((await api.call('POST', '/v1/hosts/docker2/heartbeat', {})).json(), {
    attachedVolumes: ['v'],
  });
  const released = await api.call('POST', '/v1/volumes/v/detach', {
    host: 'docker2',
    epoch: taken.epoch,
  });
  t.equal(released.statusCode, 200, 'detached');
  t.same((await api.call('POST', '/v1/hosts/docker2/heartbeat', {})).json().attachedVolumes, []);
});

/**
 * A follower that forwards proposals to the leader (`inner`) but applies the log only when a
 * linearizable read makes it catch up: its map lags behind the leader's answer, as a real
 * member's may. `beforeForward` runs right before a proposal reaches the leader (another
 * client's command landing first).
 */
class LaggingFollowerStore implements MetaStore {
  private local: ClusterMap;
  beforeForward: (() => Promise<void>) | null = null;
  beforeCatchUp: (() => Promise<void>) | null = null;

  constructor(private readonly inner: DirectMetaStore) {
    this.local = ClusterMap.restore(inner.map.snapshot());
  }
  get map(): ClusterMapReader {
    return this.local;
  }
  async propose(command: Command): Promise<ApplyResult> {
    const hook = this.beforeForward;
    this.beforeForward = null;
    await hook?.();
    return this.inner.propose(command);
  }
  async linearizableRead(): Promise<void> {
    const hook = this.beforeCatchUp;
    this.beforeCatchUp = null;
    await hook?.();
    this.local = ClusterMap.restore(this.inner.map.snapshot());
  }
  watch(fromRevision: number, listener: WatchListener): WatchSubscription {
    return this.inner.watch(fromRevision, listener);
  }
  status(): ClusterStatus {
    return this.inner.status();
  }
  isLeader(): boolean {
    return false;
  }
  leaderHint(): LeaderHint | null {
    return this.inner.leaderHint();
  }
  leaderSinceMs(): number | null {
    return null;
  }
}

t.test('a create that loses a race on a member that has not applied the winner yet', async (t) => {
  const leader = new DirectMetaStore();
  const follower = new LaggingFollowerStore(leader);
  let ids = 0;
  const app = await buildApi({ store: follower, token: TOKEN, newId: (k) => `${k}-${++ids}` });
  t.teardown(() => app.close());
  for (let i = 1; i <= 3; i++) {
    await leader.propose({
      type: 'registerNode',
      at: Date.now(),
      nodeId: `n${i}`,
      address: `n${i}:1`,
      labels: { zone: `z${i}` },
      capacityBytes: 100 * GiB,
      usedBytes: 0,
    });
  }
  const spec = {
    sizeBytes: GiB,
    chunkSizeBytes: 4 * MiB,
    desiredReplicas: 3,
    constraints: { nodeSelector: {}, zoneSpread: 'preferred' as const },
    fs: 'ext4' as const,
    replicaNodeIds: ['n1', 'n2', 'n3'],
  };
  const create = () =>
    app.inject({
      method: 'POST',
      url: '/v1/volumes',
      headers: AUTH,
      payload: { name: 'race', size: '1GiB', replicas: 3 },
    });
  // Another client's identical create reaches the leader first.
  follower.beforeForward = async () => {
    const r = await leader.propose({
      type: 'createVolume',
      at: Date.now(),
      volumeId: 'volume-winner',
      name: 'race',
      ...spec,
    });
    t.ok(r.ok, 'the winner is created');
  };
  const lost = await create();
  t.equal(lost.statusCode, 200, 'the same spec answers 200 with the winner, not 409');
  t.equal((lost.json() as { id: string }).id, 'volume-winner');

  // The winner is created and deleted again before this member looks: the name is free, so the
  // create goes through on a second try.
  follower.beforeForward = async () => {
    await leader.propose({
      type: 'createVolume',
      at: Date.now(),
      volumeId: 'volume-brief',
      name: 'race2',
      ...spec,
    });
    follower.beforeCatchUp = async () => {
      await leader.propose({ type: 'deleteVolume', at: Date.now(), volumeId: 'volume-brief' });
    };
  };
  const retried = await app.inject({
    method: 'POST',
    url: '/v1/volumes',
    headers: AUTH,
    payload: { name: 'race2', size: '1GiB', replicas: 3 },
  });
  t.equal(retried.statusCode, 201, 'created on the retry');
  t.equal(leader.map.getVolumeByName('race2')?.sizeBytes, GiB);
});

t.test('a volume replica timeout: set at create, changed, cleared, validated', async (t) => {
  const app = await startApi(t);
  await addNodes(app, 3);
  const create = (payload: Record<string, unknown>) => app.call('POST', '/v1/volumes', payload);
  const made = await create({ name: 'rt', size: '1GiB', replicaTimeout: '5s' });
  t.equal(made.statusCode, 201);
  t.equal((made.json() as { replicaTimeoutMs: number }).replicaTimeoutMs, 5000);
  t.equal((await create({ name: 'rt', size: '1GiB', replicaTimeout: 5000 })).statusCode, 200);
  t.equal((await create({ name: 'rt', size: '1GiB' })).statusCode, 200, 'unnamed: not compared');
  problem(t, await create({ name: 'rt', size: '1GiB', replicaTimeout: '9s' }), 409, 'CONFLICT');
  for (const bad of ['100ms', '10m', 'soon', 1]) {
    problem(
      t,
      await create({ name: 'rt2', size: '1GiB', replicaTimeout: bad }),
      422,
      'UNPROCESSABLE',
    );
  }
  problem(
    t,
    await create({ name: 'rt2', size: '1GiB', replicaTimeout: -1 }),
    400,
    'INVALID_ARGUMENT',
  );
  t.equal(app.store.map.getVolumeByName('rt2'), undefined, 'nothing was created');
  const patch = (payload: Record<string, unknown>) => app.call('PATCH', '/v1/volumes/rt', payload);
  const changed = await patch({ replicaTimeout: '2s' });
  t.equal((changed.json() as { replicaTimeoutMs: number }).replicaTimeoutMs, 2000);
  const cleared = await patch({ replicaTimeout: null });
  t.equal(cleared.statusCode, 200);
  t.notOk('replicaTimeoutMs' in (cleared.json() as object), 'null goes back to the default');
  problem(t, await patch({}), 400, 'INVALID_ARGUMENT');
  problem(t, await patch({ replicaTimeout: '1ms' }), 422, 'UNPROCESSABLE');
});
