// Snapshot routes against a real API over the cluster map: create (the seq meta assigns, the
// wait for the attached host's cut), the host's report, a detached volume's cut and its nodes'
// reports, list, inspect, delete; every refusal a problem+json that changes nothing.
import t from 'tap';
import { addNodes, startApi, type ApiHarness } from './helpers/api-harness.js';

async function attachedVolume(api: ApiHarness): Promise<number> {
  await addNodes(api, 3);
  const created = await api.call('POST', '/v1/volumes', { name: 'db', size: '1GiB', replicas: 3 });
  if (created.statusCode !== 201) throw new Error(created.body);
  const attached = await api.call('POST', '/v1/volumes/db/attach', { host: 'h1' });
  return attached.json().attachment.epoch as number;
}

t.test('create, report, list, inspect and delete a snapshot', async (t) => {
  const api = await startApi(t);
  const epoch = await attachedVolume(api);
  const started = await api.call('POST', '/v1/volumes/db/snapshots?waitMs=0', { name: 's1' });
  t.equal(started.statusCode, 202, 'still creating when the host has not cut yet');
  t.match(started.json(), { name: 's1', seq: 1, state: 'creating', host: 'h1', epoch });

  const refused = await api.call('POST', '/v1/volumes/db/snapshots?waitMs=0', { name: 's2' });
  t.equal(refused.statusCode, 409, 'one cut at a time');
  t.match(refused.json().detail, /taking snapshot s1 now/);
  const busy = await api.call('DELETE', '/v1/volumes/db/snapshots/s1');
  t.equal(busy.statusCode, 409, 'a snapshot being taken cannot be deleted');

  const stale = await api.call('POST', '/v1/volumes/db/snapshots/s1/result', {
    epoch: epoch - 1,
    ok: true,
    nodeIds: ['n1'],
    pauseMs: 1,
    reason: '',
  });
  t.equal(stale.statusCode, 409, 'a report from an older epoch is fenced');
  const result = await api.call('POST', '/v1/volumes/db/snapshots/s1/result', {
    epoch,
    ok: true,
    nodeIds: ['n2', 'n1', 'n3'],
    pauseMs: 12.5,
    reason: '',
  });
  t.equal(result.statusCode, 200, result.body);
  t.match(result.json(), { state: 'ready', nodeIds: ['n1', 'n2', 'n3'], pauseMs: 12.5 });

  const list = await api.call('GET', '/v1/volumes/db/snapshots');
  t.same(
    list.json().items.map((s: { name: string; seq: number }) => [s.name, s.seq]),
    [['s1', 1]],
  );
  const one = await api.call('GET', '/v1/volumes/db/snapshots/s1');
  t.equal(one.json().volume, 'db');
  t.equal((await api.call('GET', '/v1/volumes/db')).json().snapshots.length, 1);

  const dup = await api.call('POST', '/v1/volumes/db/snapshots?waitMs=0', { name: 's1' });
  t.equal(dup.statusCode, 409, 'a duplicate name');
  t.equal(dup.headers['content-type'], 'application/problem+json; charset=utf-8');

  t.equal((await api.call('DELETE', '/v1/volumes/db/snapshots/s1')).statusCode, 204);
  t.equal((await api.call('GET', '/v1/volumes/db/snapshots/s1')).statusCode, 404);
  const next = await api.call('POST', '/v1/volumes/db/snapshots?waitMs=0', { name: 's1' });
  t.equal(next.json().seq, 2, 'seqs are never reused, also after a delete');
});

t.test('a cut that fails, or an attach in the middle, leaves a failed snapshot', async (t) => {
  const api = await startApi(t);
  const epoch = await attachedVolume(api);
  await api.call('POST', '/v1/volumes/db/snapshots?waitMs=0', { name: 'a' });
  const failed = await api.call('POST', '/v1/volumes/db/snapshots/a/result', {
    epoch,
    ok: false,
    nodeIds: [],
    pauseMs: 3,
    reason: 'no in-sync replica answered',
  });
  t.match(failed.json(), { state: 'failed', stateReason: 'no in-sync replica answered' });
  await api.call('POST', '/v1/volumes/db/snapshots?waitMs=0', { name: 'b' });
  await api.call('POST', '/v1/volumes/db/attach', { host: 'h2', force: true });
  const b = (await api.call('GET', '/v1/volumes/db/snapshots/b')).json();
  t.match(b, { state: 'failed', stateReason: /attached again/ });
  const waited = await api.call('POST', '/v1/volumes/db/snapshots?waitMs=100', { name: 'c' });
  t.equal(waited.statusCode, 202, 'no host cuts in this test: 202 after the wait');
});

