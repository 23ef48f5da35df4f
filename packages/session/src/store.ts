import type { Fence } from '@ballast/common';
import type { ChunkCopy, ChunkMapEntry, PeerInfo, TrimOptions } from './types.js';

/**
 * A node's storage as sessions see it: the chunk store (packages/node's ChunkStoreReplicaStore)
 * or memory (MemoryReplicaStore, for tests and tools). Sessions reach it only through
 * SessionCore, which keeps the session rules; a store keeps these:
 *
 * - Calls happen in the order requests arrived. Mutations (write, trim, writeChunk) of one
 *   volume are APPLIED in call order, also when an earlier one returned a promise and a later
 *   one could have been applied at once.
 * - A mutation that returns undefined is applied; one that returns a promise is applied when it
 *   resolves. `flush` makes every mutation applied before the call durable.
 * - Errors are thrown (synchronously or as rejections) as BallastError with a stable code:
 *   FENCED, SUPERSEDED, CHECKSUM_MISMATCH, NOT_FOUND, INVALID_ARGUMENT/TOO_LARGE, IO,
 *   UNAVAILABLE. Bad data is never returned as good: a read that cannot be verified throws
 *   CHECKSUM_MISMATCH.
 * - The fence (epoch, replica incarnation; D17) is a fact on disk: `openSession` refuses one
 *   older than the highest persisted for the volume (FENCED for an older epoch, SUPERSEDED for
 *   an older incarnation) and persists a newer one before it resolves, then waits until the
 *   mutations accepted under older fences have landed (a clean cut). `checkFence` is
 *   synchronous and cheap: it runs before every request of every session.
 */
export interface ReplicaStore<B = unknown> {
  openSession(request: OpenSessionArgs, peer: PeerInfo): Promise<OpenedSession<B>>;
  /** The session ended (closed, or its connection went away). */
  closeSession?(binding: B): void;
  /** Throws FENCED or SUPERSEDED when `fence` is older than the highest accepted. */
  checkFence(volumeId: string, fence: Fence): void;

  /** The data of [offset, offset+length): a buffer of exactly `lengthBytes`, owned by the caller. */
  read(binding: B, offsetBytes: number, lengthBytes: number): Buffer | Promise<Buffer>;
  /** Optional fast path: fills `target` with the data at the offset. */
  readInto?(binding: B, offsetBytes: number, target: Buffer): Promise<void> | undefined;
  /** `data` is one buffer or parts written back to back; kept only until the write settles. */
  write(
    binding: B,
    offsetBytes: number,
    data: Buffer | readonly Buffer[],
  ): Promise<void> | undefined;
  /** TRIM (zero=false) or WRITE_ZEROES (zero=true; noHole keeps the range allocated). */
  trim(
    binding: B,
    offsetBytes: number,
    lengthBytes: number,
    opts: TrimOptions,
  ): Promise<void> | undefined;
  flush(binding: B): Promise<void>;

  /** Every allocated chunk of the volume's replica (rebuild, reconcile). */
  chunkMap(volumeId: string): Promise<ChunkMapResult>;
  /** One whole chunk with its generation, verified; data null for a hole. */
  readChunk(volumeId: string, index: number): ChunkCopy | Promise<ChunkCopy>;
  /** Installs a whole chunk at a generation (data null installs a hole). Same contract as write. */
  writeChunk(
    binding: B,
    index: number,
    generation: number,
    data: Buffer | null,
  ): Promise<void> | undefined;
  /**
   * Optional (not on the wire yet): clears `unclean` on chunks whose copy reconcile chose as the
   * good one, without rewriting them.
   */
  markChunksClean?(binding: B, indices: number[]): Promise<void>;
  /**
   * Optional (not on the wire yet): rewrites whole blocks with a peer's bytes only where they
   * match the checksums the replica holds (read repair; no generation change).
   */
  repairBlocks?(binding: B, offsetBytes: number, data: Buffer): Promise<void> | undefined;
  /**
   * Optional (issue 16; stores without it cannot take snapshots): takes snapshot `seq` of the volume's replica at
   * this point: every mutation applied before the call is in it. Taking an existing snapshot
   * again succeeds; a seq not above every earlier one is CONFLICT.
   */
  createSnapshot?(binding: B, seq: number): Promise<void>;
  /** Optional: reads [offset, offset+length) of snapshot `seq` (NOT_FOUND when it has none). */
  readSnapshot?(
    volumeId: string,
    seq: number,
    offsetBytes: number,
    lengthBytes: number,
  ): Buffer | Promise<Buffer>;
}

export interface OpenSessionArgs extends Fence {
  volumeId: string;
  /** Expected replica size; 0 = do not check. */
  sizeBytes: number;
  /** Expected chunk size; 0 = do not check. */
  chunkSizeBytes: number;
}

export interface OpenedSession<B> {
  binding: B;
  sizeBytes: number;
  chunkSizeBytes: number;
  blockSizeBytes: number;
  /** The highest fence persisted for the volume after this open (the session's own). */
  highestEpoch: number;
  highestIncarnation: number;
}

/** A replica's chunk map: every chunk ever written, in index order. */
export interface ChunkMapResult {
  chunkSizeBytes: number;
  /**
   * From a store, `dirty` and `unclean` are independent facts. As a data-plane client returns
   * it, normalised (normaliseChunkMap): an unclean chunk is not also reported dirty.
   */
  chunks: ChunkMapEntry[];
}
