// A small real cluster in the test process: one meta member and storage nodes (chunk stores,
// data plane over TCP, each following the map with MetaSync). Agents under test run as their own
// processes (agent-cli.js with --meta) so they can be SIGKILLed and SIGSTOPped like a host.
import * as path from 'node:path';
import type { Test } from 'tap';
import { createLogger, type Logger } from '@ballast/common';
import { startMetaMember, type RunningMember } from '@ballast/meta';
import { MetaSync, startStorageNode, type StorageNode } from '@ballast/node';
import { freePort, waitFor } from '@ballast/testkit';
import { startAgentProcess, stopProcess, tempDir, type AgentProcess } from './env.js';

export const TOKEN = 'two-hosts-test-token-0123456789';
export const SECRET = 'two-hosts-test-secret-0123456789';
export const CLUSTER_ID = 'two-hosts';
/** A bound, not an expectation: a Node process start took over 30 s at load average 25 here. */
const AGENT_START_TIMEOUT_MS = 120_000;

export function quietLogger(name: string): Logger {
  return createLogger({
    name,
    level: process.env.BALLAST_TEST_LOG_LEVEL ?? 'silent',
    pretty: false,
    destination: 2,
  });
}

export interface TestCluster {
  dir: string;
  metaUrl: string;
  meta: RunningMember;
  nodes: Map<string, StorageNode>;
  /** GET/POST on meta's API with the admin token; throws on a non-2xx answer. */
  api<T = Record<string, unknown>>(
    method: 'GET' | 'POST' | 'DELETE',
    urlPath: string,
    body?: unknown,
  ): Promise<T>;
  /** Starts an agent process for `host` with the cluster backend, under <dir>/<host>. */
  agent(
    host: string,
    extraArgs?: string[],
    options?: { pluginSocket?: string },
  ): Promise<HostAgent>;
}

export interface HostAgent {
  host: string;
  dir: string;
  stateDir: string;
  pluginSocket: string;
  adminSocket: string;
  mountRoot: string;
  process: AgentProcess;
  /** Starts the agent again with the same arguments (after a kill). */
  restart(): Promise<void>;
}

export async function startCluster(
  t: Test,
  options: { nodes?: number; prefix?: string } = {},
): Promise<TestCluster> {
  const dir = tempDir(t, options.prefix ?? 'ballast-2h-');
  const port = await freePort();
  const metaUrl = `http://127.0.0.1:${port}`;
  const meta = await startMetaMember(
    {
      id: 'm1',
      dataDir: path.join(dir, 'm1'),
      host: '127.0.0.1',
      port,
      peers: { m1: metaUrl },
      clusterId: CLUSTER_ID,
      token: TOKEN,
    },
    quietLogger('meta/m1'),
  );
  t.teardown(() => meta.close());
  await waitFor('a leader', () => meta.store.isLeader(), { timeoutMs: 20_000 });
  const nodes = new Map<string, StorageNode>();
  for (let i = 1; i <= (options.nodes ?? 3); i++) {
    const id = `n${i}`;
    const log = quietLogger(`node/${id}`);
    const labels = { zone: `zone-${id}`, host: `host-${id}` };
    const node = await startStorageNode(
      {
        id,
        dataDir: path.join(dir, id),
        clusterId: CLUSTER_ID,
        dataPlaneSecret: SECRET,
        scrubBytesPerSecond: 0,
        labels,
        capacity: '20GiB',
      },
      log,
    );
    const sync = new MetaSync({
      nodeId: id,
      address: node.endpoints.dataPlane!,
      labels,
      metaUrls: [metaUrl],
      token: TOKEN,
      replicas: node.replicas,
      capacity: () => node.capacity(),
      log,
      heartbeatIntervalMs: 500,
      orphanGraceMs: 300,
    });
    sync.start();
    t.teardown(async () => {
      await sync.close();
      await node.close();
    });
    if (!(await sync.waitRegistered(20_000))) throw new Error(`${id} did not register`);
    nodes.set(id, node);
  }

  const api = async <T>(method: string, urlPath: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${metaUrl}${urlPath}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${urlPath}: ${response.status} ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };

  const agent = async (
    host: string,
    extraArgs: string[] = [],
    options: { pluginSocket?: string } = {},
  ): Promise<HostAgent> => {
    const hostDir = path.join(dir, host);
    const stateDir = path.join(hostDir, 'state');
    const pluginSocket = options.pluginSocket ?? path.join(hostDir, 'plugins', 'ballast.sock');
    const mountRoot = path.join(hostDir, 'mnt');
    const args = [
      '--id',
      host,
      '--state-dir',
      stateDir,
      '--run-dir',
      path.join(hostDir, 'run'),
      '--plugin-socket',
      pluginSocket,
      '--mount-root',
      mountRoot,
      '--meta',
      metaUrl,
      '--cluster-id',
      CLUSTER_ID,
      '--log-level',
      process.env.BALLAST_TEST_LOG_LEVEL ?? 'warn',
      ...extraArgs,
    ];
    const env = { ...process.env, BALLAST_TOKEN: TOKEN, BALLAST_DATA_PLANE_SECRET: SECRET };
    const handle: HostAgent = {
      host,
      dir: hostDir,
      stateDir,
      pluginSocket,
      adminSocket: path.join(stateDir, 'agent.sock'),
      mountRoot,
      process: await startAgentProcess(args, AGENT_START_TIMEOUT_MS, env),
      restart: async () => {
        handle.process = await startAgentProcess(args, AGENT_START_TIMEOUT_MS, env);
      },
    };
    t.teardown(async () => {
      const child = handle.process.child;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGCONT');
      await stopProcess(child);
    });
    return handle;
  };

  return { dir, metaUrl, meta, nodes, api, agent };
}
