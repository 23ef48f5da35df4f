/**
 * One open session to one replica of a volume, at one epoch: what the engine needs from a
 * storage node. Two implementations: `LocalReplicaChannel` (an in-process chunk store replica,
 * for tests and the simulation) and `DataPlaneChannel` (the TCP data plane).
 *
 * Rules every implementation keeps:
 * - Every failure rejects with a `ChannelError` (or something `toChannelError` classifies):
 *   the engine decides on its `kind` alone.
 * - Mutations (write, trim, writeZeroes, writeChunk) issued on one channel are applied by the
 *   replica in the order they were issued. The engine only issues overlapping mutations after
 *   the earlier one settled, so this is a guarantee for non-overlapping ones only.
 * - A resolved mutation is applied (in the replica's page cache at least); with `fua` it is
 *   also durable. A resolved `flush` makes every mutation resolved before the call durable.
 * - The `data` Buffer of a write is not modified and may be referenced until the promise
 *   settles; the engine passes the same Buffer to every replica.
 * - After `abort()` no further request reaches the replica; pending ones reject.
 */
export interface ReplicaChannel {
  readonly nodeId: string;
  read(offsetBytes: number, lengthBytes: number): Promise<Buffer>;
  /** Reads `lengthBytes` at `offsetBytes` into `target[targetOffset ..]` (zero-copy when it can). */
  readInto(
    offsetBytes: number,
    lengthBytes: number,
    target: Buffer,
    targetOffset: number,
  ): Promise<void>;
  /** `data` is one buffer, or parts to be written back to back (a large NBD payload). */
  write(offsetBytes: number, data: WritePayload, fua: boolean): Promise<void>;
  trim(offsetBytes: number, lengthBytes: number, fua: boolean): Promise<void>;
  writeZeroes(
    offsetBytes: number,
    lengthBytes: number,
    noHole: boolean,
    fua: boolean,
  ): Promise<void>;
  flush(): Promise<void>;
  /** Every chunk of the replica that was ever written, in index order. */
  chunkMap(): Promise<ChunkMapEntry[]>;
  /** A whole chunk with its generation, verified by the replica (data null = a hole). */
  readChunk(index: number): Promise<ChunkCopy>;
  /** Replaces a whole chunk at the given generation (data null installs a hole); clears `unclean`. */
  writeChunk(index: number, generation: number, data: Buffer | null): Promise<void>;
  /** Clears `unclean` on chunks whose copy was chosen as the good one. Optional: without it
   * reconcile re-installs the source's own copy on the source, which has the same effect. */
  markChunksClean?(indices: number[]): Promise<void>;
  /** Rewrites whole blocks with a peer's bytes only where they match the checksums the replica
   * holds (no generation change). Optional: without it read repair writes the bytes. */
  repairBlocks?(offsetBytes: number, data: Buffer): Promise<void>;
  /**
   * The replica's size as its node holds it now (it grows the replica from the map on its own,
   * before the engine serves the new size). Optional: an engine without it cannot grow online.
   */
  replicaSizeBytes?(): Promise<number>;
  /** Ends the session after the requests in flight are answered. */
  close(): Promise<void>;
  /** Drops the session now: nothing more reaches the replica, pending requests reject. */
  abort(): void;
}

/** Bytes to write: one buffer, or parts that are written back to back. */
export type WritePayload = Buffer | readonly Buffer[];

/** Length of a payload in bytes. */
export function payloadBytes(data: WritePayload): number {
  if (Buffer.isBuffer(data)) return data.length;
  let n = 0;
  for (const part of data) n += part.length;
  return n;
}

/** One entry of a replica's chunk map (the chunk store's `ChunkInfo`). */
export interface ChunkMapEntry {
  index: number;
  generation: number;
  hole: boolean;
  /** Mutated since the replica's last completed flush. */
  dirty: boolean;
  /** Was dirty when the replica's node last stopped uncleanly. */
  unclean: boolean;
}

export interface ChunkCopy {
  generation: number;
  /** The whole chunk, or null for a hole. */
  data: Buffer | null;
}

/**
 * What a session is opened for: the volume, its fence (the attachment epoch and the incarnation
 * of the replica on that node, D17) and its shape. The node re-checks the fence on every request.
 */
export interface SessionSpec {
  volumeId: string;
  epoch: number;
  incarnation: number;
  sizeBytes: number;
  chunkSizeBytes: number;
}

/** Opens a session to the replica on `nodeId`; rejects with a ChannelError (`fenced` when the
 * node has seen a newer epoch for the volume, `superseded` when it holds a newer incarnation of
 * its replica: the map moved on). */
export type ChannelFactory = (nodeId: string, session: SessionSpec) => Promise<ReplicaChannel>;
