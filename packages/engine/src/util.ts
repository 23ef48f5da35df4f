import type { Clock } from '@ballast/common';
import { SessionError } from '@ballast/session';

/**
 * Rejects with `onTimeout()` when `promise` has not settled within `timeoutMs`. For the rare
 * paths (open, reconcile, repair, control plane); the hot path uses the engine's sweeper instead
 * of one timer per request.
 */
export function withTimeout<T>(
  clock: Clock,
  promise: Promise<T>,
  timeoutMs: number,
  onTimeout: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(onTimeout()), timeoutMs);
    promise.then(
      (value) => {
        clock.clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clock.clearTimeout(timer);
        reject(err);
      },
    );
  });
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export const BLOCK_BYTES = 4096;

export function floorBlock(n: number): number {
  return n - (n % BLOCK_BYTES);
}

export function ceilBlock(n: number): number {
  const r = n % BLOCK_BYTES;
  return r === 0 ? n : n + BLOCK_BYTES - r;
}

/** withTimeout for one replica's call: a `timeout` SessionError naming the node. */
export function replicaTimeout<T>(
  clock: Clock,
  promise: Promise<T>,
  timeoutMs: number,
  nodeId: string,
  what: string,
): Promise<T> {
  return withTimeout(
    clock,
    promise,
    timeoutMs,
    () =>
      new SessionError('timeout', nodeId, `${what} on ${nodeId} took more than ${timeoutMs} ms`),
  );
}
