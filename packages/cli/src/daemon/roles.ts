import { readFileSync } from 'node:fs';
import { Agent, setGlobalDispatcher } from 'undici';
import {
  BallastError,
  loadTlsFiles,
  parseDuration,
  parseHostPort,
  parseSize,
} from '@ballast/common';
import { startAgent as startHostAgent } from '@ballast/agent';
import { startMetaMember, type RateBudget } from '@ballast/meta';
import { MetaSync, startStorageNode, type StorageNode } from '@ballast/node';
import type { DaemonContext, Running } from './lifecycle.js';
import type { AgentConfig, MetaConfig, NodeConfig } from './schemas.js';

// Each role is assembled here from the packages that implement it: meta members from
// @ballast/meta, storage nodes from @ballast/node (data plane, chunk store, scrub, and the sync
// loop that registers with meta and makes local replicas follow the map), host agents from
// @ballast/agent (with its cluster backend when meta URLs are configured).

export async function startMeta(config: MetaConfig, ctx: DaemonContext): Promise<Running> {
  const { host, port } = parseHostPort(config.listen ?? '127.0.0.1:0', 'listen');
  const peers: Record<string, string> = {};
  for (const pair of config.peers) {
    const eq = pair.indexOf('=');
    peers[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  if (Object.keys(peers).length === 0 && !config.join) {
    // A single member that names no peers: a one-member cluster of itself.
    if (port === 0)
      throw new BallastError('CONFIG', 'a member without --peers needs a fixed --listen port');
    peers[config.id] = config.advertise ?? `${config.tlsCert ? 'https' : 'http'}://${host}:${port}`;
  }
  const token =
    config.token ?? (config.tokenFile ? readFileSync(config.tokenFile, 'utf8').trim() : undefined);
  const joinToken = readSecret(config.joinToken, config.joinTokenFile, 'joinTokenFile');
  const tls = loadTlsFiles({
    certFile: config.tlsCert,
    keyFile: config.tlsKey,
    caFile: config.tlsCa,
  });
  if (tls?.ca !== undefined) {
    // Members forward writes and membership changes to the leader with fetch: make this
    // process's fetch trust the cluster's CA (it talks to no one else).
    setGlobalDispatcher(new Agent({ connect: { ca: tls.ca } }));
  }
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
      hostTimeoutMs: parseDuration(config.hostTimeout, 'hostTimeout'),
      controlIntervalMs: parseDuration(config.controlInterval, 'controlInterval'),
      controlCommandsPerTick: config.controlCommandsPerTick,
      join: config.join,
      joinToken,
      tls,
      apiLimits: {
        rateLimit:
          config.rateLimit === 'off'
            ? false
            : {
                api: parseRateBudget(config.rateLimit, 'rateLimit'),
                cluster: parseRateBudget(config.rateLimitCluster, 'rateLimitCluster'),
                anonymous: parseRateBudget(config.rateLimitAnonymous, 'rateLimitAnonymous'),
              },
        connections: { perAddress: config.maxConnectionsPerAddress },
        bodyLimitBytes: parseSize(config.bodyLimit, 'bodyLimit'),
      },
    },
    ctx.log,
  );
  return {
    endpoints: { api: member.apiUrl, metrics: `${member.apiUrl}/metrics` },
    close: () => member.close(),
  };
}

export async function startNode(config: NodeConfig, ctx: DaemonContext): Promise<Running> {
  const { node, close } = await startJoinedNode(config, ctx);
  return { endpoints: node.endpoints, close };
}

/** A storage node and, with meta URLs, the sync loop that registers it and follows the map. */
async function startJoinedNode(
  config: NodeConfig,
  ctx: DaemonContext,
): Promise<{ node: StorageNode; close: () => Promise<void> }> {
  const heartbeatIntervalMs = parseDuration(config.heartbeatInterval, 'heartbeatInterval');
  const orphanGraceMs = parseDuration(config.orphanGrace, 'orphanGrace');
  const scrubIntervalMs = parseDuration(config.scrubInterval, 'scrubInterval');
  const scrubBytesPerSecond = parseSize(config.scrubRate, 'scrubRate');
  const rebuildBandwidthBytesPerSecond = parseSize(config.rebuildRate, 'rebuildRate');
  const token = readSecret(config.joinToken, config.joinTokenFile, 'joinTokenFile');
  if (config.meta.length > 0 && token === undefined) {
    throw new BallastError(
      'CONFIG',
      'a node that joins meta needs its token: set BALLAST_JOIN_TOKEN or joinTokenFile',
    );
  }
  const node = await startStorageNode(
    {
      id: config.id,
      dataDir: config.dataDir,
      listen: config.listen,
      advertise: config.advertise,
      opsListen: config.opsListen,
      labels: config.labels,
      capacity: config.capacity,
      clusterId: config.clusterId,
      dataPlaneSecret: config.dataPlaneSecret,
      dataPlaneSecretFile: config.dataPlaneSecretFile,
      insecureDataPlane: config.insecureDataPlane,
      ...(config.dataPlaneTlsCert !== undefined
        ? { dataPlaneTlsCert: config.dataPlaneTlsCert }
        : {}),
      ...(config.dataPlaneTlsKey !== undefined ? { dataPlaneTlsKey: config.dataPlaneTlsKey } : {}),
      ...(config.dataPlaneTlsCa !== undefined ? { dataPlaneTlsCa: config.dataPlaneTlsCa } : {}),
      scrubBytesPerSecond,
      scrubIntervalMs,
      rebuildBandwidthBytesPerSecond,
    },
    ctx.log,
  );
  let sync: MetaSync | undefined;
  if (config.meta.length > 0) {
    try {
      sync = new MetaSync({
        nodeId: config.id,
        address: node.endpoints.dataPlane!,
        labels: config.labels,
        metaUrls: config.meta,
        token: token!,
        replicas: node.replicas,
        capacity: () => node.capacity(),
        log: ctx.log.child({ component: 'meta-sync' }),
        registry: node.registry,
        heartbeatIntervalMs,
        orphanGraceMs,
      });
    } catch (err) {
      await node.close();
      throw err;
    }
    sync.start();
  } else {
    ctx.log.warn('no meta configured: this node serves the data plane but joins no cluster');
  }
  return {
    node,
    close: async () => {
      await sync?.close();
      await node.close();
    },
  };
}