t.test('bad input: a clear problem and nothing changes', async (t) => {
  const api = await startApi(t);
  await addNodes(api, 3);
  await api.call('POST', '/v1/volumes', { name: 'cold', size: '1GiB', replicas: 3 });
  const before = api.mapState();
  const cases: Array<[string, string, unknown, number, RegExp]> = [
    ['POST', '/v1/volumes/nope/snapshots', { name: 's' }, 404, /volume nope does not exist/],
    ['POST', '/v1/volumes/cold/snapshots', { name: 'Bad Name!' }, 400, /name/],
    ['POST', '/v1/volumes/cold/snapshots', { name: 's', extra: 1 }, 400, /extra|additional/],
    ['POST', '/v1/volumes/cold/snapshots?waitMs=-1', { name: 's' }, 400, /waitMs/],
    ['GET', '/v1/volumes/cold/snapshots/none', undefined, 404, /no snapshot none/],
    ['DELETE', '/v1/volumes/cold/snapshots/none', undefined, 404, /no snapshot none/],
    [
      'POST',
      '/v1/volumes/cold/snapshots/none/result',
      { epoch: 1, ok: true, nodeIds: [], pauseMs: 0, reason: '' },
      404,
      /no snapshot none/,
    ],
    [
      'POST',
      '/v1/volumes/cold/snapshots/none/taken',
      { nodeId: 'n1', epoch: 0, ok: true, reason: '' },
      404,
      /no snapshot none/,
    ],
    [
      'POST',
      '/v1/volumes/cold/snapshots/none/taken',
      { nodeId: 'n1', epoch: 0, ok: 'yes', reason: '' },
      400,
      /ok/,
    ],
  ];
  for (const [method, url, body, status, detail] of cases) {
    const res = await api.call(method as 'POST', url, body);
    t.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
    t.match(res.json().detail ?? res.json().title, detail);
  }
  t.equal(api.mapState(), before, 'the map is unchanged');
});

t.test("a detached volume's snapshot is taken by the nodes of its in-sync replicas", async (t) => {
  const api = await startApi(t);
  await addNodes(api, 3);
  await api.call('POST', '/v1/volumes', { name: 'cold', size: '1GiB', replicas: 3 });
  const volume = (await api.call('GET', '/v1/volumes/cold')).json();
  const holders = volume.replicas.map((r: { nodeId: string }) => r.nodeId).sort();
  const started = await api.call('POST', '/v1/volumes/cold/snapshots?waitMs=0', { name: 'c1' });
  t.equal(started.statusCode, 202, started.body);
  t.match(started.json(), {
    state: 'creating',
    host: null,
    epoch: volume.epoch,
    waitingFor: holders,
    nodeIds: [],
  });
  const stale = await api.call('POST', '/v1/volumes/cold/snapshots/c1/taken', {
    nodeId: holders[0],
    epoch: volume.epoch + 1,
    ok: true,
    reason: '',
  });
  t.equal(stale.statusCode, 409, 'a report at another epoch is fenced');
  const engineReport = await api.call('POST', '/v1/volumes/cold/snapshots/c1/result', {
    epoch: volume.epoch,
    ok: true,
    nodeIds: holders,
    pauseMs: 0,
    reason: '',
  });
  t.equal(engineReport.statusCode, 409, 'no engine reports a detached cut as done');
  const first = await api.call('POST', '/v1/volumes/cold/snapshots/c1/taken', {
    nodeId: holders[0],
    epoch: volume.epoch,
    ok: true,
    reason: '',
  });
  t.match(first.json(), { state: 'creating', nodeIds: [holders[0]], waitingFor: holders.slice(1) });
  const again = await api.call('POST', '/v1/volumes/cold/snapshots/c1/taken', {
    nodeId: holders[0],
    epoch: volume.epoch,
    ok: true,
    reason: '',
  });
  t.equal(again.statusCode, 200, 'a retried report changes nothing');
  t.same(again.json().waitingFor, holders.slice(1));
  for (const nodeId of holders.slice(1)) {
    await api.call('POST', '/v1/volumes/cold/snapshots/c1/taken', {
      nodeId,
      epoch: volume.epoch,
      ok: true,
      reason: '',
    });
  }
  const ready = (await api.call('GET', '/v1/volumes/cold/snapshots/c1')).json();
  t.match(ready, { state: 'ready', nodeIds: holders, waitingFor: [], pauseMs: 0 });
  t.type(ready.readyAt, 'number');

  // A node that cannot take it fails the cut at once.
  await api.call('POST', '/v1/volumes/cold/snapshots?waitMs=0', { name: 'c2' });
  const refused = await api.call('POST', '/v1/volumes/cold/snapshots/c2/taken', {
    nodeId: holders[1],
    epoch: volume.epoch,
    ok: false,
    reason: 'replica failed: EIO',
  });
  t.match(refused.json(), { state: 'failed', stateReason: /could not take it: replica failed/ });
  const create = await api.call('POST', '/v1/volumes/cold/snapshots?waitMs=0', { name: 'c2b' });
  t.equal(create.json().seq, 3);

  // An attach before every node took it fails it; a node's late report is fenced.
  await api.call('DELETE', '/v1/volumes/cold/snapshots/c2');
  const racing = (await api.call('GET', '/v1/volumes/cold/snapshots/c2b')).json();
  t.equal(racing.state, 'creating');
  await api.call('POST', '/v1/volumes/cold/attach', { host: 'h1' });
  const late = await api.call('POST', '/v1/volumes/cold/snapshots/c2b/taken', {
    nodeId: holders[0],
    epoch: volume.epoch,
    ok: true,
    reason: '',
  });
  t.equal(late.statusCode, 200, 'a report of a decided cut is acknowledged and changes nothing');
  t.match((await api.call('GET', '/v1/volumes/cold/snapshots/c2b')).json(), {
    state: 'failed',
    stateReason: /attached again/,
  });
});

