import { BallastError, ErrorCodes, type ErrorCode } from '@ballast/common';

/**
 * The one client for meta's REST API (storage nodes' sync loops, agents, the engine's control
 * plane): bearer token, JSON bodies, problem+json errors turned into BallastErrors with the
 * problem's stable code, failover between members with backoff, the leader hint that followers
 * put in UNAVAILABLE answers (heartbeats must reach the leader), and, for calls that ask for it,
 * hedging: a member that accepts connections but does not answer (paused, cut off) costs
 * `hedgeMs` instead of the attempt timeout.
 */
export interface MetaClientOptions {
  /** Base URLs of meta members (http://host:port). */
  urls: readonly string[];
  /** Bearer token; undefined sends none (meta then answers 401: for tools that report it). */
  token: string | undefined;
  /** Bound on one HTTP attempt. Default 5 s. */
  attemptTimeoutMs?: number;
  /** Bound on one call, retries included. Default 15 s. */
  timeoutMs?: number;
  /** Hedge every call (see RequestOptions.hedgeMs). Default: no hedging. */
  hedgeMs?: number;
  fetch?: typeof fetch;
}

export interface RequestOptions {
  /** Bound on this call, retries included (overrides the client's). */
  timeoutMs?: number;
  /** Stops retrying when aborted (the last error is thrown). */
  signal?: AbortSignal;
  /**
   * Without an answer for this long, the next member is asked as well; the first answer decides
   * and the other attempts are aborted. Only for calls that are safe to repeat (idempotent
   * commands): two members may both propose it.
   */
  hedgeMs?: number;
  /**
   * New rounds start only this long after the call began (default: until `timeoutMs`); the
   * first round always runs. A command-line client asks every member once and gives up soon
   * when nobody answers, while one slow answer may still take the whole `timeoutMs`.
   */
  retryForMs?: number;
  /**
   * For calls that must not be applied twice (a command-line write that is not idempotent): the
   * call is repeated, on another member or in a later round, only when meta cannot have acted
   * on the earlier attempt (the connection was refused, or meta answered `safeToRetry`). After
   * an attempt whose outcome is unknown (no answer, a 5xx without `safeToRetry`), the call ends
   * with that error, its details carrying `afterUnknownOutcome: true`. No hedging.
   */
  atMostOnce?: boolean;
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
/** Bound on rounds (each asks every member at most once) of one call whatever its deadline. */
const MAX_ROUNDS = 64;
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
  private readonly token: string | undefined;
  private readonly attemptTimeoutMs: number;
  private readonly timeoutMs: number;
  private readonly hedgeMs: number | undefined;
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
    if (options.token?.length === 0) throw new BallastError('CONFIG', 'the meta token is empty');
    this.urls = options.urls.map((u) => u.replace(/\/+$/, ''));
    this.token = options.token;
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 5_000;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.hedgeMs = options.hedgeMs;
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

