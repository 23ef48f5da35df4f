#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { BallastError, loadConfig } from '@ballast/common';
import type { TObject } from '@sinclair/typebox';
import { runDaemon, type DaemonContext, type Running } from '../daemon/lifecycle.js';
import { startAgent, startMeta, startNode } from '../daemon/roles.js';
import { AgentConfig, MetaConfig, NodeConfig } from '../daemon/schemas.js';
import { VERSION } from '../version.js';

const program = new Command('ballastd')
  .description('Ballast servers: run one metadata member, storage node or host agent per process.')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .showSuggestionAfterError(true)
  .exitOverride();

function commonOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'JSON config file (keys are the camelCase flag names)')
    .addOption(
      new Option('--log-level <level>', 'log level').choices([
        'fatal',
        'error',
        'warn',
        'info',
        'debug',
        'trace',
        'silent',
      ]),
    )
    .option('--log-pretty', 'human-readable logs (default when stdout is a terminal)')
    .addHelpText(
      'after',
      '\nEvery flag can also be set through the environment (BALLAST_<FLAG_NAME>, e.g. BALLAST_DATA_DIR)\nor in the --config file; flags win over the environment, which wins over the file.',
    );
}

function role<S extends TObject>(
  name: 'meta' | 'node' | 'agent',
  schema: S,
  start: (config: never, ctx: DaemonContext) => Promise<Running>,
  describe: (cmd: Command) => Command,
): void {
  const cmd = describe(commonOptions(program.command(name))).action(
    async (opts: Record<string, unknown>) => {
      let config: Record<string, unknown>;
      try {
        const { config: file, ...flags } = opts;
        config = loadConfig(schema, { flags, file: file as string | undefined }) as Record<
          string,
          unknown
        >;
      } catch (err) {
        process.stderr.write(`ballastd ${name}: ${(err as Error).message}\n`);
        process.exit(2);
      }
      await runDaemon(`${name}/${String(config.id)}`, config as never, (ctx) =>
        start(config as never, ctx),
      );
    },
  );
  cmd.exitOverride();
}

role('meta', MetaConfig, startMeta, (cmd) =>
  cmd
    .description('run a metadata member: the Raft-replicated cluster map and the admin REST API')
    .option('--id <id>', 'member id, stable across restarts (e.g. m1)')
    .option('--data-dir <dir>', 'where the Raft log, snapshots and keys live')
    .option(
      '--listen <host:port>',
      'REST API, Raft transport and metrics address (default 127.0.0.1:0)',
    )
    .option('--advertise <url>', 'URL other members and clients use for this member')
    .option('--peers <list>', 'initial members as id=url pairs, comma-separated, this one included')
    .option('--cluster-id <id>', 'cluster id; members of other clusters are refused')
    .option('--token <token>', 'admin API token (prefer --token-file or BALLAST_TOKEN)')
    .option('--token-file <file>', 'file holding the admin API token')
    .option(
      '--cluster-secret <secret>',
      'secret members authenticate Raft traffic with (prefer BALLAST_CLUSTER_SECRET)',
    )
    .option('--cluster-secret-file <file>', 'file holding the Raft cluster secret')
    .option(
      '--join-token <token>',
      'cluster join token for nodes and agents (prefer --join-token-file or BALLAST_JOIN_TOKEN)',
    )
    .option('--join-token-file <file>', 'file holding the cluster join token')
    .option('--tls-cert <file>', 'serve the API over https and Raft over wss with this certificate')
    .option('--tls-key <file>', "the certificate's private key")
    .option(
      '--tls-ca <file>',
      'CA that Raft peers must present a certificate of, and that other members are verified against',
    )
    .option(
      '--rate-limit <n/duration>',
      'API requests per client (token kind and address), e.g. 20000/10s, or off',
    )
    .option(
      '--rate-limit-cluster <n/duration>',
      "budget of the cluster's own traffic: heartbeats, registration, watch, replica reports",
    )
    .option('--rate-limit-anonymous <n/duration>', 'requests without a valid token, per address')
    .option('--body-limit <size>', 'largest request body (default 64KiB)')
    .option(
      '--max-connections-per-address <n>',
      'open connections from one address at most (default 1024, 0 = no bound)',
    )
    .option(
      '--join',
      'join a running cluster (the leader adds this member) instead of founding one',
    )
    .option(
      '--node-timeout <duration>',
      'mark a storage node down after this long without heartbeats (default 15s)',
    )
    .option(
      '--host-timeout <duration>',
      "presume a Docker host dead after this long without its agent's heartbeats; a Docker mount elsewhere may then take its volumes over (default 30s)",
    )
    .option(
      '--control-interval <duration>',
      "how often the leader's control loop plans rebuilds, drains and rebalancing (default 1s)",
    )
    .option(
      '--control-commands-per-tick <n>',
      'bound on the map changes one control-loop tick proposes (default 32)',
    ),
);