t.test('a resize of a detached volume fails the cut under way', async (t) => {
  const api = await startApi(t);
  await addNodes(api, 3);
  await api.call('POST', '/v1/volumes', { name: 'cold', size: '1GiB', replicas: 3 });
  await api.call('POST', '/v1/volumes/cold/snapshots?waitMs=0', { name: 'c1' });
  const resized = await api.call('PATCH', '/v1/volumes/cold', { size: '2GiB' });
  t.equal(resized.statusCode, 200, resized.body);
  t.match((await api.call('GET', '/v1/volumes/cold/snapshots/c1')).json(), {
    state: 'failed',
    stateReason: /resized/,
  });
});

t.test('revert a detached volume: a new epoch, then every in-sync node reports', async (t) => {
  const api = await startApi(t);
  await addNodes(api, 3);
  await api.call('POST', '/v1/volumes', { name: 'db', size: '1GiB', replicas: 3 });
  const volume = (await api.call('GET', '/v1/volumes/db')).json();
  const holders = volume.replicas.map((r: { nodeId: string }) => r.nodeId).sort();
  await api.call('POST', '/v1/volumes/db/snapshots?waitMs=0', { name: 's1' });
  for (const nodeId of holders) {
    await api.call('POST', '/v1/volumes/db/snapshots/s1/taken', {
      nodeId,
      epoch: volume.epoch,
      ok: true,
      reason: '',
    });
  }
  const attached = (await api.call('POST', '/v1/volumes/db/attach', { host: 'h1' })).json();
  const before = api.mapState();
  const whileAttached = await api.call('POST', '/v1/volumes/db/revert?waitMs=0', {
    snapshot: 's1',
  });
  t.equal(whileAttached.statusCode, 409);
  t.match(whileAttached.json().detail, /attached to h1: detach it first/);
  const unknown = await api.call('POST', '/v1/volumes/db/revert?waitMs=0', { snapshot: 'nope' });
  t.equal(unknown.statusCode, 404);
  t.equal(api.mapState(), before, 'refusals change nothing');
  await api.call('POST', '/v1/volumes/db/detach', { host: 'h1', epoch: attached.epoch });

  const started = await api.call('POST', '/v1/volumes/db/revert?waitMs=0', { snapshot: 's1' });
  t.equal(started.statusCode, 202, started.body);
  const epoch = attached.epoch + 1;
  t.match(started.json(), {
    epoch,
    revert: { snapshot: 's1', seq: 1, epoch, waitingFor: holders, nodeIds: [] },
  });
  const retried = await api.call('POST', '/v1/volumes/db/revert?waitMs=0', { snapshot: 's1' });
  t.equal(retried.statusCode, 202, 'asking again for the same revert is no new revert');
  t.equal(retried.json().epoch, epoch);
  // While it runs: no attach, resize, snapshot, or delete of its snapshot.
  for (const [method, url, body] of [
    ['POST', '/v1/volumes/db/attach', { host: 'h2', force: true }],
    ['PATCH', '/v1/volumes/db', { size: '2GiB' }],
    ['POST', '/v1/volumes/db/snapshots?waitMs=0', { name: 's2' }],
    ['DELETE', '/v1/volumes/db/snapshots/s1', undefined],
  ] as const) {
    const res = await api.call(method, url, body);
    t.equal(res.statusCode, 409, `${method} ${url} waits for the revert`);
    t.match(res.json().detail, /being reverted to snapshot s1/);
  }
  const stale = await api.call('POST', '/v1/volumes/db/revert/report', {
    nodeId: holders[0],
    epoch: epoch - 1,
  });
  t.equal(stale.statusCode, 409, 'a report at another epoch is fenced');
  for (const nodeId of holders.slice(0, 2)) {
    const res = await api.call('POST', '/v1/volumes/db/revert/report', { nodeId, epoch });
    t.equal(res.statusCode, 200, res.body);
  }
  t.match((await api.call('GET', '/v1/volumes/db')).json().revert, {
    nodeIds: holders.slice(0, 2),
  });
  await api.call('POST', '/v1/volumes/db/revert/report', { nodeId: holders[2], epoch });
  const done = (await api.call('GET', '/v1/volumes/db')).json();
  t.equal(done.revert, null, 'done once every in-sync node reported');
  t.equal(done.epoch, epoch);
  const late = await api.call('POST', '/v1/volumes/db/revert/report', {
    nodeId: holders[2],
    epoch,
  });
  t.equal(late.statusCode, 200, 'a repeated report after the end changes nothing');
  t.equal((await api.call('POST', '/v1/volumes/db/attach', { host: 'h2' })).statusCode, 200);
});