  /** The Authorization header (for the watch socket); undefined without a token. */
  get authorization(): string | undefined {
    return this.token === undefined ? undefined : `Bearer ${this.token}`;
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
   * One call, in rounds until the deadline. A round asks the leader a follower named (or the
   * member that answered last) first and moves on to the next member after a network error or
   * a retryable answer (and, with `hedgeMs`, after that long without an answer); a follower's
   * leader hint is followed at once. A round in which every member failed is followed by a
   * backoff. A refusal (4xx other than "try again") is thrown at once as a BallastError with the
   * problem's code and details. When an earlier attempt may have reached meta without its answer
   * arriving, the error's details carry `afterUnknownOutcome: true` (a DELETE that answers
   * NOT_FOUND then may have been ours).
   */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    options: RequestOptions = {},
  ): Promise<T> {
    const started = Date.now();
    const deadline = started + (options.timeoutMs ?? this.timeoutMs);
    const retryUntil = Math.min(deadline, started + (options.retryForMs ?? Infinity));
    const atMostOnce = options.atMostOnce === true;
    const hedgeMs = atMostOnce ? undefined : (options.hedgeMs ?? this.hedgeMs);
    const call: Call = {
      method,
      path,
      body,
      deadline,
      hedgeMs,
      signal: options.signal,
      atMostOnce,
    };
    let lastError: unknown;
    let unknownOutcome = false;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if (deadline - Date.now() <= 0 || options.signal?.aborted === true) break;
      if (round > 0 && Date.now() >= retryUntil) break;
      const outcome = await this.round(call);
      unknownOutcome ||= outcome.unknownOutcome;
      if (outcome.kind === 'answered') return outcome.value as T;
      if (outcome.kind === 'refused') {
        const { code, detail, details, status } = outcome.problem;
        throw new BallastError(code, detail, {
          ...details,
          ...(unknownOutcome ? { afterUnknownOutcome: true } : {}),
          status,
        });
      }
      lastError = outcome.error;
      if (atMostOnce && outcome.unknownOutcome) break;
      await backoff(round, retryUntil, options.signal);
    }
    const message = lastError instanceof Error ? lastError.message : 'no attempt made';
    throw new BallastError(
      isRetryableError(lastError) ? 'UNAVAILABLE' : 'TIMEOUT',
      `meta did not answer ${method} ${path}: ${message}`,
      unknownOutcome ? { afterUnknownOutcome: true } : {},
      lastError,
    );
  }

  /** Asks members until one answers (or refuses) or every member of the round failed. */
  private round(call: Call): Promise<RoundOutcome> {
    return new Promise((resolve) => {
      const asked = new Set<string>();
      const controllers: AbortController[] = [];
      let pending = 0;
      let done = false;
      let unknownOutcome = false;
      let lastError: unknown;
      let hedgeTimer: NodeJS.Timeout | undefined;
      const finish = (outcome: RoundOutcome): void => {
        if (done) return;
        done = true;
        clearTimeout(hedgeTimer);
        for (const c of controllers) c.abort();
        resolve(outcome);
      };
      const nextBase = (): string | undefined => {
        const first = this.leaderUrl ?? this.currentUrl;
        if (!asked.has(first)) return first;
        for (let i = 0; i < this.urls.length; i++) {
          const url = this.urls[(this.current + i) % this.urls.length]!;
          if (!asked.has(url)) return url;
        }
        return undefined;
      };
      const failed = (base: string | undefined, error: unknown): void => {
        lastError = error;
        if (base !== undefined) this.failedAt(base);
        if (!ask() && pending === 0) {
          finish({ kind: 'failed', error: lastError, unknownOutcome });
        }
      };
      const ask = (base = nextBase()): boolean => {
        const remainingMs = call.deadline - Date.now();
        if (done || base === undefined || remainingMs <= 0 || call.signal?.aborted === true) {
          return false;
        }
        asked.add(base);
        pending += 1;
        const controller = new AbortController();
        controllers.push(controller);
        const signals = [
          controller.signal,
          AbortSignal.timeout(Math.min(this.attemptTimeoutMs, remainingMs)),
        ];
        if (call.signal !== undefined) signals.push(call.signal);
        this.attempt(base, call, AbortSignal.any(signals)).then((result) => {
          pending -= 1;
          if (done) return;
          unknownOutcome ||= result.unknownOutcome;
          if (call.atMostOnce && result.unknownOutcome && result.kind !== 'answered') {
            // Meta may have acted on it: asking again (anywhere) could act twice.
            if (result.kind === 'refused') {
              return finish({ kind: 'refused', problem: result.problem, unknownOutcome });
            }
            lastError = result.error;
            return finish({ kind: 'failed', error: result.error, unknownOutcome });
          }
          switch (result.kind) {
            case 'answered':
              this.answeredBy(base);
              return finish({ kind: 'answered', value: result.value, unknownOutcome });
            case 'refused':
              this.answeredBy(base);
              return finish({ kind: 'refused', problem: result.problem, unknownOutcome });
            case 'redirected':
              // A follower pointed at the leader: ask it now (once per round: hints that chase
              // each other during an election fall back to the backoff between rounds).
              // When it cannot be asked (the deadline passed meanwhile), the round goes on as
              // after a failure, so that it still ends.
              this.leaderUrl = result.leader;
              if (!asked.has(result.leader) && ask(result.leader)) return;
              return failed(undefined, result.error);
            case 'failed':
              return failed(base, result.error);
          }
        });
        return true;
      };
      const hedge = (): void => {
        if (call.hedgeMs === undefined) return;
        hedgeTimer = setTimeout(() => {
          if (ask()) hedge();
        }, call.hedgeMs);
      };
      if (!ask()) finish({ kind: 'failed', error: lastError, unknownOutcome });
      else hedge();
    });
  }

  /** One request to one member; never rejects. */
  private async attempt(base: string, call: Call, signal: AbortSignal): Promise<AttemptResult> {
    const { method, path, body } = call;
    let response: Response;
    try {
      response = await this.fetchImpl(`${base}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          ...(this.token !== undefined ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal,
      });
    } catch (err) {
      return {
        kind: 'failed',
        // Refused connections never reached meta; anything else may have.
        unknownOutcome: !isConnectionRefused(err),
        error: new BallastError(
          'UNAVAILABLE',
          `${method} ${base}${path}: ${describeFetchError(err)}`,
        ),
      };
    }
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      return {
        kind: 'failed',
        unknownOutcome: true,
        error: new BallastError(
          'UNAVAILABLE',
          `${method} ${base}${path}: ${describeFetchError(err)}`,
        ),
      };
    }
    if (response.ok) {
      if (text === '') return { kind: 'answered', value: undefined, unknownOutcome: false };
      try {
        return { kind: 'answered', value: JSON.parse(text), unknownOutcome: false };
      } catch {
        return {
          kind: 'refused',
          unknownOutcome: false,
          problem: {
            code: 'INTERNAL',
            detail: `${method} ${path}: meta answered with invalid JSON`,
            details: undefined,
            status: response.status,
          },
        };
      }
    }
    const problem = { ...parseProblem(text, response.status), status: response.status };
    const error = new BallastError(problem.code, problem.detail, problem.details);
    const leader = leaderFrom(problem.details);
    // Meta says so when a failed write cannot have entered the log (not proposed, not forwarded).
    const safeToRetry = problem.details?.safeToRetry === true;
    if (problem.code === 'UNAVAILABLE' && leader !== undefined && leader !== base) {
      return {
        kind: 'redirected',
        leader,
        error,
        unknownOutcome: call.atMostOnce && !safeToRetry,
      };
    }
    if (!RETRYABLE.has(problem.code)) return { kind: 'refused', problem, unknownOutcome: false };
    return {
      kind: 'failed',
      error,
      unknownOutcome: call.atMostOnce
        ? !safeToRetry
        : problem.code !== 'UNAVAILABLE' || response.status >= 500,
    };
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

interface Call {
  method: string;
  path: string;
  body: unknown;
  deadline: number;
  hedgeMs: number | undefined;
  signal: AbortSignal | undefined;
  atMostOnce: boolean;
}

interface Problem extends ParsedProblem {
  status: number;
}

type AttemptResult =
  | { kind: 'answered'; value: unknown; unknownOutcome: boolean }
  | { kind: 'refused'; problem: Problem; unknownOutcome: boolean }
  | { kind: 'redirected'; leader: string; error: BallastError; unknownOutcome: boolean }
  | { kind: 'failed'; error: BallastError; unknownOutcome: boolean };

type RoundOutcome =
  | { kind: 'answered'; value: unknown; unknownOutcome: boolean }
  | { kind: 'refused'; problem: Problem; unknownOutcome: boolean }
  | { kind: 'failed'; error: unknown; unknownOutcome: boolean };

function isRetryableError(err: unknown): boolean {
  return err instanceof BallastError && RETRYABLE.has(err.code);
}

/** Failures before a request could leave: no connection, a blocked port, a TLS peer refused. */
const NEVER_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

function isConnectionRefused(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code !== undefined && NEVER_SENT_CODES.has(cause.code)) return true;
  // fetch refuses some ports outright; a certificate that does not verify ends the handshake.
  if (cause?.message === 'bad port') return true;
  return /CERT|SELF_SIGNED|ERR_TLS|SSL/.test(cause?.code ?? '');
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
