import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  rmdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { ballastdProcess, type BallastdProcessOptions } from './ballastd.js';
import { ManagedProcess, isAlive, sleep, waitFor } from './managed-process.js';
import { LAB_STATE_DIR, NetLab, processStartTime, runBounded, type ExecResult } from './netns.js';

/** Where HostLab keeps one JSON record per lab (beside NetLab's, which ignores this directory). */
export const HOST_LAB_STATE_DIR = `${LAB_STATE_DIR}/hostlab`;
const CGROUP_ROOT = '/sys/fs/cgroup';
/** Unix socket paths must fit in 108 bytes; containerd's and the shims' live under the host dir. */
const MAX_BASE_DIR_LENGTH = 40;
const DOCKERD_READY_MS = 90_000;
const DOCKER_COMMAND_MS = 120_000;
const KILL_WAIT_MS = 15_000;
const SWARM_READY_MS = 60_000;
/** Overlay networks take /24s from here; the lab's own 10.200-250.x.0/24 never overlaps it. */
const SWARM_ADDRESS_POOL = '10.199.0.0/16';

export interface HostLabOptions {
  /** Host names (NetLab's rules: short, `[A-Za-z0-9][A-Za-z0-9_-]*`). */
  hosts: readonly string[];
  /** NetLab prefix (`[a-z][a-z0-9]{1,9}`); default `hl` + 4 random hex digits. */
  prefix?: string;
  /** Hosts that run a private dockerd (default: all of them). The others are bare namespaces. */
  dockerHosts?: readonly string[];
}

/** What a HostLab record on disk holds: enough for another process to remove the lab. */
interface HostLabRecord {
  prefix: string;
  pid: number;
  pidStart: string | undefined;
  dir: string;
  hosts: string[];
  createdAt: string;
}

/** A process started inside a host, as `spawn()` gets it. */
export interface HostProcessOptions {
  id: string;
  argv: readonly string[];
  env?: NodeJS.ProcessEnv;
  logFile?: string;
  readyWhen?: (line: string, json: Record<string, unknown> | undefined) => unknown;
  readyTimeoutMs?: number;
}

export interface SwarmInfo {
  /** The host that ran `swarm init` (a manager). */
  leader: string;
  managers: string[];
  workerToken: string;
  managerToken: string;
}

/**
 * Several Docker hosts on one machine, for tests of what happens across hosts (the multi-host test
 * bed, ../shared/reference/multi-host-testbed.md). Each host is:
 *
 * - a network namespace of a NetLab (`eth0` at 10.X.Y.(11+i) on the lab bridge; the root namespace
 *   reaches every host at `address(host)`; faults through `net`);
 * - a persistent mount namespace and UTS namespace (bind-mounted on `<hostDir>/ns/{mnt,uts}`), in
 *   which `/run` is a private tmpfs (so `/run/docker/plugins`, `/run/containerd` and anything a
 *   daemon leaves in /run belong to that host), `/run/docker/plugins` is `<hostDir>/plugins` (the
 *   tests and agents reach it from the root namespace by that path), `/etc/docker` is
 *   `<hostDir>/etc-docker` (own key.json, no daemon.json of the machine's), and `/sys` is a sysfs
 *   of the host's network namespace with the machine's cgroup tree moved back on top;
 * - optionally a private dockerd (own data root, exec root, socket, pidfile, managed containerd),
 *   whose containers live under the cgroup `ballast-hostlab-<prefix>-<host>`, so a kill finds
 *   them.
 *
 * Everything is entered with nsenter (`wrap`, `exec`, `spawn`), never `ip netns exec` (which
 * remounts /sys and hides the cgroups). `killHost` SIGKILLs every process of a host (dockerd,
 * containerd, shims, containers, agents) as a power cut would; `rebootHost` also drops the mount
 * namespace (mounts, loop devices) and starts dockerd again. `destroy()` removes everything: the
 * processes, cgroups, loop devices, mounts, the directory and the NetLab; an exit hook does the
 * same when the test process ends without it, and `HostLab.removeStale()` after a SIGKILLed run.
 * Needs root.
 */
export class HostLab {
  readonly net: NetLab;
  readonly prefix: string;
  /** `/tmp/bhl-<prefix>`: one directory per host below it. */
  readonly dir: string;
  readonly hosts: readonly string[];
  readonly dockerHosts: readonly string[];

