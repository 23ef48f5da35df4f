import type { Socket } from 'node:net';

/** Replies are carved out of slabs of this size (one allocation per few thousand small replies). */
const SLAB_BYTES = 256 * 1024;
/** Larger buffers get their own allocation instead of a slab region. */
export const SLAB_ITEM_LIMIT_BYTES = 64 * 1024;
/** A batch up to this size that is not one contiguous region is joined into one buffer. */
const CONCAT_LIMIT_BYTES = 64 * 1024;

/**
 * Hands out buffers for replies. Regions never overlap, so a region handed to the socket stays
 * valid while later regions of the same slab are filled; a slab is freed by the GC once every
 * region of it is gone. Regions carved one after another and completed in that order are
 * adjacent, which lets the writer send a whole batch as one buffer without copying.
 */
export class SlabAllocator {
  private slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
  private used = 0;

  take(length: number): Buffer {
    if (length > SLAB_ITEM_LIMIT_BYTES) return Buffer.allocUnsafeSlow(length);
    if (this.used + length > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.used = 0;
    }
    const region = this.slab.subarray(this.used, this.used + length);
    this.used += length;
    return region;
  }
}

/**
 * Collects the replies produced during one turn of the event loop and writes them with one
 * socket write when the current I/O callback and its promise jobs are done (process.nextTick
 * runs after them), so a burst of completions costs one syscall and QD1 waits for no extra turn.
 */
export class ReplyWriter {
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  /** Called once the replies queued with them are handed to the kernel (or dropped). */
  private onWritten: Array<() => void> = [];
  private scheduled = false;
  private closed = false;
  private readonly flushBound = (): void => this.flush();

  constructor(
    private readonly socket: Socket,
    /** Called after each flush, when the backlog may have shrunk. */
    private readonly afterFlush: () => void = () => {},
  ) {}

  /** Bytes handed to the socket and not yet written to the kernel, plus queued ones. */
  get backlogBytes(): number {
    return this.queuedBytes + this.socket.writableLength;
  }

  /**
   * Queues a complete reply (or part of one, in order); it is written at the next flush.
   * `onWritten` runs once the socket no longer needs the buffer (written, or the socket is
   * gone), so the caller may recycle it.
   */
  push(buffer: Buffer, onWritten?: () => void): void {
    if (this.closed || buffer.length === 0) {
      onWritten?.();
      return;
    }
    if (onWritten !== undefined) this.onWritten.push(onWritten);
    const last = this.queue[this.queue.length - 1];
    if (
      last !== undefined &&
      last.buffer === buffer.buffer &&
      last.byteOffset + last.length === buffer.byteOffset
    ) {
      // Adjacent regions of one slab: extend the previous view instead of adding a chunk.
      this.queue[this.queue.length - 1] = Buffer.from(
        last.buffer,
        last.byteOffset,
        last.length + buffer.length,
      );
    } else {
      this.queue.push(buffer);
    }
    this.queuedBytes += buffer.length;
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flushBound);
    }
  }

  flush(): void {
    this.scheduled = false;
    const queue = this.queue;
    if (queue.length === 0 || this.closed) return;
    const bytes = this.queuedBytes;
    this.queue = [];
    this.queuedBytes = 0;
    // The stream calls a write's callback once that write (corked: the whole batch) has been
    // handed to the kernel or the socket was destroyed.
    const written = this.onWritten;
    let done: (() => void) | undefined;
    if (written.length > 0) {
      this.onWritten = [];
      done = () => {
        for (const cb of written) cb();
      };
    }
    if (queue.length === 1) {
      this.socket.write(queue[0]!, done);
    } else if (bytes <= CONCAT_LIMIT_BYTES) {
      this.socket.write(Buffer.concat(queue, bytes), done);
    } else {
      // cork/uncork turns the writes into one writev.
      this.socket.cork();
      const last = queue.length - 1;
      for (let i = 0; i < last; i++) this.socket.write(queue[i]!);
      this.socket.write(queue[last]!, done);
      this.socket.uncork();
    }
    this.afterFlush();
  }

  /** Drops whatever is queued; used once the socket is gone. */
  close(): void {
    this.closed = true;
    this.queue = [];
    this.queuedBytes = 0;
    const written = this.onWritten;
    this.onWritten = [];
    for (const cb of written) cb();
  }
}