t.test('a snapshot follows its holders: a removed copy no longer holds it', async (t) => {
  const api = await startApi(t);
  await addNodes(api, 4);
  await api.call('POST', '/v1/volumes', { name: 'db', size: '1GiB', replicas: 2 });
  const volume = (await api.call('GET', '/v1/volumes/db')).json();
  const [a, b] = volume.replicas.map((r: { nodeId: string }) => r.nodeId).sort();
  await api.call('POST', '/v1/volumes/db/snapshots?waitMs=0', { name: 's1' });
  for (const nodeId of [a, b]) {
    await api.call('POST', '/v1/volumes/db/snapshots/s1/taken', {
      nodeId,
      epoch: volume.epoch,
      ok: true,
      reason: '',
    });
  }
  const removed = await api.call('DELETE', `/v1/volumes/db/replicas/${a}?force=true`);
  t.equal(removed.statusCode, 200, removed.body);
  t.match((await api.call('GET', '/v1/volumes/db/snapshots/s1')).json(), {
    state: 'ready',
    nodeIds: [b],
    stateReason: `held by ${b}`,
  });
  const other = (await api.call('GET', '/v1/nodes'))
    .json()
    .items.find((n: { id: string }) => n.id !== a && n.id !== b).id;
  t.equal((await api.call('POST', '/v1/volumes/db/replicas', { nodeId: other })).statusCode, 201);
  // Rebuilt (here: promoted as its node would after the copy), it does not get the snapshot.
  const promoted = await api.call('POST', `/v1/volumes/db/replicas/${other}/promote`, {
    epoch: volume.epoch,
  });
  t.equal(promoted.statusCode, 200, promoted.body);
  const last = await api.call('DELETE', `/v1/volumes/db/replicas/${b}?force=true`);
  t.equal(last.statusCode, 200, last.body);
  t.match((await api.call('GET', '/v1/volumes/db/snapshots/s1')).json(), {
    state: 'failed',
    nodeIds: [],
    stateReason: /lost: the replicas that held it .* are gone/,
  });
});

