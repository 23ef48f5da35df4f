import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createDevCertificates } from '@ballast/common';
import {
  ManagedProcess,
  NetLab,
  ballastdProcess,
  freePort,
  isAlive,
  sleep,
  type Role,
} from '@ballast/testkit';
import { CliError, ExitCode, caDispatcher } from '../client.js';

/**
 * `cluster.json`, the contract between `ballast dev up` and scripts/tests (documented in the
 * README): every process with its id, role, pid, command line and endpoints, plus the admin token.
 */
export interface ClusterFile {
  version: 1;
  dir: string;
  /** The admin token: every API route. */
  token: string;
  /**
   * The cluster join token nodes and agents use: reads, registration, heartbeats, volumes (the
   * table in packages/meta/README.md). Absent in older files: nodes and agents used `token`.
   */
  joinToken?: string;
  /** With `dev up --tls`: the CA certificate (PEM) that signed the members' certificate. */
  ca?: string;
  /** Data-plane cluster id and secret shared by nodes and agents (absent in older files). */
  clusterId?: string;
  dataPlaneSecret?: string;
  /**
   * With `dev up --netns`: every process runs in a network namespace of its own (the lab), so
   * `ballast dev partition|heal|lossy|slow` can cut and degrade the links between them.
   */
  lab?: { prefix: string; rootAddress: string };
  meta: Array<ProcessEntry & { api: string; metrics: string }>;
  nodes: Array<ProcessEntry & { address?: string; metrics: string }>;
  agents: Array<
    ProcessEntry & {
      /** The agent's host id (the attachment holder in the map). */
      host?: string;
      pluginSocket: string;
      /** The agent's admin socket (`ballast volume attach|detach`). */
      adminSocket?: string;
      stateDir?: string;
      runDir?: string;
      mountRoot?: string;
      metrics: string;
      /** The id of the storage node the agent runs in its own process (`--embed-node`). */
      embeddedNode?: string;
    }
  >;
}

export interface ProcessEntry {
  id: string;
  role: Role;
  pid: number;
  args: string[];
  logFile: string;
  /** Environment this process gets on top of the cluster's (e.g. a fake clock). */
  env?: Record<string, string>;
  /** With a lab: the network namespace the process runs in (its lab host's). */
  netns?: string;
}

export interface DevClusterOptions {
  dir: string;
  /** Metadata members: 1, 3 or 5. */
  meta: number;
  /** Storage nodes: 0 to 32. */
  nodes: number;
  agent?: boolean;
  /** The agent also runs a storage node in its own process. */
  embedNode?: boolean;
  pluginSocket?: string;
  tls?: boolean;
  /** Every process in a network namespace of its own (root only). */
  netns?: boolean;
  /**
   * The namespaces outlive the process that starts the cluster (default, for `dev up`); false
   * ties them to it (a test harness: they go when it exits, or with NetLab.removeStale).
   */
  labPersistent?: boolean;
  /** Extra environment for one process (kept in cluster.json, so restarts keep it). */
  processEnv?: (id: string, role: Role) => Record<string, string> | undefined;
  /** A storage node's data directory (default DIR/<id>). */
  nodeDataDir?: (id: string) => string | undefined;
  /** Extra flags for every process of a role. */
  extraArgs?: Partial<Record<Role, readonly string[]>>;
}

/** Fixed ports inside a lab: every process has an address of its own there. */
const LAB_META_PORT = 7000;
const LAB_NODE_PORT = 7100;

export function clusterPath(dir: string): string {
  return join(dir, 'cluster.json');
}

export function readClusterFile(dir: string): ClusterFile {
  const path = clusterPath(dir);
  if (!existsSync(path)) {
    throw new CliError(
      `no cluster in ${dir} (${path} missing)`,
      ExitCode.NOT_FOUND,
      'start one with `ballast dev up --dir DIR`',
    );
  }
  return JSON.parse(readFileSync(path, 'utf8')) as ClusterFile;
}

