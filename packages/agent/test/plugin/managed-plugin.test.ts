// The managed (v2) plugin (issue 7): packages/agent/plugin/create-plugin.sh builds it from the
// Ballast image's root filesystem and config.json, and a real dockerd installs, configures and
// enables it; then `docker volume create` and `docker run -v` write and read a replicated volume,
// and `ballast volume attach`'s admin socket, bind-mounted from the host, serves it raw.
//
// The daemon is a second dockerd of the test's own (own data root, exec root, socket, mount
// namespace), so the machine's daemon gets no plugin; it only lends the image (`docker save`).
// Needs root, docker.io, busybox-static and the image (BALLAST_PLUGIN_IMAGE, default
// ballast:local, built by cluster/build-images.sh). Slow (minutes): `npm run test:plugin`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { adminCall } from '../helpers/admin.js';
import { CLUSTER_ID, SECRET, TOKEN, startCluster } from '../helpers/cluster.js';
import { importBusybox, startSecondDockerd, type Dockerd } from '../helpers/docker.js';
import { needsRoot, run } from '../helpers/env.js';

const IMAGE = process.env.BALLAST_PLUGIN_IMAGE ?? 'ballast:local';
const PLUGIN = `ballast-mp-${process.pid}:latest`;
const DRIVER = `ballast-mp-${process.pid}`;
const BUSYBOX_IMAGE = `ballast-mp-${process.pid}:busybox`;
const CREATE_PLUGIN = fileURLToPath(new URL('../../../plugin/create-plugin.sh', import.meta.url));

async function ok(t: Test, docker: Dockerd, args: string[], what: string): Promise<string> {
  const result = await docker.run(args, 300_000);
  t.equal(result.code, 0, `${what}${result.code === 0 ? '' : `: ${result.stderr.trim()}`}`);
  return result.stdout;
}

