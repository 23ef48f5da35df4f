// GET /v1/version: what a member runs, for `ballast version`.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { startApi } from './helpers/api-harness.js';

const JOIN = 'test-join-token-0123456789abcdef';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

t.test('GET /v1/version answers the package and Node.js versions, with a token', async (t) => {
  const api = await startApi(t, { joinToken: JOIN });
  const res = await api.call('GET', '/v1/version');
  t.equal(res.statusCode, 200);
  t.same(res.json(), { version: pkg.version, node: process.version });
  const join = await api.app.inject({
    method: 'GET',
    url: '/v1/version',
    headers: { authorization: `Bearer ${JOIN}` },
  });
  t.equal(join.statusCode, 200, 'the join token may read it (every read is open to it)');
  const anonymous = await api.app.inject({ method: 'GET', url: '/v1/version' });
  t.equal(anonymous.statusCode, 401, 'no token, no answer');
  const query = await api.call('GET', '/v1/version?x=1');
  t.equal(query.statusCode, 400, 'no query parameters');
});