export function writeClusterFile(file: ClusterFile): void {
  const path = clusterPath(file.dir);
  writeFileSync(path, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
  chmodSync(path, 0o600);
}

export function clusterEntries(file: ClusterFile): ProcessEntry[] {
  return [...file.meta, ...file.nodes, ...file.agents];
}

/** True when `pid` is alive and is a ballastd process (pids are reused after a reboot). */
export function isOurProcess(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('ballastd');
  } catch {
    return true;
  }
}

/** Whether the process is stopped by a signal (SIGSTOP, `dev pause`): state T in /proc. */
export function isPaused(pid: number): boolean {
  try {
    // The state follows the command name, which is in parentheses and may hold spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'T';
  } catch {
    return false;
  }
}

/**
 * Secrets travel through the environment, never argv (which any local user can read in /proc):
 * meta members get the admin token and the join token they accept, nodes and agents the join
 * token (as BALLAST_JOIN_TOKEN and BALLAST_TOKEN, so that neither inherits another cluster's
 * token from the caller's environment), and the data-plane cluster id and secret. With TLS,
 * nodes and agents trust the cluster's CA through NODE_EXTRA_CA_CERTS (Node reads it at
 * start-up; it covers their fetch and websocket clients, which have no CA setting of their own).
 */
function envFor(file: ClusterFile, entry: ProcessEntry): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const role = entry.role;
  if (file.clusterId !== undefined) env.BALLAST_CLUSTER_ID = file.clusterId;
  const joinToken = file.joinToken ?? file.token;
  if (role === 'meta') {
    env.BALLAST_TOKEN = file.token;
    if (file.joinToken !== undefined) env.BALLAST_JOIN_TOKEN = file.joinToken;
  } else {
    env.BALLAST_JOIN_TOKEN = joinToken;
    env.BALLAST_TOKEN = joinToken;
  }
  // Meta members trust it through --tls-ca (in their args).
  if (file.ca !== undefined && role !== 'meta') env.NODE_EXTRA_CA_CERTS = file.ca;
  if (role !== 'meta' && file.dataPlaneSecret !== undefined) {
    env.BALLAST_DATA_PLANE_SECRET = file.dataPlaneSecret;
  }
  return { ...env, ...entry.env };
}

/** The process of a cluster entry, ready to start (in its namespace, with its environment). */
export function devProcess(file: ClusterFile, entry: ProcessEntry): ManagedProcess {
  return ballastdProcess({
    role: entry.role,
    id: entry.id,
    args: entry.args,
    logFile: entry.logFile,
    detached: true,
    env: envFor(file, entry),
    ...(entry.netns !== undefined
      ? { prefix: ['nsenter', `--net=/run/netns/${entry.netns}`, '--'] }
      : {}),
  });
}

/** The lab of a cluster file (its namespaces outlive the `dev up` process that made them). */
export async function openLab(file: ClusterFile): Promise<NetLab> {
  if (file.lab === undefined) {
    throw new CliError(
      `the cluster in ${file.dir} runs without network namespaces`,
      ExitCode.CONFLICT,
      'start it with `ballast dev up --netns` (as root) to cut and degrade links',
    );
  }
  return NetLab.open(file.lab.prefix);
}

