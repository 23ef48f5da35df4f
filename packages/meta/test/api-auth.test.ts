import t from 'tap';
import { tokensEqual } from '../src/index.js';
import { AUTH, TOKEN, addNodes, isProblem, startApi } from './helpers/api-harness.js';
import { ROUTES, fill } from './helpers/routes.js';

t.test(
  'every private route refuses a missing or wrong token with 401 and changes nothing',
  async (t) => {
    const api = await startApi(t);
    await addNodes(api, 3);
    await api.call('POST', '/v1/volumes', { name: 'v', size: '1GiB' });
    await api.call('POST', '/v1/volumes/v/attach', { host: 'docker1' });
    const before = api.mapState();
    const badHeaders: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer wrong-token' },
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { authorization: TOKEN },
      { authorization: `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}` },
      { authorization: 'Bearer ' },
      { authorization: `Bearer ${'x'.repeat(10_000)}` },
    ];
    for (const route of ROUTES) {
      const url = fill(route.path, { id: 'n1', name: 'v', nodeId: 'n1' });
      for (const headers of badHeaders) {
        const res = await api.app.inject({
          method: route.method,
          url,
          headers,
          ...(route.body === undefined ? {} : { payload: route.body as object }),
        });
        const why = isProblem(res, 401, 'UNAUTHORIZED');
        if (why !== null)
          t.fail(`${route.method} ${url} with ${JSON.stringify(headers).slice(0, 60)}: ${why}`);
        if (res.headers['www-authenticate'] !== 'Bearer realm="ballast"')
          t.fail('WWW-Authenticate header');
      }
    }
    t.equal(api.mapState(), before, 'no unauthenticated request changed the map');
    const unknown = await api.app.inject({ method: 'GET', url: '/v1/secret' });
    t.equal(isProblem(unknown, 401, 'UNAUTHORIZED'), null, 'unknown routes need the token too');
    t.match(unknown.json().detail, /missing bearer token/);
    const wrong = await api.app.inject({
      method: 'GET',
      url: '/v1/cluster',
      headers: { authorization: 'Bearer nope' },
    });
    t.match(wrong.json().detail, /wrong bearer token/);
    await t.rejects(
      api.app.injectWS('/v1/watch'),
      /Unexpected server response: 401/,
      'the watch needs the token',
    );
    await t.rejects(
      api.app.injectWS('/v1/watch', { headers: { authorization: 'Bearer nope' } }),
      /Unexpected server response: 401/,
    );
  },
);

t.test('the token works in any case of the scheme; public routes need none', async (t) => {
  const api = await startApi(t);
  const lower = await api.app.inject({
    method: 'GET',
    url: '/v1/cluster',
    headers: { authorization: `bearer ${TOKEN}` },
  });
  t.equal(lower.statusCode, 200);
  t.equal(
    (await api.app.inject({ method: 'GET', url: '/v1/cluster', headers: AUTH })).statusCode,
    200,
  );
  for (const url of [
    '/healthz',
    '/metrics',
    '/docs',
    '/docs/json',
    '/docs/yaml',
    '/docs/static/index.css',
  ]) {
    const res = await api.app.inject({ method: 'GET', url });
    t.equal(res.statusCode, 200, `${url} is public`);
  }
  for (const url of [
    '/docs/../v1/volumes',
    '/docs/%2e%2e/v1/volumes',
    '/healthz/../v1/nodes',
    '//v1/nodes',
  ]) {
    const res = await api.app.inject({ method: 'GET', url });
    t.not(res.statusCode, 200, `${url} does not reach a private route`);
    t.notMatch(res.body, /"items"/, `${url} returns no data`);
  }
});

t.test('token comparison', async (t) => {
  t.equal(tokensEqual('abc', 'abc'), true);
  t.equal(tokensEqual('abc', 'abd'), false);
  t.equal(
    tokensEqual('abc', 'abcd'),
    false,
    'different lengths compare (in constant time) as unequal',
  );
  t.equal(tokensEqual('', 'a'), false);
});
