// MetaClient against meta's real REST API (fastify on a loopback port, DirectMetaStore behind
// it): failover past a member that refuses connections, refusals thrown at once with their code,
// every page of a list, a silent member hedged around (and an unknown outcome reported when the
// call gives up on one), bad configuration refused.
import { createServer } from 'node:http';
import t from 'tap';
import { BallastError } from '@ballast/common';
import type { DirectMetaStore } from '@ballast/meta';
import { MetaClient } from '../src/index.js';
import { startMeta, startSilent, type Teardown } from './helpers.js';

const TOKEN = 'meta-client-test-token';

async function startMetaWithNode(t: Teardown): Promise<{ meta: DirectMetaStore; url: string }> {
  const { meta, url, propose } = await startMeta(t, TOKEN);
  await propose({
    type: 'registerNode',
    at: Date.now(),
    nodeId: 'n1',
    address: '10.0.0.1:7100',
    labels: {},
    capacityBytes: 2 ** 40,
    usedBytes: 0,
  });
  return { meta, url };
}

const volumeBody = (name: string) => ({ name, size: '64MiB', replicas: 1 });

t.test(
  'fails over past a member that refuses connections, then starts at the one that answered',
  async (t) => {
    const { url } = await startMetaWithNode(t);
    const client = new MetaClient({ urls: ['http://127.0.0.1:1', url], token: TOKEN });
    const cluster = await client.get<{ members: unknown[] }>('/v1/cluster');
    t.ok(Array.isArray(cluster.members), 'answered by the second member');
    t.equal(client.currentUrl, url, 'the member that answered is asked first next time');
  },
);

t.test('refusals are thrown at once with their code, status and details', async (t) => {
  const { url } = await startMetaWithNode(t);
  const client = new MetaClient({ urls: [url], token: TOKEN, timeoutMs: 60_000 });
  const started = Date.now();
  const missing = await client.get('/v1/volumes/nope').catch((e: unknown) => e);
  t.type(missing, BallastError);
  t.equal((missing as BallastError).code, 'NOT_FOUND');
  t.equal((missing as BallastError).details?.status, 404);
  t.ok(Date.now() - started < 30_000, 'not retried until the deadline');
  const wrong = new MetaClient({ urls: [url], token: 'wrong-token' });
  await t.rejects(wrong.get('/v1/volumes'), { code: 'UNAUTHORIZED' });
  const invalid = await client
    .post('/v1/volumes', { name: 'x', size: 'lots', replicas: 1 })
    .catch((e: unknown) => e);
  t.equal(
    (invalid as BallastError).code,
    'UNPROCESSABLE',
    `a size that does not parse is refused (${(invalid as Error).message})`,
  );
  const garbage = await client.post('/v1/volumes', { name: 7 }).catch((e: unknown) => e);
  t.equal((garbage as BallastError).code, 'INVALID_ARGUMENT', 'a body off the schema is refused');
});

t.test('list reads every page and reports the lowest revision', async (t) => {
  const { meta, url } = await startMetaWithNode(t);
  const client = new MetaClient({ urls: [url], token: TOKEN });
  const names = Array.from({ length: 1203 }, (_, i) => `v${String(i).padStart(4, '0')}`);
  // Created through the map directly: 1,203 REST creates would only slow the test down.
  for (const [i, name] of names.entries()) {
    const r = await meta.propose({
      type: 'createVolume',
      at: Date.now(),
      volumeId: `id-${i}`,
      name,
      sizeBytes: 2 ** 20,
      chunkSizeBytes: 2 ** 20,
      desiredReplicas: 1,
      constraints: { nodeSelector: {}, zoneSpread: 'preferred' },
      fs: 'ext4',
      replicaNodeIds: ['n1'],
    });
    if (!r.ok) throw new Error(r.error.message);
  }
  const listed = await client.list<{ name: string }>('/v1/volumes');
  t.equal(listed.items.length, names.length, 'two pages of 1000 read');
  t.same(listed.items.map((v) => v.name).sort(), names, 'every volume once');
  t.ok(listed.revision > 0 && listed.revision <= meta.map.revision, 'a revision to watch from');
});

