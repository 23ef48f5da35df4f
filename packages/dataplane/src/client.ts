import { randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { BallastError, type Logger } from '@ballast/common';
import {
  DEFAULT_MAX_FRAME_BYTES,
  FrameDecoder,
  FrameError,
  FrameType,
  ballast,
  createRegistry,
  type Frame,
} from '@ballast/proto';
import {
  CLIENT_NONCE_BYTES,
  MAX_ID_CHARS,
  NONCE_BYTES,
  PROTOCOL_VERSION,
  helloMac,
  secretBytes,
  verifyServerProofMac,
} from './auth.js';
import { BufferPool } from './buffer-pool.js';
import { FrameWriter, payloadLength } from './frame-writer.js';
import { encodeFlushRequest, encodeReadRequest, encodeWriteRequest } from './headers.js';
import { normaliseChunkMap, type ChunkCopy, type ChunkMapResult } from '@ballast/session';
import { DataPlaneError, StatusCode } from './status.js';
import { checkClientTls, isCertificateError, type DataPlaneClientTlsOptions } from './tls.js';

const dp = ballast.dataplane;
const registry = createRegistry();
const HELLO_MAX_FRAME_BYTES = 8 * 1024;
const EMPTY = Buffer.alloc(0);
/**
 * Large read answers for `readInto` are assembled in recycled buffers (shared by every client
 * of the process, bounded): the data is copied to the caller's buffer and the frame is given
 * back at once, so a fresh megabyte's page faults are not paid per read.
 */
const readPool = new BufferPool({ maxPooledBytes: 64 * 1024 * 1024 });
const ignore = (): void => undefined;
/** A batch held back for answers is sent anyway once it holds this much. */
const HOLD_MAX_BATCH_BYTES = 64 * 1024;

export interface DataPlaneClientOptions {
  host: string;
  port: number;
  clusterId: string;
  /** Who this client is (agent or node id); part of the mac and of the node's logs. */
  clientId: string;
  /** The cluster secret. Required unless insecureNoAuth is set (then any mac is sent). */
  secret?: string | Uint8Array;
  insecureNoAuth?: boolean;
  /** Refuse the connection when the node announces another id (addresses are not ids). */
  expectedNodeId?: string;
  /** Connect over TLS and verify the node's certificate against `tls.ca`. */
  tls?: DataPlaneClientTlsOptions;
  /** Bound on TCP connect plus the hello exchange. */
  connectTimeoutMs?: number;
  /** A request not answered within this is failed with TIMEOUT (the connection stays). */
  requestTimeoutMs?: number;
  /** Requests on the wire at once; more wait in a local queue, in order. */
  maxInFlightRequests?: number;
  /** Bound on that local queue; past it requests fail at once with RATE_LIMITED. */
  maxQueuedRequests?: number;
  maxFrameBytes?: number;
  /**
   * While writes or trims already sent are unanswered, hold new frames back and send them
   * together when an answer arrives (or after at most `maxHoldMs`): at queue depth one nothing
   * waits, under load a socket write and a wake-up of the node carry many requests instead of
   * one or two. Default true.
   */
  batchWhileBusy?: boolean;
  /** Bound on holding a batch back (default 1 ms). */
  maxHoldMs?: number;
  logger?: Logger;
}

export interface OpenSessionOptions {
  volumeId: string;
  epoch: number;
  /**
   * The incarnation of the node's replica in the cluster map (D17). Left out: 0, which a node
   * that has seen any incarnation of the replica refuses (SUPERSEDED).
   */
  incarnation?: number;
  /** Expected replica size (0 or left out: accept whatever the node has). */
  sizeBytes?: number;
  chunkSizeBytes?: number;
}

export interface WriteOptions {
  /** Durable before the ack (the node flushes after applying the write). */
  fua?: boolean;
}

export interface ZeroOptions {
  fua?: boolean;
  /** Keep the range allocated (WRITE_ZEROES with NO_HOLE). */
  noHole?: boolean;
}

export interface DataPlaneClientStats {
  inFlight: number;
  queued: number;
  requestsSent: number;
  /** Socket writes made (each carries every frame queued during one event-loop turn). */
  socketWrites: number;
  /** Batches held back while earlier requests were unanswered (see batchWhileBusy). */
  heldBatches: number;
  timeouts: number;
  /** Responses that arrived after their request had timed out. */
  lateResponses: number;
}

interface Pending {
  readonly id: number;
  readonly responseType: number;
  /**
   * A write or trim: while one is unanswered, the next batch waits for its answer. Reads do
   * not hold batches back: a node answers them in microseconds, so a read pipeline gains more
   * from keeping the node busy than from fewer, larger batches (measured: holding behind reads
   * cost a third of the random-read rate).
   */
  readonly fast: boolean;
  /** The answer is copied out and dropped at once: assemble it in a recycled buffer. */
  readonly pooled: boolean;
  readonly deadlineMs: number;
  readonly resolve: (frame: Frame) => void;
  readonly reject: (err: Error) => void;
}

interface Queued extends Pending {
  readonly type: number;
  readonly header: Uint8Array;
  readonly payload: Buffer | readonly Buffer[];
}

function validId(id: unknown, what: string): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_CHARS) {
    throw new BallastError('INVALID_ARGUMENT', `${what} must be 1-${MAX_ID_CHARS} characters`);
  }
  return id;
}

