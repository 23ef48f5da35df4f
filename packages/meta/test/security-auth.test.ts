// The two tokens: the admin token reaches every route; the cluster join token reaches exactly the
// routes of its table (written out again here, so that a change to the code's table without a
// change to this list, or to the README's table, fails); anything else answers 401/403 with
// problem+json and changes nothing.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import {
  JOIN_TOKEN_ROUTES,
  buildApi,
  DirectMetaStore,
  resolveAdminToken,
  scopeOf,
} from '../src/index.js';
import {
  AUTH,
  TOKEN,
  addNodes,
  isProblem,
  startApi,
  type ApiHarness,
} from './helpers/api-harness.js';
import { ROUTES, fill } from './helpers/routes.js';

const JOIN = 'join-token-fedcba9876543210';
const JOIN_AUTH = { authorization: `Bearer ${JOIN}` };

/** The documented join-token table (README), besides every GET under /v1/. */
const JOIN_MAY = new Set([
  'POST /v1/nodes',
  'POST /v1/nodes/:id/heartbeat',
  'POST /v1/hosts/:id/heartbeat',
  'POST /v1/volumes',
  'DELETE /v1/volumes/:name',
  'POST /v1/volumes/:name/attach',
  'POST /v1/volumes/:name/detach',
  'POST /v1/volumes/:name/replicas/:nodeId/out-of-sync',
  'POST /v1/volumes/:name/replicas/:nodeId/promote',
  'POST /v1/volumes/:name/snapshots/:snapshot/result',
  'POST /v1/volumes/:name/snapshots/:snapshot/taken',
  'POST /v1/volumes/:name/revert/report',
  'POST /v1/tasks/:id/progress',
  'POST /v1/tasks/:id/finish',
]);

async function seeded(t: Parameters<typeof startApi>[0]): Promise<ApiHarness> {
  const api = await startApi(t, { joinToken: JOIN });
  await addNodes(api, 3);
  await api.call('POST', '/v1/volumes', { name: 'v', size: '1GiB' });
  await api.call('POST', '/v1/volumes/v/attach', { host: 'docker1' });
  return api;
}

/** Every route of the OpenAPI document as METHOD + fastify pattern. */
async function documentedRoutes(api: ApiHarness): Promise<Array<{ method: string; path: string }>> {
  const doc = (await api.app.inject({ method: 'GET', url: '/docs/json' })).json() as {
    paths: Record<string, Record<string, unknown>>;
  };
  const out: Array<{ method: string; path: string }> = [];
  for (const [p, ops] of Object.entries(doc.paths)) {
    for (const m of Object.keys(ops)) {
      out.push({ method: m.toUpperCase(), path: p.replace(/\{([A-Za-z]+)\}/g, ':$1') });
    }
  }
  return out;
}

function bodyFor(method: string, path: string): string | undefined {
  if (method === 'GET' || method === 'DELETE') return undefined;
  const known = ROUTES.find((r) => r.method === method && r.path === path);
  return JSON.stringify(known?.body ?? {});
}

