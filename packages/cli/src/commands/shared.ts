import type { Command } from 'commander';
import { ApiClient, CliError, ExitCode, resolveEndpoint, type EndpointFlags } from '../client.js';

/** Adds the flags every cluster-facing command accepts. */
export function withEndpointOptions(cmd: Command): Command {
  return cmd
    .option('--cluster <file>', 'cluster.json from `ballast dev up` (env BALLAST_CLUSTER)')
    .option('--endpoint <urls>', 'meta API URLs, comma-separated (env BALLAST_ENDPOINT)')
    .option('--token <token>', 'admin token (env BALLAST_TOKEN)')
    .option('--ca <file>', 'CA certificate for an https endpoint (env BALLAST_CA)')
    .option('--json', 'machine-readable output');
}

/** The client for the command being run, from its options and those of its parents. */
export function clientFor(cmd: Command): ApiClient {
  const opts = cmd.optsWithGlobals<EndpointFlags>();
  return new ApiClient(resolveEndpoint(opts));
}

export function wantsJson(cmd: Command): boolean {
  return Boolean(cmd.optsWithGlobals<{ json?: boolean }>().json);
}

interface Page<T> {
  items: T[];
  nextCursor: string | null;
  revision: number;
}

/** Follows the API's cursor pagination to the end (bounded, as every loop should be). */
export async function listAll<T>(
  client: ApiClient,
  path: string,
  query = new URLSearchParams(),
): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 10_000; page++) {
    const q = new URLSearchParams(query);
    q.set('limit', '1000');
    if (cursor) q.set('cursor', cursor);
    const res: Page<T> = await client.request<Page<T>>('GET', `${path}?${q.toString()}`);
    out.push(...res.items);
    cursor = res.nextCursor;
    if (!cursor) return out;
  }
  throw new CliError(`listing ${path} did not end after 10000 pages`, ExitCode.FAILURE);
}

/** `zone=a,rack=r1` -> {zone: 'a', rack: 'r1'} */
export function parseLabels(text: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0)
      throw new CliError(`${what}: expected key=value pairs, got "${part}"`, ExitCode.USAGE);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}
