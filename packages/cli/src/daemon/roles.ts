import { mkdirSync } from 'node:fs';
import { createMetricsRegistry, parseHostPort, startOpsServer } from '@ballast/common';
import type { DaemonContext, Running } from './lifecycle.js';
import type { AgentConfig, MetaConfig, NodeConfig } from './schemas.js';

// Each role is assembled here from the packages that implement it. Parts that have not landed yet
// are listed in docs/status.md; until then a role runs the shared process skeleton: validated
// configuration, logging, its data directory, health and Prometheus metrics.

export async function startMeta(config: MetaConfig, ctx: DaemonContext): Promise<Running> {
  mkdirSync(config.dataDir, { recursive: true });
  const registry = createMetricsRegistry({ role: 'meta', member: config.id });
  const { host, port } = parseHostPort(config.listen ?? '127.0.0.1:0', 'listen');
  const ops = await startOpsServer({ host, port, registry });
  ctx.log.debug({ dataDir: config.dataDir, peers: config.peers }, 'meta member configured');
  return { endpoints: { api: ops.url, metrics: `${ops.url}/metrics` }, close: () => ops.close() };
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
  mkdirSync(config.stateDir, { recursive: true });
  const registry = createMetricsRegistry({ role: 'agent', host: config.id });
  const { host, port } = parseHostPort(config.opsListen ?? '127.0.0.1:0', 'opsListen');
  const ops = await startOpsServer({ host, port, registry });
  ctx.log.debug({ stateDir: config.stateDir }, 'agent configured');
  return {
    endpoints: { metrics: `${ops.url}/metrics`, health: `${ops.url}/healthz` },
    close: () => ops.close(),
  };
}
