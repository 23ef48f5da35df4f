import { chunksToCopy, toSessionError } from '@ballast/session';
import { BallastError, isBallastError } from '@ballast/common';
import type { ControlPlane } from './control-plane.js';
import type { Member } from './member.js';
import type { RangeHold } from './ops.js';
import type { CopyContext } from './reconcile.js';
import { replicaTimeout, withTimeout } from './util.js';

export interface RebuildOptions {
  /** Bound on the copy rate (default: unbounded). */
  bytesPerSecond?: number;
  /** Bound on compare-and-copy passes before giving up (default 8). */
  maxPasses?: number;
  signal?: AbortSignal;
  /** Called as the copy goes (after each pass's comparison and each chunk copied). */
  onProgress?: (progress: RebuildProgressReport) => void;
}

export interface RebuildProgressReport {
  chunksCopied: number;
  bytesCopied: number;
  /** Chunks the current pass still has to copy. */
  remainingChunks: number;
  chunkSizeBytes: number;
}

export interface RebuildResult {
  chunksCopied: number;
  bytesCopied: number;
  passes: number;
}

export interface RebuildContext extends CopyContext {
  volumeId: string;
  epoch: number;
  controlPlane: ControlPlane;
  controlPlaneTimeoutMs: number;
  /** How long a request to `member` may take (longer for the last in-sync replica). */
  timeoutOf(member: Member): number;
  hold(startBytes: number, endBytes: number): Promise<RangeHold>;
  release(hold: RangeHold): void;
  /** Counts the member as in-sync for every operation from now on. */
  promote(member: Member): void;
  /** Counts it as rebuilding again (meta refused the promotion). */
  unpromote(member: Member): void;
  isActive(member: Member): boolean;
  /** Chunks this rebuild still has to copy in its current pass (0 when it ends). */
  remaining(nodeId: string, chunks: number): void;
  /** One chunk copied (counted into the engine's monotonic totals). */
  copied(bytes: number): void;
}

/**
 * Delta rebuild of a rebuilding replica while the volume is in use.
 *
 * Each pass flushes an in-sync source and the target and compares their chunk maps, under an
 * exclusive hold of the whole volume (no mutation in flight, so the maps describe the same
 * moment), and lists
 * the chunks whose generations differ or that are unclean ('rebuild' mode; both replicas get the
 * same live writes, so `dirty` says nothing). Each listed chunk is then copied under an
 * exclusive hold of that chunk: the read on the source and the install on the target form one
 * step no write can split. Live writes reach the target all along (it is a member), so a pass
 * that finds nothing to copy proves the target identical; it is promoted right there, still under
 * the whole-volume hold, so no operation is acknowledged between the proof and the moment the
 * engine starts counting the target as in-sync. Then meta commits the promotion.
 */
export async function rebuildReplica(
  ctx: RebuildContext,
  target: Member,
  options: RebuildOptions,
): Promise<RebuildResult> {
  const maxPasses = options.maxPasses ?? 8;
  const rate = options.bytesPerSecond;
  const result: RebuildResult = { chunksCopied: 0, bytesCopied: 0, passes: 0 };
  const startedMs = ctx.clock.monotonicMs();
  try {
    return await rebuildPasses(ctx, target, maxPasses, rate, result, startedMs, options);
  } finally {
    ctx.remaining(target.nodeId, 0);
  }
}

/** Refusals that prove meta did not (and will not) commit a promotion as asked. */
const REFUSALS: ReadonlySet<string> = new Set([
  'CONFLICT',
  'NOT_FOUND',
  'FENCED',
  'INVALID_ARGUMENT',
  'UNPROCESSABLE',
]);

/**
 * Has meta commit a promotion the engine already counts (`target` is in-sync locally, pending).
 * A refusal means the map still lists the replica as rebuilding: the engine counts it as
 * rebuilding again (it keeps receiving every write, so nothing is lost) and the caller may
 * rebuild it again later. An unknown outcome (a timeout, no leader) leaves it in-sync and
 * pending: the map may have committed it, and counting a replica the map lists as in-sync as
 * rebuilding would break invariant 4. The next map update or retry settles it.
 */
export async function confirmPromotion(ctx: RebuildContext, target: Member): Promise<void> {
  target.promotionPending = true;
  try {
    await withTimeout(
      ctx.clock,
      ctx.controlPlane.promoteReplica({
        volumeId: ctx.volumeId,
        volumeName: ctx.volumeName,
        nodeId: target.nodeId,
        epoch: ctx.epoch,
        incarnation: target.incarnation,
      }),
      ctx.controlPlaneTimeoutMs,
      () => new BallastError('TIMEOUT', `meta did not confirm the promotion of ${target.nodeId}`),
    );
    target.promotionPending = false;
  } catch (err) {
    if (isBallastError(err) && REFUSALS.has(err.code)) {
      target.promotionPending = false;
      ctx.unpromote(target);
    }
    throw err;
  }
}

