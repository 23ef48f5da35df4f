import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import rateLimitPlugin, { normalizeIP } from '@fastify/rate-limit';
import { Counter, type Registry } from 'prom-client';
import { BallastError } from '@ballast/common';
import {
  authProblem,
  authorizationOf,
  checkCredentials,
  identifyCaller,
  type ApiCredentials,
  type Caller,
} from './auth.js';
import { problem, sendProblem } from './problem.js';

/** So many requests per window, per client (credential kind and address). */
export interface RateBudget {
  requests: number;
  windowMs: number;
}

/**
 * Rate limits of the API. Each request counts against one budget, keyed by the kind of
 * credential it carries and the client's address (IPv6 by /64), in fixed windows.
 */
export interface RateLimitSettings {
  /** Requests with a valid token on ordinary routes. */
  api: RateBudget;
  /**
   * The cluster's own traffic, whatever the token: heartbeats, node registration, the watch,
   * replica state reports (an engine waits for them before it acknowledges a write) and task
   * progress. A separate budget, so a busy API never starves the cluster's nodes.
   */
  cluster: RateBudget;
  /** Requests without a valid token (public routes, refused tokens), per address. */
  anonymous: RateBudget;
  /** Clients remembered per budget (least recently seen forgotten first). */
  maxClients: number;
}

/** Generous: far above what one client of a healthy cluster sends (meta commits ~1000/s). */
export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  api: { requests: 20_000, windowMs: 10_000 },
  cluster: { requests: 20_000, windowMs: 10_000 },
  anonymous: { requests: 1_000, windowMs: 10_000 },
  maxClients: 10_000,
};

export type Budget = 'api' | 'cluster' | 'anonymous';

/** Routes whose calls count against the cluster budget (method + registered pattern). */
export const CLUSTER_BUDGET_ROUTES: ReadonlySet<string> = new Set([
  'POST /v1/nodes',
  'POST /v1/nodes/:id/heartbeat',
  'GET /v1/watch',
  'POST /v1/volumes/:name/replicas/:nodeId/out-of-sync',
  'POST /v1/volumes/:name/replicas/:nodeId/promote',
  'POST /v1/tasks/:id/progress',
  'POST /v1/tasks/:id/finish',
]);

/**
 * The budget a request counts against, or undefined for none: the members' internal forwarding
 * routes (`/internal/...`, admin token only) are not limited, because the member that forwards
 * has already counted the client's request, and limiting the relay would turn one client's
 * burst into refusals for everyone behind that member.
 */
export function budgetOf(
  method: string,
  routeUrl: string | undefined,
  caller: Caller,
): Budget | undefined {
  if (caller !== 'admin' && caller !== 'join') return 'anonymous';
  if (routeUrl?.startsWith('/internal/')) return undefined;
  return CLUSTER_BUDGET_ROUTES.has(`${method} ${routeUrl}`) ? 'cluster' : 'api';
}

