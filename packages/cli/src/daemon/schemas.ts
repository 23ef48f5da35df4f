import { Type, type Static } from '@sinclair/typebox';

const Id = Type.String({
  pattern: '^[a-z0-9][a-z0-9._-]{0,62}$',
  description: 'stable process id',
});
const HostPort = Type.String({
  pattern: '^(\\[[0-9a-fA-F:.]+\\]|[^:\\[\\]]+):\\d{1,5}$',
  description: 'host:port',
});
const LogLevel = Type.Union(
  ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
  { default: 'info' },
);
const Url = Type.String({ pattern: '^https?://' });

const common = {
  logLevel: LogLevel,
  /** Pretty logs; unset means "when stdout is a terminal". */
  logPretty: Type.Optional(Type.Boolean()),
  /** Exit when this pid disappears (set by the testkit so orphans never outlive a test run). */
  parentPid: Type.Optional(Type.Integer({ minimum: 1 })),
};

// Settings marked `secret: true` can also be read from a file: the sibling `<key>File` setting
// (`--<key>-file`, `BALLAST_<KEY>_FILE`, e.g. a Docker secret under /run/secrets), which
// loadConfig (@ballast/common) reads at start; every secret has one.

/** Data-plane identity and authentication, shared by storage nodes and agents. */
const dataPlaneAuth = {
  /** Must be the same on every node and agent of the cluster (checked in every hello). */
  clusterId: Type.String({ minLength: 1, default: 'ballast' }),
  /** The data-plane secret (HMAC key, 16+ characters); prefer the file or the environment. */
  dataPlaneSecret: Type.Optional(Type.String({ minLength: 16, secret: true })),
  dataPlaneSecretFile: Type.Optional(Type.String({ minLength: 1 })),
  /** Development only: no data-plane authentication (a warning is logged). */
  insecureDataPlane: Type.Boolean({ default: false }),
  /** CA (PEM file) the data plane's TLS certificates are verified against; nodes' TLS needs it too. */
  dataPlaneTlsCa: Type.Optional(Type.String({ minLength: 1 })),
};

