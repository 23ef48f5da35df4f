// `ballast node ls|inspect|cordon|uncordon|label|drain --wait|remove` against a real
// `ballastd meta`, with storage nodes registered through the API and this test playing their
// copiers (promoting every rebuild task it sees), so the leader's drain really moves replicas.
import { execFile } from 'node:child_process';
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
  volumeId: string | null;
  nodeId: string | null;
  sourceNodeId: string | null;
}

t.test('node commands, drain --wait with progress, remove refused then accepted', async (t) => {
  const fleet = Fleet.forTest(t, 'cli-node-');
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
  const nodes = ['n1', 'n2', 'n3', 'n4'];
  for (const [i, id] of nodes.entries()) {
    const r = await api('POST', '/v1/nodes', {
      id,
      address: `127.0.0.1:${i + 1}`,
      labels: { zone: `z${i + 1}`, host: id },
      capacityBytes: 2 ** 40,
    });
    t.equal(r.status, 201);
  }
  // The nodes: heartbeats, and copiers that finish every rebuild task meta hands out.
  let stopped = false;
  const nodeLoop = (async () => {
    while (!stopped) {
      await Promise.all(
        nodes.map((id) => api('POST', `/v1/nodes/${id}/heartbeat`, {}).catch(() => null)),
      );
      const tasks =
        ((await api('GET', '/v1/tasks?limit=1000')).body as { items?: Task[] })?.items ?? [];
      for (const task of tasks) {
        if (task.kind !== 'rebuild' || (task.state !== 'pending' && task.state !== 'running'))
          continue;
        const volumes = (
          (await api('GET', '/v1/volumes?limit=1000')).body as {
            items: Array<{ id: string; name: string; epoch: number }>;
          }
        ).items;
        const v = volumes.find((x) => x.id === task.volumeId);
        if (!v) continue;
        await api('POST', `/v1/tasks/${task.id}/progress`, { doneBytes: 2 ** 30 });
        await new Promise((r) => setTimeout(r, 200));
        await api('POST', `/v1/volumes/${v.name}/replicas/${task.nodeId}/promote`, {
          epoch: v.epoch,
        });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  t.teardown(async () => {
    stopped = true;
    await nodeLoop;
  });
  for (const name of ['a', 'b', 'c']) {
    const r = await api('POST', '/v1/volumes', {
      name,
      size: '2GiB',
      replicas: 2,
      preferHost: 'n1',
    });
    t.equal(r.status, 201, JSON.stringify(r.body));
  }

  const ls = await ballast(['node', 'ls'], env);
  t.equal(ls.code, 0, ls.stderr);
  t.match(
    ls.stdout,
    /ID\s+STATE\s+ZONE\s+ADDRESS\s+CAPACITY\s+PROVISIONED\s+USED\s+DISK FREE\s+REPLICAS\s+LABELS/,
  );
  t.match(
    ls.stdout,
    /n1\s+up\s+z1\s+127\.0\.0\.1:1\s+1 TiB\s+6 GiB \(1%\)\s+0 B\s+-\s+3\s+zone=z1,host=n1/,
  );
  const lsJson = JSON.parse((await ballast(['node', 'ls', '--json'], env)).stdout) as Array<{
    id: string;
    replicaCount: number;
  }>;
  t.same(
    lsJson.map((n) => [n.id, n.replicaCount]).find(([id]) => id === 'n1'),
    ['n1', 3],
  );
  const downOnly = JSON.parse(
    (await ballast(['node', 'ls', '--state', 'down', '--json'], env)).stdout,
  );
  t.same(downOnly, []);

  const inspect = await ballast(['node', 'inspect', 'n1'], env);
  t.equal(inspect.code, 0);
  t.match(inspect.stdout, /Replicas\s+a, b, c/);
  t.match(inspect.stdout, /Provisioned\s+6 GiB of 1 TiB/);
  t.match(inspect.stdout, /Last heartbeat\s+\d{4}-/);
  t.equal((await ballast(['node', 'inspect', 'nope'], env)).code, 3, 'unknown node: exit 3');

  t.match(
    (await ballast(['node', 'cordon', 'n4', '--reason', 'bios update'], env)).stdout,
    /node n4: cordoned/,
  );
  t.match(JSON.parse((await ballast(['node', 'inspect', 'n4', '--json'], env)).stdout), {
    state: 'cordoned',
    stateReason: 'bios update',
  });
  t.match((await ballast(['node', 'uncordon', 'n4'], env)).stdout, /node n4: up/);
  const label = await ballast(['node', 'label', 'n4', 'rack=r9', '--merge'], env);
  t.match(label.stdout, /node n4: zone=z4,host=n4,rack=r9/);
  const bad = await ballast(['node', 'label', 'n4', 'rack'], env);
  t.equal(bad.code, 2, 'malformed labels: usage error');

  const refused = await ballast(['node', 'remove', 'n1', '--yes'], env);
  t.equal(refused.code, 4, 'remove of a node holding replicas is a conflict');
  t.match(refused.stderr, /still holds replicas of 3 volume\(s\) \(a, b, c\); drain it first/);

  const drain = await ballast(['node', 'drain', 'n1', '--wait', '--timeout', '100', '--yes'], env);
  t.equal(drain.code, 0, drain.stderr);
  t.match(drain.stdout, /node n1: drain succeeded: all replicas moved off n1/);
  t.match(drain.stderr, /drain n1: 0% \(0 B\/6 GiB\) 3 replica\(s\) left to move off n1/);
  t.match(drain.stderr, /drain n1: 100% \(6 GiB\/6 GiB\) all replicas moved off n1/);
  const after = JSON.parse((await ballast(['node', 'inspect', 'n1', '--json'], env)).stdout);
  t.match(after, { state: 'draining', volumes: [], replicaCount: 0 });
  const volumes = (
    (await api('GET', '/v1/volumes')).body as {
      items: Array<{
        name: string;
        state: string;
        replicas: Array<{ nodeId: string; role: string }>;
      }>;
    }
  ).items;
  for (const v of volumes) {
    t.equal(v.state, 'healthy', `${v.name} healthy after the drain`);
    t.equal(v.replicas.filter((r) => r.role === 'in-sync').length, 2);
  }
  const moves = JSON.parse(
    (await ballast(['task', 'ls', '--kind', 'move', '--json'], env)).stdout,
  ) as Task[];
  t.equal(moves.length, 3, 'three moves');
  t.ok(moves.every((m) => m.state === 'succeeded' && m.sourceNodeId === 'n1'));

  const again = await ballast(['node', 'drain', 'n1', '--wait', '--json', '--yes'], env);
  t.equal(again.code, 0, 'draining an empty node again finishes at once');
  t.match(JSON.parse(again.stdout), { kind: 'drain', nodeId: 'n1', state: 'succeeded' });

  const removed = await ballast(['node', 'remove', 'n1', '--json', '--yes'], env);
  t.equal(removed.code, 0, removed.stderr);
  t.match(JSON.parse(removed.stdout), { id: 'n1', state: 'removed' });
  t.equal((await ballast(['node', 'cordon', 'n1'], env)).code, 4, 'a removed node stays removed');
  t.equal((await ballast(['node', 'drain', 'n2', '--timeout', 'soon', '--yes'], env)).code, 2);
});
