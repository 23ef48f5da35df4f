// Online resize (issue 8) with the real binaries against `ballast dev up --agent` (1 meta, 3
// nodes, the agent): a 3-replica volume grows while attached; the nodes grow their replicas from
// the map, the agent's engine serves the new size once all have, and new NBD connections see it
// (nbdinfo, qemu-io write/read at the new end; old data intact). Then a Docker mount through the
// plugin socket: the volume grows while mounted, and the next mount grows the ext4 filesystem to
// the new size with the files intact.
import { mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { isAlive, waitFor } from '@ballast/testkit';
import { ballast, pluginCall, run, type Result } from '../helpers/exec.js';

const MiB = 1024 * 1024;
const WAIT_MS = 90_000;

async function ok(t: Test, result: Result, what: string): Promise<Result> {
  t.equal(result.code, 0, `${what}: exit 0 (stderr: ${result.stderr.trim()})`);
  return result;
}

async function exportSize(uri: string): Promise<number | undefined> {
  const info = await run('nbdinfo', ['--json', uri]);
  if (info.code !== 0) return undefined;
  return JSON.parse(info.stdout).exports[0]['export-size'] as number;
}

function fsBytes(path: string): number {
  const s = statfsSync(path);
  return s.blocks * s.bsize;
}

t.test('a volume grows while attached and while mounted', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'volume-resize-'));
  let pids: number[] = [];
  const pluginSocket = join(dir, 'plugin.sock');
  const mounted: string[] = [];
  t.teardown(async () => {
    for (const name of mounted) {
      await pluginCall(pluginSocket, '/VolumeDriver.Unmount', { Name: name, ID: 'c1' }).catch(
        () => undefined,
      );
    }
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
    '3',
    '--agent',
    '--plugin-socket',
    pluginSocket,
    '--json',
  ]);
  t.equal(up.code, 0, up.stderr);
  const clusterFile = join(dir, 'cluster.json');
  const file = JSON.parse(readFileSync(clusterFile, 'utf8'));
  pids = [...file.meta, ...file.nodes, ...file.agents].map((p: { pid: number }) => p.pid);
  const cluster = ['--cluster', clusterFile];

  // Raw NBD: grow while attached.
  await ok(
    t,
    await ballast(['volume', 'create', 'v1', '--size', '64MiB', '--replicas', '3', ...cluster]),
    'create',
  );
  const attached = await ok(t, await ballast(['volume', 'attach', 'v1', ...cluster]), 'attach');
  const uri = attached.stdout.trim();
  t.equal(await exportSize(uri), 64 * MiB, 'nbdinfo: 64 MiB');
  const head = await run('qemu-io', ['-f', 'raw', '-c', 'write -P 0x3c 0 2M', uri]);
  t.equal(head.code, 0, head.stderr);

  const resized = await ok(
    t,
    await ballast(['volume', 'resize', 'v1', '96MiB', ...cluster]),
    'resize while attached',
  );
  t.match(resized.stdout, /volume v1 is now 96 MiB; host host1 serves the new size once/);
  await waitFor(
    'a new NBD connection to see 96 MiB',
    async () => (await exportSize(uri)) === 96 * MiB,
    { timeoutMs: WAIT_MS, intervalMs: 200 },
  );
  t.pass('a new NBD connection sees 96 MiB');
  const tail = await run('qemu-io', [
    '-f',
    'raw',
    '-c',
    'write -P 0xa7 95M 1M',
    '-c',
    'read -P 0xa7 95M 1M',
    '-c',
    'read -P 0x3c 0 2M',
    uri,
  ]);
  t.equal(tail.code, 0, tail.stderr);
  t.notMatch(tail.stdout, /Pattern verification failed/, 'the new end and the old data read back');
  const inspect = JSON.parse(
    (await ok(t, await ballast(['volume', 'inspect', 'v1', '--json', ...cluster]), 'inspect'))
      .stdout,
  );
  t.match(inspect, { sizeBytes: 96 * MiB, attachment: { host: 'host1' } });
  t.equal(
    inspect.replicas.filter((r: { role: string }) => r.role === 'in-sync').length,
    3,
    'no replica left the set on the way',
  );
  await ok(t, await ballast(['volume', 'detach', 'v1', ...cluster]), 'detach');
  await ok(t, await ballast(['volume', 'attach', 'v1', ...cluster]), 'attach again');
  t.equal(await exportSize(uri), 96 * MiB, 'after a re-attach: 96 MiB');
  const again = await run('qemu-io', ['-f', 'raw', '-c', 'read -P 0xa7 95M 1M', uri]);
  t.equal(again.code, 0, again.stderr);
  t.notMatch(again.stdout, /Pattern verification failed/, 'the new end survived a re-attach');
  await ok(t, await ballast(['volume', 'detach', 'v1', ...cluster]), 'detach');

  // Grown while detached and attached at once: the engine waits for the nodes to catch up
  // with the map instead of dropping their (still smaller) replicas.
  await ok(t, await ballast(['volume', 'resize', 'v1', '128MiB', ...cluster]), 'resize detached');
  await ok(t, await ballast(['volume', 'attach', 'v1', ...cluster]), 'attach right after');
  t.equal(await exportSize(uri), 128 * MiB, 'served at 128 MiB');
  const kept = JSON.parse(
    (await ok(t, await ballast(['volume', 'inspect', 'v1', '--json', ...cluster]), 'inspect'))
      .stdout,
  );
  t.equal(
    kept.replicas.filter((r: { role: string }) => r.role === 'in-sync').length,
    3,
    'every replica stayed in sync',
  );
  await ok(t, await ballast(['volume', 'detach', 'v1', ...cluster]), 'detach');

  // Docker mount: grow while mounted, the next mount grows the filesystem.
  t.same(
    await pluginCall(pluginSocket, '/VolumeDriver.Create', {
      Name: 'dv',
      Opts: { size: '64MiB', replicas: '3' },
    }),
    { Err: '' },
  );
  const mount1 = (await pluginCall(pluginSocket, '/VolumeDriver.Mount', {
    Name: 'dv',
    ID: 'c1',
  })) as { Mountpoint: string; Err: string };
  t.equal(mount1.Err, '', 'mounted');
  mounted.push('dv');
  const before = fsBytes(mount1.Mountpoint);
  t.ok(before < 64 * MiB, `ext4 of ${before} bytes on the 64 MiB volume`);
  const content = Buffer.alloc(3 * MiB, 0x42);
  writeFileSync(join(mount1.Mountpoint, 'data.bin'), content);
  await ok(t, await ballast(['volume', 'resize', 'dv', '128MiB', ...cluster]), 'resize mounted');
  t.same(
    await pluginCall(pluginSocket, '/VolumeDriver.Unmount', { Name: 'dv', ID: 'c1' }),
    { Err: '' },
    'unmounted',
  );
  mounted.pop();
  const mount2 = (await pluginCall(pluginSocket, '/VolumeDriver.Mount', {
    Name: 'dv',
    ID: 'c1',
  })) as { Mountpoint: string; Err: string };
  t.equal(mount2.Err, '', 'mounted again');
  mounted.push('dv');
  const after = fsBytes(mount2.Mountpoint);
  t.ok(after > 96 * MiB, `the filesystem grew to ${after} bytes (was ${before})`);
  t.ok(readFileSync(join(mount2.Mountpoint, 'data.bin')).equals(content), 'the file is intact');
  t.same(await pluginCall(pluginSocket, '/VolumeDriver.Unmount', { Name: 'dv', ID: 'c1' }), {
    Err: '',
  });
  mounted.pop();
});
