import { BallastError, ErrorCodes, type ErrorCode } from '@ballast/common';

/**
 * A small client for meta's REST API, shared by the storage node's sync loop and the agent's
 * cluster backend: bearer token, JSON bodies, problem+json errors turned into BallastErrors with
 * the problem's stable code, failover between members, and the leader hint that followers put in
 * UNAVAILABLE answers (heartbeats must reach the leader).
 */
export interface MetaClientOptions {
  /** Base URLs of meta members (http://host:port). */
  urls: readonly string[];
  token: string;
  /** Bound on one HTTP attempt. Default 5 s. */
  attemptTimeoutMs?: number;
  /** Bound on one call, retries included. Default 15 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface RequestOptions {
  /** Bound on this call, retries included (overrides the client's). */
  timeoutMs?: number;
  /** Stops retrying when aborted (the last error is thrown). */
  signal?: AbortSignal;
}

/** Answers that say "ask again, maybe elsewhere": retried until the call's deadline. */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set([
  'UNAVAILABLE',
  'TIMEOUT',
  'RATE_LIMITED',
  'INTERNAL',
]);
const RETRY_BASE_MS = 50;
const RETRY_MAX_MS = 1_000;
/** Bound on attempts of one call whatever its deadline. */
const MAX_ATTEMPTS = 64;
/** Bound on the pages one list call reads (1000 items each). */
const MAX_PAGES = 200;
const PAGE_LIMIT = 1000;

export interface ListResult<T> {
  items: T[];
  /**
   * The lowest revision among the pages read: every item is as recent as this revision or more,
   * so a watch from `revision + 1` misses nothing.
   */
  revision: number;
}

export class MetaClient {
  readonly urls: readonly string[];
  private readonly token: string;
  private readonly attemptTimeoutMs: number;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  /** Index of the member that answered last; calls start there. */
  private current = 0;
  /** The leader's URL as a follower last named it. */
  private leaderUrl: string | undefined;

