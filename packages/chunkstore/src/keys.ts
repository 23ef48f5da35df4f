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
 *
 * <index> is the chunk index in 12 lower-case hex digits, so keys sort in chunk order.
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
