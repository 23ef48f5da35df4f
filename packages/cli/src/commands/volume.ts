import { Command, Option } from 'commander';
import { formatSize } from '@ballast/common';
import type { VolumeRecord } from '@ballast/meta';
import { CliError, ExitCode, type ApiClient } from '../client.js';
import { colourState, printJson, printKeyValues, printTable } from '../output.js';
import { clientFor, listAll, parseLabels, wantsJson, withEndpointOptions } from './shared.js';

function replicaSummary(v: VolumeRecord): string {
  const inSync = v.replicas.filter((r) => r.role === 'in-sync').length;
  return `${inSync}/${v.desiredReplicas}`;
}

function printVolume(v: VolumeRecord): void {
  printKeyValues([
    ['Name', v.name],
    ['ID', v.id],
    ['Size', formatSize(v.sizeBytes)],
    ['Chunk size', formatSize(v.chunkSizeBytes)],
    ['Filesystem', v.fs],
    ['State', `${colourState(v.state)}: ${v.stateReason}`],
    ['Replicas', `${replicaSummary(v)} in-sync (desired ${v.desiredReplicas})`],
    ['Epoch', v.epoch],
    [
      'Attached',
      v.attachment
        ? `${v.attachment.host} (epoch ${v.attachment.epoch}, since ${v.attachment.since})`
        : '-',
    ],
    [
      'Node selector',
      Object.entries(v.constraints.nodeSelector)
        .map(([k, x]) => `${k}=${x}`)
        .join(',') || '-',
    ],
    ['Zone spread', v.constraints.zoneSpread],
    ['Created', v.createdAt],
  ]);
  process.stdout.write('\n');
  printTable(
    ['NODE', 'ROLE', 'SINCE'],
    [
      ...v.replicas.map((r) => [r.nodeId, colourState(r.role), r.since]),
      ...v.staleReplicas.map((r) => [r.nodeId, colourState('stale'), `${r.since} (${r.reason})`]),
    ],
  );
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
    .requiredOption('--size <size>', 'size, e.g. 10GiB')
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
    .action(async (name: string, opts: Record<string, string | undefined>, cmd: Command) => {
      const replicas = Number(opts.replicas);
      if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
        throw new CliError('--replicas must be a whole number from 1 to 5', ExitCode.USAGE);
      }
      const body = {
        name,
        size: opts.size,
        replicas,
        ...(opts.fs ? { fs: opts.fs } : {}),
        ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}),
        ...(opts.selector ? { nodeSelector: parseLabels(opts.selector, '--selector') } : {}),
        ...(opts.zoneSpread ? { zoneSpread: opts.zoneSpread } : {}),
        ...(opts.preferHost ? { preferHost: opts.preferHost } : {}),
      };
      const v = await clientFor(cmd).request<VolumeRecord>('POST', '/v1/volumes', body);
      if (wantsJson(cmd)) return printJson(v);
      process.stdout.write(
        `volume ${v.name} (${v.id}): ${formatSize(v.sizeBytes)}, replicas on ${v.replicas.map((r) => r.nodeId).join(', ')}\n`,
      );
    });

  withEndpointOptions(volume.command('ls').alias('list').description('list volumes'))
    .addOption(
      new Option('--state <state>', 'only volumes in this state').choices([
        'healthy',
        'degraded',
        'faulted',
      ]),
    )
    .option('--node <id>', 'only volumes with a replica on this node')
    .action(async (opts: { state?: string; node?: string }, cmd: Command) => {
      const query = new URLSearchParams();
      if (opts.state) query.set('state', opts.state);
      if (opts.node) query.set('node', opts.node);
      const items = await listAll<VolumeRecord>(clientFor(cmd), '/v1/volumes', query);
      if (wantsJson(cmd)) return printJson(items);
      printTable(
        ['NAME', 'SIZE', 'REPLICAS', 'STATE', 'ATTACHED', 'EPOCH', 'NODES'],
        items.map((v) => [
          v.name,
          formatSize(v.sizeBytes),
          replicaSummary(v),
          colourState(v.state),
          v.attachment?.host ?? '-',
          v.epoch,
          v.replicas
            .map((r) => (r.role === 'in-sync' ? r.nodeId : `${r.nodeId}(rebuilding)`))
            .join(','),
        ]),
      );
    });

  withEndpointOptions(
    volume
      .command('inspect <name>')
      .description('show a volume, its replicas and why it is in its state'),
  ).action(async (name: string, _opts: unknown, cmd: Command) => {
    const v = await getVolume(clientFor(cmd), name);
    if (wantsJson(cmd)) return printJson(v);
    printVolume(v);
  });

  withEndpointOptions(
    volume.command('resize <name> <size>').description('grow a volume (detached volumes only)'),
  ).action(async (name: string, size: string, _opts: unknown, cmd: Command) => {
    const v = await clientFor(cmd).request<VolumeRecord>(
      'PATCH',
      `/v1/volumes/${encodeURIComponent(name)}`,
      { size },
    );
    if (wantsJson(cmd)) return printJson(v);
    process.stdout.write(`volume ${v.name} is now ${formatSize(v.sizeBytes)}\n`);
  });

  withEndpointOptions(
    volume.command('rm <name>').alias('delete').description('delete a volume and free its space'),
  ).action(async (name: string, _opts: unknown, cmd: Command) => {
    await clientFor(cmd).request('DELETE', `/v1/volumes/${encodeURIComponent(name)}`);
    if (wantsJson(cmd)) return printJson({ deleted: name });
    process.stdout.write(`volume ${name} deleted\n`);
  });

  return volume;
}
