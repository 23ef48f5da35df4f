import t from 'tap';
import fc from 'fast-check';
import { AUTH, addNodes, startApi, type ApiHarness } from './helpers/api-harness.js';
import { fcParams } from './helpers/fc-params.js';
import { ROUTES, fill } from './helpers/routes.js';

/**
 * Random input on every route: bodies of random JSON (and JSON shaped like the real bodies with
 * random values), random path parameters and query strings, and some non-JSON. Whatever comes
 * in: no 5xx, errors are problem+json, and a rejected request leaves the map as it was.
 */

const keys = fc.constantFrom(
  'name',
  'size',
  'replicas',
  'chunkSize',
  'fs',
  'nodeSelector',
  'zoneSpread',
  'preferHost',
  'host',
  'force',
  'epoch',
  'reason',
  'labels',
  'id',
  'address',
  'capacityBytes',
  'usedBytes',
  'sequence',
  'engines',
  'volumeId',
  'state',
  'failedAgoMs',
  'attempts',
  'nextAttemptInMs',
  'recoveredAgoMs',
  '__proto__',
  'constructor',
);
const scalar = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(
    '1GiB',
    '10GiB',
    'docker1',
    'n1',
    'v',
    'ext4',
    'required',
    -1,
    0,
    4096,
    2 ** 53,
    1e308,
  ),
);
const shaped = fc.dictionary(
  keys,
  fc.oneof(scalar, fc.dictionary(fc.string({ maxLength: 10 }), scalar, { maxKeys: 3 })),
  {
    maxKeys: 6,
  },
);
const body = fc.oneof(
  { weight: 3, arbitrary: shaped.map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((b) => JSON.stringify(b)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', '{', '[]', 'null', '{"a":', '\u0000', '{"__proto__":{"x":1}}'),
  },
);
const param = fc.oneof(
  fc.constantFrom('n1', 'n2', 'v', 'vol', 'volume-1', 't1', '..', '.', '%', ''),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
const query = fc.oneof(
  fc.constant(''),
  fc
    .dictionary(
      fc.constantFrom('limit', 'cursor', 'state', 'node', 'volume', 'x', 'fromRevision'),
      fc.oneof(
        fc.string({ maxLength: 20 }),
        fc.integer().map(String),
        fc.constantFrom('up', 'healthy', 'eyJhZnRlciI6Im4xIn0'),
      ),
      { maxKeys: 3 },
    )
    .map((q) => `?${new URLSearchParams(q).toString()}`),
);

async function seeded(t: { teardown(fn: () => unknown): void }): Promise<ApiHarness> {
  const api = await startApi(t);
  await addNodes(api, 3);
  await api.call('POST', '/v1/volumes', { name: 'v', size: '1GiB' });
  await api.call('POST', '/v1/volumes/v/attach', { host: 'docker1' });
  await api.store.propose({
    type: 'createTask',
    at: 1,
    taskId: 't1',
    kind: 'rebuild',
    volumeId: 'volume-1',
    totalBytes: 10,
  });
  return api;
}

for (const route of ROUTES) {
  t.test(`fuzz ${route.method} ${route.path}`, async (t) => {
    const api = await seeded(t);
    let rejected = 0;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(
        param,
        param,
        param,
        query,
        body,
        fc.boolean(),
        async (id, name, nodeId, qs, payload, asJson) => {
          const url = fill(route.path, { id, name, nodeId }) + qs;
          const before = api.mapState();
          const res = await api.app.inject({
            method: route.method,
            url,
            headers: { ...AUTH, 'content-type': asJson ? 'application/json' : 'text/plain' },
            ...(route.method === 'GET' ? {} : { payload }),
          });
          if (res.statusCode >= 500)
            throw new Error(`${res.statusCode} for ${route.method} ${url} ${payload}: ${res.body}`);
          if (res.statusCode >= 400) {
            rejected++;
            if (!String(res.headers['content-type']).startsWith('application/problem+json')) {
              throw new Error(`${res.statusCode} without problem+json: ${res.body}`);
            }
            const problem = res.json() as Record<string, unknown>;
            if (
              problem.status !== res.statusCode ||
              typeof problem.code !== 'string' ||
              typeof problem.detail !== 'string'
            ) {
              throw new Error(`malformed problem: ${res.body}`);
            }
            if (api.mapState() !== before)
              throw new Error(`rejected ${route.method} ${url} ${payload} changed the map`);
          } else {
            accepted++;
          }
        },
      ),
      fcParams(60),
    );
    t.ok(rejected > 0, `rejected ${rejected}, accepted ${accepted}`);
  });
}

t.test('fuzz the real bodies with one field replaced by random JSON', async (t) => {
  const api = await seeded(t);
  const routes = ROUTES.filter((r) => r.body !== undefined);
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...routes),
      fc.nat(),
      fc.jsonValue({ maxDepth: 2 }),
      async (route, which, value) => {
        const real = route.body as Record<string, unknown>;
        const fields = Object.keys(real);
        const mutated =
          fields.length === 0
            ? { extra: value }
            : { ...real, [fields[which % fields.length]!]: value };
        const url = fill(route.path, { id: 'n2', name: 'v', nodeId: 'n2' });
        const before = api.mapState();
        const res = await api.app.inject({
          method: route.method,
          url,
          headers: AUTH,
          payload: JSON.stringify(mutated),
        });
        if (res.statusCode >= 500) throw new Error(`${res.statusCode}: ${res.body}`);
        if (res.statusCode >= 400) {
          if (!String(res.headers['content-type']).startsWith('application/problem+json'))
            throw new Error(res.body);
          if (api.mapState() !== before)
            throw new Error(`rejected ${route.method} ${url} changed the map`);
        }
      },
    ),
    fcParams(300),
  );
  t.pass('no 5xx; rejections are problem+json and change nothing');
});
