import { createCipheriv, createDecipheriv, hash, randomBytes, scrypt } from 'node:crypto';
import { constants, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { BallastError } from '@ballast/common';

export const HASH_BYTES = 32;
/** Stands for "all zeros" wherever a block or leaf hash is expected; never stored. */
export const ZERO_HASH: Buffer = Buffer.alloc(HASH_BYTES);
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const KEY_BYTES = 32;

const CODEC_RAW = 0;
const CODEC_ZSTD = 1;
const ZSTD_LEVEL = 3;

export function sha256(data: Buffer): Buffer {
  // The one-shot form: no Hash object per 4 KiB block.
  return hash('sha256', data, 'buffer');
}

/**
 * Whether zstd is worth trying on `buf`: counts the distinct values among 256 bytes sampled
 * across it. Random or already compressed/encrypted data shows about 162 (the expectation for
 * uniform bytes); anything zstd can shrink shows far fewer. Creating a zstd context costs about
 * as much as compressing 4 KiB, so skipping hopeless blocks nearly doubles backup throughput.
 */
export function likelyCompressible(buf: Buffer): boolean {
  if (buf.length < 1024) return true;
  const seen = new Uint8Array(256);
  const step = Math.floor(buf.length / 256);
  let distinct = 0;
  for (let i = 0; i < 256; i++) {
    const v = buf[i * step]!;
    if (seen[v] === 0) {
      seen[v] = 1;
      distinct++;
    }
  }
  return distinct < 140;
}

/**
 * A blob as stored: `codec byte || data` where codec 0 is raw and 1 is one zstd frame (chosen
 * only when it is smaller), then, in an encrypted repository, sealed with AES-256-GCM as
 * `nonce (12) || ciphertext || tag (16)` with `aad` as additional data, so a blob cannot be
 * moved to another name or position without failing authentication.
 */
export function encodeBlob(payload: Buffer, aad: Buffer, key: Buffer | undefined): Buffer {
  return Buffer.concat(sealParts(payload, aad, key));
}

/** `encodeBlob` as the pieces to concatenate: a pack copies them in place, with no blob copy. */
export function sealParts(payload: Buffer, aad: Buffer, key: Buffer | undefined): Buffer[] {
  const packed =
    payload.length >= 64 && likelyCompressible(payload)
      ? zstdCompressSync(payload, ZSTD_PARAMS)
      : undefined;
  const useZstd = packed !== undefined && packed.length < payload.length;
  const codec = CODEC_BYTES[useZstd ? CODEC_ZSTD : CODEC_RAW]!;
  const data = useZstd ? packed : payload;
  if (!key) return [codec, data];
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const c0 = cipher.update(codec);
  const c1 = cipher.update(data);
  const fin = cipher.final();
  return [nonce, c0, c1, fin, cipher.getAuthTag()];
}
const ZSTD_PARAMS = { params: { [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } };
const CODEC_BYTES = [Buffer.from([CODEC_RAW]), Buffer.from([CODEC_ZSTD])];

/** The payload back; throws CHECKSUM_MISMATCH when authentication or decompression fails. */
export function decodeBlob(
  stored: Buffer,
  aad: Buffer,
  key: Buffer | undefined,
  what: string,
): Buffer {
  let plain = stored;
  if (key) {
    if (stored.length < NONCE_BYTES + TAG_BYTES + 1) {
      throw new BallastError('CHECKSUM_MISMATCH', `${what}: too short to be a sealed blob`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, stored.subarray(0, NONCE_BYTES));
      decipher.setAAD(aad);
      decipher.setAuthTag(stored.subarray(stored.length - TAG_BYTES));
      plain = Buffer.concat([
        decipher.update(stored.subarray(NONCE_BYTES, stored.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch (err) {
      throw new BallastError('CHECKSUM_MISMATCH', `${what}: authentication failed`, undefined, err);
    }
  }
  if (plain.length < 1) throw new BallastError('CHECKSUM_MISMATCH', `${what}: empty blob`);
  const codec = plain[0];
  if (codec === CODEC_RAW) return plain.subarray(1);
  if (codec === CODEC_ZSTD) {
    try {
      return zstdDecompressSync(plain.subarray(1));
    } catch (err) {
      throw new BallastError('CHECKSUM_MISMATCH', `${what}: bad zstd frame`, undefined, err);
    }
  }
  throw new BallastError('CHECKSUM_MISMATCH', `${what}: unknown codec ${codec}`);
}

/** What the config records about encryption; the repository key appears only wrapped. */
export interface EncryptionParams {
  cipher: 'aes-256-gcm';
  kdf: 'scrypt';
  /** base64 */
  salt: string;
  N: number;
  r: number;
  p: number;
  /** base64 of nonce || AES-256-GCM(password key, repository key, aad "ballast-backup-key") || tag */
  wrappedKey: string;
}

const KEY_AAD = Buffer.from('ballast-backup-key');
export const DEFAULT_SCRYPT = { N: 1 << 15, r: 8, p: 1 };

function passwordKey(
  password: string,
  salt: Buffer,
  N: number,
  r: number,
  p: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_BYTES, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** A new random repository key and the parameters that unlock it with `password`. */
export async function newRepositoryKey(
  password: string,
  scryptParams = DEFAULT_SCRYPT,
): Promise<{ key: Buffer; params: EncryptionParams }> {
  const key = randomBytes(KEY_BYTES);
  return { key, params: await wrapRepositoryKey(key, password, scryptParams) };
}

/** The parameters that unlock `key` with `password` (a fresh salt each time). */
export async function wrapRepositoryKey(
  key: Buffer,
  password: string,
  scryptParams = DEFAULT_SCRYPT,
): Promise<EncryptionParams> {
  if (password.length === 0) throw new BallastError('INVALID_ARGUMENT', 'empty password');
  const salt = randomBytes(16);
  const { N, r, p } = scryptParams;
  const kek = await passwordKey(password, salt, N, r, p);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek, nonce);
  cipher.setAAD(KEY_AAD);
  const wrapped = Buffer.concat([nonce, cipher.update(key), cipher.final(), cipher.getAuthTag()]);
  return {
    cipher: 'aes-256-gcm',
    kdf: 'scrypt',
    salt: salt.toString('base64'),
    N,
    r,
    p,
    wrappedKey: wrapped.toString('base64'),
  };
}

/** The repository key; UNAUTHORIZED when the password is wrong. */
export async function unlockRepositoryKey(
  params: EncryptionParams,
  password: string,
): Promise<Buffer> {
  if (params.cipher !== 'aes-256-gcm' || params.kdf !== 'scrypt') {
    throw new BallastError('CONFIG', `unsupported encryption ${params.cipher}/${params.kdf}`);
  }
  const kek = await passwordKey(
    password,
    Buffer.from(params.salt, 'base64'),
    params.N,
    params.r,
    params.p,
  );
  const wrapped = Buffer.from(params.wrappedKey, 'base64');
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, wrapped.subarray(0, NONCE_BYTES));
    decipher.setAAD(KEY_AAD);
    decipher.setAuthTag(wrapped.subarray(wrapped.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(wrapped.subarray(NONCE_BYTES, wrapped.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    throw new BallastError('UNAUTHORIZED', 'wrong password for this backup repository');
  }
}
