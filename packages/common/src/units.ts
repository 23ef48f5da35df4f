import { BallastError } from './errors.js';

const BINARY: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
  p: 1024 ** 5,
  pb: 1000 ** 5,
  pib: 1024 ** 5,
};

/**
 * Parses a size such as `10GiB`, `512M`, `1.5TB` or `4096` into bytes. Bare K/M/G/T are binary,
 * as in Docker and Kubernetes-style tooling users already type; KB/MB/GB are decimal.
 */
export function parseSize(input: string | number, setting = 'size'): number {
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input < 0) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `${setting}: ${input} is not a whole number of bytes`,
      );
    }
    return input;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(input);
  const unit = m?.[2]?.toLowerCase() ?? '';
  const mult = BINARY[unit];
  if (!m || mult === undefined) {
    throw new BallastError(
      'INVALID_ARGUMENT',
      `${setting}: cannot parse "${input}" as a size (examples: 4096, 512MiB, 10GiB, 1TB)`,
    );
  }
  const bytes = Math.round(Number(m[1]) * mult);
  if (!Number.isSafeInteger(bytes)) {
    throw new BallastError('INVALID_ARGUMENT', `${setting}: "${input}" is too large`);
  }
  return bytes;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Formats bytes in binary units with up to one decimal: 1536 -> "1.5 KiB". */
export function formatSize(bytes: number): string {
  let value = bytes;
  let i = 0;
  while (Math.abs(value) >= 1024 && i < UNITS.length - 1) {
    value /= 1024;
    i++;
  }
  const text = i === 0 || Number.isInteger(value) ? String(value) : value.toFixed(1);
  return `${text} ${UNITS[i]}`;
}

/** Parses durations such as `500ms`, `10s`, `5m`, `1h` into milliseconds. */
export function parseDuration(input: string | number, setting = 'duration'): number {
  if (typeof input === 'number') return input;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(input);
  if (!m) {
    throw new BallastError(
      'INVALID_ARGUMENT',
      `${setting}: cannot parse "${input}" as a duration (examples: 500ms, 10s, 5m)`,
    );
  }
  const n = Number(m[1]);
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 'ms'] ?? 1;
  return Math.round(n * mult);
}