  readonly #record: HostLabRecord;
  readonly #dockerds = new Map<string, ManagedProcess>();
  readonly #spawned = new Map<string, Set<ManagedProcess>>();
  /** Hosts cut off by a silent killHost, healed by rebootHost. */
  readonly #silenced = new Set<string>();
  #destroyed: Promise<void> | undefined;

  private constructor(net: NetLab, record: HostLabRecord, dockerHosts: readonly string[]) {
    this.net = net;
    this.#record = record;
    this.prefix = record.prefix;
    this.dir = record.dir;
    this.hosts = [...record.hosts];
    this.dockerHosts = [...dockerHosts];
  }

  static async create(options: HostLabOptions): Promise<HostLab> {
    if (process.getuid?.() !== 0) throw new Error('HostLab needs root (namespaces, dockerd)');
    const dockerHosts = options.dockerHosts ?? options.hosts;
    for (const h of dockerHosts) {
      if (!options.hosts.includes(h)) throw new Error(`docker host ${h} is not a lab host`);
    }
    const net = await NetLab.create({
      hosts: options.hosts,
      prefix:
        options.prefix ??
        `hl${Math.floor(Math.random() * 0x10000)
          .toString(16)
          .padStart(4, '0')}`,
    });
    const record: HostLabRecord = {
      prefix: net.prefix,
      pid: process.pid,
      pidStart: processStartTime(process.pid),
      dir: `/tmp/bhl-${net.prefix}`,
      hosts: [...options.hosts],
      createdAt: new Date().toISOString(),
    };
    if (record.dir.length > MAX_BASE_DIR_LENGTH) throw new Error(`lab dir ${record.dir} too long`);
    const lab = new HostLab(net, record, dockerHosts);
    liveLabs.add(record);
    installExitHook();
    try {
      mkdirSync(HOST_LAB_STATE_DIR, { recursive: true });
      writeRecord(record);
      rmSync(record.dir, { recursive: true, force: true });
      mkdirSync(record.dir, { recursive: true, mode: 0o700 });
      // `unshare --mount=FILE` refuses a FILE on a shared mount (systemd makes / shared): the lab
      // directory becomes a private mount of its own. Teardown unmounts it with the rest.
      await runBounded(['mount', '--bind', record.dir, record.dir]);
      await runBounded(['mount', '--make-private', record.dir]);
      for (const host of options.hosts) await lab.#makeHostNamespaces(host);
      await Promise.all(dockerHosts.map((h) => lab.startDockerd(h)));
      return lab;
    } catch (err) {
      await lab.destroy();
      throw err;
    }
  }

  /**
   * Removes what labs of dead creators left (SIGKILLed test runner): every process of their hosts
   * (containers included, found by cgroup), loop devices over their files, their mounts, cgroups,
   * directory and NetLab. Returns how many labs it removed.
   */
  static async removeStale(): Promise<number> {
    let removed = 0;
    for (const entry of safeReaddir(HOST_LAB_STATE_DIR)) {
      if (!entry.endsWith('.json')) continue;
      const record = readJson(join(HOST_LAB_STATE_DIR, entry));
      if (record === undefined) {
        rmSync(join(HOST_LAB_STATE_DIR, entry), { force: true });
        continue;
      }
      if (isAlive(record.pid) && processStartTime(record.pid) === record.pidStart) continue;
      await teardownRecord(record);
      await NetLab.removeStale(record.prefix);
      removed++;
    }
    // Empty cgroups of labs without a record (their exit hook removed it before the last
    // processes were reaped); rmdir refuses a cgroup that still has processes, and live labs
    // have records.
    const live = new Set(safeReaddir(HOST_LAB_STATE_DIR).map((e) => e.split('.')[0]));
    for (const hierarchy of safeReaddir(CGROUP_ROOT)) {
      for (const name of safeReaddir(join(CGROUP_ROOT, hierarchy))) {
        const m = /^ballast-hostlab-([a-z][a-z0-9]{1,9})-/.exec(name);
        if (m && !live.has(m[1])) removeCgroupDir(join(CGROUP_ROOT, hierarchy, name), 0);
      }
    }
    return removed;
  }

  hostDir(host: string): string {
    this.#check(host);
    return join(this.dir, host);
  }

