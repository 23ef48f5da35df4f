import type { NbdBlockDevice } from '@ballast/nbd';
import type { VolumeEngine } from '@ballast/engine';

/**
 * The device an attached volume's exports serve: it forwards to the volume's current engine.
 * When an engine fails (its last in-sync replica stopped answering) the agent opens a new one at
 * a new epoch and puts it here, so the NBD connections of the mount, the relays and the TCP
 * export carry on without reconnecting (D22). Requests that reached the failed engine got EIO;
 * every later one goes to the new engine.
 */
export class ServedEngine implements NbdBlockDevice {
  readonly fastZero = false;

  constructor(private current: VolumeEngine) {}

  get engine(): VolumeEngine {
    return this.current;
  }

  /** Requests from now on go to `engine`; the caller has stopped the one it replaces. */
  replace(engine: VolumeEngine): void {
    this.current = engine;
  }

  get sizeBytes(): number {
    return this.current.sizeBytes;
  }

  readAt(offset: number, length: number): Promise<Buffer> {
    return this.current.readAt(offset, length);
  }

  readInto(offset: number, length: number, target: Buffer, targetOffset: number): Promise<void> {
    return this.current.readInto(offset, length, target, targetOffset);
  }

  writeAt(offset: number, data: Buffer, fua?: boolean): Promise<void> {
    return this.current.writeAt(offset, data, fua);
  }

  writeParts(offset: number, parts: readonly Buffer[], fua: boolean): Promise<void> {
    return this.current.writeParts(offset, parts, fua);
  }

  trim(offset: number, length: number, fua?: boolean): Promise<void> {
    return this.current.trim(offset, length, fua);
  }

  writeZeroes(
    offset: number,
    length: number,
    opts?: { noHole?: boolean; fua?: boolean },
  ): Promise<void> {
    return this.current.writeZeroes(offset, length, opts);
  }

  flush(): Promise<void> {
    return this.current.flush();
  }

  /** The agent closes engines itself (release, close, replacement); an export closing does not. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
