import { Command } from 'commander';
import { BallastError, formatSize } from '@ballast/common';
import type { VolumeRecord, VolumeSnapshot } from '@ballast/meta';
import { colourState, dateAndAge, formatKeyValues, formatTable, printJson } from '../output.js';
import {
  clientFor,
  confirm,
  outputFormat,
  render,
  wantsJson,
  withEndpointOptions,
  withOutputOption,
  withYesOption,
  type View,
} from './shared.js';

type SnapshotView = VolumeSnapshot & { volume: string };

function snapshotsPath(volume: string, snapshot?: string): string {
  const base = `/v1/volumes/${encodeURIComponent(volume)}/snapshots`;
  return snapshot === undefined ? base : `${base}/${encodeURIComponent(snapshot)}`;
}

/** `VOL@SNAP` as users write it (rbd's `image@snap`). */
export function parseSnapshotRef(ref: string): { volume: string; snapshot: string } {
  const at = ref.indexOf('@');
  if (at <= 0 || at === ref.length - 1 || ref.indexOf('@', at + 1) !== -1) {
    throw new BallastError('INVALID_ARGUMENT', `name a snapshot as VOLUME@SNAPSHOT, not "${ref}"`);
  }
  return { volume: ref.slice(0, at), snapshot: ref.slice(at + 1) };
}

const listView: View<SnapshotView[]> = {
  kind: 'snapshot',
  data: (items) => ({ items }),
  names: (items) => items.map((s) => `${s.volume}@${s.name}`),
  text: (items, wide) =>
    formatTable(
      ['NAME', 'STATE', 'SIZE', 'CREATED', 'REPLICAS', ...(wide ? ['SEQ', 'PAUSE', 'REASON'] : [])],
      items.map((s) => [
        `${s.volume}@${s.name}`,
        colourState(s.state),
        formatSize(s.sizeBytes),
        dateAndAge(s.createdAt),
        s.nodeIds.join(',') || '-',
        ...(wide
          ? [
              String(s.seq),
              s.pauseMs === undefined ? '-' : `${s.pauseMs.toFixed(1)} ms`,
              s.stateReason,
            ]
          : []),
      ]),
    ),
};

const detailView: View<SnapshotView> = {
  kind: 'snapshot',
  data: (s) => s,
  names: (s) => [`${s.volume}@${s.name}`],
  text: (s) =>
    formatKeyValues([
      ['Name', `${s.volume}@${s.name}`],
      ['State', `${colourState(s.state)} (${s.stateReason})`],
      ['Size', formatSize(s.sizeBytes)],
      ['Created', dateAndAge(s.createdAt)],
      ['Ready', s.readyAt === null ? '-' : dateAndAge(s.readyAt)],
      ['Replicas', s.nodeIds.join(', ') || '-'],
      [
        'Cut by',
        s.host === null
          ? `the nodes of its in-sync replicas (detached) at epoch ${s.epoch}`
          : `${s.host} at epoch ${s.epoch}`,
      ],
      ['Write pause', s.pauseMs === undefined ? '-' : `${s.pauseMs.toFixed(1)} ms`],
      ['Seq', s.seq],
      ['Id', s.id],
    ]),
};