t.test(
  'the join token reaches exactly its table; other routes answer 403 and change nothing',
  async (t) => {
    const api = await seeded(t);
    const routes = await documentedRoutes(api);
    const documented = new Set(routes.map((r) => `${r.method} ${r.path}`));
    for (const allowed of JOIN_MAY)
      t.ok(documented.has(allowed), `${allowed} is a route of the API`);
    t.same(
      new Set(JOIN_TOKEN_ROUTES.filter((r) => r.url !== '*').map((r) => `${r.method} ${r.url}`)),
      JOIN_MAY,
      "the code's table is the documented one",
    );

    let forbidden = 0;
    for (const { method, path } of routes) {
      if (path === '/v1/watch') continue; // a websocket; checked below
      const url = fill(path, { id: 'n1', name: 'v', nodeId: 'n2' });
      const before = api.mapState();
      const payload = bodyFor(method, path);
      const res = await api.app.inject({
        method: method as 'GET',
        url,
        headers: {
          ...JOIN_AUTH,
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(payload === undefined ? {} : { payload }),
      });
      const publicRoute = path === '/healthz';
      if (method === 'GET' || JOIN_MAY.has(`${method} ${path}`) || publicRoute) {
        t.notOk(
          [401, 403].includes(res.statusCode),
          `${method} ${path} is open to the join token (${res.statusCode})`,
        );
      } else {
        forbidden++;
        const why = isProblem(res, 403, 'FORBIDDEN');
        t.equal(why, null, `${method} ${path} refuses the join token`);
        t.match(res.json().detail, /join token may not call .* use the admin token/);
        t.equal(api.mapState(), before, `${method} ${path} changed nothing`);
      }
    }
    t.ok(forbidden >= 8, `admin-only routes refused: ${forbidden}`);

    // The admin token is refused nowhere.
    for (const { method, path } of routes) {
      if (path === '/v1/watch') continue;
      const payload = bodyFor(method, path);
      const res = await api.app.inject({
        method: method as 'GET',
        url: fill(path, { id: 'n3', name: 'v', nodeId: 'n3' }),
        headers: {
          ...AUTH,
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(payload === undefined ? {} : { payload }),
      });
      t.notOk(
        [401, 403].includes(res.statusCode),
        `${method} ${path} with the admin token: ${res.statusCode}`,
      );
    }

    const ws = await api.app.injectWS('/v1/watch', { headers: JOIN_AUTH });
    t.pass('the join token opens the watch');
    ws.terminate();
  },
);

t.test('routes the in-process API does not mount are admin-only by the table too', async (t) => {
  for (const [method, url] of [
    ['POST', '/v1/cluster/members'],
    ['DELETE', '/v1/cluster/members/:id'],
    ['POST', '/internal/v1/propose'],
    ['POST', '/internal/v1/members'],
    ['PATCH', '/v1/settings'],
    ['PUT', '/v1/nodes/:id/labels'],
    ['DELETE', '/v1/nodes/:id'],
    ['PATCH', '/v1/volumes/:name'],
    ['POST', '/v1/volumes/:name/replicas'],
    ['DELETE', '/v1/volumes/:name/replicas/:nodeId'],
    ['POST', '/v1/some/future/route'],
  ] as const) {
    t.equal(scopeOf(method, url, false), 'admin', `${method} ${url}`);
  }
  t.equal(scopeOf('GET', '/v1/cluster', false), 'join');
  t.equal(scopeOf('HEAD', '/v1/nodes', false), 'join');
  t.equal(
    scopeOf('GET', '/internal/v1/whatever', false),
    'admin',
    'reads outside /v1 are admin-only',
  );
  t.equal(scopeOf('GET', '/metrics', true), 'public');
});

t.test('a node without the join token cannot register; with it, it can', async (t) => {
  const api = await startApi(t, { joinToken: JOIN });
  const body = {
    id: 'n1',
    address: '10.0.0.1:7100',
    labels: { zone: 'a' },
    capacityBytes: 1 << 30,
  };
  const before = api.mapState();
  for (const headers of [
    {},
    { authorization: 'Bearer not-the-join-token-000' },
    { authorization: `Bearer ${JOIN.toUpperCase()}` },
    { authorization: `Basic ${Buffer.from(`node:${JOIN}`).toString('base64')}` },
  ]) {
    const res = await api.app.inject({ method: 'POST', url: '/v1/nodes', headers, payload: body });
    t.equal(isProblem(res, 401, 'UNAUTHORIZED'), null, JSON.stringify(headers).slice(0, 50));
  }
  t.equal(api.mapState(), before, 'nothing registered');
  const ok = await api.app.inject({
    method: 'POST',
    url: '/v1/nodes',
    headers: JOIN_AUTH,
    payload: body,
  });
  t.equal(ok.statusCode, 201, ok.body);
  const hb = await api.app.inject({
    method: 'POST',
    url: '/v1/nodes/n1/heartbeat',
    headers: JOIN_AUTH,
    payload: { sequence: 1 },
  });
  t.equal(hb.statusCode, 200, hb.body);
  const cordon = await api.app.inject({
    method: 'POST',
    url: '/v1/nodes/n1/cordon',
    headers: JOIN_AUTH,
  });
  t.equal(isProblem(cordon, 403, 'FORBIDDEN'), null, 'but it cannot cordon');
  t.equal(api.store.map.getNode('n1')?.state, 'up');
});

t.test('without a configured join token, only the admin token works', async (t) => {
  const api = await startApi(t);
  const res = await api.app.inject({ method: 'GET', url: '/v1/nodes', headers: JOIN_AUTH });
  t.equal(isProblem(res, 401, 'UNAUTHORIZED'), null);
  t.equal((await api.call('GET', '/v1/nodes')).statusCode, 200);
});

t.test('a join token equal to the admin token or too short is a configuration error', async (t) => {
  const store = new DirectMetaStore({ apiUrl: 'http://meta.test:7000' });
  await t.rejects(buildApi({ store, token: TOKEN, joinToken: TOKEN }), { code: 'CONFIG' });
  await t.rejects(buildApi({ store, token: TOKEN, joinToken: 'short' }), { code: 'CONFIG' });
  await t.rejects(buildApi({ store, token: '' }), { code: 'CONFIG' });
});

t.test('the bootstrapped admin token is written once, mode 0600', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meta-token-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const first = resolveAdminToken(dir, undefined);
  t.match(first, /^[0-9a-f]{48}$/);
  t.equal(statSync(join(dir, 'admin-token')).mode & 0o777, 0o600);
  t.equal(resolveAdminToken(dir, undefined), first, 'read back after a restart');
  t.equal(resolveAdminToken(dir, 'configured-token-123456'), 'configured-token-123456');
});

t.test("the README's table names every join-token route", async (t) => {
  const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
  for (const rule of JOIN_TOKEN_ROUTES) {
    const row =
      rule.url === '*'
        ? '| `GET` | every `/v1/...` route'
        : `| \`${rule.method}\` | \`${rule.url}\``;
    t.ok(readme.includes(row), `README lists ${rule.method} ${rule.url}`);
  }
});
