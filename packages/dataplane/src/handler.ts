import type { Fence } from '@ballast/common';

/**
 * What the data-plane server asks of the storage behind it. The node implements it over the
 * chunk store; tests and tools can use MemoryReplicaHandler.
 *
 * Contract (the server relies on it, the engine above relies on the server):
 * - Calls happen in the order requests arrived. Mutations (write, trim, writeChunk) of one
 *   volume must be APPLIED in call order, also when an earlier one returned a promise and a
 *   later one could have been applied at once (the chunk store's replica queue does this).
 * - A mutation that returns undefined is applied; one that returns a promise is applied when it
 *   resolves. `flush` makes every mutation applied before the call durable.
 * - Errors are thrown (synchronously or as rejections) as BallastError with a stable code:
 *   FENCED, CHECKSUM_MISMATCH, NOT_FOUND, INVALID_ARGUMENT/TOO_LARGE, IO, UNAVAILABLE. They go
 *   back to the client as the matching status. Bad data is never returned as good: a read that
 *   cannot be verified throws CHECKSUM_MISMATCH.
 * - `checkFence` is synchronous and cheap: the server calls it before every session request, so
 *   a session whose fence has been passed (a newer epoch or replica incarnation accepted through
 *   any connection, the cluster map or before a restart) is refused with FENCED or SUPERSEDED.
 *   A closed socket is not a fence: its queued bytes can still arrive (decision D17).
 */
export interface ReplicaHandler<B = unknown> {
  /**
   * Opens a session on the volume's replica under its fence (epoch, incarnation): refuses a
   * fence older than the highest persisted for the volume (FENCED for an older epoch,
   * SUPERSEDED for an older incarnation), persists a newer one before resolving, and refuses a
   * shape mismatch (INVALID_ARGUMENT) when the request states a size or chunk size.
   */
  openSession(request: OpenSessionArgs, peer: PeerInfo): Promise<OpenedSession<B>>;
  /** The session ended (closed by the client or its connection went away). */
  closeSession?(binding: B): void;
  /** Throws FENCED or SUPERSEDED when `fence` is older than the highest accepted. */
  checkFence(volumeId: string, fence: Fence): void;

  /** The data of [offset, offset+length): a buffer of exactly `lengthBytes`, owned by the caller. */
  read(binding: B, offsetBytes: number, lengthBytes: number): Buffer | Promise<Buffer>;
  /**
   * Optional fast path for large reads: fill `target` (all of it) with the data at the offset.
   * The server reads into recycled buffers this way. On error `target` is discarded unsent.
   */
  readInto?(binding: B, offsetBytes: number, target: Buffer): Promise<void> | undefined;
  /**
   * `data` is a view into a received frame (the server passes one buffer), or parts written
   * back to back (an in-process caller passing a payload as it arrived); keep it only until the
   * returned promise settles.
   */
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
  /** One whole chunk with its generation; data null for a hole. */
  readChunk(volumeId: string, index: number): ChunkReadResult | Promise<ChunkReadResult>;
  /** Installs a whole chunk at a generation (data null installs a hole). Same contract as write. */
  writeChunk(
    binding: B,
    index: number,
    generation: number,
    data: Buffer | null,
  ): Promise<void> | undefined;
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

/** Who is on the other end of a connection (authenticated by the hello). */
export interface PeerInfo {
  clientId: string;
  remoteAddress: string;
}

export interface TrimOptions {
  zero: boolean;
  noHole: boolean;
}

export interface ChunkMapEntry {
  index: number;
  generation: number;
  /** Written since the last flush, or unclean: resynchronise, do not trust. */
  dirty: boolean;
  /**
   * Left unclean by a crash of the node, or by a mutation that failed there: sticky until the
   * chunk is replaced (its generation no longer says which writes it holds). A handler that
   * reports it for every chunk makes the map `detailed`; one that leaves it out folds unclean
   * chunks into `dirty`, as nodes before this field did.
   */
  unclean?: boolean;
  /** Every block reads as zeroes: a copy needs no data. */
  hole?: boolean;
}

export interface ChunkMapResult {
  chunkSizeBytes: number;
  chunks: ChunkMapEntry[];
  /**
   * As the client returns it: true when the node reported `unclean` and `hole` for every chunk
   * (then `unclean` false means really not unclean). False from nodes that fold unclean chunks
   * into `dirty`: treat every dirty chunk as possibly unclean. Handlers need not set it.
   */
  detailed?: boolean;
}

export interface ChunkReadResult {
  generation: number;
  /** null when the chunk is a hole (reads as zeroes). */
  data: Buffer | null;
}
