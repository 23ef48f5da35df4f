// The REST surface of the control loops: replicas (add, promote, remove), task progress and
// finish, drain with its task, node removal refusals, and the settings.
import t from 'tap';
import type { LightMyRequestResponse } from 'fastify';
import {
  ControlLoop,
  DEFAULT_SETTINGS,
  GiB,
  type TaskRecord,
  type VolumeExplanation,
  type VolumeRecord,
} from '../src/index.js';
import {
  LeaderlessStore,
  addNodes,
  isProblem,
  startApi,
  type ApiHarness,
} from './helpers/api-harness.js';

type Test = { equal(found: unknown, wanted: unknown, message: string): boolean };

function problem(
  t: Test,
  res: LightMyRequestResponse,
  status: number,
  code: string,
): { detail: string; details?: Record<string, unknown> } {
  t.equal(isProblem(res, status, code), null, `${status} ${code}`);
  return res.json() as { detail: string; details?: Record<string, unknown> };
}

async function tasks(api: ApiHarness): Promise<TaskRecord[]> {
  return ((await api.call('GET', '/v1/tasks')).json() as { items: TaskRecord[] }).items;
}

t.test(
  'replicas: add with a rebuild task, promote (FENCED on a stale epoch), remove',
  async (t) => {
    const api = await startApi(t);
    await addNodes(api, 5);
    const created = await api.call('POST', '/v1/volumes', {
      name: 'v',
      size: '2GiB',
      replicas: 2,
      preferHost: 'h1',
    });
    t.equal(created.statusCode, 201);
    const members = (created.json() as VolumeRecord).replicas.map((r) => r.nodeId);
    const spare = ['n1', 'n2', 'n3', 'n4', 'n5'].find((id) => !members.includes(id))!;

    const added = await api.call('POST', '/v1/volumes/v/replicas', { nodeId: spare });
    t.equal(added.statusCode, 201, added.body);
    const volume = added.json() as VolumeRecord;
    t.match(volume.replicas.at(-1), { nodeId: spare, role: 'rebuilding' });
    t.equal(volume.state, 'healthy', '2 of 2 in sync while the third rebuilds');
    const [rebuild] = await tasks(api);
    t.match(rebuild, {
      kind: 'rebuild',
      volumeId: volume.id,
      nodeId: spare,
      state: 'pending',
      doneBytes: 0,
      totalBytes: 2 * GiB,
    });
    t.ok(members.includes(rebuild!.sourceNodeId!), 'copies from an in-sync replica');

    problem(
      t,
      await api.call('POST', '/v1/volumes/v/replicas', { nodeId: spare }),
      409,
      'CONFLICT',
    );
    problem(
      t,
      await api.call('POST', '/v1/volumes/zz/replicas', { nodeId: spare }),
      404,
      'NOT_FOUND',
    );
    problem(
      t,
      await api.call('POST', '/v1/volumes/v/replicas', { nodeId: 'zz' }),
      404,
      'NOT_FOUND',
    );
    problem(t, await api.call('POST', '/v1/volumes/v/replicas', {}), 400, 'INVALID_ARGUMENT');
    problem(
      t,
      await api.call('POST', '/v1/volumes/v/replicas', { nodeId: 'n1', extra: 1 }),
      400,
      'INVALID_ARGUMENT',
    );

    // Progress from the node copying it.
    const progress = await api.call('POST', `/v1/tasks/${rebuild!.id}/progress`, {
      doneBytes: GiB,
      message: 'copying',
    });
    t.equal(progress.statusCode, 200);
    t.match(progress.json(), { state: 'running', doneBytes: GiB, message: 'copying' });
    const startedAt = progress.json().startedAt as number;
    t.equal(startedAt, api.clock.nowMs, 'startedAt: when it first ran');
    t.notOk('bytesPerSecond' in progress.json(), 'no rate before any time has passed');
    // The rate shown is the average since it started running.
    api.clock.nowMs += 4_000;
    const later = await api.call('POST', `/v1/tasks/${rebuild!.id}/progress`, {
      doneBytes: 2 * GiB,
    });
    t.match(later.json(), { startedAt, doneBytes: 2 * GiB, bytesPerSecond: GiB / 2 });
    t.match((await api.call('GET', `/v1/tasks/${rebuild!.id}`)).json(), {
      bytesPerSecond: GiB / 2,
    });
    t.match((await api.call('GET', '/v1/tasks')).json(), {
      items: [{ id: rebuild!.id, bytesPerSecond: GiB / 2 }],
    });
    problem(
      t,
      await api.call('POST', `/v1/tasks/${rebuild!.id}/progress`, { doneBytes: 3 * GiB }),
      422,
      'UNPROCESSABLE',
    );
    problem(
      t,
      await api.call('POST', `/v1/tasks/${rebuild!.id}/progress`, { doneBytes: -1 }),
      400,
      'INVALID_ARGUMENT',
    );
    problem(
      t,
      await api.call('POST', '/v1/tasks/nope/progress', { doneBytes: 1 }),
      404,
      'NOT_FOUND',
    );

    // The volume was attached meanwhile: the node's promote at the epoch it copied under is fenced.
    const attached = await api.call('POST', '/v1/volumes/v/attach', { host: 'docker1' });
    const epoch = (attached.json() as VolumeRecord).epoch;
    const fenced = problem(
      t,
      await api.call('POST', `/v1/volumes/v/replicas/${spare}/promote`, { epoch: epoch - 1 }),
      409,
      'FENCED',
    );
    t.match(fenced.detail, /may have missed writes/);
    t.equal(fenced.details?.epoch, epoch);
    const promoted = await api.call('POST', `/v1/volumes/v/replicas/${spare}/promote`, { epoch });
    t.equal(promoted.statusCode, 200);
    t.match((promoted.json() as VolumeRecord).replicas.at(-1), { nodeId: spare, role: 'in-sync' });
    const again = await api.call('POST', `/v1/volumes/v/replicas/${spare}/promote`, { epoch });
    t.equal(again.statusCode, 200, 'promote is idempotent');
    t.match((await api.call('GET', `/v1/tasks/${rebuild!.id}`)).json(), {
      state: 'succeeded',
      doneBytes: 2 * GiB,
    });
    problem(
      t,
      await api.call('POST', '/v1/volumes/v/replicas/zz/promote', { epoch }),
      404,
      'NOT_FOUND',
    );
    problem(
      t,
      await api.call('POST', `/v1/volumes/v/replicas/${spare}/promote`, { epoch: 'x' }),
      400,
      'INVALID_ARGUMENT',
    );

    // Remove: never below the desired count without force, never the last in-sync replica.
    const removed = await api.call('DELETE', `/v1/volumes/v/replicas/${members[0]}`);
    t.equal(removed.statusCode, 200, '3 in sync, 2 desired');
    const below = problem(
      t,
      await api.call('DELETE', `/v1/volumes/v/replicas/${members[1]}`),
      409,
      'CONFLICT',
    );
    t.match(below.detail, /fewer than the 2 desired/);
    const forced = await api.call('DELETE', `/v1/volumes/v/replicas/${members[1]}?force=true`);
    t.equal(forced.statusCode, 200);
    t.equal((forced.json() as VolumeRecord).state, 'degraded');
    const last = problem(
      t,
      await api.call('DELETE', `/v1/volumes/v/replicas/${spare}?force=true`),
      409,
      'CONFLICT',
    );
    t.match(last.detail, /last in-sync replica/);
    problem(
      t,
      await api.call('DELETE', `/v1/volumes/v/replicas/${spare}?force=maybe`),
      400,
      'INVALID_ARGUMENT',
    );
    problem(t, await api.call('DELETE', `/v1/volumes/v/replicas/zz`), 404, 'NOT_FOUND');
  },
);

