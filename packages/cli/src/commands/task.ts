import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { formatSize } from '@ballast/common';
import type { TaskRecord } from '@ballast/meta';
import { colourState, printJson, printTable } from '../output.js';
import { clientFor, listAll, wantsJson, withEndpointOptions } from './shared.js';

const FINISHED = new Set(['done', 'failed', 'cancelled']);

function percent(t: TaskRecord): string {
  return t.totalBytes > 0 ? `${Math.floor((100 * t.doneBytes) / t.totalBytes)}%` : '-';
}

export function taskCommand(): Command {
  const task = new Command('task').description('rebuild, move, drain and delete jobs');

  withEndpointOptions(task.command('ls').alias('list').description('list tasks')).action(
    async (_opts: unknown, cmd: Command) => {
      const items = await listAll<TaskRecord>(clientFor(cmd), '/v1/tasks');
      if (wantsJson(cmd)) return printJson(items);
      printTable(
        ['ID', 'KIND', 'STATE', 'VOLUME', 'NODE', 'PROGRESS', 'MESSAGE'],
        items.map((t) => [
          t.id,
          t.kind,
          colourState(t.state),
          t.volumeId ?? '-',
          t.nodeId ?? '-',
          `${percent(t)} (${formatSize(t.doneBytes)}/${formatSize(t.totalBytes)})`,
          t.message,
        ]),
      );
    },
  );

  withEndpointOptions(
    task
      .command('watch')
      .description('follow unfinished tasks with progress bars until they finish'),
  )
    .option('--interval <ms>', 'poll interval', '1000')
    .option('--timeout <s>', 'give up after this many seconds (0 = never)', '0')
    .action(async (opts: { interval: string; timeout: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const json = wantsJson(cmd);
      const deadline =
        Number(opts.timeout) > 0 ? Date.now() + Number(opts.timeout) * 1000 : Infinity;
      const bars = json
        ? undefined
        : new cliProgress.MultiBar(
            {
              format: '{task} [{bar}] {percentage}% {value}/{total} MiB {state}',
              clearOnComplete: false,
              hideCursor: true,
            },
            cliProgress.Presets.shades_classic,
          );
      const shown = new Map<string, cliProgress.SingleBar>();
      let watching = new Set<string>();
      for (;;) {
        const tasks = await listAll<TaskRecord>(client, '/v1/tasks');
        const open = tasks.filter((t) => !FINISHED.has(t.state));
        if (watching.size === 0) watching = new Set(open.map((t) => t.id));
        const mine = tasks.filter((t) => watching.has(t.id));
        for (const t of mine) {
          const mib = (n: number): number => Math.round(n / 2 ** 20);
          if (json) continue;
          let bar = shown.get(t.id);
          if (!bar) {
            bar = bars!.create(Math.max(1, mib(t.totalBytes)), 0, {
              task: `${t.kind} ${t.id}`,
              state: t.state,
            });
            shown.set(t.id, bar);
          }
          bar.setTotal(Math.max(1, mib(t.totalBytes)));
          bar.update(mib(t.doneBytes), { state: colourState(t.state) });
        }
        if (mine.every((t) => FINISHED.has(t.state))) {
          bars?.stop();
          if (json) printJson(mine);
          else if (mine.length === 0) process.stdout.write('no unfinished tasks\n');
          return;
        }
        if (Date.now() > deadline) {
          bars?.stop();
          if (json) printJson(mine);
          process.exitCode = 1;
          return;
        }
        await new Promise((r) => setTimeout(r, Number(opts.interval)));
      }
    });

  return task;
}
