/**
 * The one small interface under every frontend (after longhorn-engine's types.go): the NBD
 * server talks to this, and the replicating engine, a plain file and test doubles implement it.
 *
 * Offsets and lengths are in bytes; implementations decide their own alignment rules and must
 * accept any range inside `sizeBytes` (read-modify-write inside when needed).
 */
export interface BlockDevice {
  readonly sizeBytes: number;
  /** Reads `length` bytes at `offset`. The returned buffer may be shared; callers must not keep it past the next await unless they copy. */
  readAt(offset: number, length: number): Promise<Buffer>;
  /** Writes `data` at `offset`. With `fua`, the data is durable when the promise resolves. */
  writeAt(offset: number, data: Buffer, fua?: boolean): Promise<void>;
  /** Discards a range (advisory): afterwards its contents are unspecified, zeroes in practice. */
  trim(offset: number, length: number, fua?: boolean): Promise<void>;
  /** Makes a range read back as zeroes; `noHole` asks for it to stay allocated. */
  writeZeroes(
    offset: number,
    length: number,
    opts?: { noHole?: boolean; fua?: boolean },
  ): Promise<void>;
  /** Makes every write that has resolved before this call durable. */
  flush(): Promise<void>;
  /** Allocation map for [offset, offset+length): consecutive extents with `hole` set where nothing is allocated. Optional. */
  extents?(
    offset: number,
    length: number,
  ): Promise<Array<{ length: number; hole: boolean; zero: boolean }>>;
  close(): Promise<void>;
}
