import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { formatSize } from '@ballast/common';
import type { NodeRecord, TaskRecord, VolumeExplanation, VolumeRecord } from '@ballast/meta';
import { CliError, ExitCode, type ApiClient } from '../client.js';
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

/** A node as GET /v1/nodes answers: the record plus what meta derives for it. */
type NodeView = NodeRecord & {
  provisionedBytes: number;
  schedulableBytes: number;
  replicaCount: number;
  lastHeartbeatAt: number | null;
  /** How long the leader has not heard from it; null when a follower answered. */
  silentMs: number | null;
};

/**
 * A node counts as down only after meta's node timeout (15 s); a node quiet for longer than
 * this (about two heartbeats) is shown as silent before then.
 */
const SILENT_SHOWN_MS = 6_000;

/** The state, with how long an `up` node has been silent when that is longer than usual. */
function stateText(n: NodeView): string {
  if (n.state !== 'down' && n.state !== 'removed' && (n.silentMs ?? 0) > SILENT_SHOWN_MS) {
    return `${colourState(n.state)} (silent ${Math.floor(n.silentMs! / 1000)}s)`;
  }
  return colourState(n.state);
}

function labels(n: NodeRecord): string {
  return (
    Object.entries(n.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',') || '-'
  );
}

function share(n: NodeView): string {
  if (n.schedulableBytes <= 0) return '-';
  return `${Math.round((100 * n.provisionedBytes) / n.schedulableBytes)}%`;
}

const nodeListView: View<NodeView[]> = {
  kind: 'node',
  data: (items) => items,
  names: (items) => items.map((n) => n.id),
  text: (items, wide) =>
    formatTable(
      [
        'ID',
        'STATE',
        'ZONE',
        'ADDRESS',
        'CAPACITY',
        'PROVISIONED',
        'USED',
        'DISK FREE',
        'REPLICAS',
        'LABELS',
        ...(wide ? ['SCHEDULING', 'REACHABLE', 'LAST HEARTBEAT', 'REASON'] : []),
      ],
      items.map((n) => [
        n.id,
        stateText(n),
        n.labels.zone ?? '-',
        n.address,
        formatSize(n.capacityBytes),
        `${formatSize(n.provisionedBytes)} (${share(n)})`,
        formatSize(n.usedBytes),
        n.availableBytes === undefined ? '-' : formatSize(n.availableBytes),
        n.replicaCount,
        labels(n),
        ...(wide
          ? [n.scheduling, String(n.reachable), formatDate(n.lastHeartbeatAt), n.stateReason || '-']
          : []),
      ]),
    ),
};

/** `node inspect`: the node, the volumes with a replica on it, its open tasks, what comes next. */
type InspectedNode = NodeView & {
  volumes: string[];
  tasks: TaskRecord[];
  explanation?: { next: string[]; actions: string[] };
};

const nodeView: View<InspectedNode> = {
  kind: 'node',
  data: (n) => n,
  names: (n) => [n.id],
  text: (n) =>
    formatKeyValues([
      ['ID', n.id],
      ['State', `${stateText(n)}${n.stateReason ? `: ${n.stateReason}` : ''}`],
      ['Since', dateAndAge(n.stateSince)],
      ['Scheduling', n.scheduling],
      ['Reachable', String(n.reachable)],
      ['Last heartbeat', dateAndAge(n.lastHeartbeatAt)],
      ['Address', n.address],
      ['Capacity', formatSize(n.capacityBytes)],
      ['Used', formatSize(n.usedBytes)],
      [
        'Provisioned',
        `${formatSize(n.provisionedBytes)} of ${formatSize(n.schedulableBytes)} (${share(n)})`,
      ],
      ['Labels', labels(n)],
      ['Registered', dateAndAge(n.registeredAt)],
      ['Replicas', n.volumes.length ? n.volumes.join(', ') : '-'],
      [
        'Tasks',
        n.tasks.length
          ? n.tasks.map((t) => `${t.id} (${t.kind} ${t.state}: ${t.message})`).join('; ')
          : '-',
      ],
    ]) +
    (n.explanation === undefined
      ? ''
      : formatSections([
          ['What Ballast does next:', n.explanation.next],
          ['What you can do:', n.explanation.actions],
        ])),
};

const OPEN = new Set(['pending', 'running']);
/** Volumes whose plans `node inspect` asks for when the node is not up (one request each). */
const MAX_EXPLAINED_VOLUMES = 50;

/**
 * For a node that is not up: what the control loops do next about each volume with a replica
 * there (the leader's plan, as in `volume inspect`), and what the operator can do.
 */