export interface ConnectionLimits {
  /** Open connections from one address at most (IPv6 by /64); 0: no bound. */
  perAddress: number;
  /** Open connections in all (Node's server.maxConnections); 0: no bound. */
  total: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { perAddress: 1024, total: 16_384 };

export interface SecurityOptions {
  credentials: ApiCredentials;
  /** false: no rate limits (benchmarks). */
  rateLimit: RateLimitSettings | false;
  connections: ConnectionLimits;
  registry: Registry;
}

function checkBudget(name: string, b: RateBudget): void {
  if (!Number.isSafeInteger(b.requests) || b.requests < 1)
    throw new BallastError('CONFIG', `rate limit ${name}: requests must be a whole number >= 1`);
  if (!Number.isSafeInteger(b.windowMs) || b.windowMs < 100)
    throw new BallastError('CONFIG', `rate limit ${name}: the window must be at least 100 ms`);
}

/** The client's address as a rate-limit key: IPv6 by /64; unknown (in-process injection) as such. */
function clientAddress(ip: string | undefined): string {
  return typeof ip === 'string' && ip.length > 0 ? normalizeIP(ip) : 'unknown';
}

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

declare module 'fastify' {
  interface FastifyRequest {
    /** Whose token the request carries (set first thing in onRequest). */
    ballastCaller: Caller;
  }
}

/**
 * Auth and rate limits, as the API's first onRequest hook: the rate limit is checked before the
 * token is judged, so floods of wrong tokens are throttled too; both happen before the body is
 * read, so a refused request changes nothing. Uses @fastify/rate-limit's stores (bounded LRU,
 * fixed windows) through `createRateLimit`, one store per budget; the answer is ours (429
 * problem+json with retry-after).
 */
export async function installSecurity(
  app: FastifyInstance,
  options: SecurityOptions,
): Promise<void> {
  const { credentials } = options;
  checkCredentials(credentials);
  app.decorateRequest('ballastCaller', 'missing');
  const limited = new Counter({
    name: 'ballast_meta_http_rate_limited_total',
    help: 'Requests refused with 429, by budget',
    labelNames: ['budget'] as const,
    registers: [options.registry],
  });
  const refusedConnections = new Counter({
    name: 'ballast_meta_http_connections_refused_total',
    help: 'Connections closed at once because a connection bound was reached',
    labelNames: ['reason'] as const,
    registers: [options.registry],
  });
  const limiters = new Map<Budget, Limiter>();
  const settings = options.rateLimit;
  if (settings !== false) {
    for (const name of ['api', 'cluster', 'anonymous'] as const) checkBudget(name, settings[name]);
    if (!Number.isSafeInteger(settings.maxClients) || settings.maxClients < 1)
      throw new BallastError('CONFIG', 'rate limit maxClients must be a whole number >= 1');
    await app.register(rateLimitPlugin, { global: false });
    for (const name of ['api', 'cluster', 'anonymous'] as const) {
      const budget = settings[name];
      limiters.set(
        name,
        app.createRateLimit({
          max: budget.requests,
          timeWindow: budget.windowMs,
          keyGenerator: (req) => `${req.ballastCaller}|${clientAddress(req.ip)}`,
          // Not in the typings of createRateLimit, but used for its store: the LRU's size.
          ...({ cache: settings.maxClients } as object),
        }),
      );
    }
  }

  app.addHook('onRequest', async (request, reply) => {
    const caller = identifyCaller(authorizationOf(request.headers), credentials);
    request.ballastCaller = caller;
    const budget = budgetOf(request.method, request.routeOptions.url, caller);
    const limiter = budget === undefined ? undefined : limiters.get(budget);
    if (limiter !== undefined) {
      const state = await limiter(request);
      if (!state.isAllowed && state.isExceeded) {
        limited.inc({ budget: budget! });
        const retryAfterSeconds = Math.max(1, state.ttlInSeconds);
        reply.header('retry-after', String(retryAfterSeconds));
        return sendProblem(
          reply,
          problem(
            'RATE_LIMITED',
            `too many requests from this client: at most ${state.max} per ${state.timeWindow / 1000} s (${budget} budget); retry after ${retryAfterSeconds} s`,
            {
              instance: request.url.split('?')[0]!.slice(0, 256),
              details: { budget, limit: state.max, windowMs: state.timeWindow, retryAfterSeconds },
            },
          ),
        );
      }
    }
    const refusal = authProblem(request, caller);
    if (refusal !== undefined) return sendProblem(reply, refusal);
  });

  limitConnections(app.server, options.connections, (reason) => refusedConnections.inc({ reason }));
}

/**
 * Bounds open connections on the API's server (the Raft transport shares it): in all, through
 * Node's maxConnections, and per client address, counted here. A connection over a bound is
 * closed at once, before TLS or HTTP. The Raft transport itself keeps one incoming connection per
 * authenticated peer (see @ballast/raft-node).
 */
export function limitConnections(
  server: Server,
  limits: ConnectionLimits,
  onRefused: (reason: 'per-address' | 'total') => void,
): void {
  for (const [k, v] of Object.entries(limits)) {
    if (!Number.isSafeInteger(v) || v < 0)
      throw new BallastError('CONFIG', `connection limit ${k} must be a whole number >= 0`);
  }
  if (limits.total > 0) {
    server.maxConnections = limits.total;
    server.on('drop', () => onRefused('total'));
  }
  if (limits.perAddress === 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = clientAddress(socket.remoteAddress);
    const count = open.get(address) ?? 0;
    if (count >= limits.perAddress) {
      onRefused('per-address');
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
