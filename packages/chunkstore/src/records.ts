import { crc32c } from '@node-rs/crc32';
import { BallastError } from '@ballast/common';

/** Chunk header flag: every block reads as zeroes (a copy needs no data; trim made it a hole). */
export const FLAG_HOLE = 1;
/**
 * Chunk header flag: the chunk was dirty when the store last stopped uncleanly; its content may
 * differ from any peer's at the same generation. Sticky until installChunk or markChunksClean.
 */
export const FLAG_UNCLEAN = 2;
const KNOWN_FLAGS = FLAG_HOLE | FLAG_UNCLEAN;

const HEADER_V1 = 1;
const HEADER_V1_BYTES = 16;
const HEADER_VERSION = 2;
const HEADER_BYTES = 20;
const TWO_POW_32 = 2 ** 32;

export interface ChunkHeader {
  generation: number;
  flags: number;
  /** CRC32C of the chunk's block checksums (D24); absent in headers written before it. */
  digest?: number;
}

/**
 * Header layout (version 2): u8 version, u8 flags, u16 zero, u32 generation low, u32
 * generation high, u32 digest, u32 CRC32C of the first 16 bytes. Version 1 (16 bytes) has no
 * digest. Every record carries its own CRC so a damaged index entry is detected instead of
 * silently trusted.
 */
export function encodeChunkHeader(header: ChunkHeader & { digest: number }): Buffer {
  const buf = Buffer.alloc(HEADER_BYTES);
  buf.writeUInt8(HEADER_VERSION, 0);
  buf.writeUInt8(header.flags, 1);
  buf.writeUInt32LE(header.generation % TWO_POW_32, 4);
  buf.writeUInt32LE(Math.floor(header.generation / TWO_POW_32), 8);
  buf.writeUInt32LE(header.digest >>> 0, 12);
  buf.writeUInt32LE(crc32c(buf.subarray(0, 16)), 16);
  return buf;
}

function corruptRecord(what: string, key: string): BallastError {
  return new BallastError('CHECKSUM_MISMATCH', `index record ${key} is corrupt (${what})`, {
    key,
  });
}

export function decodeChunkHeader(buf: Uint8Array, key: string): ChunkHeader {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = b.length > 0 ? b.readUInt8(0) : -1;
  const length = version === HEADER_V1 ? HEADER_V1_BYTES : HEADER_BYTES;
  if (b.length !== length) throw corruptRecord(`length ${b.length}`, key);
  const crcAt = length - 4;
  if (b.readUInt32LE(crcAt) !== crc32c(b.subarray(0, crcAt))) throw corruptRecord('crc', key);
  if (version !== HEADER_VERSION && version !== HEADER_V1) {
    throw corruptRecord(`version ${version}`, key);
  }
  const flags = b.readUInt8(1);
  if ((flags & ~KNOWN_FLAGS) !== 0) throw corruptRecord(`flags ${flags}`, key);
  const generation = b.readUInt32LE(4) + b.readUInt32LE(8) * TWO_POW_32;
  if (version === HEADER_V1) return { generation, flags };
  return { generation, flags, digest: b.readUInt32LE(12) };
}

/** Checksums layout: u32 LE per block, then u32 CRC32C of everything before it. */
export function encodeChecksums(checksums: Uint32Array): Buffer {
  const buf = Buffer.allocUnsafe(checksums.length * 4 + 4);
  for (let i = 0; i < checksums.length; i++) buf.writeUInt32LE(checksums[i]!, i * 4);
  buf.writeUInt32LE(crc32c(buf.subarray(0, checksums.length * 4)), checksums.length * 4);
  return buf;
}

export function decodeChecksums(buf: Uint8Array, blocks: number, key: string): Uint32Array {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length !== blocks * 4 + 4) throw corruptRecord(`length ${b.length}`, key);
  if (b.readUInt32LE(blocks * 4) !== crc32c(b.subarray(0, blocks * 4))) {
    throw corruptRecord('crc', key);
  }
  const checksums = new Uint32Array(blocks);
  for (let i = 0; i < blocks; i++) checksums[i] = b.readUInt32LE(i * 4);
  return checksums;
}

export type ReplicaState = 'creating' | 'ready' | 'deleting';

export interface ReplicaRecord {
  v: 1;
  replicaId: string;
  sizeBytes: number;
  chunkSizeBytes: number;
  createdAtMs: number;
  state: ReplicaState;
}

export function encodeReplicaRecord(record: ReplicaRecord): Buffer {
  return Buffer.from(JSON.stringify(record), 'utf8');
}

export function decodeReplicaRecord(buf: Uint8Array, key: string): ReplicaRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(buf).toString('utf8'));
  } catch {
    throw corruptRecord('not JSON', key);
  }
  const r = parsed as Partial<ReplicaRecord> | null;
  if (
    r === null ||
    typeof r !== 'object' ||
    r.v !== 1 ||
    typeof r.replicaId !== 'string' ||
    !Number.isSafeInteger(r.sizeBytes) ||
    !Number.isSafeInteger(r.chunkSizeBytes) ||
    !Number.isSafeInteger(r.createdAtMs) ||
    (r.state !== 'creating' && r.state !== 'ready' && r.state !== 'deleting')
  ) {
    throw corruptRecord('fields', key);
  }
  return r as ReplicaRecord;
}
