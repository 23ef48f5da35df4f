import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@ballast/common';
import type { BadBlock, ChunkStore } from '@ballast/chunkstore';

export interface ScrubberOptions {
  /** Verification rate bound for the whole node (one replica is scrubbed at a time). */
  bytesPerSecond: number;
  /** Pause between the end of one pass over every replica and the start of the next. */
  intervalMs: number;
  log?: Logger;
  /** Called with every bad block found; the lead wires repair-from-peer here. */
  onBadBlocks?: (volumeId: string, badBlocks: BadBlock[]) => Promise<void>;
  onProgress?: (volumeId: string, bytesVerified: number, badBlocks: number) => void;
  onPassDone?: () => void;
}

export interface ScrubberStats {
  passes: number;
  bytesVerified: number;
  badBlocks: number;
  /** Volume being scrubbed right now, if any. */
  current: string | null;
}

/**
 * Background scrub: walks every open replica, verifying each allocated block against its
 * checksum at a bounded rate, and reports bad blocks (counted in metrics by the chunk store and
 * here; repaired through `onBadBlocks` when a peer copy is available).
 */
export class Scrubber {
  readonly #store: ChunkStore;
  readonly #opts: ScrubberOptions;
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;
  readonly #stats: ScrubberStats = { passes: 0, bytesVerified: 0, badBlocks: 0, current: null };

  constructor(store: ChunkStore, opts: ScrubberOptions) {
    if (!(opts.bytesPerSecond > 0) || !Number.isFinite(opts.bytesPerSecond)) {
      throw new RangeError('scrub needs a positive finite bytesPerSecond');
    }
    this.#store = store;
    this.#opts = opts;
  }

  stats(): ScrubberStats {
    return { ...this.#stats };
  }

  start(): void {
    if (this.#loop) return;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }

  /** One pass over every open replica (also used by tests and an admin "scrub now"). */
  async runPass(): Promise<void> {
    const signal = this.#abort.signal;
    for (const summary of this.#store.listReplicas()) {
      if (signal.aborted) return;
      if (summary.state !== 'open') continue;
      const volumeId = summary.replicaId;
      this.#stats.current = volumeId;
      try {
        const replica = this.#store.replica(volumeId);
        for await (const result of replica.scrub({
          bytesPerSecond: this.#opts.bytesPerSecond,
          signal,
        })) {
          this.#stats.bytesVerified += result.bytesVerified;
          this.#stats.badBlocks += result.badBlocks.length;
          this.#opts.onProgress?.(volumeId, result.bytesVerified, result.badBlocks.length);
          if (result.badBlocks.length > 0) {
            this.#opts.log?.error(
              {
                volumeId,
                chunk: result.chunkIndex,
                blocks: result.badBlocks.map((b) => b.blockIndex),
              },
              'scrub found blocks that fail their checksum',
            );
            await this.#opts.onBadBlocks?.(volumeId, result.badBlocks).catch((err: unknown) => {
              this.#opts.log?.error({ volumeId, err }, 'repair after scrub failed');
            });
          }
        }
      } catch (err) {
        // A replica deleted or failed during its scrub; the next pass sees the new state.
        this.#opts.log?.warn({ volumeId, err }, 'scrub of a replica stopped');
      }
    }
    this.#stats.current = null;
    if (!signal.aborted) {
      this.#stats.passes += 1;
      this.#opts.onPassDone?.();
    }
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        await this.runPass();
      } catch (err) {
        this.#opts.log?.error({ err }, 'scrub pass failed');
      }
      try {
        await sleep(this.#opts.intervalMs, undefined, { signal });
      } catch {
        return; // stopped
      }
    }
  }
}
