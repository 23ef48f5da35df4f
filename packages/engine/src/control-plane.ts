import { BallastError, ErrorCodes, type ErrorCode } from '@ballast/common';
import type { ApplyResult, Command } from '@ballast/meta';

/** A replica that failed and must leave the in-sync set before the engine acknowledges. */
export interface OutOfSyncRequest {
  volumeId: string;
  /** The REST API addresses volumes by name. */
  volumeName: string;
  nodeId: string;
  /** The engine's attachment epoch: meta refuses (FENCED) one that no longer holds the volume. */
  epoch: number;
  /**
   * The incarnation of the replica that failed (D17): if the map holds another one on that node
   * (it left and came back), the failed one is out already and meta changes nothing.
   */
  incarnation: number;
  reason: string;
}

export interface PromoteRequest {
  volumeId: string;
  volumeName: string;
  nodeId: string;
  epoch: number;
  /** The incarnation the rebuild copied to: meta refuses (CONFLICT) if the map holds another. */
  incarnation: number;
}

/**
 * What the engine needs from the metadata service. Every method resolves only once the change
 * is committed through the log, and rejects with a BallastError whose code says why:
 * FENCED (the epoch no longer holds the volume), CONFLICT (the last in-sync replica), NOT_FOUND,
 * UNAVAILABLE/TIMEOUT (unknown outcome). Both calls are idempotent, so implementations retry
 * after a lost answer.
 */
export interface ControlPlane {
  markOutOfSync(request: OutOfSyncRequest): Promise<void>;
  /** Rebuilding -> in-sync, proposed by the engine once the replica has caught up. */
  promoteReplica(request: PromoteRequest): Promise<void>;
}

/** The part of @ballast/meta's MetaStore the in-process control plane uses. */
export interface CommandProposer {
  propose(command: Command): Promise<ApplyResult>;
}

/**
 * ControlPlane over a MetaStore in the same process (DirectMetaStore in tests, the dev mode's
 * single member): the real map logic, with no network in between.
 */
export class DirectControlPlane implements ControlPlane {
  constructor(
    private readonly store: CommandProposer,
    private readonly clock: () => number = Date.now,
  ) {}

  async markOutOfSync(request: OutOfSyncRequest): Promise<void> {
    await this.commit({
      type: 'markReplicaOutOfSync',
      at: this.clock(),
      volumeId: request.volumeId,
      nodeId: request.nodeId,
      epoch: request.epoch,
      incarnation: request.incarnation,
      reason: request.reason.slice(0, 200),
    });
  }

  async promoteReplica(request: PromoteRequest): Promise<void> {
    await this.commit({
      type: 'promoteReplica',
      at: this.clock(),
      volumeId: request.volumeId,
      nodeId: request.nodeId,
      epoch: request.epoch,
      incarnation: request.incarnation,
    });
  }

  private async commit(command: Command): Promise<void> {
    const result = await this.store.propose(command);
    if (!result.ok) {
      throw new BallastError(result.error.code, result.error.message, result.error.details);
    }
  }
}

export interface RestControlPlaneOptions {
  /** Base URLs of meta members' REST APIs; requests go to the first that answers. */
  apiUrls: readonly string[];
  token: string;
  /** Overall bound on one call, retries included. */
  timeoutMs?: number;
  /** Bound on one HTTP attempt. */
  attemptTimeoutMs?: number;
  fetch?: typeof fetch;
}

const RETRY_BASE_MS = 50;
/** Answers that leave the outcome unknown or say "try again": retried (the call is idempotent). */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set([
  'UNAVAILABLE',
  'RATE_LIMITED',
  'TIMEOUT',
  'INTERNAL',
]);
const RETRY_MAX_MS = 1000;
/** Without an answer from one member for this long, the next member is asked as well. */
const HEDGE_MS = 750;

/**
 * ControlPlane over meta's admin REST API (`POST /v1/volumes/{name}/replicas/{nodeId}/out-of-sync`
 * and `.../promote`)
 * with a bearer token. Answers are problem+json with a stable `code`. A network error, 5xx other
 * than a refusal, or a timed-out attempt is retried (with backoff, on the next member) until
 * `timeoutMs`: the command is idempotent, so a retry after a lost answer is harmless.
 */
export class RestControlPlane implements ControlPlane {
  private readonly timeoutMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private next = 0;

  constructor(private readonly options: RestControlPlaneOptions) {
    if (options.apiUrls.length === 0) {
      throw new BallastError('CONFIG', 'RestControlPlane needs at least one meta API URL');
    }
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 5_000;
    this.fetchImpl = options.fetch ?? fetch;
  }

  async markOutOfSync(request: OutOfSyncRequest): Promise<void> {
    const path = `/v1/volumes/${encodeURIComponent(request.volumeName)}/replicas/${encodeURIComponent(request.nodeId)}/out-of-sync`;
    await this.post(path, {
      epoch: request.epoch,
      incarnation: request.incarnation,
      reason: request.reason.slice(0, 200),
    });
  }

