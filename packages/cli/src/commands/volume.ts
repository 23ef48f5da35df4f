import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { formatSize } from '@ballast/common';
import type { VolumeExplanation, VolumeRecord } from '@ballast/meta';
import { CliError, ExitCode, type ApiClient } from '../client.js';
import { addRevertCommand, parseSnapshotRef } from './snapshot.js';
import {
  colourState,
  dateAndAge,
  formatDate,
  formatKeyValues,
  formatSections,
  formatTable,
  printJson,
} from '../output.js';
import {
  clientFor,
  confirm,
  listAll,
  outputFormat,
  parseLabels,
  render,
  showList,
  wantsJson,
  withEndpointOptions,
  withOutputOption,
  withWatchOption,
  withYesOption,
  type View,
} from './shared.js';

function replicaSummary(v: VolumeRecord): string {
  const inSync = v.replicas.filter((r) => r.role === 'in-sync').length;
  return `${inSync}/${v.desiredReplicas}`;
}

/** Where the holder mounts the volume: its path, "raw NBD" for an attach without a mount, or -. */
function mountedAt(v: VolumeRecord): string {
  if (v.attachment === null) return '-';
  return v.attachment.mountPath ?? 'raw NBD (no filesystem mount)';
}

function selectorText(v: VolumeRecord): string {
  return (
    Object.entries(v.constraints.nodeSelector)
      .map(([k, x]) => `${k}=${x}`)
      .join(',') || '-'
  );
}

/** The holder's engine as its agent reported it (D22), in one line; undefined when serving. */
function engineText(e: VolumeExplanation | undefined): string | undefined {
  const engine = e?.engine;
  if (engine === undefined) return undefined;
  const attempts = `${engine.attempts} reopen attempt${engine.attempts === 1 ? '' : 's'}`;
  if (engine.state === 'recovered') {
    return `${colourState('reopened')} on ${engine.host} ${dateAndAge(engine.recoveredAt)} at epoch ${engine.recoveredEpoch ?? '?'}, after ${attempts}; it had failed ${dateAndAge(engine.failedAt)} at epoch ${engine.epoch}`;
  }
  const next =
    engine.state === 'recovering'
      ? 'one running now'
      : engine.nextAttemptAt === null
        ? 'no more due'
        : `the next at ${dateAndAge(engine.nextAttemptAt)}`;
  return `${colourState(engine.state)} on ${engine.host} at epoch ${engine.epoch} since ${dateAndAge(engine.failedAt)}; ${attempts}, ${next}`;
}

function volumeText(v: VolumeRecord, e?: VolumeExplanation): string {
  const engine = engineText(e);
  // While the holder's engine is failing, the explanation's state says so (the map's is in it).
  const failing = e?.engine !== undefined && e.engine.state !== 'recovered';
  const [state, reason] = failing ? [e.state, e.stateReason] : [v.state, v.stateReason];
  return (
    formatKeyValues([
      ['Name', v.name],
      ['ID', v.id],
      ['Size', formatSize(v.sizeBytes)],
      ['Chunk size', formatSize(v.chunkSizeBytes)],
      ['Filesystem', v.fs],
      ['State', `${colourState(state)}: ${reason}`],
      ...(engine !== undefined ? [['Engine', engine] as [string, string]] : []),
      ['Replicas', `${replicaSummary(v)} in-sync (desired ${v.desiredReplicas})`],
      ['Epoch', v.epoch],
      [
        'Attached',
        v.attachment
          ? `${v.attachment.host} (epoch ${v.attachment.epoch}, since ${dateAndAge(v.attachment.since)})`
          : '-',
      ],
      ['Mounted at', mountedAt(v)],
      ['Node selector', selectorText(v)],
      ['Zone spread', v.constraints.zoneSpread],
      [
        'Replica timeout',
        v.replicaTimeoutMs === undefined ? "agent's default" : `${v.replicaTimeoutMs} ms`,
      ],
      ['Created', dateAndAge(v.createdAt)],
    ]) +
    '\n' +
    formatTable(['NODE', 'ROLE', 'SINCE'], replicaRows(v))
  );
}

