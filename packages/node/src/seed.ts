// A clone's first copy (D32): the node chosen by meta reads the source snapshot, from its own
// chunk store when it holds the source volume's replica with that snapshot, else from a peer
// that holds it over the data plane, writes it into the clone's local replica, flushes, and asks
// meta to promote that replica. The clone's other replicas are then rebuilt from it as usual.
import { setTimeout as sleepFor } from 'node:timers/promises';
import { BallastError, isAllZero, isBallastError, type Logger } from '@ballast/common';
import type { ChunkStore } from '@ballast/chunkstore';
import type { RebuildReport, RebuildVolume } from './rebuild.js';

/** Where a clone's data comes from: a snapshot of another volume. */
export interface SeedSource {
  volumeId: string;
  volumeName: string;
  seq: number;
  sizeBytes: number;
}

/** A way to read the source snapshot: this node's store, or a peer holding it. */
export interface SnapshotReader {
  /** Who serves the reads (log and metrics). */
  readonly from: string;
  read(offsetBytes: number, lengthBytes: number): Promise<Buffer>;
  close(): void;
}

export interface SeedEnvironment {
  store: ChunkStore;
  log: Logger;
  /** Readers of the source snapshot, best first (local, then peers); opened one at a time. */
  readers(): Array<() => Promise<SnapshotReader>>;
  /** The copy rate bound in force, bytes per second (Infinity: unthrottled). */
  bytesPerSecond(): number;
  copied(bytes: number, chunks: number): void;
  progress(doneBytes: number, totalBytes: number): void;
  promote(epoch: number, incarnation: number): Promise<unknown>;
}

export interface SeedOptions {
  maxAttempts?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
}

export class SeedJob {
  private bytesCopied = 0;
  private chunksCopied = 0;
  private nextSlotMs = 0;

  constructor(
    readonly volume: RebuildVolume,
    private readonly source: SeedSource,
    private readonly env: SeedEnvironment,
    private readonly opts: Required<SeedOptions> = {
      maxAttempts: 5,
      retryMinMs: 500,
      retryMaxMs: 30_000,
    },
  ) {}

  /** Attempts (each from the best reader still untried this round) until promoted or given up. */
  async run(signal: AbortSignal): Promise<RebuildReport> {
    let attempts = 0;
    let reason = '';
    const report = (outcome: RebuildReport['outcome'], why: string): RebuildReport => ({
      outcome,
      attempts,
      bytesCopied: this.bytesCopied,
      chunksCopied: this.chunksCopied,
      reason: why,
    });
    while (attempts < this.opts.maxAttempts) {
      if (signal.aborted) return report('aborted', 'stopped');
      const readers = this.env.readers();
      const open = readers[attempts % Math.max(1, readers.length)];
      attempts += 1;
      try {
        if (open === undefined) {
          throw new BallastError(
            'UNAVAILABLE',
            `no live node holds snapshot ${this.source.seq} of ${this.source.volumeName}`,
          );
        }
        const reader = await open();
        try {
          await this.copy(reader, signal);
        } finally {
          reader.close();
        }
        signal.throwIfAborted();
        await this.env.promote(this.volume.epoch, this.volume.incarnation);
        return report('promoted', `copied from ${this.source.volumeName}@${this.source.seq}`);
      } catch (err) {
        if (signal.aborted) return report('aborted', 'stopped');
        if (isBallastError(err, 'FENCED')) return report('fenced', (err as Error).message);
        reason = (err as Error).message;
        this.env.log.warn(
          { volumeId: this.volume.id, volume: this.volume.name, attempt: attempts, err: reason },
          'clone copy attempt failed; retrying',
        );
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

  /** Copies the snapshot chunk by chunk; zero chunks are skipped (the new replica reads zeroes). */
  private async copy(reader: SnapshotReader, signal: AbortSignal): Promise<void> {
    const replica = this.env.store.replica(this.volume.id);
    const chunk = this.volume.chunkSizeBytes;
    const total = this.source.sizeBytes;
    this.env.log.info(
      {
        volumeId: this.volume.id,
        volume: this.volume.name,
        from: reader.from,
        source: `${this.source.volumeName}@${this.source.seq}`,
        bytes: total,
      },
      'copying a snapshot into a clone',
    );
    for (let offset = 0; offset < total; offset += chunk) {
      signal.throwIfAborted();
      const length = Math.min(chunk, total - offset);
      const data = await reader.read(offset, length);
      this.chunksCopied += 1;
      if (!isAllZero(data)) {
        await this.pace(length, signal);
        await replica.write(offset, data);
        this.bytesCopied += length;
        this.env.copied(length, 1);
      } else {
        this.env.copied(0, 1);
      }
      this.env.progress(offset + length, total);
    }
    await replica.flush();
  }

  private async pace(bytes: number, signal: AbortSignal): Promise<void> {
    const rate = this.env.bytesPerSecond();
    if (!Number.isFinite(rate)) return;
    const now = performance.now();
    this.nextSlotMs = Math.max(this.nextSlotMs, now - 1000) + (bytes / rate) * 1000;
    const waitMs = this.nextSlotMs - now;
    if (waitMs > 1) await sleepFor(waitMs, undefined, { signal });
  }
}
