import { Worker } from 'node:worker_threads';
import { BallastError } from '@ballast/common';
import { HASH_BYTES } from './codec.js';

export interface SealedBatch {
  /** The stored blobs back to back, in the order given. */
  sealed: Buffer;
  lengths: number[];
}

interface Reply {
  id: number;
  sealed?: Uint8Array;
  lengths?: number[];
  error?: string;
}

/**
 * Worker threads that compress and seal batches of blocks (src/seal-worker.ts). The repository
 * key goes to the workers at their start and nowhere else. Jobs go round-robin; each resolves
 * with its batch's stored blobs.
 */
export class SealPool {
  readonly #workers: Worker[];
  readonly #jobs = new Map<
    number,
    { resolve: (b: SealedBatch) => void; reject: (e: Error) => void }
  >();
  #nextId = 0;
  #nextWorker = 0;
  #closed = false;

  constructor(threads: number, key: Buffer | undefined) {
    this.#workers = Array.from({ length: threads }, () => {
      const w = new Worker(new URL('./seal-worker.js', import.meta.url), {
        workerData: { key: key ?? null },
        // The parent's flags minus those that only apply to its own entry (node --input-type -e).
        execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')),
      });
      w.on('message', (r: Reply) => this.#reply(r));
      w.on('error', (err) => this.#failAll(err));
      w.on('exit', (code) => {
        if (!this.#closed) this.#failAll(new Error(`a seal worker exited (code ${code})`));
      });
      return w;
    });
  }

  /** Seals `payloads[i]` (aad `hashes[i]`) in a worker; the payloads are copied at once. */
  seal(hashes: Buffer[], payloads: Buffer[]): Promise<SealedBatch> {
    if (this.#closed) return Promise.reject(new BallastError('INTERNAL', 'seal pool closed'));
    let total = 0;
    for (const p of payloads) total += p.length;
    const data = Buffer.allocUnsafeSlow(total);
    const hashBuf = Buffer.allocUnsafeSlow(hashes.length * HASH_BYTES);
    let o = 0;
    for (let i = 0; i < payloads.length; i++) {
      o += payloads[i]!.copy(data, o);
      hashes[i]!.copy(hashBuf, i * HASH_BYTES);
    }
    const id = this.#nextId++;
    const w = this.#workers[this.#nextWorker++ % this.#workers.length]!;
    const done = new Promise<SealedBatch>((resolve, reject) =>
      this.#jobs.set(id, { resolve, reject }),
    );
    w.postMessage({ id, data, lengths: payloads.map((p) => p.length), hashes: hashBuf }, [
      data.buffer as ArrayBuffer,
      hashBuf.buffer as ArrayBuffer,
    ]);
    return done;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#failAll(new BallastError('INTERNAL', 'seal pool closed'));
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  #reply(r: Reply): void {
    const job = this.#jobs.get(r.id);
    if (!job) return;
    this.#jobs.delete(r.id);
    if (r.error !== undefined || !r.sealed || !r.lengths) {
      job.reject(new BallastError('INTERNAL', `sealing blocks failed: ${r.error ?? 'no result'}`));
      return;
    }
    job.resolve({
      sealed: Buffer.from(r.sealed.buffer, r.sealed.byteOffset, r.sealed.byteLength),
      lengths: r.lengths,
    });
  }

  #failAll(err: Error): void {
    for (const job of this.#jobs.values()) job.reject(err);
    this.#jobs.clear();
  }
}