t.test('removing a rebuilding replica cancels its rebuild; finish is final', async (t) => {
  const api = await startApi(t);
  await addNodes(api, 3);
  await api.call('POST', '/v1/volumes', { name: 'v', size: '1GiB', replicas: 1, preferHost: 'h1' });
  await api.call('POST', '/v1/volumes/v/replicas', { nodeId: 'n2' });
  t.match(await tasks(api), [{ kind: 'rebuild', nodeId: 'n2', state: 'pending' }]);
  t.equal((await api.call('DELETE', '/v1/volumes/v/replicas/n2')).statusCode, 200);
  const [rebuild] = await tasks(api);
  t.match(rebuild, { state: 'cancelled', message: /removed/ });
  problem(
    t,
    await api.call('POST', `/v1/tasks/${rebuild!.id}/progress`, { doneBytes: 1 }),
    409,
    'CONFLICT',
  );

  await api.call('POST', '/v1/volumes/v/replicas', { nodeId: 'n3' });
  const open = (await tasks(api)).find((x) => x.state === 'pending')!;
  const failed = await api.call('POST', `/v1/tasks/${open.id}/finish`, {
    outcome: 'failed',
    message: 'peer unreachable',
  });
  t.equal(failed.statusCode, 200);
  t.match(failed.json(), { state: 'failed', message: 'peer unreachable' });
  t.equal(
    (await api.call('POST', `/v1/tasks/${open.id}/finish`, { outcome: 'failed' })).statusCode,
    200,
    'the same outcome again is a no-op',
  );
  problem(
    t,
    await api.call('POST', `/v1/tasks/${open.id}/finish`, { outcome: 'succeeded' }),
    409,
    'CONFLICT',
  );
  problem(
    t,
    await api.call('POST', `/v1/tasks/${open.id}/finish`, { outcome: 'done' }),
    400,
    'INVALID_ARGUMENT',
  );
});

