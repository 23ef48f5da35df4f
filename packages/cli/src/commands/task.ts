import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { formatSize } from '@ballast/common';
import type { TaskRecord, VolumeRecord } from '@ballast/meta';
import { CliError, ExitCode, type ApiClient } from '../client.js';
import { colourState, formatDate, formatTable, printJson } from '../output.js';
import {
  clientFor,
  listAll,
  outputFormat,
  showList,
  wantsJson,
  withEndpointOptions,
  withOutputOption,
  withWatchOption,
  type View,
} from './shared.js';

const OPEN = new Set(['pending', 'running']);
const KINDS = ['rebuild', 'move', 'drain', 'delete'];
const STATES = ['pending', 'running', 'succeeded', 'failed', 'cancelled'];
/** Tasks followed at once by `task watch` (one bar each). */
const MAX_WATCHED = 50;

function percent(t: TaskRecord): string {
  return t.totalBytes > 0 ? `${Math.floor((100 * t.doneBytes) / t.totalBytes)}%` : '-';
}

/** volume id -> name, for tables (tasks carry ids; people know names). */
async function volumeNames(client: ApiClient): Promise<Map<string, string>> {
  const volumes = await listAll<VolumeRecord>(client, '/v1/volumes');
  return new Map(volumes.map((v) => [v.id, v.name]));
}

function oneOf(value: string | undefined, allowed: string[], flag: string): void {
  if (value !== undefined && !allowed.includes(value)) {
    throw new CliError(
      `${flag} must be one of ${allowed.join(', ')}, got "${value}"`,
      ExitCode.USAGE,
    );
  }
}

type ListedTask = TaskRecord & { bytesPerSecond?: number };

const taskListView: View<{ items: ListedTask[]; names: Map<string, string> }> = {
  kind: 'task',
  data: (s) => s.items,
  names: (s) => s.items.map((t) => t.id),
  text: ({ items, names }, wide) =>
    formatTable(
      [
        'ID',
        'KIND',
        'STATE',
        'VOLUME',
        'NODE',
        'FROM',
        'PROGRESS',
        'RATE',
        'MESSAGE',
        ...(wide ? ['CREATED', 'STARTED', 'FINISHED'] : []),
      ],
      items.map((t) => [
        t.id,
        t.kind,
        colourState(t.state),
        t.volumeId === null ? '-' : (names.get(t.volumeId) ?? t.volumeId),
        t.nodeId ?? '-',
        t.sourceNodeId ?? '-',
        `${percent(t)} (${formatSize(t.doneBytes)}/${formatSize(t.totalBytes)})`,
        t.bytesPerSecond === undefined ? '-' : `${formatSize(t.bytesPerSecond)}/s`,
        t.message,
        ...(wide
          ? [formatDate(t.createdAt), formatDate(t.startedAt), formatDate(t.finishedAt)]
          : []),
      ]),
    ),
};

/** Rate of a task between two observations, for the progress bars. */
function rate(
  prev: { doneBytes: number; atMs: number } | undefined,
  t: TaskRecord,
  nowMs: number,
): string {
  if (!prev || nowMs <= prev.atMs || t.doneBytes < prev.doneBytes) return '-';
  return `${formatSize(Math.round(((t.doneBytes - prev.doneBytes) * 1000) / (nowMs - prev.atMs)))}/s`;
}