  /** The host's `/run/docker/plugins` as the root namespace sees it. */
  pluginsDir(host: string): string {
    return join(this.hostDir(host), 'plugins');
  }

  /** `unix://...` for `docker -H` (the socket is reachable from the root namespace). */
  dockerHost(host: string): string {
    return `unix://${join(this.hostDir(host), 'docker.sock')}`;
  }

  address(host: string): string {
    return this.net.address(host);
  }

  /** The cgroup (in every hierarchy) under which the host's dockerd puts its containers. */
  cgroupName(host: string): string {
    this.#check(host);
    return cgroupName(this.prefix, host);
  }

  /**
   * argv running `argv` inside the host: its network, mount and UTS namespaces. nsenter execs the
   * program (no fork), so a spawned child's pid is the program's. The working directory becomes /,
   * so paths must be absolute.
   */
  wrap(host: string, argv: readonly string[]): string[] {
    const ns = join(this.hostDir(host), 'ns');
    return [
      'nsenter',
      `--net=/run/netns/${this.net.netnsName(host)}`,
      `--mount=${ns}/mnt`,
      `--uts=${ns}/uts`,
      '--',
      ...argv,
    ];
  }

  /** Runs a command inside the host to completion (bounded); rejects with its stderr on failure. */
  exec(
    host: string,
    argv: readonly string[],
    options: { timeoutMs?: number; input?: string | Buffer } = {},
  ): Promise<ExecResult> {
    return runBounded(this.wrap(host, argv), {
      timeoutMs: options.timeoutMs ?? 30_000,
      ...opt(options.input),
    });
  }

  /** `docker -H <host's socket> ...args`, from the root namespace; rejects on failure. */
  docker(
    host: string,
    args: readonly string[],
    options: { timeoutMs?: number; input?: string | Buffer } = {},
  ): Promise<ExecResult> {
    return runBounded(['docker', '-H', this.dockerHost(host), ...args], {
      timeoutMs: options.timeoutMs ?? DOCKER_COMMAND_MS,
      ...opt(options.input),
    });
  }

  /** The same, but resolves with the exit status instead of rejecting. */
  async tryDocker(
    host: string,
    args: readonly string[],
    options: { timeoutMs?: number } = {},
  ): Promise<ExecResult & { ok: boolean; error?: string }> {
    try {
      return { ...(await this.docker(host, args, options)), ok: true };
    } catch (err) {
      return { stdout: '', stderr: '', ok: false, error: (err as Error).message };
    }
  }

  /**
   * A process inside the host (not started yet). `killHost` kills it with everything else of the
   * host; `destroy` too. Its log defaults to `<hostDir>/logs/<id>.log`.
   */
  process(host: string, options: HostProcessOptions): ManagedProcess {
    const logDir = join(this.hostDir(host), 'logs');
    mkdirSync(logDir, { recursive: true });
    const [command, ...args] = this.wrap(host, options.argv);
    const proc = new ManagedProcess({
      id: options.id,
      command: command!,
      args,
      env: { ...process.env, ...options.env },
      logFile: options.logFile ?? join(logDir, `${options.id}.log`),
      ...(options.readyWhen ? { readyWhen: options.readyWhen } : {}),
      readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    });
    this.#track(host, proc);
    return proc;
  }

