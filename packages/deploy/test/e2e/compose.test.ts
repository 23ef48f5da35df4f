// The compose cluster end to end, with a real dockerd as a user has it: build the image
// with cluster/build-images.sh (offline base images when no registry answers), `docker-compose up
// -d` under a unique project name, wait for every service to be healthy, create a 3-replica
// volume with `docker volume create -d <driver>` and write to it from a container, restart the
// whole compose project, find the data intact, then `down -v`.
//
// Runs a dockerd of its own (own data root, exec root and socket; no iptables, no default bridge)
// beside any dockerd already running, and stops it at the end (see startDocker for why).
// Everything it creates is named after this process (project, plugin socket, images, mount root)
// and removed in teardown, also on failure. Needs root, docker.io, docker-compose, busybox-static,
// /dev/fuse, loop devices; the offline base image also needs the agent's tools on the host.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { freePort, waitFor } from '@ballast/testkit';
import { COMPOSE_FILE, REPO_ROOT } from '../../src/paths.js';
import { ballastCli, cleanUpUnder, commandExists, run, type RunResult } from '../helpers/run.js';

const SUFFIX = `${process.pid}-${randomBytes(3).toString('hex')}`;
const PROJECT = `ballaste2e${SUFFIX.replace(/-/g, '')}`;
const DRIVER = `ballast-e2e-${SUFFIX}`;
const PLUGIN_SOCKET = `/run/docker/plugins/${DRIVER}.sock`;
const IMAGE = `ballast-e2e-${SUFFIX}:local`;
const BUSYBOX_IMAGE = `ballast-e2e-busybox-${SUFFIX}:local`;
const VOLUME = `e2e-${SUFFIX}`;
const BALLAST_SERVICES = ['meta1', 'meta2', 'meta3', 'node1', 'node2', 'node3', 'agent'];
const HEALTH_TIMEOUT_MS = 300_000;

let dockerHost: string | undefined;

function dockerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (dockerHost !== undefined) env.DOCKER_HOST = dockerHost;
  return env;
}

function docker(args: string[], timeoutMs = 180_000): Promise<RunResult> {
  return run('docker', args, { env: dockerEnv(), timeoutMs });
}

async function dockerOk(
  t: Test,
  args: string[],
  what: string,
  timeoutMs?: number,
): Promise<string> {
  const r = await docker(args, timeoutMs);
  t.equal(r.code, 0, `${what}${r.code === 0 ? '' : `: ${r.stderr.trim().slice(-2000)}`}`);
  return r.stdout;
}

/**
 * Starts a dockerd of its own under `dir` (own data root, exec root, socket, containerd
 * namespace; no iptables, no default bridge), next to any dockerd already running, and returns how
 * to stop it. Why not the running one: a dockerd remembers every volume driver it has used and,
 * once a driver's socket is gone, retries it for seconds on every volume lookup; a shared daemon
 * that tests have used is slowed that way (compose up then times out), and this test would add
 * its own driver to the pile.
 */