function checkOffset(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new BallastError(
      'INVALID_ARGUMENT',
      `${what} must be a non-negative integer, not ${value}`,
    );
  }
}

function statusError(
  status: ballast.dataplane.Status.$Properties | null | undefined,
): DataPlaneError | null {
  const code = status?.code ?? StatusCode.OK;
  if (code === StatusCode.OK) return null;
  return new DataPlaneError(code, status?.message || `request failed with status ${code}`);
}

/**
 * One authenticated connection to a node's data plane. Requests are pipelined with ids; the
 * frames produced in one event-loop turn go out in one socket write (flushed on
 * process.nextTick). Open sessions with `openSession`; every request of a session carries its
 * volume and epoch on the node's side.
 *
 * When the connection is lost every pending request fails with UNAVAILABLE and `closed`
 * resolves with the reason; there is no automatic reconnect (the engine decides what to do).
 */
export class DataPlaneClient {
  readonly nodeId: string;
  readonly clusterId: string;
  /** The connection runs over TLS (the node's certificate was verified). */
  readonly encrypted: boolean;
  /** Resolves once the connection is gone, with the error that ended it (undefined if clean). */
  readonly closed: Promise<Error | undefined>;
  readonly #socket: Socket;
  readonly #writer: FrameWriter;
  readonly #decoder: FrameDecoder;
  readonly #requestTimeoutMs: number;
  readonly #maxFrameBytes: number;
  readonly #maxInFlight: number;
  readonly #maxQueued: number;
  readonly #log: Logger | undefined;
  readonly #pending = new Map<number, Pending>();
  #queue: Queued[] = [];
  #queueHead = 0;
  #nextId = 1;
  #error: Error | undefined;
  #ending = false;
  #closedByClient = false;
  #idleWaiters: Array<() => void> = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #timedOut = new Set<number>();
  #resolveClosed!: (err: Error | undefined) => void;
  #closedDone = false;
  readonly #stats = { requestsSent: 0, timeouts: 0, lateResponses: 0, heldBatches: 0 };
  /** Fast requests handed to the writer and not answered yet. */
  #fastPending = 0;
  /** Of those, the ones still in the writer's queue (not written to the socket). */
  #fastQueued = 0;
  readonly #batchWhileBusy: boolean;
  readonly #maxHoldMs: number;
  #holdTimer: NodeJS.Timeout | undefined;
  readonly #releaseHeld = (): void => this.#writer.release();
  readonly #holdExpired = (): void => {
    this.#holdTimer = undefined;
    this.#writer.release();
  };

  private constructor(
    socket: Socket,
    hello: { nodeId: string; clusterId: string },
    opts: DataPlaneClientOptions,
    leftover: Frame[],
  ) {
    this.#socket = socket;
    this.encrypted = opts.tls !== undefined;
    this.nodeId = hello.nodeId;
    this.clusterId = hello.clusterId;
    this.#requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.#maxInFlight = opts.maxInFlightRequests ?? 1024;
    this.#maxQueued = opts.maxQueuedRequests ?? 65_536;
    this.#log = opts.logger;
    this.#maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.#decoder = new FrameDecoder({
      registry,
      maxFrameBytes: opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      allocate: (n, type, requestId) =>
        n >= readPool.minBytes &&
        type === FrameType.ReadResponse &&
        this.#pending.get(requestId)?.pooled === true
          ? readPool.take(n)
          : undefined,
    });
    this.#batchWhileBusy = opts.batchWhileBusy ?? true;
    this.#maxHoldMs = Math.max(1, opts.maxHoldMs ?? 1);
    this.#writer = new FrameWriter(
      socket,
      () => {
        this.#fastQueued = 0;
        if (this.#holdTimer !== undefined) {
          clearTimeout(this.#holdTimer);
          this.#holdTimer = undefined;
        }
      },
      opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      this.#batchWhileBusy ? () => this.#shouldHold() : undefined,
    );
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => {
      try {
        this.#decoder.end();
      } catch (err) {
        this.#fail(err as Error);
        return;
      }
      this.#fail(new BallastError('UNAVAILABLE', `node ${this.nodeId} closed the connection`));
    });
    socket.on('error', (err) =>
      this.#fail(
        new BallastError(
          'UNAVAILABLE',
          `connection to node ${this.nodeId} failed: ${err.message}`,
          {},
          err,
        ),
      ),
    );
    socket.on('close', () => this.#onClosed());
    const sweepMs = Math.max(10, Math.min(1000, Math.floor(this.#requestTimeoutMs / 4)));
    this.#timer = setInterval(() => this.#sweep(), sweepMs);
    this.#timer.unref();
    if (leftover.length > 0) {
      this.#fail(new BallastError('PROTOCOL', 'node sent frames before any request'));
    }
  }

  /** Connects, checks who the node is, authenticates. Fails within connectTimeoutMs. */
  static async connect(opts: DataPlaneClientOptions): Promise<DataPlaneClient> {
    const clientId = validId(opts.clientId, 'client id');
    const secret =
      opts.secret !== undefined && opts.secret !== '' ? secretBytes(opts.secret) : null;
    if (secret === null && opts.insecureNoAuth !== true) {
      throw new BallastError('CONFIG', 'the data-plane client needs the cluster secret');
    }
    const tls = opts.tls;
    if (tls !== undefined) checkClientTls(tls);
    const timeoutMs = opts.connectTimeoutMs ?? 5_000;
    const socket: Socket =
      tls === undefined
        ? netConnect({ host: opts.host, port: opts.port })
        : tlsConnect({
            host: opts.host,
            port: opts.port,
            ca: tls.ca,
            ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
            ...(tls.key !== undefined ? { key: tls.key } : {}),
            ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
            rejectUnauthorized: true,
          });
    // Frames are batched per event-loop turn already; Nagle would only add delayed-ACK stalls.
    socket.setNoDelay(true);
    const where = `${opts.host}:${opts.port}`;
    // Our nonce: the node must answer with a mac over it, or it does not know the secret.
    const clientNonce = secret === null ? undefined : randomBytes(CLIENT_NONCE_BYTES);
    const decoder = new FrameDecoder({ registry, maxFrameBytes: HELLO_MAX_FRAME_BYTES });
    let stage: 'server_hello' | 'hello_response' = 'server_hello';
    let hello: { nodeId: string; clusterId: string } | undefined;
    let serverNonce: Uint8Array | undefined;
    try {
      const leftover = await new Promise<Frame[]>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(
            new BallastError(
              'TIMEOUT',
              tls === undefined
                ? `no data-plane hello from ${where} within ${timeoutMs} ms (does the node expect TLS?)`
                : `no data-plane hello from ${where} over TLS within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          socket.off('data', onData);
          socket.off('error', onError);
          socket.off('close', onClose);
        };
        const onError = (err: Error): void => {
          cleanup();
          if (tls !== undefined && isCertificateError(err)) {
            reject(
              new BallastError(
                'UNAUTHORIZED',
                `data plane ${where}: the node's TLS certificate is not trusted: ${err.message}`,
                {},
                err,
              ),
            );
            return;
          }
          reject(
            new BallastError(
              'UNAVAILABLE',
              `cannot connect to data plane ${where}${tls !== undefined ? ' over TLS' : ''}: ${err.message}`,
              {},
              err,
            ),
          );
        };
        const onClose = (): void => {
          cleanup();
          reject(
            new BallastError(
              'UNAVAILABLE',
              `data plane ${where} closed the connection during the hello${
                tls === undefined ? ' (does the node expect TLS?)' : ''
              }`,
            ),
          );
        };
        const onData = (chunk: Buffer): void => {
          let frames: Frame[];
          try {
            frames = decoder.push(chunk);
          } catch (err) {
            cleanup();
            reject(err);
            return;
          }
          while (frames.length > 0) {
            const frame = frames.shift()!;
            if (frame.type === FrameType.ErrorNotice) {
              cleanup();
              const notice = frame.header as ballast.dataplane.ErrorNotice;
              reject(
                statusError(notice.status) ?? new BallastError('PROTOCOL', 'empty ErrorNotice'),
              );
              return;
            }
            if (stage === 'server_hello') {
              if (frame.type !== FrameType.ServerHello) {
                cleanup();
                reject(
                  new BallastError(
                    'PROTOCOL',
                    `expected ServerHello from ${where}, got ${registry.name(frame.type)}`,
                  ),
                );
                return;
              }
              const sh = frame.header as ballast.dataplane.ServerHello;
              const problem =
                sh.protocolVersion !== PROTOCOL_VERSION
                  ? `node speaks protocol ${sh.protocolVersion}, this client ${PROTOCOL_VERSION}`
                  : // A nonce of any other length could be chosen to alias our mac with a
                    // node's proof (see README): real nodes always send 32 bytes.
                    secret !== null && sh.nonce.length !== NONCE_BYTES
                    ? `node sent a ${sh.nonce.length}-byte nonce, not ${NONCE_BYTES}`
                    : sh.clusterId !== opts.clusterId
                      ? `node belongs to cluster ${sh.clusterId}, not ${opts.clusterId}`
                      : opts.expectedNodeId !== undefined && sh.nodeId !== opts.expectedNodeId
                        ? `expected node ${opts.expectedNodeId} at ${where}, found ${sh.nodeId}`
                        : null;
              if (problem !== null) {
                cleanup();
                reject(new BallastError('CONFLICT', problem));
                return;
              }
              hello = { nodeId: sh.nodeId, clusterId: sh.clusterId };
              serverNonce = sh.nonce;
              const mac = secret === null ? Buffer.alloc(32) : helloMac(secret, sh.nonce, clientId);
              const writer = new FrameWriter(socket);
              writer.pushFrame(
                FrameType.ClientHello,
                0,
                dp.ClientHello.encode({
                  protocolVersion: PROTOCOL_VERSION,
                  clusterId: opts.clusterId,
                  clientId,
                  mac,
                  ...(clientNonce !== undefined ? { clientNonce } : {}),
                }).finish(),
              );
              writer.flush();
              stage = 'hello_response';
            } else {
              if (frame.type !== FrameType.HelloResponse) {
                cleanup();
                reject(
                  new BallastError(
                    'PROTOCOL',
                    `expected HelloResponse, got ${registry.name(frame.type)}`,
                  ),
                );
                return;
              }
              const response = frame.header as ballast.dataplane.HelloResponse;
              const err = statusError(response.status);
              cleanup();
              if (err !== null) reject(err);
              else if (
                secret !== null &&
                !verifyServerProofMac(
                  secret,
                  clientNonce!,
                  hello!.nodeId,
                  serverNonce!,
                  response.serverMac,
                )
              )
                reject(
                  new BallastError(
                    'UNAUTHORIZED',
                    `data plane ${where} (node ${hello!.nodeId}) did not prove it knows the cluster secret: ${
                      response.serverMac?.length ? 'wrong' : 'no'
                    } server mac`,
                  ),
                );
              else if (decoder.bufferedBytes > 0)
                reject(
                  new BallastError('PROTOCOL', 'node sent a partial frame after HelloResponse'),
                );
              else resolve(frames);
              return;
            }
          }
        };
        socket.on('data', onData);
        socket.once('error', onError);
        socket.once('close', onClose);
      });
      return new DataPlaneClient(socket, hello!, opts, leftover);
    } catch (err) {
      socket.destroy();
      throw err;
    }
  }

  get isOpen(): boolean {
    return this.#error === undefined && !this.#ending;
  }

  stats(): DataPlaneClientStats {
    return {
      inFlight: this.#pending.size,
      queued: this.#queue.length - this.#queueHead,
      requestsSent: this.#stats.requestsSent,
      socketWrites: this.#writer.flushes,
      heldBatches: this.#stats.heldBatches,
      timeouts: this.#stats.timeouts,
      lateResponses: this.#stats.lateResponses,
    };
  }

  /**
   * Opens a session on the node's replica of `volumeId` under (epoch, incarnation): FENCED when
   * the node holds a newer epoch, SUPERSEDED when it holds a newer incarnation.
   */
  async openSession(opts: OpenSessionOptions): Promise<ClientSession> {
    const volumeId = validId(opts.volumeId, 'volume id');
    const incarnation = opts.incarnation ?? 0;
    checkOffset(opts.epoch, 'epoch');
    checkOffset(incarnation, 'incarnation');
    checkOffset(opts.sizeBytes ?? 0, 'sizeBytes');
    checkOffset(opts.chunkSizeBytes ?? 0, 'chunkSizeBytes');
    const frame = await this.request(
      FrameType.OpenSession,
      dp.OpenSession.encode({
        volumeId,
        epoch: opts.epoch,
        incarnation,
        sizeBytes: opts.sizeBytes ?? 0,
        chunkSizeBytes: opts.chunkSizeBytes ?? 0,
      }).finish(),
    );
    const r = frame.header as ballast.dataplane.OpenSessionResponse;
    return new ClientSession(this, {
      id: r.sessionId,
      volumeId,
      epoch: opts.epoch,
      incarnation,
      sizeBytes: r.sizeBytes,
      chunkSizeBytes: r.chunkSizeBytes,
      blockSizeBytes: r.blockSizeBytes,
      highestEpoch: r.highestEpoch,
    });
  }

  /** Chunk map of a volume's replica without a session (rebuild sources). */
  async getChunkMap(volumeId: string): Promise<ChunkMapResult> {
    return this._chunkMap(0, validId(volumeId, 'volume id'));
  }

  /** One chunk of a volume's replica without a session (rebuild sources). */
  async readChunk(volumeId: string, index: number): Promise<ChunkCopy> {
    return this._readChunk(0, validId(volumeId, 'volume id'), index);
  }

  /** @internal */
  async _chunkMap(sessionId: number, volumeId: string): Promise<ChunkMapResult> {
    const frame = await this.request(
      FrameType.GetChunkMap,
      dp.GetChunkMapRequest.encode({ sessionId, volumeId }).finish(),
    );
    const r = frame.header as ballast.dataplane.GetChunkMapResponse;
    const chunks = r.chunks.map((c) => ({
      index: c.index ?? 0,
      generation: c.generation ?? 0,
      dirty: c.dirty === true,
      unclean: c.unclean === true,
      hole: c.hole === true,
      ...(c.hasDigest === true ? { digest: c.digest ?? 0 } : {}),
    }));
    // A node that reports `unclean` and `hole` says so (`detailed`); one that does not folds
    // unclean chunks into `dirty`, and the normalised map treats those as possibly unclean.
    return {
      chunkSizeBytes: r.chunkSizeBytes,
      chunks: normaliseChunkMap(chunks, r.detailed === true),
    };
  }

  /** Reads part of snapshot `seq` of a volume's replica without a session. */
  async readSnapshot(
    volumeId: string,
    seq: number,
    offsetBytes: number,
    lengthBytes: number,
  ): Promise<Buffer> {
    return this._readSnapshot(0, validId(volumeId, 'volume id'), seq, offsetBytes, lengthBytes);
  }

  /** @internal */
  async _readSnapshot(
    sessionId: number,
    volumeId: string,
    seq: number,
    offsetBytes: number,
    lengthBytes: number,
  ): Promise<Buffer> {
    checkOffset(seq, 'snapshot seq');
    checkOffset(offsetBytes, 'offset');
    checkOffset(lengthBytes, 'length');
    const frame = await this.request(
      FrameType.ReadSnapshot,
      dp.ReadSnapshotRequest.encode({
        sessionId,
        volumeId,
        seq,
        offset: offsetBytes,
        length: lengthBytes,
      }).finish(),
    );
    return frame.payload;
  }

  /** @internal */
  async _readChunk(sessionId: number, volumeId: string, index: number): Promise<ChunkCopy> {
    checkOffset(index, 'chunk index');
    const frame = await this.request(
      FrameType.ReadChunk,
      dp.ReadChunkRequest.encode({ sessionId, volumeId, index }).finish(),
    );
    const r = frame.header as ballast.dataplane.ReadChunkResponse;
    return { generation: r.generation, data: r.hole ? null : frame.payload };
  }

  /**
   * Sends one request frame and resolves with its response frame (status OK), or rejects with a
   * DataPlaneError for any other status. `payload` is sent by reference: do not change it until
   * the promise settles. The same payload may go to several clients at once (fan-out).
   */
  request(
    type: number,
    header: Uint8Array,
    payload: Buffer | readonly Buffer[] = EMPTY,
    /**
     * @internal Only for `ClientSession.readInto`: the answer may be assembled in a recycled
     * buffer, which it gives back once it has copied the payload out.
     */
    pooledAnswer = false,
  ): Promise<Frame> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#ending) {
      return Promise.reject(
        new BallastError('UNAVAILABLE', `connection to node ${this.nodeId} is closing`),
      );
    }
    const payloadBytes = payloadLength(payload);
    if (12 + header.length + payloadBytes > this.#maxFrameBytes) {
      return Promise.reject(
        new BallastError('TOO_LARGE', `request of ${payloadBytes} bytes does not fit one frame`),
      );
    }
    return new Promise<Frame>((resolve, reject) => {
      const id = this.#takeId();
      const entry: Queued = {
        id,
        type,
        header,
        payload,
        responseType: type + 1,
        fast: type === FrameType.Write || type === FrameType.Trim,
        pooled: pooledAnswer,
        deadlineMs: Date.now() + this.#requestTimeoutMs,
        resolve,
        reject,
      };
      if (this.#pending.size < this.#maxInFlight && this.#queueHead === this.#queue.length) {
        this.#send(entry);
      } else if (this.#queue.length - this.#queueHead >= this.#maxQueued) {
        reject(
          new BallastError(
            'RATE_LIMITED',
            `more than ${this.#maxQueued} requests queued for node ${this.nodeId}`,
          ),
        );
      } else {
        this.#queue.push(entry);
      }
    });
  }

  /** Sends a frame that has no response (CloseSession). */
  notify(type: number, header: Uint8Array): void {
    if (this.#error !== undefined || this.#ending) return;
    this.#writer.pushFrame(type, 0, header);
  }

  /**
   * Clean close: waits for pending requests (each bounded by its timeout), then ends the
   * connection. New requests are refused meanwhile.
   */
  async close(): Promise<void> {
    if (this.#error !== undefined) {
      await this.closed;
      return;
    }
    this.#ending = true;
    if (this.#pending.size > 0 || this.#queueHead < this.#queue.length) {
      await Promise.race([
        new Promise<void>((resolve) => this.#idleWaiters.push(resolve)),
        this.closed,
      ]);
    }
    if (this.#error === undefined) {
      this.#closedByClient = true;
      this.#error = new BallastError(
        'UNAVAILABLE',
        `connection to node ${this.nodeId} closed by client`,
      );
    }
    this.#writer.flush();
    this.#socket.end();
    const timer = setTimeout(() => this.#socket.destroy(), 2000);
    timer.unref();
    await this.closed;
    clearTimeout(timer);
  }

  #onClosed(): void {
    if (this.#closedDone) return;
    this.#closedDone = true;
    this.#fail(new BallastError('UNAVAILABLE', `connection to node ${this.nodeId} lost`));
    if (this.#timer) clearInterval(this.#timer);
    if (this.#holdTimer) clearTimeout(this.#holdTimer);
    this.#writer.close();
    this.#resolveClosed(this.#closedByClient ? undefined : this.#error);
  }

  /** Drops the connection now; pending requests fail with UNAVAILABLE. */
  destroy(): void {
    if (this.#error === undefined) this.#closedByClient = true;
    this.#fail(
      new BallastError('UNAVAILABLE', `connection to node ${this.nodeId} closed by client`),
    );
    this.#socket.destroy();
  }

  /**
   * Drops the connection now and has the kernel discard what it has not sent yet (a reset,
   * SO_LINGER 0): a plain close keeps retransmitting queued requests, which a node cut off for
   * a while would then receive late. This only narrows that window (bytes already on the wire
   * still arrive, and a TLS socket can only be closed): the node's fence is what refuses them.
   */
  reset(): void {
    if (this.#error === undefined) this.#closedByClient = true;
    this.#fail(
      new BallastError('UNAVAILABLE', `connection to node ${this.nodeId} reset by client`),
    );
    const socket = this.#socket;
    // A reset the kernel refuses (the node had already closed its end, which is how a killed
    // node's connection usually ends) is reported as an 'error' and Node then never emits
    // 'close' (seen: a close() after it waited for ever). The connection is gone either way.
    socket.once('error', () => this.#onClosed());
    try {
      if (socket.readableEnded || socket.destroyed) socket.destroy();
      else socket.resetAndDestroy();
    } catch {
      socket.destroy();
    }
  }

  #takeId(): number {
    // Ids wrap at 2^32; skipping those still pending keeps them unique among live requests.
    for (;;) {
      const id = this.#nextId;
      this.#nextId = id >= 0xffffffff ? 1 : id + 1;
      if (!this.#pending.has(id) && !this.#timedOut.has(id)) return id;
    }
  }

  #send(entry: Queued): void {
    this.#pending.set(entry.id, entry);
    this.#stats.requestsSent += 1;
    if (entry.fast) {
      this.#fastPending += 1;
      this.#fastQueued += 1;
    }
    this.#writer.pushFrame(entry.type, entry.id, entry.header, entry.payload);
  }

  /** Asked by the writer at the end of a turn: hold the batch while sent requests are out. */
  #shouldHold(): boolean {
    if (this.#fastPending - this.#fastQueued <= 0) return false;
    // A batch this big costs its copy, not its syscall: send it (large writes are never held).
    if (this.#writer.queuedBytes >= HOLD_MAX_BATCH_BYTES) return false;
    this.#stats.heldBatches += 1;
    // The bound: answers may be slow to come (a node busy with a flush or a dirty mark).
    this.#holdTimer ??= setTimeout(this.#holdExpired, this.#maxHoldMs);
    return true;
  }

  /** A fast request left the pending set (answered, timed out). */
  #fastDone(entry: Pending): void {
    if (!entry.fast) return;
    if (this.#fastPending > 0) this.#fastPending -= 1;
    if (this.#fastQueued > this.#fastPending) this.#fastQueued = this.#fastPending;
  }

  #sendQueued(): void {
    while (this.#pending.size < this.#maxInFlight && this.#queueHead < this.#queue.length) {
      const next = this.#queue[this.#queueHead]!;
      this.#queue[this.#queueHead++] = undefined as unknown as Queued;
      this.#send(next);
    }
    if (this.#queueHead === this.#queue.length) {
      this.#queue = [];
      this.#queueHead = 0;
    }
  }

  #onData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (err) {
      const reason = err instanceof FrameError ? err.reason : 'DECODE';
      this.#log?.warn(
        { node: this.nodeId, reason, message: (err as Error).message },
        'bad frame from node',
      );
      this.#fail(
        new BallastError(
          'PROTOCOL',
          `bad frame from node ${this.nodeId}: ${(err as Error).message}`,
          {},
          err,
        ),
      );
      this.#socket.destroy();
      return;
    }
    for (const frame of frames) {
      if (frame.type === FrameType.ErrorNotice) {
        const notice = frame.header as ballast.dataplane.ErrorNotice;
        const err = statusError(notice.status);
        this.#log?.warn({ node: this.nodeId, status: notice.status }, 'node sent an error notice');
        if (err !== null) this.#error ??= err;
        continue;
      }
      const pending = this.#pending.get(frame.requestId);
      if (pending === undefined) {
        if (this.#timedOut.delete(frame.requestId)) {
          this.#stats.lateResponses += 1;
          continue;
        }
        this.#fail(
          new BallastError(
            'PROTOCOL',
            `node ${this.nodeId} answered unknown request ${frame.requestId}`,
          ),
        );
        this.#socket.destroy();
        return;
      }
      if (frame.type !== pending.responseType) {
        this.#fail(
          new BallastError(
            'PROTOCOL',
            `node ${this.nodeId} answered request ${frame.requestId} with ${registry.name(frame.type)}`,
          ),
        );
        this.#socket.destroy();
        return;
      }
      this.#pending.delete(frame.requestId);
      this.#fastDone(pending);
      const err = statusError(
        (frame.header as { status?: ballast.dataplane.Status.$Properties | null }).status,
      );
      if (err === null) pending.resolve(frame);
      else pending.reject(err);
    }
    this.#sendQueued();
    // Answers came: whatever was held back goes out now (after the callbacks of this turn,
    // which may add to it).
    if (this.#writer.held) process.nextTick(this.#releaseHeld);
    this.#checkIdle();
  }

  #checkIdle(): void {
    if (this.#idleWaiters.length === 0) return;
    if (this.#pending.size > 0 || this.#queueHead < this.#queue.length) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  #sweep(): void {
    const now = Date.now();
    // Pending requests are in send order and share one timeout, so the oldest come first.
    for (const p of this.#pending.values()) {
      if (p.deadlineMs > now) break;
      this.#pending.delete(p.id);
      this.#fastDone(p);
      // Remember the id (bounded by the in-flight limit) so a late answer is not a protocol error.
      if (this.#timedOut.size < this.#maxInFlight * 4) this.#timedOut.add(p.id);
      this.#stats.timeouts += 1;
      p.reject(
        new BallastError(
          'TIMEOUT',
          `node ${this.nodeId} did not answer request ${p.id} within ${this.#requestTimeoutMs} ms`,
        ),
      );
    }
    while (this.#queueHead < this.#queue.length) {
      const q = this.#queue[this.#queueHead]!;
      if (q.deadlineMs > now) break;
      this.#queue[this.#queueHead++] = undefined as unknown as Queued;
      this.#stats.timeouts += 1;
      q.reject(
        new BallastError(
          'TIMEOUT',
          `request to node ${this.nodeId} waited ${this.#requestTimeoutMs} ms in the queue`,
        ),
      );
    }
    this.#sendQueued();
    this.#checkIdle();
  }

  #fail(err: Error): void {
    this.#error ??= err;
    const reason = this.#error;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    this.#fastPending = 0;
    this.#fastQueued = 0;
    const queued = this.#queue.slice(this.#queueHead);
    this.#queue = [];
    this.#queueHead = 0;
    for (const p of pending) p.reject(reason);
    for (const q of queued) q.reject(reason);
    this.#checkIdle();
  }
}

