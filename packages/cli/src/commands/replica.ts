import { Command } from 'commander';
import type { VolumeRecord } from '@ballast/meta';
import { formatTable, printJson } from '../output.js';
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
import { replicaRows } from './volume.js';

/** `replica ls`: every copy of one volume, members (in-sync, rebuilding) and stale records. */
const replicaListView: View<VolumeRecord> = {
  kind: 'replica',
  data: (v) => ({ volume: v.name, replicas: v.replicas, staleReplicas: v.staleReplicas }),
  names: (v) => [...v.replicas, ...v.staleReplicas].map((r) => `${v.name}/${r.nodeId}`),
  text: (v, wide) =>
    formatTable(
      ['NODE', 'ROLE', 'SINCE', ...(wide ? ['EPOCH', 'VOLUME'] : [])],
      replicaRows(v).map((row, i) => {
        if (!wide) return row;
        const stale = v.staleReplicas[i - v.replicas.length];
        return [...row, stale === undefined ? String(v.epoch) : `${stale.epoch} (stale)`, v.name];
      }),
    ),
};

function volumePath(name: string): string {
  return `/v1/volumes/${encodeURIComponent(name)}`;
}

export function replicaCommand(): Command {
  const replica = new Command('replica')
    .alias('replicas')
    .description("a volume's replicas: list them, add one on a node, remove one");

  withOutputOption(
    withEndpointOptions(
      replica
        .command('ls <volume>')
        .alias('list')
        .description('the replicas of a volume: in-sync, rebuilding, and stale copies on nodes'),
    ),
  )
    .addHelpText(
      'after',
      `
Examples:
  ballast replica ls pgdata
  ballast replica ls pgdata -o json`,
    )
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const format = outputFormat(cmd);
      const v = await clientFor(cmd).request<VolumeRecord>('GET', volumePath(name));
      process.stdout.write(render(replicaListView, v, format));
    });

  withEndpointOptions(
    replica
      .command('add <volume> <node>')
      .description(
        'add a replica on a node: it joins as rebuilding and becomes in-sync once copied',
      ),
  )
    .option('--replacing <node>', 'the replica this one replaces (removed once it is in sync)')
    .action(async (name: string, nodeId: string, opts: { replacing?: string }, cmd: Command) => {
      const v = await clientFor(cmd).request<VolumeRecord>('POST', `${volumePath(name)}/replicas`, {
        nodeId,
        ...(opts.replacing !== undefined ? { replacing: opts.replacing } : {}),
      });
      if (wantsJson(cmd)) return printJson(v);
      process.stdout.write(`volume ${v.name}: replica on ${nodeId} added, rebuilding\n`);
    });

  withYesOption(
    withEndpointOptions(
      replica
        .command('rm <volume> <node>')
        .alias('remove')
        .description(
          'remove a replica (or a stale copy); never the last in-sync one, not below the desired count without --force',
        ),
    ),
  )
    .option('--force', 'remove it even if the volume drops below its desired replica count')
    .action(async (name: string, nodeId: string, opts: { force?: boolean }, cmd: Command) => {
      const client = clientFor(cmd);
      await confirm(
        cmd,
        `remove the replica of ${name} on ${nodeId}`,
        `Remove the replica of volume ${name} on node ${nodeId} and its data there?`,
      );
      const v = await client.request<VolumeRecord>(
        'DELETE',
        `${volumePath(name)}/replicas/${encodeURIComponent(nodeId)}${opts.force ? '?force=true' : ''}`,
      );
      if (wantsJson(cmd)) return printJson(v);
      process.stdout.write(`volume ${v.name}: replica on ${nodeId} removed\n`);
    });

  return replica;
}