export function snapshotCommand(): Command {
  const snapshot = new Command('snapshot')
    .alias('snapshots')
    .description('crash-consistent points in time of volumes: take, list, inspect, delete');

  withEndpointOptions(
    snapshot
      .command('create <volume> <name>')
      .description(
        'take a crash-consistent snapshot of a volume: writes pause while every in-sync replica records the same point (a detached volume: its nodes take it)',
      ),
  )
    .option('--wait <seconds>', 'how long to wait for the cut (default 30)', '30')
    .addHelpText(
      'after',
      `
Examples:
  ballast snapshot create pgdata before-migration
  ballast snapshot ls pgdata`,
    )
    .action(async (volume: string, name: string, opts: { wait: string }, cmd: Command) => {
      const seconds = Number(opts.wait);
      if (!Number.isFinite(seconds) || seconds < 0 || seconds > 120) {
        throw new BallastError('INVALID_ARGUMENT', '--wait must be 0 to 120 seconds');
      }
      const s = await clientFor(cmd).request<SnapshotView>(
        'POST',
        `${snapshotsPath(volume)}?waitMs=${Math.round(seconds * 1000)}`,
        { name },
      );
      if (wantsJson(cmd)) return printJson(s);
      process.stdout.write(
        s.state === 'ready'
          ? s.host === null
            ? `snapshot ${s.volume}@${s.name} taken: on ${s.nodeIds.join(', ')} (detached: no writes to pause)\n`
            : `snapshot ${s.volume}@${s.name} taken: on ${s.nodeIds.join(', ')}, writes paused ${s.pauseMs?.toFixed(1) ?? '?'} ms\n`
          : `snapshot ${s.volume}@${s.name} is ${s.state} (${s.stateReason}); see ballast snapshot inspect ${s.volume}@${s.name}\n`,
      );
    });

  withOutputOption(
    withEndpointOptions(
      snapshot
        .command('ls <volume>')
        .alias('list')
        .description("a volume's snapshots, oldest first"),
    ),
  ).action(async (volume: string, _opts: unknown, cmd: Command) => {
    const { items } = await clientFor(cmd).request<{ items: SnapshotView[] }>(
      'GET',
      snapshotsPath(volume),
    );
    process.stdout.write(render(listView, items, outputFormat(cmd)));
  });

  withOutputOption(
    withEndpointOptions(
      snapshot
        .command('inspect <volume@snapshot>')
        .description('one snapshot: state, replicas holding it, size, the write pause of its cut'),
    ),
  ).action(async (ref: string, _opts: unknown, cmd: Command) => {
    const { volume, snapshot: name } = parseSnapshotRef(ref);
    const s = await clientFor(cmd).request<SnapshotView>('GET', snapshotsPath(volume, name));
    process.stdout.write(render(detailView, s, outputFormat(cmd)));
  });

  withYesOption(
    withEndpointOptions(
      snapshot
        .command('rm <volume@snapshot>')
        .alias('remove')
        .description('delete a snapshot; the nodes give back the space only it held'),
    ),
  ).action(async (ref: string, _opts: unknown, cmd: Command) => {
    const { volume, snapshot: name } = parseSnapshotRef(ref);
    const client = clientFor(cmd);
    await confirm(
      cmd,
      `delete snapshot ${volume}@${name}`,
      `Delete snapshot ${volume}@${name}? Its data cannot be read afterwards.`,
    );
    await client.request<unknown>('DELETE', snapshotsPath(volume, name));
    if (wantsJson(cmd)) return printJson({ deleted: `${volume}@${name}` });
    process.stdout.write(`snapshot ${volume}@${name} deleted\n`);
  });

  return snapshot;
}

/** `ballast volume revert VOL@SNAP`: added to the volume command, kept with the snapshots. */
export function addRevertCommand(volume: Command): void {
  withYesOption(
    withEndpointOptions(
      volume
        .command('revert <volume@snapshot>')
        .description(
          'make a detached volume read one of its snapshots again (what was written since is lost; newer snapshots stay)',
        ),
    ),
  )
    .option('--wait <seconds>', 'how long to wait for every replica (default 120)', '120')
    .addHelpText(
      'after',
      `
Examples:
  ballast volume detach pgdata
  ballast volume revert pgdata@before-migration --yes`,
    )
    .action(async (ref: string, opts: { wait: string }, cmd: Command) => {
      const { volume: name, snapshot } = parseSnapshotRef(ref);
      const seconds = Number(opts.wait);
      if (!Number.isFinite(seconds) || seconds < 0 || seconds > 600) {
        throw new BallastError('INVALID_ARGUMENT', '--wait must be 0 to 600 seconds');
      }
      const client = clientFor(cmd);
      await confirm(
        cmd,
        `revert volume ${name} to snapshot ${snapshot}`,
        `Revert ${name} to ${name}@${snapshot}? Everything written to ${name} after that snapshot is lost (take a snapshot first to keep it).`,
      );
      const v = await client.request<VolumeRecord>(
        'POST',
        `/v1/volumes/${encodeURIComponent(name)}/revert?waitMs=${Math.round(seconds * 1000)}`,
        { snapshot },
      );
      if (wantsJson(cmd)) return printJson(v);
      process.stdout.write(
        v.revert
          ? `volume ${name} is being reverted to ${snapshot}; waiting for ${v.revert.waitingFor.filter((n) => !v.revert!.nodeIds.includes(n)).join(', ')} (see ballast volume inspect ${name})\n`
          : `volume ${name} reverted to ${snapshot} (epoch ${v.epoch})\n`,
      );
    });
}
