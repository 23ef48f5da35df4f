// `ballast task ls|watch` against a real `ballastd meta`: a rebuild task created by adding a
// replica, followed by `task watch` while this test reports progress and promotes the replica
// as the storage node would.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Fleet, ballastdProcess, freePort, waitFor } from '@ballast/testkit';

const binDir = fileURLToPath(new URL('../../bin/', import.meta.url));

function ballast(args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [join(binDir, 'ballast.js'), ...args],
      { env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env }, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

interface Task {
  id: string;
  kind: string;
  state: string;
  volumeId: string;
  nodeId: string;
  sourceNodeId: string;
  doneBytes: number;
  totalBytes: number;
}

t.test('task ls and task watch follow a rebuild to the end', async (t) => {
  const fleet = Fleet.forTest(t, 'cli-task-');
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
  for (const [i, id] of ['n1', 'n2'].entries()) {
    await api('POST', '/v1/nodes', {
      id,
      address: `127.0.0.1:${i + 1}`,
      labels: { zone: `z${i + 1}` },
      capacityBytes: 2 ** 40,
    });
  }
  // Heartbeats keep the nodes up however slow the machine is.
  let stopped = false;
  const heartbeats = (async () => {
    while (!stopped) {
      for (const id of ['n1', 'n2'])
        await api('POST', `/v1/nodes/${id}/heartbeat`, {}).catch(() => null);
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  t.teardown(async () => {
    stopped = true;
    await heartbeats;
  });
  t.equal((await ballast(['task', 'watch'], env)).stdout, 'no unfinished tasks\n');
  t.equal(
    (await api('POST', '/v1/volumes', { name: 'pg', size: '4GiB', replicas: 1 })).status,
    201,
  );
  const volume = (await api('GET', '/v1/volumes/pg')).body as {
    id: string;
    replicas: Array<{ nodeId: string }>;
  };
  const target = volume.replicas[0]!.nodeId === 'n1' ? 'n2' : 'n1';
  // A second replica: meta creates its rebuild task in the same commit.
  t.equal((await api('POST', '/v1/volumes/pg/replicas', { nodeId: target })).status, 201);

  const ls = await ballast(['task', 'ls'], env);
  t.equal(ls.code, 0, ls.stderr);
  t.match(ls.stdout, /ID\s+KIND\s+STATE\s+VOLUME\s+NODE\s+FROM\s+PROGRESS\s+RATE\s+MESSAGE/);
  t.match(
    ls.stdout,
    new RegExp(`rebuild\\s+pending\\s+pg\\s+${target}\\s+n[12]\\s+0% \\(0 B/4 GiB\\)\\s+-`),
  );
  const [rebuild] = JSON.parse(
    (await ballast(['task', 'ls', '--open', '--json'], env)).stdout,
  ) as Task[];
  t.match(rebuild, { kind: 'rebuild', state: 'pending', nodeId: target, totalBytes: 4 * 2 ** 30 });
  t.same(
    JSON.parse((await ballast(['task', 'ls', '--state', 'failed', '--json'], env)).stdout),
    [],
  );
  t.equal((await ballast(['task', 'ls', '--kind', 'copy'], env)).code, 2, 'unknown kind: usage');

  // Watch it while the "node" copies and then promotes, step by step as the watch shows them.
  const child = spawn(
    process.execPath,
    [
      join(binDir, 'ballast.js'),
      'task',
      'watch',
      rebuild!.id,
      '--interval',
      '100',
      '--timeout',
      '100',
    ],
    { env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env } },
  );
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  await waitFor(
    'the watch shows the pending task',
    () => err.includes(`${rebuild!.id} rebuild pending 0%`),
    {
      timeoutMs: 60_000,
    },
  );
  t.equal(
    (await api('POST', `/v1/tasks/${rebuild!.id}/progress`, { doneBytes: 2 ** 31 })).status,
    200,
  );
  await waitFor(
    'the watch shows the progress',
    () => err.includes(`${rebuild!.id} rebuild running 50% (2 GiB/4 GiB)`),
    {
      timeoutMs: 60_000,
    },
  );
  const promoted = await api('POST', `/v1/volumes/pg/replicas/${target}/promote`, { epoch: 0 });
  t.equal(promoted.status, 200);
  t.equal(await exited, 0, err);
  t.match(out, /1 succeeded, 0 failed or cancelled, 0 unfinished/);
  t.match(err, new RegExp(`${rebuild!.id} rebuild succeeded 100% \\(4 GiB/4 GiB\\)`));

  // Its average rate while it ran (from the first progress report to the promotion).
  const done = await ballast(['task', 'ls', '--kind', 'rebuild'], env);
  t.match(done.stdout, /succeeded\s+pg\s+.*100% \(4 GiB\/4 GiB\)\s+[\d.]+ [KMGT]?i?B\/s\s/);

  const json = await ballast(['task', 'watch', rebuild!.id, '--json'], env);
  t.match(JSON.parse(json.stdout), [
    { id: rebuild!.id, state: 'succeeded', doneBytes: 4 * 2 ** 30 },
  ]);
  const unknown = await ballast(['task', 'watch', 'no-such-task'], env);
  t.equal(unknown.code, 3);
  t.match(unknown.stderr, /task no-such-task does not exist/);
  t.equal((await ballast(['task', 'watch', '--interval', '1'], env)).code, 2);

  // A failed task makes watch exit 1. (Meta's leader then schedules another attempt.)
  t.equal((await api('POST', '/v1/volumes', { name: 'q', size: '1GiB', replicas: 1 })).status, 201);
  const q = (await api('GET', '/v1/volumes/q')).body as { replicas: Array<{ nodeId: string }> };
  const other = q.replicas[0]!.nodeId === 'n1' ? 'n2' : 'n1';
  t.equal((await api('POST', '/v1/volumes/q/replicas', { nodeId: other })).status, 201);
  const open = JSON.parse(
    (await ballast(['task', 'ls', '--open', '--json'], env)).stdout,
  ) as Task[];
  const second = open.find((x) => x.kind === 'rebuild' && x.nodeId === other);
  await api('POST', `/v1/tasks/${second!.id}/finish`, { outcome: 'failed', message: 'disk full' });
  const failed = await ballast(['task', 'watch', second!.id], env);
  t.equal(failed.code, 1);
  t.match(failed.stdout, /0 succeeded, 1 failed or cancelled/);
});
