// Leftover Docker volumes answer at once (issue 18): after the cluster is gone (meta stopped,
// the agent still serving the plugin socket), dockerd keeps its Ballast volumes registered and
// asks the plugin about them (Get, List, Path) for `docker volume ls|inspect`, at its start, and
// for every unknown name (`docker run -v name:/x` probes every driver). Each of those used to wait
// for meta's full 15 s request timeout. Now they answer within about a second: from the map the
// agent last followed, or with an error at once for a name it does not know; Create still needs
// meta and fails saying so.
//
// Needs root, docker.io (dockerd) and busybox-static. Uses the machine's dockerd when it answers,
// otherwise starts its own (stopped at the end, also on failure).
import * as fs from 'node:fs';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { adminCall } from '../helpers/admin.js';
import { startCluster } from '../helpers/cluster.js';
import { BUSYBOX, ensureDocker, importBusybox, type Dockerd } from '../helpers/docker.js';
import { RawHttpClient, needsRoot, run, waitFor, type RunResult } from '../helpers/env.js';

const DRIVER = `ballast-gone-${process.pid}`;
const IMAGE = `ballast-gone-${process.pid}:busybox`;
const VOLUME = `gone-${process.pid}`;
const UNRELATED = `unrelated-${process.pid}`;
/**
 * Generous: the agent bounds its meta call at 1 s; the docker CLI and dockerd add their own
 * time (a second or two on this 2-core machine under load). Before the fix each took 15 s.
 */
const QUICK_MS = 5_000;

async function timed(docker: Dockerd, args: string[]): Promise<RunResult & { ms: number }> {
  const started = Date.now();
  const result = await docker.run(args, 60_000);
  return { ...result, ms: Date.now() - started };
}

async function ok(t: Test, docker: Dockerd, args: string[], what: string): Promise<string> {
  const result = await docker.run(args);
  t.equal(result.code, 0, `${what}${result.code === 0 ? '' : `: ${result.stderr.trim()}`}`);
  return result.stdout;
}

t.test('with meta stopped, docker volume ls / inspect / run answer at once', async (t) => {
  if (!needsRoot(t)) return;
  for (const tool of ['dockerd', 'docker']) {
    if ((await run('sh', ['-c', `command -v ${tool}`])).code !== 0) {
      t.fail(`${tool} is missing (apt-get install docker.io)`);
      return;
    }
  }
  if (!fs.existsSync(BUSYBOX)) {
    t.fail(`${BUSYBOX} is missing (apt-get install busybox-static)`);
    return;
  }
  const c = await startCluster(t, { prefix: 'ballast-gone-' });
  const agent = await c.agent('hostA', [], {
    pluginSocket: path.join('/run/docker/plugins', `${DRIVER}.sock`),
  });
  const docker = await ensureDocker(c.dir);
  t.teardown(() => docker.stop());
  await importBusybox(docker, c.dir, IMAGE);
  t.teardown(() => docker.run(['rmi', '-f', IMAGE]));
  // `-f` drops dockerd's record even when the driver cannot remove the volume (meta is gone).
  t.teardown(() => docker.run(['volume', 'rm', '-f', VOLUME]));
  t.teardown(() => docker.run(['volume', 'rm', '-f', UNRELATED]));

  await ok(
    t,
    docker,
    ['volume', 'create', '-d', DRIVER, '--opt', 'size=64MiB', '--opt', 'replicas=1', VOLUME],
    'volume create',
  );
  // The agent follows the map; wait until its copy has the volume (what it answers from later).
  await waitFor(async () => {
    const status = await adminCall(agent.adminSocket, 'GET', '/v1/status');
    return ((status.body.lastKnownVolumes as string[] | null) ?? []).includes(VOLUME);
  }, "the agent's copy of the map to have the volume");
  const plugin = await RawHttpClient.connect(agent.pluginSocket);
  t.teardown(() => plugin.close());
  const listed = await plugin.call('/VolumeDriver.List', {});
  t.match(JSON.parse(listed.body), { Volumes: [{ Name: VOLUME }] }, 'List from meta');

  // The cluster goes away: meta stops (its port refuses connections); the agent keeps serving.
  const closing = c.meta.close();
  c.meta.close = () => closing; // the cluster's teardown closes it again
  await closing;

  const ls = await timed(docker, ['volume', 'ls', '--format', '{{.Driver}} {{.Name}}']);
  t.equal(ls.code, 0, `docker volume ls: ${ls.stderr.trim()}`);
  t.ok(ls.stdout.split('\n').includes(`${DRIVER} ${VOLUME}`), 'ls still shows the volume');
  t.ok(ls.ms < QUICK_MS, `docker volume ls took ${ls.ms} ms (< ${QUICK_MS})`);

  const inspect = await timed(docker, ['volume', 'inspect', VOLUME]);
  t.equal(inspect.code, 0, `docker volume inspect: ${inspect.stderr.trim()}`);
  t.ok(inspect.ms < QUICK_MS, `docker volume inspect took ${inspect.ms} ms (< ${QUICK_MS})`);
  if (inspect.code === 0) {
    t.match(JSON.parse(inspect.stdout)[0], {
      Name: VOLUME,
      Driver: DRIVER,
      Status: { backend: 'cluster', metaUnreachable: true, size: '64 MiB' },
    });
  }

  // A name nobody knows: dockerd asks every driver; ours says at once that it cannot tell.
  const missing = await timed(docker, ['volume', 'inspect', `no-such-${process.pid}`]);
  t.not(missing.code, 0, 'inspect of an unknown name fails');
  t.ok(missing.ms < QUICK_MS, `inspect of an unknown name took ${missing.ms} ms (< ${QUICK_MS})`);

  // `docker run -v` of an unrelated name: a local volume, made after probing every driver.
  const unrelated = await timed(docker, [
    'run',
    '--rm',
    '--network',
    'none',
    '-v',
    `${UNRELATED}:/data`,
    IMAGE,
    'sh',
    '-c',
    'echo ok > /data/f && cat /data/f',
  ]);
  t.equal(unrelated.code, 0, `docker run -v ${UNRELATED}: ${unrelated.stderr.trim()}`);
  t.equal(unrelated.stdout.trim(), 'ok');
  const local = await ok(
    t,
    docker,
    ['volume', 'inspect', '--format', '{{.Driver}}', UNRELATED],
    'inspect',
  );
  t.equal(local.trim(), 'local', 'the unrelated volume is a local one');
  // Container start and stop cost seconds of their own here; the probe of our driver must not.
  t.ok(unrelated.ms < 3 * QUICK_MS, `docker run -v took ${unrelated.ms} ms`);

  // The plugin itself: Get of an unknown name fails at once, naming meta.
  const started = Date.now();
  const get = await plugin.call('/VolumeDriver.Get', { Name: `other-${process.pid}` });
  const getMs = Date.now() - started;
  t.equal(get.status, 500);
  t.match(JSON.parse(get.body).Err, /meta did not answer within 1000 ms/);
  t.ok(getMs < QUICK_MS, `plugin Get of an unknown name took ${getMs} ms`);
  const path_ = await plugin.call('/VolumeDriver.Path', { Name: VOLUME });
  t.equal(path_.status, 200, `Path of the known volume: ${path_.body}`);

  // What needs the truth still waits for meta and then says it did not answer.
  const create = await docker.run([
    'volume',
    'create',
    '-d',
    DRIVER,
    '--opt',
    'size=64MiB',
    `new-${process.pid}`,
  ]);
  t.not(create.code, 0, 'volume create fails while meta is gone');
  t.match(create.stderr, /meta did not answer POST \/v1\/volumes/, create.stderr.trim());
});