export interface SessionInfo {
  id: number;
  volumeId: string;
  epoch: number;
  incarnation: number;
  sizeBytes: number;
  chunkSizeBytes: number;
  blockSizeBytes: number;
  highestEpoch: number;
}

/** A session on one node's replica of a volume, under one fence (epoch, incarnation). */
export class ClientSession {
  readonly client: DataPlaneClient;
  readonly id: number;
  readonly volumeId: string;
  readonly epoch: number;
  readonly incarnation: number;
  readonly sizeBytes: number;
  readonly chunkSizeBytes: number;
  readonly blockSizeBytes: number;
  readonly highestEpoch: number;

  constructor(client: DataPlaneClient, info: SessionInfo) {
    this.client = client;
    this.id = info.id;
    this.volumeId = info.volumeId;
    this.epoch = info.epoch;
    this.incarnation = info.incarnation;
    this.sizeBytes = info.sizeBytes;
    this.chunkSizeBytes = info.chunkSizeBytes;
    this.blockSizeBytes = info.blockSizeBytes;
    this.highestEpoch = info.highestEpoch;
  }

  async read(offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    checkOffset(offsetBytes, 'offset');
    checkOffset(lengthBytes, 'length');
    const frame = await this.client.request(
      FrameType.Read,
      encodeReadRequest(this.id, offsetBytes, lengthBytes),
    );
    if (frame.payload.length !== lengthBytes) {
      throw new BallastError(
        'PROTOCOL',
        `node ${this.client.nodeId} returned ${frame.payload.length} bytes for a ${lengthBytes}-byte read`,
      );
    }
    return frame.payload;
  }

