import { Command } from 'commander';
import { formatSize } from '@ballast/common';
import type { NodeRecord, VolumeRecord } from '@ballast/meta';
import { colourState, printJson, printKeyValues, printTable } from '../output.js';
import { clientFor, listAll, parseLabels, wantsJson, withEndpointOptions } from './shared.js';

function labels(n: NodeRecord): string {
  return (
    Object.entries(n.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',') || '-'
  );
}

export function nodeCommand(): Command {
  const node = new Command('node').description(
    'storage nodes: list, inspect, cordon, drain, remove, label',
  );

  withEndpointOptions(node.command('ls').alias('list').description('list storage nodes')).action(
    async (_opts: unknown, cmd: Command) => {
      const items = await listAll<NodeRecord>(clientFor(cmd), '/v1/nodes');
      if (wantsJson(cmd)) return printJson(items);
      printTable(
        ['ID', 'STATE', 'ADDRESS', 'CAPACITY', 'USED', 'LABELS'],
        items.map((n) => [
          n.id,
          colourState(n.state),
          n.address,
          formatSize(n.capacityBytes),
          formatSize(n.usedBytes),
          labels(n),
        ]),
      );
    },
  );

  withEndpointOptions(
    node.command('inspect <id>').description('show a node and the replicas it holds'),
  ).action(async (id: string, _opts: unknown, cmd: Command) => {
    const client = clientFor(cmd);
    const n = await client.request<NodeRecord>('GET', `/v1/nodes/${encodeURIComponent(id)}`);
    const volumes = await listAll<VolumeRecord>(
      client,
      '/v1/volumes',
      new URLSearchParams({ node: id }),
    );
    if (wantsJson(cmd)) return printJson({ ...n, volumes: volumes.map((v) => v.name) });
    printKeyValues([
      ['ID', n.id],
      ['State', `${colourState(n.state)}${n.stateReason ? `: ${n.stateReason}` : ''}`],
      ['Scheduling', n.scheduling],
      ['Reachable', String(n.reachable)],
      ['Address', n.address],
      ['Capacity', formatSize(n.capacityBytes)],
      ['Used', formatSize(n.usedBytes)],
      ['Labels', labels(n)],
      ['Registered', n.registeredAt],
      ['Replicas', volumes.length ? volumes.map((v) => v.name).join(', ') : '-'],
    ]);
  });

  for (const [action, text] of [
    ['cordon', 'stop placing new replicas on a node'],
    ['uncordon', 'allow placing replicas on a node again'],
    ['drain', 'move every replica off a node (it stays cordoned)'],
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

  withEndpointOptions(
    node
      .command('remove <id>')
      .description('remove a node that holds no replicas (drain it first)'),
  ).action(async (id: string, _opts: unknown, cmd: Command) => {
    await clientFor(cmd).request('DELETE', `/v1/nodes/${encodeURIComponent(id)}`);
    if (wantsJson(cmd)) return printJson({ removed: id });
    process.stdout.write(`node ${id} removed\n`);
  });

  withEndpointOptions(
    node.command('label <id> <labels>').description("replace a node's labels, e.g. zone=a,rack=r1"),
  ).action(async (id: string, text: string, _opts: unknown, cmd: Command) => {
    const n = await clientFor(cmd).request<NodeRecord>(
      'PUT',
      `/v1/nodes/${encodeURIComponent(id)}/labels`,
      {
        labels: parseLabels(text, 'labels'),
      },
    );
    if (wantsJson(cmd)) return printJson(n);
    process.stdout.write(`node ${n.id}: ${labels(n)}\n`);
  });

  return node;
}