  #track(host: string, proc: ManagedProcess): void {
    let set = this.#spawned.get(host);
    if (!set) this.#spawned.set(host, (set = new Set()));
    set.add(proc);
  }

  /**
   * A `ballastd` process inside the host (testkit's ballastdProcess with this host's wrap as its
   * prefix), tracked like `process()`. Its log defaults to `<hostDir>/logs/<id>.log`.
   */
  ballastd(
    host: string,
    options: Omit<BallastdProcessOptions, 'prefix' | 'logFile'> & { logFile?: string },
  ): ManagedProcess {
    const logDir = join(this.hostDir(host), 'logs');
    mkdirSync(logDir, { recursive: true });
    const proc = ballastdProcess({
      ...options,
      logFile: options.logFile ?? join(logDir, `${options.id}.log`),
      prefix: this.wrap(host, []),
    });
    this.#track(host, proc);
    return proc;
  }

  /** The host's dockerd process (undefined for a host without one). */
  dockerd(host: string): ManagedProcess | undefined {
    return this.#dockerds.get(host);
  }

  /** Starts (or starts again) the host's dockerd and waits until it answers. */
  async startDockerd(host: string): Promise<void> {
    const dir = this.hostDir(host);
    let proc = this.#dockerds.get(host);
    if (proc === undefined) {
      proc = this.process(host, {
        id: `dockerd-${host}`,
        argv: [
          'dockerd',
          '--data-root',
          join(dir, 'docker-data'),
          '--exec-root',
          join(dir, 'docker-exec'),
          '--pidfile',
          join(dir, 'dockerd.pid'),
          '-H',
          this.dockerHost(host),
          '--cgroup-parent',
          `/${this.cgroupName(host)}`,
        ],
        // No registry here: a service create must not try a pull first.
        env: { DOCKER_SERVICE_PREFER_OFFLINE_IMAGE: '1' },
      });
      this.#dockerds.set(host, proc);
    }
    await proc.start();
    const started = Date.now();
    await waitFor(
      `dockerd of ${host} to answer`,
      async () => {
        if (!proc.running) throw new Error(`dockerd of ${host} exited:\n${proc.tail(30)}`);
        await this.docker(host, ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 10_000 });
        return true;
      },
      { timeoutMs: DOCKERD_READY_MS, intervalMs: 200 },
    ).catch((err: Error) => {
      throw new Error(`${err.message} (after ${Date.now() - started} ms); log:\n${proc.tail(30)}`);
    });
  }

  /**
   * Loads an image archive (`docker save` output) into every running dockerd, or those given:
   * offline, no registry.
   */
  async loadImage(
    archive: string,
    hosts: readonly string[] = this.#runningDockerHosts(),
  ): Promise<void> {
    await Promise.all(hosts.map((h) => this.docker(h, ['load', '-i', archive])));
  }

  /** Imports a root filesystem tarball as image `ref` into every running dockerd (or `hosts`). */
  async importImage(
    rootfsTar: string,
    ref: string,
    hosts: readonly string[] = this.#runningDockerHosts(),
    options: { cmd?: readonly string[] } = {},
  ): Promise<void> {
    const change = options.cmd ? ['--change', `CMD ${JSON.stringify(options.cmd)}`] : [];
    await Promise.all(hosts.map((h) => this.docker(h, ['import', ...change, rootfsTar, ref])));
  }

  /**
   * `docker save` of `ref` from the machine's own dockerd into `archive` (for loadImage). Throws
   * when that daemon does not answer: then build the image (e.g. `busyboxRootfs` + importImage).
   */
  static async saveFromMachine(ref: string, archive: string): Promise<void> {
    await runBounded(['docker', '-H', 'unix:///var/run/docker.sock', 'save', '-o', archive, ref], {
      timeoutMs: DOCKER_COMMAND_MS,
    });
  }

  /**
   * Forms a Swarm over the lab addresses: `swarm init` on the first manager, the others join as
   * managers, the rest as workers. Every host first lists its volumes, which activates the legacy
   * plugins in its /run/docker/plugins: Swarm schedules volume tasks only on nodes whose
   * description names the driver, and a plugin activated after the join reaches it 5-20 s later.
   * Resolves once every node is Ready.
   */
  async formSwarm(
    options: { managers?: readonly string[]; hosts?: readonly string[] } = {},
  ): Promise<SwarmInfo> {
    const members = [...(options.hosts ?? this.dockerHosts)];
    const managers = [...(options.managers ?? [members[0]!])];
    const leader = managers[0]!;
    for (const h of [...members, ...managers]) {
      if (!this.dockerHosts.includes(h)) throw new Error(`${h} runs no dockerd`);
    }
    await Promise.all(members.map((h) => this.docker(h, ['volume', 'ls', '-q'])));
    const ip = this.address(leader);
    await this.docker(leader, [
      'swarm',
      'init',
      '--advertise-addr',
      ip,
      '--listen-addr',
      `${ip}:2377`,
      '--default-addr-pool',
      SWARM_ADDRESS_POOL,
    ]);
    const workerToken = (
      await this.docker(leader, ['swarm', 'join-token', '-q', 'worker'])
    ).stdout.trim();
    const managerToken = (
      await this.docker(leader, ['swarm', 'join-token', '-q', 'manager'])
    ).stdout.trim();
    for (const h of members) {
      if (h === leader) continue;
      const a = this.address(h);
      await this.docker(h, [
        'swarm',
        'join',
        '--advertise-addr',
        a,
        '--listen-addr',
        `${a}:2377`,
        '--token',
        managers.includes(h) ? managerToken : workerToken,
        `${ip}:2377`,
      ]);
    }
    await waitFor(
      `${members.length} swarm nodes Ready`,
      async () => {
        const nodes = await this.swarmNodes(leader);
        return nodes.length === members.length && nodes.every((n) => n.status === 'Ready');
      },
      { timeoutMs: SWARM_READY_MS, intervalMs: 250 },
    );
    return { leader, managers, workerToken, managerToken };
  }

  /** `docker node ls` as seen by manager `via`. */
  async swarmNodes(
    via: string,
  ): Promise<Array<{ hostname: string; status: string; availability: string }>> {
    const out = await this.docker(via, [
      'node',
      'ls',
      '--format',
      '{{.Hostname}} {{.Status}} {{.Availability}}',
    ]);
    return out.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const [hostname, status, availability] = l.trim().split(/\s+/);
        return { hostname: hostname!, status: status!, availability: availability! };
      });
  }

  /** Cuts the host off from every other host (and from the root namespace with includeRoot). */
  isolate(host: string, options: { includeRoot?: boolean } = {}): Promise<void> {
    return this.net.isolate(host, options);
  }

  /** Undoes isolate(host). */
  heal(host: string): Promise<void> {
    return this.net.heal(host);
  }

  /** Pids of the host's processes: its namespaces', its containers' cgroup's, their children. */
  processesOf(host: string): number[] {
    return [...hostProcesses(this.prefix, this.dir, host)];
  }

  /**
   * The host loses power: SIGSTOP then SIGKILL every process of it (dockerd, containerd, shims,
   * containers, whatever `process()` started), and waits until they are gone. Its namespaces,
   * mounts and files stay, as a machine's disks do; `rebootHost` brings it back.
   *
   * The kernel is shared, so killed processes' sockets still close: peers get a FIN or RST at once,
   * which a real power cut never sends. With `silent`, the host is first cut off from every host
   * and the root namespace (NetLab.isolate), so its peers hear nothing and must time out; the cut
   * stays until `rebootHost`.
   */
  async killHost(host: string, options: { silent?: boolean } = {}): Promise<{ killed: number }> {
    this.#check(host);
    if (options.silent) {
      await this.net.isolate(host, { includeRoot: true });
      this.#silenced.add(host);
    }
    const killed = await killHostProcesses(this.prefix, this.dir, host);
    for (const p of this.#spawned.get(host) ?? []) await p.exited();
    return { killed };
  }

  /**
   * The host boots again after killHost: its mount namespace is dropped (the mounts of its dead
   * processes go, loop devices over its files are detached, its container cgroups removed), made
   * anew with an empty /run/docker/plugins (a real /run is a tmpfs), its network healed after a
   * silent kill, and dockerd started again
   * (it finds its data root, its containers as Exited and its Swarm state). `beforeDockerd` starts
   * the host's plugins first, as a real host's init must: dockerd looks up the volume driver of
   * each container it restores, and waits about 30 s for a legacy plugin that does not answer.
   */
  async rebootHost(
    host: string,
    options: { beforeDockerd?: () => Promise<unknown> } = {},
  ): Promise<void> {
    await this.killHost(host);
    await dropHostNamespaces(this.prefix, this.dir, host);
    // /run is a tmpfs on a real host: the dead plugins' sockets do not survive a reboot. Left
    // there, dockerd would try each at start and answer about 30 s later.
    for (const entry of safeReaddir(this.pluginsDir(host))) {
      rmSync(join(this.pluginsDir(host), entry), { recursive: true, force: true });
    }
    await this.#makeHostNamespaces(host);
    // Back on the network (every partition involving the host goes) before anything starts.
    if (this.#silenced.delete(host)) await this.net.heal(host);
    await options.beforeDockerd?.();
    if (this.dockerHosts.includes(host)) await this.startDockerd(host);
  }

  /** Removes the whole lab. Never throws, idempotent. */
  destroy(): Promise<void> {
    this.#destroyed ??= (async () => {
      await teardownRecord(this.#record);
      await this.net.destroy();
      liveLabs.delete(this.#record);
    })().catch((err: unknown) => {
      process.emitWarning(`HostLab ${this.prefix}: destroy failed: ${String(err)}`);
    });
    return this.#destroyed;
  }

  async #makeHostNamespaces(host: string): Promise<void> {
    const dir = this.hostDir(host);
    for (const sub of ['ns', 'plugins', 'etc-docker', 'cg', 'logs']) {
      mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });
    }
    writeFileSync(join(dir, 'ns', 'mnt'), '');
    writeFileSync(join(dir, 'ns', 'uts'), '');
    // In the new mount namespace (a slave of the root one, which is private here): /sys becomes a
    // sysfs of the host's netns (dockerd reads its interfaces there) with the cgroup tree kept,
    // /run a private tmpfs, then the host's plugin dir and /etc/docker bound in.
    const script = [
      'set -e',
      `hostname "$1"`,
      `mount --rbind ${CGROUP_ROOT} "$2/cg"`,
      'mount -t sysfs sysfs /sys',
      `mount --move "$2/cg" ${CGROUP_ROOT}`,
      'mount -t tmpfs -o mode=755,size=64m tmpfs /run',
      'mkdir -p /run/docker/plugins /run/lock',
      'mount --bind "$2/plugins" /run/docker/plugins',
      '[ -d /etc/docker ] && mount --bind "$2/etc-docker" /etc/docker || true',
    ].join('\n');
    await runBounded([
      'nsenter',
      `--net=/run/netns/${this.net.netnsName(host)}`,
      '--',
      'unshare',
      `--mount=${dir}/ns/mnt`,
      `--uts=${dir}/ns/uts`,
      '--propagation',
      'slave',
      'sh',
      '-c',
      script,
      'sh',
      host,
      dir,
    ]);
  }

  #runningDockerHosts(): string[] {
    return this.dockerHosts.filter((h) => this.#dockerds.get(h)?.running === true);
  }

  #check(host: string): void {
    if (!this.hosts.includes(host)) {
      throw new Error(`no host ${host} in lab ${this.prefix} (have: ${this.hosts.join(', ')})`);
    }
  }
}

