import { BallastError } from '@ballast/common';

/**
 * Stream frame codec shared by every TCP port that carries Ballast frames (the data plane,
 * and any other stream that wants it).
 *
 *   offset size
 *   0      4    frame length: bytes after this field (12 + header length + payload length), u32 BE
 *   4      2    magic 0xBA57
 *   6      1    version (1)
 *   7      1    frame type
 *   8      4    request id (u32 BE; 0 for unsolicited frames)
 *   12     4    header length (u32 BE)
 *   16     h    header: a protobuf message, which one the frame type says
 *   16+h   p    payload: raw bytes (write data, read data, chunks)
 *
 * The decoder checks each field as soon as its bytes arrive, so an oversized or garbage frame is
 * refused before anything is buffered for it: a peer cannot make us allocate more than
 * `maxFrameBytes` plus one socket read.
 */
export const FRAME_MAGIC = 0xba57;
export const FRAME_VERSION = 1;
export const FRAME_PREFIX_BYTES = 16;
/** Room for a 32 MiB payload (the largest NBD request we accept) plus its header. */
export const DEFAULT_MAX_FRAME_BYTES = 32 * 1024 * 1024 + 64 * 1024;

export type FrameErrorReason =
  | 'BAD_LENGTH'
  | 'TOO_LARGE'
  | 'BAD_MAGIC'
  | 'BAD_VERSION'
  | 'UNKNOWN_TYPE'
  | 'BAD_HEADER'
  | 'TRUNCATED';

export class FrameError extends BallastError {
  readonly reason: FrameErrorReason;
  constructor(reason: FrameErrorReason, message: string) {
    super('PROTOCOL', `frame: ${message}`, { reason });
    this.name = 'FrameError';
    this.reason = reason;
  }
}

/** How to decode and encode the header of one frame type. */
export interface HeaderCodec<T> {
  decode(bytes: Uint8Array): T;
  encode(message: T): { finish(): Uint8Array };
}

export class FrameRegistry {
  readonly #codecs = new Map<number, HeaderCodec<unknown>>();
  readonly #names = new Map<number, string>();

  register<T>(type: number, name: string, codec: HeaderCodec<T>): this {
    if (!Number.isInteger(type) || type < 1 || type > 255)
      throw new RangeError(`frame type ${type} out of range`);
    if (this.#codecs.has(type)) throw new Error(`frame type ${type} registered twice`);
    this.#codecs.set(type, codec as HeaderCodec<unknown>);
    this.#names.set(type, name);
    return this;
  }

  has(type: number): boolean {
    return this.#codecs.has(type);
  }

  codec(type: number): HeaderCodec<unknown> | undefined {
    return this.#codecs.get(type);
  }

  name(type: number): string {
    return this.#names.get(type) ?? `type-${type}`;
  }
}

export interface Frame {
  type: number;
  requestId: number;
  /** The decoded header message. */
  header: unknown;
  /** Payload bytes; a view into the received buffer when the frame arrived in one piece. */
  payload: Buffer;
  /**
   * Set when the frame spanned socket reads and was assembled into a buffer from the decoder's
   * `allocate` option: that buffer, which the owner may recycle once nothing uses the frame.
   */
  assembledIn?: Buffer;
}

const EMPTY = Buffer.alloc(0);

/**
 * Encodes a frame as the list of buffers to hand to `writev` (prefix+header, then the payload
 * untouched), so large payloads are never copied on the way out.
 */
export function encodeFrameParts(
  type: number,
  requestId: number,
  header: Uint8Array,
  payload: Buffer = EMPTY,
  maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
): Buffer[] {
  const frameLength = 12 + header.length + payload.length;
  if (frameLength > maxFrameBytes) {
    throw new FrameError(
      'TOO_LARGE',
      `frame of ${frameLength} bytes exceeds the ${maxFrameBytes}-byte limit`,
    );
  }
  const head = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + header.length);
  head.writeUInt32BE(frameLength, 0);
  head.writeUInt16BE(FRAME_MAGIC, 4);
  head.writeUInt8(FRAME_VERSION, 6);
  head.writeUInt8(type, 7);
  head.writeUInt32BE(requestId >>> 0, 8);
  head.writeUInt32BE(header.length, 12);
  head.set(header, FRAME_PREFIX_BYTES);
  return payload.length > 0 ? [head, payload] : [head];
}