t.test('a move: the old replica goes once the new one is in sync', async (t) => {
  const api = await startApi(t);
  await addNodes(api, 3);
  await api.call('POST', '/v1/volumes', { name: 'v', size: '1GiB', replicas: 1, preferHost: 'h1' });
  const added = await api.call('POST', '/v1/volumes/v/replicas', { nodeId: 'n2', replacing: 'n1' });
  t.equal(added.statusCode, 201);
  const move = (await tasks(api)).find((x) => x.kind === 'move')!;
  t.match(move, { nodeId: 'n2', sourceNodeId: 'n1', state: 'pending' });
  await api.call('POST', '/v1/volumes/v/replicas/n2/promote', { epoch: 0 });
  t.match((await api.call('GET', `/v1/tasks/${move.id}`)).json(), {
    state: 'running',
    message: /to be removed/,
  });
  await api.call('DELETE', '/v1/volumes/v/replicas/n1');
  t.match((await api.call('GET', `/v1/tasks/${move.id}`)).json(), { state: 'succeeded' });
  problem(
    t,
    await api.call('POST', '/v1/volumes/v/replicas', { nodeId: 'n3', replacing: 'n1' }),
    404,
    'NOT_FOUND',
  );
});

t.test(
  'drain has a task that follows the replicas leaving; remove is refused until empty',
  async (t) => {
    const api = await startApi(t);
    await addNodes(api, 3);
    for (const name of ['a', 'b']) {
      const r = await api.call('POST', '/v1/volumes', {
        name,
        size: '1GiB',
        replicas: 1,
        preferHost: 'h1',
      });
      t.equal(r.statusCode, 201);
    }
    const refused = problem(t, await api.call('DELETE', '/v1/nodes/n1'), 409, 'CONFLICT');
    t.match(refused.detail, /still holds replicas of 2 volume\(s\) \(a, b\)/);
    t.same(refused.details, { nodeId: 'n1', volumes: ['a', 'b'], volumeCount: 2 });

    t.match((await api.call('POST', '/v1/nodes/n1/drain')).json(), { state: 'draining' });
    let drain = (await tasks(api)).find((x) => x.kind === 'drain')!;
    t.match(drain, {
      nodeId: 'n1',
      state: 'pending',
      totalBytes: 2 * GiB,
      message: '2 replica(s) left to move off n1',
    });
    t.equal((await api.call('POST', '/v1/nodes/n1/drain')).statusCode, 200, 'a repeat');
    t.equal((await tasks(api)).filter((x) => x.kind === 'drain').length, 1, 'one drain task');

    for (const name of ['a', 'b']) {
      await api.call('POST', `/v1/volumes/${name}/replicas`, { nodeId: 'n2', replacing: 'n1' });
      await api.call('POST', `/v1/volumes/${name}/replicas/n2/promote`, { epoch: 0 });
      await api.call('DELETE', `/v1/volumes/${name}/replicas/n1`);
      drain = (await api.call('GET', `/v1/tasks/${drain.id}`)).json() as TaskRecord;
      if (name === 'a') {
        t.match(drain, { state: 'running', doneBytes: GiB, message: /1 replica\(s\) left/ });
      }
    }
    t.match(drain, { state: 'succeeded', doneBytes: 2 * GiB, message: /all replicas moved/ });
    const removed = await api.call('DELETE', '/v1/nodes/n1');
    t.equal(removed.statusCode, 200);
    t.match(removed.json(), { state: 'removed' });

    // Draining then uncordoning cancels the drain.
    await api.call('POST', '/v1/volumes', {
      name: 'c',
      size: '1GiB',
      replicas: 1,
      preferHost: 'h3',
    });
    await api.call('POST', '/v1/nodes/n3/drain');
    await api.call('POST', '/v1/nodes/n3/uncordon');
    const n3drain = (await tasks(api)).find((x) => x.kind === 'drain' && x.nodeId === 'n3');
    t.match(n3drain, { state: 'cancelled', message: /uncordoned/ });
  },
);

