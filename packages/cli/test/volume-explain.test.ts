// `ballast volume inspect` and `ballast node inspect` explain a degraded volume and a down node
// against a real `ballastd meta`: what happened, what the leader's control loops do next and
// until when, and what the operator can do. Storage nodes are registered through the API and
// heartbeat from this test; n3 stops heartbeating and goes down.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { Fleet, ballastdProcess, freePort, waitFor } from '@ballast/testkit';
import { ballast } from './helpers/exec.js';

t.test(
  'a degraded volume and a down node say what happens next, when, and what to do',
  async (t) => {
    const fleet = Fleet.forTest(t, 'cli-explain-');
    const token = randomBytes(16).toString('hex');
    const url = `http://127.0.0.1:${await freePort()}`;
    await fleet
      .add(
        ballastdProcess({
          role: 'meta',
          id: 'm1',
          args: [
            '--id',
            'm1',
            '--data-dir',
            fleet.path('m1'),
            '--listen',
            url.slice('http://'.length),
            '--peers',
            `m1=${url}`,
            '--node-timeout',
            '2s',
          ],
          env: { BALLAST_TOKEN: token },
          logFile: fleet.path('m1.log'),
        }),
      )
      .start();
    const env = { BALLAST_ENDPOINT: url, BALLAST_TOKEN: token };
    const api = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(url + path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: r.status, body: (await r.json().catch(() => null)) as unknown };
    };
    await waitFor('meta leads', async () => (await api('GET', '/v1/volumes')).status === 200, {
      timeoutMs: 30_000,
    });
    const alive = new Set(['n1', 'n2', 'n3']);
    for (const [i, id] of [...alive].entries()) {
      const r = await api('POST', '/v1/nodes', {
        id,
        address: `127.0.0.1:${i + 1}`,
        labels: { zone: `z${i + 1}`, host: id },
        capacityBytes: 2 ** 40,
      });
      t.equal(r.status, 201);
    }
    let stopped = false;
    const heartbeats = (async () => {
      while (!stopped) {
        await Promise.all(
          [...alive].map((id) => api('POST', `/v1/nodes/${id}/heartbeat`, {}).catch(() => null)),
        );
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    t.teardown(async () => {
      stopped = true;
      await heartbeats;
    });
    const graceMs = 600_000;
    t.equal(
      (await api('PATCH', '/v1/settings', { replicaReplacementGraceMs: graceMs })).status,
      200,
    );
    t.equal(
      (await api('POST', '/v1/volumes', { name: 'db', size: '1GiB', replicas: 3 })).status,
      201,
    );

    const healthy = await ballast(['volume', 'inspect', 'db'], env);
    t.equal(healthy.code, 0, healthy.stderr);
    t.notMatch(healthy.stdout, /What Ballast does next/, 'a healthy volume needs no explanation');

    alive.delete('n3');
    await waitFor(
      'db to lose its replica on n3',
      async () => {
        const v = (await api('GET', '/v1/volumes/db')).body as {
          state: string;
          staleReplicas: unknown[];
        };
        return v.state === 'degraded' && v.staleReplicas.length === 1;
      },
      { timeoutMs: 30_000 },
    );
    const inspect = await waitFor(
      'the leader to plan the wait',
      async () => {
        const r = await ballast(['volume', 'inspect', 'db'], env);
        return /waiting for n3 to return/.test(r.stdout) ? r : undefined;
      },
      { timeoutMs: 30_000 },
    );
    t.equal(inspect.code, 0, inspect.stderr);
    t.comment(inspect.stdout);
    t.match(
      inspect.stdout,
      /What happened:\n {2}- \d{4}-\d\d-\d\dT[^\n]*ago\): the replica on n3 left the in-sync set at epoch 0: node n3 is down/,
    );
    t.match(
      inspect.stdout,
      /What Ballast does next:\n {2}- waiting for n3 to return within the grace period \(replicaReplacementGraceMs\); then a replacement on another node \(until \S+ \(in (9|10)m\d+s\)\)/,
    );
    t.match(
      inspect.stdout,
      /What you can do:\n {2}- bring n3 back before then .*`ballast node drain n3`/,
    );
    const json = JSON.parse((await ballast(['volume', 'inspect', 'db', '--json'], env)).stdout) as {
      name: string;
      explanation: { next: Array<{ until: number | null }>; actions: string[] };
    };
    t.equal(json.name, 'db');
    t.ok((json.explanation.next[0]?.until ?? 0) > Date.now(), 'json gives the end of the wait');

    const node = await ballast(['node', 'inspect', 'n3'], env);
    t.equal(node.code, 0, node.stderr);
    t.comment(node.stdout);
    t.match(node.stdout, /State\s+down/);
    t.match(
      node.stdout,
      /What Ballast does next:\n {2}- db: waiting for n3 to return within the grace period .*\(until \S+ \(in/,
    );
    t.match(
      node.stdout,
      /What you can do:[\s\S]*start n3 again .*`ballast node drain n3`.*`ballast node remove n3`/,
    );
  },
);
