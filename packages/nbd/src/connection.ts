import type { Socket } from 'node:net';
import { ByteQueue } from './byte-queue.js';
import type { NbdBlockDevice } from './device-extensions.js';
import { errorMessage, nbdErrorFor } from './error-map.js';
import {
  OptionNegotiator,
  type BlockSizes,
  type ExportCatalog,
  type ExportInfo,
  type NegotiationStep,
  type Session,
} from './negotiation.js';
import * as P from './protocol.js';
import { LargeBufferPool } from './buffer-pool.js';
import { SLAB_ITEM_LIMIT_BYTES, SlabAllocator, ReplyWriter } from './reply-writer.js';
import { CommandCounters } from './stats.js';

/** The server's record of one export, as a connection sees it. */
export interface ServedExport extends ExportInfo {
  readonly device: NbdBlockDevice;
  readonly counters: CommandCounters;
}

export interface NbdLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ConnectionLimits {
  /** Requests parsed and not yet answered; reading stops at this many (backpressure). */
  maxInFlightRequests: number;
  /** READ lengths plus WRITE payloads in flight; reading stops above this. */
  maxInFlightBytes: number;
  /** Reply bytes the client has not taken yet; reading stops above this. */
  maxReplyBacklogBytes: number;
  /** Largest READ/WRITE accepted (advertised as the maximum block size). */
  maxPayloadBytes: number;
  /** A WRITE above maxPayloadBytes but up to this is skipped unbuffered and answered EINVAL;
   * a larger one closes the connection. */
  maxDiscardBytes: number;
  /** Option data is buffered up to this size; longer options are skipped unbuffered. */
  maxOptionBytes: number;
  /** Options per connection before the server gives up on the client. */
  maxOptions: number;
  /** A client must reach transmission within this time. */
  handshakeTimeoutMs: number;
}

export interface ConnectionHost {
  readonly limits: ConnectionLimits;
  readonly logger: NbdLogger;
  readonly blockSizes: BlockSizes;
  /** Called when the connection enters transmission on an export. */
  attach(connection: NbdConnection, entry: ServedExport): void;
  /** Called once the socket is closed and every request has settled. */
  detach(connection: NbdConnection): void;
  /** Counts a connection the server closed because of a violation or limit. */
  refused(): void;
}

type Phase = 'clientFlags' | 'options' | 'transmission' | 'draining' | 'closed';

const ALLOWED_FLAGS: number[] = [];
ALLOWED_FLAGS[P.NBD_CMD_READ] = P.NBD_CMD_FLAG_FUA | P.NBD_CMD_FLAG_DF;
ALLOWED_FLAGS[P.NBD_CMD_WRITE] = P.NBD_CMD_FLAG_FUA;
ALLOWED_FLAGS[P.NBD_CMD_DISC] = P.NBD_CMD_FLAG_FUA;
ALLOWED_FLAGS[P.NBD_CMD_FLUSH] = P.NBD_CMD_FLAG_FUA;
ALLOWED_FLAGS[P.NBD_CMD_TRIM] = P.NBD_CMD_FLAG_FUA;
ALLOWED_FLAGS[P.NBD_CMD_CACHE] = P.NBD_CMD_FLAG_FUA;
ALLOWED_FLAGS[P.NBD_CMD_WRITE_ZEROES] =
  P.NBD_CMD_FLAG_FUA | P.NBD_CMD_FLAG_NO_HOLE | P.NBD_CMD_FLAG_FAST_ZERO;
ALLOWED_FLAGS[P.NBD_CMD_BLOCK_STATUS] = P.NBD_CMD_FLAG_FUA | P.NBD_CMD_FLAG_REQ_ONE;

/** Large READ replies, shared by every connection of the process (bounded). */
const replyPool = new LargeBufferPool();

/** WRITE payloads from this size go to a device's `writeParts` as received (no joining copy). */
const PARTS_MIN_BYTES = 64 * 1024;
/** Extents per BLOCK_STATUS chunk (the spec allows 2^20; clients ask again for the rest). */
const MAX_EXTENTS_PER_REPLY = 65536;
/** A BLOCK_STATUS query looks at most this far; the reply covers less and clients ask again. */
const MAX_BLOCK_STATUS_SPAN_BYTES = 1024 * 1024 * 1024;

