import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BallastError } from '@ballast/common';
import { problem, sendProblem } from './problem.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without a token (health, metrics, API docs). */
    public?: boolean;
    /** The body may be absent (POST actions with optional parameters). */
    optionalBody?: boolean;
  }
}

const MAX_AUTHORIZATION_LENGTH = 4096;
/** Tokens shorter than this are refused at start-up (a guessable token is no token). */
export const MIN_TOKEN_LENGTH = 16;

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * Compares in constant time. Hashing both sides first makes the comparison independent of the
 * lengths too (timingSafeEqual needs equal lengths and would otherwise leak the token's length).
 */
export function tokensEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** The two tokens the API knows. */
export interface ApiCredentials {
  /** The admin token: every route. */
  admin: string;
  /**
   * The cluster join token, given to storage nodes and host agents: the routes in
   * JOIN_TOKEN_ROUTES and every read. Absent: only the admin token is accepted.
   */
  join?: string | undefined;
}

/** Who a request is, from its bearer token. */
export type Caller = 'admin' | 'join' | 'missing' | 'wrong';

/** What a route needs: nothing, the join token (or the admin token), or the admin token. */
export type RouteScope = 'public' | 'join' | 'admin';

export interface ScopeRule {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The route's pattern as registered (`/v1/nodes/:id/heartbeat`); `*` matches every /v1 route. */
  url: string;
  /** Why the join token needs it; printed in the README's table. */
  why: string;
}

/**
 * What the join token may call; every other route needs the admin token (deny by default, so a
 * route added later is admin-only until it is listed here). The join token stands for "a
 * process of this cluster": storage nodes follow the map, register and report; agents serve
 * Docker's volume requests and run the volume engines. It may not change the cluster's shape or
 * policy: membership, settings, node cordon/uncordon/drain/remove/labels, resizes, explicit
 * replica additions and removals, and the members' internal forwarding routes stay with the
 * admin token. Forced attach and detach stay allowed: the operator's takeover
 * (`ballast volume attach|detach --force`) is carried out by the host's agent with its own
 * token, and a forced takeover fences the old holder without losing acknowledged writes, which
 * is less than the volume deletion the join token needs for `docker volume rm` anyway.
 */
export const JOIN_TOKEN_ROUTES: readonly ScopeRule[] = [
  {
    method: 'GET',
    url: '*',
    why: 'reads: nodes follow the map (lists and the watch), agents look volumes up',
  },
  { method: 'POST', url: '/v1/nodes', why: 'a storage node registers' },
  { method: 'POST', url: '/v1/nodes/:id/heartbeat', why: 'a storage node heartbeats' },
  {
    method: 'POST',
    url: '/v1/hosts/:id/heartbeat',
    why: "a Docker host's agent heartbeats (a silent host's volumes may be taken over)",
  },
  { method: 'POST', url: '/v1/volumes', why: '`docker volume create` through the agent' },
  { method: 'DELETE', url: '/v1/volumes/:name', why: '`docker volume rm` through the agent' },
  {
    method: 'POST',
    url: '/v1/volumes/:name/attach',
    why: 'the agent attaches (also forced takeovers)',
  },
  { method: 'POST', url: '/v1/volumes/:name/detach', why: 'the agent detaches (also forced)' },
  {
    method: 'POST',
    url: '/v1/volumes/:name/replicas/:nodeId/out-of-sync',
    why: 'an engine drops a replica that missed a write',
  },
  {
    method: 'POST',
    url: '/v1/volumes/:name/replicas/:nodeId/promote',
    why: 'a finished rebuild makes its replica in-sync',
  },
  {
    method: 'POST',
    url: '/v1/volumes/:name/snapshots/:snapshot/result',
    why: "the attached host's engine reports a snapshot cut",
  },
  {
    method: 'POST',
    url: '/v1/volumes/:name/snapshots/:snapshot/taken',
    why: "a node reports a detached volume's snapshot taken on its replica",
  },
  {
    method: 'POST',
    url: '/v1/volumes/:name/revert/report',
    why: 'a node reports its replica reverted to a snapshot',
  },
  { method: 'POST', url: '/v1/tasks/:id/progress', why: 'nodes report rebuild progress' },
  { method: 'POST', url: '/v1/tasks/:id/finish', why: 'nodes report a finished task' },
];

const joinRoutes = new Set(JOIN_TOKEN_ROUTES.map((r) => `${r.method} ${r.url}`));

/**
 * The scope of a request's route. The decision uses the route the request matched (its
 * registered pattern), never the raw URL, so path tricks cannot reach a private route as a public
 * one. A request that matched no route needs a valid token of either kind (it answers 404 then).
 */
export function scopeOf(
  method: string,
  routeUrl: string | undefined,
  isPublic: boolean,
): RouteScope {
  if (isPublic) return 'public';
  if (routeUrl === undefined) return 'join';
  const m = method === 'HEAD' ? 'GET' : method;
  if (m === 'GET' && routeUrl.startsWith('/v1/')) return 'join';
  return joinRoutes.has(`${m} ${routeUrl}`) ? 'join' : 'admin';
}

/** Reads the bearer token and says whose it is (both tokens are always compared). */
export function identifyCaller(authorization: unknown, credentials: ApiCredentials): Caller {
  const given =
    typeof authorization === 'string' &&
    authorization.length <= MAX_AUTHORIZATION_LENGTH &&
    /^Bearer /i.test(authorization)
      ? authorization.slice(7).trim()
      : undefined;
  if (given === undefined) return 'missing';
  const isAdmin = tokensEqual(given, credentials.admin);
  const isJoin = credentials.join !== undefined && tokensEqual(given, credentials.join);
  return isAdmin ? 'admin' : isJoin ? 'join' : 'wrong';
}

/**
 * The subprotocol a browser's watch socket asks for. Browsers cannot set an Authorization header
 * on a websocket, so the web console sends its token as a second subprotocol,
 * `ballast.bearer.<token as base64url>`; the server answers with this one only (the token is
 * never echoed back).
 */
export const WATCH_PROTOCOL = 'ballast.watch.v1';
export const BEARER_PROTOCOL_PREFIX = 'ballast.bearer.';

/**
 * The Authorization header a request stands for: its own, or else, on a websocket upgrade, the
 * bearer token carried as a subprotocol (see WATCH_PROTOCOL). Undefined when it has neither.
 */
export function authorizationOf(headers: Record<string, unknown>): unknown {
  if (headers.authorization !== undefined) return headers.authorization;
  const upgrade = headers.upgrade;
  const protocols = headers['sec-websocket-protocol'];
  if (typeof upgrade !== 'string' || upgrade.toLowerCase() !== 'websocket') return undefined;
  if (typeof protocols !== 'string' || protocols.length > MAX_AUTHORIZATION_LENGTH)
    return undefined;
  for (const p of protocols.split(',')) {
    const candidate = p.trim();
    if (!candidate.startsWith(BEARER_PROTOCOL_PREFIX)) continue;
    const encoded = candidate.slice(BEARER_PROTOCOL_PREFIX.length);
    if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return 'Bearer ';
    return `Bearer ${Buffer.from(encoded, 'base64url').toString('utf8')}`;
  }
  return undefined;
}

/** Checks the tokens a member is configured with. */
export function checkCredentials(credentials: ApiCredentials): void {
  if (credentials.admin.length === 0)
    throw new BallastError('CONFIG', 'the API token must not be empty');
  if (credentials.join !== undefined) {
    if (credentials.join.length < MIN_TOKEN_LENGTH) {
      throw new BallastError(
        'CONFIG',
        `the join token must be at least ${MIN_TOKEN_LENGTH} characters`,
      );
    }
    if (tokensEqual(credentials.join, credentials.admin)) {
      throw new BallastError(
        'CONFIG',
        'the join token must differ from the admin token (it grants less)',
      );
    }
  }
}

function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0]!.slice(0, 256);
}

