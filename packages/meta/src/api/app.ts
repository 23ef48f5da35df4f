import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import { Ajv, type ValidateFunction } from 'ajv';
import fastJson from 'fast-json-stringify';
import { Registry } from 'prom-client';
import { BallastError, type TlsMaterial } from '@ballast/common';
import { MAX_REPLICAS, MIN_REPLICAS } from '../map/index.js';
import type { MetaStore } from '../store/index.js';
import type { VolumeOutlook } from '../control/executor.js';
import type { ApiContext } from './context.js';
import { HostLiveness, NodeLiveness } from './liveness.js';
import { DEFAULT_HOST_TIMEOUT_MS, hostRoutes } from './routes/hosts.js';
import { installMetrics } from './metrics.js';
import { WATCH_PROTOCOL } from './auth.js';
import { CONSOLE_PREFIX, consoleRoutes, defaultConsoleDir } from './console.js';
import { installProblemHandlers } from './problem.js';
import {
  DEFAULT_CONNECTION_LIMITS,
  DEFAULT_RATE_LIMITS,
  installSecurity,
  type ConnectionLimits,
  type RateLimitSettings,
} from './security.js';
import { clusterRoutes } from './routes/cluster.js';
import { nodeRoutes } from './routes/nodes.js';
import { taskRoutes } from './routes/tasks.js';
import { volumeRoutes } from './routes/volumes.js';
import { snapshotRoutes } from './routes/snapshots.js';
import { watchRoutes } from './routes/watch.js';

export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;
/** Time a client has to send a whole request (headers and body); upgraded sockets are exempt. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface ApiOptions {
  store: MetaStore;
  /** The admin token: every route but /healthz, /metrics and /docs requires a token, this one works on all. */
  token: string;
  /** The cluster join token for nodes and agents: reads and the routes in JOIN_TOKEN_ROUTES. */
  joinToken?: string | undefined;
  /**
   * Serve HTTPS with this certificate. With a CA, clients are asked for a certificate (not
   * required: the API authenticates with tokens; the Raft endpoint on the same server requires
   * one, see @ballast/raft-node's requirePeerCertificate).
   */
  https?: TlsMaterial | undefined;
  /** Rate limits (each field defaults to DEFAULT_RATE_LIMITS); false turns them off. */
  rateLimit?: Partial<RateLimitSettings> | false;
  /** Connection bounds (defaults: DEFAULT_CONNECTION_LIMITS). */
  connections?: Partial<ConnectionLimits>;
  requestTimeoutMs?: number;
  clock?: () => number;
  newId?: (kind: 'node' | 'volume' | 'task' | 'snapshot') => string;
  /** Heartbeat table; the leader loop shares it to run `sweepLiveness` on its ticks. */
  liveness?: NodeLiveness;
  /** Agents' heartbeat table and engine reports (cleared by the member when it becomes leader). */
  hostLiveness?: HostLiveness;
  /** Silence after which a host is presumed dead. Default 30 s. */
  hostTimeoutMs?: number;
  /** Desired replica count when a create request names none. */
  defaultReplicas?: number;
  /** What the leader's control loops last planned for a volume (the member's ControlLoop). */
  outlook?: (volumeId: string) => VolumeOutlook | undefined;
  bodyLimitBytes?: number;
  logger?: FastifyServerOptions['logger'];
  metricsRegistry?: Registry;
  watchMaxBufferedBytes?: number;
  watchPingIntervalMs?: number;
  /**
   * The web console's built files, served at /ui/ (default: @ballast/console's dist/ui when that
   * package is installed). Without a build, /ui/ answers 503 with a page saying how to build it.
   */
  consoleDir?: string | undefined;
  /** Extra route plugins (e.g. the members' internal routes), registered with the same context. */
  plugins?: Array<(app: FastifyInstance, ctx: ApiContext) => Promise<void>>;
}

function defaultNewId(kind: 'node' | 'volume' | 'task' | 'snapshot'): string {
  const prefix = { node: 'node', volume: 'vol', task: 'task', snapshot: 'snap' }[kind];
  return `${prefix}-${randomUUID()}`;
}

/**
 * Validators: bodies are taken as sent (no type coercion, no defaults, unknown properties are an
 * error rather than silently dropped, unlike fastify's default); params and query strings are
 * text on the wire, so numbers and booleans in them are coerced. Compiled validators are shared by
 * every app in the process (the schemas are constants), which keeps building an app cheap.
 */
const ajvOptions = {
  allErrors: false,
  removeAdditional: false,
  useDefaults: false,
  strict: false,
} as const;
const validators = {
  body: {
    ajv: new Ajv({ ...ajvOptions, coerceTypes: false }),
    compiled: new Map<string, ValidateFunction>(),
  },
  text: {
    ajv: new Ajv({ ...ajvOptions, coerceTypes: true }),
    compiled: new Map<string, ValidateFunction>(),
  },
};
/** The API has a few dozen schemas; the bound only guards against a caller generating them. */
const MAX_CACHED_VALIDATORS = 1000;

