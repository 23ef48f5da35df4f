// `ballast volume attach|detach` with the real binaries against `ballast dev up --agent`: the
// agent of the cluster file serves the volume over NBD, real clients (nbdinfo, qemu-io) use the
// printed URI, one host at a time (another host's attachment is refused naming it, --force
// takes it over with a new epoch), and every error path a user can hit has its exit code.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { isAlive } from '@ballast/testkit';
import { ballast, run, type Result } from './helpers/exec.js';

const MiB = 1024 * 1024;

async function expectExit(t: Test, result: Result, code: number, what: string): Promise<void> {
  t.equal(result.code, code, `${what}: exit ${code} (stderr: ${result.stderr.trim()})`);
}

t.test('volume attach/detach through the agent of a dev cluster', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'volume-attach-'));
  let pids: number[] = [];
  t.teardown(async () => {
    await ballast(['dev', 'down', '--dir', dir]);
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const up = await ballast([
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
    join(dir, 'plugin.sock'),
    '--json',
  ]);
  t.equal(up.code, 0, up.stderr);
  const clusterFile = join(dir, 'cluster.json');
  const file = JSON.parse(readFileSync(clusterFile, 'utf8'));
  pids = [...file.meta, ...file.nodes, ...file.agents].map((p: { pid: number }) => p.pid);
  const meta = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${file.meta[0].api}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${file.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    t.ok(response.ok, `${method} ${path}: ${response.status}`);
    return response.json();
  };
  const cluster = ['--cluster', clusterFile];
  await expectExit(
    t,
    await ballast(['volume', 'create', 'v1', '--size', '64MiB', '--replicas', '1', ...cluster]),
    0,
    'create',
  );

  // Attach: the URI alone on stdout, the story on stderr.
  const attached = await ballast(['volume', 'attach', 'v1', ...cluster]);
  await expectExit(t, attached, 0, 'attach');
  const socket = join(dir, 'agent', 'run', 'nbd', 'v1.sock');
  const uri = `nbd+unix:///v1?socket=${socket}`;
  t.equal(attached.stdout, `${uri}\n`, 'prints the NBD URI');
  t.match(
    attached.stderr,
    /volume v1 \(64 MiB\) attached to host1 at epoch 1; use it with e\.g\. nbdinfo/,
  );
  const info = await run('nbdinfo', ['--json', uri]);
  t.equal(info.code, 0, info.stderr);
  t.equal(JSON.parse(info.stdout).exports[0]['export-size'], 64 * MiB, 'nbdinfo sees the volume');
  const write = await run('qemu-io', ['-f', 'raw', '-c', 'write -P 0x6b 2M 1M', uri]);
  t.equal(write.code, 0, write.stderr);

  const again = await ballast(['volume', 'attach', 'v1', '--json', ...cluster]);
  await expectExit(t, again, 0, 'attach again');
  t.match(JSON.parse(again.stdout), {
    volume: 'v1',
    host: 'host1',
    epoch: 1,
    sizeBytes: 64 * MiB,
    exportName: 'v1',
    socket,
    uri,
    tcpUri: null,
    since: /^\d{4}-/,
    alreadyAttached: true,
  });
  const ls = await ballast(['volume', 'ls', ...cluster]);
  t.match(ls.stdout, /v1\s+64 MiB.*host1/, 'ls shows where it is attached');

  const detached = await ballast(['volume', 'detach', 'v1', ...cluster]);
  await expectExit(t, detached, 0, 'detach');
  t.equal(detached.stdout, 'volume v1 flushed and detached from host1\n');
  t.not((await run('nbdinfo', [uri])).code, 0, 'nothing serves it any more');
  const twice = await ballast(['volume', 'detach', 'v1', '--json', ...cluster]);
  t.same(JSON.parse(twice.stdout), {
    volume: 'v1',
    detached: false,
    previousHost: null,
    forced: false,
    flushed: false,
    fenced: false,
    epoch: 1,
  });

  // Another host holds it (a host with no agent here: as if it died).
  await meta('POST', '/v1/volumes/v1/attach', { host: 'deadhost' });
  const refused = await ballast(['volume', 'attach', 'v1', ...cluster]);
  await expectExit(t, refused, 4, 'attach while another host holds it');
  t.match(refused.stderr, /error: volume v1 is attached to host deadhost \(epoch 2\)/);
  t.match(
    refused.stderr,
    /hint: if host deadhost is dead, `ballast volume attach --force v1` takes the volume over/,
  );
  const refusedDetach = await ballast(['volume', 'detach', 'v1', ...cluster]);
  await expectExit(t, refusedDetach, 4, "detach of another host's attachment");
  t.match(
    refusedDetach.stderr,
    /attached to host deadhost.*\n.*`ballast volume detach --force v1`/,
  );
  t.match(await meta('GET', '/v1/volumes/v1'), { epoch: 2, attachment: { host: 'deadhost' } });

  const taken = await ballast(['volume', 'attach', 'v1', '--force', '--yes', '--json', ...cluster]);
  await expectExit(t, taken, 0, 'attach --force');
  t.match(JSON.parse(taken.stdout), { host: 'host1', epoch: 3, uri, alreadyAttached: false });
  const read = await run('qemu-io', ['-f', 'raw', '-c', 'read -P 0x6b 2M 1M', uri]);
  t.equal(read.code, 0, `the data is there after the takeover: ${read.stderr}`);
  t.notMatch(read.stdout, /Pattern verification failed/);
  await expectExit(t, await ballast(['volume', 'detach', 'v1', ...cluster]), 0, 'detach');

  await meta('POST', '/v1/volumes/v1/attach', { host: 'deadhost' });
  const forced = await ballast(['volume', 'detach', 'v1', '--force', '--yes', ...cluster]);
  await expectExit(t, forced, 0, 'detach --force');
  t.equal(
    forced.stdout,
    'volume v1 detached from deadhost by force; epoch is now 5, so deadhost is fenced\n',
  );
  t.match(await meta('GET', '/v1/volumes/v1'), { epoch: 5, attachment: null });

  // Errors a user can hit.
  const unknown = await ballast(['volume', 'attach', 'nope', ...cluster]);
  await expectExit(t, unknown, 3, 'unknown volume');
  t.match(unknown.stderr, /error: .*nope/);
  await expectExit(t, await ballast(['volume', 'attach', 'bad/name', ...cluster]), 7, 'bad name');
  const noAgent = await ballast([
    'volume',
    'attach',
    'v1',
    '--agent-socket',
    join(dir, 'none.sock'),
  ]);
  await expectExit(t, noAgent, 5, 'no agent on the socket');
  t.match(noAgent.stderr, /no agent answers on .*none\.sock \(from --agent-socket\)/);
  const otherHost = await ballast(['volume', 'attach', 'v1', '--host', 'hostX', ...cluster]);
  await expectExit(t, otherHost, 3, 'no agent for that host');
  t.match(otherHost.stderr, /has no agent for host hostX\nhint: its agents: host1/);
  const wrongHost = await ballast(['volume', 'attach', 'v1', '--host', 'hostX'], {
    BALLAST_AGENT_SOCKET: join(dir, 'agent', 'agent.sock'),
  });
  await expectExit(t, wrongHost, 2, "the socket is another host's agent");
  t.match(wrongHost.stderr, /is host host1, not hostX/);
  const viaEnv = await ballast(['volume', 'detach', 'v1'], { BALLAST_CLUSTER: clusterFile });
  await expectExit(t, viaEnv, 0, 'BALLAST_CLUSTER finds the agent too');
  t.equal(viaEnv.stdout, 'volume v1 was not attached\n');
  t.match(await meta('GET', '/v1/volumes/v1'), { attachment: null });
});