async function startDocker(dir: string): Promise<() => Promise<void>> {
  const root = join(dir, 'docker');
  mkdirSync(root, { recursive: true });
  dockerHost = `unix://${root}/docker.sock`;
  const log = openSync(join(root, 'dockerd.log'), 'a');
  const daemon: ChildProcess = spawn(
    'dockerd',
    [
      '--data-root',
      join(root, 'data'),
      '--exec-root',
      join(root, 'exec'),
      '--pidfile',
      join(root, 'dockerd.pid'),
      '-H',
      dockerHost,
      '--iptables=false',
      '--ip-masq=false',
      '--bridge=none',
      '--containerd-namespace',
      `ballast-deploy-e2e-${SUFFIX}`,
      '--containerd-plugins-namespace',
      `ballast-deploy-e2e-plugins-${SUFFIX}`,
    ],
    { stdio: ['ignore', log, log] },
  );
  closeSync(log);
  let exited = false;
  daemon.on('exit', () => (exited = true));
  const stop = async (): Promise<void> => {
    if (!exited) {
      daemon.kill('SIGTERM');
      await waitFor('dockerd to exit', () => exited, { timeoutMs: 60_000 }).catch(() => {
        daemon.kill('SIGKILL');
      });
    }
    await cleanUpUnder(root);
  };
  try {
    await waitFor(
      'the private dockerd to answer',
      async () => {
        if (exited) throw new Error(readFileSync(join(root, 'dockerd.log'), 'utf8').slice(-2000));
        return (await docker(['info'], 10_000)).code === 0;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return stop;
}

/** State of every Ballast service's container: `healthy` when all are. */
async function health(compose: (args: string[]) => Promise<RunResult>): Promise<string> {
  const ids = (await compose(['ps', '-q'])).stdout.split('\n').filter(Boolean);
  if (ids.length < BALLAST_SERVICES.length) return `${ids.length} containers`;
  const states = await docker([
    'inspect',
    '--format',
    '{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{if .State.Health}}{{.State.Health.Status}}{{end}}',
    ...ids,
  ]);
  const lines = states.stdout.trim().split('\n');
  // mount-root is a one-shot: done is exited with 0.
  const done = (l: string): boolean =>
    / running 0 healthy$/.test(l) || (/mount-root/.test(l) && / exited 0 ?\w*$/.test(l));
  return lines.every(done) ? 'healthy' : lines.join('; ');
}

async function waitHealthy(compose: (args: string[]) => Promise<RunResult>): Promise<void> {
  let last = '';
  await waitFor(
    'every compose service to be healthy',
    async () => {
      last = await health(compose);
      return last === 'healthy';
    },
    { timeoutMs: HEALTH_TIMEOUT_MS, intervalMs: 2_000 },
  ).catch((err: Error) => {
    throw new Error(`${err.message} (last: ${last})`);
  });
}

t.test(
  'docker-compose up, a volume from the host docker, restart, data intact, down',
  async (t) => {
    if (process.getuid?.() !== 0) {
      t.fail('needs root');
      return;
    }
    for (const [tool, pkg] of [
      ['docker', 'docker.io'],
      ['dockerd', 'docker.io'],
      ['docker-compose', 'docker-compose'],
    ] as const) {
      if (!(await commandExists(tool))) {
        t.fail(`${tool} is missing: apt-get install ${pkg}`);
        return;
      }
    }
    if (!existsSync('/bin/busybox')) {
      t.fail('/bin/busybox is missing: apt-get install busybox-static');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'ballast-compose-e2e-'));
    const mountRoot = join(dir, 'mounts');
    mkdirSync(mountRoot);
    t.teardown(async () => {
      await cleanUpUnder(mountRoot);
      await run('umount', ['-l', mountRoot]);
      if (process.env.BALLAST_KEEP_TEST_DIRS) t.comment(`kept ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    });
    const stopDocker = await startDocker(dir);
    t.teardown(stopDocker);

    // The agent's mounts must propagate to the host (rshared), which needs a shared mount under the
    // mount root. systemd hosts share / by default; this machine's / is private. The compose
    // file's mount-root service makes one itself (checked below, after compose up).
    t.equal(
      (await run('findmnt', ['-n', '-o', 'PROPAGATION', '--target', mountRoot])).stdout.trim(),
      'private',
      'the mount root starts on a private mount, as on this machine',
    );

    // The image, exactly as a user builds it here.
    const built = await run(join(REPO_ROOT, 'cluster', 'build-images.sh'), ['--tag', IMAGE], {
      env: dockerEnv(),
      timeoutMs: 1_200_000,
    });
    t.equal(
      built.code,
      0,
      `build-images.sh${built.code === 0 ? '' : `: ${built.stdout.slice(-2000)}\n${built.stderr.slice(-3000)}`}`,
    );
    t.teardown(() => docker(['rmi', '-f', IMAGE]));
    if (built.code !== 0) return;
    t.comment(
      built.stderr
        .split('\n')
        .filter((l) => l.startsWith('build-images:'))
        .join('\n'),
    );

    // A container image to write with: busybox-static, imported (no registry).
    const rootfs = join(dir, 'busybox');
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    mkdirSync(join(rootfs, 'data'));
    copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
    chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
    for (const applet of ['sh', 'dd', 'md5sum', 'sync', 'cat']) {
      symlinkSync('busybox', join(rootfs, 'bin', applet));
    }
    const tar = await run('tar', ['-C', rootfs, '-cf', join(dir, 'busybox.tar'), '.']);
    t.equal(tar.code, 0, tar.stderr);
    await dockerOk(t, ['import', join(dir, 'busybox.tar'), BUSYBOX_IMAGE], 'docker import busybox');
    t.teardown(() => docker(['rmi', '-f', BUSYBOX_IMAGE]));

    const apiPort = await freePort();
    // The secrets, as a user keeps them: files in a 0700 directory, handed to the containers as
    // Docker secrets (0644: meta members and nodes run as uid 10001).
    const secretsDir = join(dir, 'secrets');
    mkdirSync(secretsDir, { mode: 0o700 });
    const secrets = {
      admin_token: randomBytes(16).toString('hex'),
      join_token: randomBytes(16).toString('hex'),
      data_plane_secret: randomBytes(16).toString('hex'),
    };
    for (const [name, value] of Object.entries(secrets)) {
      writeFileSync(join(secretsDir, name), `${value}\n`, { mode: 0o644 });
    }
    const token = secrets.admin_token;
    const composeEnv = dockerEnv({
      BALLAST_IMAGE: IMAGE,
      BALLAST_SECRETS_DIR: secretsDir,
      BALLAST_CLUSTER_ID: `e2e-${SUFFIX}`,
      BALLAST_MOUNT_ROOT: mountRoot,
      BALLAST_PLUGIN_NAME: DRIVER,
      BALLAST_API_PORT: String(apiPort),
      BALLAST_AGENT_ID: `e2e-host-${SUFFIX}`,
      // docker-compose v1 gives up on a dockerd call after 60 s; a loaded 2-core host needs more.
      COMPOSE_HTTP_TIMEOUT: '600',
    });
    const compose = (args: string[], timeoutMs = 600_000): Promise<RunResult> =>
      run('docker-compose', ['-p', PROJECT, '-f', COMPOSE_FILE, ...args], {
        env: composeEnv,
        timeoutMs,
        cwd: REPO_ROOT,
      });
    t.teardown(async () => {
      await docker(['volume', 'rm', '-f', VOLUME], 120_000);
      if (!t.passing()) {
        t.comment((await compose(['logs', '--no-color', '--tail', '80'])).stdout.slice(-20_000));
      }
      const down = await compose(['down', '-v', '--remove-orphans', '--timeout', '30']);
      if (down.code !== 0) t.comment(`compose down: ${down.stderr}`);
      rmSync(PLUGIN_SOCKET, { force: true });
    });

    // The project's network first. This dockerd runs without iptables, but where another dockerd
    // has set the FORWARD policy to DROP and bridged traffic goes through iptables
    // (br_netfilter), traffic between this project's containers needs a rule of its own.
    // One service only: `up --no-start` of the whole project never returns with docker-compose
    // v1, which waits for mount-root to complete (the agent depends on it) and nothing starts it.
    const created = await compose(['up', '--no-start', '--no-build', 'meta1']);
    t.equal(created.code, 0, `compose up --no-start: ${created.stderr.slice(-3000)}`);
    if (created.code !== 0) return;
    const networkId = (
      await dockerOk(t, ['network', 'inspect', '-f', '{{.Id}}', `${PROJECT}_default`], 'network')
    ).trim();
    const bridge = `br-${networkId.slice(0, 12)}`;
    const rule = ['FORWARD', '-i', bridge, '-o', bridge, '-j', 'ACCEPT'];
    if (await commandExists('iptables')) {
      const inserted = await run('iptables', ['-I', ...rule]);
      t.equal(inserted.code, 0, `iptables: allow traffic within ${bridge}: ${inserted.stderr}`);
      t.teardown(() => run('iptables', ['-D', ...rule]));
    }

    const up = await compose(['up', '-d', '--no-build']);
    t.equal(up.code, 0, `compose up${up.code === 0 ? '' : `: ${up.stderr.slice(-3000)}`}`);
    if (up.code !== 0) return;
    await waitHealthy(compose);
    t.pass('every service is healthy');
    t.equal(
      (await run('findmnt', ['-n', '-o', 'PROPAGATION', '--target', mountRoot])).stdout.trim(),
      'shared',
      'the mount-root service made the mount root a shared mount on the host',
    );

    // The admin API on the published port, with the host's CLI.
    const cli = ballastCli();
    const nodes = await run(process.execPath, [cli, 'node', 'ls', '--json'], {
      timeoutMs: 60_000,
      env: {
        ...process.env,
        BALLAST_CLUSTER: '',
        BALLAST_ENDPOINT: `http://127.0.0.1:${apiPort}`,
        BALLAST_TOKEN: token,
        // Healthy means every process answers; the members may still be electing a leader.
        BALLAST_RETRY_SECONDS: '60',
      },
    });
    t.equal(nodes.code, 0, `ballast node ls: ${nodes.stderr}`);
    const nodeList = JSON.parse(nodes.stdout) as Array<{
      id: string;
      state: string;
      labels: Record<string, string>;
    }>;
    t.same(
      nodeList.map((n) => [n.id, n.state, n.labels.zone]).sort(),
      [
        ['n1', 'up', 'zone-a'],
        ['n2', 'up', 'zone-b'],
        ['n3', 'up', 'zone-c'],
      ],
      'three storage nodes up in three zones',
    );

    // The secrets reached the processes from files: none is in any container's environment
    // (what `docker inspect` shows), and the CLI in meta1 reads the admin token's file.
    const ids = (await compose(['ps', '-q'])).stdout.split('\n').filter((l) => l.trim() !== '');
    t.ok(ids.length >= BALLAST_SERVICES.length, `${ids.length} containers`);
    const inspected = await dockerOk(t, ['inspect', ...ids], 'docker inspect the containers');
    for (const [name, value] of Object.entries(secrets)) {
      t.notOk(inspected.includes(value), `docker inspect does not show the ${name}`);
    }
    t.match(inspected, /BALLAST_JOIN_TOKEN_FILE=\/run\/secrets\/join_token/);
    const status = await compose(['exec', '-T', 'meta1', 'ballast', 'cluster', 'status'], 120_000);
    t.equal(status.code, 0, `compose exec meta1 ballast cluster status: ${status.stderr}`);
    t.match(status.stdout, /m1/, 'the CLI in meta1 reads the admin token from its secret');

    // A volume from the host's docker, written from a container.
    await waitFor('the plugin socket', () => existsSync(PLUGIN_SOCKET), { timeoutMs: 60_000 });
    await dockerOk(
      t,
      ['volume', 'create', '-d', DRIVER, '--opt', 'size=256MiB', '--opt', 'replicas=3', VOLUME],
      'docker volume create',
    );
    const written = await dockerOk(
      t,
      [
        'run',
        '--rm',
        '--network',
        'none',
        '-v',
        `${VOLUME}:/data`,
        BUSYBOX_IMAGE,
        'sh',
        '-c',
        'dd if=/dev/urandom of=/data/blob bs=1M count=8 2>/dev/null && sync && md5sum /data/blob',
      ],
      'write 8 MiB from a container',
    );
    const sum = written.trim().split(/\s+/)[0];
    t.match(sum, /^[0-9a-f]{32}$/, 'got a checksum of what was written');

    // The whole project restarts; the data is still there.
    const restart = await compose(['restart', '--timeout', '30']);
    t.equal(restart.code, 0, `compose restart: ${restart.stderr}`);
    await waitHealthy(compose);
    await waitFor('the plugin socket after the restart', () => existsSync(PLUGIN_SOCKET), {
      timeoutMs: 60_000,
    });
    const read = await dockerOk(
      t,
      [
        'run',
        '--rm',
        '--network',
        'none',
        '-v',
        `${VOLUME}:/data`,
        BUSYBOX_IMAGE,
        'md5sum',
        '/data/blob',
      ],
      'read back after the restart',
    );
    t.equal(read.trim().split(/\s+/)[0], sum, 'the data survived docker-compose restart');

    const inspect = JSON.parse(
      await dockerOk(t, ['volume', 'inspect', VOLUME], 'volume inspect'),
    ) as Array<{
      Driver: string;
      Status: { replicas: Array<{ role: string }> };
    }>;
    t.equal(inspect[0]?.Driver, DRIVER);
    t.equal(
      inspect[0]?.Status.replicas.filter((r) => r.role === 'in-sync').length,
      3,
      'three in-sync replicas',
    );
    await dockerOk(t, ['volume', 'rm', VOLUME], 'docker volume rm');
  },
);
