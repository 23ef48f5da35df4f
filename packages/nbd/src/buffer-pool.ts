/**
 * Recycles large reply buffers. A fresh multi-megabyte buffer costs a page fault per 4 KiB the
 * first time it is touched, far more than the copy into it, so READ replies above the slab
 * size are taken from here and come back once the socket has written them.
 */
export class LargeBufferPool {
  readonly #free = new Map<number, Buffer[]>();
  readonly #maxPooledBytes: number;
  #pooledBytes = 0;

  constructor(maxPooledBytes = 64 * 1024 * 1024) {
    this.#maxPooledBytes = maxPooledBytes;
  }

  get pooledBytes(): number {
    return this.#pooledBytes;
  }

  /** A buffer of exactly `length` bytes: a view of a power-of-two sized one it owns. */
  take(length: number): Buffer {
    const size = sizeClass(length);
    const buffer = this.#free.get(size)?.pop();
    if (buffer !== undefined) {
      this.#pooledBytes -= size;
      return buffer.subarray(0, length);
    }
    return Buffer.allocUnsafeSlow(size).subarray(0, length);
  }

  /** Gives back a buffer from `take` that nobody references any more. */
  give(view: Buffer): void {
    const size = view.buffer.byteLength;
    if (size !== sizeClass(size) || this.#pooledBytes + size > this.#maxPooledBytes) return;
    let list = this.#free.get(size);
    if (list === undefined) this.#free.set(size, (list = []));
    list.push(Buffer.from(view.buffer, 0, size));
    this.#pooledBytes += size;
  }
}

function sizeClass(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(n, 1)));
}
