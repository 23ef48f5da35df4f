// Real dockerd daemons for the e2e tests: the machine's own (or a private one when none runs),
// and a second one standing for another Docker host on this machine.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanUpUnder, run, stopProcess, waitFor, type RunResult } from './env.js';

export const BUSYBOX = '/bin/busybox';

export interface Dockerd {
  /** `unix://...` for docker -H. */
  host: string;
  run(args: string[], timeoutMs?: number): Promise<RunResult>;
  /** Stops the daemon if this test started it (never the machine's own). */
  stop(): Promise<void>;
}

function client(host: string, stop: () => Promise<void>): Dockerd {
  return {
    host,
    run: (args, timeoutMs = 120_000) => run('docker', ['-H', host, ...args], { timeoutMs }),
    stop,
  };
}

/** Common flags: no registry, no networking (containers run with --network none). */
function daemonArgs(root: string, host: string, tag: string): string[] {
  return [
    '--data-root',
    path.join(root, 'data'),
    '--exec-root',
    path.join(root, 'exec'),
    '--pidfile',
    path.join(root, 'dockerd.pid'),
    '-H',
    host,
    '--iptables=false',
    '--ip-masq=false',
    '--bridge=none',
    '--containerd-namespace',
    `ballast-${tag}`,
    '--containerd-plugins-namespace',
    `ballast-${tag}-plugins`,
  ];
}

async function waitForDaemon(
  daemon: ChildProcess,
  docker: Dockerd,
  logFile: string,
  stop: () => Promise<void>,
): Promise<void> {
  let exited = false;
  daemon.on('exit', () => (exited = true));
  try {
    await waitFor(
      async () => {
        if (exited) {
          throw new Error(`dockerd exited: ${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
        }
        return (await docker.run(['info', '--format', '{{.ServerVersion}}'], 10_000)).code === 0;
      },
      'dockerd to answer',
      90_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * The machine's dockerd when /var/run/docker.sock answers (it is left alone apart from what the
 * test creates in it), otherwise a private one under `dir` with its own data root, exec root,
 * pidfile and socket. Either way its plugin directory is the host's /run/docker/plugins.
 */
export async function ensureDocker(dir: string): Promise<Dockerd> {
  const probe = await run(
    'docker',
    ['-H', 'unix:///var/run/docker.sock', 'version', '--format', '{{.Server.Version}}'],
    { timeoutMs: 15_000 },
  ).catch(() => ({ code: 1, stdout: '', stderr: '' }));
  if (probe.code === 0) return client('unix:///var/run/docker.sock', async () => {});
  const root = path.join(dir, 'docker');
  fs.mkdirSync(root, { recursive: true });
  const host = `unix://${root}/docker.sock`;
  const logFile = path.join(root, 'dockerd.log');
  const log = fs.openSync(logFile, 'a');
  const daemon = spawn('dockerd', daemonArgs(root, host, `e2e-${process.pid}`), {
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  const stop = async (): Promise<void> => {
    await stopProcess(daemon, 'SIGTERM');
    await cleanUpUnder(root);
  };
  const docker = client(host, stop);
  await waitForDaemon(daemon, docker, logFile, stop);
  return docker;
}

/**
 * A second dockerd standing for another Docker host: its own data root, exec root (and so its own
 * managed containerd), socket and pidfile, no bridge, and its own mount namespace in which
 * /run/docker/plugins is `pluginsDir`, so it finds that host's agent under the same driver name
 * while the machine's daemon never sees it. The namespace is a slave of this one, so the
 * filesystems that host's agent mounts under `sharedDir` (made a shared mount first) reach its
 * containers; nothing it mounts comes back. `stop()` stops it, and with it the namespace.
 */
export async function startSecondDockerd(
  root: string,
  pluginsDir: string,
  tag: string,
): Promise<Dockerd> {
  fs.mkdirSync(root, { recursive: true });
  fs.mkdirSync(pluginsDir, { recursive: true, mode: 0o700 });
  const host = `unix://${root}/docker.sock`;
  const logFile = path.join(root, 'dockerd.log');
  const log = fs.openSync(logFile, 'a');
  // `unshare` without --fork execs in place, and so does the shell: the child is dockerd.
  const script = `mount --bind "$1" /run/docker/plugins && shift && exec dockerd "$@"`;
  const daemon = spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'slave',
      'sh',
      '-c',
      script,
      'sh',
      pluginsDir,
      ...daemonArgs(root, host, tag),
    ],
    { stdio: ['ignore', log, log] },
  );
  fs.closeSync(log);
  const stop = async (): Promise<void> => {
    await stopProcess(daemon, 'SIGTERM');
    await cleanUpUnder(root);
  };
  const docker = client(host, stop);
  await waitForDaemon(daemon, docker, logFile, stop);
  return docker;
}

/** Makes `dir` a shared mount point (a bind mount onto itself); returns how to undo it. */
export async function makeSharedMount(dir: string): Promise<() => Promise<void>> {
  for (const args of [
    ['--bind', dir, dir],
    ['--make-shared', dir],
  ]) {
    const result = await run('mount', args);
    if (result.code !== 0) throw new Error(`mount ${args.join(' ')}: ${result.stderr}`);
  }
  return async () => {
    const result = await run('umount', [dir]);
    if (result.code !== 0) await run('umount', ['-l', dir]);
  };
}

/** Imports a busybox-static rootfs as `image` (no registry needed). */
export async function importBusybox(docker: Dockerd, dir: string, image: string): Promise<void> {
  const rootfs = path.join(dir, 'rootfs');
  const tarball = path.join(dir, 'rootfs.tar');
  if (!fs.existsSync(tarball)) {
    fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
    for (const sub of ['data', 'tmp']) fs.mkdirSync(path.join(rootfs, sub), { recursive: true });
    fs.copyFileSync(BUSYBOX, path.join(rootfs, 'bin', 'busybox'));
    fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
    for (const applet of [
      'sh',
      'md5sum',
      'cat',
      'dd',
      'echo',
      'sleep',
      'ls',
      'sync',
      'mountpoint',
      'grep',
      'touch',
    ]) {
      fs.symlinkSync('busybox', path.join(rootfs, 'bin', applet));
    }
    const tar = await run('tar', ['-C', rootfs, '-cf', tarball, '.']);
    if (tar.code !== 0) throw new Error(`tar: ${tar.stderr}`);
  }
  const imported = await docker.run(['import', tarball, image]);
  if (imported.code !== 0) throw new Error(`docker import: ${imported.stderr}`);
}
