// Random input on every route of the OpenAPI document (/docs/json) of a real metadata member (the
// real startMetaMember in this process: Raft log on disk, Raft-backed store, every route it
// mounts, membership included), with every kind of token. Whatever comes in: never a 5xx, every
// 4xx is problem+json, a request the token does not allow is 401/403, and nothing that answered
// 4xx changed the map (revision and content). Replay a failure with the FC_SEED and FC_PATH it
// prints; FC_RUNS changes the number of cases.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import fc from 'fast-check';
import { createLogger } from '@ballast/common';
import { freePort, waitFor } from '@ballast/testkit';
import { GiB, scopeOf, startMetaMember, type RunningMember } from '../src/index.js';
import { fcParams } from './helpers/fc-params.js';

const ADMIN = 'fuzz-admin-token-0123456789';
const JOIN = 'fuzz-join-token-0123456789';
const HOUR_MS = 3_600_000;

interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** fastify pattern, `/v1/nodes/:id` */
  path: string;
}

async function startMember(t: Test): Promise<RunningMember> {
  const dir = mkdtempSync(join(tmpdir(), 'meta-fuzz-'));
  const port = await freePort();
  const member = await startMetaMember(
    {
      id: 'm1',
      dataDir: dir,
      host: '127.0.0.1',
      port,
      peers: { m1: `http://127.0.0.1:${port}` },
      clusterId: 'fuzz',
      token: ADMIN,
      joinToken: JOIN,
      // Nothing but the requests may change the map while the test compares it.
      nodeTimeoutMs: HOUR_MS,
      controlIntervalMs: HOUR_MS,
      catchUpTimeoutMs: 1000,
      // Thousands of requests from one address in seconds: not what this test is about.
      apiLimits: { rateLimit: false },
    },
    createLogger({ name: 'meta-fuzz', level: 'silent', pretty: false }),
  );
  t.teardown(async () => {
    await member.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await waitFor('the member to lead', () => member.store.isLeader(), { timeoutMs: 30_000 });
  return member;
}

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
  'doneBytes',
  'totalBytes',
  'outcome',
  'overProvisionPercent',
  'nodeId',
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
    '64KiB',
    'docker1',
    'n1',
    'n2',
    'v',
    'm1',
    'ext4',
    'required',
    -1,
    0,
    4096,
    2 ** 53,
    1e308,
  ),
);
const body = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .dictionary(
        keys,
        fc.oneof(scalar, fc.dictionary(fc.string({ maxLength: 10 }), scalar, { maxKeys: 3 })),
        {
          maxKeys: 6,
        },
      )
      .map((b) => JSON.stringify(b)),
  },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((b) => JSON.stringify(b)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', '{', '[]', 'null', '{"a":', '\u0000', '{"__proto__":{"x":1}}'),
  },
);
const param = fc.oneof(
  fc.constantFrom('n1', 'n2', 'n3', 'v', 'w', 'm1', 'm2', 't1', '..', '.', '%', '%00', ''),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
const query = fc.oneof(
  fc.constant(''),
  fc
    .dictionary(
      fc.constantFrom('limit', 'cursor', 'state', 'node', 'volume', 'force', 'x', 'fromRevision'),
      fc.oneof(
        fc.string({ maxLength: 20 }),
        fc.integer().map(String),
        fc.constantFrom('up', 'true', 'eyJhZnRlciI6Im4xIn0'),
      ),
      { maxKeys: 3 },
    )
    .map((q) => `?${new URLSearchParams(q).toString()}`),
);
const token = fc.oneof(
  { weight: 8, arbitrary: fc.constant(`Bearer ${ADMIN}`) },
  { weight: 2, arbitrary: fc.constant(`Bearer ${JOIN}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', `Bearer ${ADMIN}x`, 'Bearer ', `bearer ${JOIN.slice(1)}`),
  },
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  '',
);

t.test('random requests on every documented route of a real member', async (t) => {
  const member = await startMember(t);
  const app = member.app;
  const admin = { authorization: `Bearer ${ADMIN}` };
  const seed = async (method: Route['method'], url: string, payload: object): Promise<void> => {
    const res = await app.inject({ method, url, headers: admin, payload });
    if (res.statusCode >= 300)
      throw new Error(`seed ${method} ${url}: ${res.statusCode} ${res.body}`);
  };
  for (let i = 1; i <= 3; i++) {
    await seed('POST', '/v1/nodes', {
      id: `n${i}`,
      address: `10.0.0.${i}:7100`,
      labels: { zone: `z${i}`, host: `h${i}` },
      capacityBytes: 100 * GiB,
    });
  }
  await seed('POST', '/v1/volumes', { name: 'v', size: '1GiB', replicas: 3 });
  await seed('POST', '/v1/volumes/v/attach', { host: 'docker1' });
  await seed('POST', '/v1/volumes', { name: 'w', size: '1GiB', replicas: 1 });

  const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as {
    paths: Record<string, Record<string, unknown>>;
  };
  const routes: Route[] = [];
  for (const [p, ops] of Object.entries(doc.paths)) {
    for (const m of Object.keys(ops)) {
      routes.push({
        method: m.toUpperCase() as Route['method'],
        path: p.replace(/\{([A-Za-z]+)\}/g, ':$1'),
      });
    }
  }
  const names = routes.map((r) => `${r.method} ${r.path}`);
  t.ok(names.includes('POST /v1/cluster/members'), 'the membership routes are in the document');
  t.ok(routes.length >= 25, `${routes.length} routes`);

  const snapshot = (): string =>
    JSON.stringify({ ...member.store.map.snapshot(), appliedIndex: 0 });
  const perRoute = new Map<string, { accepted: number; rejected: number }>();
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...routes),
      fc.tuple(param, param, param),
      query,
      body,
      token,
      contentType,
      async (route, [id, name, nodeId], qs, payload, authorization, type) => {
        const url =
          route.path.replace(/:([A-Za-z]+)/g, (_, p: string) =>
            encodeURIComponent({ id, name, nodeId }[p as 'id'] ?? 'x'),
          ) + qs;
        const revision = member.store.map.revision;
        const before = snapshot();
        const res = await app.inject({
          method: route.method,
          url,
          headers: {
            ...(authorization === '' ? {} : { authorization }),
            ...(type === '' ? {} : { 'content-type': type }),
          },
          ...(route.method === 'GET' ? {} : { payload }),
        });
        const what = `${route.method} ${url} (${authorization.slice(0, 12)}…, ${type}) ${payload.slice(0, 200)}`;
        if (res.statusCode >= 500) throw new Error(`${res.statusCode} for ${what}: ${res.body}`);
        const counts = perRoute.get(`${route.method} ${route.path}`) ?? {
          accepted: 0,
          rejected: 0,
        };
        perRoute.set(`${route.method} ${route.path}`, counts);
        if (res.statusCode < 400) {
          counts.accepted++;
        } else {
          counts.rejected++;
          if (!String(res.headers['content-type']).startsWith('application/problem+json'))
            throw new Error(`${res.statusCode} without problem+json for ${what}: ${res.body}`);
          const problem = res.json() as Record<string, unknown>;
          if (
            problem.status !== res.statusCode ||
            typeof problem.code !== 'string' ||
            typeof problem.detail !== 'string'
          )
            throw new Error(`malformed problem for ${what}: ${res.body}`);
          if (member.store.map.revision !== revision)
            throw new Error(
              `${res.statusCode} for ${what} moved the revision ${revision} -> ${member.store.map.revision}`,
            );
          if (snapshot() !== before)
            throw new Error(`${res.statusCode} for ${what} changed the map`);
        }
        // Tokens decide before anything else does, on a URL that certainly matches the route
        // (odd parameters such as '..' or '' may route elsewhere or nowhere).
        const used = [...route.path.matchAll(/:([A-Za-z]+)/g)].map(
          (m) => ({ id, name, nodeId })[m[1] as 'id'],
        );
        const plain = used.every((p) => /^[A-Za-z0-9_-]+$/.test(p));
        if (!plain) return;
        const scope = scopeOf(route.method, route.path, route.path === '/healthz');
        const isAdmin = authorization === `Bearer ${ADMIN}`;
        const isJoin = authorization === `Bearer ${JOIN}`;
        if (scope !== 'public' && !isAdmin && !isJoin && res.statusCode !== 401)
          throw new Error(`${what} answered ${res.statusCode} to a bad token`);
        if (scope === 'admin' && isJoin && res.statusCode !== 403)
          throw new Error(`${what} answered ${res.statusCode} to the join token`);
      },
    ),
    fcParams(2000),
  );
  const untouched = routes.filter((r) => !perRoute.has(`${r.method} ${r.path}`));
  t.same(untouched, [], 'every route was tried');
  const rejected = [...perRoute.values()].reduce((n, c) => n + c.rejected, 0);
  const accepted = [...perRoute.values()].reduce((n, c) => n + c.accepted, 0);
  t.ok(rejected > 0 && accepted > 0, `rejected ${rejected}, accepted ${accepted}`);
});