async function explainNode(
  client: ApiClient,
  n: NodeRecord,
  volumes: readonly VolumeRecord[],
): Promise<{ next: string[]; actions: string[] }> {
  const next: string[] = [];
  const actions: string[] = [];
  for (const v of volumes.slice(0, MAX_EXPLAINED_VOLUMES)) {
    let e: VolumeExplanation;
    try {
      e = await client.request<VolumeExplanation>(
        'GET',
        `/v1/volumes/${encodeURIComponent(v.name)}/explanation`,
      );
    } catch {
      continue; // no leader now, or the volume went away: the record above still stands
    }
    for (const x of e.next) {
      next.push(`${v.name}: ${x.text}${x.until === null ? '' : ` (until ${dateAndAge(x.until)})`}`);
    }
    for (const a of e.actions) if (!actions.includes(a)) actions.push(a);
  }
  if (volumes.length > MAX_EXPLAINED_VOLUMES) {
    next.push(
      `(${volumes.length - MAX_EXPLAINED_VOLUMES} more volumes: \`ballast volume inspect\` each)`,
    );
  }
  if (n.state === 'down') {
    actions.push(
      `start ${n.id} again (its replicas catch up by a delta rebuild), \`ballast node drain ${n.id}\` to replace them elsewhere now, or \`ballast node remove ${n.id}\` once it is gone for good`,
    );
  }
  return { next, actions };
}
const POLL_MS = 500;

/**
 * Shows a task's progress until it finishes: a bar on a terminal, a line per change otherwise
 * (logs and pipes), nothing with --json. Resolves with the finished task; bounded by timeoutMs.
 */
export async function followTask(
  client: ApiClient,
  taskId: string,
  options: { title: string; json: boolean; timeoutMs: number; intervalMs?: number },
): Promise<TaskRecord> {
  const interval = options.intervalMs ?? POLL_MS;
  const deadline = options.timeoutMs > 0 ? Date.now() + options.timeoutMs : Infinity;
  const tty = !options.json && process.stderr.isTTY === true;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format: `${options.title} [{bar}] {percentage}% {done}/{all} {message}`,
          hideCursor: true,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let started = false;
  let lastLine = '';
  try {
    for (;;) {
      const task = await client.request<TaskRecord>(
        'GET',
        `/v1/tasks/${encodeURIComponent(taskId)}`,
      );
      const total = Math.max(1, task.totalBytes);
      const payload = {
        done: formatSize(task.doneBytes),
        all: formatSize(task.totalBytes),
        message: task.message,
      };
      if (bar) {
        if (!started) bar.start(total, task.doneBytes, payload);
        else {
          bar.setTotal(total);
          bar.update(task.doneBytes, payload);
        }
        started = true;
      } else if (!options.json) {
        const pct = Math.floor((100 * task.doneBytes) / total);
        const line = `${options.title}: ${pct}% (${payload.done}/${payload.all}) ${task.message}`;
        if (line !== lastLine) process.stderr.write(line + '\n');
        lastLine = line;
      }
      if (!OPEN.has(task.state)) return task;
      if (Date.now() > deadline) {
        throw new CliError(
          `${options.title}: not finished after ${Math.round(options.timeoutMs / 1000)}s (${task.state}: ${task.message})`,
          ExitCode.FAILURE,
          `follow it with \`ballast task watch ${task.id}\``,
        );
      }
      await new Promise((r) => setTimeout(r, interval));
    }
  } finally {
    if (started) bar?.stop();
  }
}

function seconds(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) {
    throw new CliError(`${flag} must be a number of seconds, got "${text}"`, ExitCode.USAGE);
  }
  return n * 1000;
}