/** Encodes a frame into one contiguous buffer (small frames, tests). */
export function encodeFrame(
  type: number,
  requestId: number,
  header: Uint8Array,
  payload?: Buffer,
  maxFrameBytes?: number,
): Buffer {
  const parts = encodeFrameParts(type, requestId, header, payload, maxFrameBytes);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** Encodes a frame whose header is a message of the registered type. */
export function encodeMessageFrame<T>(
  registry: FrameRegistry,
  type: number,
  requestId: number,
  header: T,
  payload?: Buffer,
): Buffer[] {
  const codec = registry.codec(type) as HeaderCodec<T> | undefined;
  if (!codec) throw new FrameError('UNKNOWN_TYPE', `cannot encode unregistered frame type ${type}`);
  return encodeFrameParts(type, requestId, codec.encode(header).finish(), payload);
}

export interface FrameDecoderOptions {
  registry: FrameRegistry;
  maxFrameBytes?: number;
  /**
   * Where to assemble a frame that spans socket reads (it must be copied into one buffer):
   * returns a buffer of at least `lengthBytes` (the whole frame), or undefined for a fresh one.
   * Lets the owner recycle large buffers instead of paying the page faults of a new one per
   * frame. The frame's type and request id are given (already checked) so the owner can tell
   * frames it will give back from frames it hands on.
   */
  allocate?: (lengthBytes: number, frameType: number, requestId: number) => Buffer | undefined;
}

/**
 * Incremental decoder for a byte stream. `push` returns the frames completed by a chunk; it
 * throws a FrameError on the first violation, after which the stream is unusable (the caller
 * closes the connection: there is no way to resynchronise a length-prefixed stream).
 */
export class FrameDecoder {
  readonly #registry: FrameRegistry;
  readonly #maxFrameBytes: number;
  readonly #allocate:
    ((lengthBytes: number, frameType: number, requestId: number) => Buffer | undefined) | undefined;
  /** The buffer from `allocate` that the last #take assembled into, if any. */
  #assembledIn: Buffer | undefined;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #failed: FrameError | undefined;

  constructor(options: FrameDecoderOptions) {
    this.#registry = options.registry;
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.#allocate = options.allocate;
  }

  /** Bytes held for an incomplete frame. Never more than maxFrameBytes + 4 plus one chunk. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  push(chunk: Buffer): Frame[] {
    if (this.#failed) throw this.#failed;
    if (chunk.length === 0) return [];
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const frames: Frame[] = [];
    try {
      for (;;) {
        const frame = this.#next();
        if (!frame) break;
        frames.push(frame);
      }
    } catch (err) {
      this.#failed = err as FrameError;
      this.#chunks = [];
      this.#buffered = 0;
      throw err;
    }
    return frames;
  }

  /** The stream ended: leftover bytes mean the peer sent a truncated frame. */
  end(): void {
    if (this.#failed) return;
    if (this.#buffered > 0) {
      const err = new FrameError(
        'TRUNCATED',
        `stream ended inside a frame (${this.#buffered} bytes pending)`,
      );
      this.#failed = err;
      throw err;
    }
  }

  /** Reads a u32/u16/u8 at `offset` of the buffered stream without consuming it. */
  #peekByte(offset: number): number {
    let rest = offset;
    for (const c of this.#chunks) {
      if (rest < c.length) return c[rest]!;
      rest -= c.length;
    }
    throw new RangeError('peek past buffered data');
  }

  #peekU32(offset: number): number {
    const first = this.#chunks[0]!;
    if (offset + 4 <= first.length) return first.readUInt32BE(offset);
    return (
      ((this.#peekByte(offset) << 24) |
        (this.#peekByte(offset + 1) << 16) |
        (this.#peekByte(offset + 2) << 8) |
        this.#peekByte(offset + 3)) >>>
      0
    );
  }

  #take(length: number, type: number, requestId: number): Buffer {
    const first = this.#chunks[0]!;
    let out: Buffer;
    this.#assembledIn = undefined;
    if (first.length >= length) {
      out = first.subarray(0, length);
      if (first.length === length) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(length);
    } else {
      const given = this.#allocate?.(length, type, requestId);
      if (given !== undefined && given.length < length) {
        throw new RangeError(`allocate returned ${given.length} bytes for a ${length}-byte frame`);
      }
      this.#assembledIn = given;
      out = given === undefined ? Buffer.allocUnsafe(length) : given.subarray(0, length);
      let filled = 0;
      while (filled < length) {
        const c = this.#chunks[0]!;
        const n = Math.min(c.length, length - filled);
        c.copy(out, filled, 0, n);
        filled += n;
        if (n === c.length) this.#chunks.shift();
        else this.#chunks[0] = c.subarray(n);
      }
    }
    this.#buffered -= length;
    return out;
  }

  #next(): Frame | undefined {
    if (this.#buffered < 4) return undefined;
    const frameLength = this.#peekU32(0);
    if (frameLength < 12)
      throw new FrameError(
        'BAD_LENGTH',
        `frame length ${frameLength} is shorter than the fixed header`,
      );
    if (frameLength > this.#maxFrameBytes) {
      throw new FrameError(
        'TOO_LARGE',
        `frame of ${frameLength} bytes exceeds the ${this.#maxFrameBytes}-byte limit`,
      );
    }
    if (this.#buffered < 8) return undefined;
    const magic = (this.#peekByte(4) << 8) | this.#peekByte(5);
    if (magic !== FRAME_MAGIC)
      throw new FrameError('BAD_MAGIC', `bad magic 0x${magic.toString(16)}`);
    const version = this.#peekByte(6);
    if (version !== FRAME_VERSION)
      throw new FrameError('BAD_VERSION', `unsupported version ${version}`);
    const type = this.#peekByte(7);
    const codec = this.#registry.codec(type);
    if (!codec) throw new FrameError('UNKNOWN_TYPE', `unknown frame type ${type}`);
    if (this.#buffered < FRAME_PREFIX_BYTES) return undefined;
    const headerLength = this.#peekU32(12);
    if (headerLength > frameLength - 12) {
      throw new FrameError(
        'BAD_LENGTH',
        `header length ${headerLength} exceeds frame length ${frameLength}`,
      );
    }
    if (this.#buffered < 4 + frameLength) return undefined;
    const requestId = this.#peekU32(8);
    const whole = this.#take(4 + frameLength, type, requestId);
    const headerBytes = whole.subarray(FRAME_PREFIX_BYTES, FRAME_PREFIX_BYTES + headerLength);
    let header: unknown;
    try {
      header = codec.decode(headerBytes);
    } catch (err) {
      throw new FrameError(
        'BAD_HEADER',
        `undecodable ${this.#registry.name(type)} header: ${(err as Error).message}`,
      );
    }
    const payload = whole.subarray(FRAME_PREFIX_BYTES + headerLength);
    const assembledIn = this.#assembledIn;
    this.#assembledIn = undefined;
    return assembledIn === undefined
      ? { type, requestId, header, payload }
      : { type, requestId, header, payload, assembledIn };
  }
}
