import { Command } from 'commander';
import { colourState, formatKeyValues, formatTable, printJson } from '../output.js';
import { CliError, ExitCode } from '../client.js';
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
import { memberVersions, type MemberVersion } from './version.js';

interface ClusterStatus {
  members: Array<{
    id: string;
    api: string;
    role: string;
    reachable?: boolean;
    /** With -o wide: what the member runs (null when it did not answer). */
    version?: string | null;
  }>;
  leader: string | null;
  term: number;
  commitIndex: number;
  revision?: number;
}

function membersTable(status: ClusterStatus, wide: boolean): string {
  return formatTable(
    ['MEMBER', 'ROLE', 'API', ...(wide ? ['REACHABLE', 'VERSION'] : [])],
    status.members.map((m) => [
      m.id,
      colourState(
        m.reachable === false ? 'unreachable' : m.id === status.leader ? 'leader' : m.role,
      ),
      m.api,
      ...(wide ? [String(m.reachable ?? '-'), m.version ?? '-'] : []),
    ]),
  );
}

const statusView: View<ClusterStatus> = {
  kind: 'member',
  data: (s) => s,
  names: (s) => s.members.map((m) => m.id),
  text: (s, wide) =>
    formatKeyValues([
      ['Leader', s.leader ?? '(none)'],
      ['Term', s.term],
      ['Commit index', s.commitIndex],
      ...(wide ? ([['Revision', s.revision ?? '-']] as Array<[string, string | number]>) : []),
    ]) +
    '\n' +
    membersTable(s, wide),
};

export function clusterCommand(): Command {
  const cluster = new Command('cluster').description('the metadata members: status and membership');
  withOutputOption(
    withEndpointOptions(cluster.command('status').description('members, roles and who leads')),
  )
    .addHelpText(
      'after',
      `
Examples:
  ballast cluster status
  ballast cluster status -o wide      # also each member's version
  ballast cluster status -o name      # member/m1, one a line`,
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const format = outputFormat(cmd);
      const client = clientFor(cmd);
      const answered = await client.request<ClusterStatus>('GET', '/v1/cluster');
      // The answering member's view says who is a voter, not who answers: ask each one.
      let members: ClusterStatus['members'];
      if (format === 'wide') {
        const versions = new Map<string, MemberVersion>(
          (await memberVersions(client)).map((m) => [m.id, m]),
        );
        members = answered.members.map((m) => {
          const v = versions.get(m.id);
          return { ...m, reachable: v?.reachable ?? false, version: v?.version ?? null };
        });
      } else {
        const reachable = await Promise.all(answered.members.map((m) => client.answers(m.api)));
        members = answered.members.map((m, i) => ({ ...m, reachable: reachable[i]! }));
      }
      process.stdout.write(render(statusView, { ...answered, members }, format));
    });

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
    process.stdout.write(membersTable(status, false));
  });
  withYesOption(
    withEndpointOptions(
      members
        .command('remove <id>')
        .alias('rm')
        .description('remove a member (never the last voter; a removed leader steps down)'),
    ),
  ).action(async (id: string, _opts: unknown, cmd: Command) => {
    const client = clientFor(cmd);
    await confirm(
      cmd,
      `remove meta member ${id}`,
      `Remove meta member ${id}? It stops voting and holding the cluster map.`,
    );
    const status = await client.request<ClusterStatus>(
      'DELETE',
      `/v1/cluster/members/${encodeURIComponent(id)}`,
    );
    if (wantsJson(cmd)) return printJson(status);
    process.stdout.write(`member ${id} removed\n\n`);
    process.stdout.write(membersTable(status, false));
  });
  return cluster;
}
