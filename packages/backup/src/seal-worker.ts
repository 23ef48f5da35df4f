// A worker thread of the SealPool: compresses and seals blocks (the CPU-heavy part of a backup)
// while the main thread hashes and deduplicates the next chunk.
import { parentPort, workerData } from 'node:worker_threads';
import { HASH_BYTES, sealParts } from './codec.js';

interface Job {
  id: number;
  data: Uint8Array;
  lengths: number[];
  hashes: Uint8Array;
}

const raw = (workerData as { key: Uint8Array | null }).key;
const key = raw ? Buffer.from(raw) : undefined;

parentPort!.on('message', (job: Job) => {
  try {
    const data = Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength);
    const hashes = Buffer.from(job.hashes.buffer, job.hashes.byteOffset, job.hashes.byteLength);
    const sealed: Buffer[][] = [];
    const lengths: number[] = [];
    let total = 0;
    let off = 0;
    for (let i = 0; i < job.lengths.length; i++) {
      const len = job.lengths[i]!;
      const parts = sealParts(
        data.subarray(off, off + len),
        hashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES),
        key,
      );
      off += len;
      let n = 0;
      for (const p of parts) n += p.length;
      lengths.push(n);
      total += n;
      sealed.push(parts);
    }
    // Its own ArrayBuffer (not the pool's), so it can be transferred without a copy.
    const out = Buffer.allocUnsafeSlow(total);
    let o = 0;
    for (const parts of sealed) for (const p of parts) o += p.copy(out, o);
    parentPort!.postMessage({ id: job.id, sealed: out, lengths }, [out.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort!.postMessage({
      id: job.id,
      error: err instanceof Error ? err.message : String(err),
    });
  }
});
