import { BallastError, formatSize, parseDuration, parseSize } from '@ballast/common';
import type { FilesystemType, VolumeSpec } from './backend.js';

/** What `docker volume create -o` accepts; the order is the order of the help text. */
export const VALID_OPTIONS = [
  'size',
  'replicas',
  'fs',
  'zone',
  'chunkSize',
  'replicaTimeout',
  'labels',
  'label.<key>',
  'from-snapshot',
] as const;

export interface VolumeDefaults {
  sizeBytes: number;
  replicas: number;
  fs: FilesystemType;
}

export const DEFAULT_VOLUME: VolumeDefaults = {
  sizeBytes: 10 * 1024 ** 3,
  replicas: 3,
  fs: 'ext4',
};

export const MIN_SIZE_BYTES = 16 * 1024 ** 2;
/** mkfs.xfs (xfsprogs 5.19 and later) refuses filesystems smaller than 300 MiB. */
export const MIN_XFS_SIZE_BYTES = 300 * 1024 ** 2;
export const MAX_SIZE_BYTES = 64 * 1024 ** 4;
export const SIZE_ALIGNMENT_BYTES = 4096;
export const MIN_REPLICAS = 1;
export const MAX_REPLICAS = 5;
export const MIN_CHUNK_BYTES = 64 * 1024;
export const MAX_CHUNK_BYTES = 64 * 1024 ** 2;
/** meta's bounds for a volume's replica timeout. */
export const MIN_REPLICA_TIMEOUT_MS = 500;
export const MAX_REPLICA_TIMEOUT_MS = 300_000;
const MAX_LABELS = 16;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;
const LABEL_VALUE = /^[A-Za-z0-9._:/-]{0,128}$/;
const ZONE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const SNAPSHOT_REF = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}@[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const FILESYSTEMS: readonly FilesystemType[] = ['ext4', 'xfs'];
/** Docker passes at most a handful of options; a bound keeps a hostile request cheap. */
const MAX_OPTIONS = 64;

/**
 * Turns Docker's `Opts` (absent, null, or an object of strings) into a normalised VolumeSpec, or
 * throws INVALID_ARGUMENT with a message that names the bad option and lists the valid ones.
 * Sizes are rounded up to a multiple of 4 KiB (the block size every layer uses).
 */
export function parseVolumeOptions(
  opts: unknown,
  defaults: VolumeDefaults = DEFAULT_VOLUME,
): VolumeSpec {
  if (opts !== undefined && opts !== null && (typeof opts !== 'object' || Array.isArray(opts))) {
    throw invalid('Opts must be an object of strings');
  }
  const entries = Object.entries((opts ?? {}) as Record<string, unknown>);
  if (entries.length > MAX_OPTIONS) throw invalid(`too many options (at most ${MAX_OPTIONS})`);
  let sizeBytes = defaults.sizeBytes;
  let replicas = defaults.replicas;
  let fs: FilesystemType = defaults.fs;
  let zone: string | undefined;
  let chunkSizeBytes: number | undefined;
  let replicaTimeoutMs: number | undefined;
  let fromSnapshot: string | undefined;
  let sizeGiven = false;
  let fsGiven = false;
  const labels: Record<string, string> = {};

  const addLabel = (key: string, value: string, origin: string): void => {
    if (!LABEL_KEY.test(key)) {
      throw invalid(`${origin}: label key ${JSON.stringify(key)} must match ${LABEL_KEY.source}`);
    }
    if (!LABEL_VALUE.test(value)) {
      throw invalid(
        `${origin}: label value ${JSON.stringify(value)} must match ${LABEL_VALUE.source}`,
      );
    }
    if (labels[key] !== undefined && labels[key] !== value) {
      throw invalid(`${origin}: label ${key} is given twice with different values`);
    }
    labels[key] = value;
  };

  for (const [key, raw] of entries) {
    if (typeof raw !== 'string') throw invalid(`option ${key}: value must be a string`);
    const value = raw.trim();
    if (key.startsWith('label.')) {
      addLabel(key.slice('label.'.length), value, `option ${key}`);
      continue;
    }
    switch (key) {
      case 'size': {
        const parsed = sizeOption(key, requireValue(key, value));
        sizeBytes = Math.ceil(parsed / SIZE_ALIGNMENT_BYTES) * SIZE_ALIGNMENT_BYTES;
        sizeGiven = true;
        break;
      }
      case 'from-snapshot': {
        const text = requireValue(key, value);
        if (!SNAPSHOT_REF.test(text)) {
          throw invalid(`from-snapshot: ${JSON.stringify(raw)} is not VOLUME@SNAPSHOT`);
        }
        fromSnapshot = text;
        break;
      }
      case 'replicas': {
        const text = requireValue(key, value);
        const n = Number(text);
        if (!/^\d+$/.test(text) || n < MIN_REPLICAS || n > MAX_REPLICAS) {
          throw invalid(
            `replicas: ${JSON.stringify(raw)} is not a whole number from ${MIN_REPLICAS} to ${MAX_REPLICAS}`,
          );
        }
        replicas = n;
        break;
      }
      case 'fs': {
        const text = requireValue(key, value).toLowerCase();
        if (!FILESYSTEMS.includes(text as FilesystemType)) {
          throw invalid(
            `fs: ${JSON.stringify(raw)} is not supported (use ${FILESYSTEMS.join(' or ')})`,
          );
        }
        fs = text as FilesystemType;
        fsGiven = true;
        break;
      }
      case 'zone': {
        const text = requireValue(key, value);
        if (!ZONE.test(text))
          throw invalid(`zone: ${JSON.stringify(raw)} must match ${ZONE.source}`);
        zone = text;
        break;
      }
      case 'chunkSize': {
        const bytes = sizeOption(key, requireValue(key, value));
        if (bytes < MIN_CHUNK_BYTES || bytes > MAX_CHUNK_BYTES || (bytes & (bytes - 1)) !== 0) {
          throw invalid(
            `chunkSize: ${JSON.stringify(raw)} must be a power of two from ` +
              `${formatSize(MIN_CHUNK_BYTES)} to ${formatSize(MAX_CHUNK_BYTES)}`,
          );
        }
        chunkSizeBytes = bytes;
        break;
      }
      case 'replicaTimeout': {
        let ms: number;
        try {
          ms = parseDuration(requireValue(key, value), key);
        } catch (err) {
          throw invalid((err as Error).message);
        }
        if (ms < MIN_REPLICA_TIMEOUT_MS || ms > MAX_REPLICA_TIMEOUT_MS) {
          throw invalid(
            `replicaTimeout: ${JSON.stringify(raw)} must be from ${MIN_REPLICA_TIMEOUT_MS}ms to ${MAX_REPLICA_TIMEOUT_MS / 1000}s`,
          );
        }
        replicaTimeoutMs = ms;
        break;
      }
      case 'labels': {
        for (const pair of requireValue(key, value).split(',')) {
          const at = pair.indexOf('=');
          if (at <= 0) throw invalid(`labels: ${JSON.stringify(pair)} is not key=value`);
          addLabel(pair.slice(0, at).trim(), pair.slice(at + 1).trim(), 'labels');
        }
        break;
      }
      default:
        throw invalid(`unknown option ${JSON.stringify(key)}`);
    }
  }
  if (Object.keys(labels).length > MAX_LABELS) throw invalid(`at most ${MAX_LABELS} labels`);
  if (sizeBytes < MIN_SIZE_BYTES || sizeBytes > MAX_SIZE_BYTES) {
    throw invalid(
      `size: ${formatSize(sizeBytes)} is outside ${formatSize(MIN_SIZE_BYTES)} to ${formatSize(MAX_SIZE_BYTES)}`,
    );
  }
  if (fs === 'xfs' && sizeBytes < MIN_XFS_SIZE_BYTES) {
    throw invalid(`size: xfs needs at least ${formatSize(MIN_XFS_SIZE_BYTES)}`);
  }
  if (chunkSizeBytes !== undefined && chunkSizeBytes > sizeBytes) {
    throw invalid('chunkSize: larger than the volume');
  }
  return {
    sizeBytes,
    replicas,
    fs,
    chunkSizeBytes,
    zone,
    labels,
    ...(replicaTimeoutMs !== undefined ? { replicaTimeoutMs } : {}),
    ...(fromSnapshot !== undefined ? { fromSnapshot, sizeGiven, fsGiven } : {}),
  };
}

function sizeOption(key: string, value: string): number {
  try {
    return parseSize(value, key);
  } catch (err) {
    throw invalid((err as Error).message);
  }
}

function requireValue(key: string, value: string): string {
  if (value === '') throw invalid(`option ${key} needs a value (${key}=...)`);
  return value;
}

function invalid(message: string): BallastError {
  return new BallastError(
    'INVALID_ARGUMENT',
    `${message}; valid options: ${VALID_OPTIONS.join(', ')} ` +
      '(e.g. -o size=10GiB -o replicas=3 -o fs=ext4 -o zone=z1 -o label.ssd=true)',
  );
}

/** The spec as Docker-style option strings, for status output and error messages. */
export function describeSpec(spec: VolumeSpec): Record<string, string> {
  const out: Record<string, string> = {
    size: formatSize(spec.sizeBytes),
    replicas: String(spec.replicas),
    fs: spec.fs,
  };
  if (spec.zone !== undefined) out.zone = spec.zone;
  if (spec.chunkSizeBytes !== undefined) out.chunkSize = formatSize(spec.chunkSizeBytes);
  if (spec.replicaTimeoutMs !== undefined) out.replicaTimeout = `${spec.replicaTimeoutMs}ms`;
  for (const [k, v] of Object.entries(spec.labels)) out[`label.${k}`] = v;
  return out;
}
