import { Type, type Static } from '@sinclair/typebox';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BallastError, ErrorCodes, isBallastError, type ErrorCode } from '@ballast/common';

/**
 * Errors as RFC 9457 problem details (application/problem+json), for every failure the API can
 * produce: refused commands, schema validation, unknown routes, bodies too large, auth.
 * `code` is the stable BallastError code clients and tests match on; `detail` is for people.
 */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'URI naming the kind of problem' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'stable error code (BallastError code)' }),
    instance: Type.Optional(Type.String()),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false, description: 'RFC 9457 problem details' },
);
export type Problem = Static<typeof ProblemSchema>;

const TITLES: Partial<Record<ErrorCode, string>> = {
  INVALID_ARGUMENT: 'Invalid request',
  UNAUTHORIZED: 'Unauthorized',
  FORBIDDEN: 'Forbidden',
  NOT_FOUND: 'Not found',
  CONFLICT: 'Conflict',
  FENCED: 'Fenced: stale epoch',
  UNPROCESSABLE: 'Unprocessable request',
  TOO_LARGE: 'Request too large',
  RATE_LIMITED: 'Too many requests',
  UNAVAILABLE: 'Service unavailable',
  TIMEOUT: 'Timeout',
  INTERNAL: 'Internal error',
};

export function problem(
  code: ErrorCode,
  detail: string,
  options: { status?: number; instance?: string; details?: Record<string, unknown> } = {},
): Problem {
  const body: Problem = {
    type: `urn:ballast:problem:${code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[code] ?? code,
    status: options.status ?? ErrorCodes[code],
    detail,
    code,
  };
  if (options.instance !== undefined) body.instance = options.instance;
  if (options.details !== undefined) body.details = options.details;
  return body;
}

interface ValidationEntry {
  instancePath: string;
  message?: string;
  keyword: string;
  params: Record<string, unknown>;
}

function describeValidation(context: string, errors: readonly ValidationEntry[]): string {
  return errors
    .slice(0, 5)
    .map((e) => {
      const where = `${context}${e.instancePath.replace(/\//g, '.')}`;
      if (e.keyword === 'additionalProperties')
        return `${where} has unknown property "${String(e.params.additionalProperty)}"`;
      if (e.keyword === 'required')
        return `${where} is missing "${String(e.params.missingProperty)}"`;
      return `${where} ${e.message ?? 'is invalid'}`;
    })
    .join('; ');
}

function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0]!.slice(0, 256);
}

/** Turns anything thrown into a problem; unexpected errors become 500 without leaking internals. */
export function toProblem(err: unknown, request: FastifyRequest): Problem {
  const instance = pathOf(request);
  if (isBallastError(err)) {
    return problem(
      err.code,
      err.message,
      err.details ? { instance, details: err.details } : { instance },
    );
  }
  const fe = err as Partial<FastifyError> & {
    validation?: ValidationEntry[];
    validationContext?: string;
  };
  if (Array.isArray(fe.validation)) {
    return problem(
      'INVALID_ARGUMENT',
      describeValidation(fe.validationContext ?? 'request', fe.validation),
      {
        instance,
      },
    );
  }
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return problem('TOO_LARGE', 'request body is larger than this API accepts', { instance });
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    // Fastify's own client errors: bad JSON, unsupported media type, empty body, bad URL.
    return problem('INVALID_ARGUMENT', fe.message ?? 'bad request', { status, instance });
  }
  return problem('INTERNAL', 'internal error; see the server log', { instance });
}

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  if (body.code === 'UNAVAILABLE') reply.header('retry-after', '1');
  if (body.code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Bearer realm="ballast"');
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
}

/** Installs the error and not-found handlers that answer with problem+json. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const body = toProblem(err, request);
    if (body.status >= 500 && body.code !== 'UNAVAILABLE')
      request.log.error({ err }, 'request failed');
    return sendProblem(reply, body);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      problem('NOT_FOUND', `no route ${request.method} ${pathOf(request)}`, {
        instance: pathOf(request),
      }),
    ),
  );
}

export function fail(code: ErrorCode, message: string, details?: Record<string, unknown>): never {
  throw new BallastError(code, message, details);
}