t.test('the managed plugin: create, configure, enable, volumes, raw attach', async (t) => {
  if (!needsRoot(t)) return;
  const image = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', IMAGE]);
  if (image.code !== 0) {
    t.fail(`the image ${IMAGE} is missing: build it with cluster/build-images.sh`);
    return;
  }
  const c = await startCluster(t, { prefix: 'ballast-mp-' });
  const docker = await startSecondDockerd(
    path.join(c.dir, 'docker'),
    path.join(c.dir, 'plugins'),
    `mp-${process.pid}`,
  );
  t.teardown(() => docker.stop());
  const loaded = await run(
    'sh',
    ['-c', `docker save "$1" | docker -H "$2" load`, 'sh', IMAGE, docker.host],
    { timeoutMs: 600_000 },
  );
  t.equal(loaded.code, 0, `the image is loaded into the test's daemon: ${loaded.stderr}`);
  await importBusybox(docker, c.dir, BUSYBOX_IMAGE);

  const created = await run(CREATE_PLUGIN, ['--from-image', IMAGE, PLUGIN], {
    timeoutMs: 600_000,
    env: { ...process.env, DOCKER_HOST: docker.host },
  });
  t.equal(created.code, 0, `create-plugin.sh: ${created.stderr}${created.stdout}`);
  t.teardown(async () => {
    await docker.run(['plugin', 'disable', '-f', PLUGIN]);
    await docker.run(['plugin', 'rm', '-f', PLUGIN]);
  });
  const inspected = JSON.parse(await ok(t, docker, ['plugin', 'inspect', PLUGIN], 'inspect'));
  t.match(inspected[0].Config, {
    Interface: { Types: ['docker.volumedriver/1.0'], Socket: 'ballast.sock' },
    Network: { Type: 'host' },
    PropagatedMount: '/var/lib/ballast/mounts',
    Linux: { Capabilities: ['CAP_SYS_ADMIN'], AllowAllDevices: true },
  });

  const stateDir = path.join(c.dir, 'plugin-state');
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  // The secrets as files under the state mount (the plugin sees it at /var/lib/ballast/agent),
  // so `docker plugin inspect` shows paths, not secrets.
  fs.mkdirSync(path.join(stateDir, 'secrets'), { mode: 0o700 });
  fs.writeFileSync(path.join(stateDir, 'secrets', 'token'), `${TOKEN}\n`, { mode: 0o600 });
  fs.writeFileSync(path.join(stateDir, 'secrets', 'data-plane'), `${SECRET}\n`, { mode: 0o600 });
  await ok(
    t,
    docker,
    [
      'plugin',
      'set',
      PLUGIN,
      `BALLAST_META=${c.metaUrl}`,
      'BALLAST_TOKEN_FILE=/var/lib/ballast/agent/secrets/token',
      `BALLAST_CLUSTER_ID=${CLUSTER_ID}`,
      'BALLAST_DATA_PLANE_SECRET_FILE=/var/lib/ballast/agent/secrets/data-plane',
      'BALLAST_ID=mphost',
      `state.source=${stateDir}`,
    ],
    'plugin set',
  );
  await ok(t, docker, ['plugin', 'enable', PLUGIN], 'plugin enable');
  const settings = await ok(t, docker, ['plugin', 'inspect', PLUGIN], 'inspect the settings');
  t.notOk(settings.includes(TOKEN), 'docker plugin inspect does not show the token');
  t.notOk(settings.includes(SECRET), 'nor the data-plane secret');
  t.teardown(() => docker.run(['volume', 'rm', '-f', 'mpv']));

  await ok(
    t,
    docker,
    ['volume', 'create', '-d', DRIVER, '--opt', 'size=128MiB', '--opt', 'replicas=3', 'mpv'],
    'volume create',
  );
  const volume = JSON.parse(await ok(t, docker, ['volume', 'inspect', 'mpv'], 'volume inspect'));
  t.match(volume[0], { Driver: PLUGIN, Scope: 'global', Status: { backend: 'cluster' } });
  const written = await ok(
    t,
    docker,
    [
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      'mpv:/data',
      BUSYBOX_IMAGE,
      'sh',
      '-c',
      'dd if=/dev/urandom of=/data/blob bs=64k count=64 2>/dev/null && sync && md5sum /data/blob',
    ],
    'a container writes through the managed plugin',
  );
  const read = await ok(
    t,
    docker,
    ['run', '--rm', '--network', 'none', '-v', 'mpv:/data', BUSYBOX_IMAGE, 'md5sum', '/data/blob'],
    'a second container reads',
  );
  t.equal(read, written, 'the same checksum');
  t.match(await c.api('GET', '/v1/volumes/mpv'), {
    attachment: null,
    replicas: [{ role: 'in-sync' }, { role: 'in-sync' }, { role: 'in-sync' }],
  });

  // `ballast volume attach` on this host talks to the plugin through the state mount.
  const adminSocket = path.join(stateDir, 'agent.sock');
  t.equal(fs.statSync(adminSocket).mode & 0o777, 0o600, 'the admin socket is root only');
  const attached = await adminCall(adminSocket, 'POST', '/v1/volumes/mpv/attach', {});
  t.equal(attached.status, 200, attached.text);
  t.match(attached.body, {
    host: 'mphost',
    socket: '/var/lib/ballast/agent/run/nbd/mpv.sock',
  });
  const hostSocket = path.join(stateDir, 'run', 'nbd', 'mpv.sock');
  const info = await run('nbdinfo', [`nbd+unix:///mpv?socket=${hostSocket}`]);
  t.equal(info.code, 0, info.stderr);
  t.match(info.stdout, /export-size: 134217728/);
  t.match(info.stdout, /ext4 filesystem/, 'the filesystem the containers used');
  t.equal((await adminCall(adminSocket, 'POST', '/v1/volumes/mpv/detach', {})).status, 200);

  await ok(t, docker, ['volume', 'rm', 'mpv'], 'volume rm');
  await ok(t, docker, ['plugin', 'disable', PLUGIN], 'plugin disable');
  await ok(t, docker, ['plugin', 'rm', PLUGIN], 'plugin rm');
  await ok(t, docker, ['rmi', '-f', IMAGE, BUSYBOX_IMAGE], 'images removed from the test daemon');
});
