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
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 10_000;
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
    for (let attempt = 0; attempt < 64; attempt++) {
      const base = this.options.apiUrls[this.next % this.options.apiUrls.length]!;
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) break;
      try {
        const response = await this.fetchImpl(`${base}${path}`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${this.options.token}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(Math.min(this.attemptTimeoutMs, remainingMs)),
        });
        if (response.ok) {
          await response.arrayBuffer();
          return;
        }
        const problem = await readProblem(response);
        const refusal = new BallastError(problem.code, problem.detail, problem.details);
        // Refusals are answers: the command was decided.
        if (!RETRYABLE.has(problem.code)) throw refusal;
        lastError = refusal;
      } catch (err) {
        if (err instanceof BallastError && !RETRYABLE.has(err.code)) throw err;
        lastError = err;
      }
      this.next += 1;
      const backoffMs = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(attempt, 5));
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
