import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Agent, type Dispatcher } from 'undici';
import { isBallastError, type BallastError } from '@ballast/common';
import { MetaClient } from '@ballast/meta-client';

/** Exit codes scripts can rely on (documented in the README). */
export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  CONFLICT: 4,
  UNAVAILABLE: 5,
  UNAUTHORIZED: 6,
  INVALID: 7,
} as const;

export class CliError extends Error {
  readonly exitCode: number;
  readonly hint: string | undefined;
  readonly problem: Problem | undefined;
  constructor(message: string, exitCode: number, hint?: string, problem?: Problem) {
    super(message);
    this.exitCode = exitCode;
    this.hint = hint;
    this.problem = problem;
  }
}

/** RFC 9457 problem details as the meta API answers them, plus Ballast's stable `code`. */
export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  code?: string;
  [k: string]: unknown;
}

export interface Endpoint {
  urls: string[];
  token: string | undefined;
  /** CA certificate file for https endpoints with a private CA (--ca, BALLAST_CA). */
  ca?: string | undefined;
  /** Where the settings came from, for error messages. */
  source: string;
}

export interface EndpointFlags {
  cluster?: string | undefined;
  endpoint?: string | undefined;
  token?: string | undefined;
  ca?: string | undefined;
}

interface ClusterFile {
  token?: string;
  ca?: string;
  meta?: Array<{ api?: string }>;
}

/**
 * Where to find the cluster, like kubectl/etcdctl: --cluster FILE (a `ballast dev up`
 * cluster.json) or BALLAST_CLUSTER; else --endpoint/BALLAST_ENDPOINT with --token/BALLAST_TOKEN;
 * else ~/.config/ballast/config.json ({"endpoint": "...", "token": "..."}).
 */
export function resolveEndpoint(flags: EndpointFlags, env = process.env): Endpoint {
  const found = findEndpoint(flags, env);
  const ca = flags.ca ?? env.BALLAST_CA ?? found.ca;
  return ca === undefined ? found : { ...found, ca };
}

/**
 * The token from the environment: BALLAST_TOKEN, else the file BALLAST_TOKEN_FILE names (a Docker
 * secret: `docker compose exec meta1 ballast ...` reads the admin token its member reads).
 */
function envToken(env: NodeJS.ProcessEnv): string | undefined {
  if (env.BALLAST_TOKEN !== undefined && env.BALLAST_TOKEN !== '') return env.BALLAST_TOKEN;
  const file = env.BALLAST_TOKEN_FILE;
  if (file === undefined || file === '') return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(
      `BALLAST_TOKEN_FILE: cannot read the token from ${file}: ${(err as Error).message}`,
      ExitCode.USAGE,
    );
  }
  const token = text.replace(/\r?\n$/, '');
  if (token.trim() === '') {
    throw new CliError(
      `BALLAST_TOKEN_FILE: ${file} is empty; it must hold the token`,
      ExitCode.USAGE,
    );
  }
  return token;
}

function findEndpoint(flags: EndpointFlags, env: NodeJS.ProcessEnv): Endpoint {
  const clusterFile = flags.cluster ?? env.BALLAST_CLUSTER;
  if (clusterFile) {
    let parsed: ClusterFile;
    try {
      parsed = JSON.parse(readFileSync(clusterFile, 'utf8')) as ClusterFile;
    } catch (err) {
      throw new CliError(
        `cannot read cluster file ${clusterFile}: ${(err as Error).message}`,
        ExitCode.USAGE,
        'start a local cluster with `ballast dev up --dir DIR`, then pass --cluster DIR/cluster.json',
      );
    }
    const urls = (parsed.meta ?? [])
      .map((m) => m.api)
      .filter((u): u is string => typeof u === 'string');
    if (urls.length === 0)
      throw new CliError(`cluster file ${clusterFile} lists no meta members`, ExitCode.USAGE);
    return {
      urls,
      token: flags.token ?? envToken(env) ?? parsed.token,
      ca: parsed.ca,
      source: clusterFile,
    };
  }
  const endpoint = flags.endpoint ?? env.BALLAST_ENDPOINT;
  if (endpoint) {
    return {
      urls: endpoint
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      token: flags.token ?? envToken(env),
      source: flags.endpoint ? '--endpoint' : 'BALLAST_ENDPOINT',
    };
  }
  const configPath = join(
    env.XDG_CONFIG_HOME ?? join(homedir(), '.config'),
    'ballast',
    'config.json',
  );
  try {
    const cfg = JSON.parse(readFileSync(configPath, 'utf8')) as {
      endpoint?: string;
      token?: string;
      ca?: string;
    };
    if (cfg.endpoint) {
      return {
        urls: cfg.endpoint.split(',').map((s) => s.trim()),
        token: flags.token ?? envToken(env) ?? cfg.token,
        ca: cfg.ca,
        source: configPath,
      };
    }
  } catch {
    // no config file: fall through to the error below
  }
  throw new CliError(
    'no cluster to talk to',
    ExitCode.USAGE,
    'pass --cluster DIR/cluster.json (from `ballast dev up`), or --endpoint URL --token TOKEN, or set BALLAST_CLUSTER',
  );
}

