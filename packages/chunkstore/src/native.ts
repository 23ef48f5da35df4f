import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * The package's N-API addon (native/chunkstore_native.cc, built by `npm run build` with
 * node-gyp). Each function is one synchronous system call on the calling thread.
 */
interface NativeAddon {
  punchHole(fd: number, offsetBytes: number, lengthBytes: number): void;
  zeroRange(fd: number, offsetBytes: number, lengthBytes: number): void;
  seekData(fd: number, offsetBytes: number): number;
  seekHole(fd: number, offsetBytes: number): number;
}

let addon: NativeAddon | null = null;
let loadError: string | null = null;
try {
  const require = createRequire(import.meta.url);
  // dist/src/native.js -> <package>/build/Release
  addon = require('../../build/Release/chunkstore_native.node') as NativeAddon;
} catch (err) {
  loadError = err instanceof Error ? err.message : String(err);
}

/** Whether the addon loaded; without it trims write zeroes and extents report everything as data. */
export function nativeAddonStatus(): { loaded: boolean; error: string | null } {
  return { loaded: addon !== null, error: loadError };
}

const ZERO_FILL = Buffer.alloc(1024 * 1024);

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err
    ? String((err as { code: unknown }).code)
    : undefined;
}

/** Writes zeroes over the range: the fallback when holes cannot be punched. */
export function writeZeroFill(fd: number, offsetBytes: number, lengthBytes: number): void {
  let done = 0;
  while (done < lengthBytes) {
    const step = Math.min(ZERO_FILL.length, lengthBytes - done);
    const written = writeSync(fd, ZERO_FILL, 0, step, offsetBytes + done);
    if (written <= 0) throw new Error(`short write while zero-filling at ${offsetBytes + done}`);
    done += written;
  }
}

function unsupported(err: unknown): boolean {
  const code = errnoCode(err);
  return code === 'EOPNOTSUPP' || code === 'ENOTSUP' || code === 'ENOSYS';
}

/**
 * Makes the range read back as zeroes, deallocating it when the file system can. Falls back to
 * writing zeroes when the addon is missing or the file system does not punch holes.
 */
export function punchHole(fd: number, offsetBytes: number, lengthBytes: number): void {
  if (lengthBytes === 0) return;
  if (addon) {
    try {
      addon.punchHole(fd, offsetBytes, lengthBytes);
      return;
    } catch (err) {
      if (!unsupported(err)) throw err;
    }
  }
  writeZeroFill(fd, offsetBytes, lengthBytes);
}

/** Makes the range read back as zeroes and keeps it allocated (WRITE_ZEROES with NO_HOLE). */
export function zeroRange(fd: number, offsetBytes: number, lengthBytes: number): void {
  if (lengthBytes === 0) return;
  if (addon) {
    try {
      addon.zeroRange(fd, offsetBytes, lengthBytes);
      return;
    } catch (err) {
      if (!unsupported(err)) throw err;
    }
  }
  writeZeroFill(fd, offsetBytes, lengthBytes);
}

export interface FileExtent {
  offsetBytes: number;
  lengthBytes: number;
  /** True where nothing is allocated (reads as zeroes). */
  hole: boolean;
}

/**
 * Allocated and unallocated extents of [offset, offset+length) from lseek SEEK_DATA/SEEK_HOLE,
 * consecutive and covering the whole range. At most `maxExtents` entries: past that the rest of
 * the range is reported as one data extent (data is always a safe answer). Without the addon,
 * or on a file system without SEEK_DATA, the whole range is one data extent.
 */
export function fileExtents(
  fd: number,
  offsetBytes: number,
  lengthBytes: number,
  maxExtents: number,
): FileExtent[] {
  const end = offsetBytes + lengthBytes;
  if (lengthBytes === 0) return [];
  if (!addon) return [{ offsetBytes, lengthBytes, hole: false }];
  const extents: FileExtent[] = [];
  let pos = offsetBytes;
  while (pos < end) {
    if (extents.length === maxExtents - 1) {
      extents.push({ offsetBytes: pos, lengthBytes: end - pos, hole: false });
      break;
    }
    let dataAt: number;
    try {
      dataAt = addon.seekData(fd, pos);
    } catch (err) {
      if (unsupported(err) || errnoCode(err) === 'EINVAL') {
        extents.push({ offsetBytes: pos, lengthBytes: end - pos, hole: false });
        break;
      }
      throw err;
    }
    if (dataAt < 0 || dataAt >= end) {
      extents.push({ offsetBytes: pos, lengthBytes: end - pos, hole: true });
      break;
    }
    if (dataAt > pos) {
      extents.push({ offsetBytes: pos, lengthBytes: dataAt - pos, hole: true });
      pos = dataAt;
      continue;
    }
    const holeAt = addon.seekHole(fd, pos);
    // A hole at `pos` right after SEEK_DATA said data is there would be a file-system bug;
    // report data to the end rather than loop.
    const dataEnd = holeAt <= pos || holeAt > end ? end : holeAt;
    extents.push({ offsetBytes: pos, lengthBytes: dataEnd - pos, hole: false });
    pos = dataEnd;
  }
  return extents;
}
