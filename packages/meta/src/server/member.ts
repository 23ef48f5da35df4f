import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import {
  BallastError,
  SteadyClock,
  createMetricsRegistry,
  type Logger,
  type TlsMaterial,
} from '@ballast/common';
import { RAFT_PATH, RaftMember, type PeerAddress } from '@ballast/raft-node';
import {
  HostLiveness,
  NodeLiveness,
  buildApi,
  sweepLiveness,
  type ApiContext,
  type ApiOptions,
} from '../api/index.js';
import { FORWARD_PROPOSE_PATH, MapStateMachine, RaftMetaStore } from '../store/raft-store.js';
import { decodeCommand, type ApplyResult, type Command } from '../map/index.js';
import { ControlLoop, DEFAULT_CONTROL_COMMANDS_PER_TICK } from '../control/index.js';
import { MembershipService, membershipRoutes } from './membership.js';

export interface MetaMemberConfig {
  id: string;
  dataDir: string;
  /** host and port to listen on (port 0 picks one). */
  host: string;
  port: number;
  /** URL others use for this member's API; defaults to http://host:port. */
  advertise?: string | undefined;
  /**
   * Founding members as id -> API URL, this one included. With `join`, the current members
   * (this one may be left out when host and port are fixed, or advertise is set).
   */
  peers: Record<string, string>;
  /**
   * Join a running cluster instead of founding one: with an empty data dir the member starts
   * with no configuration and waits until the leader adds it (POST /v1/cluster/members). Once
   * its data dir holds a log, the flag changes nothing.
   */
  join?: boolean | undefined;
  /** How long POST /v1/cluster/members waits for a new learner to catch up. */
  catchUpTimeoutMs?: number;
  clusterId: string;
  /** Admin token; when absent, one is read from or generated into dataDir/admin-token (0600). */
  token?: string | undefined;
  /** Secret members authenticate Raft traffic with; defaults to the admin token. */
  clusterSecret?: string | undefined;
  /** Cluster join token for nodes and agents: reads and the routes in JOIN_TOKEN_ROUTES. */
  joinToken?: string | undefined;
  /**
   * HTTPS for the API and wss for Raft (see loadTlsFiles); every peer URL must be https. With a
   * CA, outgoing Raft connections verify peers against it and incoming ones must present a
   * certificate it signed.
   */
  tls?: TlsMaterial | undefined;
  /** API limits; defaults in buildApi. */
  apiLimits?: Pick<ApiOptions, 'rateLimit' | 'connections' | 'bodyLimitBytes'> | undefined;
  /** A node silent this long is marked down by the leader. */
  nodeTimeoutMs?: number;
  /** A Docker host's agent silent this long is presumed dead (default 30 s). */
  hostTimeoutMs?: number;
  tickMs?: number;
  /** How often the leader runs the control loops (repair, drain, rebalance); default 1 s. */
  controlIntervalMs?: number;
  /** Commands the control loops propose per tick at most; default 32. */
  controlCommandsPerTick?: number;
}

export interface RunningMember {
  apiUrl: string;
  store: RaftMetaStore;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** `http://h:p` -> the Raft endpoint on the same server. */
export function peerAddressFor(apiUrl: string): PeerAddress {
  const u = new URL(apiUrl);
  const ws = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return { peerUrl: `${ws}//${u.host}${RAFT_PATH}`, apiUrl: apiUrl.replace(/\/$/, '') };
}

/** The admin token: configured, or bootstrapped once into the data dir with mode 0600. */
export function resolveAdminToken(dataDir: string, configured: string | undefined): string {
  if (configured) return configured;
  const path = join(dataDir, 'admin-token');
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const token = randomBytes(24).toString('hex');
  writeFileSync(path, token + '\n', { mode: 0o600, flag: 'wx' });
  return token;
}

/**
 * The Raft transport shares the API's port: upgrade requests for /raft go to the transport (it
 * authenticates peers itself); every other upgrade (the watch) goes to fastify's websocket
 * handling, which would otherwise answer /raft with 401 or 404.
 */
function routeRaftUpgrades(app: FastifyInstance, member: RaftMember<ApplyResult>): void {
  const fastifyListeners = app.server.listeners('upgrade') as Array<(...args: unknown[]) => void>;
  app.server.removeAllListeners('upgrade');
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === RAFT_PATH) member.transport.handleUpgrade(req, socket, head);
    else for (const l of fastifyListeners) l.call(app.server, req, socket, head);
  });
}

const ForwardBody = Type.Object(
  { command: Type.Object({}, { additionalProperties: true }) },
  { additionalProperties: false },
);

/**
 * One metadata member: the Raft member (log in LevelDB, transport over ws on the API's own port
 * at /raft), the cluster map state machine, and the admin REST API with the leader's liveness loop.
 */