function compileValidator(schema: object, httpPart: string | undefined): ValidateFunction {
  const { ajv, compiled } = httpPart === 'body' ? validators.body : validators.text;
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile(schema);
    if (compiled.size < MAX_CACHED_VALIDATORS) compiled.set(key, validate);
  }
  return validate;
}

type Serializer = (data: unknown) => string;
const serializers = new Map<string, Serializer>();

/** Response serializers, shared across apps like the validators (fast-json-stringify, as fastify). */
function compileSerializer(schema: object): Serializer {
  const key = JSON.stringify(schema);
  let serialize = serializers.get(key);
  if (!serialize) {
    serialize = fastJson(schema) as Serializer;
    if (serializers.size < MAX_CACHED_VALIDATORS) serializers.set(key, serialize);
  }
  return serialize;
}

/**
 * Builds the admin REST API as a fastify app (not listening: call `listen`, or `inject` in
 * tests). Routes are plugins over an ApiContext; none knows about Raft, only the MetaStore.
 */
export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  const defaultReplicas = options.defaultReplicas ?? 3;
  if (
    !Number.isInteger(defaultReplicas) ||
    defaultReplicas < MIN_REPLICAS ||
    defaultReplicas > MAX_REPLICAS
  ) {
    throw new BallastError('CONFIG', `defaultReplicas must be ${MIN_REPLICAS}..${MAX_REPLICAS}`);
  }
  const https = options.https;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    requestTimeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 256, ignoreTrailingSlash: false },
    ...(https === undefined
      ? {}
      : {
          https: {
            cert: https.cert,
            key: https.key,
            minVersion: 'TLSv1.2' as const,
            // Asked, not required: the refusal of a peer without one is the Raft endpoint's,
            // as an HTTP answer that says why.
            ...(https.ca === undefined ? {} : { ca: https.ca, requestCert: true }),
            rejectUnauthorized: false,
          },
        }),
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(({ schema, httpPart }) => compileValidator(schema as object, httpPart));
  app.setSerializerCompiler(({ schema }) => compileSerializer(schema as object));

  // Marks the docs routes public as they are registered (auth decides on the matched route).
  app.addHook('onRoute', (route) => {
    if (
      route.url === '/docs' ||
      route.url.startsWith('/docs/') ||
      route.url === '/ui' ||
      route.url.startsWith(CONSOLE_PREFIX)
    ) {
      route.config = { ...(route.config ?? {}), public: true };
    }
  });
  installProblemHandlers(app);
  const registry = options.metricsRegistry ?? new Registry();
  await installSecurity(app, {
    credentials: { admin: options.token, join: options.joinToken },
    rateLimit:
      options.rateLimit === false ? false : { ...DEFAULT_RATE_LIMITS, ...options.rateLimit },
    connections: { ...DEFAULT_CONNECTION_LIMITS, ...options.connections },
    registry,
  });
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.routeOptions.config?.optionalBody === true)
      request.body = {};
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Ballast admin API',
        version: '1',
        description:
          'Cluster map of a Ballast cluster: storage nodes, volumes, tasks. Errors are RFC 9457 problem details with a stable `code`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(websocket, {
    options: {
      maxPayload: 4096,
      // A browser's watch offers WATCH_PROTOCOL and its token as a subprotocol: answer with the
      // former only (never echo the token). Other clients offer none and get none.
      handleProtocols: (protocols) => (protocols.has(WATCH_PROTOCOL) ? WATCH_PROTOCOL : false),
    },
  });

  const ctx: ApiContext = {
    store: options.store,
    clock: options.clock ?? Date.now,
    newId: options.newId ?? defaultNewId,
    liveness: options.liveness ?? new NodeLiveness(),
    hostLiveness: options.hostLiveness ?? new HostLiveness(),
    hostTimeoutMs: options.hostTimeoutMs ?? DEFAULT_HOST_TIMEOUT_MS,
    defaultReplicas,
    outlook: options.outlook ?? (() => undefined),
  };
  installMetrics(app, options.store, registry);
  await app.register(clusterRoutes, ctx);
  await app.register(nodeRoutes, ctx);
  await app.register(volumeRoutes, ctx);
  await app.register(snapshotRoutes, ctx);
  await app.register(taskRoutes, ctx);
  await app.register(hostRoutes, ctx);
  await app.register(watchRoutes, {
    ...ctx,
    watch: {
      maxBufferedBytes: options.watchMaxBufferedBytes ?? 8 * 1024 * 1024,
      pingIntervalMs: options.watchPingIntervalMs ?? 30_000,
    },
  });
  await consoleRoutes(app, options.consoleDir ?? defaultConsoleDir());
  for (const plugin of options.plugins ?? []) await app.register(plugin, ctx);
  await app.ready();
  return app;
}
