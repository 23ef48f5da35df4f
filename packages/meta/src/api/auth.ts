import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
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

/**
 * Bearer-token auth on every route not marked public. The decision uses the route the request
 * matched (set when routes are registered), not the raw URL, so path tricks cannot reach a
 * private route as a public one. Unknown routes need the token too: they answer 401, not 404,
 * without one.
 */
export function installBearerAuth(app: FastifyInstance, token: string): void {
  if (token.length === 0) throw new BallastError('CONFIG', 'the API token must not be empty');
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config?.public === true) return;
    const header = request.headers.authorization;
    const given =
      typeof header === 'string' &&
      header.length <= MAX_AUTHORIZATION_LENGTH &&
      /^Bearer /i.test(header)
        ? header.slice(7).trim()
        : undefined;
    if (given === undefined || !tokensEqual(given, token)) {
      const detail =
        given === undefined
          ? 'missing bearer token (Authorization: Bearer <token>)'
          : 'wrong bearer token';
      return sendProblem(
        reply,
        problem('UNAUTHORIZED', detail, { instance: request.url.split('?')[0]!.slice(0, 256) }),
      );
    }
  });
}
