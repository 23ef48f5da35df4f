import { Command } from 'commander';
import { colourState, printJson, printKeyValues, printTable } from '../output.js';
import { CliError, ExitCode } from '../client.js';
import { clientFor, wantsJson, withEndpointOptions } from './shared.js';

interface ClusterStatus {
  members: Array<{ id: string; api: string; role: string; reachable?: boolean }>;
  leader: string | null;
  term: number;
  commitIndex: number;
}

export function clusterCommand(): Command {
  const cluster = new Command('cluster').description('the metadata members: status and membership');
  withEndpointOptions(cluster.command('status').description('members, roles and who leads')).action(
    async (_opts: unknown, cmd: Command) => {
      const client = clientFor(cmd);
      const answered = await client.request<ClusterStatus>('GET', '/v1/cluster');
      // The answering member's view says who is a voter, not who answers: ask each one.
      const reachable = await Promise.all(answered.members.map((m) => client.answers(m.api)));
      const status: ClusterStatus = {
        ...answered,
        members: answered.members.map((m, i) => ({ ...m, reachable: reachable[i]! })),
      };
      if (wantsJson(cmd)) return printJson(status);
      printKeyValues([
        ['Leader', status.leader ?? '(none)'],
        ['Term', status.term],
        ['Commit index', status.commitIndex],
      ]);
      process.stdout.write('\n');
      printMembers(status);
    },
  );

  const members = cluster
    .command('members')
    .description('add or remove metadata members (start a new one with --join first)');
  withEndpointOptions(
    members
      .command('add <id> <url>')
      .description('add a member by id and API URL: it joins as a learner, catches up, then votes'),
  ).action(async (id: string, url: string, _opts: unknown, cmd: Command) => {
    if (!/^https?:\/\/[^/?#\s]+\/?$/.test(url)) {
      throw new CliError(
        `URL ${url} is not a member API URL (want http://host:port)`,
        ExitCode.USAGE,
      );
    }
    const status = await clientFor(cmd).request<ClusterStatus>('POST', '/v1/cluster/members', {
      id,
      api: url.replace(/\/$/, ''),
    });
    if (wantsJson(cmd)) return printJson(status);
    process.stdout.write(`member ${id} added\n\n`);
    printMembers(status);
  });
  withEndpointOptions(
    members
      .command('remove <id>')
      .alias('rm')
      .description('remove a member (never the last voter; a removed leader steps down)'),
  ).action(async (id: string, _opts: unknown, cmd: Command) => {
    const status = await clientFor(cmd).request<ClusterStatus>(
      'DELETE',
      `/v1/cluster/members/${encodeURIComponent(id)}`,
    );
    if (wantsJson(cmd)) return printJson(status);
    process.stdout.write(`member ${id} removed\n\n`);
    printMembers(status);
  });
  return cluster;
}

function printMembers(status: ClusterStatus): void {
  printTable(
    ['MEMBER', 'ROLE', 'API'],
    status.members.map((m) => [
      m.id,
      colourState(
        m.reachable === false ? 'unreachable' : m.id === status.leader ? 'leader' : m.role,
      ),
      m.api,
    ]),
  );
}