/**
 * Writes a busybox-static root filesystem tarball (for `importImage`): /bin/busybox with the
 * applets tests use linked to it, and empty /data, /tmp, /proc, /sys, /dev and /etc. Returns the
 * tarball's path. No registry, no network.
 */
export async function busyboxRootfs(dir: string, busybox = '/bin/busybox'): Promise<string> {
  const rootfs = join(dir, 'busybox-rootfs');
  const tarball = join(dir, 'busybox-rootfs.tar');
  rmSync(rootfs, { recursive: true, force: true });
  for (const sub of ['bin', 'data', 'tmp', 'proc', 'sys', 'dev', 'etc']) {
    mkdirSync(join(rootfs, sub), { recursive: true });
  }
  copyFileSync(busybox, join(rootfs, 'bin', 'busybox'));
  chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
  const applets = ['sh', 'cat', 'echo', 'sleep', 'ls', 'sync', 'dd', 'md5sum', 'grep', 'wc'];
  for (const applet of [...applets, 'touch', 'date', 'hostname', 'nc', 'tail', 'head', 'true']) {
    symlinkSync('busybox', join(rootfs, 'bin', applet));
  }
  await runBounded(['tar', '-C', rootfs, '-cf', tarball, '.']);
  rmSync(rootfs, { recursive: true, force: true });
  return tarball;
}