/** One parsed request. The cookie is kept as two u32 halves (no BigInt on the hot path). */
class Request {
  constructor(
    readonly type: number,
    readonly flags: number,
    readonly cookieHi: number,
    readonly cookieLo: number,
    readonly offset: number,
    readonly length: number,
    /** Bytes this request holds against maxInFlightBytes. */
    readonly weight: number,
  ) {}

  /** READ: the reply buffer being filled (header, then data). */
  reply: Buffer | null = null;
  /** READ: the reply buffer comes from the large-buffer pool. */
  pooled = false;
}

let nextConnectionId = 1;

/**
 * One client connection: the handshake (through OptionNegotiator), then the transmission phase
 * with pipelined requests answered out of order by cookie. Reading stops while too much is in
 * flight; a protocol violation closes this connection only, with its reason logged.
 */
export class NbdConnection {
  readonly id = nextConnectionId++;
  private phase: Phase = 'clientFlags';
  private readonly input = new ByteQueue();
  private readonly writer: ReplyWriter;
  private readonly slab = new SlabAllocator();
  private readonly negotiator: OptionNegotiator<ServedExport>;
  private clientNoZeroes = false;
  private optionsSeen = 0;
  /** The option whose data we are waiting for. */
  private pendingOption: { option: number; length: number } | null = null;
  /** A WRITE whose payload we are waiting for. */
  private pendingWrite: Request | null = null;
  /** A request whose payload is being received or skipped: counted in flight, not answered. */
  private partialRequest: Request | null = null;
  private pumping = false;
  private ending = false;
  /** Bytes still to discard (an oversized option or WRITE payload), and what to do after. */
  private skipRemaining = 0;
  private afterSkip: (() => void) | null = null;
  private session: Session<ServedExport> | null = null;
  private device: NbdBlockDevice | null = null;
  private counters: CommandCounters | null = null;
  private inFlight = 0;
  private inFlightBytes = 0;
  private readingPaused = false;
  private handshakeTimer: NodeJS.Timeout | null = null;
  private socketClosed = false;
  private detached = false;
  private settledWaiters: Array<() => void> = [];
  /** Largest number of unparsed bytes ever held; tests check it stays bounded. */
  maxBufferedBytes = 0;
  closeReason: string | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly host: ConnectionHost,
    catalog: ExportCatalog<ServedExport>,
  ) {
    this.writer = new ReplyWriter(socket, () => {
      // The backlog may have been only queued bytes, which need no 'drain' event to clear.
      if (this.readingPaused) this.maybeResume();
    });
    this.negotiator = new OptionNegotiator(catalog, host.blockSizes);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (err) => this.onSocketError(err));
    socket.on('close', () => this.onClose());
    socket.on('drain', () => this.maybeResume());
    this.handshakeTimer = setTimeout(() => {
      this.refuse(`no export chosen within ${host.limits.handshakeTimeoutMs} ms`);
    }, host.limits.handshakeTimeoutMs);
    this.handshakeTimer.unref();
    const greeting = Buffer.allocUnsafe(P.GREETING_BYTES);
    greeting.writeBigUInt64BE(P.NBDMAGIC, 0);
    greeting.writeBigUInt64BE(P.IHAVEOPT, 8);
    greeting.writeUInt16BE(P.NBD_FLAG_FIXED_NEWSTYLE | P.NBD_FLAG_NO_ZEROES, 16);
    socket.write(greeting);
  }

  get exportName(): string | undefined {
    return this.session?.export.name;
  }

  get inFlightRequests(): number {
    return this.inFlight;
  }

  /** Resolves once the socket is closed and no request is running on the device. */
  whenSettled(): Promise<void> {
    if (this.detached) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  /**
   * Server shutdown: stop reading, let running requests finish and their replies go out, then
   * close. A connection still haggling is closed at once.
   */
  shutdown(): void {
    if (this.phase === 'clientFlags' || this.phase === 'options') {
      this.closeReason ??= 'server shutting down';
      this.socket.destroy();
      return;
    }
    this.drain('server shutting down');
  }

  /** Closes at once without waiting for requests (used when shutdown takes too long). */
  destroy(reason: string): void {
    this.closeReason ??= reason;
    this.socket.destroy();
  }

  // ---- input ---------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.phase === 'draining' || this.phase === 'closed') return;
    this.input.push(chunk);
    if (this.input.length > this.maxBufferedBytes) this.maxBufferedBytes = this.input.length;
    this.pump();
  }

  /** Parses and dispatches as much buffered input as the limits allow. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      this.pumpLoop();
    } finally {
      this.pumping = false;
    }
  }

  private pumpLoop(): void {
    for (;;) {
      if (this.phase === 'draining' || this.phase === 'closed') return;
      if (this.skipRemaining > 0) {
        this.skipRemaining -= this.input.skip(this.skipRemaining);
        if (this.skipRemaining > 0) return;
        const next = this.afterSkip;
        this.afterSkip = null;
        next?.();
        continue;
      }
      if (this.phase === 'clientFlags') {
        if (this.input.length < P.CLIENT_FLAGS_BYTES) return;
        if (!this.readClientFlags()) return;
      } else if (this.phase === 'options') {
        if (!this.readOption()) return;
      } else if (!this.readRequest()) {
        return;
      }
    }
  }

  private readClientFlags(): boolean {
    const { buffer, offset } = this.input.peek(P.CLIENT_FLAGS_BYTES);
    const flags = buffer.readUInt32BE(offset);
    this.input.skip(P.CLIENT_FLAGS_BYTES);
    const known = P.NBD_FLAG_C_FIXED_NEWSTYLE | P.NBD_FLAG_C_NO_ZEROES;
    if ((flags & ~known) !== 0) {
      this.refuse(`unknown client flags 0x${flags.toString(16)}`);
      return false;
    }
    this.clientNoZeroes = (flags & P.NBD_FLAG_C_NO_ZEROES) !== 0;
    this.phase = 'options';
    return true;
  }

  private readOption(): boolean {
    if (this.pendingOption === null) {
      if (this.input.length < P.OPTION_HEADER_BYTES) return false;
      const { buffer, offset } = this.input.peek(P.OPTION_HEADER_BYTES);
      const magic = buffer.readBigUInt64BE(offset);
      const option = buffer.readUInt32BE(offset + 8);
      const length = buffer.readUInt32BE(offset + 12);
      this.input.skip(P.OPTION_HEADER_BYTES);
      if (magic !== P.IHAVEOPT) {
        this.refuse(`bad option magic 0x${magic.toString(16)}`);
        return false;
      }
      this.optionsSeen += 1;
      if (this.optionsSeen > this.host.limits.maxOptions) {
        this.refuse(`more than ${this.host.limits.maxOptions} options`);
        return false;
      }
      if (length > this.host.limits.maxOptionBytes) {
        // Too long to buffer: discard the data as it arrives, then answer, staying in sync.
        this.skipRemaining = length;
        this.afterSkip = () => this.applyStep(this.negotiator.handleOversized(option, length));
        return true;
      }
      this.pendingOption = { option, length };
    }
    const { option, length } = this.pendingOption;
    if (this.input.length < length) return false;
    const data = this.input.take(length);
    this.pendingOption = null;
    this.applyStep(this.negotiator.handle(option, data, this.clientNoZeroes));
    return this.phase === 'options' || this.phase === 'transmission';
  }

  private applyStep(step: NegotiationStep<ServedExport>): void {
    switch (step.kind) {
      case 'reply':
        for (const buffer of step.out) this.writer.push(buffer);
        return;
      case 'abort':
        for (const buffer of step.out) this.writer.push(buffer);
        this.drain('client sent NBD_OPT_ABORT');
        return;
      case 'close':
        this.refuse(step.reason);
        return;
      case 'transmit':
        for (const buffer of step.out) this.writer.push(buffer);
        this.enterTransmission(step.session);
        return;
    }
  }

  private enterTransmission(session: Session<ServedExport>): void {
    if (this.handshakeTimer !== null) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.session = session;
    this.device = session.export.device;
    this.counters = session.export.counters;
    this.phase = 'transmission';
    this.host.attach(this, session.export);
    this.host.logger.debug(
      {
        conn: this.id,
        export: session.export.name,
        flags: session.transmissionFlags,
        structured: session.structuredReplies,
      },
      'nbd: client entered transmission',
    );
  }

  /** Parses one request if the limits allow it; false when waiting for bytes or capacity. */
  private readRequest(): boolean {
    const limits = this.host.limits;
    if (this.pendingWrite !== null) {
      const request = this.pendingWrite;
      if (this.input.length < request.length) return false;
      this.pendingWrite = null;
      this.partialRequest = null;
      if (request.length >= PARTS_MIN_BYTES && this.device!.writeParts !== undefined) {
        // A large payload spans socket reads: hand the pieces over instead of joining them.
        this.startWrite(request, this.input.takeParts(request.length));
      } else {
        this.startWrite(request, this.input.take(request.length));
      }
      return true;
    }
    if (
      this.inFlight >= limits.maxInFlightRequests ||
      (this.inFlight > 0 && this.inFlightBytes >= limits.maxInFlightBytes) ||
      this.writer.backlogBytes > limits.maxReplyBacklogBytes
    ) {
      this.pauseReading();
      return false;
    }
    if (this.input.length < P.REQUEST_HEADER_BYTES) return false;
    const { buffer, offset } = this.input.peek(P.REQUEST_HEADER_BYTES);
    const magic = buffer.readUInt32BE(offset);
    const flags = buffer.readUInt16BE(offset + 4);
    const type = buffer.readUInt16BE(offset + 6);
    const cookieHi = buffer.readUInt32BE(offset + 8);
    const cookieLo = buffer.readUInt32BE(offset + 12);
    // Offsets above 2^53 lose precision but stay far beyond any export, so range checks hold.
    const position =
      buffer.readUInt32BE(offset + 16) * 0x100000000 + buffer.readUInt32BE(offset + 20);
    const length = buffer.readUInt32BE(offset + 24);
    this.input.skip(P.REQUEST_HEADER_BYTES);
    if (magic !== P.NBD_REQUEST_MAGIC) {
      this.protocolClose(`bad request magic 0x${magic.toString(16)}`);
      return false;
    }
    if (type === P.NBD_CMD_WRITE) {
      if (length > limits.maxPayloadBytes) {
        if (length > limits.maxDiscardBytes) {
          this.protocolClose(`WRITE of ${length} bytes, above the ${limits.maxDiscardBytes} limit`);
          return false;
        }
        const request = new Request(type, flags, cookieHi, cookieLo, position, length, 0);
        this.begin(request);
        this.partialRequest = request;
        this.skipRemaining = length;
        this.afterSkip = () => {
          this.partialRequest = null;
          this.fail(request, P.NBD_EINVAL, `WRITE of ${length} bytes exceeds the maximum`);
        };
        return true;
      }
      const request = new Request(type, flags, cookieHi, cookieLo, position, length, length);
      this.begin(request);
      this.pendingWrite = request;
      this.partialRequest = request;
      return true;
    }
    if (type === P.NBD_CMD_DISC) {
      this.drain('client sent NBD_CMD_DISC');
      return false;
    }
    const weight = type === P.NBD_CMD_READ ? Math.min(length, limits.maxPayloadBytes) : 0;
    const request = new Request(type, flags, cookieHi, cookieLo, position, length, weight);
    this.begin(request);
    this.dispatch(request);
    return true;
  }

  // ---- commands ------------------------------------------------------------------------

  private begin(request: Request): void {
    this.inFlight += 1;
    this.inFlightBytes += request.weight;
    this.counters!.inFlight += 1;
  }

  private dispatch(request: Request): void {
    const session = this.session!;
    const size = session.export.sizeBytes;
    const { type, flags, offset, length } = request;
    const allowed = ALLOWED_FLAGS[type];
    if (allowed === undefined) {
      this.fail(request, P.NBD_EINVAL, `unknown command ${type}`);
      return;
    }
    if ((flags & ~allowed) !== 0) {
      this.fail(
        request,
        P.NBD_EINVAL,
        `flags 0x${flags.toString(16)} not valid for command ${type}`,
      );
      return;
    }
    switch (type) {
      case P.NBD_CMD_READ: {
        if ((flags & P.NBD_CMD_FLAG_DF) !== 0 && !session.structuredReplies) {
          this.fail(request, P.NBD_EINVAL, 'DF flag without structured replies');
        } else if (length > this.host.limits.maxPayloadBytes) {
          this.fail(request, P.NBD_EINVAL, `READ of ${length} bytes exceeds the maximum`);
        } else if (offset + length > size) {
          this.fail(request, P.NBD_EINVAL, 'READ beyond the end of the export');
        } else {
          this.startRead(request);
        }
        return;
      }
      case P.NBD_CMD_FLUSH:
        this.track(request, this.device!.flush());
        return;
      case P.NBD_CMD_TRIM: {
        if (session.export.readOnly) this.fail(request, P.NBD_EPERM, 'export is read-only');
        else if (offset + length > size) this.fail(request, P.NBD_EINVAL, 'TRIM beyond the end');
        else if (length === 0) this.succeed(request);
        else this.track(request, this.device!.trim(offset, length, (flags & 1) !== 0));
        return;
      }
      case P.NBD_CMD_WRITE_ZEROES: {
        const noHole = (flags & P.NBD_CMD_FLAG_NO_HOLE) !== 0;
        if (session.export.readOnly) {
          this.fail(request, P.NBD_EPERM, 'export is read-only');
        } else if (offset + length > size) {
          this.fail(request, P.NBD_ENOSPC, 'WRITE_ZEROES beyond the end');
        } else if ((flags & P.NBD_CMD_FLAG_FAST_ZERO) !== 0 && (noHole || !this.device!.fastZero)) {
          // Answer fast, change nothing: the client will write the zeroes itself.
          this.fail(request, P.NBD_ENOTSUP, 'zeroing is not faster than writing here');
        } else if (length === 0) {
          this.succeed(request);
        } else {
          const fua = (flags & P.NBD_CMD_FLAG_FUA) !== 0;
          this.track(request, this.device!.writeZeroes(offset, length, { noHole, fua }));
        }
        return;
      }
      case P.NBD_CMD_CACHE:
        // A prefetch hint; the devices here have nothing to warm up.
        if (offset + length > size) this.fail(request, P.NBD_EINVAL, 'CACHE beyond the end');
        else this.succeed(request);
        return;
      case P.NBD_CMD_BLOCK_STATUS:
        if (!session.structuredReplies || session.baseAllocationId === 0) {
          this.fail(request, P.NBD_EINVAL, 'no metadata context was selected');
        } else if (length === 0 || offset + length > size) {
          this.fail(request, P.NBD_EINVAL, 'BLOCK_STATUS range is empty or beyond the end');
        } else {
          this.startBlockStatus(request);
        }
        return;
      default:
        // WRITE and DISC never reach dispatch; anything else was rejected above.
        this.fail(request, P.NBD_EINVAL, `unexpected command ${type}`);
    }
  }

  private startWrite(request: Request, payload: Buffer | Buffer[]): void {
    const session = this.session!;
    const { flags, offset, length } = request;
    if ((flags & ~ALLOWED_FLAGS[P.NBD_CMD_WRITE]!) !== 0) {
      this.fail(request, P.NBD_EINVAL, `flags 0x${flags.toString(16)} not valid for WRITE`);
    } else if (session.export.readOnly) {
      this.fail(request, P.NBD_EPERM, 'export is read-only');
    } else if (offset + length > session.export.sizeBytes) {
      this.fail(request, P.NBD_ENOSPC, 'WRITE beyond the end of the export');
    } else if (length === 0) {
      this.succeed(request);
    } else if (Array.isArray(payload)) {
      const fua = (flags & 1) !== 0;
      this.track(
        request,
        payload.length === 1
          ? this.device!.writeAt(offset, payload[0]!, fua)
          : this.device!.writeParts!(offset, payload, fua),
      );
    } else {
      this.track(request, this.device!.writeAt(offset, payload, (flags & 1) !== 0));
    }
  }

  private startRead(request: Request): void {
    const { offset, length } = request;
    if (length === 0) {
      this.succeed(request);
      return;
    }
    // Header and data share one buffer: one region, one write, no copy of the data later.
    const headerBytes = this.session!.structuredReplies
      ? P.STRUCTURED_REPLY_HEADER_BYTES + 8
      : P.SIMPLE_REPLY_HEADER_BYTES;
    const pooled = headerBytes + length > SLAB_ITEM_LIMIT_BYTES;
    const reply = pooled
      ? replyPool.take(headerBytes + length)
      : this.slab.take(headerBytes + length);
    request.reply = reply;
    request.pooled = pooled;
    const device = this.device!;
    let reading: Promise<unknown>;
    try {
      if (device.readInto !== undefined) {
        reading = device.readInto(offset, length, reply, headerBytes);
      } else {
        // readAt may return a buffer the device reuses later, so the data is copied now.
        reading = device.readAt(offset, length).then((data) => {
          if (data.length !== length) throw new Error(`device returned ${data.length} bytes`);
          data.copy(reply, headerBytes);
        });
      }
    } catch (err) {
      reading = Promise.reject(err);
    }
    // Small callbacks over the request alone: this runs for every READ.
    reading.then(
      () => this.readDone(request),
      (err: unknown) => this.readFailed(request, err),
    );
  }

  private readDone(request: Request): void {
    const reply = request.reply!;
    if (this.session!.structuredReplies) {
      writeStructuredHeader(
        reply,
        0,
        P.NBD_REPLY_FLAG_DONE,
        P.NBD_REPLY_TYPE_OFFSET_DATA,
        request,
        8 + request.length,
      );
      reply.writeUInt32BE(Math.floor(request.offset / 0x100000000), 20);
      reply.writeUInt32BE(request.offset >>> 0, 24);
    } else {
      writeSimpleHeader(reply, 0, 0, request);
    }
    request.reply = null;
    this.complete(request, reply, true, request.pooled ? () => replyPool.give(reply) : undefined);
  }

  private readFailed(request: Request, err: unknown): void {
    // Nothing was sent from the reply buffer, and the device is done with it.
    if (request.pooled) replyPool.give(request.reply!);
    request.reply = null;
    this.deviceFailed(request, err);
  }

  private startBlockStatus(request: Request): void {
    const device = this.device!;
    const { offset, flags } = request;
    const span = Math.min(request.length, MAX_BLOCK_STATUS_SPAN_BYTES);
    const reqOne = (flags & P.NBD_CMD_FLAG_REQ_ONE) !== 0;
    if (device.extents === undefined) {
      // Nothing known: one allocated extent is always a safe answer.
      this.sendBlockStatus(request, [span, 0]);
      return;
    }
    let lookup: Promise<Array<{ length: number; hole: boolean; zero: boolean }>>;
    try {
      lookup = device.extents(offset, span);
    } catch (err) {
      lookup = Promise.reject(err);
    }
    lookup.then(
      (extents) => {
        // Turn device extents into descriptors: merged, non-empty, within the span.
        const descriptors: number[] = [];
        let covered = 0;
        for (const extent of extents) {
          if (covered >= span || descriptors.length / 2 >= MAX_EXTENTS_PER_REPLY) break;
          const extentLength = Math.min(Math.floor(extent.length), span - covered);
          if (!(extentLength > 0)) continue;
          const status =
            (extent.hole ? P.NBD_STATE_HOLE : 0) | (extent.zero ? P.NBD_STATE_ZERO : 0);
          const last = descriptors.length - 2;
          if (last >= 0 && descriptors[last + 1] === status) descriptors[last]! += extentLength;
          else descriptors.push(extentLength, status);
          covered += extentLength;
          if (reqOne) break;
        }
        if (descriptors.length === 0) descriptors.push(span, 0);
        if (reqOne) descriptors.length = 2;
        this.sendBlockStatus(request, descriptors);
      },
      (err: unknown) => this.deviceFailed(request, err),
    );
  }

  /** `descriptors` alternates extent length and status flags. */
  private sendBlockStatus(request: Request, descriptors: number[]): void {
    const payloadBytes = 4 + descriptors.length * 4;
    const reply = this.slab.take(P.STRUCTURED_REPLY_HEADER_BYTES + payloadBytes);
    writeStructuredHeader(
      reply,
      0,
      P.NBD_REPLY_FLAG_DONE,
      P.NBD_REPLY_TYPE_BLOCK_STATUS,
      request,
      payloadBytes,
    );
    reply.writeUInt32BE(this.session!.baseAllocationId, P.STRUCTURED_REPLY_HEADER_BYTES);
    let position = P.STRUCTURED_REPLY_HEADER_BYTES + 4;
    for (const value of descriptors) {
      reply.writeUInt32BE(value, position);
      position += 4;
    }
    this.complete(request, reply, true);
  }

  private track(request: Request, operation: Promise<void>): void {
    operation.then(
      () => this.succeed(request),
      (err: unknown) => this.deviceFailed(request, err),
    );
  }

  private succeed(request: Request): void {
    if (request.type === P.NBD_CMD_READ && this.session!.structuredReplies) {
      // A zero-length READ: structured replies MUST be used for READ, so send NONE + DONE.
      const reply = this.slab.take(P.STRUCTURED_REPLY_HEADER_BYTES);
      writeStructuredHeader(reply, 0, P.NBD_REPLY_FLAG_DONE, P.NBD_REPLY_TYPE_NONE, request, 0);
      this.complete(request, reply, true);
      return;
    }
    // Replies without payload may be simple even when structured replies were negotiated.
    const reply = this.slab.take(P.SIMPLE_REPLY_HEADER_BYTES);
    writeSimpleHeader(reply, 0, 0, request);
    this.complete(request, reply, true);
  }

  private deviceFailed(request: Request, err: unknown): void {
    const code = nbdErrorFor(err);
    this.host.logger.warn(
      {
        conn: this.id,
        export: this.session?.export.name,
        command: request.type,
        offset: request.offset,
        length: request.length,
        nbdError: code,
        err: errorMessage(err),
      },
      'nbd: device error',
    );
    this.fail(request, code, errorMessage(err));
  }

  private fail(request: Request, code: number, message: string): void {
    let reply: Buffer;
    if (this.session!.structuredReplies) {
      // An error chunk can carry a message for the user.
      const text = Buffer.from(message.slice(0, 512), 'utf8');
      reply = Buffer.allocUnsafe(P.STRUCTURED_REPLY_HEADER_BYTES + 6 + text.length);
      writeStructuredHeader(
        reply,
        0,
        P.NBD_REPLY_FLAG_DONE,
        P.NBD_REPLY_TYPE_ERROR,
        request,
        6 + text.length,
      );
      reply.writeUInt32BE(code, P.STRUCTURED_REPLY_HEADER_BYTES);
      reply.writeUInt16BE(text.length, P.STRUCTURED_REPLY_HEADER_BYTES + 4);
      text.copy(reply, P.STRUCTURED_REPLY_HEADER_BYTES + 6);
    } else {
      reply = this.slab.take(P.SIMPLE_REPLY_HEADER_BYTES);
      writeSimpleHeader(reply, 0, code, request);
    }
    this.complete(request, reply, false);
  }

  private complete(
    request: Request,
    reply: Buffer | null,
    ok: boolean,
    onWritten?: () => void,
  ): void {
    const counters = this.counters!;
    const slot = CommandCounters.slot(request.type);
    counters.ops[slot]! += 1;
    if (ok) {
      if (request.type !== P.NBD_CMD_FLUSH && request.type !== P.NBD_CMD_CACHE) {
        if (request.type !== P.NBD_CMD_BLOCK_STATUS) counters.bytes[slot]! += request.length;
      }
    } else {
      counters.errors[slot]! += 1;
    }
    counters.inFlight -= 1;
    this.inFlight -= 1;
    this.inFlightBytes -= request.weight;
    if (reply !== null && !this.socketClosed) this.writer.push(reply, onWritten);
    else onWritten?.();
    if (this.phase === 'draining') this.maybeFinishDrain();
    else this.maybeResume();
    if (this.socketClosed && this.inFlight === 0) this.settle();
  }

  // ---- flow control and closing --------------------------------------------------------

  private pauseReading(): void {
    if (this.readingPaused) return;
    this.readingPaused = true;
    this.socket.pause();
  }

  private maybeResume(): void {
    if (this.phase !== 'transmission') return;
    const limits = this.host.limits;
    if (
      this.inFlight >= limits.maxInFlightRequests ||
      (this.inFlight > 0 && this.inFlightBytes >= limits.maxInFlightBytes) ||
      this.writer.backlogBytes > limits.maxReplyBacklogBytes
    ) {
      return;
    }
    if (this.readingPaused) {
      this.readingPaused = false;
      this.socket.resume();
      // Requests may already be buffered: parse them now rather than wait for more input.
      this.pump();
    }
  }

  /** Stops reading; once every request has been answered, flushes and closes. */
  private drain(reason: string): void {
    if (this.phase === 'draining' || this.phase === 'closed') return;
    this.closeReason ??= reason;
    this.phase = 'draining';
    if (this.handshakeTimer !== null) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.input.clear();
    this.pendingWrite = null;
    this.skipRemaining = 0;
    this.afterSkip = null;
    const partial = this.partialRequest;
    this.partialRequest = null;
    // Its payload will never arrive: count it as failed, with no reply to send.
    if (partial !== null) this.complete(partial, null, false);
    this.pauseReading();
    this.maybeFinishDrain();
  }

  private maybeFinishDrain(): void {
    if (this.inFlight > 0 || this.socketClosed || this.ending) return;
    this.ending = true;
    this.writer.flush();
    // end() sends what is queued, then FIN; destroy once it is all handed to the kernel.
    this.socket.end(() => this.socket.destroy());
  }

  /** A violation during transmission: answer what is running, then close. */
  private protocolClose(reason: string): void {
    this.host.refused();
    this.host.logger.warn({ conn: this.id, reason }, `nbd: closing connection: ${reason}`);
    this.drain(reason);
  }

  /** A violation during the handshake: nothing is running, so hard-disconnect now. */
  private refuse(reason: string): void {
    if (this.phase === 'closed' || this.phase === 'draining') return;
    this.host.refused();
    this.host.logger.warn({ conn: this.id, reason }, `nbd: closing connection: ${reason}`);
    this.closeReason ??= reason;
    this.input.clear();
    this.phase = 'draining';
    this.writer.close();
    this.socket.destroy();
  }

  private onEnd(): void {
    // The client shut down its side: answer what was asked, then close ours.
    this.drain('client closed its side');
  }

  private onSocketError(err: Error): void {
    this.host.logger.debug({ conn: this.id, err: err.message }, 'nbd: socket error');
  }

  private onClose(): void {
    this.socketClosed = true;
    this.phase = 'closed';
    this.closeReason ??= 'socket closed';
    if (this.handshakeTimer !== null) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.writer.close();
    this.input.clear();
    this.pendingWrite = null;
    this.skipRemaining = 0;
    this.afterSkip = null;
    const partial = this.partialRequest;
    this.partialRequest = null;
    if (partial !== null) this.complete(partial, null, false);
    if (this.inFlight === 0) this.settle();
  }

  private settle(): void {
    if (this.detached) return;
    this.detached = true;
    this.host.detach(this);
    for (const resolve of this.settledWaiters) resolve();
    this.settledWaiters = [];
  }
}

function writeSimpleHeader(buffer: Buffer, at: number, error: number, request: Request): void {
  buffer.writeUInt32BE(P.NBD_SIMPLE_REPLY_MAGIC, at);
  buffer.writeUInt32BE(error, at + 4);
  buffer.writeUInt32BE(request.cookieHi, at + 8);
  buffer.writeUInt32BE(request.cookieLo, at + 12);
}

function writeStructuredHeader(
  buffer: Buffer,
  at: number,
  flags: number,
  type: number,
  request: Request,
  length: number,
): void {
  buffer.writeUInt32BE(P.NBD_STRUCTURED_REPLY_MAGIC, at);
  buffer.writeUInt16BE(flags, at + 4);
  buffer.writeUInt16BE(type, at + 6);
  buffer.writeUInt32BE(request.cookieHi, at + 8);
  buffer.writeUInt32BE(request.cookieLo, at + 12);
  buffer.writeUInt32BE(length, at + 16);
}
