// Tokens against real processes (`ballast dev up`, 1 member, 1 node; the agent's use of the join
// token is in e2e/security-tls.test.ts): the node works with the cluster join token (registers,
// heartbeats, follows the map); the join token reads and creates volumes but cannot change the
// cluster's shape; a wrong token gets 401 and changes nothing; a storage node with a wrong join
// token never registers. Then the logs of every process and the metrics of every endpoint are
// searched for the secrets: none may appear.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { ballastdProcess, freePort, isAlive, waitFor } from '@ballast/testkit';

const binDir = fileURLToPath(new URL('../../bin/', import.meta.url));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function ballast(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(binDir, 'ballast.js'), ...args],
      {
        env: {
          ...process.env,
          NO_COLOR: '1',
          FORCE_COLOR: '0',
          BALLAST_RETRY_SECONDS: '0',
          ...env,
        },
        timeout: 120_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

interface ClusterFile {
  token: string;
  joinToken: string;
  dataPlaneSecret: string;
  clusterId: string;
  meta: Array<{ api: string; metrics: string; pid: number }>;
  nodes: Array<{ metrics: string; pid: number }>;
}

t.test('join token, admin token and secrets against a dev cluster', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'security-tokens-'));
  let pids: number[] = [];
  t.teardown(async () => {
    await ballast(['dev', 'down', '--dir', dir]);
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const up = await ballast(['dev', 'up', '--dir', dir, '--meta', '1', '--nodes', '1', '--json']);
  t.equal(up.code, 0, up.stderr);
  const clusterFile = join(dir, 'cluster.json');
  const file = JSON.parse(readFileSync(clusterFile, 'utf8')) as ClusterFile;
  pids = [...file.meta, ...file.nodes].map((p) => p.pid);
  t.equal(statSync(clusterFile).mode & 0o777, 0o600, 'cluster.json is mode 0600');
  t.match(file.joinToken, /^[0-9a-f]{48}$/);
  t.not(file.joinToken, file.token, 'the join token is not the admin token');
  const api = file.meta[0]!.api;
  const asJoin = ['--endpoint', api, '--token', file.joinToken];

  // The node registered and heartbeats with the join token (dev up waited for it to be up).
  const nodes = await ballast(['node', 'ls', '--json', ...asJoin]);
  t.equal(nodes.code, 0, nodes.stderr);
  t.match(JSON.parse(nodes.stdout), [{ id: 'n1', state: 'up' }]);

  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(api + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: res.status,
      type: res.headers.get('content-type') ?? '',
      body: await res.json(),
    };
  };
  // What nodes and agents need works with it: a volume created and deleted.
  const created = await call(file.joinToken, 'POST', '/v1/volumes', {
    name: 'jv',
    size: '16MiB',
    replicas: 1,
  });
  t.equal(created.status, 201, 'the join token creates a volume');
  t.equal((await call(file.joinToken, 'GET', '/v1/volumes/jv')).status, 200);
  const deleted = await fetch(`${api}/v1/volumes/jv`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${file.joinToken}` },
  });
  t.ok(deleted.ok, `and deletes it (${deleted.status})`);

  // What a refused call could have changed. Not the map's revision: the node's heartbeats
  // move it whenever the file system's free space moves (other tests write to the same disk).
  interface NodeView {
    id: string;
    state: string;
    labels: Record<string, string>;
  }
  const shape = async (): Promise<unknown> => {
    const nodes = (await call(file.token, 'GET', '/v1/nodes')).body as { items: NodeView[] };
    const volumes = (await call(file.token, 'GET', '/v1/volumes')).body as {
      items: Array<{ name: string }>;
    };
    const cluster = (await call(file.token, 'GET', '/v1/cluster')).body as { members: unknown };
    return {
      nodes: nodes.items.map((n) => ({ id: n.id, state: n.state, labels: n.labels })),
      volumes: volumes.items.map((v) => v.name),
      settings: (await call(file.token, 'GET', '/v1/settings')).body,
      members: cluster.members,
    };
  };
  const before = await shape();
  // The join token cannot change the cluster's shape: 403 (CLI exit 6), nothing changes.
  const members = await ballast([
    'cluster',
    'members',
    'add',
    'm9',
    'http://127.0.0.1:9',
    ...asJoin,
  ]);
  t.equal(members.code, 6, `members add with the join token: exit 6 (${members.stderr.trim()})`);
  t.match(
    members.stderr,
    /join token may not call POST \/v1\/cluster\/members; use the admin token/,
  );
  for (const [method, path, body] of [
    ['POST', '/v1/nodes/n1/cordon', {}],
    ['POST', '/v1/nodes/n1/drain', {}],
    ['PUT', '/v1/nodes/n1/labels', { labels: { zone: 'elsewhere' } }],
    ['DELETE', '/v1/nodes/n1', undefined],
    ['PATCH', '/v1/settings', { overProvisionPercent: 500 }],
    ['DELETE', '/v1/cluster/members/m1', undefined],
    [
      'POST',
      '/internal/v1/propose',
      { command: { type: 'setNodeState', nodeId: 'n1', action: 'remove', at: 1 } },
    ],
  ] as const) {
    const res = await call(file.joinToken, method, path, body);
    t.equal(res.status, 403, `${method} ${path} with the join token: 403`);
    t.match(res, { type: /^application\/problem\+json/, body: { code: 'FORBIDDEN' } });
  }
  // A wrong token: 401 (CLI exit 6), nothing changes.
  const wrong = await ballast([
    'volume',
    'create',
    'nope',
    '--size',
    '16MiB',
    '--replicas',
    '1',
    '--endpoint',
    api,
    '--token',
    'wrong-token-0123456789abcdef',
  ]);
  t.equal(wrong.code, 6, 'volume create with a wrong token: exit 6');
  t.match(wrong.stderr, /wrong bearer token/);
  for (const [method, path, body] of [
    ['POST', '/v1/nodes/n1/cordon', {}],
    ['POST', '/v1/nodes', { id: 'n7', address: '127.0.0.1:1', labels: {}, capacityBytes: 1 }],
    ['GET', '/v1/volumes', undefined],
  ] as const) {
    const res = await call('wrong-token-0123456789abcdef', method, path, body);
    t.match(res, { status: 401, body: { code: 'UNAUTHORIZED' } }, `${method} ${path}: 401`);
  }
  t.same(await shape(), before, 'nodes, volumes, settings and members did not change');

  // A storage node with a wrong join token never registers.
  const refusedRegistrations = async (): Promise<number> => {
    const metrics = await (await fetch(`${api}/metrics`)).text();
    const m =
      /ballast_meta_http_requests_total\{route="\/v1\/nodes",method="POST",status="401"[^}]*\} (\d+)/.exec(
        metrics,
      );
    return m ? Number(m[1]) : 0;
  };
  const refusedBefore = await refusedRegistrations();
  const port = await freePort();
  const rogue = ballastdProcess({
    role: 'node',
    id: 'n9',
    args: [
      '--id',
      'n9',
      '--data-dir',
      join(dir, 'n9'),
      '--listen',
      `127.0.0.1:${port}`,
      '--meta',
      api,
    ],
    env: {
      BALLAST_JOIN_TOKEN: 'not-the-join-token-0123456789',
      BALLAST_DATA_PLANE_SECRET: file.dataPlaneSecret,
      BALLAST_CLUSTER_ID: file.clusterId,
    },
    logFile: join(dir, 'logs', 'n9.log'),
  });
  t.teardown(() => rogue.stop(5_000).catch(() => undefined));
  await rogue.start();
  await waitFor(
    'meta to refuse the rogue registration',
    async () => (await refusedRegistrations()) > refusedBefore,
    { timeoutMs: 30_000, intervalMs: 200 },
  );
  const after = (await call(file.token, 'GET', '/v1/nodes')).body as {
    items: Array<{ id: string }>;
  };
  t.same(
    after.items.map((n) => n.id),
    ['n1'],
    'n9 is not in the map',
  );
  await rogue.stop(5_000);

  // No secret in any log or metric.
  const secrets: Record<string, string> = {
    'admin token': file.token,
    'join token': file.joinToken,
    'data-plane secret': file.dataPlaneSecret,
  };
  const texts: Array<[string, string]> = [];
  for (const name of readdirSync(join(dir, 'logs'))) {
    texts.push([`logs/${name}`, readFileSync(join(dir, 'logs', name), 'utf8')]);
  }
  for (const url of [...file.meta, ...file.nodes].map((p) => p.metrics)) {
    texts.push([url, await (await fetch(url)).text()]);
  }
  t.ok(texts.length >= 5, `${texts.length} logs and metrics pages searched`);
  t.ok(
    texts.some(([, text]) => text.includes('"msg":"ready"')),
    'the logs are the real ones (they hold the ready lines)',
  );
  for (const [where, text] of texts) {
    for (const [what, value] of Object.entries(secrets)) {
      t.notOk(text.includes(value), `no ${what} in ${where}`);
    }
  }
});