function opt(input: string | Buffer | undefined): { input?: string | Buffer } {
  return input === undefined ? {} : { input };
}

function cgroupName(prefix: string, host: string): string {
  return `ballast-hostlab-${prefix}-${host}`;
}

// ---- finding and killing a host's processes ----

/** `dev:ino` of a namespace file, undefined when it is not there. */
function nsId(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * Every process of `host`: those in its network or mount namespace, those in its container cgroup,
 * and their descendants (a shim's children live in namespaces of their own).
 */
function hostProcesses(prefix: string, dir: string, host: string): Set<number> {
  const nsIds = new Set<string>();
  for (const path of [join(dir, host, 'ns', 'mnt'), `/run/netns/${prefix}-${host}`]) {
    const id = nsId(path);
    // An empty regular file (no namespace bound on it) has an inode of its own on the disk.
    if (id !== undefined && isNamespaceFile(path)) nsIds.add(id);
  }
  const tag = `/${cgroupName(prefix, host)}`;
  const parents = new Map<number, number>();
  const found = new Set<number>();
  for (const entry of safeReaddir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const stat = readText(`/proc/${pid}/stat`);
    if (stat === undefined) continue;
    parents.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    const mine =
      nsIds.has(nsId(`/proc/${pid}/ns/net`) ?? '') ||
      nsIds.has(nsId(`/proc/${pid}/ns/mnt`) ?? '') ||
      (readText(`/proc/${pid}/cgroup`) ?? '')
        .split('\n')
        .some((l) => l.includes(`${tag}/`) || l.endsWith(tag));
    if (mine) found.add(pid);
  }
  // Descendants, to a fixed point (bounded by the number of processes).
  for (let round = 0; round < parents.size; round++) {
    let grew = false;
    for (const [pid, ppid] of parents) {
      if (!found.has(pid) && found.has(ppid)) {
        found.add(pid);
        grew = true;
      }
    }
    if (!grew) break;
  }
  return found;
}

function isNamespaceFile(path: string): boolean {
  try {
    // nsfs inodes live on a device of their own; a bare file is on the disk of its directory.
    return statSync(path).dev !== statSync(join(path, '..')).dev;
  } catch {
    return false;
  }
}

function signalAll(pids: Iterable<number>, sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // gone already
    }
  }
}

