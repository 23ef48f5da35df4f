import type { Socket } from 'node:net';
import {
  DEFAULT_MAX_FRAME_BYTES,
  FRAME_MAGIC,
  FRAME_PREFIX_BYTES,
  FRAME_VERSION,
  FrameError,
} from '@ballast/proto';

/** A batch up to this size goes out as one concatenated buffer (one write, no writev). */
const CONCAT_BATCH_BYTES = 64 * 1024;
/** In a larger batch, buffers at least this big are handed to writev as they are (no copy). */
const ZERO_COPY_MIN_BYTES = 16 * 1024;

const EMPTY = Buffer.alloc(0);

/**
 * Collects the frames produced during one turn of the event loop and hands them to the socket
 * in one go once the current I/O callback and its promise jobs are done (process.nextTick runs
 * after them). A burst of acks costs one syscall, and QD1 waits for no extra loop turn.
 *
 * Small batches are concatenated (copying a few KiB is cheaper than the stream's writev
 * machinery); in large batches, big payloads go to writev by reference, so a payload handed to
 * several connections is never copied per connection.
 */
export class FrameWriter {
  readonly #socket: Socket;
  readonly #maxFrameBytes: number;
  readonly #afterFlush: () => void;
  readonly #holdWhile: (() => boolean) | undefined;
  #queue: Buffer[] = [];
  #queuedBytes = 0;
  /** Called once the frames queued with them have been handed to the kernel (or dropped). */
  #onWritten: Array<() => void> = [];
  #scheduled = false;
  #held = false;
  #closed = false;
  #flushes = 0;
  readonly #flushBound = (): void => this.#scheduledFlush();

  /**
   * `holdWhile`, when given, is asked at the end of each turn before the batch is written; while
   * it says true the batch keeps growing, and the owner writes it with `release()` (when the
   * reason to wait is gone) or `flush()`.
   */
  constructor(
    socket: Socket,
    afterFlush: () => void = () => {},
    maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
    holdWhile?: () => boolean,
  ) {
    this.#socket = socket;
    this.#afterFlush = afterFlush;
    this.#maxFrameBytes = maxFrameBytes;
    this.#holdWhile = holdWhile;
  }

  /** Bytes queued for the next write. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** A batch is queued and being held back (see `holdWhile`). */
  get held(): boolean {
    return this.#held && this.#queue.length > 0;
  }

  /** Writes a held batch now (no-op when nothing is held). */
  release(): void {
    if (this.#held) this.flush();
  }

  /** Bytes queued here plus bytes the socket has not handed to the kernel yet. */
  get backlogBytes(): number {
    return this.#queuedBytes + this.#socket.writableLength;
  }

  /** Socket writes made so far (one per flushed batch). */
  get flushes(): number {
    return this.#flushes;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Queues one frame: prefix and header in a fresh small buffer, the payload by reference. The
   * payload must not change until the frame is written (the caller keeps it until its request
   * settles, which is later). Throws FrameError TOO_LARGE for a frame above the limit.
   */
  pushFrame(
    type: number,
    requestId: number,
    header: Uint8Array,
    payload: Buffer | readonly Buffer[] = EMPTY,
    onWritten?: () => void,
  ): void {
    const payloadBytes = payloadLength(payload);
    const frameLength = 12 + header.length + payloadBytes;
    if (frameLength > this.#maxFrameBytes) {
      throw new FrameError(
        'TOO_LARGE',
        `frame of ${frameLength} bytes exceeds the ${this.#maxFrameBytes}-byte limit`,
      );
    }
    if (this.#closed) {
      onWritten?.();
      return;
    }
    if (onWritten) this.#onWritten.push(onWritten);
    const head = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + header.length);
    head.writeUInt32BE(frameLength, 0);
    head.writeUInt16BE(FRAME_MAGIC, 4);
    head[6] = FRAME_VERSION;
    head[7] = type;
    head.writeUInt32BE(requestId >>> 0, 8);
    head.writeUInt32BE(header.length, 12);
    head.set(header, FRAME_PREFIX_BYTES);
    this.#queue.push(head);
    this.#queuedBytes += head.length;
    if (Buffer.isBuffer(payload)) {
      if (payload.length > 0) this.#queue.push(payload);
    } else {
      for (const part of payload) if (part.length > 0) this.#queue.push(part);
    }
    this.#queuedBytes += payloadBytes;
    if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(this.#flushBound);
    }
  }

  #scheduledFlush(): void {
    this.#scheduled = false;
    if (this.#holdWhile !== undefined && this.#queue.length > 0 && this.#holdWhile()) {
      this.#held = true;
      return;
    }
    this.flush();
  }

  /** Writes everything queued now (normally called on the next tick). */
  flush(): void {
    this.#scheduled = false;
    this.#held = false;
    const queue = this.#queue;
    if (queue.length === 0 || this.#closed) return;
    const bytes = this.#queuedBytes;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#flushes += 1;
    // The stream calls a write's callback once that write (and, corked, the whole batch) has
    // been handed to the kernel or the socket was destroyed: buffers are free to reuse then.
    const written = this.#onWritten;
    let done: ((err?: Error | null) => void) | undefined;
    if (written.length > 0) {
      this.#onWritten = [];
      done = () => {
        for (const cb of written) cb();
      };
    }
    if (queue.length === 1) {
      this.#socket.write(queue[0]!, done);
    } else if (bytes <= CONCAT_BATCH_BYTES) {
      this.#socket.write(Buffer.concat(queue, bytes), done);
    } else {
      // Runs of small buffers are joined; big ones are passed as they are. cork/uncork turns
      // the writes into one writev.
      const parts: Buffer[] = [];
      let run: Buffer[] = [];
      let runBytes = 0;
      for (const buffer of queue) {
        if (buffer.length >= ZERO_COPY_MIN_BYTES) {
          if (run.length > 0) {
            parts.push(run.length === 1 ? run[0]! : Buffer.concat(run, runBytes));
            run = [];
            runBytes = 0;
          }
          parts.push(buffer);
        } else {
          run.push(buffer);
          runBytes += buffer.length;
        }
      }
      if (run.length > 0) parts.push(run.length === 1 ? run[0]! : Buffer.concat(run, runBytes));
      this.#socket.cork();
      const last = parts.length - 1;
      for (let i = 0; i < last; i++) this.#socket.write(parts[i]!);
      this.#socket.write(parts[last]!, done);
      this.#socket.uncork();
    }
    this.#afterFlush();
  }

  /** Flushes what is queued, then refuses further frames (the connection is ending). */
  closeAfterFlush(): void {
    this.flush();
    this.#closed = true;
  }

  /** Drops whatever is queued: the socket is gone. */
  close(): void {
    this.#closed = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    const written = this.#onWritten;
    this.#onWritten = [];
    for (const cb of written) cb();
  }
}

/** Bytes of a payload given as one buffer or as parts to be sent back to back. */
export function payloadLength(payload: Buffer | readonly Buffer[]): number {
  if (Buffer.isBuffer(payload)) return payload.length;
  let n = 0;
  for (const part of payload) n += part.length;
  return n;
}