export function nodeCommand(): Command {
  const node = new Command('node').description(
    'storage nodes: list, inspect, cordon, drain, remove, label',
  );

  withWatchOption(
    withOutputOption(
      withEndpointOptions(node.command('ls').alias('list').description('list storage nodes')),
    ),
  )
    .option('--state <state>', 'only nodes in this state (up, down, cordoned, draining, removed)')
    .addHelpText(
      'after',
      `
Examples:
  ballast node ls
  ballast node ls -o wide              # also scheduling, reachability, last heartbeat
  ballast node ls --watch`,
    )
    .action(async (opts: { state?: string }, cmd: Command) => {
      const query = new URLSearchParams(opts.state ? { state: opts.state } : {});
      const client = clientFor(cmd);
      await showList(cmd, nodeListView, () => listAll<NodeView>(client, '/v1/nodes', query));
    });

  withOutputOption(
    withEndpointOptions(
      node.command('inspect <id>').description('show a node, the replicas it holds and its tasks'),
    ),
  ).action(async (id: string, _opts: unknown, cmd: Command) => {
    const format = outputFormat(cmd);
    const client = clientFor(cmd);
    const n = await client.request<NodeView>('GET', `/v1/nodes/${encodeURIComponent(id)}`);
    const volumes = await listAll<VolumeRecord>(
      client,
      '/v1/volumes',
      new URLSearchParams({ node: id }),
    );
    const tasks = (await listAll<TaskRecord>(client, '/v1/tasks')).filter(
      (t) => OPEN.has(t.state) && (t.nodeId === id || t.sourceNodeId === id),
    );
    const explained =
      n.state === 'up' || n.state === 'cordoned'
        ? undefined
        : await explainNode(client, n, volumes);
    process.stdout.write(
      render(
        nodeView,
        {
          ...n,
          volumes: volumes.map((v) => v.name),
          tasks,
          ...(explained !== undefined ? { explanation: explained } : {}),
        },
        format,
      ),
    );
  });

  for (const [action, text] of [
    ['cordon', 'stop placing new replicas on a node'],
    ['uncordon', 'allow placing replicas on a node again (also stops a drain)'],
  ] as const) {
    withEndpointOptions(node.command(`${action} <id>`).description(text))
      .option('--reason <text>', 'why (shown in node inspect)')
      .action(async (id: string, opts: { reason?: string }, cmd: Command) => {
        const n = await clientFor(cmd).request<NodeRecord>(
          'POST',
          `/v1/nodes/${encodeURIComponent(id)}/${action}`,
          opts.reason ? { reason: opts.reason } : {},
        );
        if (wantsJson(cmd)) return printJson(n);
        process.stdout.write(`node ${n.id}: ${n.state}\n`);
      });
  }

  withYesOption(
    withEndpointOptions(
      node
        .command('drain <id>')
        .description(
          'move every replica off a node (add elsewhere, then remove here: never below the desired count); it takes no new ones',
        ),
    ),
  )
    .option('--reason <text>', 'why (shown in node inspect)')
    .option('--wait', 'follow the drain with a progress bar until the node is empty')
    .option('--timeout <seconds>', 'with --wait: give up after this long (0 = never)', '0')
    .addHelpText(
      'after',
      `
Examples:
  ballast node drain n3 --reason "disk replacement" --wait
  ballast node drain n3 --yes          # in scripts (no terminal to ask on)`,
    )
    .action(
      async (
        id: string,
        opts: { reason?: string; wait?: boolean; timeout: string },
        cmd: Command,
      ) => {
        const timeoutMs = seconds(opts.timeout, '--timeout');
        const client = clientFor(cmd);
        const json = wantsJson(cmd);
        await confirm(
          cmd,
          `drain node ${id}`,
          `Drain node ${id}: move every replica off it and place none there?`,
        );
        const n = await client.request<NodeRecord>(
          'POST',
          `/v1/nodes/${encodeURIComponent(id)}/drain`,
          opts.reason ? { reason: opts.reason } : {},
        );
        if (!opts.wait) {
          if (json) return printJson(n);
          process.stdout.write(`node ${n.id}: ${n.state}\n`);
          return;
        }
        // The drain task meta created with the drain (the newest one for this node).
        const drain = (await listAll<TaskRecord>(client, '/v1/tasks'))
          .filter((t) => t.kind === 'drain' && t.nodeId === id)
          .sort((a, b) => b.createdAt - a.createdAt)[0];
        if (!drain) {
          throw new CliError(`meta shows no drain task for node ${id}`, ExitCode.FAILURE);
        }
        const done = await followTask(client, drain.id, {
          title: `drain ${id}`,
          json,
          timeoutMs,
        });
        if (json) printJson(done);
        else process.stdout.write(`node ${id}: drain ${done.state}: ${done.message}\n`);
        if (done.state !== 'succeeded') process.exitCode = ExitCode.FAILURE;
      },
    );

  withYesOption(
    withEndpointOptions(
      node
        .command('remove <id>')
        .alias('rm')
        .description(
          'remove a node that holds no replicas (drain it first); its id is never reused',
        ),
    ),
  ).action(async (id: string, _opts: unknown, cmd: Command) => {
    const client = clientFor(cmd);
    await confirm(
      cmd,
      `remove node ${id}`,
      `Remove node ${id} from the cluster for good (its id is never reused)?`,
    );
    const n = await client.request<NodeRecord>('DELETE', `/v1/nodes/${encodeURIComponent(id)}`);
    if (wantsJson(cmd)) return printJson(n);
    process.stdout.write(`node ${id} removed\n`);
  });

  withEndpointOptions(
    node
      .command('label <id> <labels>')
      .description("set a node's labels, e.g. zone=a,rack=r1 (replaces them all unless --merge)"),
  )
    .option('--merge', 'keep the labels not named (a key with an empty value is removed)')
    .action(async (id: string, text: string, opts: { merge?: boolean }, cmd: Command) => {
      const client = clientFor(cmd);
      let next = parseLabels(text, 'labels');
      if (opts.merge) {
        const current = await client.request<NodeRecord>(
          'GET',
          `/v1/nodes/${encodeURIComponent(id)}`,
        );
        next = { ...current.labels, ...next };
        for (const [k, v] of Object.entries(next)) if (v === '') delete next[k];
      }
      const n = await client.request<NodeRecord>(
        'PUT',
        `/v1/nodes/${encodeURIComponent(id)}/labels`,
        {
          labels: next,
        },
      );
      if (wantsJson(cmd)) return printJson(n);
      process.stdout.write(`node ${n.id}: ${labels(n)}\n`);
    });

  return node;
}
