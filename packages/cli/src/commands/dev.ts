import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { isAlive, sleep } from '@ballast/testkit';
import { CliError, ExitCode } from '../client.js';
import { formatTable, printJson } from '../output.js';
import {
  confirm,
  outputFormat,
  render,
  withOutputOption,
  withYesOption,
  type View,
} from './shared.js';
import {
  clusterEntries,
  clusterPath,
  devProcess,
  isOurProcess,
  isPaused,
  openLab,
  readClusterFile,
  resumeDevCluster,
  startDevCluster,
  stopDevCluster,
  writeClusterFile,
  type ClusterFile,
  type ProcessEntry,
} from './dev-cluster.js';

export { readClusterFile, type ClusterFile } from './dev-cluster.js';

interface UpOptions {
  dir: string;
  meta: string;
  nodes: string;
  agent?: boolean;
  embedNode?: boolean;
  pluginSocket?: string;
  tls?: boolean;
  netns?: boolean;
  json?: boolean;
}

async function up(opts: UpOptions): Promise<void> {
  const dir = resolve(opts.dir);
  // A directory that holds a cluster starts that cluster again, with its data and secrets.
  const file = existsSync(clusterPath(dir))
    ? await resumeDevCluster(dir)
    : await startDevCluster({
        dir,
        meta: Number(opts.meta),
        nodes: Number(opts.nodes),
        ...(opts.agent ? { agent: true } : {}),
        ...(opts.embedNode ? { embedNode: true } : {}),
        ...(opts.pluginSocket !== undefined ? { pluginSocket: opts.pluginSocket } : {}),
        ...(opts.tls ? { tls: true } : {}),
        ...(opts.netns ? { netns: true } : {}),
      });
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
      (file.lab
        ? `Network:      every process in its own network namespace (${file.lab.prefix}-*); try \`ballast dev partition --dir ${dir} n1 agent\`\n`
        : '') +
      `Use it:       export BALLAST_CLUSTER=${clusterPath(dir)}; ballast cluster status\n` +
      `Stop it:      ballast dev down --dir ${dir}   (add --purge to remove its data)\n`,
  );
}

function printStatus(file: ClusterFile): void {
  process.stdout.write(statusTable(file, false));
}

function statusTable(file: ClusterFile, wide: boolean): string {
  return formatTable(
    ['ID', 'ROLE', 'PID', 'STATE', 'ENDPOINT', ...(wide ? ['LOG'] : [])],
    clusterEntries(file).map((e) => {
      const endpoint =
        'api' in e
          ? String(e.api)
          : 'pluginSocket' in e
            ? String(e.pluginSocket)
            : String(
                (e as { address?: string }).address ?? (e as { metrics?: string }).metrics ?? '',
              );
      const state = !isOurProcess(e.pid) ? 'stopped' : isPaused(e.pid) ? 'paused' : 'running';
      return [e.id, e.role, e.pid, state, endpoint, ...(wide ? [e.logFile] : [])];
    }),
  );
}

const statusView: View<ClusterFile> = {
  kind: 'process',
  data: (file) => file,
  names: (file) => clusterEntries(file).map((e) => e.id),
  text: statusTable,
};

async function down(opts: { dir: string; purge?: boolean }, cmd: Command): Promise<void> {
  const dir = resolve(opts.dir);
  if (opts.purge) {
    await confirm(
      cmd,
      `purge ${dir}`,
      `Stop the cluster in ${dir} and delete it: data, logs and secrets?`,
    );
  }
  const stopped = await stopDevCluster(dir, { purge: opts.purge === true });
  process.stdout.write(
    opts.purge
      ? `stopped ${stopped} process(es); removed ${dir}\n`
      : `stopped ${stopped} process(es); data kept in ${dir} (\`ballast dev up --dir ${dir}\` starts it again)\n`,
  );
}