async function rebuildPasses(
  ctx: RebuildContext,
  target: Member,
  maxPasses: number,
  rate: number | undefined,
  result: RebuildResult,
  startedMs: number,
  options: RebuildOptions,
): Promise<RebuildResult> {
  const report = (remainingChunks: number): void => {
    ctx.remaining(target.nodeId, remainingChunks);
    options.onProgress?.({
      chunksCopied: result.chunksCopied,
      bytesCopied: result.bytesCopied,
      remainingChunks,
      chunkSizeBytes: ctx.chunkSizeBytes,
    });
  };
  for (let pass = 0; pass < maxPasses; pass++) {
    result.passes = pass + 1;
    ctx.checkUsable();
    options.signal?.throwIfAborted();
    if (!ctx.isActive(target)) {
      throw new BallastError('UNAVAILABLE', `${target.nodeId} left the set during its rebuild`);
    }
    const source = ctx.inSync().find((m) => ctx.isActive(m));
    if (source === undefined) throw new BallastError('IO', 'no in-sync replica to rebuild from');
    const whole = await ctx.hold(0, ctx.sizeBytes);
    let toCopy: number[];
    try {
      // Flush both first: live writes leave chunks dirty on both sides, and a map that cannot
      // tell dirty from unclean (the data plane's) would then list them for ever. With nothing
      // in flight, the flushes leave only real differences (and crash leftovers) in the maps.
      const flushed = await Promise.all([
        replicaTimeout(
          ctx.clock,
          source.session!.flush(),
          ctx.timeoutOf(source),
          source.nodeId,
          'flush',
        ).then(
          () => true,
          async (err: unknown) => {
            await ctx.fail(source, err, 'flush');
            return false;
          },
        ),
        replicaTimeout(
          ctx.clock,
          target.session!.flush(),
          ctx.timeoutOf(target),
          target.nodeId,
          'flush',
        ).catch(async (err: unknown) => {
          await ctx.fail(target, err, 'flush');
          throw err;
        }),
      ]);
      if (!flushed[0]) continue;
      const [sourceMap, targetMap] = await Promise.all([
        replicaTimeout(
          ctx.clock,
          source.session!.chunkMap(),
          ctx.timeoutOf(source),
          source.nodeId,
          'chunk map',
        ).catch(async (err: unknown) => {
          await ctx.fail(source, err, 'chunk map');
          return null;
        }),
        replicaTimeout(
          ctx.clock,
          target.session!.chunkMap(),
          ctx.timeoutOf(target),
          target.nodeId,
          'chunk map',
        ).catch(async (err: unknown) => {
          await ctx.fail(target, err, 'chunk map');
          throw err;
        }),
      ]);
      if (sourceMap === null) continue; // the next pass picks another source
      toCopy = chunksToCopy(sourceMap, targetMap, 'rebuild');
      report(toCopy.length);
      if (toCopy.length === 0) {
        ctx.promote(target);
        ctx.release(whole);
        await confirmPromotion(ctx, target);
        return result;
      }
    } finally {
      ctx.release(whole);
    }
    ctx.logger?.info(
      { volume: ctx.volumeName, nodeId: target.nodeId, pass, chunks: toCopy.length },
      'rebuild pass',
    );
    let left = toCopy.length;
    for (const index of toCopy) {
      report(left--);
      ctx.checkUsable();
      options.signal?.throwIfAborted();
      if (!ctx.isActive(source) || !ctx.isActive(target)) break;
      const start = index * ctx.chunkSizeBytes;
      const hold = await ctx.hold(start, Math.min(ctx.sizeBytes, start + ctx.chunkSizeBytes));
      try {
        let copy;
        try {
          copy = await replicaTimeout(
            ctx.clock,
            source.session!.readChunk(index),
            ctx.timeoutOf(source),
            source.nodeId,
            'read chunk',
          );
        } catch (err) {
          const failure = toSessionError(err, source.nodeId);
          if (failure.kind === 'checksum') {
            source.checksumErrors += 1;
            // Scrub and read repair fix the source; this pass leaves the chunk for the next one.
            continue;
          }
          await ctx.fail(source, failure, 'read chunk');
          break;
        }
        try {
          await replicaTimeout(
            ctx.clock,
            target.session!.writeChunk(index, copy.generation, copy.data),
            ctx.timeoutOf(target),
            target.nodeId,
            'install chunk',
          );
        } catch (err) {
          await ctx.fail(target, err, 'install chunk');
          throw err;
        }
        result.chunksCopied += 1;
        result.bytesCopied += copy.data?.length ?? 0;
        ctx.copied(copy.data?.length ?? 0);
      } finally {
        ctx.release(hold);
      }
      if (rate !== undefined && rate > 0) {
        const aheadMs = (result.bytesCopied / rate) * 1000 - (ctx.clock.monotonicMs() - startedMs);
        if (aheadMs > 0) await ctx.clock.sleep(aheadMs);
      }
    }
  }
  throw new BallastError(
    'UNAVAILABLE',
    `${target.nodeId} was not caught up after ${maxPasses} passes; try again`,
  );
}