export async function startAgent(config: AgentConfig, ctx: DaemonContext): Promise<Running> {
  // The embedded node starts first: engines the agent reopens at start (raw attachments and
  // mounts of a previous run) may need its replicas.
  const nodeConfig = config.nodeDataDir === undefined ? undefined : embeddedNodeConfig(config);
  const embedded =
    nodeConfig === undefined
      ? undefined
      : await startJoinedNode(nodeConfig, {
          ...ctx,
          log: ctx.log.child({ component: 'embedded-node' }),
        });
  let agent;
  try {
    agent = await startHostAgent(
      {
        id: config.id,
        stateDir: config.stateDir,
        runDir: config.runDir,
        pluginSocket: config.pluginSocket,
        opsListen: config.opsListen,
        meta: config.meta,
        joinToken: config.joinToken,
        token: config.token,
        tokenFile: config.tokenFile,
        clusterId: config.clusterId,
        dataPlaneSecret: config.dataPlaneSecret,
        dataPlaneSecretFile: config.dataPlaneSecretFile,
        insecureDataPlane: config.insecureDataPlane,
        dataPlaneTlsCa: config.dataPlaneTlsCa,
        mountRoot: config.mountRoot,
        adminSocket: config.adminSocket,
        nbdListen: config.nbdListen,
        maxNbdAttachments: config.maxNbdAttachments,
        replicaTimeoutMs: parseDuration(config.replicaTimeout, 'replicaTimeout'),
        hostHeartbeatIntervalMs: parseDuration(config.heartbeatInterval, 'heartbeatInterval'),
        ...(embedded !== undefined
          ? { localNodes: new Map([[nodeConfig!.id, embedded.node.replicaStore]]) }
          : {}),
      },
      ctx.log,
    );
  } catch (err) {
    await embedded?.close();
    throw err;
  }
  const endpoints = { ...agent.endpoints };
  if (embedded !== undefined) {
    for (const [key, value] of Object.entries(embedded.node.endpoints)) {
      endpoints[`node${key[0]!.toUpperCase()}${key.slice(1)}`] = value;
    }
  }
  return {
    endpoints,
    close: async () => {
      // Engines flush and close their sessions (the embedded node's too) before the node stops.
      await agent.close();
      await embedded?.close();
    },
  };
}

/** The embedded node's settings: its own `node*` flags, the rest shared with the agent. */
function embeddedNodeConfig(config: AgentConfig): NodeConfig {
  const id = config.nodeId ?? config.id;
  const joinToken =
    config.joinToken ??
    config.token ??
    (config.tokenFile !== undefined
      ? readSecret(undefined, config.tokenFile, 'tokenFile')
      : undefined);
  return {
    logLevel: config.logLevel,
    id,
    dataDir: config.nodeDataDir!,
    listen: config.nodeListen,
    advertise: config.nodeAdvertise,
    opsListen: config.nodeOpsListen,
    meta: config.meta,
    // Reads and placement know the node is on this host by this label.
    labels: { host: config.id, ...config.nodeLabels },
    capacity: config.nodeCapacity,
    joinToken,
    clusterId: config.clusterId,
    dataPlaneSecret: config.dataPlaneSecret,
    dataPlaneSecretFile: config.dataPlaneSecretFile,
    insecureDataPlane: config.insecureDataPlane,
    dataPlaneTlsCert: config.nodeDataPlaneTlsCert,
    dataPlaneTlsKey: config.nodeDataPlaneTlsKey,
    dataPlaneTlsCa: config.dataPlaneTlsCa,
    rebuildRate: config.nodeRebuildRate,
    scrubRate: config.nodeScrubRate,
    scrubInterval: '6h',
    heartbeatInterval: config.heartbeatInterval,
    orphanGrace: '10s',
  };
}

/** `20000/10s` -> 20000 requests per 10,000 ms. */
export function parseRateBudget(text: string, setting: string): RateBudget {
  const slash = text.indexOf('/');
  const requests = Number(text.slice(0, slash));
  const windowMs = parseDuration(text.slice(slash + 1), setting);
  if (slash <= 0 || !Number.isSafeInteger(requests) || requests < 1 || windowMs < 100) {
    throw new BallastError(
      'CONFIG',
      `${setting}: expected REQUESTS/DURATION with at least 1 request and 100ms, got ${text}`,
    );
  }
  return { requests, windowMs };
}

/** A secret given directly, or read from a file (one trailing newline ignored). */
function readSecret(
  value: string | undefined,
  file: string | undefined,
  setting: string,
): string | undefined {
  if (value !== undefined && value !== '') return value;
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new BallastError('CONFIG', `${setting}: cannot read ${file}: ${(err as Error).message}`);
  }
}