  /**
   * Reads into `target[targetOffset ..]` (the caller's buffer, e.g. an NBD reply). A large
   * answer is assembled in a recycled buffer and copied once; nothing of it is kept.
   */
  readInto(
    offsetBytes: number,
    lengthBytes: number,
    target: Buffer,
    targetOffset = 0,
  ): Promise<void> {
    // Not async: this runs for every read the engine serves (fewer objects per call).
    try {
      checkOffset(offsetBytes, 'offset');
      checkOffset(lengthBytes, 'length');
      if (targetOffset < 0 || targetOffset + lengthBytes > target.length) {
        throw new BallastError('INVALID_ARGUMENT', 'readInto target is too small');
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return this.client
      .request(FrameType.Read, encodeReadRequest(this.id, offsetBytes, lengthBytes), EMPTY, true)
      .then((frame) => {
        try {
          if (frame.payload.length !== lengthBytes) {
            throw new BallastError(
              'PROTOCOL',
              `node ${this.client.nodeId} returned ${frame.payload.length} bytes for a ${lengthBytes}-byte read`,
            );
          }
          frame.payload.copy(target, targetOffset);
        } finally {
          if (frame.assembledIn !== undefined) readPool.give(frame.assembledIn);
        }
      });
  }

  /**
   * Writes `data` (one buffer, or parts written back to back) at the offset. The bytes are sent
   * as they are, not copied: keep them unchanged until the promise settles (handing the same
   * buffer to N sessions is how to fan out).
   */
  write(
    offsetBytes: number,
    data: Buffer | readonly Buffer[],
    opts: WriteOptions = {},
  ): Promise<void> {
    // Not async: one promise per write instead of three (this is the hot path).
    try {
      checkOffset(offsetBytes, 'offset');
    } catch (err) {
      return Promise.reject(err);
    }
    return this.client
      .request(FrameType.Write, encodeWriteRequest(this.id, offsetBytes, opts.fua === true), data)
      .then(ignore);
  }

  /** Makes every write this session sent before it durable (also those not yet acknowledged). */
  flush(): Promise<void> {
    return this.client.request(FrameType.Flush, encodeFlushRequest(this.id)).then(ignore);
  }

  async trim(offsetBytes: number, lengthBytes: number, opts: WriteOptions = {}): Promise<void> {
    checkOffset(offsetBytes, 'offset');
    checkOffset(lengthBytes, 'length');
    await this.client.request(
      FrameType.Trim,
      dp.TrimRequest.encode({
        sessionId: this.id,
        offset: offsetBytes,
        length: lengthBytes,
        zero: false,
        fua: opts.fua === true,
      }).finish(),
    );
  }

  async zero(offsetBytes: number, lengthBytes: number, opts: ZeroOptions = {}): Promise<void> {
    checkOffset(offsetBytes, 'offset');
    checkOffset(lengthBytes, 'length');
    await this.client.request(
      FrameType.Trim,
      dp.TrimRequest.encode({
        sessionId: this.id,
        offset: offsetBytes,
        length: lengthBytes,
        zero: true,
        noHole: opts.noHole === true,
        fua: opts.fua === true,
      }).finish(),
    );
  }

  getChunkMap(): Promise<ChunkMapResult> {
    return this.client._chunkMap(this.id, '');
  }

  readChunk(index: number): Promise<ChunkCopy> {
    return this.client._readChunk(this.id, '', index);
  }

  /** Takes snapshot `seq` after every mutation this session sent before it. */
  async snapshot(seq: number): Promise<void> {
    checkOffset(seq, 'snapshot seq');
    await this.client.request(
      FrameType.Snapshot,
      dp.SnapshotRequest.encode({ sessionId: this.id, seq }).finish(),
    );
  }

  readSnapshot(seq: number, offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    return this.client._readSnapshot(this.id, '', seq, offsetBytes, lengthBytes);
  }

  /** Installs a whole chunk at a generation (data null: a hole). */
  async writeChunk(index: number, generation: number, data: Buffer | null): Promise<void> {
    checkOffset(index, 'chunk index');
    checkOffset(generation, 'generation');
    await this.client.request(
      FrameType.WriteChunk,
      dp.WriteChunkRequest.encode({
        sessionId: this.id,
        index,
        generation,
        hole: data === null,
      }).finish(),
      data ?? EMPTY,
    );
  }

  /** Ends the session on the node (there is no answer; later requests on it get NO_SESSION). */
  close(): void {
    this.client.notify(
      FrameType.CloseSession,
      dp.CloseSession.encode({ sessionId: this.id }).finish(),
    );
  }
}

/**
 * Fans one write out to several sessions (one per replica) with the same payload buffer: no
 * copy per replica. Resolves with each replica's outcome, in the order of `sessions`.
 */
export function fanOutWrite(
  sessions: readonly ClientSession[],
  offsetBytes: number,
  data: Buffer | readonly Buffer[],
  opts: WriteOptions = {},
): Promise<PromiseSettledResult<void>[]> {
  return Promise.allSettled(sessions.map((s) => s.write(offsetBytes, data, opts)));
}