const REQUEST_TIMEOUT_MS = 30_000;

/** An HTTP dispatcher that trusts the CA in `caFile` (for https endpoints with a private CA). */
export function caDispatcher(caFile: string): Dispatcher {
  let ca: Buffer;
  try {
    ca = readFileSync(caFile);
  } catch (err) {
    throw new CliError(
      `cannot read the CA file ${caFile}: ${(err as Error).message}`,
      ExitCode.USAGE,
      "pass the CA certificate that signed the meta members' certificates with --ca or BALLAST_CA",
    );
  }
  return new Agent({ connect: { ca } });
}
/** How long to keep retrying while the cluster elects a leader (BALLAST_RETRY_SECONDS). */
const DEFAULT_RETRY_MS = 10_000;
/**
 * A read that a member has not answered for this long is asked of the next member as well: a
 * member that accepts connections but does not answer (paused, cut off, overloaded) costs this,
 * not the request timeout.
 */
export const READ_HEDGE_MS = 1_000;
/** How long `cluster status` waits for each member's health check. */
const PROBE_TIMEOUT_MS = 1_500;

/**
 * A 503 is safe to retry when nothing can have happened: any read, or a write the server
 * refused before it entered the Raft log (it says so with `details.safeToRetry`). A write whose
 * forwarding failed midway may have committed, so it is reported instead of repeated.
 */
/**
 * A small client for the admin REST API that turns problem+json answers into CliErrors with
 * stable exit codes. Reads go through @ballast/meta-client's MetaClient (every member once per
 * round, hedged after READ_HEDGE_MS, rounds for BALLAST_RETRY_SECONDS). Writes go through it
 * too, at most once: on to the next member only when the last one cannot have acted on it (the
 * connection was refused, or meta said `safeToRetry`; followers forward writes, so any member
 * will do), and an attempt with an unknown outcome ends the command with an error that says so.
 */
export class ApiClient {
  readonly endpoint: Endpoint;
  readonly #dispatcher: Dispatcher | undefined;
  #reader: MetaClient | undefined;

  constructor(endpoint: Endpoint) {
    this.endpoint = endpoint;
    this.#dispatcher = endpoint.ca === undefined ? undefined : caDispatcher(endpoint.ca);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const retryMs = Number(process.env.BALLAST_RETRY_SECONDS ?? NaN) * 1000;
    const retryForMs = Number.isFinite(retryMs) ? retryMs : DEFAULT_RETRY_MS;
    if (method === 'GET' && body === undefined) return this.read<T>(path, retryForMs);
    try {
      return await this.reader().request<T>(method, path, body, {
        timeoutMs: retryForMs + REQUEST_TIMEOUT_MS,
        retryForMs,
        atMostOnce: true,
      });
    } catch (err) {
      if (!isBallastError(err)) throw err;
      if (err.details?.afterUnknownOutcome === true && typeof err.details.status !== 'number') {
        throw new CliError(
          `meta did not answer ${method} ${path}, which may or may not have been applied (${err.message})`,
          ExitCode.UNAVAILABLE,
          'look at the cluster (e.g. `ballast volume ls`, `ballast task ls`) before repeating it',
        );
      }
      throw this.readError(err);
    }
  }