export const MetaConfig = Type.Object(
  {
    ...common,
    id: Id,
    dataDir: Type.String({ minLength: 1 }),
    /** Admin REST API, Raft transport (ws) and /metrics share this address. */
    listen: Type.Optional(HostPort),
    /** The URL other members and clients should use for this member (defaults to http://listen). */
    advertise: Type.Optional(Url),
    /** Initial members as id=url pairs, this member included. */
    peers: Type.Array(Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*=https?://.+$' }), {
      default: [],
    }),
    clusterId: Type.String({ minLength: 1, default: 'ballast' }),
    token: Type.Optional(Type.String({ minLength: 16, secret: true })),
    tokenFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Shared by all members to authenticate Raft traffic (defaults to the admin token). */
    clusterSecret: Type.Optional(Type.String({ minLength: 16, secret: true })),
    clusterSecretFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Cluster join token nodes and agents present (reads, registration, heartbeats, volumes). */
    joinToken: Type.Optional(Type.String({ minLength: 16, secret: true })),
    joinTokenFile: Type.Optional(Type.String({ minLength: 1 })),
    /** HTTPS for the API and wss for Raft: certificate and key (PEM files). */
    tlsCert: Type.Optional(Type.String({ minLength: 1 })),
    tlsKey: Type.Optional(Type.String({ minLength: 1 })),
    /** CA peers and forwarded requests are verified against; Raft peers must present a certificate it signed. */
    tlsCa: Type.Optional(Type.String({ minLength: 1 })),
    /** API rate limit per client (token kind and address): `REQUESTS/DURATION`, or `off`. */
    rateLimit: Type.String({
      default: '20000/10s',
      pattern: '^(off|[0-9]+/[0-9]+(ms|s|m|h))$',
      description: 'REQUESTS/DURATION such as 20000/10s, or off',
    }),
    /** Budget of the cluster's own traffic (heartbeats, registration, watch, replica reports). */
    rateLimitCluster: Type.String({
      default: '20000/10s',
      pattern: '^[0-9]+/[0-9]+(ms|s|m|h)$',
      description: 'REQUESTS/DURATION such as 20000/10s',
    }),
    /** Budget of requests without a valid token, per address. */
    rateLimitAnonymous: Type.String({
      default: '1000/10s',
      pattern: '^[0-9]+/[0-9]+(ms|s|m|h)$',
      description: 'REQUESTS/DURATION such as 1000/10s',
    }),
    /** Largest request body the API reads. */
    bodyLimit: Type.String({ default: '64KiB', description: 'a size such as 64KiB' }),
    /** Open connections from one address at most (0: no bound). */
    maxConnectionsPerAddress: Type.Integer({ minimum: 0, default: 1024 }),
    /** Join a running cluster (empty data dir; the leader adds this member) instead of founding one. */
    join: Type.Boolean({ default: false }),
    /** Mark a storage node down after this long without a heartbeat. */
    nodeTimeout: Type.String({ default: '15s', description: 'a duration such as 15s' }),
    /** A Docker host whose agent is silent this long is presumed dead (its volumes may be taken over). */
    hostTimeout: Type.String({ default: '30s', description: 'a duration such as 30s' }),
    /** How often the leader's control loop plans (failure handling, rebuilds, drain, rebalance). */
    controlInterval: Type.String({ default: '1s', description: 'a duration such as 1s' }),
    /** Bound on the map changes one control-loop tick proposes. */
    controlCommandsPerTick: Type.Integer({ minimum: 1, maximum: 10_000, default: 32 }),
  },
  { additionalProperties: false },
);
export type MetaConfig = Static<typeof MetaConfig>;

export const NodeConfig = Type.Object(
  {
    ...common,
    id: Id,
    dataDir: Type.String({ minLength: 1 }),
    /** Serve the data plane over TLS with this certificate and key (PEM files; with dataPlaneTlsCa). */
    dataPlaneTlsCert: Type.Optional(Type.String({ minLength: 1 })),
    dataPlaneTlsKey: Type.Optional(Type.String({ minLength: 1 })),
    /** Data-plane address (TCP). */
    listen: Type.Optional(HostPort),
    /** Address peers and agents use to reach the data plane (defaults to listen). */
    advertise: Type.Optional(HostPort),
    opsListen: Type.Optional(HostPort),
    meta: Type.Array(Url, { default: [] }),
    labels: Type.Record(Type.String({ pattern: '^[a-zA-Z0-9._/-]+$' }), Type.String(), {
      default: {},
    }),
    capacity: Type.Optional(
      Type.String({ description: 'capacity to offer, e.g. 100GiB (default: free disk space)' }),
    ),
    /** Bearer token for meta's API (the admin token today); prefer the file or the environment. */
    joinToken: Type.Optional(Type.String({ minLength: 16, secret: true })),
    joinTokenFile: Type.Optional(Type.String({ minLength: 1 })),
    ...dataPlaneAuth,
    /** Background scrub rate per second (e.g. 8MiB); 0 turns the scrub off. */
    /**
     * Copy rate of node-to-node rebuilds of unattached volumes; meta's cluster setting
     * (rebuildBandwidthBytesPerSecond) wins when it is set.
     */
    rebuildRate: Type.String({ default: '64MiB', description: 'bytes per second, e.g. 64MiB' }),
    scrubRate: Type.String({
      default: '8MiB',
      description: 'a size per second such as 8MiB, or 0',
    }),
    /** Pause between scrub passes. */
    scrubInterval: Type.String({ default: '6h', description: 'a duration such as 6h' }),
    /** How often the node tells meta it is alive (meta's nodeTimeout is 15 s by default). */
    heartbeatInterval: Type.String({ default: '3s', description: 'a duration such as 3s' }),
    /**
     * A local replica the map no longer lists on this node is deleted after it stayed unlisted
     * this long.
     */
    orphanGrace: Type.String({ default: '10s', description: 'a duration such as 10s' }),
  },
  { additionalProperties: false },
);
export type NodeConfig = Static<typeof NodeConfig>;