/** A volume's replicas: in-sync and rebuilding ones, then stale copies left on nodes. */
export function replicaRows(v: VolumeRecord): string[][] {
  return [
    ...v.replicas.map((r) => [r.nodeId, colourState(r.role), dateAndAge(r.since)]),
    ...v.staleReplicas.map((r) => [
      r.nodeId,
      colourState('stale'),
      `${dateAndAge(r.since)}: ${r.reason}`,
    ]),
  ];
}

/** What happened, what Ballast does next and when, and what the operator can do. */
function explanationText(e: VolumeExplanation): string {
  return formatSections([
    [
      'What happened:',
      e.events.map((x) => (x.at === null ? x.text : `${dateAndAge(x.at)}: ${x.text}`)),
    ],
    [
      'What Ballast does next:',
      e.next.map((x) =>
        x.until === null
          ? x.text
          : // The agent's next reopen attempt is due at a time; the control loops' waits end then.
            `${x.text} ${x.loop === 'engine' ? 'at' : '(until'} ${dateAndAge(x.until)}${x.loop === 'engine' ? '' : ')'}`,
      ),
    ],
    ['What you can do:', e.actions],
  ]);
}

type Inspected = VolumeRecord & { explanation?: VolumeExplanation };

const volumeView: View<Inspected> = {
  kind: 'volume',
  data: (v) => v,
  names: (v) => [v.name],
  text: (v) => {
    const { explanation, ...record } = v;
    return (
      volumeText(record, explanation) +
      (explanation === undefined ? '' : explanationText(explanation))
    );
  },
};

/** A volume as meta's leader lists it: the record and its holder's engine in short (D22). */
type ListedVolume = VolumeRecord & { engine?: { host: string; state: string; since: number } };

/** The map's state, or the holder's engine's when it failed or is being reopened. */
function listedState(v: ListedVolume): string {
  if (v.engine === undefined || v.engine.state === 'recovered') return colourState(v.state);
  return `${colourState(v.state)}, engine ${colourState(v.engine.state)}`;
}

const volumeListView: View<ListedVolume[]> = {
  kind: 'volume',
  data: (items) => items,
  names: (items) => items.map((v) => v.name),
  text: (items, wide) =>
    formatTable(
      [
        'NAME',
        'SIZE',
        'REPLICAS',
        'STATE',
        'ATTACHED',
        'MOUNTED AT',
        'EPOCH',
        'NODES',
        ...(wide ? ['ID', 'CHUNK', 'FS', 'ZONE SPREAD', 'SELECTOR', 'CREATED'] : []),
      ],
      items.map((v) => [
        v.name,
        formatSize(v.sizeBytes),
        replicaSummary(v),
        listedState(v),
        v.attachment?.host ?? '-',
        v.attachment === null ? '-' : (v.attachment.mountPath ?? 'raw NBD'),
        v.epoch,
        v.replicas
          .map((r) => (r.role === 'in-sync' ? r.nodeId : `${r.nodeId}(rebuilding)`))
          .join(','),
        ...(wide
          ? [
              v.id,
              formatSize(v.chunkSizeBytes),
              v.fs,
              v.constraints.zoneSpread,
              selectorText(v),
              formatDate(v.createdAt),
            ]
          : []),
      ]),
    ),
};

/**
 * The leader's explanation of a volume that is not healthy, or whose holder's engine failed,
 * is being reopened or was reopened lately (the map may still call that volume healthy: only
 * the agent knows, D22); undefined when there is none to give or meta cannot say now (no
 * leader): inspect still shows the record.
 */
async function explainVolume(
  client: ApiClient,
  v: VolumeRecord,
): Promise<VolumeExplanation | undefined> {
  if (v.state === 'healthy' && v.attachment === null) return undefined;
  let e: VolumeExplanation;
  try {
    e = await client.request<VolumeExplanation>(
      'GET',
      `/v1/volumes/${encodeURIComponent(v.name)}/explanation`,
    );
  } catch {
    return undefined;
  }
  return v.state !== 'healthy' || e.engine !== undefined ? e : undefined;
}

async function getVolume(client: ApiClient, name: string): Promise<VolumeRecord> {
  return client.request<VolumeRecord>('GET', `/v1/volumes/${encodeURIComponent(name)}`);
}

