import type { Fence } from '@ballast/common';

/**
 * What a session is opened for: the volume, its fence (the attachment epoch and the incarnation
 * of the replica on that node, D17) and its shape. The node re-checks the fence on every request.
 */
export interface SessionSpec extends Fence {
  volumeId: string;
  sizeBytes: number;
  chunkSizeBytes: number;
}

/** Bytes to write: one buffer, or parts written back to back (a large NBD payload as it came). */
export type WritePayload = Buffer | readonly Buffer[];

/** Length of a payload in bytes. */
export function payloadBytes(data: WritePayload): number {
  if (Buffer.isBuffer(data)) return data.length;
  let n = 0;
  for (const part of data) n += part.length;
  return n;
}

/** One chunk of a replica's chunk map: the one shape engine, node and wire agree on. */
export interface ChunkMapEntry {
  index: number;
  /** Content version: 0 never written, +1 per mutation, a copy installs the source's. */
  generation: number;
  /** Every block reads as zeroes: a copy needs no data. */
  hole: boolean;
  /** Mutated since the replica's last completed flush. */
  dirty: boolean;
  /** Was dirty when its node last stopped uncleanly, or a mutation of it failed there. */
  unclean: boolean;
  /**
   * CRC32C of the chunk's per-block checksums (a hole counts as zero blocks), when the store
   * keeps them (D24): equal generations with different digests hold different bytes.
   */
  digest?: number;
}

/** A whole chunk with its generation (data null: a hole). */
export interface ChunkCopy {
  generation: number;
  data: Buffer | null;
}

/** Who is on the other end of a session (authenticated by the data plane's hello). */
export interface PeerInfo {
  clientId: string;
  remoteAddress: string;
}

export interface TrimOptions {
  /** WRITE_ZEROES (true) or TRIM (false). */
  zero: boolean;
  /** Keep the range allocated (WRITE_ZEROES with NO_HOLE). */
  noHole: boolean;
}