export const AgentConfig = Type.Object(
  {
    ...common,
    id: Id,
    stateDir: Type.String({ minLength: 1 }),
    /** Unix sockets of NBD exports, FUSE mount points. */
    runDir: Type.Optional(Type.String({ minLength: 1 })),
    pluginSocket: Type.String({ minLength: 1, default: '/run/docker/plugins/ballast.sock' }),
    opsListen: Type.Optional(HostPort),
    meta: Type.Array(Url, { default: [] }),
    joinToken: Type.Optional(Type.String({ minLength: 16, secret: true })),
    joinTokenFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Bearer token for meta's API; prefer tokenFile or BALLAST_TOKEN over a flag. */
    token: Type.Optional(Type.String({ minLength: 16, secret: true })),
    tokenFile: Type.Optional(Type.String({ minLength: 1 })),
    ...dataPlaneAuth,
    /** Filesystems are mounted at <mountRoot>/<volume> (default <stateDir>/mounts). */
    mountRoot: Type.Optional(Type.String({ minLength: 1 })),
    /** Admin socket for `ballast volume attach|detach` (default <stateDir>/agent.sock, 0600). */
    adminSocket: Type.Optional(Type.String({ minLength: 1 })),
    /** Optional TCP NBD export of raw attachments (unauthenticated: loopback only, say). */
    nbdListen: Type.Optional(HostPort),
    maxNbdAttachments: Type.Integer({ minimum: 1, maximum: 65536, default: 1024 }),
    /** A replica that does not answer one request within this leaves the in-sync set. */
    replicaTimeout: Type.String({ default: '15s', description: 'a duration such as 15s' }),
    /** How often the agent tells meta this host is alive (meta's hostTimeout is 30 s). */
    heartbeatInterval: Type.String({ default: '3s', description: 'a duration such as 3s' }),
    /**
     * Embedded storage node (a hyperconverged host): with a data directory, the agent also runs
     * a storage node in its own process, and its engines reach that node's replicas without a
     * socket. The node joins the cluster like `ballastd node` (same meta URLs and join token).
     */
    nodeDataDir: Type.Optional(Type.String({ minLength: 1 })),
    /** The embedded node's id (default: the agent's id). */
    nodeId: Type.Optional(Id),
    /** The embedded node's data-plane address (other agents and nodes dial it). */
    nodeListen: Type.Optional(HostPort),
    nodeAdvertise: Type.Optional(HostPort),
    nodeOpsListen: Type.Optional(HostPort),
    /** Placement labels of the embedded node; `host` defaults to the agent's id. */
    nodeLabels: Type.Record(Type.String({ pattern: '^[a-zA-Z0-9._/-]+$' }), Type.String(), {
      default: {},
    }),
    nodeCapacity: Type.Optional(
      Type.String({ description: 'capacity to offer, e.g. 100GiB (default: free disk space)' }),
    ),
    /** The embedded node serves the data plane over TLS (with dataPlaneTlsCa). */
    nodeDataPlaneTlsCert: Type.Optional(Type.String({ minLength: 1 })),
    nodeDataPlaneTlsKey: Type.Optional(Type.String({ minLength: 1 })),
    nodeRebuildRate: Type.String({ default: '64MiB', description: 'bytes per second, e.g. 64MiB' }),
    nodeScrubRate: Type.String({
      default: '8MiB',
      description: 'a size per second such as 8MiB, or 0',
    }),
  },
  { additionalProperties: false },
);
export type AgentConfig = Static<typeof AgentConfig>;
