// Snapshot routes against a real API over the cluster map: create (the seq meta assigns, the
// wait for the attached host's cut), the host's report, list, inspect, delete; every refusal a
// problem+json that changes nothing.
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
    ['POST', '/v1/volumes/cold/snapshots', { name: 's' }, 409, /not attached/],
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
  ];
  for (const [method, url, body, status, detail] of cases) {
    const res = await api.call(method as 'POST', url, body);
    t.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
    t.match(res.json().detail ?? res.json().title, detail);
  }
  t.equal(api.mapState(), before, 'the map is unchanged');
});