/** Waits until meta lists every node as up (they register in the background after `ready`). */
export async function waitForNodes(
  file: ClusterFile,
  timeoutMs: number,
  also: readonly string[] = [],
): Promise<void> {
  const want = [...file.nodes.map((n) => n.id), ...also];
  if (want.length === 0) return;
  const deadline = Date.now() + timeoutMs;
  const dispatcher = file.ca === undefined ? undefined : caDispatcher(file.ca);
  let last = 'no answer yet';
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    const meta = file.meta[attempt % file.meta.length]!;
    try {
      const response = await fetch(`${meta.api}/v1/nodes?limit=1000`, {
        headers: { authorization: `Bearer ${file.token}` },
        signal: AbortSignal.timeout(5_000),
        ...(dispatcher === undefined ? {} : ({ dispatcher } as object)),
      });
      const body = (await response.json()) as { items?: Array<{ id: string; state: string }> };
      const up = new Set((body.items ?? []).filter((n) => n.state === 'up').map((n) => n.id));
      const missing = want.filter((id) => !up.has(id));
      if (missing.length === 0) return;
      last = `not registered and up yet: ${missing.join(', ')}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`storage nodes did not register with meta within ${timeoutMs} ms (${last})`);
}

function checkOptions(opts: DevClusterOptions): void {
  if (![1, 3, 5].includes(opts.meta)) {
    throw new CliError('--meta must be 1, 3 or 5', ExitCode.USAGE);
  }
  if (!Number.isInteger(opts.nodes) || opts.nodes < 0 || opts.nodes > 32) {
    throw new CliError('--nodes must be a whole number from 0 to 32', ExitCode.USAGE);
  }
  if (opts.embedNode && !opts.agent) {
    throw new CliError('--embed-node needs --agent', ExitCode.USAGE);
  }
  if (opts.netns && process.getuid?.() !== 0) {
    throw new CliError('--netns needs root (it creates network namespaces)', ExitCode.USAGE);
  }
  if (opts.netns && opts.tls) {
    // The dev certificate names loopback only; lab addresses would fail verification.
    throw new CliError('--netns and --tls cannot be combined yet', ExitCode.USAGE);
  }
}

/**
 * Starts a new local cluster in `opts.dir` and writes its cluster.json: meta members first (their
 * peers must know each other's addresses up front), then storage nodes (waited for until meta
 * lists them up), then the agent. Everything it started is stopped again if a step fails.
 */
export async function startDevCluster(opts: DevClusterOptions): Promise<ClusterFile> {
  checkOptions(opts);
  const dir = resolve(opts.dir);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  // Made once per directory and kept: restarted members keep their certificate.
  const certs = opts.tls ? createDevCertificates(join(dir, 'tls')) : undefined;
  const nodeIds = Array.from({ length: opts.nodes }, (_, i) => `n${i + 1}`);
  const metaIds = Array.from({ length: opts.meta }, (_, i) => `m${i + 1}`);
  const lab = opts.netns
    ? await NetLab.create({
        hosts: [...metaIds, ...nodeIds, ...(opts.agent ? ['agent'] : [])],
        // The namespaces outlive `dev up`: the processes in them are detached.
        persistent: opts.labPersistent ?? true,
      })
    : undefined;
  const file: ClusterFile = {
    version: 1,
    dir,
    token: randomBytes(24).toString('hex'),
    joinToken: randomBytes(24).toString('hex'),
    ...(certs ? { ca: certs.caFile } : {}),
    clusterId: `dev-${randomBytes(4).toString('hex')}`,
    dataPlaneSecret: randomBytes(32).toString('hex'),
    ...(lab ? { lab: { prefix: lab.prefix, rootAddress: lab.rootAddress } } : {}),
    meta: [],
    nodes: [],
    agents: [],
  };
  const entry = (id: string, role: Role, args: string[]): ProcessEntry => {
    const env = opts.processEnv?.(id, role);
    return {
      id,
      role,
      pid: 0,
      args: [...args, ...(opts.extraArgs?.[role] ?? [])],
      logFile: join(dir, 'logs', `${id}.log`),
      ...(env !== undefined && Object.keys(env).length > 0 ? { env } : {}),
      ...(lab ? { netns: lab.netnsName(id) } : {}),
    };
  };
  /** host:port for a listener of process `id` (in the lab: its own address and a fixed port). */
  const listen = async (id: string, labPort: number): Promise<string> =>
    lab ? `${lab.address(id)}:${labPort}` : `127.0.0.1:${await freePort()}`;
  const opsListen = (id: string): string[] => (lab ? ['--ops-listen', `${lab.address(id)}:0`] : []);

  const started: ManagedProcess[] = [];
  try {
    const scheme = certs ? 'https' : 'http';
    const metaListen = await Promise.all(metaIds.map((id) => listen(id, LAB_META_PORT)));
    const peers = metaIds.map((id, i) => `${id}=${scheme}://${metaListen[i]}`).join(',');
    const tlsArgs = certs
      ? ['--tls-cert', certs.certFile, '--tls-key', certs.keyFile, '--tls-ca', certs.caFile]
      : [];
    const metaEntries = metaIds.map((id, i) =>
      entry(id, 'meta', [
        '--id',
        id,
        '--data-dir',
        join(dir, id),
        '--listen',
        metaListen[i]!,
        '--peers',
        peers,
        ...tlsArgs,
      ]),
    );
    file.meta = await Promise.all(
      metaEntries.map(async (e) => {
        const proc = devProcess(file, e);
        started.push(proc);
        const ep = (await proc.start()) as Record<string, string>;
        return { ...e, pid: proc.pid!, api: ep.api!, metrics: ep.metrics! };
      }),
    );
    const metaUrls = file.meta.map((m) => m.api).join(',');

    // Fixed data-plane addresses: a restarted node keeps its address in the map.
    for (const [i, id] of nodeIds.entries()) {
      const zone = `zone-${String.fromCharCode(97 + (i % 3))}`;
      const e = entry(id, 'node', [
        '--id',
        id,
        '--data-dir',
        opts.nodeDataDir?.(id) ?? join(dir, id),
        '--listen',
        await listen(id, LAB_NODE_PORT),
        ...opsListen(id),
        '--meta',
        metaUrls,
        '--labels',
        `zone=${zone},host=${id}`,
        // With --tls the data plane is TLS too (the same loopback certificate; peers verify it).
        ...(certs
          ? [
              '--data-plane-tls-cert',
              certs.certFile,
              '--data-plane-tls-key',
              certs.keyFile,
              '--data-plane-tls-ca',
              certs.caFile,
            ]
          : []),
      ]);
      const proc = devProcess(file, e);
      started.push(proc);
      const ep = (await proc.start()) as Record<string, string>;
      file.nodes.push({
        ...e,
        pid: proc.pid!,
        ...(ep.dataPlane ? { address: ep.dataPlane } : {}),
        metrics: ep.metrics!,
      });
    }
    await waitForNodes(file, 30_000);

    if (opts.agent) {
      // The agent's host id matches no node's `host` label (n1..nN): every node of a dev cluster
      // runs on this machine, but they stand for other hosts, so read locality does not apply.
      const host = 'host1';
      const pluginSocket =
        opts.pluginSocket !== undefined
          ? resolve(opts.pluginSocket)
          : process.getuid?.() === 0
            ? '/run/docker/plugins/ballast.sock'
            : join(dir, 'agent', 'ballast.sock');
      const stateDir = join(dir, 'agent');
      const runDir = join(dir, 'agent', 'run');
      // With --embed-node the agent also runs a storage node (id host1, host label host1): its
      // engines reach that node's replicas in process and read from them first.
      const embedded = opts.embedNode
        ? [
            '--node-data-dir',
            opts.nodeDataDir?.(host) ?? join(dir, 'agent-node'),
            '--node-listen',
            await listen('agent', LAB_NODE_PORT),
            ...(lab ? ['--node-ops-listen', `${lab.address('agent')}:0`] : []),
            '--node-labels',
            `zone=zone-${String.fromCharCode(97 + (opts.nodes % 3))}`,
            ...(certs
              ? [
                  '--node-data-plane-tls-cert',
                  certs.certFile,
                  '--node-data-plane-tls-key',
                  certs.keyFile,
                ]
              : []),
          ]
        : [];
      const e = entry('agent', 'agent', [
        '--id',
        host,
        '--state-dir',
        stateDir,
        '--run-dir',
        runDir,
        '--plugin-socket',
        pluginSocket,
        ...opsListen('agent'),
        '--meta',
        metaUrls,
        ...(certs ? ['--data-plane-tls-ca', certs.caFile] : []),
        ...embedded,
      ]);
      const proc = devProcess(file, e);
      started.push(proc);
      const ep = (await proc.start()) as Record<string, string>;
      file.agents.push({
        ...e,
        pid: proc.pid!,
        host,
        pluginSocket,
        adminSocket: ep.admin ?? join(stateDir, 'agent.sock'),
        stateDir,
        runDir,
        mountRoot: join(stateDir, 'mounts'),
        metrics: ep.metrics!,
        ...(opts.embedNode ? { embeddedNode: host } : {}),
      });
      if (opts.embedNode) await waitForNodes(file, 30_000, [host]);
    }
  } catch (err) {
    for (const p of started) await p.stop(3_000).catch(() => undefined);
    await lab?.destroy();
    throw new CliError(
      `dev cluster failed to start: ${(err as Error).message}`,
      ExitCode.FAILURE,
      `logs are in ${join(dir, 'logs')}`,
    );
  }
  writeClusterFile(file);
  return file;
}

