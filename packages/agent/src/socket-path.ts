import { createHash } from 'node:crypto';
import * as path from 'node:path';

/** sun_path holds 108 bytes with the NUL; stay clear of the edge. */
const MAX_SOCKET_PATH_BYTES = 100;

/**
 * The unix socket path for a volume in `dir`: `<dir>/<volume>.sock`, or, when that would not fit
 * in sun_path (long volume names, such as Docker's 64-hex anonymous ones, under a long run dir),
 * `<dir>/<first 24 hex of sha256(volume)>.sock`. Deterministic, so a restarted agent and a relay
 * compute the same path.
 */
export function volumeSocketPath(dir: string, volume: string): string {
  const plain = path.join(dir, `${volume}.sock`);
  if (Buffer.byteLength(plain) <= MAX_SOCKET_PATH_BYTES) return plain;
  const short = path.join(
    dir,
    `${createHash('sha256').update(volume).digest('hex').slice(0, 24)}.sock`,
  );
  if (Buffer.byteLength(short) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(`run directory ${dir} is too long for unix socket paths; use a shorter runDir`);
  }
  return short;
}
