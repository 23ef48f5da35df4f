import { BallastError } from '@ballast/common';
import { HASH_BYTES, type EncryptionParams } from './codec.js';

export const FORMAT_NAME = 'ballast-backup';
export const FORMAT_VERSION = 1;

/** The repository's self-description: the `config` object, JSON in clear. */
export interface RepositoryConfig {
  format: typeof FORMAT_NAME;
  version: number;
  repositoryId: string;
  /** The one cluster allowed to write (back up, delete, collect); any may list and restore. */
  clusterId: string;
  createdAt: string;
  /** Deduplication unit: blocks of this size, hashed and stored one blob each. */
  blockSizeBytes: number;
  /** Block hashes per leaf of a backup's tree. */
  leafBlocks: number;
  hash: 'sha256';
  compression: 'zstd';
  /** Writers close a pack once it reaches this size. */
  packSizeBytes: number;
  encryption: EncryptionParams | null;
}

export const PACK_MAGIC = Buffer.from('BLSTPAK1');
/**
 * Random bytes after the magic make every pack unique, so its name (the SHA-256 of its bytes)
 * is never reused: without them two writers storing the same blobs in the same order (an
 * unencrypted repository is deterministic) would produce the same pack name, and a collect
 * deleting a condemned pack would delete the new one too.
 */
export const PACK_SALT_BYTES = 16;
export const PACK_HEADER_BYTES = PACK_MAGIC.length + PACK_SALT_BYTES;
export const INDEX_MAGIC = Buffer.from('BLSTIDX1');

export const BlobKind = { DATA: 1, LEAF: 2, ROOT: 3 } as const;
export type BlobKind = (typeof BlobKind)[keyof typeof BlobKind];

export const PackKind = { DATA: 1, TREE: 2 } as const;
export type PackKind = (typeof PackKind)[keyof typeof PackKind];

export interface IndexEntry {
  hash: Buffer;
  kind: BlobKind;
  offset: number;
  storedLength: number;
  rawLength: number;
}

export interface PackIndex {
  packId: string;
  packSizeBytes: number;
  packKind: PackKind;
  entries: IndexEntry[];
}

const ENTRY_BYTES = HASH_BYTES + 1 + 4 + 4 + 4;
const INDEX_HEADER_BYTES = INDEX_MAGIC.length + HASH_BYTES + 4 + 1 + 4;

export const keys = {
  config: 'config',
  pack: (id: string): string => `packs/${id.slice(0, 2)}/${id}`,
  index: (id: string): string => `index/${id}`,
  backup: (id: string): string => `backups/${id}`,
  lock: (name: string): string => `locks/${name}`,
  condemned: (id: string): string => `condemned/${id}`,
  bad: (packId: string): string => `bad/${packId}`,
};

export function encodeIndex(index: PackIndex): Buffer {
  const out = Buffer.alloc(INDEX_HEADER_BYTES + ENTRY_BYTES * index.entries.length);
  let o = INDEX_MAGIC.copy(out, 0);
  o += Buffer.from(index.packId, 'hex').copy(out, o);
  o = out.writeUInt32BE(index.packSizeBytes, o);
  o = out.writeUInt8(index.packKind, o);
  o = out.writeUInt32BE(index.entries.length, o);
  for (const e of index.entries) {
    o += e.hash.copy(out, o);
    o = out.writeUInt8(e.kind, o);
    o = out.writeUInt32BE(e.offset, o);
    o = out.writeUInt32BE(e.storedLength, o);
    o = out.writeUInt32BE(e.rawLength, o);
  }
  return out;
}

export function decodeIndex(buf: Buffer, what: string): PackIndex {
  const bad = (why: string): BallastError =>
    new BallastError('CHECKSUM_MISMATCH', `${what}: not a pack index (${why})`);
  if (buf.length < INDEX_HEADER_BYTES || !buf.subarray(0, 8).equals(INDEX_MAGIC))
    throw bad('magic');
  let o = 8;
  const packId = buf.subarray(o, o + HASH_BYTES).toString('hex');
  o += HASH_BYTES;
  const packSizeBytes = buf.readUInt32BE(o);
  o += 4;
  const packKind = buf.readUInt8(o) as PackKind;
  o += 1;
  const count = buf.readUInt32BE(o);
  o += 4;
  if (buf.length !== INDEX_HEADER_BYTES + count * ENTRY_BYTES) throw bad('length');
  const entries: IndexEntry[] = [];
  for (let i = 0; i < count; i++) {
    const hash = Buffer.from(buf.subarray(o, o + HASH_BYTES));
    o += HASH_BYTES;
    const kind = buf.readUInt8(o) as BlobKind;
    const offset = buf.readUInt32BE(o + 1);
    const storedLength = buf.readUInt32BE(o + 5);
    const rawLength = buf.readUInt32BE(o + 9);
    o += 13;
    entries.push({ hash, kind, offset, storedLength, rawLength });
  }
  return { packId, packSizeBytes, packKind, entries };
}

/** One backup: the `backups/<id>` object. A backup exists (is complete) iff this object does. */
export interface Manifest {
  version: number;
  backupId: string;
  repositoryId: string;
  clusterId: string;
  /** Free-form labels from the caller (volume id and name, snapshot id, ...). */
  labels: Record<string, string>;
  sizeBytes: number;
  blockSizeBytes: number;
  leafBlocks: number;
  /** Hash (hex) of the root blob: the list of leaf hashes; ZERO for an all-zero volume. */
  root: string;
  leafCount: number;
  parent: string | null;
  startedAt: string;
  completedAt: string;
  stats: BackupStats;
}

export interface BackupStats {
  bytesScanned: number;
  bytesReused: number;
  bytesNew: number;
  bytesDeduplicated: number;
  bytesZero: number;
  bytesUploaded: number;
  packsUploaded: number;
}

export function parseConfig(buf: Buffer, where: string): RepositoryConfig {
  let cfg: RepositoryConfig;
  try {
    cfg = JSON.parse(buf.toString('utf8')) as RepositoryConfig;
  } catch (err) {
    throw new BallastError('CONFIG', `${where}: config is not JSON`, undefined, err);
  }
  if (cfg?.format !== FORMAT_NAME) {
    throw new BallastError('CONFIG', `${where} is not a Ballast backup repository`);
  }
  if (cfg.version !== FORMAT_VERSION) {
    throw new BallastError(
      'CONFIG',
      `${where} has repository format version ${cfg.version}; this Ballast reads version ${FORMAT_VERSION}`,
      { version: cfg.version },
    );
  }
  const ok =
    typeof cfg.repositoryId === 'string' &&
    typeof cfg.clusterId === 'string' &&
    Number.isInteger(cfg.blockSizeBytes) &&
    cfg.blockSizeBytes >= 512 &&
    Number.isInteger(cfg.leafBlocks) &&
    cfg.leafBlocks >= 1 &&
    Number.isInteger(cfg.packSizeBytes) &&
    cfg.hash === 'sha256' &&
    cfg.compression === 'zstd';
  if (!ok) throw new BallastError('CONFIG', `${where}: config is incomplete or has unknown values`);
  return cfg;
}
