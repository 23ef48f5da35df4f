import { assert } from '@ballast/common';

/**
 * The bytes received on a socket and not parsed yet, kept as the chunks the socket delivered.
 * Taking bytes that lie inside one chunk returns a subarray (no copy); only a message that
 * straddles chunks is copied into a fresh buffer. The owner bounds how much it lets in.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  /** Index of the first chunk still holding unread bytes. */
  private head = 0;
  /** Read position inside chunks[head]. */
  private headOffset = 0;
  private total = 0;

  get length(): number {
    return this.total;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /**
   * Makes the next `n` bytes contiguous and returns where they are, without consuming them:
   * bytes [offset, offset + n) of `buffer`. No copy when they already sit in one chunk.
   */
  peek(n: number): { buffer: Buffer; offset: number } {
    assert(n > 0 && n <= this.total, `peek(${n}) with ${this.total} queued`);
    const first = this.chunks[this.head]!;
    if (first.length - this.headOffset >= n) return { buffer: first, offset: this.headOffset };
    // Straddles chunks: gather the first n bytes into one buffer that replaces them.
    const joined = this.copyOut(n);
    this.dropFront(n);
    if (this.total > 0 && this.headOffset > 0) {
      this.chunks[this.head] = this.chunks[this.head]!.subarray(this.headOffset);
      this.headOffset = 0;
    }
    if (this.head > 0) {
      this.head -= 1;
      this.chunks[this.head] = joined;
    } else {
      this.chunks.unshift(joined);
    }
    this.total += n;
    return { buffer: joined, offset: 0 };
  }

  /** Consumes `n` bytes and returns them; a subarray of one chunk when possible. */
  take(n: number): Buffer {
    assert(n >= 0 && n <= this.total, `take(${n}) with ${this.total} queued`);
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[this.head]!;
    if (first.length - this.headOffset >= n) {
      const out = first.subarray(this.headOffset, this.headOffset + n);
      this.skip(n);
      return out;
    }
    const out = this.copyOut(n);
    this.skip(n);
    return out;
  }

  /**
   * Consumes `n` bytes and returns them as views of the chunks that hold them, in order (no
   * copy, whatever the chunking).
   */
  takeParts(n: number): Buffer[] {
    assert(n > 0 && n <= this.total, `takeParts(${n}) with ${this.total} queued`);
    const parts: Buffer[] = [];
    let remaining = n;
    let index = this.head;
    let offset = this.headOffset;
    while (remaining > 0) {
      const chunk = this.chunks[index]!;
      const count = Math.min(chunk.length - offset, remaining);
      parts.push(chunk.subarray(offset, offset + count));
      remaining -= count;
      index += 1;
      offset = 0;
    }
    this.skip(n);
    return parts;
  }

  /** Consumes and discards up to `n` bytes; returns how many were discarded. */
  skip(n: number): number {
    const dropped = Math.min(n, this.total);
    this.dropFront(dropped);
    return dropped;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.headOffset = 0;
    this.total = 0;
  }

  private copyOut(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let copied = 0;
    let index = this.head;
    let offset = this.headOffset;
    while (copied < n) {
      const chunk = this.chunks[index]!;
      const count = Math.min(chunk.length - offset, n - copied);
      chunk.copy(out, copied, offset, offset + count);
      copied += count;
      index += 1;
      offset = 0;
    }
    return out;
  }

  private dropFront(n: number): void {
    let remaining = n;
    this.total -= n;
    while (remaining > 0) {
      const chunk = this.chunks[this.head]!;
      const available = chunk.length - this.headOffset;
      if (available > remaining) {
        this.headOffset += remaining;
        return;
      }
      remaining -= available;
      this.head += 1;
      this.headOffset = 0;
    }
    // Compact the array now and then so consumed chunks can be collected.
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head > 64) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}
