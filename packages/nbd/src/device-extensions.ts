import type { BlockDevice } from '@ballast/common';

/**
 * Optional fast paths a device may offer beyond the common `BlockDevice` interface. The server
 * looks for them at runtime and falls back to the plain interface when they are missing, so any
 * `BlockDevice` works; a device that has them saves an allocation and a copy per READ.
 */
export interface BlockDeviceFastPaths {
  /**
   * Reads `length` bytes at `offset` into `target[targetOffset ..]`. Lets the server read
   * straight into the buffer that also holds the reply header (one buffer, one write).
   */
  readInto?(offset: number, length: number, target: Buffer, targetOffset: number): Promise<void>;
  /**
   * Writes the concatenation of `parts` at `offset`. A large WRITE payload arrives in several
   * socket reads; with this the server hands those pieces over as they are instead of copying
   * them into one new buffer. The parts must not be changed until the promise settles.
   */
  writeParts?(offset: number, parts: readonly Buffer[], fua: boolean): Promise<void>;
  /**
   * True when `writeZeroes` without `noHole` is cheaper than writing the zeroes. The server
   * answers NBD_CMD_FLAG_FAST_ZERO with NBD_ENOTSUP unless this is true.
   */
  readonly fastZero?: boolean;
}

export type NbdBlockDevice = BlockDevice & BlockDeviceFastPaths;