role('node', NodeConfig, startNode, (cmd) =>
  cmd
    .description('run a storage node: the chunk store and the data-plane server')
    .option('--id <id>', 'node id, stable across restarts (e.g. n1)')
    .option('--data-dir <dir>', 'where replicas and the chunk index live')
    .option('--listen <host:port>', 'data-plane address')
    .option('--advertise <host:port>', 'data-plane address peers and agents use')
    .option('--ops-listen <host:port>', 'health and metrics address (default 127.0.0.1:0)')
    .option('--meta <urls>', 'metadata service URLs, comma-separated')
    .option('--labels <k=v,...>', 'placement labels, e.g. zone=a,rack=r1')
    .option('--capacity <size>', 'capacity to offer, e.g. 100GiB')
    .option('--join-token <token>', 'token for the meta API (prefer BALLAST_JOIN_TOKEN)')
    .option('--join-token-file <file>', 'file holding the token for the meta API')
    .option('--cluster-id <id>', 'cluster id checked in every data-plane hello')
    .option(
      '--data-plane-secret-file <file>',
      'file holding the data-plane secret (or BALLAST_DATA_PLANE_SECRET)',
    )
    .option('--insecure-data-plane', 'development only: no data-plane authentication')
    .option('--data-plane-tls-cert <file>', 'serve the data plane over TLS: certificate (PEM)')
    .option('--data-plane-tls-key <file>', 'data-plane TLS private key (PEM)')
    .option(
      '--data-plane-tls-ca <file>',
      'CA (PEM) that peer nodes are verified against (needed with the certificate)',
    )
    .option('--scrub-rate <size>', 'background scrub rate per second, e.g. 8MiB (0 = off)')
    .option(
      '--rebuild-rate <size>',
      "node-to-node rebuild rate per second (default 64MiB; meta's setting wins)",
    )
    .option('--scrub-interval <duration>', 'pause between scrub passes (default 6h)')
    .option('--heartbeat-interval <duration>', 'how often to heartbeat to meta (default 3s)')
    .option(
      '--orphan-grace <duration>',
      'delete replicas the map no longer lists after this long (default 10s)',
    ),
);

role('agent', AgentConfig, startAgent, (cmd) =>
  cmd
    .description(
      'run the host agent: volume engines, NBD exports, mounts and the Docker volume plugin',
    )
    .option('--id <id>', 'host id, stable across restarts')
    .option('--state-dir <dir>', 'attachment and mount state')
    .option('--run-dir <dir>', 'NBD sockets and FUSE mount points')
    .option(
      '--plugin-socket <path>',
      'Docker volume plugin socket (default /run/docker/plugins/ballast.sock)',
    )
    .option('--ops-listen <host:port>', 'health and metrics address (default 127.0.0.1:0)')
    .option('--meta <urls>', 'metadata service URLs, comma-separated')
    .option('--join-token <token>', 'cluster join token')
    .option('--join-token-file <file>', 'file holding the cluster join token')
    .option('--token-file <file>', 'file holding the meta API token (or BALLAST_TOKEN)')
    .option('--cluster-id <id>', 'cluster id checked in every data-plane hello')
    .option(
      '--data-plane-secret-file <file>',
      'file holding the data-plane secret (or BALLAST_DATA_PLANE_SECRET)',
    )
    .option('--insecure-data-plane', 'development only: no data-plane authentication')
    .option(
      '--data-plane-tls-ca <file>',
      'dial storage nodes over TLS, verifying them against this CA (PEM); nodes must serve TLS',
    )
    .option(
      '--mount-root <dir>',
      'filesystems are mounted at DIR/<volume> (default STATE_DIR/mounts)',
    )
    .option(
      '--admin-socket <path>',
      'socket for `ballast volume attach` (default STATE_DIR/agent.sock)',
    )
    .option('--nbd-listen <host:port>', 'also export raw attachments over TCP (unauthenticated)')
    .option('--max-nbd-attachments <n>', 'raw attachments at most (default 1024)')
    .option(
      '--replica-timeout <duration>',
      'a replica that does not answer one request within this leaves the in-sync set (default 15s)',
    )
    .option(
      '--heartbeat-interval <duration>',
      "how often to tell meta this host is alive (default 3s; meta's --host-timeout is 30s)",
    )
    .option(
      '--node-data-dir <dir>',
      'also run a storage node in this process with its replicas here (engines reach it without a socket)',
    )
    .option('--node-id <id>', "the embedded node's id (default: the agent's --id)")
    .option('--node-listen <host:port>', "the embedded node's data-plane address")
    .option('--node-advertise <host:port>', 'data-plane address other agents and nodes use')
    .option('--node-ops-listen <host:port>', "the embedded node's health and metrics address")
    .option('--node-labels <k=v,...>', "the embedded node's placement labels (host=<id> added)")
    .option('--node-capacity <size>', 'capacity the embedded node offers, e.g. 100GiB')
    .option('--node-data-plane-tls-cert <file>', 'the embedded node serves TLS: certificate (PEM)')
    .option('--node-data-plane-tls-key <file>', "the embedded node's TLS private key (PEM)")
    .option('--node-rebuild-rate <size>', 'node-to-node rebuild rate per second (default 64MiB)')
    .option('--node-scrub-rate <size>', 'background scrub rate per second (default 8MiB, 0 = off)'),
);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version exit 0; usage errors exit 2 (commander already printed the message).
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  process.stderr.write(`ballastd: ${err instanceof BallastError ? err.message : String(err)}\n`);
  process.exit(1);
}
