import { setTimeout as sleepFor } from 'node:timers/promises';
import { BallastError, isBallastError, type Logger } from '@ballast/common';
import type { ChunkStore, ChunkStoreReplicaStore } from '@ballast/chunkstore';
import type { ClientSession, DataPlaneClient } from '@ballast/dataplane';
import type { ChunkCopy, ChunkMapEntry } from '@ballast/session';

/** The volume a rebuild copies, as the map showed it when the rebuild started. */
export interface RebuildVolume {
  id: string;
  name: string;
  sizeBytes: number;
  chunkSizeBytes: number;
  /** The epoch everything is read, installed and promoted under. */
  epoch: number;
  /** This node's replica's incarnation in the map: installs and the promotion are fenced by it. */
  incarnation: number;
}

/** A peer holding an in-sync replica. */
export interface PeerNode {
  id: string;
  /** Data-plane address, host:port. */
  address: string;
  /** The incarnation of its replica in the map: the source session is opened under it. */
  incarnation: number;
}

/** What a rebuild needs from around it (the node's peer service, or a test). */
export interface RebuildEnvironment {
  nodeId: string;
  store: ChunkStore;
  replicaStore: ChunkStoreReplicaStore;
  log: Logger;
  /** Sources to copy from, best first: in-sync replicas on live nodes, never this node. */
  sources(): PeerNode[];
  connect(peer: PeerNode): Promise<DataPlaneClient>;
  /** Copy rate bound, read before every chunk (a changed setting applies at once). */
  bytesPerSecond(): number;
  /** Progress of the copy (bytes of chunks handled / bytes found to copy); rate-limited by the caller. */
  progress(doneBytes: number, totalBytes: number): void;
  /** Data bytes installed (holes count nothing). */
  copied(bytes: number, chunks: number): void;
  /** An attempt failed and another follows (metrics). */
  attemptFailed(): void;
  /** The peer an attempt copies from (null between attempts). */
  sourceChanged(peerId: string | null): void;
  /**
   * Asks meta to make the replica in-sync at `epoch`, if its incarnation is still
   * `incarnation`. Throws FENCED when the volume's epoch moved on (an attach), NOT_FOUND when
   * the replica left the set, CONFLICT when it left and came back (another incarnation).
   */
  promote(epoch: number, incarnation: number): Promise<void>;
}

export interface RebuildOptions {
  /** Attempts (each from a fresh connection, possibly another source) before giving up. */
  maxAttempts?: number;
  /** First pause after a failed attempt; doubles up to retryMaxMs. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Compare-and-copy passes per attempt; the last pass must find nothing left to copy. */
  maxPasses?: number;
  /** Chunk reads in flight at once (bounds memory to this many chunks). */
  readAhead?: number;
  /** Bound on one data-plane request (a chunk read of up to 32 MiB included). */
  requestTimeoutMs?: number;
}

export type RebuildOutcome =
  /** Meta made the replica in-sync. */
  | 'promoted'
  /** The epoch moved on (an attach): the engine rebuilds now. */
  | 'fenced'
  /** Stopped from outside (attach seen in the map, replica gone, node closing). */
  | 'aborted'
  /** Every attempt failed. */
  | 'failed';

export interface RebuildReport {
  outcome: RebuildOutcome;
  attempts: number;
  bytesCopied: number;
  chunksCopied: number;
  /** Why it ended, for the logs. */
  reason: string;
}

const DEFAULTS = {
  maxAttempts: 10,
  retryMinMs: 500,
  retryMaxMs: 30_000,
  maxPasses: 4,
  readAhead: 2,
};

/**
 * Which chunks to fetch from the source. `sourceMap` comes over the data plane (normalised: a
 * chunk left unclean by a crash is `unclean`, one written since the source's last flush
 * `dirty`); `localMap` is this replica's own map.
 *
 * A chunk is copied when the generations differ (one side missed mutations, or has some the
 * other lacks), when the local copy is dirty or unclean (its content is not what its generation
 * says: writes that may have reached only this node, or a crash), or when the source's copy is
 * dirty (no writer is attached, so this is a write from a writer that stopped without flushing,
 * and the generation is no proof of content) and was not already copied in this attempt. With
 * no writer attached nothing moves on either side between the map reads and the copies.
 */
export function chunksToFetch(
  sourceMap: readonly ChunkMapEntry[],
  localMap: readonly ChunkMapEntry[],
  copiedThisAttempt: ReadonlySet<number>,
): number[] {
  const local = new Map(localMap.map((e) => [e.index, e]));
  const out: number[] = [];
  for (const s of sourceMap) {
    const l = local.get(s.index);
    local.delete(s.index);
    if (
      (l?.generation ?? 0) !== s.generation ||
      l?.dirty === true ||
      l?.unclean === true ||
      ((s.dirty || s.unclean) && !copiedThisAttempt.has(s.index))
    ) {
      out.push(s.index);
    }
  }
  // Chunks the source never wrote (generation 0, zeroes) that hold something here.
  for (const l of local.values()) {
    if (l.generation !== 0 || !l.hole || l.dirty || l.unclean) out.push(l.index);
  }
  return out.sort((a, b) => a - b);
}