/**
 * Starts the processes of an existing cluster again (after `dev down` or a reboot), with the
 * data, addresses and secrets they had: meta members first, then nodes, then agents.
 */
export async function resumeDevCluster(dir: string): Promise<ClusterFile> {
  const file = readClusterFile(resolve(dir));
  if (clusterEntries(file).some((e) => isOurProcess(e.pid))) {
    throw new CliError(
      `a cluster is already running in ${file.dir}`,
      ExitCode.CONFLICT,
      'stop it with `ballast dev down --dir DIR` first',
    );
  }
  if (file.lab !== undefined && !(await NetLab.exists(file.lab.prefix))) {
    throw new CliError(
      `the network namespaces of the cluster in ${file.dir} are gone (a reboot?)`,
      ExitCode.CONFLICT,
      'remove it with `ballast dev down --purge --dir DIR` and start a new one',
    );
  }
  const start = async (e: ProcessEntry): Promise<void> => {
    const proc = devProcess(file, e);
    await proc.start();
    e.pid = proc.pid!;
  };
  await Promise.all(file.meta.map(start));
  for (const n of file.nodes) await start(n);
  await waitForNodes(file, 60_000);
  for (const a of file.agents) await start(a);
  writeClusterFile(file);
  return file;
}

/**
 * Stops every process of the cluster (SIGTERM, then SIGKILL after 15 s) and answers how many
 * were running. With `purge` the namespaces and the whole directory go too.
 */
export async function stopDevCluster(dir: string, opts: { purge?: boolean } = {}): Promise<number> {
  const file = readClusterFile(resolve(dir));
  const alive = clusterEntries(file).filter((e) => isOurProcess(e.pid));
  for (const e of alive) {
    try {
      process.kill(e.pid, 'SIGCONT');
      process.kill(e.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 15_000;
  while (alive.some((e) => isOurProcess(e.pid)) && Date.now() < deadline) await sleep(100);
  const stuck = alive.filter((x) => isOurProcess(x.pid));
  for (const e of stuck) {
    try {
      process.kill(e.pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  // SIGKILL is asynchronous: report only once they are gone (bounded).
  const killDeadline = Date.now() + 5_000;
  while (stuck.some((e) => isOurProcess(e.pid)) && Date.now() < killDeadline) await sleep(50);
  if (opts.purge) {
    if (file.lab !== undefined) await (await NetLab.open(file.lab.prefix)).destroy();
    rmSync(file.dir, { recursive: true, force: true });
  }
  return alive.length;
}