t.test('a clone: its first copy from the snapshot, then the usual rebuilds', async (t) => {
  const api = await startApi(t);
  await addNodes(api, 3);
  await api.call('POST', '/v1/volumes', { name: 'db', size: '1GiB', replicas: 3 });
  const db = (await api.call('GET', '/v1/volumes/db')).json();
  await api.call('POST', '/v1/volumes/db/snapshots?waitMs=0', { name: 's1' });
  for (const r of db.replicas as Array<{ nodeId: string }>) {
    await api.call('POST', '/v1/volumes/db/snapshots/s1/taken', {
      nodeId: r.nodeId,
      epoch: db.epoch,
      ok: true,
      reason: '',
    });
  }
  const before = api.mapState();
  const refusals: Array<[unknown, number, RegExp]> = [
    [{ name: 'c', fromSnapshot: 'nope@s1' }, 404, /volume nope does not exist/],
    [{ name: 'c', fromSnapshot: 'db@nope' }, 404, /no snapshot nope/],
    [{ name: 'c', fromSnapshot: 'db' }, 400, /fromSnapshot/],
    [{ name: 'c', fromSnapshot: 'db@s1', size: '512MiB' }, 422, /at least its 1073741824 bytes/],
    [{ name: 'c' }, 400, /size/],
  ];
  for (const [body, status, detail] of refusals) {
    const res = await api.call('POST', '/v1/volumes', body);
    t.equal(res.statusCode, status, `${JSON.stringify(body)}: ${res.body}`);
    t.match(res.json().detail, detail);
  }
  t.equal(api.mapState(), before, 'refused creates change nothing');

  const created = await api.call('POST', '/v1/volumes', { name: 'c', fromSnapshot: 'db@s1' });
  t.equal(created.statusCode, 201, created.body);
  const clone = created.json();
  t.match(clone, {
    sizeBytes: db.sizeBytes,
    chunkSizeBytes: db.chunkSizeBytes,
    fs: db.fs,
    source: { volume: 'db', snapshot: 's1', seq: 1, volumeId: db.id },
    seed: { nodeId: clone.replicas[0].nodeId },
    state: 'degraded',
    stateReason: /a clone of db@s1: .* copies the snapshot/,
  });
  t.ok(
    clone.replicas.every((r: { role: string }) => r.role === 'rebuilding'),
    'every replica starts rebuilding',
  );
  const again = await api.call('POST', '/v1/volumes', { name: 'c', fromSnapshot: 'db@s1' });
  t.equal(again.statusCode, 200, 'the same create again is idempotent');
  const other = await api.call('POST', '/v1/volumes', { name: 'c', size: '1GiB' });
  t.equal(other.statusCode, 409, 'the name with another origin is a conflict');

  for (const [method, url, body, detail] of [
    ['POST', '/v1/volumes/c/attach', { host: 'h1' }, /a clone of db@s1 still being copied/],
    ['DELETE', '/v1/volumes/db/snapshots/s1', undefined, /being copied into its clone\(s\) c/],
    ['DELETE', '/v1/volumes/db', undefined, /being copied into its clone\(s\) c/],
    ['POST', '/v1/volumes/c/snapshots?waitMs=0', { name: 'x' }, /still being copied/],
  ] as const) {
    const res = await api.call(method, url, body);
    t.equal(res.statusCode, 409, `${method} ${url}`);
    t.match(res.json().detail, detail);
  }
  const seeder = clone.seed.nodeId as string;
  const another = clone.replicas.find((r: { nodeId: string }) => r.nodeId !== seeder).nodeId;
  const early = await api.call('POST', `/v1/volumes/c/replicas/${another}/promote`, { epoch: 0 });
  t.equal(early.statusCode, 409, 'only the first copy may be promoted while it runs');
  const promoted = await api.call('POST', `/v1/volumes/c/replicas/${seeder}/promote`, {
    epoch: 0,
  });
  t.equal(promoted.statusCode, 200, promoted.body);
  const after = promoted.json();
  t.equal(after.seed, null, 'the first copy is done');
  t.match(after.source, { volume: 'db', snapshot: 's1' }, 'the lineage stays');
  t.equal(after.replicas.find((r: { nodeId: string }) => r.nodeId === seeder).role, 'in-sync');
  t.equal((await api.call('DELETE', '/v1/volumes/db/snapshots/s1')).statusCode, 204);
  const next = await api.call('POST', `/v1/volumes/c/replicas/${another}/promote`, { epoch: 0 });
  t.equal(next.statusCode, 200, 'the others are rebuilt from it as usual');
});
