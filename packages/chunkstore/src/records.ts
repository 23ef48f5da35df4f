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

/** A chunk version kept for snapshots (see snapshots.ts). */
export interface VersionRecord {
  generation: number;
  flags: number;
  digest: number;
  /** Slot in the replica's snapshot file; -1 when every block is zero (nothing stored). */
  slot: number;
  /** Block checksums; null with slot -1. */
  checksums: Uint32Array | null;
}

const VERSION_RECORD_V1 = 1;
const VERSION_FIXED_BYTES = 24;

/**
 * Version record layout: u8 version, u8 flags, u16 zero, u32 generation low, u32 generation
 * high, u32 digest, u32 slot + 1 (0: no data), u32 block count, u32 checksum per block, then
 * u32 CRC32C of everything before it.
 */
export function encodeVersionRecord(record: VersionRecord): Buffer {
  const blocks = record.checksums === null ? 0 : record.checksums.length;
  const buf = Buffer.alloc(VERSION_FIXED_BYTES + blocks * 4 + 4);
  buf.writeUInt8(VERSION_RECORD_V1, 0);
  buf.writeUInt8(record.flags, 1);
  buf.writeUInt32LE(record.generation % TWO_POW_32, 4);
  buf.writeUInt32LE(Math.floor(record.generation / TWO_POW_32), 8);
  buf.writeUInt32LE(record.digest >>> 0, 12);
  buf.writeUInt32LE(record.slot + 1, 16);
  buf.writeUInt32LE(blocks, 20);
  for (let i = 0; i < blocks; i++) buf.writeUInt32LE(record.checksums![i]!, 24 + i * 4);
  const end = buf.length - 4;
  buf.writeUInt32LE(crc32c(buf.subarray(0, end)), end);
  return buf;
}

export function decodeVersionRecord(buf: Uint8Array, key: string): VersionRecord {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < VERSION_FIXED_BYTES + 4) throw corruptRecord(`length ${b.length}`, key);
  const end = b.length - 4;
  if (b.readUInt32LE(end) !== crc32c(b.subarray(0, end))) throw corruptRecord('crc', key);
  if (b.readUInt8(0) !== VERSION_RECORD_V1) throw corruptRecord(`version ${b.readUInt8(0)}`, key);
  const flags = b.readUInt8(1);
  if ((flags & ~KNOWN_FLAGS) !== 0) throw corruptRecord(`flags ${flags}`, key);
  const blocks = b.readUInt32LE(20);
  if (b.length !== VERSION_FIXED_BYTES + blocks * 4 + 4) {
    throw corruptRecord(`length ${b.length} for ${blocks} blocks`, key);
  }
  const slot = b.readUInt32LE(16) - 1;
  if ((slot === -1) !== (blocks === 0)) throw corruptRecord('slot without checksums', key);
  let checksums: Uint32Array | null = null;
  if (blocks > 0) {
    checksums = new Uint32Array(blocks);
    for (let i = 0; i < blocks; i++) checksums[i] = b.readUInt32LE(24 + i * 4);
  }
  return {
    generation: b.readUInt32LE(4) + b.readUInt32LE(8) * TWO_POW_32,
    flags,
    digest: b.readUInt32LE(12),
    slot,
    checksums,
  };
}

/** A snapshot as a replica records it: the volume's point in time as of `seq`. */
export interface SnapshotRecord {
  v: 1;
  /** The volume's snapshot sequence number (increasing; assigned by the cluster map). */
  seq: number;
  createdAtMs: number;
  /** The replica's size when the snapshot was taken: what the snapshot reads. */
  sizeBytes: number;
}

export function encodeSnapshotRecord(record: SnapshotRecord): Buffer {
  return Buffer.from(JSON.stringify(record), 'utf8');
}

export function decodeSnapshotRecord(buf: Uint8Array, key: string): SnapshotRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(buf).toString('utf8'));
  } catch {
    throw corruptRecord('not JSON', key);
  }
  const r = parsed as Partial<SnapshotRecord> | null;
  if (
    r === null ||
    typeof r !== 'object' ||
    r.v !== 1 ||
    !Number.isSafeInteger(r.seq) ||
    (r.seq ?? 0) < 1 ||
    !Number.isSafeInteger(r.createdAtMs) ||
    !Number.isSafeInteger(r.sizeBytes)
  ) {
    throw corruptRecord('fields', key);
  }
  return r as SnapshotRecord;
}