/** SIGSTOP (so nothing forks or restarts a child meanwhile), SIGKILL, wait. Returns how many. */
async function killHostProcesses(prefix: string, dir: string, host: string): Promise<number> {
  const all = new Set<number>();
  for (let round = 0; round < 5; round++) {
    const now = hostProcesses(prefix, dir, host);
    const fresh = [...now].filter((p) => !all.has(p));
    if (fresh.length === 0) break;
    signalAll(fresh, 'SIGSTOP');
    for (const p of fresh) all.add(p);
  }
  signalAll(all, 'SIGKILL');
  const deadline = Date.now() + KILL_WAIT_MS;
  for (;;) {
    const left = [...hostProcesses(prefix, dir, host)];
    if (left.length === 0) break;
    if (Date.now() > deadline) {
      throw new Error(`host ${host}: processes still alive after SIGKILL: ${left.join(', ')}`);
    }
    signalAll(left, 'SIGKILL');
    await sleep(50);
  }
  return all.size;
}

/** Loop devices whose backing file is under `dir` (as losetup names them). */
function loopsUnder(dir: string): string[] {
  const found: string[] = [];
  for (const entry of safeReaddir('/sys/block')) {
    if (!entry.startsWith('loop')) continue;
    const backing = readText(`/sys/block/${entry}/loop/backing_file`)?.trim();
    if (backing !== undefined && backing.startsWith(`${dir}/`)) found.push(`/dev/${entry}`);
  }
  return found;
}

/** Mount points under `dir` in this (the root) mount namespace, deepest first. */
function mountsUnder(dir: string): string[] {
  const points = (readText('/proc/self/mountinfo') ?? '')
    .split('\n')
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\040/g, ' '))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return points.sort((a, b) => b.length - a.length);
}

/** Removes cgroup `name` and its children in every hierarchy (empty ones only, as rmdir does). */
function removeCgroups(name: string): void {
  for (const hierarchy of safeReaddir(CGROUP_ROOT)) {
    const top = join(CGROUP_ROOT, hierarchy, name);
    if (existsSync(top)) removeCgroupDir(top, 0);
  }
}

function removeCgroupDir(path: string, depth: number): void {
  if (depth > 8) return;
  for (const entry of safeReaddir(path)) {
    const sub = join(path, entry);
    try {
      if (statSync(sub).isDirectory()) removeCgroupDir(sub, depth + 1);
    } catch {
      // gone meanwhile
    }
  }
  try {
    rmdirSync(path);
  } catch {
    // a process is still in it, or it went already: the caller checks what is left
  }
}

/** Processes are gone: loop devices, the namespace files' mounts and the cgroups go now. */
async function dropHostNamespaces(prefix: string, dir: string, host: string): Promise<void> {
  const hostDir = join(dir, host);
  for (const loop of loopsUnder(hostDir)) {
    await runBounded(['losetup', '-d', loop]).catch(() => undefined);
  }
  for (const point of mountsUnder(hostDir)) {
    await runBounded(['umount', point]).catch(() =>
      runBounded(['umount', '-l', point]).catch(() => undefined),
    );
  }
  removeCgroups(cgroupName(prefix, host));
}

