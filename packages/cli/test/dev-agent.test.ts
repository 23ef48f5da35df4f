// `ballast dev up --agent`: the agent runs with the cluster backend (meta URLs, the admin token and
// the data-plane secret come from dev up through the environment) and answers the Docker plugin
// protocol on the socket it was given. Real processes; no mounts (the e2e test mounts).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { isAlive } from '@ballast/testkit';
import { pluginCall } from './helpers/exec.js';

const binDir = fileURLToPath(new URL('../../bin/', import.meta.url));

function run(cmd: 'ballast' | 'ballastd', args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [join(binDir, `${cmd}.js`), ...args],
      { env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, timeout: 90_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

t.test('dev up --agent: the agent serves the plugin socket with the cluster backend', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dev-agent-'));
  let pids: number[] = [];
  t.teardown(async () => {
    await run('ballast', ['dev', 'down', '--dir', dir]);
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const pluginSocket = join(dir, 'plugin.sock');
  const up = await run('ballast', [
    'dev',
    'up',
    '--dir',
    dir,
    '--meta',
    '1',
    '--nodes',
    '1',
    '--agent',
    '--plugin-socket',
    pluginSocket,
    '--json',
  ]);
  t.equal(up.code, 0, up.stderr);
  const file = JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8'));
  pids = [...file.meta, ...file.nodes, ...file.agents].map((p: { pid: number }) => p.pid);
  t.match(file.agents, [
    {
      id: 'agent',
      role: 'agent',
      host: 'host1',
      pluginSocket,
      stateDir: join(dir, 'agent'),
      runDir: join(dir, 'agent', 'run'),
      mountRoot: join(dir, 'agent', 'mounts'),
    },
  ]);
  const agentArgv = readFileSync(`/proc/${file.agents[0].pid}/cmdline`, 'utf8');
  t.notOk(agentArgv.includes(file.dataPlaneSecret), 'the secret is not on the command line');
  const activate = await pluginCall(pluginSocket, '/Plugin.Activate', {});
  t.same(activate, { Implements: ['VolumeDriver'] });
  t.same(
    await pluginCall(pluginSocket, '/VolumeDriver.Create', {
      Name: 'dv',
      Opts: { size: '32MiB', replicas: '1' },
    }),
    { Err: '' },
  );
  const response = await fetch(`${file.meta[0].api}/v1/volumes/dv`, {
    headers: { authorization: `Bearer ${file.token}` },
  });
  const volume = (await response.json()) as { sizeBytes: number; replicas: unknown[] };
  t.match(volume, { sizeBytes: 32 * 1024 * 1024, replicas: [{ nodeId: 'n1', role: 'in-sync' }] });
  const got = (await pluginCall(pluginSocket, '/VolumeDriver.Get', { Name: 'dv' })) as {
    Volume: { Status: Record<string, unknown> };
  };
  t.match(got.Volume.Status, { backend: 'cluster', replicas: [{ node: 'n1', role: 'in-sync' }] });
  t.same(await pluginCall(pluginSocket, '/VolumeDriver.Remove', { Name: 'dv' }), { Err: '' });
});
