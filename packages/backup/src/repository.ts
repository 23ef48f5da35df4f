import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { BallastError, isBallastError } from '@ballast/common';
import { BlockIndex, type Location } from './block-index.js';
import {
  decodeBlob,
  encodeBlob,
  sealParts,
  newRepositoryKey,
  sha256,
  unlockRepositoryKey,
  wrapRepositoryKey,
  ZERO_HASH,
  HASH_BYTES,
  DEFAULT_SCRYPT,
} from './codec.js';
import {
  decodeIndex,
  FORMAT_NAME,
  FORMAT_VERSION,
  keys,
  parseConfig,
  type Manifest,
  type PackIndex,
  type PackKind,
  type RepositoryConfig,
} from './format.js';
import { SealPool } from './seal-pool.js';
import { listAll, type BackupTarget, type ObjectInfo } from './target.js';
import { hex, mapLimit } from './util.js';

export interface InitOptions {
  /** The cluster that owns the repository: the only one allowed to write to it. */
  clusterId: string;
  /** Encrypts everything but `config` under a random key wrapped with this password. */
  password?: string;
  blockSizeBytes?: number;
  leafBlocks?: number;
  packSizeBytes?: number;
  /** scrypt cost; the default (N 2^15, r 8, p 1) costs ~100 ms and 32 MiB per unlock. */
  scrypt?: { N: number; r: number; p: number };
}

export interface OpenOptions {
  password?: string;
  /** The cluster this process acts for; writing needs it to be the repository's. */
  clusterId?: string;
}

export const DEFAULT_BLOCK_SIZE_BYTES = 4096;
export const DEFAULT_LEAF_BLOCKS = 32;
export const DEFAULT_PACK_SIZE_BYTES = 32 * 1024 * 1024;
const MAX_PACK_SIZE_BYTES = 256 * 1024 * 1024;

/** Indexes of every pack, with what `bad/` records say to distrust taken out. */
export interface LoadedIndex {
  index: BlockIndex;
  /** Every indexed pack: its size and kind. */
  packs: Map<string, { sizeBytes: number; kind: PackKind }>;
  /** Packs verify found missing, and bad blobs (hex hashes) per pack. */
  bad: Map<string, BadRecord>;
}

export interface BadRecord {
  packId: string;
  missing: boolean;
  blocks: string[];
  foundAt: string;
}

export interface LockRecord {
  kind: 'backup' | 'collect';
  id: string;
  host: string;
  pid: number;
  startedAt: string;
}

/**
 * An opened backup repository: its config, its key (encrypted repositories) and the objects
 * under a target. Stateless beyond that: every list, restore and check reads the repository
 * itself, so a fresh process pointed at the target can do all of them.
 */
export class Repository {
  readonly target: BackupTarget;
  readonly config: RepositoryConfig;
  readonly clusterId: string | undefined;
  readonly #key: Buffer | undefined;

  private constructor(
    target: BackupTarget,
    config: RepositoryConfig,
    key: Buffer | undefined,
    clusterId: string | undefined,
  ) {
    this.target = target;
    this.config = config;
    this.#key = key;
    this.clusterId = clusterId;
  }

  toJSON(): Record<string, unknown> {
    return { target: this.target.description, repositoryId: this.config.repositoryId };
  }

  get encrypted(): boolean {
    return this.#key !== undefined;
  }

