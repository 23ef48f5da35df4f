import { Command } from 'commander';
import type { HostEngineView, HostView } from '@ballast/meta';
import { colourState, dateAndAge, formatDate, formatKeyValues, formatTable } from '../output.js';
import {
  clientFor,
  outputFormat,
  render,
  showList,
  withEndpointOptions,
  withOutputOption,
  withWatchOption,
  type View,
} from './shared.js';

function silence(h: HostView): string {
  return `${Math.floor(h.silentMs / 1000)}s`;
}

const hostListView: View<HostView[]> = {
  kind: 'host',
  data: (items) => items,
  names: (items) => items.map((h) => h.id),
  text: (items, wide) =>
    formatTable(
      ['HOST', 'STATE', 'SILENT', 'VOLUMES', ...(wide ? ['LAST HEARTBEAT'] : [])],
      items.map((h) => [
        h.id,
        colourState(h.alive ? 'alive' : 'dead'),
        silence(h),
        h.attachedVolumes.join(',') || '-',
        ...(wide ? [formatDate(h.lastHeartbeatAt)] : []),
      ]),
    ),
};

/** One engine its agent reported (D22), in one line. */
function engineLine(e: HostEngineView): string {
  const attempts = `${e.attempts} reopen attempt${e.attempts === 1 ? '' : 's'}`;
  if (e.state === 'recovered') {
    return `${e.volume}: ${colourState('reopened')} ${dateAndAge(e.recoveredAt)} at epoch ${e.recoveredEpoch ?? '?'} after ${attempts}; it had failed ${dateAndAge(e.failedAt)}`;
  }
  const next =
    e.state === 'recovering'
      ? 'one running now'
      : e.nextAttemptAt === null
        ? 'no more due'
        : `the next at ${dateAndAge(e.nextAttemptAt)}`;
  return `${e.volume}: ${colourState(e.state)} at epoch ${e.epoch} since ${dateAndAge(e.failedAt)} (${e.reason}); ${attempts}, ${next}`;
}

const hostView: View<HostView> = {
  kind: 'host',
  data: (h) => h,
  names: (h) => [h.id],
  text: (h) =>
    formatKeyValues([
      ['Host', h.id],
      [
        'State',
        `${colourState(h.alive ? 'alive' : 'dead')}${h.alive ? '' : ': its volumes may be taken over'}`,
      ],
      ['Last heartbeat', dateAndAge(h.lastHeartbeatAt)],
      ['Silent for', silence(h)],
      ['Attached volumes', h.attachedVolumes.join(', ') || '-'],
      ...(h.engines ?? []).map(
        (e, i) => [i === 0 ? 'Engines' : '', engineLine(e)] as [string, string],
      ),
    ]),
};

export function hostCommand(): Command {
  const host = new Command('host')
    .alias('hosts')
    .description('Docker hosts (their agents) as the leader hears them, and what they hold');

  withWatchOption(
    withOutputOption(
      withEndpointOptions(
        host
          .command('ls')
          .alias('list')
          .description('hosts heard from since the leader took over, and hosts holding volumes'),
      ),
    ),
  )
    .addHelpText(
      'after',
      `
Examples:
  ballast host ls
  ballast host ls -o wide --watch`,
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const client = clientFor(cmd);
      await showList(
        cmd,
        hostListView,
        async () => (await client.request<{ items: HostView[] }>('GET', '/v1/hosts')).items,
      );
    });

  withOutputOption(
    withEndpointOptions(
      host
        .command('inspect <id>')
        .description(
          "one host: its agent's last heartbeat, alive or dead, its volumes, engines that failed",
        ),
    ),
  ).action(async (id: string, _opts: unknown, cmd: Command) => {
    const format = outputFormat(cmd);
    const h = await clientFor(cmd).request<HostView>('GET', `/v1/hosts/${encodeURIComponent(id)}`);
    process.stdout.write(render(hostView, h, format));
  });

  return host;
}