t.test('a silent member is hedged around when the call asks for it', async (t) => {
  const { url } = await startMetaWithNode(t);
  const silent = await startSilent(t);
  const client = new MetaClient({
    urls: [silent.url, url],
    token: TOKEN,
    // Longer than the test may run: only hedging can make the call finish.
    attemptTimeoutMs: 600_000,
    timeoutMs: 600_000,
  });
  const created = await client.post<{ name: string }>('/v1/volumes', volumeBody('hedged'), {
    hedgeMs: 200,
  });
  t.equal(created.name, 'hedged', 'answered by the member that answers');
  t.equal(silent.requests(), 1, 'the silent member was asked once');
  await client.get('/v1/volumes/hedged');
  t.equal(silent.requests(), 1, 'the next call starts at the member that answered');
});

t.test(
  'without hedging a silent member costs the attempt timeout; the outcome is unknown',
  async (t) => {
    const silent = await startSilent(t);
    const client = new MetaClient({
      urls: [silent.url],
      token: TOKEN,
      attemptTimeoutMs: 200,
      timeoutMs: 1_000,
    });
    const err = await client.post('/v1/volumes', volumeBody('lost')).catch((e: unknown) => e);
    t.type(err, BallastError);
    t.equal((err as BallastError).code, 'UNAVAILABLE');
    t.equal(
      (err as BallastError).details?.afterUnknownOutcome,
      true,
      'the request may have reached meta: the caller is told so',
    );
    t.ok(silent.requests() >= 2, `retried within the deadline (${silent.requests()} attempts)`);
  },
);

/** A member that answers every request with a 503 problem, with or without `safeToRetry`. */
async function startUnavailable(
  t: Teardown,
  safeToRetry: boolean,
): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const server = createServer((req, res) => {
    requests += 1;
    req.resume();
    res.writeHead(503, { 'content-type': 'application/problem+json' });
    res.end(
      JSON.stringify({
        type: 'about:blank',
        title: 'Service Unavailable',
        status: 503,
        code: 'UNAVAILABLE',
        detail: 'the proposal did not reach a quorum',
        details: safeToRetry ? { safeToRetry: true } : {},
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests: () => requests,
  };
}

t.test('atMostOnce: repeated only where meta cannot have acted on it', async (t) => {
  const { url } = await startMetaWithNode(t);
  const client = (urls: string[]) =>
    new MetaClient({ urls, token: TOKEN, attemptTimeoutMs: 300, timeoutMs: 5_000 });
  const exists = async (name: string): Promise<boolean> =>
    client([url])
      .get(`/v1/volumes/${name}`)
      .then(
        () => true,
        () => false,
      );

  // A port that was just free: nothing listens, connections are refused.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as { port: number }).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const refused = await client([`http://127.0.0.1:${closedPort}`, url]).post<{ name: string }>(
    '/v1/volumes',
    volumeBody('after-refused'),
    { atMostOnce: true },
  );
  t.equal(refused.name, 'after-refused', 'a refused connection never reached meta: next member');

  const safe = await startUnavailable(t, true);
  const created = await client([safe.url, url]).post<{ name: string }>(
    '/v1/volumes',
    volumeBody('after-safe'),
    { atMostOnce: true },
  );
  t.equal(created.name, 'after-safe', 'safeToRetry: asked again elsewhere');
  t.equal(safe.requests(), 1);

  const unsafe = await startUnavailable(t, false);
  const err = await client([unsafe.url, url])
    .post('/v1/volumes', volumeBody('after-unsafe'), { atMostOnce: true })
    .catch((e: unknown) => e);
  t.type(err, BallastError);
  t.equal((err as BallastError).details?.afterUnknownOutcome, true, 'the caller is told');
  t.equal(unsafe.requests(), 1, 'asked once');
  t.notOk(await exists('after-unsafe'), 'and never repeated on the member that would answer');

  const silent = await startSilent(t);
  const lost = await client([silent.url, url])
    .post('/v1/volumes', volumeBody('after-silence'), { atMostOnce: true, hedgeMs: 50 })
    .catch((e: unknown) => e);
  t.type(lost, BallastError);
  t.equal((lost as BallastError).details?.afterUnknownOutcome, true);
  t.equal(silent.requests(), 1, 'no answer: not repeated (and no hedging)');
  t.notOk(await exists('after-silence'));
});

t.test('bad configuration is refused', async (t) => {
  t.throws(() => new MetaClient({ urls: [], token: TOKEN }), { code: 'CONFIG' });
  t.throws(() => new MetaClient({ urls: ['ftp://x'], token: TOKEN }), { code: 'CONFIG' });
  t.throws(() => new MetaClient({ urls: ['http://127.0.0.1:1'], token: '' }), { code: 'CONFIG' });
});