export async function startMetaMember(
  config: MetaMemberConfig,
  log: Logger,
): Promise<RunningMember> {
  mkdirSync(config.dataDir, { recursive: true });
  const scheme = config.tls ? 'https' : 'http';
  const peerUrls = { ...config.peers };
  if (!(config.id in peerUrls)) {
    const self =
      config.advertise ?? (config.port !== 0 ? `${scheme}://${config.host}:${config.port}` : '');
    if (!config.join || self === '') {
      throw new BallastError('CONFIG', `--peers must include this member (${config.id}=URL)`);
    }
    peerUrls[config.id] = self;
  }
  if (config.tls) {
    for (const [id, url] of Object.entries(peerUrls)) {
      if (!url.startsWith('https://'))
        throw new BallastError('CONFIG', `with TLS every member URL must be https: ${id}=${url}`);
    }
  }
  const token = resolveAdminToken(config.dataDir, config.token);
  const secret = config.clusterSecret ?? token;
  if (secret.length < 16)
    throw new BallastError('CONFIG', 'the cluster secret must be at least 16 characters');
  const registry = createMetricsRegistry({ role: 'meta', member: config.id });

  const stateMachine = new MapStateMachine();
  const peers: Record<string, PeerAddress> = {};
  for (const [id, url] of Object.entries(peerUrls)) peers[id] = peerAddressFor(url);
  const member = await RaftMember.open<ApplyResult>({
    clusterId: config.clusterId,
    memberId: config.id,
    dataDir: join(config.dataDir, 'raft'),
    secret,
    peers,
    // A joining member founds nothing: the leader's conf changes and snapshot tell it the rest.
    ...(config.join ? {} : { initialVoters: Object.keys(peerUrls).sort() }),
    stateMachine,
    logger: log.child({ component: 'raft' }),
    metricsRegistry: registry,
    ...(config.tickMs ? { tickMs: config.tickMs } : {}),
    ...(config.tls
      ? {
          transport: {
            tls: {
              cert: config.tls.cert,
              key: config.tls.key,
              ...(config.tls.ca ? { ca: config.tls.ca, requirePeerCertificate: true } : {}),
            },
          },
        }
      : {}),
  });
  // A member that hit a disk or state-machine failure has stopped; a process that keeps serving
  // the API without it would only answer 503s, so it exits and its supervisor restarts it.
  member.on('fatal', (err: unknown) => {
    log.fatal({ err }, 'raft member failed; exiting');
    log.flush();
    setImmediate(() => process.exit(70));
  });
  // One clock for the API, liveness, the control loop and command times: the wall clock, but a
  // step of it (NTP, an operator) is slewed in rather than jumped (SteadyClock).
  const steady = new SteadyClock();
  const clock = (): number => steady.now();
  const store = new RaftMetaStore({ member, stateMachine, token, log, clock });
  const liveness = new NodeLiveness();
  const hostLiveness = new HostLiveness();
  const membership = new MembershipService({
    member,
    store,
    token,
    peerAddressFor,
    ...(config.catchUpTimeoutMs ? { catchUpTimeoutMs: config.catchUpTimeoutMs } : {}),
  });

  const internalRoutes = async (app: FastifyInstance, _ctx: ApiContext): Promise<void> => {
    app.post(
      FORWARD_PROPOSE_PATH,
      { schema: { hide: true, body: ForwardBody } as object },
      async (request) => {
        const { command } = request.body as { command: Command };
        // Checked here as on the way in from the public routes: a command the map would refuse
        // as malformed never takes a slot in the log.
        const decoded = decodeCommand(command);
        if (!decoded.ok) throw new BallastError('INVALID_ARGUMENT', decoded.message);
        return { result: await store.proposeForwarded(decoded.command) };
      },
    );
  };
  const nodeTimeoutMs = config.nodeTimeoutMs ?? 15_000;
  const control = new ControlLoop({
    store,
    liveness,
    nodeTimeoutMs,
    maxCommandsPerTick: config.controlCommandsPerTick ?? DEFAULT_CONTROL_COMMANDS_PER_TICK,
    log: log.child({ component: 'control' }),
    metricsRegistry: registry,
  });
  const app = await buildApi({
    store,
    outlook: (volumeId) => control.outlook(volumeId),
    token,
    joinToken: config.joinToken,
    https: config.tls,
    ...config.apiLimits,
    liveness,
    hostLiveness,
    clock,
    ...(config.hostTimeoutMs !== undefined ? { hostTimeoutMs: config.hostTimeoutMs } : {}),
    metricsRegistry: registry,
    plugins: [internalRoutes, membershipRoutes(membership)],
  });
  routeRaftUpgrades(app, member);
  await app.listen({ host: config.host, port: config.port });

  // A new leader counts node silence from its own start (NodeLiveness), so a leader change never
  // marks the cluster down; only the leader sweeps.
  member.on('leader', () => {
    liveness.clear();
    hostLiveness.clear();
  });
  let sweeping = false;
  const sweeper = setInterval(() => {
    if (sweeping || !store.isLeader()) return;
    sweeping = true;
    sweepLiveness(store, liveness, clock(), nodeTimeoutMs)
      .catch((err: unknown) => log.debug({ err }, 'liveness sweep failed'))
      .finally(() => (sweeping = false));
  }, 1000);
  sweeper.unref();

  const controller = setInterval(() => {
    if (!store.isLeader()) return;
    control.tick(clock()).catch((err: unknown) => log.warn({ err }, 'control tick failed'));
  }, config.controlIntervalMs ?? 1000);
  controller.unref();

  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const apiUrl = config.advertise ?? `${scheme}://${config.host}:${port}`;
  return {
    apiUrl,
    store,
    app,
    close: async () => {
      clearInterval(sweeper);
      clearInterval(controller);
      // Raft first: app.close() waits for every open socket, and the inbound Raft websockets
      // only end when the member closes its transport.
      await member.close();
      await app.close();
    },
  };
}