export function volumeCommand(): Command {
  const volume = new Command('volume').description('create, inspect, resize and delete volumes');

  withEndpointOptions(
    volume
      .command('create <name>')
      .description('create a replicated volume (idempotent for the same spec)'),
  )
    .option('--size <size>', "size, e.g. 10GiB (a clone: at least its snapshot's, the default)")
    .option(
      '--from-snapshot <volume@snapshot>',
      'a clone: the new volume starts as that snapshot (usable once its first copy is made)',
    )
    .option('--replicas <n>', 'replica count (1-5)', '3')
    .addOption(
      new Option('--fs <fs>', 'filesystem created on first mount').choices(['ext4', 'xfs']),
    )
    .option('--chunk-size <size>', 'chunk size (power of two, 64KiB-64MiB; default 4MiB)')
    .option('--selector <k=v,...>', 'only place replicas on nodes with these labels')
    .addOption(
      new Option('--zone-spread <mode>', 'replicas in distinct zones').choices([
        'required',
        'preferred',
      ]),
    )
    .option('--prefer-host <host>', 'keep one replica on this host (data locality)')
    .option(
      '--replica-timeout <duration>',
      "how long writes wait for a silent replica before it is dropped (e.g. 5s; default: the agent's 15s)",
    )
    .action(async (name: string, opts: Record<string, string | undefined>, cmd: Command) => {
      const replicas = Number(opts.replicas);
      if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
        throw new CliError('--replicas must be a whole number from 1 to 5', ExitCode.USAGE);
      }
      if (opts.size === undefined && opts.fromSnapshot === undefined) {
        throw new CliError(
          "required option '--size <size>' not specified (or --from-snapshot)",
          ExitCode.USAGE,
        );
      }
      if (opts.fromSnapshot !== undefined) parseSnapshotRef(opts.fromSnapshot);
      const body = {
        name,
        ...(opts.size ? { size: opts.size } : {}),
        ...(opts.fromSnapshot ? { fromSnapshot: opts.fromSnapshot } : {}),
        replicas,
        ...(opts.fs ? { fs: opts.fs } : {}),
        ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}),
        ...(opts.selector ? { nodeSelector: parseLabels(opts.selector, '--selector') } : {}),
        ...(opts.zoneSpread ? { zoneSpread: opts.zoneSpread } : {}),
        ...(opts.preferHost ? { preferHost: opts.preferHost } : {}),
        ...(opts.replicaTimeout ? { replicaTimeout: opts.replicaTimeout } : {}),
      };
      const v = await clientFor(cmd).request<VolumeRecord>('POST', '/v1/volumes', body);
      if (wantsJson(cmd)) return printJson(v);
      process.stdout.write(
        `volume ${v.name} (${v.id}): ${formatSize(v.sizeBytes)}, replicas on ${v.replicas.map((r) => r.nodeId).join(', ')}\n`,
      );
      if (v.seed && v.source) {
        process.stdout.write(
          `a clone of ${v.source.volume}@${v.source.snapshot}: ${v.seed.nodeId} copies it now; attach once \`ballast volume inspect ${v.name}\` no longer says so\n`,
        );
      }
    });

  withWatchOption(
    withOutputOption(
      withEndpointOptions(volume.command('ls').alias('list').description('list volumes')),
    ),
  )
    .addOption(
      new Option('--state <state>', 'only volumes in this state').choices([
        'healthy',
        'degraded',
        'faulted',
      ]),
    )
    .option('--node <id>', 'only volumes with a replica on this node')
    .addHelpText(
      'after',
      `
Examples:
  ballast volume ls
  ballast volume ls --state degraded -o wide
  ballast volume ls -o name            # volume/pgdata, one a line
  ballast volume ls --watch            # again on every change; Ctrl-C stops`,
    )
    .action(async (opts: { state?: string; node?: string }, cmd: Command) => {
      const query = new URLSearchParams();
      if (opts.state) query.set('state', opts.state);
      if (opts.node) query.set('node', opts.node);
      const client = clientFor(cmd);
      await showList(cmd, volumeListView, () =>
        listAll<ListedVolume>(client, '/v1/volumes', query),
      );
    });

  withOutputOption(
    withEndpointOptions(
      volume
        .command('inspect <name>')
        .description('show a volume, its replicas and why it is in its state'),
    ),
  )
    .addHelpText(
      'after',
      `
Examples:
  ballast volume inspect pgdata
  ballast volume inspect pgdata -o yaml`,
    )
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const format = outputFormat(cmd);
      const client = clientFor(cmd);
      const v = await getVolume(client, name);
      const explanation = await explainVolume(client, v);
      process.stdout.write(
        render(volumeView, explanation === undefined ? v : { ...v, explanation }, format),
      );
    });

  withEndpointOptions(
    volume
      .command('resize <name> <size>')
      .description(
        'grow a volume (also while attached: NBD clients see the new size when they reconnect)',
      ),
  ).action(async (name: string, size: string, _opts: unknown, cmd: Command) => {
    const v = await clientFor(cmd).request<VolumeRecord>(
      'PATCH',
      `/v1/volumes/${encodeURIComponent(name)}`,
      { size },
    );
    if (wantsJson(cmd)) return printJson(v);
    process.stdout.write(
      v.attachment
        ? `volume ${v.name} is now ${formatSize(v.sizeBytes)}; host ${v.attachment.host} serves the new size once every replica has grown (NBD clients see it when they reconnect, Docker mounts grow their filesystem on the next mount)\n`
        : `volume ${v.name} is now ${formatSize(v.sizeBytes)}\n`,
    );
  });

  withEndpointOptions(
    volume
      .command('set <name>')
      .description("change a volume's options (they apply at once, also while attached)"),
  )
    .option(
      '--replica-timeout <duration>',
      "how long writes wait for a silent replica before it is dropped (e.g. 5s), or 'default'",
    )
    .action(async (name: string, opts: { replicaTimeout?: string }, cmd: Command) => {
      if (opts.replicaTimeout === undefined) {
        throw new CliError('nothing to change: give --replica-timeout', ExitCode.USAGE);
      }
      const v = await clientFor(cmd).request<VolumeRecord>(
        'PATCH',
        `/v1/volumes/${encodeURIComponent(name)}`,
        { replicaTimeout: opts.replicaTimeout === 'default' ? null : opts.replicaTimeout },
      );
      if (wantsJson(cmd)) return printJson(v);
      process.stdout.write(
        `volume ${v.name}: replica timeout ${v.replicaTimeoutMs === undefined ? "is the agent's default" : `${v.replicaTimeoutMs} ms`}\n`,
      );
    });

  withYesOption(
    withEndpointOptions(
      volume.command('rm <name>').alias('delete').description('delete a volume and free its space'),
    ),
  )
    .addHelpText(
      'after',
      `
Examples:
  ballast volume rm pgdata             # asks first on a terminal
  ballast volume rm pgdata --yes       # in scripts`,
    )
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const client = clientFor(cmd);
      await confirm(cmd, `delete volume ${name}`, `Delete volume ${name} and all its data?`);
      await client.request('DELETE', `/v1/volumes/${encodeURIComponent(name)}`);
      if (wantsJson(cmd)) return printJson({ deleted: name });
      process.stdout.write(`volume ${name} deleted\n`);
    });

  agentOptions(withYesOption(volume.command('attach <name>')))
    .description(
      'attach a volume to this host and serve it over NBD; prints its NBD URI (for qemu, nbdinfo, fio, nbdfuse)',
    )
    .option(
      '--force',
      'take the volume over from another host (only when that host is dead: it is fenced)',
    )
    .action(
      async (
        name: string,
        opts: AgentFlags & { force?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        const agent = resolveAgent(opts);
        if (opts.force) {
          await confirm(
            cmd,
            `take volume ${name} over by force`,
            `Take volume ${name} over by force? Its current holder is fenced: its writes fail.`,
          );
        }
        await checkAgentHost(agent, opts.host);
        const a = await agentCall<AttachAnswer>(
          agent,
          'POST',
          `/v1/volumes/${encodeURIComponent(name)}/attach`,
          {
            ...(opts.force ? { force: true } : {}),
          },
          name,
          'attach',
        );
        if (opts.json) return printJson(a);
        process.stdout.write(`${a.uri}\n`);
        if (a.tcpUri) process.stdout.write(`${a.tcpUri}\n`);
        process.stderr.write(
          `volume ${a.volume} (${formatSize(a.sizeBytes)}) ${a.alreadyAttached ? 'was already attached' : 'attached'} ` +
            `to ${a.host}${a.epoch === null ? '' : ` at epoch ${a.epoch}`}; ` +
            `use it with e.g. nbdinfo '${a.uri}'; release it with: ballast volume detach ${a.volume}\n`,
        );
      },
    );

  agentOptions(withYesOption(volume.command('detach <name>')))
    .description(
      'flush and release a volume attached to this host; --force takes it from a dead host',
    )
    .option('--force', "end another host's attachment (only when that host is dead: it is fenced)")
    .action(
      async (
        name: string,
        opts: AgentFlags & { force?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        const agent = resolveAgent(opts);
        if (opts.force) {
          await confirm(
            cmd,
            `detach volume ${name} by force`,
            `Detach volume ${name} from its holder by force? That host is fenced: its writes fail.`,
          );
        }
        await checkAgentHost(agent, opts.host);
        const d = await agentCall<DetachAnswer>(
          agent,
          'POST',
          `/v1/volumes/${encodeURIComponent(name)}/detach`,
          {
            ...(opts.force ? { force: true } : {}),
          },
          name,
          'detach',
        );
        if (opts.json) return printJson(d);
        if (!d.detached) {
          process.stdout.write(`volume ${d.volume} was not attached\n`);
        } else if (d.forced) {
          process.stdout.write(
            `volume ${d.volume} detached from ${d.previousHost} by force` +
              `${d.epoch === null ? '' : `; epoch is now ${d.epoch}, so ${d.previousHost} is fenced`}\n`,
          );
        } else if (d.fenced) {
          process.stdout.write(
            `volume ${d.volume} released by ${d.previousHost}, which had been fenced: another host ` +
              `took the volume over, and nothing written here since then reached the replicas\n`,
          );
        } else if (d.flushed) {
          process.stdout.write(`volume ${d.volume} flushed and detached from ${d.previousHost}\n`);
        } else {
          process.stdout.write(
            `volume ${d.volume} detached from ${d.previousHost} (an attachment no agent was serving)\n`,
          );
        }
      },
    );

  addRevertCommand(volume);
  return volume;
}

/**
 * `ballast snapshot attach|detach VOL@SNAP`: the agent serves a snapshot read-only over NBD.
 * Here (not in snapshot.ts) because they talk to the agent like `volume attach`.
 */
export function addSnapshotAttachCommands(snapshot: Command): void {
  agentOptions(
    snapshot
      .command('attach <volume@snapshot>')
      .description(
        'serve a snapshot read-only over NBD on this host; prints its URI (mount it with nbdfuse + a loop device, or read it with qemu-img, nbdcopy)',
      ),
  ).action(async (ref: string, opts: AgentFlags & { json?: boolean }) => {
    const { volume, snapshot: name } = parseSnapshotRef(ref);
    const agent = resolveAgent(opts);
    await checkAgentHost(agent, opts.host);
    const a = await agentCall<{ uri: string; sizeBytes: number; from: string }>(
      agent,
      'POST',
      `/v1/volumes/${encodeURIComponent(volume)}/snapshots/${encodeURIComponent(name)}/attach`,
      {},
      volume,
      'snapshot attach',
    );
    if (opts.json) return printJson(a);
    process.stdout.write(`${a.uri}\n`);
    process.stderr.write(
      `snapshot ${ref} (${formatSize(a.sizeBytes)}) served read-only, read from ${a.from}; ` +
        `stop with: ballast snapshot detach ${ref}\n`,
    );
  });

  agentOptions(
    snapshot.command('detach <volume@snapshot>').description('stop serving a snapshot over NBD'),
  ).action(async (ref: string, opts: AgentFlags & { json?: boolean }) => {
    const { volume, snapshot: name } = parseSnapshotRef(ref);
    const agent = resolveAgent(opts);
    await checkAgentHost(agent, opts.host);
    const d = await agentCall<{ detached: boolean }>(
      agent,
      'POST',
      `/v1/volumes/${encodeURIComponent(volume)}/snapshots/${encodeURIComponent(name)}/detach`,
      {},
      volume,
      'snapshot detach',
    );
    if (opts.json) return printJson(d);
    process.stdout.write(
      d.detached ? `snapshot ${ref} no longer served\n` : `snapshot ${ref} was not served here\n`,
    );
  });
}

/** The options of every command that talks to a host's agent. */
function agentOptions(cmd: Command): Command {
  return cmd
    .option(
      '--host <host>',
      "the agent to use, by host id (with --cluster: one of the file's agents)",
    )
    .option(
      '--agent-socket <path>',
      `the agent's admin socket (env BALLAST_AGENT_SOCKET; default ${DEFAULT_AGENT_SOCKET})`,
    )
    .option(
      '--cluster <file>',
      'cluster.json from `ballast dev up`: use its agent (env BALLAST_CLUSTER)',
    )
    .option('--json', 'machine-readable output');
}

/** Where `ballastd agent --state-dir /var/lib/ballast/agent` puts its admin socket. */
const DEFAULT_AGENT_SOCKET = '/var/lib/ballast/agent/agent.sock';
const AGENT_TIMEOUT_MS = 120_000;
const MAX_AGENT_ANSWER_BYTES = 4 * 1024 * 1024;

interface AgentFlags {
  host?: string;
  agentSocket?: string;
  cluster?: string;
}

interface AgentTarget {
  socket: string;
  /** The agent's host id when the cluster file says it. */
  host: string | undefined;
  source: string;
}

interface AttachAnswer {
  volume: string;
  host: string;
  epoch: number | null;
  sizeBytes: number;
  exportName: string;
  socket: string;
  uri: string;
  tcpUri: string | null;
  since: string;
  alreadyAttached: boolean;
}

interface DetachAnswer {
  volume: string;
  detached: boolean;
  previousHost: string | null;
  forced: boolean;
  flushed: boolean;
  fenced: boolean;
  epoch: number | null;
}

interface ClusterFileAgents {
  agents?: Array<{ id?: string; host?: string; stateDir?: string; adminSocket?: string }>;
}

/**
 * The agent to talk to: --agent-socket / BALLAST_AGENT_SOCKET; else the agent of the cluster
 * file (--cluster / BALLAST_CLUSTER; --host picks one when it lists several); else this host's
 * agent at its default state directory.
 */
function resolveAgent(flags: AgentFlags, env = process.env): AgentTarget {
  const explicit = flags.agentSocket ?? env.BALLAST_AGENT_SOCKET;
  if (explicit) {
    return {
      socket: explicit,
      host: undefined,
      source: flags.agentSocket ? '--agent-socket' : 'BALLAST_AGENT_SOCKET',
    };
  }
  const clusterFile = flags.cluster ?? env.BALLAST_CLUSTER;
  if (clusterFile) {
    let parsed: ClusterFileAgents;
    try {
      parsed = JSON.parse(readFileSync(clusterFile, 'utf8')) as ClusterFileAgents;
    } catch (err) {
      throw new CliError(
        `cannot read cluster file ${clusterFile}: ${(err as Error).message}`,
        ExitCode.USAGE,
        'pass --cluster DIR/cluster.json from `ballast dev up --agent`',
      );
    }
    const agents = Array.isArray(parsed.agents) ? parsed.agents : [];
    if (agents.length === 0) {
      throw new CliError(
        `cluster file ${clusterFile} lists no agent`,
        ExitCode.USAGE,
        'start the cluster with an agent: ballast dev up --dir DIR --agent',
      );
    }
    const hostOf = (a: (typeof agents)[number]): string => a.host ?? a.id ?? '?';
    let agent = agents[0]!;
    if (flags.host !== undefined) {
      const found = agents.find((a) => a.host === flags.host || a.id === flags.host);
      if (found === undefined) {
        throw new CliError(
          `cluster file ${clusterFile} has no agent for host ${flags.host}`,
          ExitCode.NOT_FOUND,
          `its agents: ${agents.map(hostOf).join(', ')}`,
        );
      }
      agent = found;
    } else if (agents.length > 1) {
      throw new CliError(
        `cluster file ${clusterFile} lists ${agents.length} agents; say which host with --host`,
        ExitCode.USAGE,
        `its agents: ${agents.map(hostOf).join(', ')}`,
      );
    }
    const socket =
      agent.adminSocket ?? (agent.stateDir ? join(agent.stateDir, 'agent.sock') : undefined);
    if (socket === undefined) {
      throw new CliError(
        `cluster file ${clusterFile} does not say where agent ${hostOf(agent)} listens`,
        ExitCode.USAGE,
        'pass --agent-socket PATH',
      );
    }
    return { socket, host: agent.host ?? agent.id, source: clusterFile };
  }
  return { socket: DEFAULT_AGENT_SOCKET, host: undefined, source: 'the default path' };
}

/** With --host and an agent found by its socket alone, make sure it is that host's agent. */
async function checkAgentHost(agent: AgentTarget, host: string | undefined): Promise<void> {
  if (host === undefined || agent.host !== undefined) return;
  const status = await agentCall<{ host: string }>(
    agent,
    'GET',
    '/v1/status',
    undefined,
    '',
    'status',
  );
  if (status.host !== host) {
    throw new CliError(
      `the agent on ${agent.socket} is host ${status.host}, not ${host}`,
      ExitCode.USAGE,
      'attach through the agent on the host that should hold the volume (its --agent-socket)',
    );
  }
}

/** One call to the agent's admin API over its unix socket; errors become CliErrors. */
function agentCall<T>(
  agent: AgentTarget,
  method: 'GET' | 'POST',
  path: string,
  body: unknown,
  volume: string,
  what: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const payload = body === undefined ? '' : JSON.stringify(body);
    const req = httpRequest(
      {
        socketPath: agent.socket,
        path,
        method,
        headers: {
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json' } : {}),
          'content-length': Buffer.byteLength(payload),
        },
        timeout: AGENT_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_AGENT_ANSWER_BYTES) {
            req.destroy(
              new Error(`the agent's answer is larger than ${MAX_AGENT_ANSWER_BYTES} bytes`),
            );
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300 && parsed !== undefined) {
            resolve(parsed as T);
            return;
          }
          reject(agentError(status, parsed, text, agent, volume, what));
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`no answer from the agent within ${AGENT_TIMEOUT_MS / 1000} s`)),
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
        reject(
          new CliError(
            `no agent answers on ${agent.socket} (from ${agent.source})`,
            ExitCode.UNAVAILABLE,
            'is `ballastd agent` running on this host? Point at it with --agent-socket PATH or --cluster DIR/cluster.json',
          ),
        );
      } else if (err.code === 'EACCES' || err.code === 'EPERM') {
        reject(
          new CliError(
            `permission denied on the agent's socket ${agent.socket}`,
            ExitCode.UNAUTHORIZED,
            "the agent's admin socket is root-only: run this as root",
          ),
        );
      } else {
        reject(new CliError(`${what} through the agent failed: ${err.message}`, ExitCode.FAILURE));
      }
    });
    req.end(payload);
  });
}