/**
 * A node-driven rebuild of this node's `rebuilding` replica of an unattached volume, from an
 * in-sync peer over the data plane, then promotion through meta. Every read on the source and
 * every install here happens under the volume's epoch at the start, so an attach (which bumps
 * the epoch) fences the copy on both sides and makes the promotion fail (README, "Rebuild
 * safety").
 */
export class RebuildJob {
  readonly volume: RebuildVolume;
  private readonly env: RebuildEnvironment;
  private readonly opts: Required<Omit<RebuildOptions, 'requestTimeoutMs'>>;
  private bytesCopied = 0;
  private chunksCopied = 0;
  /** When the next chunk may start under the rate bound (performance.now() ms). */
  private nextSlotMs = 0;

  constructor(volume: RebuildVolume, env: RebuildEnvironment, opts: RebuildOptions = {}) {
    this.volume = volume;
    this.env = env;
    this.opts = {
      maxAttempts: opts.maxAttempts ?? DEFAULTS.maxAttempts,
      retryMinMs: opts.retryMinMs ?? DEFAULTS.retryMinMs,
      retryMaxMs: opts.retryMaxMs ?? DEFAULTS.retryMaxMs,
      maxPasses: opts.maxPasses ?? DEFAULTS.maxPasses,
      readAhead: Math.max(1, opts.readAhead ?? DEFAULTS.readAhead),
    };
  }

  /** Runs attempts until the replica is promoted, the epoch moves on, `signal` aborts, or the attempts run out. */
  async run(signal: AbortSignal): Promise<RebuildReport> {
    const failures = new Map<string, number>();
    let attempts = 0;
    let reason = '';
    const report = (outcome: RebuildOutcome, why: string): RebuildReport => ({
      outcome,
      attempts,
      bytesCopied: this.bytesCopied,
      chunksCopied: this.chunksCopied,
      reason: why,
    });
    while (attempts < this.opts.maxAttempts) {
      if (signal.aborted) return report('aborted', 'stopped');
      attempts += 1;
      const candidates = this.env.sources();
      // The candidate that failed least in this job, in the order given (best first).
      let source: PeerNode | undefined;
      for (const c of candidates) {
        if (source === undefined || (failures.get(c.id) ?? 0) < (failures.get(source.id) ?? 0)) {
          source = c;
        }
      }
      try {
        if (source === undefined) {
          throw new BallastError('UNAVAILABLE', 'no in-sync replica on a live node to copy from');
        }
        await this.attempt(source, signal);
        return report('promoted', `promoted at epoch ${this.volume.epoch}`);
      } catch (err) {
        if (signal.aborted) return report('aborted', 'stopped');
        const message = (err as Error).message;
        if (isBallastError(err, 'FENCED')) {
          return report('fenced', message);
        }
        if (err instanceof ReplicaLeftError) return report('aborted', message);
        if (source !== undefined) failures.set(source.id, (failures.get(source.id) ?? 0) + 1);
        reason = message;
        if (attempts < this.opts.maxAttempts) this.env.attemptFailed();
        this.env.log.warn(
          {
            volumeId: this.volume.id,
            volume: this.volume.name,
            source: source?.id ?? null,
            attempt: attempts,
            err: message,
          },
          'rebuild attempt failed; retrying',
        );
      } finally {
        this.env.sourceChanged(null);
      }
      const waitMs = Math.min(this.opts.retryMaxMs, this.opts.retryMinMs * 2 ** (attempts - 1));
      try {
        await sleepFor(waitMs * (0.75 + Math.random() / 2), undefined, { signal });
      } catch {
        return report('aborted', 'stopped');
      }
    }
    return report('failed', `${attempts} attempts failed, the last: ${reason}`);
  }

