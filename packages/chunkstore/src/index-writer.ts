import type { AbstractBatchOptions } from 'abstract-level';
import type { IndexDb } from './storage.js';
import { BallastError } from '@ballast/common';
import { MAX_QUEUED_INDEX_SUBMISSIONS, MAX_SUBMISSIONS_PER_INDEX_BATCH } from './constants.js';

/**
 * classic-level's `sync` (a synced LevelDB write), which abstract-level passes through to the
 * implementation but does not declare.
 */
const SYNCED = { sync: true } as AbstractBatchOptions<string, Buffer>;

export type IndexOp = { type: 'put'; key: string; value: Buffer } | { type: 'del'; key: string };

interface Submission {
  ops: IndexOp[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * The one writer of the LevelDB index. Every submission is durable (sync) when it resolves,
 * submissions are applied in the order they were made (LevelDB applies a batch's operations in
 * order, so a later put or delete of the same key wins), and while one batch is being written
 * the next submissions queue up and go out together in one synced batch: group commit, so dirty
 * marks of many chunks and replicas share one fsync.
 */
export class IndexWriter {
  private readonly queue: Submission[] = [];
  private running: Promise<void> | null = null;
  private closed = false;
  batches = 0;
  operations = 0;

  constructor(private readonly db: IndexDb) {}

  submit(ops: IndexOp[]): Promise<void> {
    if (this.closed) {
      return Promise.reject(new BallastError('UNAVAILABLE', 'the chunk store index is closed'));
    }
    if (ops.length === 0) return Promise.resolve();
    if (this.queue.length >= MAX_QUEUED_INDEX_SUBMISSIONS) {
      return Promise.reject(
        new BallastError('UNAVAILABLE', 'too many index updates waiting for the disk'),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ops, resolve, reject });
      if (this.running === null) this.running = this.drain();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue.splice(0, MAX_SUBMISSIONS_PER_INDEX_BATCH);
      const ops: IndexOp[] = [];
      for (const s of group) for (const op of s.ops) ops.push(op);
      try {
        await this.db.batch(ops, SYNCED);
        this.batches += 1;
        this.operations += ops.length;
        for (const s of group) s.resolve();
      } catch (err) {
        const error = new BallastError(
          'IO',
          'writing the chunk store index failed',
          { operations: ops.length },
          err,
        );
        for (const s of group) s.reject(error);
      }
    }
    this.running = null;
  }

  /** Resolves once everything submitted so far has been written (or failed). */
  async idle(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  /** Refuses new submissions; those already queued still complete. */
  close(): void {
    this.closed = true;
  }
}
