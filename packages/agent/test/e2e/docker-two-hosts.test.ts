// Two Docker hosts on one machine, one Ballast cluster (issue 7): host A is the machine's dockerd
// (or a private one) with agent A; host B is a second dockerd in its own mount namespace, where
// /run/docker/plugins holds only agent B's socket under the same driver name. `docker run -v` on
// B is refused while A holds the volume, naming A; A dies (agent, relay and nbdfuse SIGKILLed)
// under a running container; the volume is taken over with force and B's containers find every
// byte A fsynced; A's container can no longer write; A comes back and lets go cleanly.
//
// Needs root, docker.io (dockerd), busybox-static, util-linux unshare, /dev/fuse, loop devices.
import * as fs from 'node:fs';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { adminCall } from '../helpers/admin.js';
import { startCluster } from '../helpers/cluster.js';
import {
  BUSYBOX,
  ensureDocker,
  importBusybox,
  makeSharedMount,
  startSecondDockerd,
  type Dockerd,
} from '../helpers/docker.js';
import { leftoversUnder, needsRoot, run, waitFor } from '../helpers/env.js';

const DRIVER = `ballast-2h-${process.pid}`;
const IMAGE = `ballast-2h-${process.pid}:busybox`;

async function ok(t: Test, docker: Dockerd, args: string[], what: string): Promise<string> {
  const result = await docker.run(args);
  t.equal(result.code, 0, `${what}${result.code === 0 ? '' : `: ${result.stderr.trim()}`}`);
  return result.stdout;
}

