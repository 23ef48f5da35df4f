import { Command } from 'commander';
import { ApiClient, CliError, ExitCode, resolveEndpoint, type EndpointFlags } from '../client.js';
import { colourState, formatKeyValues, formatTable } from '../output.js';
import { VERSION } from '../version.js';
import {
  outputFormat,
  render,
  withEndpointOptions,
  withOutputOption,
  type View,
} from './shared.js';

/** How long `ballast version` and `cluster status -o wide` wait for each member. */
export const VERSION_PROBE_MS = 1_000;

interface ClusterAnswer {
  members: Array<{ id: string; api: string; role: string }>;
  leader: string | null;
}

export interface MemberVersion {
  id: string;
  api: string;
  role: string;
  reachable: boolean;
  /** The Ballast version the member runs; null when it did not say. */
  version: string | null;
  node: string | null;
  /** Why there is no version (no answer in time, refused, an older member without the route). */
  error?: string;
}

interface VersionReport {
  client: { version: string; node: string };
  /** null: no cluster is configured (only the client's version is known). */
  members: MemberVersion[] | null;
}

/**
 * Every member's version, each asked once with a bound of VERSION_PROBE_MS, all at once: a
 * member that does not answer costs about a second, never a hang. The membership comes from
 * the first configured member that answers GET /v1/cluster (asked at the same time).
 */
export async function memberVersions(client: ApiClient): Promise<MemberVersion[]> {
  const urls = client.endpoint.urls.map((u) => u.replace(/\/$/, ''));
  const asked = new Map<string, ReturnType<typeof askVersion>>();
  for (const url of urls) asked.set(url, askVersion(client, url));
  const views = await Promise.all(
    urls.map((url) => client.probe<ClusterAnswer>(url, '/v1/cluster', VERSION_PROBE_MS)),
  );
  const answered = views.map((v) => (v.ok ? v.value : undefined)).filter((v) => v !== undefined);
  const view = answered.find((v) => v.leader !== null) ?? answered[0];
  const members =
    view?.members.map((m) => ({ ...m, api: m.api.replace(/\/$/, '') })) ??
    urls.map((api) => ({ id: '-', api, role: 'unknown' }));
  const out: MemberVersion[] = [];
  for (const m of members) {
    let answer = asked.get(m.api);
    if (answer === undefined) asked.set(m.api, (answer = askVersion(client, m.api)));
    const a = await answer;
    const role = view === undefined ? 'unknown' : m.id === view.leader ? 'leader' : m.role;
    out.push(
      a.ok
        ? { id: m.id, api: m.api, role, reachable: true, ...a.value }
        : {
            id: m.id,
            api: m.api,
            role,
            reachable: a.reachable,
            version: null,
            node: null,
            error: a.why,
          },
    );
  }
  return out;
}

async function askVersion(
  client: ApiClient,
  url: string,
): Promise<
  | { ok: true; value: { version: string; node: string } }
  | { ok: false; reachable: boolean; why: string }
> {
  const a = await client.probe<{ version: string; node: string }>(
    url,
    '/v1/version',
    VERSION_PROBE_MS,
  );
  if (a.ok) return { ok: true, value: { version: a.value.version, node: a.value.node } };
  // An HTTP answer (404 from a member older than the route, 401 for a wrong token) is a member
  // that is up; no answer at all is one that is not reachable.
  const reachable = a.why.startsWith('HTTP ');
  return {
    ok: false,
    reachable,
    why: a.why === 'HTTP 404' ? 'HTTP 404: a member older than GET /v1/version' : a.why,
  };
}

export function memberState(m: MemberVersion): string {
  return m.reachable ? m.role : 'unreachable';
}

const versionView: View<VersionReport> = {
  kind: 'version',
  data: (r) => r,
  names: () => [],
  text: (r) => {
    let out = formatKeyValues([['Client', `${r.client.version} (Node.js ${r.client.node})`]]);
    if (r.members === null) {
      return (
        out + 'Meta members: no cluster configured (--cluster, --endpoint or BALLAST_CLUSTER)\n'
      );
    }
    out += '\n';
    out += formatTable(
      ['MEMBER', 'API', 'VERSION', 'NODE.JS', 'STATE'],
      r.members.map((m) => [
        m.id,
        m.api,
        m.version ?? '-',
        m.node ?? '-',
        `${colourState(memberState(m))}${m.error ? ` (${m.error})` : ''}`,
      ]),
    );
    return out;
  },
};

export function versionCommand(): Command {
  return withOutputOption(
    withEndpointOptions(
      new Command('version').description(
        "this client's version and the version every meta member runs (each asked for about a second)",
      ),
    ),
    ['json', 'yaml'],
  )
    .option('--client', "only the client's version: ask no member")
    .addHelpText(
      'after',
      `
Examples:
  ballast version
  ballast version --client
  ballast version -o json

Exit code 5 when a cluster is configured and no member answered.`,
    )
    .action(async (opts: { client?: boolean }, cmd: Command) => {
      const format = outputFormat(cmd);
      const report: VersionReport = {
        client: { version: VERSION, node: process.version },
        members: null,
      };
      if (opts.client !== true) {
        let client: ApiClient | undefined;
        try {
          client = new ApiClient(resolveEndpoint(cmd.optsWithGlobals<EndpointFlags>()));
        } catch (err) {
          // No cluster configured: the client's version is still worth printing.
          if (!(err instanceof CliError) || !err.message.startsWith('no cluster')) throw err;
        }
        if (client !== undefined) report.members = await memberVersions(client);
      }
      process.stdout.write(render(versionView, report, format));
      if (report.members !== null && !report.members.some((m) => m.version !== null)) {
        process.exitCode = ExitCode.UNAVAILABLE;
      }
    });
}