/** Everything of a lab but its NetLab. Never throws. */
async function teardownRecord(record: HostLabRecord): Promise<void> {
  for (const host of record.hosts) {
    try {
      await killHostProcesses(record.prefix, record.dir, host);
    } catch (err) {
      process.emitWarning(`HostLab ${record.prefix}: ${String(err)}`);
    }
    await dropHostNamespaces(record.prefix, record.dir, host).catch(() => undefined);
  }
  // Loop devices whose file was reached through a mount that is gone read as a bare name: none
  // can be matched then, which is why they are detached before the namespaces go.
  for (const point of mountsUnder(record.dir)) {
    await runBounded(['umount', '-l', point]).catch(() => undefined);
  }
  const mountsLeft = mountsUnder(record.dir);
  const cgroupsLeft = labCgroups(record.prefix);
  if (mountsLeft.length === 0) rmSync(record.dir, { recursive: true, force: true });
  if (mountsLeft.length + cgroupsLeft.length > 0) {
    // The record stays, so that removeStale tries again.
    process.emitWarning(
      `HostLab ${record.prefix}: left ${[...mountsLeft, ...cgroupsLeft].join(', ')}`,
    );
    return;
  }
  rmSync(recordPath(record.prefix), { force: true });
}

/** The same, synchronously and best effort, for the exit hook. */
function teardownSync(record: HostLabRecord): void {
  for (const host of record.hosts) {
    const pids = hostProcesses(record.prefix, record.dir, host);
    signalAll(pids, 'SIGSTOP');
    signalAll(hostProcesses(record.prefix, record.dir, host), 'SIGKILL');
    signalAll(pids, 'SIGKILL');
  }
  const bounded = { stdio: 'ignore' as const, timeout: 5_000 };
  for (const host of record.hosts) {
    for (const loop of loopsUnder(join(record.dir, host)))
      spawnSync('losetup', ['-d', loop], bounded);
  }
  for (const point of mountsUnder(record.dir)) spawnSync('umount', ['-l', point], bounded);
  // A cgroup can go only once its killed processes are reaped: wait for that, at most 3 s.
  const alive = (): boolean =>
    record.hosts.some((h) => hostProcesses(record.prefix, record.dir, h).size > 0);
  for (let i = 0; i < 60 && alive(); i++) sleepSync(50);
  for (const host of record.hosts) removeCgroups(cgroupName(record.prefix, host));
  // Anything left keeps the record, so that removeStale tries again.
  if (mountsUnder(record.dir).length === 0 && labCgroups(record.prefix).length === 0) {
    rmSync(record.dir, { recursive: true, force: true });
    rmSync(recordPath(record.prefix), { force: true });
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** `hierarchy/name` of every cgroup of lab `prefix` still there (any host). */
function labCgroups(prefix: string): string[] {
  const found: string[] = [];
  for (const hierarchy of safeReaddir(CGROUP_ROOT)) {
    for (const name of safeReaddir(join(CGROUP_ROOT, hierarchy))) {
      if (name.startsWith(`ballast-hostlab-${prefix}-`)) found.push(`${hierarchy}/${name}`);
    }
  }
  return found;
}

// ---- records ----

function recordPath(prefix: string): string {
  return join(HOST_LAB_STATE_DIR, `${prefix}.json`);
}

function writeRecord(record: HostLabRecord): void {
  const tmp = `${recordPath(record.prefix)}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(record) + '\n');
  renameSync(tmp, recordPath(record.prefix));
}

function readJson(path: string): HostLabRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as HostLabRecord;
    const valid =
      typeof r.prefix === 'string' &&
      /^[a-z][a-z0-9]{1,9}$/.test(r.prefix) &&
      typeof r.pid === 'number' &&
      r.dir === `/tmp/bhl-${r.prefix}` &&
      Array.isArray(r.hosts);
    return valid ? r : undefined;
  } catch {
    return undefined;
  }
}

const liveLabs = new Set<HostLabRecord>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // NetLab's hook (installed first) removes the namespaces; this one the rest. Both run on exit.
  process.on('exit', () => {
    for (const record of liveLabs) teardownSync(record);
  });
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