  async promoteReplica(request: PromoteRequest): Promise<void> {
    // Idempotent on meta's side (an in-sync replica at the current epoch answers 200); FENCED
    // when a newer attachment holds the volume.
    const path = `/v1/volumes/${encodeURIComponent(request.volumeName)}/replicas/${encodeURIComponent(request.nodeId)}/promote`;
    await this.post(path, { epoch: request.epoch, incarnation: request.incarnation });
  }

  private async post(path: string, body: unknown): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    let lastError: unknown;
    for (let round = 0; round < 64 && Date.now() < deadline; round++) {
      const outcome = await this.hedgedRound(path, body, deadline);
      if (outcome.kind === 'ok') return;
      if (outcome.kind === 'refused') throw outcome.error;
      lastError = outcome.error;
      const backoffMs = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(round, 5));
      await new Promise((r) =>
        setTimeout(r, Math.min(backoffMs, Math.max(0, deadline - Date.now()))),
      );
    }
    throw new BallastError(
      'TIMEOUT',
      `meta did not confirm ${path} within ${this.timeoutMs} ms`,
      {},
      lastError,
    );
  }

  /**
   * One round over the members: the one that answered last first, then, each time HEDGE_MS
   * pass without an answer, the next one as well (a member that accepts connections but does
   * not answer, a paused or cut-off one, costs HEDGE_MS instead of the attempt timeout: writes
   * are held while this runs). The first answer decides; the others are aborted. The commands
   * are idempotent, so two members proposing the same one is harmless.
   */
  private hedgedRound(
    path: string,
    body: unknown,
    deadline: number,
  ): Promise<
    { kind: 'ok' } | { kind: 'refused'; error: BallastError } | { kind: 'failed'; error: unknown }
  > {
    const urls = this.options.apiUrls;
    return new Promise((resolve) => {
      let started = 0;
      let failed = 0;
      let done = false;
      let lastError: unknown;
      let hedgeTimer: NodeJS.Timeout | undefined;
      const controllers: AbortController[] = [];
      const finish = (
        r:
          | { kind: 'ok' }
          | { kind: 'refused'; error: BallastError }
          | { kind: 'failed'; error: unknown },
      ): void => {
        if (done) return;
        done = true;
        clearTimeout(hedgeTimer);
        for (const c of controllers) c.abort();
        resolve(r);
      };
      const startNext = (): void => {
        if (done || started >= urls.length) return;
        const index = (this.next + started) % urls.length;
        started += 1;
        const controller = new AbortController();
        controllers.push(controller);
        const timeoutMs = Math.max(1, Math.min(this.attemptTimeoutMs, deadline - Date.now()));
        const timer = setTimeout(() => controller.abort(), timeoutMs);
        this.attempt(urls[index]!, path, body, controller.signal).then(
          (refusal) => {
            clearTimeout(timer);
            if (refusal === null) {
              this.next = index;
              finish({ kind: 'ok' });
            } else if (!RETRYABLE.has(refusal.code)) {
              // Refusals are answers: the command was decided.
              this.next = index;
              finish({ kind: 'refused', error: refusal });
            } else onFailure(refusal);
          },
          (err: unknown) => {
            clearTimeout(timer);
            onFailure(err);
          },
        );
      };
      const onFailure = (err: unknown): void => {
        lastError = err;
        failed += 1;
        if (failed >= urls.length) finish({ kind: 'failed', error: lastError });
        else if (started < urls.length) startNext();
      };
      const hedge = (): void => {
        hedgeTimer = setTimeout(() => {
          startNext();
          if (started < urls.length) hedge();
        }, HEDGE_MS);
      };
      startNext();
      hedge();
    });
  }

  /** One POST to one member: null when it succeeded, the refusal when it answered one. */
  private async attempt(
    base: string,
    path: string,
    body: unknown,
    signal: AbortSignal,
  ): Promise<BallastError | null> {
    const response = await this.fetchImpl(`${base}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${this.options.token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
      signal,
    });
    if (response.ok) {
      await response.arrayBuffer();
      return null;
    }
    const problem = await readProblem(response);
    return new BallastError(problem.code, problem.detail, problem.details);
  }
}

async function readProblem(
  response: Response,
): Promise<{ code: ErrorCode; detail: string; details: Record<string, unknown> | undefined }> {
  let parsed: unknown;
  try {
    parsed = await response.json();
  } catch {
    parsed = undefined;
  }
  const p = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<
    string,
    unknown
  >;
  const code =
    typeof p.code === 'string' && p.code in ErrorCodes
      ? (p.code as ErrorCode)
      : response.status >= 500
        ? 'UNAVAILABLE'
        : 'INTERNAL';
  const detail = typeof p.detail === 'string' ? p.detail : `meta answered HTTP ${response.status}`;
  const details =
    typeof p.details === 'object' && p.details !== null
      ? (p.details as Record<string, unknown>)
      : undefined;
  return { code, detail, details };
}