/**
 * The auth decision for one request, after `identifyCaller`: undefined to go on, or the problem
 * to answer with (401 for a missing or wrong token, 403 for the join token on an admin route).
 * Runs in onRequest, before the body is read, so a refused request changes nothing.
 */
export function authProblem(
  request: FastifyRequest,
  caller: Caller,
): ReturnType<typeof problem> | undefined {
  const scope = scopeOf(
    request.method,
    request.routeOptions.url,
    request.routeOptions.config?.public === true,
  );
  if (scope === 'public' || caller === 'admin') return undefined;
  const instance = pathOf(request);
  if (caller === 'missing')
    return problem('UNAUTHORIZED', 'missing bearer token (Authorization: Bearer <token>)', {
      instance,
    });
  if (caller === 'wrong') return problem('UNAUTHORIZED', 'wrong bearer token', { instance });
  if (scope === 'join') return undefined;
  return problem(
    'FORBIDDEN',
    `the cluster join token may not call ${request.method} ${request.routeOptions.url ?? instance}; use the admin token`,
    { instance, details: { scope: 'admin' } },
  );
}

/** Bearer-token auth alone (the API installs it together with rate limits: see security.ts). */
export function installBearerAuth(
  app: FastifyInstance,
  credentials: ApiCredentials | string,
): void {
  const creds = typeof credentials === 'string' ? { admin: credentials } : credentials;
  checkCredentials(creds);
  app.addHook('onRequest', async (request, reply) => {
    const refusal = authProblem(request, identifyCaller(authorizationOf(request.headers), creds));
    if (refusal !== undefined) return sendProblem(reply, refusal);
  });
}
