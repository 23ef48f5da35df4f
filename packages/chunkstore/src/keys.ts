import { BallastError } from '@ballast/common';
/**
 * LevelDB key layout (utf8 keys; ids never contain ':' so every prefix is unambiguous):
 *
 *   s:format                  store format version
 *   r:<replicaId>             replica record (JSON)
 *   g:<replicaId>:<index>     chunk header: generation and flags (16 bytes)
 *   k:<replicaId>:<index>     chunk block checksums (4 bytes per block + record CRC)
 *   d:<replicaId>:<index>     dirty mark (empty value): written durably before the first
 *                             write to the chunk after a flush, deleted by the next flush
 *   e:<volumeId>              highest fence seen for the volume: `epoch` or `epoch/incarnation`
 *   n:<replicaId>:<seq>       snapshot record (JSON), written once the snapshot is complete
 *   v:<replicaId>:<index>:<tag>  a chunk version kept for snapshots (copy-on-write): the
 *                             chunk as it was at snapshot <tag> and every earlier snapshot
 *                             back to the previous version's tag (docs/snapshots.md)
 *
 * <index>, <seq> and <tag> are 12 lower-case hex digits, so keys sort numerically.
 */
export const FORMAT_KEY = 's:format';
export const FORMAT_VERSION = '1';

const INDEX_DIGITS = 12;

export function chunkIndexHex(index: number): string {
  return index.toString(16).padStart(INDEX_DIGITS, '0');
}

export function parseChunkIndexHex(hex: string): number {
  const index = Number.parseInt(hex, 16);
  if (!/^[0-9a-f]{12}$/.test(hex) || !Number.isSafeInteger(index)) {
    throw new Error(`malformed chunk index in key: ${hex}`);
  }
  return index;
}

export const replicaKey = (replicaId: string): string => `r:${replicaId}`;
export const REPLICA_RANGE = { gt: 'r:', lt: 'r;' };

export type ChunkKeyKind = 'g' | 'k' | 'd';

export function chunkKey(kind: ChunkKeyKind, replicaId: string, index: number): string {
  return `${kind}:${replicaId}:${chunkIndexHex(index)}`;
}

/** Range of all keys of one kind for a replica, optionally from a chunk index on. */
export function chunkRange(
  kind: ChunkKeyKind,
  replicaId: string,
  fromIndex = 0,
): { gte: string; lt: string } {
  return { gte: chunkKey(kind, replicaId, fromIndex), lt: `${kind}:${replicaId};` };
}

/** The chunk index at the end of a chunk key. */
export function indexOfChunkKey(key: string): number {
  return parseChunkIndexHex(key.slice(key.length - INDEX_DIGITS));
}

export const epochKey = (volumeId: string): string => `e:${volumeId}`;
export const EPOCH_RANGE = { gt: 'e:', lt: 'e;' };

/**
 * The value of an `e:` key: `epoch` (stores written before replica incarnations, read as
 * incarnation 0) or `epoch/incarnation`, in decimal.
 */
export function encodeFence(fence: { epoch: number; incarnation: number }): Buffer {
  return Buffer.from(`${fence.epoch}/${fence.incarnation}`, 'utf8');
}

export function decodeFence(key: string, value: Buffer): { epoch: number; incarnation: number } {
  const text = value.toString('utf8');
  const slash = text.indexOf('/');
  const epoch = Number(slash === -1 ? text : text.slice(0, slash));
  const incarnation = slash === -1 ? 0 : Number(text.slice(slash + 1));
  if (
    !/^\d+(\/\d+)?$/.test(text) ||
    !Number.isSafeInteger(epoch) ||
    !Number.isSafeInteger(incarnation)
  ) {
    throw new BallastError('CHECKSUM_MISMATCH', `index record ${key} is corrupt`);
  }
  return { epoch, incarnation };
}

export const snapshotKey = (replicaId: string, seq: number): string =>
  `n:${replicaId}:${chunkIndexHex(seq)}`;

export function snapshotRange(replicaId: string): { gte: string; lt: string } {
  return { gte: `n:${replicaId}:`, lt: `n:${replicaId};` };
}

export const versionKey = (replicaId: string, index: number, tag: number): string =>
  `v:${replicaId}:${chunkIndexHex(index)}:${chunkIndexHex(tag)}`;

export function versionRange(replicaId: string): { gte: string; lt: string } {
  return { gte: `v:${replicaId}:`, lt: `v:${replicaId};` };
}

/** Chunk index and tag of a version key. */
export function parseVersionKey(key: string): { index: number; tag: number } {
  const tagHex = key.slice(key.length - INDEX_DIGITS);
  const indexHex = key.slice(key.length - 2 * INDEX_DIGITS - 1, key.length - INDEX_DIGITS - 1);
  return { index: parseChunkIndexHex(indexHex), tag: parseChunkIndexHex(tagHex) };
}