  /**
   * Whether the member at `baseUrl` answers its health check within `timeoutMs` (a paused or
   * cut-off member accepts connections and never answers).
   */
  async answers(baseUrl: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
    try {
      const res = await fetch(`${baseUrl.replace(/\/$/, '')}/healthz`, {
        signal: AbortSignal.timeout(timeoutMs),
        ...(this.#dispatcher === undefined ? {} : ({ dispatcher: this.#dispatcher } as object)),
      });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }

  /**
   * GET `path` of the member at `baseUrl` alone, once, within `timeoutMs` (no retries, no other
   * member): what it answered, or why there is no answer (`ballast version` asks every member).
   */
  async probe<T>(
    baseUrl: string,
    path: string,
    timeoutMs = PROBE_TIMEOUT_MS,
  ): Promise<{ ok: true; value: T } | { ok: false; why: string }> {
    const token = this.endpoint.token;
    try {
      const res = await fetch(`${baseUrl.replace(/\/$/, '')}${path}`, {
        signal: AbortSignal.timeout(timeoutMs),
        headers: {
          accept: 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        ...(this.#dispatcher === undefined ? {} : ({ dispatcher: this.#dispatcher } as object)),
      });
      const text = await res.text();
      if (!res.ok) return { ok: false, why: `HTTP ${res.status}` };
      return { ok: true, value: JSON.parse(text) as T };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      if (e.name === 'TimeoutError' || e.name === 'AbortError') {
        return { ok: false, why: `no answer within ${timeoutMs} ms` };
      }
      return { ok: false, why: e.cause?.code ?? e.cause?.message ?? e.message };
    }
  }

  private async read<T>(path: string, retryForMs: number): Promise<T> {
    const reader = this.reader();
    try {
      return await reader.request<T>('GET', path, undefined, {
        timeoutMs: retryForMs + REQUEST_TIMEOUT_MS,
        retryForMs,
        hedgeMs: READ_HEDGE_MS,
      });
    } catch (err) {
      if (!isBallastError(err)) throw err;
      throw this.readError(err);
    }
  }

  private reader(): MetaClient {
    if (this.#reader !== undefined) return this.#reader;
    const dispatcher = this.#dispatcher;
    try {
      this.#reader = new MetaClient({
        urls: this.endpoint.urls,
        token: this.endpoint.token === '' ? undefined : this.endpoint.token,
        attemptTimeoutMs: REQUEST_TIMEOUT_MS,
        ...(dispatcher === undefined
          ? {}
          : {
              // Node's fetch takes an undici dispatcher; the DOM typings do not know the field.
              fetch: (url: string | URL | Request, init?: RequestInit) =>
                fetch(url, { ...init, ...({ dispatcher } as object) }),
            }),
      });
    } catch (err) {
      throw new CliError(
        `bad endpoint settings from ${this.endpoint.source}: ${(err as Error).message}`,
        ExitCode.USAGE,
      );
    }
    return this.#reader;
  }

  /** A read's failure as the CLI reports it: meta's answer, or why no member gave one. */
  private readError(err: BallastError): CliError {
    const status = err.details?.status;
    if (typeof status === 'number') {
      const { status: _status, afterUnknownOutcome: _unknown, ...details } = err.details ?? {};
      return problemToError(status, { code: err.code, detail: err.message, details }, err.message);
    }
    if (/CERT|SSL|TLS|SELF_SIGNED/.test(err.message)) {
      return new CliError(
        `cannot talk to any meta member over TLS (${err.message})`,
        ExitCode.FAILURE,
        "the server's certificate is not trusted: pass the cluster's CA with --ca FILE or BALLAST_CA",
      );
    }
    return new CliError(
      `cannot reach any meta member (${err.message})`,
      ExitCode.UNAVAILABLE,
      `check that the cluster is running (endpoints from ${this.endpoint.source})`,
    );
  }
}

function problemToError(status: number, body: unknown, text: string): CliError {
  const problem: Problem =
    body && typeof body === 'object'
      ? ({ status, ...(body as object) } as Problem)
      : { status, detail: text };
  const message = problem.detail ?? problem.title ?? `HTTP ${status}`;
  switch (status) {
    case 401:
    case 403:
      return new CliError(
        message,
        ExitCode.UNAUTHORIZED,
        'check the token (--token, BALLAST_TOKEN or the cluster file)',
        problem,
      );
    case 404:
      return new CliError(message, ExitCode.NOT_FOUND, undefined, problem);
    case 409:
      return new CliError(message, ExitCode.CONFLICT, undefined, problem);
    case 400:
    case 413:
    case 422:
      return new CliError(message, ExitCode.INVALID, undefined, problem);
    case 503:
      return new CliError(
        message,
        ExitCode.UNAVAILABLE,
        'the cluster has no leader right now; retry shortly',
        problem,
      );
    default:
      return new CliError(message, ExitCode.FAILURE, undefined, problem);
  }
}
