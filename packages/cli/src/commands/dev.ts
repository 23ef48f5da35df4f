import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { createDevCertificates } from '@ballast/common';
import {
  ManagedProcess,
  ballastdProcess,
  freePort,
  isAlive,
  sleep,
  type Role,
} from '@ballast/testkit';
import { CliError, ExitCode, caDispatcher } from '../client.js';
import { printJson, printTable } from '../output.js';

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

interface ProcessEntry {
  id: string;
  role: Role;
  pid: number;
  args: string[];
  logFile: string;
}

function clusterPath(dir: string): string {
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

function writeClusterFile(file: ClusterFile): void {
  const path = clusterPath(file.dir);
  writeFileSync(path, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
  chmodSync(path, 0o600);
}

function entries(file: ClusterFile): ProcessEntry[] {
  return [...file.meta, ...file.nodes, ...file.agents];
}

/** True when `pid` is alive and is a ballastd process (pids are reused after a reboot). */
function isOurProcess(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('ballastd');
  } catch {
    return true;
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
function envFor(file: ClusterFile, role: Role): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
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
  return env;
}

function processFor(file: ClusterFile, entry: ProcessEntry): ManagedProcess {
  return ballastdProcess({
    role: entry.role,
    id: entry.id,
    args: entry.args,
    logFile: entry.logFile,
    detached: true,
    env: envFor(file, entry.role),
  });
}

/** Waits until meta lists every node as up (they register in the background after `ready`). */
async function waitForNodes(
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

interface UpOptions {
  dir: string;
  meta: string;
  nodes: string;
  agent?: boolean;
  embedNode?: boolean;
  pluginSocket?: string;
  tls?: boolean;
  json?: boolean;
}

async function up(opts: UpOptions): Promise<void> {
  const dir = resolve(opts.dir);
  const metaCount = Number(opts.meta);
  const nodeCount = Number(opts.nodes);
  if (![1, 3, 5].includes(metaCount))
    throw new CliError('--meta must be 1, 3 or 5', ExitCode.USAGE);
  if (!Number.isInteger(nodeCount) || nodeCount < 0 || nodeCount > 32) {
    throw new CliError('--nodes must be a whole number from 0 to 32', ExitCode.USAGE);
  }
  if (opts.embedNode && !opts.agent) {
    throw new CliError('--embed-node needs --agent', ExitCode.USAGE);
  }
  if (existsSync(clusterPath(dir))) {
    const old = readClusterFile(dir);
    if (entries(old).some((e) => isOurProcess(e.pid))) {
      throw new CliError(
        `a cluster is already running in ${dir}`,
        ExitCode.CONFLICT,
        'stop it with `ballast dev down --dir DIR` first',
      );
    }
  }
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const token = randomBytes(24).toString('hex');
  // Made once per directory and kept: restarted members keep their certificate.
  const certs = opts.tls ? createDevCertificates(join(dir, 'tls')) : undefined;
  const file: ClusterFile = {
    version: 1,
    dir,
    token,
    joinToken: randomBytes(24).toString('hex'),
    ...(certs ? { ca: certs.caFile } : {}),
    clusterId: `dev-${randomBytes(4).toString('hex')}`,
    dataPlaneSecret: randomBytes(32).toString('hex'),
    meta: [],
    nodes: [],
    agents: [],
  };

  const metaPorts = await Promise.all(Array.from({ length: metaCount }, () => freePort()));
  const scheme = certs ? 'https' : 'http';
  const peers = metaPorts.map((p, i) => `m${i + 1}=${scheme}://127.0.0.1:${p}`).join(',');
  const tlsArgs = certs
    ? ['--tls-cert', certs.certFile, '--tls-key', certs.keyFile, '--tls-ca', certs.caFile]
    : [];
  const started: ManagedProcess[] = [];
  try {
    const metaProcs = metaPorts.map((port, i) => {
      const id = `m${i + 1}`;
      const args = [
        '--id',
        id,
        '--data-dir',
        join(dir, id),
        '--listen',
        `127.0.0.1:${port}`,
        '--peers',
        peers,
        ...tlsArgs,
      ];
      const entry = {
        id,
        role: 'meta' as const,
        pid: 0,
        args,
        logFile: join(dir, 'logs', `${id}.log`),
      };
      return { entry, proc: processFor(file, entry) };
    });
    const metaReady = await Promise.all(
      metaProcs.map(async ({ entry, proc }) => {
        started.push(proc);
        const ep = (await proc.start()) as Record<string, string>;
        return { ...entry, pid: proc.pid!, api: ep.api!, metrics: ep.metrics! };
      }),
    );
    file.meta = metaReady;
    const metaUrls = file.meta.map((m) => m.api).join(',');

    // Fixed data-plane ports: a restarted node keeps its address in the map.
    const nodePorts = await Promise.all(Array.from({ length: nodeCount }, () => freePort()));
    for (let i = 0; i < nodeCount; i++) {
      const id = `n${i + 1}`;
      const zone = `zone-${String.fromCharCode(97 + (i % 3))}`;
      const args = [
        '--id',
        id,
        '--data-dir',
        join(dir, id),
        '--listen',
        `127.0.0.1:${nodePorts[i]}`,
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
      ];
      const entry = {
        id,
        role: 'node' as const,
        pid: 0,
        args,
        logFile: join(dir, 'logs', `${id}.log`),
      };
      const proc = processFor(file, entry);
      started.push(proc);
      const ep = (await proc.start()) as Record<string, string>;
      file.nodes.push({
        ...entry,
        pid: proc.pid!,
        ...(ep.dataPlane ? { address: ep.dataPlane } : {}),
        metrics: ep.metrics!,
      });
    }

    await waitForNodes(file, 30_000);

    if (opts.agent) {
      const id = 'agent';
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
            join(dir, 'agent-node'),
            '--node-listen',
            `127.0.0.1:${await freePort()}`,
            '--node-labels',
            `zone=zone-${String.fromCharCode(97 + (nodeCount % 3))}`,
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
      const args = [
        '--id',
        host,
        '--state-dir',
        stateDir,
        '--run-dir',
        runDir,
        '--plugin-socket',
        pluginSocket,
        '--meta',
        metaUrls,
        ...(certs ? ['--data-plane-tls-ca', certs.caFile] : []),
        ...embedded,
      ];
      const entry = {
        id,
        role: 'agent' as const,
        pid: 0,
        args,
        logFile: join(dir, 'logs', `${id}.log`),
      };
      const proc = processFor(file, entry);
      started.push(proc);
      const ep = (await proc.start()) as Record<string, string>;
      file.agents.push({
        ...entry,
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
    throw new CliError(
      `dev cluster failed to start: ${(err as Error).message}`,
      ExitCode.FAILURE,
      `logs are in ${join(dir, 'logs')}`,
    );
  }
  writeClusterFile(file);
  if (opts.json) {
    printJson(file);
    return;
  }
  printStatus(file);
  process.stdout.write(
    `\nCluster file: ${clusterPath(dir)} (holds the admin token, the join token and the data-plane secret; mode 0600)\n` +
      (file.ca
        ? `TLS:          https, wss and a TLS data plane; the CA is ${file.ca} (ballast --ca, or BALLAST_CA)\n`
        : '') +
      `Use it:       export BALLAST_CLUSTER=${clusterPath(dir)}; ballast cluster status\n` +
      `Stop it:      ballast dev down --dir ${dir}\n`,
  );
}

function printStatus(file: ClusterFile): void {
  printTable(
    ['ID', 'ROLE', 'PID', 'STATE', 'ENDPOINT'],
    entries(file).map((e) => {
      const endpoint =
        'api' in e
          ? String(e.api)
          : 'pluginSocket' in e
            ? String(e.pluginSocket)
            : String(
                (e as { address?: string }).address ?? (e as { metrics?: string }).metrics ?? '',
              );
      return [e.id, e.role, e.pid, isOurProcess(e.pid) ? 'running' : 'stopped', endpoint];
    }),
  );
}

async function down(opts: { dir: string }): Promise<void> {
  const file = readClusterFile(resolve(opts.dir));
  const alive = entries(file).filter((e) => isOurProcess(e.pid));
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
  process.stdout.write(`stopped ${alive.length} process(es); data kept in ${file.dir}\n`);
}

function findEntry(file: ClusterFile, id: string): ProcessEntry {
  const e = entries(file).find((x) => x.id === id);
  if (!e) {
    throw new CliError(
      `no process ${id} in this cluster`,
      ExitCode.NOT_FOUND,
      `known ids: ${entries(file)
        .map((x) => x.id)
        .join(', ')}`,
    );
  }
  return e;
}

async function signalCommand(
  action: 'kill' | 'restart' | 'pause' | 'resume',
  id: string,
  opts: { dir: string },
): Promise<void> {
  const file = readClusterFile(resolve(opts.dir));
  const entry = findEntry(file, id);
  const running = isOurProcess(entry.pid);
  if (action === 'restart') {
    if (running) {
      process.kill(entry.pid, 'SIGCONT');
      process.kill(entry.pid, 'SIGKILL');
      while (isAlive(entry.pid)) await sleep(20);
    }
    const proc = processFor(file, entry);
    await proc.start();
    entry.pid = proc.pid!;
    writeClusterFile(file);
    process.stdout.write(`${id} restarted (pid ${entry.pid})\n`);
    return;
  }
  if (!running)
    throw new CliError(
      `${id} is not running`,
      ExitCode.CONFLICT,
      `start it with \`ballast dev restart --dir ${opts.dir} ${id}\``,
    );
  const sig = { kill: 'SIGKILL', pause: 'SIGSTOP', resume: 'SIGCONT' }[action] as NodeJS.Signals;
  process.kill(entry.pid, sig);
  process.stdout.write(`${id} (pid ${entry.pid}): sent ${sig}\n`);
}

export function devCommand(): Command {
  const dev = new Command('dev').description(
    'run a local cluster of real processes on loopback, and rehearse failures',
  );
  dev
    .command('up')
    .description(
      'start meta members, storage nodes and optionally an agent; write DIR/cluster.json',
    )
    .requiredOption('--dir <dir>', 'directory for data, logs and cluster.json')
    .addOption(new Option('--meta <n>', 'metadata members').choices(['1', '3', '5']).default('3'))
    .option('--nodes <n>', 'storage nodes', '3')
    .option('--agent', 'also start a host agent (as root it serves the Docker plugin socket)')
    .option(
      '--embed-node',
      'the agent also runs a storage node in its own process (one more node; its replicas are read and written without a socket)',
    )
    .option(
      '--plugin-socket <path>',
      "the agent's Docker plugin socket (default /run/docker/plugins/ballast.sock as root, else DIR/agent/ballast.sock)",
    )
    .option(
      '--tls',
      'make a private CA and a certificate in DIR/tls: the API over https, Raft over wss, the data plane over TLS (needs openssl)',
    )
    .option('--json', 'print cluster.json instead of a table')
    .action(up);
  dev
    .command('down')
    .description('stop every process of the cluster (data is kept)')
    .requiredOption('--dir <dir>')
    .action(down);
  dev
    .command('status')
    .description('show the processes of the cluster')
    .requiredOption('--dir <dir>')
    .option('--json', 'print cluster.json')
    .action((opts: { dir: string; json?: boolean }) => {
      const file = readClusterFile(resolve(opts.dir));
      if (opts.json) printJson(file);
      else printStatus(file);
    });
  for (const [name, text] of [
    ['kill', 'SIGKILL a process'],
    ['restart', 'restart a process with the same data (SIGKILL first if running)'],
    ['pause', 'SIGSTOP a process'],
    ['resume', 'SIGCONT a paused process'],
  ] as const) {
    dev
      .command(`${name} <id>`)
      .description(text)
      .requiredOption('--dir <dir>')
      .action((id: string, opts: { dir: string }) => signalCommand(name, id, opts));
  }
  return dev;
}