function findEntry(file: ClusterFile, id: string): ProcessEntry {
  const e = clusterEntries(file).find((x) => x.id === id);
  if (!e) {
    throw new CliError(
      `no process ${id} in this cluster`,
      ExitCode.NOT_FOUND,
      `known ids: ${clusterEntries(file)
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
    const proc = devProcess(file, entry);
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
    .option(
      '--netns',
      'run every process in a network namespace of its own (root only), so links can be cut with `dev partition`',
    )
    .option('--json', 'print cluster.json instead of a table')
    .addHelpText(
      'after',
      `
Examples:
  ballast dev up --dir /tmp/c1                    # 3 meta members, 3 storage nodes
  ballast dev up --dir /tmp/c1 --meta 1 --nodes 2 --agent
  export BALLAST_CLUSTER=/tmp/c1/cluster.json`,
    )
    .action(up);
  withYesOption(
    dev
      .command('down')
      .description('stop every process of the cluster (data is kept unless --purge)')
      .requiredOption('--dir <dir>')
      .option('--purge', 'also remove the directory: data, logs, secrets and network namespaces'),
  )
    .addHelpText(
      'after',
      `
Examples:
  ballast dev down --dir /tmp/c1                  # data kept: dev up starts it again
  ballast dev down --dir /tmp/c1 --purge --yes    # everything removed, no question`,
    )
    .action(down);
  withOutputOption(
    dev
      .command('status')
      .description('show the processes of the cluster')
      .requiredOption('--dir <dir>')
      .option('--json', 'print cluster.json (the same as -o json)'),
  ).action((opts: { dir: string }, cmd: Command) => {
    const format = outputFormat(cmd);
    const file = readClusterFile(resolve(opts.dir));
    process.stdout.write(render(statusView, file, format));
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
  dev
    .command('partition <a> <b>')
    .description(
      'cut the network between two processes (a cluster started with --netns); both ways unless --one-way',
    )
    .requiredOption('--dir <dir>')
    .option('--one-way', 'drop only what <a> sends to <b>')
    .action(async (a: string, b: string, opts: { dir: string; oneWay?: boolean }) => {
      const file = readClusterFile(resolve(opts.dir));
      findEntry(file, a);
      findEntry(file, b);
      await (await openLab(file)).partition(a, b, { oneWay: opts.oneWay === true });
      process.stdout.write(`${a} ${opts.oneWay ? '->' : '<->'} ${b}: cut\n`);
    });
  dev
    .command('isolate <id>')
    .description('cut one process from every other process of the cluster')
    .requiredOption('--dir <dir>')
    .action(async (id: string, opts: { dir: string }) => {
      const file = readClusterFile(resolve(opts.dir));
      findEntry(file, id);
      await (await openLab(file)).isolate(id);
      process.stdout.write(`${id}: isolated\n`);
    });
  dev
    .command('heal [a] [b]')
    .description('restore the links between two processes, or every link when none are named')
    .requiredOption('--dir <dir>')
    .action(async (a: string | undefined, b: string | undefined, opts: { dir: string }) => {
      const file = readClusterFile(resolve(opts.dir));
      const lab = await openLab(file);
      if (a !== undefined && b === undefined) {
        throw new CliError('name both processes, or none to heal every link', ExitCode.USAGE);
      }
      await lab.heal(a, b);
      process.stdout.write(a === undefined ? 'every link healed\n' : `${a} <-> ${b}: healed\n`);
    });
  dev
    .command('lossy <id> <probability>')
    .description('drop packets to and from a process with this probability (0 stops it)')
    .requiredOption('--dir <dir>')
    .action(async (id: string, probability: string, opts: { dir: string }) => {
      const p = Number(probability);
      if (!(p >= 0 && p <= 1))
        throw new CliError('probability must be from 0 to 1', ExitCode.USAGE);
      const file = readClusterFile(resolve(opts.dir));
      findEntry(file, id);
      await (await openLab(file)).lossy(id, p);
      process.stdout.write(`${id}: ${p === 0 ? 'no loss' : `drops ${p * 100}% of packets`}\n`);
    });
  dev
    .command('slow <id> <kbit>')
    .description("limit a process's link to this many kilobits per second (0 stops it)")
    .requiredOption('--dir <dir>')
    .action(async (id: string, kbit: string, opts: { dir: string }) => {
      const rate = Number(kbit);
      if (!Number.isInteger(rate) || rate < 0) {
        throw new CliError('kbit must be a whole number (0 removes the limit)', ExitCode.USAGE);
      }
      const file = readClusterFile(resolve(opts.dir));
      findEntry(file, id);
      await (await openLab(file)).slow(id, rate);
      process.stdout.write(`${id}: ${rate === 0 ? 'no limit' : `${rate} kbit/s`}\n`);
    });
  return dev;
}