t.test('settings: defaults, partial updates, bad input changes nothing', async (t) => {
  const api = await startApi(t);
  const got = await api.call('GET', '/v1/settings');
  t.equal(got.statusCode, 200);
  t.same(got.json(), DEFAULT_SETTINGS);
  t.same(DEFAULT_SETTINGS, {
    overProvisionPercent: 100,
    rebalanceEnabled: true,
    replicaReplacementGraceMs: 300_000,
    rebuildBandwidthBytesPerSecond: 200 * 1024 * 1024,
    maxConcurrentMoves: 4,
    rebalanceMarginPercent: 10,
  });
  const patched = await api.call('PATCH', '/v1/settings', {
    rebalanceEnabled: false,
    replicaReplacementGraceMs: 2000,
  });
  t.equal(patched.statusCode, 200);
  t.same(patched.json(), {
    ...DEFAULT_SETTINGS,
    rebalanceEnabled: false,
    replicaReplacementGraceMs: 2000,
  });
  const before = api.mapState();
  for (const body of [
    {},
    { rebalanceEnabled: 'no' },
    { maxConcurrentMoves: 0 },
    { rebalanceMarginPercent: 90 },
    { overProvisionPercent: 10 },
    { replicaReplacementGraceMs: -1 },
    { unknown: 1 },
  ]) {
    problem(t, await api.call('PATCH', '/v1/settings', body), 400, 'INVALID_ARGUMENT');
  }
  t.equal(api.mapState(), before, 'refused settings changed nothing');
  problem(t, await api.call('GET', '/v1/settings?x=1'), 400, 'INVALID_ARGUMENT');

  const docs = (await api.app.inject({ method: 'GET', url: '/docs/json' })).json() as {
    paths: Record<string, Record<string, unknown>>;
  };
  for (const [path, method] of [
    ['/v1/volumes/{name}/replicas', 'post'],
    ['/v1/volumes/{name}/replicas/{nodeId}/promote', 'post'],
    ['/v1/volumes/{name}/replicas/{nodeId}', 'delete'],
    ['/v1/tasks/{id}/progress', 'post'],
    ['/v1/tasks/{id}/finish', 'post'],
    ['/v1/settings', 'get'],
    ['/v1/settings', 'patch'],
    ['/v1/volumes/{name}/explanation', 'get'],
  ] as const) {
    t.ok(docs.paths[path]?.[method], `OpenAPI documents ${method} ${path}`);
  }
});