export function taskCommand(): Command {
  const task = new Command('task').description('rebuild, move, drain and delete jobs');

  withWatchOption(
    withOutputOption(
      withEndpointOptions(task.command('ls').alias('list').description('list tasks')),
    ),
  )
    .option('--state <state>', `only tasks in this state (${STATES.join(', ')})`)
    .option('--kind <kind>', `only tasks of this kind (${KINDS.join(', ')})`)
    .option('--open', 'only unfinished tasks (pending or running)')
    .addHelpText(
      'after',
      `
Examples:
  ballast task ls --open
  ballast task ls --kind rebuild -o wide
  ballast task ls --open --watch`,
    )
    .action(async (opts: { state?: string; kind?: string; open?: boolean }, cmd: Command) => {
      oneOf(opts.state, STATES, '--state');
      oneOf(opts.kind, KINDS, '--kind');
      const client = clientFor(cmd);
      const query = new URLSearchParams(opts.state ? { state: opts.state } : {});
      const text = outputFormat(cmd) === 'default' || outputFormat(cmd) === 'wide';
      await showList(cmd, taskListView, async () => {
        const items = (await listAll<ListedTask>(client, '/v1/tasks', query)).filter(
          (t) => (!opts.kind || t.kind === opts.kind) && (!opts.open || OPEN.has(t.state)),
        );
        // Only tables show volume names (tasks carry ids): one more list.
        return { items, names: text ? await volumeNames(client) : new Map<string, string>() };
      });
    });

  withEndpointOptions(
    task
      .command('watch [ids...]')
      .description(
        'follow tasks with progress bars until they finish (default: every unfinished task)',
      ),
  )
    .option('--interval <ms>', 'poll interval in ms', '1000')
    .option('--timeout <s>', 'give up after this many seconds (0 = never)', '0')
    .action(async (ids: string[], opts: { interval: string; timeout: string }, cmd: Command) => {
      const intervalMs = Number(opts.interval);
      const timeoutS = Number(opts.timeout);
      if (!Number.isFinite(intervalMs) || intervalMs < 50 || intervalMs > 60_000) {
        throw new CliError('--interval must be 50..60000 ms', ExitCode.USAGE);
      }
      if (!Number.isFinite(timeoutS) || timeoutS < 0) {
        throw new CliError('--timeout must be a number of seconds', ExitCode.USAGE);
      }
      const client = clientFor(cmd);
      const json = wantsJson(cmd);
      const deadline = timeoutS > 0 ? Date.now() + timeoutS * 1000 : Infinity;
      const tasks = await listAll<TaskRecord>(client, '/v1/tasks');
      const byId = new Map(tasks.map((t) => [t.id, t]));
      for (const id of ids) {
        if (!byId.has(id)) throw new CliError(`task ${id} does not exist`, ExitCode.NOT_FOUND);
      }
      const watching = (
        ids.length > 0 ? ids : tasks.filter((t) => OPEN.has(t.state)).map((t) => t.id)
      ).slice(0, MAX_WATCHED);
      if (watching.length === 0) {
        if (json) printJson([]);
        else process.stdout.write('no unfinished tasks\n');
        return;
      }
      const names = await volumeNames(client);
      const tty = !json && process.stderr.isTTY === true;
      const bars = tty
        ? new cliProgress.MultiBar(
            {
              format: '{title} [{bar}] {percentage}% {done}/{all} {rate} {state}',
              clearOnComplete: false,
              hideCursor: true,
              stream: process.stderr,
            },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      const shown = new Map<string, cliProgress.SingleBar>();
      const seen = new Map<string, { doneBytes: number; atMs: number }>();
      const lines = new Map<string, string>();
      let current: TaskRecord[];
      try {
        for (;;) {
          const now = Date.now();
          current = [];
          for (const id of watching) {
            // A task dropped from the bounded history is reported as it was last seen.
            const t = await client
              .request<TaskRecord>('GET', `/v1/tasks/${encodeURIComponent(id)}`)
              .catch((err: unknown) => {
                if (err instanceof CliError && err.exitCode === ExitCode.NOT_FOUND) {
                  return byId.get(id)!;
                }
                throw err;
              });
            byId.set(id, t);
            current.push(t);
            const title = `${t.kind} ${t.volumeId ? (names.get(t.volumeId) ?? t.volumeId) : (t.nodeId ?? '')}${t.nodeId && t.volumeId ? ` -> ${t.nodeId}` : ''}`;
            const payload = {
              title: title.padEnd(24).slice(0, 40),
              done: formatSize(t.doneBytes),
              all: formatSize(t.totalBytes),
              rate: rate(seen.get(id), t, now),
              state: colourState(t.state),
            };
            seen.set(id, { doneBytes: t.doneBytes, atMs: now });
            if (bars) {
              let bar = shown.get(id);
              if (!bar)
                shown.set(id, (bar = bars.create(Math.max(1, t.totalBytes), t.doneBytes, payload)));
              bar.setTotal(Math.max(1, t.totalBytes));
              bar.update(t.doneBytes, payload);
            } else if (!json) {
              const line = `${t.id} ${t.kind} ${t.state} ${percent(t)} (${payload.done}/${payload.all}) ${t.message}`;
              if (lines.get(id) !== line) process.stderr.write(line + '\n');
              lines.set(id, line);
            }
          }
          if (current.every((t) => !OPEN.has(t.state))) break;
          if (Date.now() > deadline) {
            process.exitCode = ExitCode.FAILURE;
            break;
          }
          await new Promise((r) => setTimeout(r, intervalMs));
        }
      } finally {
        bars?.stop();
      }
      if (json) return printJson(current);
      const failed = current.filter((t) => t.state === 'failed' || t.state === 'cancelled');
      const open = current.filter((t) => OPEN.has(t.state));
      process.stdout.write(
        `${current.length - failed.length - open.length} succeeded, ${failed.length} failed or cancelled, ${open.length} unfinished\n`,
      );
      if (failed.length > 0) process.exitCode = ExitCode.FAILURE;
    });

  return task;
}
