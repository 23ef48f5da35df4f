import { BallastError, isBallastError } from '@ballast/common';
import { MetaClient } from './client.js';

/** The engine's requests (its ControlPlane port, which @ballast/engine owns), by shape. */
export interface ReplicaReport {
  volumeId: string;
  /** The REST API addresses volumes by name. */
  volumeName: string;
  nodeId: string;
  epoch: number;
  incarnation: number;
}

export interface MetaControlPlaneOptions {
  /** Base URLs of meta members' REST APIs. */
  apiUrls: readonly string[];
  token: string;
  /** Overall bound on one call, retries included. Default 30 s. */
  timeoutMs?: number;
  /** Bound on one HTTP attempt. Default 5 s. */
  attemptTimeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * Without an answer from one member for this long, the next member is asked as well: writes are
 * held while the engine waits for a replica's removal to commit, so a silent member (paused, cut
 * off) must cost this, not the attempt timeout.
 */
export const CONTROL_PLANE_HEDGE_MS = 750;

/**
 * The engine's control plane over meta's admin REST API
 * (`POST /v1/volumes/{name}/replicas/{nodeId}/out-of-sync` and `.../promote`), through the one
 * MetaClient, hedged. Both commands are idempotent, so retries and hedged duplicates are
 * harmless. Resolves once meta committed the change; rejects with the refusal's code (FENCED,
 * CONFLICT, NOT_FOUND, ...) or TIMEOUT when no member confirmed it in time.
 */
export class MetaControlPlane {
  private readonly client: MetaClient;
  private readonly timeoutMs: number;

  constructor(options: MetaControlPlaneOptions) {
    if (options.apiUrls.length === 0) {
      throw new BallastError('CONFIG', 'the control plane needs at least one meta API URL');
    }
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.client = new MetaClient({
      urls: options.apiUrls,
      token: options.token,
      attemptTimeoutMs: options.attemptTimeoutMs ?? 5_000,
      timeoutMs: this.timeoutMs,
      hedgeMs: CONTROL_PLANE_HEDGE_MS,
      ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
    });
  }

  async markOutOfSync(request: ReplicaReport & { reason: string }): Promise<void> {
    await this.post(`${replicaPath(request)}/out-of-sync`, {
      epoch: request.epoch,
      incarnation: request.incarnation,
      reason: request.reason.slice(0, 200),
    });
  }

  async promoteReplica(request: ReplicaReport): Promise<void> {
    // Idempotent on meta's side (an in-sync replica at the current epoch answers 200); FENCED
    // when a newer attachment holds the volume.
    await this.post(`${replicaPath(request)}/promote`, {
      epoch: request.epoch,
      incarnation: request.incarnation,
    });
  }

  private async post(path: string, body: unknown): Promise<void> {
    try {
      await this.client.post(path, body);
    } catch (err) {
      if (isBallastError(err) && (err.code === 'UNAVAILABLE' || err.code === 'TIMEOUT')) {
        throw new BallastError(
          'TIMEOUT',
          `meta did not confirm ${path} within ${this.timeoutMs} ms`,
          {},
          err,
        );
      }
      throw err;
    }
  }
}

function replicaPath(request: ReplicaReport): string {
  return `/v1/volumes/${encodeURIComponent(request.volumeName)}/replicas/${encodeURIComponent(request.nodeId)}`;
}
