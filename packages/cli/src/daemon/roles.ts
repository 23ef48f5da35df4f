import { mkdirSync, readFileSync } from 'node:fs';
import {
  BallastError,
  createMetricsRegistry,
  parseDuration,
  parseHostPort,
  startOpsServer,
} from '@ballast/common';
import { startAgent as startHostAgent } from '@ballast/agent';
import { startMetaMember } from '@ballast/meta';
import type { DaemonContext, Running } from './lifecycle.js';
import type { AgentConfig, MetaConfig, NodeConfig } from './schemas.js';

// Each role is assembled here from the packages that implement it. Parts that have not landed yet
// are listed in docs/status.md; until then a role runs the shared process skeleton: validated
// configuration, logging, its data directory, health and Prometheus metrics.

export async function startMeta(config: MetaConfig, ctx: DaemonContext): Promise<Running> {
  const { host, port } = parseHostPort(config.listen ?? '127.0.0.1:0', 'listen');
  const peers: Record<string, string> = {};
  for (const pair of config.peers) {
    const eq = pair.indexOf('=');
    peers[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  if (Object.keys(peers).length === 0) {
    // A single member that names no peers: a one-member cluster of itself.
    if (port === 0)
      throw new BallastError('CONFIG', 'a member without --peers needs a fixed --listen port');
    peers[config.id] = config.advertise ?? `http://${host}:${port}`;
  }
  const token =
    config.token ?? (config.tokenFile ? readFileSync(config.tokenFile, 'utf8').trim() : undefined);
  const member = await startMetaMember(
    {
      id: config.id,
      dataDir: config.dataDir,
      host,
      port,
      advertise: config.advertise,
      peers,
      clusterId: config.clusterId,
      token,
      clusterSecret: config.clusterSecret,
      nodeTimeoutMs: parseDuration(config.nodeTimeout, 'nodeTimeout'),
    },
    ctx.log,
  );
  return {
    endpoints: { api: member.apiUrl, metrics: `${member.apiUrl}/metrics` },
    close: () => member.close(),
  };
}

export async function startNode(config: NodeConfig, ctx: DaemonContext): Promise<Running> {
  mkdirSync(config.dataDir, { recursive: true });
  const registry = createMetricsRegistry({ role: 'node', node: config.id });
  const { host, port } = parseHostPort(config.opsListen ?? '127.0.0.1:0', 'opsListen');
  const ops = await startOpsServer({ host, port, registry });
  ctx.log.debug({ dataDir: config.dataDir, labels: config.labels }, 'storage node configured');
  return {
    endpoints: { metrics: `${ops.url}/metrics`, health: `${ops.url}/healthz` },
    close: () => ops.close(),
  };
}

export async function startAgent(config: AgentConfig, ctx: DaemonContext): Promise<Running> {
  const agent = await startHostAgent(
    {
      id: config.id,
      stateDir: config.stateDir,
      runDir: config.runDir,
      pluginSocket: config.pluginSocket,
      opsListen: config.opsListen,
      meta: config.meta,
      joinToken: config.joinToken,
    },
    ctx.log,
  );
  return { endpoints: agent.endpoints, close: () => agent.close() };
}
