// Secrets from files (issue 18): every secret setting of ballastd (tokens, the cluster and
// data-plane secrets) can be given as a file, e.g. a Docker secret under /run/secrets, through
// BALLAST_<KEY>_FILE or --<key>-file, so it is not in `docker inspect`'s environment. Real
// ballastd processes: a meta member and a storage node that join with secrets read from files,
// and start-up refusals naming the setting and the file when a file is missing or empty.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { ballastdProcess, freePort, waitFor } from '@ballast/testkit';
import { AgentConfig, MetaConfig, NodeConfig } from '../src/daemon/schemas.js';

const binDir = fileURLToPath(new URL('../../bin/', import.meta.url));

function ballastd(args: string[], env: NodeJS.ProcessEnv, cmd = 'ballastd') {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [join(binDir, `${cmd}.js`), ...args],
      { env: { ...process.env, BALLAST_PARENT_PID: String(process.pid), ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const ADMIN = 'admin-token-from-a-secret-file-0';
const JOIN = 'join-token-from-a-secret-file-00';
const DATA_PLANE = 'data-plane-secret-from-a-file-00';
const RAFT = 'raft-cluster-secret-from-a-file0';

t.test('every secret setting has a file setting beside it', async (t) => {
  for (const [role, schema] of Object.entries({ MetaConfig, NodeConfig, AgentConfig })) {
    const props = schema.properties as Record<string, { secret?: boolean }>;
    const secrets = Object.keys(props).filter((k) => props[k]!.secret === true);
    t.ok(secrets.length >= 2, `${role} has secrets: ${secrets.join(', ')}`);
    for (const key of secrets) t.ok(`${key}File` in props, `${role}.${key}File`);
  }
  t.same(
    Object.keys(MetaConfig.properties).filter(
      (k) => (MetaConfig.properties as Record<string, { secret?: boolean }>)[k]!.secret,
    ),
    ['token', 'clusterSecret', 'joinToken'],
  );
});

t.test('meta and a node join with secrets read from files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ballast-secret-files-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, `${text}\n`, { mode: 0o600 });
    return path;
  };
  const port = await freePort();
  const api = `http://127.0.0.1:${port}`;
  const meta = ballastdProcess({
    role: 'meta',
    id: 'm1',
    args: ['--id', 'm1', '--data-dir', join(dir, 'm1'), '--listen', `127.0.0.1:${port}`],
    env: {
      BALLAST_TOKEN_FILE: file('admin_token', ADMIN),
      BALLAST_JOIN_TOKEN_FILE: file('join_token', JOIN),
      BALLAST_CLUSTER_SECRET_FILE: file('cluster_secret', RAFT),
    },
    logFile: join(dir, 'm1.log'),
  });
  t.teardown(() => meta.stop());
  await meta.start();
  const get = async (path: string, token: string) => {
    const response = await fetch(`${api}${path}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  // Reads answer once the member has elected itself.
  await waitFor('meta to answer with the admin token from its file', async () =>
    (await get('/v1/nodes', ADMIN)).status === 200 ? true : undefined,
  );
  t.pass('the admin token from its file');
  t.equal((await get('/v1/nodes', JOIN)).status, 200, 'the join token from its file');
  t.equal((await get('/v1/nodes', `${ADMIN}x`)).status, 401, 'another token is refused');

  const node = ballastdProcess({
    role: 'node',
    id: 'n1',
    args: ['--id', 'n1', '--data-dir', join(dir, 'n1'), '--listen', '127.0.0.1:0'],
    env: {
      BALLAST_META: api,
      BALLAST_JOIN_TOKEN_FILE: join(dir, 'join_token'),
      BALLAST_DATA_PLANE_SECRET_FILE: file('data_plane_secret', DATA_PLANE),
      BALLAST_CAPACITY: '1GiB',
    },
    logFile: join(dir, 'n1.log'),
  });
  t.teardown(() => node.stop());
  await node.start();
  await waitFor(
    'n1 to register with the join token from its file',
    async () => {
      const { body } = await get('/v1/nodes', ADMIN);
      return (body.items as Array<{ id: string }>).some((n) => n.id === 'n1');
    },
    { timeoutMs: 30_000 },
  );
  t.pass('n1 registered');

  // The CLI reads its token from BALLAST_TOKEN_FILE too (`docker compose exec meta1 ballast ...`).
  const ls = await ballastd(
    ['node', 'ls', '-o', 'name'],
    {
      BALLAST_CLUSTER: '',
      BALLAST_TOKEN: '',
      BALLAST_ENDPOINT: api,
      BALLAST_TOKEN_FILE: join(dir, 'admin_token'),
    },
    'ballast',
  );
  t.equal(ls.code, 0, `ballast node ls with BALLAST_TOKEN_FILE: ${ls.stderr}`);
  t.match(ls.stdout, /n1/);
  const absent = await ballastd(
    ['node', 'ls'],
    {
      BALLAST_CLUSTER: '',
      BALLAST_TOKEN: '',
      BALLAST_ENDPOINT: api,
      BALLAST_TOKEN_FILE: join(dir, 'nope'),
    },
    'ballast',
  );
  t.equal(absent.code, 2);
  t.match(absent.stderr, /BALLAST_TOKEN_FILE: cannot read the token from .*nope/);
});

t.test(
  'a missing or empty secret file stops start-up naming the setting and the file',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ballast-secret-files-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'empty'), '');
    writeFileSync(join(dir, 'token'), 'a-token-long-enough-0123\n');
    const node = await ballastd(['node', '--id', 'n1', '--data-dir', join(dir, 'n1')], {
      BALLAST_JOIN_TOKEN_FILE: join(dir, 'absent'),
    });
    t.equal(node.code, 2);
    t.match(
      node.stderr,
      /ballastd node: setting "joinTokenFile" \(--join-token-file or BALLAST_JOIN_TOKEN_FILE\): cannot read the joinToken from .*absent: no such file/,
    );
    const meta = await ballastd(['meta', '--id', 'm1', '--data-dir', join(dir, 'm1')], {
      BALLAST_CLUSTER_SECRET_FILE: join(dir, 'empty'),
    });
    t.equal(meta.code, 2);
    t.match(
      meta.stderr,
      /BALLAST_CLUSTER_SECRET_FILE\): .*empty is empty; it must hold the clusterSecret/,
    );
    const agent = await ballastd(['agent', '--id', 'h1', '--state-dir', join(dir, 'agent')], {
      BALLAST_DATA_PLANE_SECRET_FILE: join(dir, 'absent'),
    });
    t.equal(agent.code, 2);
    t.match(agent.stderr, /BALLAST_DATA_PLANE_SECRET_FILE\): cannot read the dataPlaneSecret/);
    const twice = await ballastd(['agent', '--id', 'h1', '--state-dir', join(dir, 'agent')], {
      BALLAST_TOKEN: 'a-token-long-enough-0123',
      BALLAST_TOKEN_FILE: join(dir, 'token'),
    });
    t.equal(twice.code, 2);
    t.match(twice.stderr, /the secret "token" is given twice/);
  },
);
