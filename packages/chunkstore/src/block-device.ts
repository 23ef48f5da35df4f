import type { BlockDevice } from '@ballast/common';
import type { FileExtent } from './native.js';
import type { Replica } from './replica.js';

/**
 * A replica seen through the BlockDevice interface (for a node-local export, tests of
 * frontends, and tools). The data plane should call the Replica directly: this adapter turns
 * every synchronous call into a promise.
 */
export class ReplicaBlockDevice implements BlockDevice {
  constructor(private readonly replica: Replica) {}

  get sizeBytes(): number {
    return this.replica.sizeBytes;
  }

  async readAt(offset: number, length: number): Promise<Buffer> {
    return this.replica.read(offset, length);
  }

  async writeAt(offset: number, data: Buffer, fua?: boolean): Promise<void> {
    await this.replica.write(offset, data);
    if (fua) await this.replica.flush();
  }

  async trim(offset: number, length: number, fua?: boolean): Promise<void> {
    await this.replica.trim(offset, length);
    if (fua) await this.replica.flush();
  }

  async writeZeroes(
    offset: number,
    length: number,
    opts: { noHole?: boolean; fua?: boolean } = {},
  ): Promise<void> {
    await this.replica.writeZeroes(offset, length, { noHole: opts.noHole === true });
    if (opts.fua) await this.replica.flush();
  }

  flush(): Promise<void> {
    return this.replica.flush();
  }

  async extents(
    offset: number,
    length: number,
  ): Promise<Array<{ length: number; hole: boolean; zero: boolean }>> {
    return this.replica
      .allocatedExtents(offset, length)
      .map((e: FileExtent) => ({ length: e.lengthBytes, hole: e.hole, zero: e.hole }));
  }

  /** The replica belongs to its store; closing the device only flushes. */
  close(): Promise<void> {
    return this.replica.flush();
  }
}