  /** One attempt: connect, compare, copy, flush, verify, promote. */
  private async attempt(source: PeerNode, signal: AbortSignal): Promise<void> {
    const { id: volumeId, epoch, incarnation } = this.volume;
    const env = this.env;
    const client = await env.connect(source);
    const onAbort = (): void => client.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      env.sourceChanged(source.id);
      // The source: reads under the volume's epoch and its replica's incarnation; its node
      // refuses them as soon as a newer fence is accepted there, and persists this one if the
      // map had not brought it yet.
      const session = await client.openSession({
        volumeId,
        epoch,
        incarnation: source.incarnation,
        sizeBytes: this.volume.sizeBytes,
        chunkSizeBytes: this.volume.chunkSizeBytes,
      });
      // Here: installs under the epoch and this replica's incarnation, persisted first, so a
      // session of an earlier incarnation (an engine's abandoned connection) can never write
      // this replica again; refused locally once a newer fence is accepted.
      await env.replicaStore.acceptFence(volumeId, { epoch, incarnation });
      const replica = env.store.replica(volumeId);
      if (
        replica.sizeBytes !== this.volume.sizeBytes ||
        replica.chunkSizeBytes !== this.volume.chunkSizeBytes
      ) {
        throw new BallastError(
          'UNAVAILABLE',
          `local replica is ${replica.sizeBytes} bytes in ${replica.chunkSizeBytes}-byte chunks, the volume ${this.volume.sizeBytes} in ${this.volume.chunkSizeBytes}`,
        );
      }
      const copied = new Set<number>();
      let doneBytes = 0;
      let totalBytes = 0;
      for (let pass = 0; pass < this.opts.maxPasses; pass++) {
        signal.throwIfAborted();
        const [sourceMap, localMap] = await Promise.all([
          session.getChunkMap(),
          replica.fullChunkMap(),
        ]);
        const work = chunksToFetch(sourceMap.chunks, localMap, copied);
        if (work.length === 0) {
          env.progress(totalBytes, totalBytes);
          env.log.info(
            {
              volumeId,
              volume: this.volume.name,
              source: source.id,
              epoch,
              passes: pass + 1,
              bytesCopied: this.bytesCopied,
              chunksCopied: this.chunksCopied,
            },
            'rebuild copy verified against the source; asking meta to promote',
          );
          signal.throwIfAborted();
          try {
            await env.promote(epoch, incarnation);
          } catch (err) {
            if (isBallastError(err, 'NOT_FOUND')) throw new ReplicaLeftError(err);
            throw err;
          }
          return;
        }
        for (const index of work) totalBytes += this.chunkLength(index);
        env.log.info(
          {
            volumeId,
            volume: this.volume.name,
            source: source.id,
            epoch,
            pass,
            chunks: work.length,
            sourceChunks: sourceMap.chunks.length,
          },
          'rebuild pass: copying the chunks that differ',
        );
        env.progress(doneBytes, totalBytes);
        await this.copyChunks(session, work, signal, (index) => {
          copied.add(index);
          doneBytes += this.chunkLength(index);
          env.progress(doneBytes, totalBytes);
        });
        // Durable before the next comparison, and the installs' dirty marks clear, so the
        // verifying pass sees exactly what a restart would.
        await replica.flush();
      }
      throw new BallastError(
        'UNAVAILABLE',
        `the copy from ${source.id} still differed after ${this.opts.maxPasses} passes`,
      );
    } finally {
      signal.removeEventListener('abort', onAbort);
      client.destroy();
    }
  }

  private chunkLength(index: number): number {
    const start = index * this.volume.chunkSizeBytes;
    return Math.min(this.volume.chunkSizeBytes, this.volume.sizeBytes - start);
  }

  /** Reads the chunks from the source (a few in flight) and installs them here, in order. */
  private async copyChunks(
    session: ClientSession,
    work: readonly number[],
    signal: AbortSignal,
    done: (index: number) => void,
  ): Promise<void> {
    const { id: volumeId, epoch, incarnation } = this.volume;
    const fence = { epoch, incarnation };
    const reads: Array<Promise<ChunkCopy>> = [];
    let issued = 0;
    const issue = (): void => {
      const read = session.readChunk(work[issued++]!);
      // A read-ahead left behind when the attempt fails must not become an unhandled rejection.
      read.catch(() => undefined);
      reads.push(read);
    };
    while (issued < work.length && reads.length < this.opts.readAhead) issue();
    for (const index of work) {
      signal.throwIfAborted();
      const chunk = await reads.shift()!;
      await this.env.replicaStore.installChunk(
        volumeId,
        fence,
        index,
        chunk.generation,
        chunk.data,
      );
      const bytes = chunk.data?.length ?? 0;
      this.bytesCopied += bytes;
      this.chunksCopied += 1;
      this.env.copied(bytes, 1);
      done(index);
      await this.pace(bytes, signal);
      if (issued < work.length) issue();
    }
  }

  /** Keeps the average rate under the bound; holes cost nothing. */
  private async pace(bytes: number, signal: AbortSignal): Promise<void> {
    const rate = this.env.bytesPerSecond();
    const now = performance.now();
    if (!(rate > 0) || !Number.isFinite(rate)) {
      this.nextSlotMs = now;
      return;
    }
    // A rate that was idle does not bank credit beyond one second's worth.
    this.nextSlotMs = Math.max(this.nextSlotMs, now - 1000) + (bytes / rate) * 1000;
    const waitMs = this.nextSlotMs - now;
    if (waitMs > 1) await sleepFor(waitMs, undefined, { signal });
  }
}

/** Meta no longer lists the replica (or the volume): nothing to promote. */
class ReplicaLeftError extends BallastError {
  constructor(cause: unknown) {
    super('NOT_FOUND', `the replica left the set: ${(cause as Error).message}`, {}, cause);
  }
}