  constructor(options: MetaClientOptions) {
    if (options.urls.length === 0) {
      throw new BallastError('CONFIG', 'no meta URLs configured');
    }
    for (const url of options.urls) {
      if (!/^https?:\/\/[^/]+/.test(url)) {
        throw new BallastError('CONFIG', `meta URL ${JSON.stringify(url)} is not http(s)://host`);
      }
    }
    if (options.token.length === 0) throw new BallastError('CONFIG', 'the meta token is empty');
    this.urls = options.urls.map((u) => u.replace(/\/+$/, ''));
    this.token = options.token;
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 5_000;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** The member calls go to first (for the watch socket). */
  get currentUrl(): string {
    return this.urls[this.current % this.urls.length]!;
  }

  /** Moves on to the next member (after a failed watch connection). */
  rotate(): void {
    this.current = (this.current + 1) % this.urls.length;
  }

  get authorization(): string {
    return `Bearer ${this.token}`;
  }

  get<T>(path: string, options?: RequestOptions): Promise<T> {
    return this.request<T>('GET', path, undefined, options);
  }

  post<T>(path: string, body: unknown, options?: RequestOptions): Promise<T> {
    return this.request<T>('POST', path, body, options);
  }

  delete<T>(path: string, options?: RequestOptions): Promise<T> {
    return this.request<T>('DELETE', path, undefined, options);
  }

  /** Reads every page of a list route (`{items, nextCursor, revision}`). */
  async list<T>(path: string, options?: RequestOptions): Promise<ListResult<T>> {
    const items: T[] = [];
    let revision = Number.MAX_SAFE_INTEGER;
    let cursor: string | null = null;
    for (let page = 0; page < MAX_PAGES; page++) {
      const sep = path.includes('?') ? '&' : '?';
      const query = `limit=${PAGE_LIMIT}${cursor !== null ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const body = await this.get<unknown>(`${path}${sep}${query}`, options);
      const parsed = body as { items?: unknown; nextCursor?: unknown; revision?: unknown };
      if (
        typeof parsed !== 'object' ||
        parsed === null ||
        !Array.isArray(parsed.items) ||
        !Number.isSafeInteger(parsed.revision) ||
        (parsed.nextCursor !== null && typeof parsed.nextCursor !== 'string')
      ) {
        throw new BallastError('INTERNAL', `meta answered ${path} with something that is no list`);
      }
      items.push(...(parsed.items as T[]));
      revision = Math.min(revision, parsed.revision as number);
      cursor = parsed.nextCursor as string | null;
      if (cursor === null) return { items, revision };
    }
    throw new BallastError('TOO_LARGE', `${path} has more than ${MAX_PAGES} pages`);
  }

  /**
   * One call: tries the member that answered last (or the leader a follower named), moves on
   * after network errors and retryable answers with a backoff, until the deadline. A refusal
   * (4xx other than "try again") is thrown at once as a BallastError with the problem's code and
   * details. When an earlier attempt may have reached meta without its answer arriving, the
   * error's details carry `afterUnknownOutcome: true` (a DELETE that answers NOT_FOUND then may
   * have been ours).
   */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    options: RequestOptions = {},
  ): Promise<T> {
    const deadline = Date.now() + (options.timeoutMs ?? this.timeoutMs);
    let lastError: unknown;
    let unknownOutcome = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0 || options.signal?.aborted === true) break;
      const base = this.leaderUrl ?? this.currentUrl;
      let response: Response;
      try {
        response = await this.fetchImpl(`${base}${path}`, {
          method,
          headers: {
            authorization: this.authorization,
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: attemptSignal(Math.min(this.attemptTimeoutMs, remainingMs), options.signal),
        });
      } catch (err) {
        // Refused connections never reached meta; anything else may have.
        if (!isConnectionRefused(err)) unknownOutcome = true;
        lastError = new BallastError(
          'UNAVAILABLE',
          `${method} ${base}${path}: ${describeFetchError(err)}`,
        );
        this.failedAt(base);
        await backoff(attempt, deadline, options.signal);
        continue;
      }
      const text = await response.text().catch(() => '');
      if (response.ok) {
        this.answeredBy(base);
        if (text === '') return undefined as T;
        try {
          return JSON.parse(text) as T;
        } catch {
          throw new BallastError('INTERNAL', `${method} ${path}: meta answered with invalid JSON`);
        }
      }
      const problem = parseProblem(text, response.status);
      const leader = leaderFrom(problem.details);
      if (problem.code === 'UNAVAILABLE' && leader !== undefined && leader !== base) {
        // A follower pointed at the leader: go there at once.
        this.leaderUrl = leader;
        lastError = new BallastError(problem.code, problem.detail, problem.details);
        // Hints that chase each other (an election in progress) still back off.
        if (attempt >= this.urls.length) await backoff(attempt, deadline, options.signal);
        continue;
      }
      if (!RETRYABLE.has(problem.code)) {
        throw new BallastError(problem.code, problem.detail, {
          ...problem.details,
          ...(unknownOutcome ? { afterUnknownOutcome: true } : {}),
          status: response.status,
        });
      }
      if (problem.code !== 'UNAVAILABLE' || response.status >= 500) unknownOutcome = true;
      lastError = new BallastError(problem.code, problem.detail, problem.details);
      this.failedAt(base);
      await backoff(attempt, deadline, options.signal);
    }
    const message = lastError instanceof Error ? lastError.message : 'no attempt made';
    throw new BallastError(
      isRetryableError(lastError) ? 'UNAVAILABLE' : 'TIMEOUT',
      `meta did not answer ${method} ${path}: ${message}`,
      unknownOutcome ? { afterUnknownOutcome: true } : {},
      lastError,
    );
  }

  private answeredBy(base: string): void {
    const i = this.urls.indexOf(base);
    if (i >= 0) this.current = i;
  }

  private failedAt(base: string): void {
    if (base === this.leaderUrl) this.leaderUrl = undefined;
    else this.rotate();
  }
}

/** The attempt's own deadline, cut short when the caller gives up (a closing sync loop). */
function attemptSignal(timeoutMs: number, caller: AbortSignal | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return caller === undefined ? timeout : AbortSignal.any([timeout, caller]);
}

function isRetryableError(err: unknown): boolean {
  return err instanceof BallastError && RETRYABLE.has(err.code);
}

function isConnectionRefused(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string } }).cause;
  return cause?.code === 'ECONNREFUSED';
}

function describeFetchError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return 'timed out';
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

async function backoff(attempt: number, deadline: number, signal?: AbortSignal): Promise<void> {
  const ms = Math.min(
    RETRY_MAX_MS,
    RETRY_BASE_MS * 2 ** Math.min(attempt, 5),
    Math.max(0, deadline - Date.now()),
  );
  await sleep(ms, signal);
}

/** Resolves after `ms`, or early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface ParsedProblem {
  code: ErrorCode;
  detail: string;
  details: Record<string, unknown> | undefined;
}

function parseProblem(text: string, status: number): ParsedProblem {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const p = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<
    string,
    unknown
  >;
  const code: ErrorCode =
    typeof p.code === 'string' && p.code in ErrorCodes
      ? (p.code as ErrorCode)
      : status === 401
        ? 'UNAUTHORIZED'
        : status === 404
          ? 'NOT_FOUND'
          : status >= 500
            ? 'UNAVAILABLE'
            : 'INVALID_ARGUMENT';
  const detail = typeof p.detail === 'string' ? p.detail : `meta answered HTTP ${status}`;
  const details =
    typeof p.details === 'object' && p.details !== null && !Array.isArray(p.details)
      ? (p.details as Record<string, unknown>)
      : undefined;
  return { code, detail, details };
}

function leaderFrom(details: Record<string, unknown> | undefined): string | undefined {
  const leader = details?.leader as { api?: unknown } | null | undefined;
  if (typeof leader?.api === 'string' && /^https?:\/\//.test(leader.api)) {
    return leader.api.replace(/\/+$/, '');
  }
  return undefined;
}
