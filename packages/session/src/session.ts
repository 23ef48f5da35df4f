import type { ChunkCopy, ChunkMapEntry, SessionSpec, WritePayload } from './types.js';

/**
 * One open session to one replica under one fence: what the engine needs from a storage node.
 * Implementations: `LocalSession` (a store in this process: the agent's embedded node, tests,
 * the simulation) and the data plane's `RemoteSession` (TCP, optionally TLS). Both keep the
 * session rules of SessionCore; one compliance suite (`sessionContract`) runs against each.
 *
 * Rules every implementation keeps:
 * - Every failure rejects with a `SessionError` (or something `toSessionError` classifies): the
 *   engine decides on its `kind` alone.
 * - Mutations (write, trim, writeZeroes, writeChunk) issued on one session are applied by the
 *   replica in the order they were issued. The engine only issues overlapping mutations after
 *   the earlier one settled, so this is a guarantee for non-overlapping ones only.
 * - A resolved mutation is applied (in the replica's page cache at least); with `fua` it is
 *   also durable. A resolved `flush` makes every mutation resolved before the call durable.
 * - The `data` of a write is not modified and may be referenced until the promise settles; the
 *   engine passes the same Buffer to every replica.
 * - Every request re-checks the session's fence on the node: a newer epoch or incarnation
 *   accepted anywhere ends the session (`fenced`, `superseded`).
 * - After `abort()` no further request reaches the replica; pending ones reject.
 */
export interface ReplicaSession {
  readonly nodeId: string;
  read(offsetBytes: number, lengthBytes: number): Promise<Buffer>;
  /** Reads `lengthBytes` at `offsetBytes` into `target[targetOffset ..]` (zero-copy when it can). */
  readInto(
    offsetBytes: number,
    lengthBytes: number,
    target: Buffer,
    targetOffset: number,
  ): Promise<void>;
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
  /**
   * Takes snapshot `seq` of the replica after every mutation issued on this session before the
   * call (issue 16). Optional: an engine refuses to snapshot a volume with a replica whose
   * session lacks it. Local sessions and the data plane's remote sessions have it.
   */
  snapshot?(seq: number): Promise<void>;
  /** Reads [offset, offset+length) of snapshot `seq` of the replica. Optional, as snapshot. */
  readSnapshot?(seq: number, offsetBytes: number, lengthBytes: number): Promise<Buffer>;
  /** Ends the session after the requests in flight are answered. */
  close(): Promise<void>;
  /** Drops the session now: nothing more reaches the replica, pending requests reject. */
  abort(): void;
}

/** Opens a session to the replica on `nodeId`; rejects with a SessionError (`fenced` when the
 * node has seen a newer epoch for the volume, `superseded` when it holds a newer incarnation of
 * its replica: the map moved on). */
export type SessionFactory = (nodeId: string, spec: SessionSpec) => Promise<ReplicaSession>;

/** How long a session waits for a replica that is smaller than the volume to grow. */
export const SMALLER_REPLICA_WAIT_MS = 10_000;

/**
 * A chunk map as a client receives it, normalised: `detailed` maps (every entry's `unclean` and
 * `hole` meaningful) keep their flags, and `dirty` stops covering unclean chunks; other maps (an
 * older node) fold unclean into dirty, so every dirty chunk is treated as possibly unclean.
 */
export function normaliseChunkMap(
  chunks: ReadonlyArray<{
    index: number;
    generation: number;
    dirty: boolean;
    unclean?: boolean;
    hole?: boolean;
    digest?: number;
  }>,
  detailed: boolean,
): ChunkMapEntry[] {
  return chunks
    .map((c) =>
      detailed
        ? {
            index: c.index,
            generation: c.generation,
            hole: c.hole === true,
            dirty: c.dirty && c.unclean !== true,
            unclean: c.unclean === true,
            ...(c.digest !== undefined ? { digest: c.digest } : {}),
          }
        : {
            index: c.index,
            generation: c.generation,
            hole: false,
            dirty: c.dirty,
            unclean: c.dirty,
          },
    )
    .sort((a, b) => a.index - b.index);
}