t.test(
  'explanation: what happened, what the leader plans next and until when, what to do',
  async (t) => {
    // The loop needs the harness's store, the API needs the loop: tied through a holder.
    const loop: { control?: ControlLoop } = {};
    const api = await startApi(t, { outlook: (id) => loop.control?.outlook(id) });
    const control = new ControlLoop({ store: api.store });
    loop.control = control;
    const explain = async (name: string): Promise<VolumeExplanation> => {
      const res = await api.call('GET', `/v1/volumes/${name}/explanation`);
      t.equal(res.statusCode, 200, res.body);
      return res.json() as VolumeExplanation;
    };
    await addNodes(api, 3);
    const grace = 600_000;
    t.equal(
      (await api.call('PATCH', '/v1/settings', { replicaReplacementGraceMs: grace })).statusCode,
      200,
    );
    t.equal(
      (await api.call('POST', '/v1/volumes', { name: 'v', size: '1GiB', replicas: 3 })).statusCode,
      201,
    );
    t.match(await explain('v'), {
      state: 'healthy',
      events: [],
      next: [],
      actions: [],
      plannedAt: null,
    });

    // n2 goes down: the failure loop takes its replica out of the set, then the repair loop
    // waits for it until the grace ends (3 nodes: nowhere else to go before that anyway).
    const downAt = api.clock.nowMs;
    const down = await api.store.propose({
      type: 'setNodeState',
      nodeId: 'n2',
      action: 'down',
      at: downAt,
    });
    t.ok(down.ok, 'n2 marked down');
    await control.tick(api.clock.nowMs);
    api.clock.nowMs += 1_000;
    await control.tick(api.clock.nowMs);
    const e = await explain('v');
    t.equal(e.state, 'degraded');
    t.equal(e.plannedAt, api.clock.nowMs);
    t.match(e.events, [
      { at: downAt, text: /the replica on n2 left the in-sync set at epoch 0: node n2 is down/ },
    ]);
    t.match(e.next, [
      {
        loop: 'repair',
        text: /waiting for n2 to return within the grace period .*then a replacement/,
        until: downAt + grace,
      },
    ]);
    t.match(e.actions, [/bring n2 back before then .*`ballast node drain n2`/]);

    // After the grace there is still nowhere to place a replica: the plan says so, and what helps.
    api.clock.nowMs += grace;
    await control.tick(api.clock.nowMs);
    const late = await explain('v');
    t.match(late.next, [{ loop: 'repair', text: /cannot place a replica of v: /, until: null }]);
    t.match(late.actions, [/add a node the volume may use/]);

    t.equal(isProblem(await api.call('GET', '/v1/volumes/zz/explanation'), 404, 'NOT_FOUND'), null);
    t.equal(
      isProblem(await api.call('GET', '/v1/volumes/v/explanation?x=1'), 400, 'INVALID_ARGUMENT'),
      null,
    );
  },
);

t.test(
  'explanation: only the leader plans, so a member without a leader says UNAVAILABLE',
  async (t) => {
    const inner = await startApi(t);
    await addNodes(inner, 1);
    const api = await startApi(t, { store: new LeaderlessStore(inner.store) as never });
    t.equal(
      isProblem(await api.call('GET', '/v1/volumes/v/explanation'), 503, 'UNAVAILABLE'),
      null,
    );
  },
);