function agentError(
  status: number,
  parsed: unknown,
  text: string,
  agent: AgentTarget,
  volume: string,
  what: string,
): CliError {
  const problem = (parsed ?? {}) as {
    code?: string;
    message?: string;
    details?: { host?: string; mountPath?: string };
  };
  const message = problem.message ?? (text.trim() || `HTTP ${status}`);
  const holder = problem.details?.host;
  switch (problem.code) {
    case 'NOT_FOUND':
      return new CliError(message, ExitCode.NOT_FOUND, 'list volumes with: ballast volume ls');
    case 'CONFLICT':
    case 'FENCED': {
      let hint: string | undefined;
      if (problem.details?.mountPath !== undefined) {
        hint = `stop the containers that use it (docker ps --filter volume=${volume}); Docker unmounts it when the last one stops`;
      } else if (holder !== undefined && holder !== agent.host) {
        hint =
          `if host ${holder} is dead, \`ballast volume ${what === 'detach' ? 'detach' : 'attach'} --force ${volume}\` ` +
          `takes the volume over (${holder} is fenced: its writes fail)`;
      }
      return new CliError(message, ExitCode.CONFLICT, hint);
    }
    case 'INVALID_ARGUMENT':
      return new CliError(message, ExitCode.INVALID);
    case 'UNAVAILABLE':
    case 'TIMEOUT':
      return new CliError(
        message,
        ExitCode.UNAVAILABLE,
        'retry shortly; check `ballast cluster status`',
      );
    default:
      return new CliError(`${what} failed: ${message}`, ExitCode.FAILURE);
  }
}
