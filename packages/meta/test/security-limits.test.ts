// Limits of the API: rate limits per budget and client (429 problem+json with retry-after, the
// cluster's own traffic on its own budget, floods of wrong tokens throttled too), body size, and
// open connections per address on a real socket.
import { connect, type Socket } from 'node:net';
import t from 'tap';
import { waitFor } from '@ballast/testkit';
import { Registry } from 'prom-client';
import { AUTH, addNodes, isProblem, startApi } from './helpers/api-harness.js';

const JOIN = 'join-token-fedcba9876543210';
const JOIN_AUTH = { authorization: `Bearer ${JOIN}` };
const HOUR_MS = 3_600_000;

async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  let sum = 0;
  for (const v of (await metric.get()).values) {
    if (Object.entries(labels).every(([k, want]) => v.labels[k] === want)) sum += v.value;
  }
  return sum;
}

t.test(
  'a client over its API budget gets 429 problem+json with retry-after; others go on',
  async (t) => {
    const registry = new Registry();
    const api = await startApi(t, {
      joinToken: JOIN,
      metricsRegistry: registry,
      rateLimit: {
        api: { requests: 5, windowMs: HOUR_MS },
        cluster: { requests: 50, windowMs: HOUR_MS },
        anonymous: { requests: 3, windowMs: HOUR_MS },
      },
    });
    await addNodes(api, 1); // 1 request in the cluster budget (registration)
    for (let i = 0; i < 5; i++) t.equal((await api.call('GET', '/v1/nodes')).statusCode, 200);
    const before = api.mapState();
    const refused = await api.call('POST', '/v1/volumes', {
      name: 'late',
      size: '1GiB',
      replicas: 1,
    });
    t.equal(isProblem(refused, 429, 'RATE_LIMITED'), null);
    const retryAfter = Number(refused.headers['retry-after']);
    t.ok(retryAfter > 0 && retryAfter <= 3600, `retry-after ${retryAfter} s`);
    t.match(refused.json(), {
      details: { budget: 'api', limit: 5, windowMs: HOUR_MS, retryAfterSeconds: retryAfter },
    });
    t.equal(api.mapState(), before, 'a refused write changed nothing');

    // The cluster's own traffic has its own budget: heartbeats and the watch still work.
    const hb = await api.app.inject({
      method: 'POST',
      url: '/v1/nodes/n1/heartbeat',
      headers: AUTH,
      payload: { sequence: 1 },
    });
    t.equal(hb.statusCode, 200, 'heartbeat of a throttled client still answered');
    const ws = await api.app.injectWS('/v1/watch', { headers: AUTH });
    ws.terminate();
    // Another credential is another client.
    t.equal(
      (await api.app.inject({ method: 'GET', url: '/v1/nodes', headers: JOIN_AUTH })).statusCode,
      200,
      'the join token has its own budget',
    );
    t.equal(
      await metricValue(registry, 'ballast_meta_http_rate_limited_total', { budget: 'api' }),
      1,
    );
  },
);

t.test('wrong tokens are throttled per address before they are judged', async (t) => {
  const registry = new Registry();
  const api = await startApi(t, {
    metricsRegistry: registry,
    rateLimit: { anonymous: { requests: 3, windowMs: HOUR_MS } },
  });
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await api.app.inject({
      method: 'GET',
      url: '/v1/cluster',
      headers: { authorization: `Bearer guess-${i}` },
    });
    statuses.push(res.statusCode);
  }
  t.same(statuses, [401, 401, 401, 429, 429]);
  t.equal(
    (await api.call('GET', '/v1/cluster')).statusCode,
    200,
    'the right token is another budget',
  );
  t.equal(
    await metricValue(registry, 'ballast_meta_http_rate_limited_total', { budget: 'anonymous' }),
    2,
  );
});

t.test('a budget comes back after its window', async (t) => {
  const api = await startApi(t, { rateLimit: { api: { requests: 2, windowMs: 500 } } });
  const codes = [];
  for (let i = 0; i < 3; i++) codes.push((await api.call('GET', '/v1/nodes')).statusCode);
  t.same(codes, [200, 200, 429]);
  await waitFor(
    'the window to pass',
    async () => (await api.call('GET', '/v1/nodes')).statusCode === 200,
    { timeoutMs: 20_000, intervalMs: 100 },
  );
  t.pass('answered again');
});

t.test('rate limits can be turned off; nonsense budgets are refused', async (t) => {
  const api = await startApi(t, { rateLimit: false });
  for (let i = 0; i < 50; i++) {
    const res = await api.app.inject({
      method: 'GET',
      url: '/v1/cluster',
      headers: { authorization: 'Bearer x' },
    });
    if (res.statusCode !== 401) t.fail(`status ${res.statusCode}`);
  }
  t.pass('50 wrong tokens, 50 answers of 401');
  await t.rejects(startApi(t, { rateLimit: { api: { requests: 0, windowMs: 1000 } } }), {
    code: 'CONFIG',
  });
  await t.rejects(startApi(t, { rateLimit: { api: { requests: 10, windowMs: 1 } } }), {
    code: 'CONFIG',
  });
});

t.test('bodies over the limit are refused with 413 before anything happens', async (t) => {
  const api = await startApi(t, { bodyLimitBytes: 1024 });
  const before = api.mapState();
  const res = await api.call('POST', '/v1/volumes', {
    name: 'big',
    size: '1GiB',
    replicas: 1,
    preferHost: 'x'.repeat(2000),
  });
  t.equal(isProblem(res, 413, 'TOO_LARGE'), null);
  t.equal(api.mapState(), before);
});

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
    s.on('error', () => undefined); // a reset after the connect shows as a close
  });
}

function closedByServer(s: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) resolve();
    s.once('close', () => resolve());
  });
}

/** Sends a request on a raw socket and resolves with the status line. */
function statusLine(s: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    s.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const eol = text.indexOf('\r\n');
      if (eol >= 0) resolve(text.slice(0, eol));
    });
    s.once('close', () => resolve('closed'));
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  });
}

t.test('open connections per address are bounded on the real socket', async (t) => {
  const registry = new Registry();
  const api = await startApi(t, { metricsRegistry: registry, connections: { perAddress: 2 } });
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  const addr = api.app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const sockets: Socket[] = [];
  t.teardown(() => sockets.forEach((s) => s.destroy()));
  for (let i = 0; i < 2; i++) sockets.push(await openSocket(port));
  t.equal(await statusLine(sockets[0]!), 'HTTP/1.1 200 OK', 'the first two are served');
  const third = await openSocket(port);
  sockets.push(third);
  await closedByServer(third);
  t.pass('the third is closed at once');
  t.equal(
    await metricValue(registry, 'ballast_meta_http_connections_refused_total', {
      reason: 'per-address',
    }),
    1,
  );
  sockets[1]!.destroy();
  await waitFor('a slot to free up', async () => {
    const s = await openSocket(port);
    sockets.push(s);
    return (await statusLine(s)) === 'HTTP/1.1 200 OK';
  });
  t.pass('after one closes, a new connection is served');
});