  static async init(target: BackupTarget, opts: InitOptions): Promise<Repository> {
    if (!opts.clusterId)
      throw new BallastError('INVALID_ARGUMENT', 'a repository needs the owning cluster id');
    const blockSizeBytes = opts.blockSizeBytes ?? DEFAULT_BLOCK_SIZE_BYTES;
    const leafBlocks = opts.leafBlocks ?? DEFAULT_LEAF_BLOCKS;
    const packSizeBytes = opts.packSizeBytes ?? DEFAULT_PACK_SIZE_BYTES;
    if (!Number.isInteger(blockSizeBytes) || blockSizeBytes < 512 || blockSizeBytes > 1024 * 1024) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `block size ${blockSizeBytes} outside 512 B..1 MiB`,
      );
    }
    if (!Number.isInteger(leafBlocks) || leafBlocks < 1 || leafBlocks > 65536) {
      throw new BallastError('INVALID_ARGUMENT', `leaf size ${leafBlocks} outside 1..65536 blocks`);
    }
    if (
      !Number.isInteger(packSizeBytes) ||
      packSizeBytes < blockSizeBytes ||
      packSizeBytes > MAX_PACK_SIZE_BYTES
    ) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `pack size ${packSizeBytes} outside block size..256 MiB`,
      );
    }
    if (await target.head(keys.config)) {
      throw new BallastError('CONFLICT', `${target.description} already holds a backup repository`);
    }
    let key: Buffer | undefined;
    let encryption: RepositoryConfig['encryption'] = null;
    if (opts.password !== undefined) {
      const made = await newRepositoryKey(opts.password, opts.scrypt ?? DEFAULT_SCRYPT);
      key = made.key;
      encryption = made.params;
    }
    const config: RepositoryConfig = {
      format: FORMAT_NAME,
      version: FORMAT_VERSION,
      repositoryId: randomUUID(),
      clusterId: opts.clusterId,
      createdAt: new Date().toISOString(),
      blockSizeBytes,
      leafBlocks,
      hash: 'sha256',
      compression: 'zstd',
      packSizeBytes,
      encryption,
    };
    await target.put(keys.config, Buffer.from(`${JSON.stringify(config, null, 2)}\n`));
    return new Repository(target, config, key, opts.clusterId);
  }

  static async open(target: BackupTarget, opts: OpenOptions = {}): Promise<Repository> {
    let raw: Buffer;
    try {
      raw = await target.get(keys.config);
    } catch (err) {
      if (isBallastError(err, 'NOT_FOUND') && err.details?.['bucketMissing'] !== true) {
        throw new BallastError(
          'NOT_FOUND',
          `no backup repository at ${target.description} (no config object)`,
        );
      }
      throw err;
    }
    const config = parseConfig(raw, target.description);
    let key: Buffer | undefined;
    if (config.encryption) {
      if (opts.password === undefined) {
        throw new BallastError(
          'UNAUTHORIZED',
          `the repository at ${target.description} is encrypted: a password is needed`,
        );
      }
      key = await unlockRepositoryKey(config.encryption, opts.password);
    } else if (opts.password !== undefined) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `the repository at ${target.description} is not encrypted, but a password was given`,
      );
    }
    return new Repository(target, config, key, opts.clusterId);
  }

  /** FORBIDDEN unless this process acts for the cluster that owns the repository. */
  assertWritable(what: string): void {
    if (this.clusterId !== this.config.clusterId) {
      throw new BallastError(
        'FORBIDDEN',
        `cannot ${what}: repository ${this.config.repositoryId} belongs to cluster ` +
          `${this.config.clusterId}, this is ${this.clusterId ?? 'no cluster'}; other clusters may only list and restore`,
        { owner: this.config.clusterId, caller: this.clusterId },
      );
    }
  }

  // ---- sealed objects (compressed, encrypted when the repository is) ----

  seal(payload: Buffer, aad: Buffer): Buffer {
    return encodeBlob(payload, aad, this.#key);
  }

  /** Worker threads that seal blocks under this repository's key (the writer's). */
  createSealPool(threads: number): SealPool {
    return new SealPool(threads, this.#key);
  }

  /** `seal` as pieces, for a pack that copies them into its own buffer. */
  sealParts(payload: Buffer, aad: Buffer): Buffer[] {
    return sealParts(payload, aad, this.#key);
  }

  unseal(stored: Buffer, aad: Buffer, what: string): Buffer {
    return decodeBlob(stored, aad, this.#key, what);
  }

  async putSealedJson(key: string, value: unknown): Promise<void> {
    await this.target.put(key, this.seal(Buffer.from(JSON.stringify(value)), Buffer.from(key)));
  }

  async getSealedJson<T>(key: string): Promise<T> {
    const raw = await this.target.get(key);
    const plain = this.unseal(raw, Buffer.from(key), key);
    try {
      return JSON.parse(plain.toString('utf8')) as T;
    } catch (err) {
      throw new BallastError('CHECKSUM_MISMATCH', `${key}: not JSON`, undefined, err);
    }
  }

  // ---- backups ----

  async manifest(backupId: string): Promise<Manifest> {
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(backupId)) {
      throw new BallastError('INVALID_ARGUMENT', `invalid backup id ${JSON.stringify(backupId)}`);
    }
    try {
      return await this.getSealedJson<Manifest>(keys.backup(backupId));
    } catch (err) {
      if (isBallastError(err, 'NOT_FOUND')) {
        throw new BallastError('NOT_FOUND', `no backup ${backupId} in ${this.target.description}`, {
          backupId,
        });
      }
      throw err;
    }
  }

  /** Every complete backup, oldest first, from the manifests alone. */
  async listBackups(): Promise<Manifest[]> {
    const ids: string[] = [];
    for await (const o of listAll(this.target, 'backups/'))
      ids.push(o.key.slice('backups/'.length));
    const all = await mapLimit(ids, 8, async (id) => {
      try {
        return await this.manifest(id);
      } catch (err) {
        // Deleted between the listing and the read.
        if (isBallastError(err, 'NOT_FOUND')) return undefined;
        throw err;
      }
    });
    return all
      .filter((m): m is Manifest => m !== undefined)
      .sort((a, b) =>
        a.startedAt < b.startedAt
          ? -1
          : a.startedAt > b.startedAt
            ? 1
            : a.backupId < b.backupId
              ? -1
              : 1,
      );
  }

  /**
   * Wraps the repository key under a new password and rewrites `config` (one atomic put): the
   * data is not re-encrypted, the old password stops working.
   */
  async changePassword(newPassword: string, scryptParams = DEFAULT_SCRYPT): Promise<void> {
    this.assertWritable('change the password');
    if (!this.#key || !this.config.encryption) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `the repository at ${this.target.description} is not encrypted`,
      );
    }
    const encryption = await wrapRepositoryKey(this.#key, newPassword, scryptParams);
    const next: RepositoryConfig = { ...this.config, encryption };
    await this.target.put(keys.config, Buffer.from(`${JSON.stringify(next, null, 2)}\n`));
    this.config.encryption = encryption;
  }

  /** Removes the manifest: the backup is gone at once; `collect()` frees its packs later. */
  async deleteBackup(backupId: string): Promise<void> {
    this.assertWritable(`delete backup ${backupId}`);
    await this.manifest(backupId);
    await this.target.delete(keys.backup(backupId));
  }

  // ---- indexes ----

  async loadIndex(): Promise<LoadedIndex> {
    const indexKeys: string[] = [];
    for await (const o of listAll(this.target, 'index/')) indexKeys.push(o.key);
    indexKeys.sort();
    const bad = await this.loadBadRecords();
    const loaded = await mapLimit(indexKeys, 8, async (key) => {
      try {
        return await this.readIndex(key.slice('index/'.length));
      } catch (err) {
        // Removed by a concurrent collect.
        if (isBallastError(err, 'NOT_FOUND')) return undefined;
        throw err;
      }
    });
    const index = new BlockIndex();
    const packs = new Map<string, { sizeBytes: number; kind: PackKind }>();
    for (const pi of loaded) {
      if (!pi) continue;
      packs.set(pi.packId, { sizeBytes: pi.packSizeBytes, kind: pi.packKind });
      const b = bad.get(pi.packId);
      if (b?.missing) continue;
      const badBlocks = new Set(b?.blocks ?? []);
      const n = index.addPack(pi.packId);
      for (const e of pi.entries) {
        if (badBlocks.size > 0 && badBlocks.has(hex(e.hash))) continue;
        index.add(e.hash, {
          pack: n,
          kind: e.kind,
          offset: e.offset,
          storedLength: e.storedLength,
          rawLength: e.rawLength,
        });
      }
    }
    return { index, packs, bad };
  }

  async readIndex(packId: string): Promise<PackIndex> {
    const key = keys.index(packId);
    const raw = await this.target.get(key);
    const pi = decodeIndex(this.unseal(raw, Buffer.from(key), key), key);
    if (pi.packId !== packId)
      throw new BallastError('CHECKSUM_MISMATCH', `${key} describes pack ${pi.packId}`);
    return pi;
  }

  async loadBadRecords(): Promise<Map<string, BadRecord>> {
    const out = new Map<string, BadRecord>();
    for await (const o of listAll(this.target, 'bad/')) {
      try {
        const r = await this.getSealedJson<BadRecord>(o.key);
        out.set(r.packId, r);
      } catch (err) {
        if (!isBallastError(err, 'NOT_FOUND')) throw err;
      }
    }
    return out;
  }

  /**
   * One blob's payload, checked against its hash. A missing pack or a blob that fails its
   * check is CHECKSUM_MISMATCH/NOT_FOUND naming the blob and the pack.
   */
  async readBlob(index: BlockIndex, hash: Buffer, loc?: Location): Promise<Buffer> {
    const l = loc ?? index.get(hash);
    if (!l) {
      throw new BallastError('NOT_FOUND', `block ${hex(hash)} is in no pack of the index`, {
        block: hex(hash),
      });
    }
    const packId = index.packId(l.pack)!;
    let stored: Buffer;
    try {
      stored = await this.target.get(keys.pack(packId), {
        offset: l.offset,
        length: l.storedLength,
      });
    } catch (err) {
      if (isBallastError(err, 'NOT_FOUND')) {
        throw new BallastError(
          'NOT_FOUND',
          `block ${hex(hash)}: pack ${packId} is missing`,
          { block: hex(hash), pack: packId },
          err,
        );
      }
      throw err;
    }
    return this.openBlob(stored, hash, packId, l.rawLength);
  }

  /** Decodes a stored blob and checks it against its hash and length. */
  openBlob(stored: Buffer, hash: Buffer, packId: string, rawLength: number): Buffer {
    const what = `block ${hex(hash)} in pack ${packId}`;
    let data: Buffer;
    try {
      data = this.unseal(stored, hash, what);
    } catch (err) {
      throw new BallastError(
        'CHECKSUM_MISMATCH',
        `${what} is corrupt (${(err as Error).message})`,
        { block: hex(hash), pack: packId },
        err,
      );
    }
    if (data.length !== rawLength || !sha256(data).equals(hash)) {
      throw new BallastError('CHECKSUM_MISMATCH', `${what} is corrupt (hash mismatch)`, {
        block: hex(hash),
        pack: packId,
      });
    }
    return data;
  }

  // ---- locks ----

  /** Writes a lock object; returns its key and the store's time for it. */
  async writeLock(
    kind: LockRecord['kind'],
    id: string,
  ): Promise<{ key: string; info: ObjectInfo }> {
    const key = keys.lock(`${kind}-${id}`);
    const rec: LockRecord = {
      kind,
      id,
      host: hostname(),
      pid: process.pid,
      startedAt: new Date().toISOString(),
    };
    await this.target.put(key, Buffer.from(JSON.stringify(rec)));
    const info = await this.target.head(key);
    if (!info)
      throw new BallastError(
        'IO',
        `${this.target.description}: lock ${key} vanished after it was written`,
      );
    return { key, info };
  }

  async listLocks(): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    for await (const o of listAll(this.target, 'locks/')) out.push(o);
    return out;
  }
}

/** A new backup id: sortable by time, unique by its random tail. */
export function newBackupId(now = new Date()): string {
  const t = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${t}-${randomBytes(4).toString('hex')}`;
}

export { ZERO_HASH, HASH_BYTES };
