import { Command } from 'commander';
import { colourState, printJson, printKeyValues, printTable } from '../output.js';
import { clientFor, wantsJson, withEndpointOptions } from './shared.js';

interface ClusterStatus {
  members: Array<{ id: string; api: string; role: string }>;
  leader: string | null;
  term: number;
  commitIndex: number;
}

export function clusterCommand(): Command {
  const cluster = new Command('cluster').description('the metadata members: status and membership');
  withEndpointOptions(cluster.command('status').description('members, roles and who leads')).action(
    async (_opts: unknown, cmd: Command) => {
      const status = await clientFor(cmd).request<ClusterStatus>('GET', '/v1/cluster');
      if (wantsJson(cmd)) return printJson(status);
      printKeyValues([
        ['Leader', status.leader ?? '(none)'],
        ['Term', status.term],
        ['Commit index', status.commitIndex],
      ]);
      process.stdout.write('\n');
      printTable(
        ['MEMBER', 'ROLE', 'API'],
        status.members.map((m) => [
          m.id,
          colourState(m.id === status.leader ? 'leader' : m.role),
          m.api,
        ]),
      );
    },
  );
  return cluster;
}