t.test('docker run -v on two hosts: refused naming the holder, then taken over', async (t) => {
  if (!needsRoot(t)) return;
  for (const tool of ['dockerd', 'docker', 'unshare']) {
    if ((await run('sh', ['-c', `command -v ${tool}`])).code !== 0) {
      t.fail(`${tool} is missing (apt-get install docker.io util-linux)`);
      return;
    }
  }
  if (!fs.existsSync(BUSYBOX)) {
    t.fail(`${BUSYBOX} is missing (apt-get install busybox-static)`);
    return;
  }
  const c = await startCluster(t, { prefix: 'ballast-d2h-' });
  // Registered after the cluster's temp dir, so it is undone before that is removed.
  t.teardown(await makeSharedMount(c.dir));
  const pluginsA = '/run/docker/plugins';
  const pluginsB = path.join(c.dir, 'plugins-b');
  const a = await c.agent('hostA', [], {
    pluginSocket: path.join(pluginsA, `${DRIVER}.sock`),
  });
  const b = await c.agent('hostB', [], { pluginSocket: path.join(pluginsB, `${DRIVER}.sock`) });

  const dockerA = await ensureDocker(c.dir);
  t.teardown(() => dockerA.stop());
  const dockerB = await startSecondDockerd(
    path.join(c.dir, 'docker-b'),
    pluginsB,
    `b-${process.pid}`,
  );
  t.teardown(() => dockerB.stop());
  for (const docker of [dockerA, dockerB]) {
    await importBusybox(docker, c.dir, IMAGE);
    t.teardown(() => docker.run(['rmi', '-f', IMAGE]));
  }
  const containerA = `ballast-2h-a-${process.pid}`;
  t.teardown(async () => {
    await dockerA.run(['rm', '-f', containerA]);
    await dockerA.run(['volume', 'rm', '-f', 'pg2']);
    await dockerB.run(['volume', 'rm', '-f', 'pg2']);
  });

  // The volume exists once, for the whole cluster (scope global).
  await ok(
    t,
    dockerA,
    ['volume', 'create', '-d', DRIVER, '--opt', 'size=256MiB', '--opt', 'replicas=3', 'pg2'],
    'create on A',
  );
  await ok(t, dockerB, ['volume', 'create', '-d', DRIVER, 'pg2'], 'B registers the same volume');
  const inspectB = JSON.parse(await ok(t, dockerB, ['volume', 'inspect', 'pg2'], 'inspect on B'));
  t.match(inspectB[0], {
    Driver: DRIVER,
    Scope: 'global',
    Status: { size: '256 MiB', backend: 'cluster', attachedTo: null },
  });

  // A container on A writes, fsyncs, and keeps running.
  await ok(
    t,
    dockerA,
    [
      'run',
      '-d',
      '--name',
      containerA,
      '--network',
      'none',
      '-v',
      'pg2:/data',
      IMAGE,
      'sh',
      '-c',
      'dd if=/dev/urandom of=/data/blob bs=64k count=128 2>/dev/null && md5sum /data/blob > /data/sums && sync && touch /data/done && sync && sleep 600',
    ],
    'container on A',
  );
  await waitFor(
    async () => (await dockerA.run(['exec', containerA, 'cat', '/data/done'])).code === 0,
    'the container on A to finish writing',
    120_000,
  );
  const sums = (await ok(t, dockerA, ['exec', containerA, 'cat', '/data/sums'], 'sums')).trim();
  t.match(sums, /^[0-9a-f]{32}\s+\/data\/blob$/);

  const refused = await dockerB.run([
    'run',
    '--rm',
    '--network',
    'none',
    '-v',
    'pg2:/data',
    IMAGE,
    'true',
  ]);
  t.not(refused.code, 0, 'docker run on B fails while A holds the volume');
  t.match(
    refused.stderr,
    /attached to host hostA \(epoch \d+\)/,
    `names host A: ${refused.stderr.trim()}`,
  );
  t.match(refused.stderr, /ballast volume detach --force pg2/, 'and says how to take it over');

  // Host A dies: its agent, relay and nbdfuse. Its container is still running.
  const hostA = (await leftoversUnder(a.dir)).processes.map((p) => Number(p.split(':')[0]));
  t.ok(hostA.length >= 3, `agent, relay and nbdfuse of A (${hostA.length} processes)`);
  for (const pid of hostA) process.kill(pid, 'SIGKILL');
  await new Promise<void>((resolve) => a.process.child.once('exit', () => resolve()));
  const deadWrite = await dockerA.run(
    ['exec', containerA, 'dd', 'if=/dev/zero', 'of=/data/late', 'bs=64k', 'count=16', 'conv=fsync'],
    60_000,
  );
  t.not(deadWrite.code, 0, `A's container can no longer write: ${deadWrite.stderr.trim()}`);

  // What `ballast volume detach --force pg2` does on host B.
  const forced = await adminCall(b.adminSocket, 'POST', '/v1/volumes/pg2/detach', { force: true });
  t.match(forced.body, { detached: true, forced: true, previousHost: 'hostA' }, forced.text);
  const verify = await ok(
    t,
    dockerB,
    [
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      'pg2:/data',
      IMAGE,
      'sh',
      '-c',
      'cd / && md5sum -c /data/sums && ls /data',
    ],
    'a container on B checks the data',
  );
  t.match(verify, /\/data\/blob: OK/, 'every byte A fsynced is on B');
  t.notMatch(verify, /late/, "A's write after its death is not there");
  await ok(
    t,
    dockerB,
    [
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      'pg2:/data',
      IMAGE,
      'sh',
      '-c',
      'echo from-b > /data/b && sync',
    ],
    'a container on B writes',
  );

  // A comes back: it finds its mount dead, tears it down and leaves B's attachment alone; A's
  // Docker then removes the container (its Unmount succeeds).
  await a.restart();
  t.match(a.process.ready.recovery, { lost: [{ volume: 'pg2' }] });
  await ok(t, dockerA, ['rm', '-f', containerA], 'remove the dead container on A');
  const fromA = await ok(
    t,
    dockerA,
    ['run', '--rm', '--network', 'none', '-v', 'pg2:/data', IMAGE, 'cat', '/data/b'],
    'A mounts it again after B let go',
  );
  t.equal(fromA, 'from-b\n', "A sees B's write");
  await ok(t, dockerA, ['volume', 'rm', 'pg2'], 'volume rm on A');
  await dockerB.run(['volume', 'rm', '-f', 'pg2']);
  const left = await leftoversUnder(c.dir);
  t.same(left.loops, [], 'no loop devices left');
  t.same(
    left.mounts.filter((m) => !m.includes('/docker-b/') && !m.includes('/docker/')),
    [],
    'no mounts left',
  );
});
