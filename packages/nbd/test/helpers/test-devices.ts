import type { BlockDevice } from '@ballast/common';

type Extent = { length: number; hole: boolean; zero: boolean };

/**
 * Wraps a device and holds the operations a test chooses until it releases them, so a test can
 * have requests really in flight (DISC, out-of-order replies, backpressure) without sleeping.
 */
export class GatedDevice implements BlockDevice {
  private held: Array<{ what: string; release: () => void }> = [];
  private waiters: Array<() => void> = [];
  /** Operations matching this are held; the rest pass straight through. */
  holdIf: (what: string, offset: number) => boolean = () => true;

  constructor(private readonly inner: BlockDevice) {}

  get sizeBytes(): number {
    return this.inner.sizeBytes;
  }

  get heldCount(): number {
    return this.held.length;
  }

  /** Resolves once at least `count` operations are held. */
  async waitHeld(count: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.held.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${this.held.length} of ${count} held`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  releaseAll(): void {
    const held = this.held;
    this.held = [];
    for (const op of held) op.release();
  }

  releaseWhere(predicate: (what: string) => boolean): void {
    const keep: typeof this.held = [];
    for (const op of this.held) {
      if (predicate(op.what)) op.release();
      else keep.push(op);
    }
    this.held = keep;
  }

  private async gate(what: string, offset: number): Promise<void> {
    if (!this.holdIf(what, offset)) return;
    await new Promise<void>((release) => {
      this.held.push({ what: `${what}@${offset}`, release });
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    });
  }

  async readAt(offset: number, length: number): Promise<Buffer> {
    await this.gate('read', offset);
    return this.inner.readAt(offset, length);
  }
  async writeAt(offset: number, data: Buffer, fua?: boolean): Promise<void> {
    // Copy: the server may hand us a view of its receive buffer.
    const copy = Buffer.from(data);
    await this.gate('write', offset);
    return this.inner.writeAt(offset, copy, fua);
  }
  async trim(offset: number, length: number, fua?: boolean): Promise<void> {
    await this.gate('trim', offset);
    return this.inner.trim(offset, length, fua);
  }
  async writeZeroes(
    offset: number,
    length: number,
    opts?: { noHole?: boolean; fua?: boolean },
  ): Promise<void> {
    await this.gate('zero', offset);
    return this.inner.writeZeroes(offset, length, opts);
  }
  async flush(): Promise<void> {
    await this.gate('flush', 0);
    return this.inner.flush();
  }
  async close(): Promise<void> {
    this.releaseAll();
    return this.inner.close();
  }
}

/** A device whose every operation fails with the given error (for error-mapping tests). */
export class FailingDevice implements BlockDevice {
  constructor(
    readonly sizeBytes: number,
    private readonly makeError: () => Error,
  ) {}
  async readAt(): Promise<Buffer> {
    throw this.makeError();
  }
  async writeAt(): Promise<void> {
    throw this.makeError();
  }
  async trim(): Promise<void> {
    throw this.makeError();
  }
  async writeZeroes(): Promise<void> {
    throw this.makeError();
  }
  async flush(): Promise<void> {
    throw this.makeError();
  }
  async extents(): Promise<Extent[]> {
    throw this.makeError();
  }
  async close(): Promise<void> {}
}

/** A device with a fixed extent map and no readInto, to test the readAt path and extent sanitising. */
export class ScriptedExtentsDevice implements BlockDevice {
  constructor(
    readonly sizeBytes: number,
    private readonly script: Extent[],
  ) {}
  async readAt(_offset: number, length: number): Promise<Buffer> {
    return Buffer.alloc(length, 0x5a);
  }
  async writeAt(): Promise<void> {}
  async trim(): Promise<void> {}
  async writeZeroes(): Promise<void> {}
  async flush(): Promise<void> {}
  async extents(): Promise<Extent[]> {
    return this.script.map((e) => ({ ...e }));
  }
  async close(): Promise<void> {}
}
