import type { Command } from 'commander';
import { ApiClient, resolveEndpoint, type EndpointFlags } from '../client.js';

/** Adds the flags every cluster-facing command accepts. */
export function withEndpointOptions(cmd: Command): Command {
  return cmd
    .option('--cluster <file>', 'cluster.json from `ballast dev up` (env BALLAST_CLUSTER)')
    .option('--endpoint <urls>', 'meta API URLs, comma-separated (env BALLAST_ENDPOINT)')
    .option('--token <token>', 'admin token (env BALLAST_TOKEN)')
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
