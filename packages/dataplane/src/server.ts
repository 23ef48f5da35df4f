import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
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
  PROTOCOL_VERSION,
  newNonce,
  secretBytes,
  serverProofMac,
  verifyHelloMac,
} from './auth.js';
import { BufferPool } from './buffer-pool.js';
import { FrameWriter } from './frame-writer.js';
import { StatusCode, statusFor, statusName } from './status.js';
import { checkServerTls, type DataPlaneServerTlsOptions } from './tls.js';
import { SessionCore, type PeerInfo, type ReplicaStore } from '@ballast/session';

const dp = ballast.dataplane;
const registry = createRegistry();

/** Largest frame accepted before the hello is verified: an unauthenticated peer gets little. */
const HELLO_MAX_FRAME_BYTES = 8 * 1024;
/** Largest request: what NBD clients send at most. */
export const DEFAULT_MAX_IO_BYTES = 32 * 1024 * 1024;

export type DataPlaneOp =
  | 'open'
  | 'read'
  | 'write'
  | 'flush'
  | 'trim'
  | 'zero'
  | 'chunk_map'
  | 'read_chunk'
  | 'write_chunk'
  | 'snapshot'
  | 'read_snapshot';

/** Hooks for metrics; every call is synchronous and must be cheap (it runs per request). */
export interface DataPlaneObserver {
  requestCompleted?(
    op: DataPlaneOp,
    volumeId: string | undefined,
    status: StatusCode,
    bytes: number,
    durationSeconds: number,
  ): void;
  sessionOpened?(volumeId: string): void;
  sessionClosed?(volumeId: string): void;
  /** A connection was refused or closed for cause (bad hello, protocol error, limit). */
  connectionRejected?(reason: string): void;
}

export interface DataPlaneServerOptions<B> {
  /** The node's storage; every session a client opens keeps the session rules over it. */
  store: ReplicaStore<B>;
  clusterId: string;
  nodeId: string;
  /** The cluster secret clients prove they know. Required unless insecureNoAuth is set. */
  secret?: string | Uint8Array;
  /** Development only: accept any client without checking its mac. */
  insecureNoAuth?: boolean;
  /**
   * Serve over TLS with this certificate (the hello and its macs still run inside it). Without
   * it the data plane is plain TCP: authenticated, not encrypted.
   */
  tls?: DataPlaneServerTlsOptions;
  maxConnections?: number;
  /** Requests being served per connection before the server stops reading from it. */
  maxInFlightRequests?: number;
  /** Write payloads plus read lengths in flight per connection before it stops reading. */
  maxInFlightBytes?: number;
  /** Responses waiting for the client to read them, per connection, before it stops reading. */
  maxBacklogBytes?: number;
  maxSessionsPerConnection?: number;
  maxFrameBytes?: number;
  maxIoBytes?: number;
  handshakeTimeoutMs?: number;
  /** How long close() lets running requests finish before dropping connections. */
  closeGraceMs?: number;
  observer?: DataPlaneObserver;
  logger?: Logger;
}

export interface DataPlaneServerStats {
  connections: number;
  connectionsAccepted: number;
  connectionsRejected: number;
  authFailures: number;
  /** TLS handshakes that failed (not TLS, bad or missing client certificate, timeout). */
  tlsFailures: number;
  protocolErrors: number;
  sessions: number;
  requests: number;
  /** Times a connection stopped reading because it hit one of its bounds. */
  readPauses: number;
  /** Connections not being read right now (over a bound). */
  pausedConnections: number;
  /** Responses waiting to be written, summed over connections, right now. */
  backlogBytes: number;
  /** Largest response backlog one connection has held (bytes). */
  maxBacklogBytesSeen: number;
  /** Largest in-flight request bytes one connection has held. */
  maxInFlightBytesSeen: number;
  /** Largest number of decoded frames held back while a connection was over its bounds. */
  maxDeferredFramesSeen: number;
}

interface Settings<B> {
  store: ReplicaStore<B>;
  clusterId: string;
  nodeId: string;
  secret: Buffer | null;
  maxConnections: number;
  maxInFlightRequests: number;
  maxInFlightBytes: number;
  maxBacklogBytes: number;
  maxSessionsPerConnection: number;
  maxFrameBytes: number;
  maxIoBytes: number;
  handshakeTimeoutMs: number;
  closeGraceMs: number;
  observer: DataPlaneObserver | undefined;
  log: Logger | undefined;
  stats: DataPlaneServerStats;
  /** Large READ buffers, recycled once written (shared by the server's connections). */
  pool: BufferPool;
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new BallastError('CONFIG', `${name} must be a positive integer, not ${v}`);
  }
  return v;
}

/**
 * The node's end of the data plane: a TCP listener that authenticates each connection, then
 * serves pipelined session requests through a ReplicaStore. See README.md for the rules.
 */
export class DataPlaneServer<B = unknown> {
  readonly #settings: Settings<B>;
  readonly #server: Server;
  readonly #connections = new Set<ServerConnection<B>>();
  readonly #tls: boolean;
  /** TLS only: every TCP connection, so close() can drop those still in their handshake. */
  readonly #rawSockets = new Set<Socket>();
  #closing = false;

  constructor(options: DataPlaneServerOptions<B>) {
    this.#tls = options.tls !== undefined;
    let secret: Buffer | null = null;
    if (options.secret !== undefined && options.secret !== '') {
      secret = secretBytes(options.secret);
    } else if (options.insecureNoAuth !== true) {
      throw new BallastError(
        'CONFIG',
        'the data plane needs a cluster secret (or the insecure development flag): refusing to serve unauthenticated clients',
      );
    }
    if (!options.clusterId || !options.nodeId) {
      throw new BallastError('CONFIG', 'the data plane needs a cluster id and a node id');
    }
    const maxFrameBytes = positiveInt(
      options.maxFrameBytes,
      DEFAULT_MAX_FRAME_BYTES,
      'maxFrameBytes',
    );
    this.#settings = {
      store: options.store,
      clusterId: options.clusterId,
      nodeId: options.nodeId,
      secret,
      maxConnections: positiveInt(options.maxConnections, 256, 'maxConnections'),
      maxInFlightRequests: positiveInt(options.maxInFlightRequests, 1024, 'maxInFlightRequests'),
      maxInFlightBytes: positiveInt(options.maxInFlightBytes, 64 * 1024 * 1024, 'maxInFlightBytes'),
      maxBacklogBytes: positiveInt(options.maxBacklogBytes, 16 * 1024 * 1024, 'maxBacklogBytes'),
      maxSessionsPerConnection: positiveInt(
        options.maxSessionsPerConnection,
        1024,
        'maxSessionsPerConnection',
      ),
      maxFrameBytes,
      maxIoBytes: Math.min(
        positiveInt(options.maxIoBytes, DEFAULT_MAX_IO_BYTES, 'maxIoBytes'),
        maxFrameBytes - 1024,
      ),
      handshakeTimeoutMs: positiveInt(options.handshakeTimeoutMs, 10_000, 'handshakeTimeoutMs'),
      closeGraceMs: positiveInt(options.closeGraceMs, 5_000, 'closeGraceMs'),
      observer: options.observer,
      log: options.logger,
      pool: new BufferPool(),
      stats: {
        connections: 0,
        connectionsAccepted: 0,
        connectionsRejected: 0,
        authFailures: 0,
        tlsFailures: 0,
        protocolErrors: 0,
        sessions: 0,
        requests: 0,
        readPauses: 0,
        pausedConnections: 0,
        backlogBytes: 0,
        maxBacklogBytesSeen: 0,
        maxInFlightBytesSeen: 0,
        maxDeferredFramesSeen: 0,
      },
    };
    if (secret === null) {
      this.#settings.log?.warn(
        'data plane runs WITHOUT authentication (insecure development mode)',
      );
    }
    // allowHalfOpen: a client that has sent everything and shut its side still gets every
    // answer; the server ends its side itself once they are out.
    const tls = options.tls;
    if (tls === undefined) {
      this.#server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) =>
        this.#accept(socket),
      );
    } else {
      checkServerTls(tls);
      const requestCert = tls.requestCert === true;
      const server = createTlsServer(
        {
          cert: tls.cert,
          key: tls.key,
          ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
          requestCert,
          rejectUnauthorized: requestCert,
          handshakeTimeout: this.#settings.handshakeTimeoutMs,
          noDelay: true,
          allowHalfOpen: true,
        },
        (socket: TLSSocket) => this.#accept(socket),
      );
      // Connections still in their TLS handshake are not in #connections: bound them at the
      // listener (past it the kernel connection is closed at once), and count the failures.
      server.maxConnections = 2 * this.#settings.maxConnections;
      server.on('connection', (raw: Socket) => {
        this.#rawSockets.add(raw);
        raw.once('close', () => this.#rawSockets.delete(raw));
      });
      server.on('tlsClientError', (err, socket) => {
        this.#settings.stats.tlsFailures += 1;
        this.#settings.observer?.connectionRejected?.('tls');
        this.#settings.log?.debug(
          { remote: socket.remoteAddress, err: err.message },
          'data-plane TLS handshake failed',
        );
        // Node leaves the socket open on some failures (a handshake timeout): drop it.
        socket.destroy();
      });
      this.#server = server;
    }
  }

  /** True when the server speaks TLS. */
  get tls(): boolean {
    return this.#tls;
  }

  /** Starts listening; port 0 picks a free port. Resolves with the bound address. */
  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.#server.once('error', onError);
      this.#server.listen(port, host, () => {
        this.#server.off('error', onError);
        this.#server.on('error', (err) =>
          this.#settings.log?.error({ err }, 'data-plane listener error'),
        );
        resolve(this.address);
      });
    });
  }

  get address(): { host: string; port: number } {
    const addr = this.#server.address() as AddressInfo | null;
    if (addr === null)
      throw new BallastError('UNAVAILABLE', 'the data-plane server is not listening');
    return { host: addr.address, port: addr.port };
  }

  stats(): DataPlaneServerStats {
    let sessions = 0;
    let pausedConnections = 0;
    let backlogBytes = 0;
    for (const c of this.#connections) {
      sessions += c.sessionCount;
      if (c.paused) pausedConnections += 1;
      backlogBytes += c.backlogBytes;
    }
    return {
      ...this.#settings.stats,
      connections: this.#connections.size,
      sessions,
      pausedConnections,
      backlogBytes,
    };
  }

  /**
   * Stops accepting connections, answers new requests with SHUTTING_DOWN, lets running ones
   * finish (up to closeGraceMs), then closes every connection.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    const listenerClosed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await Promise.all([...this.#connections].map((c) => c.shutdown(this.#settings.closeGraceMs)));
    // What is left are TLS handshakes that never finished: the listener would wait for them.
    for (const raw of this.#rawSockets) raw.destroy();
    await listenerClosed;
  }

  #accept(socket: Socket): void {
    const s = this.#settings;
    if (this.#closing || this.#connections.size >= s.maxConnections) {
      s.stats.connectionsRejected += 1;
      const reason = this.#closing
        ? 'shutting down'
        : `connection limit ${s.maxConnections} reached`;
      s.log?.warn({ remote: socket.remoteAddress, reason }, 'refusing data-plane connection');
      s.observer?.connectionRejected?.('limit');
      const header = dp.ErrorNotice.encode({
        status: {
          code: this.#closing ? StatusCode.SHUTTING_DOWN : StatusCode.OVERLOADED,
          message: reason,
        },
      }).finish();
      socket.on('error', () => undefined);
      const writer = new FrameWriter(socket);
      writer.pushFrame(FrameType.ErrorNotice, 0, header);
      writer.closeAfterFlush();
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    s.stats.connectionsAccepted += 1;
    const conn = new ServerConnection(s, socket, () => this.#connections.delete(conn));
    this.#connections.add(conn);
  }
}

interface ServerSession<B> {
  readonly id: number;
  readonly volumeId: string;
  /** The session rules (the fence re-checked on every request, flush covering mutations). */
  readonly core: SessionCore<B>;
}

interface Request {
  readonly type: number;
  readonly id: number;
  readonly cost: number;
  readonly startedMs: number;
  op: DataPlaneOp;
  volumeId: string | undefined;
  bytes: number;
}

type State = 'hello' | 'open' | 'draining' | 'closing' | 'closed';

const OK_STATUS = { code: StatusCode.OK, message: '' };
/** Header of every OK response that carries nothing but the status (field 1 of all responses). */
const OK_HEADER = dp.WriteResponse.encode({ status: OK_STATUS }).finish();

function errorHeader(code: StatusCode, message: string): Uint8Array {
  // Every response message has `Status status = 1`, so one encoding serves them all.
  return dp.WriteResponse.encode({ status: { code, message } }).finish();
}

function isOffset(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function callAsync(fn: () => Promise<void>): Promise<void> {
  try {
    return fn();
  } catch (err) {
    return Promise.reject(err);
  }
}

class ServerConnection<B> {
  readonly #s: Settings<B>;
  readonly #socket: Socket;
  readonly #writer: FrameWriter;
  readonly #onClosed: () => void;
  readonly #remote: string;
  readonly #nonce = newNonce();
  #decoder: FrameDecoder;
  #state: State = 'hello';
  #peer: PeerInfo | undefined;
  readonly #sessions = new Map<number, ServerSession<B>>();
  #openingSessions = 0;
  #nextSessionId = 1;
  #inFlight = 0;
  #inFlightBytes = 0;
  #deferred: Frame[] = [];
  #deferredHead = 0;
  #paused = false;
  #dispatching = false;
  /** Server shutdown: requests not yet dispatched are answered SHUTTING_DOWN. */
  #refuseNew = false;
  #lastRefusalLogMs = 0;
  #suppressedRefusals = 0;
  #handshakeTimer: NodeJS.Timeout | undefined;
  #destroyTimer: NodeJS.Timeout | undefined;
  readonly #closed: Promise<void>;

  constructor(settings: Settings<B>, socket: Socket, onClosed: () => void) {
    this.#s = settings;
    this.#socket = socket;
    this.#onClosed = onClosed;
    this.#remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.#decoder = new FrameDecoder({ registry, maxFrameBytes: HELLO_MAX_FRAME_BYTES });
    this.#writer = new FrameWriter(socket, () => this.#pump(), settings.maxFrameBytes);
    this.#closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('drain', () => this.#pump());
    socket.on('error', (err) => {
      settings.log?.debug({ remote: this.#remote, err: err.message }, 'data-plane socket error');
    });
    socket.on('close', () => this.#onClose());
    this.#handshakeTimer = setTimeout(
      () =>
        this.#reject(
          'handshake_timeout',
          StatusCode.UNAUTHENTICATED,
          'no valid ClientHello in time',
        ),
      settings.handshakeTimeoutMs,
    );
    this.#handshakeTimer.unref();
    const hello = dp.ServerHello.encode({
      protocolVersion: PROTOCOL_VERSION,
      clusterId: settings.clusterId,
      nodeId: settings.nodeId,
      nonce: this.#nonce,
    }).finish();
    this.#writer.pushFrame(FrameType.ServerHello, 0, hello);
  }

  /** Re-reads the state (TypeScript would otherwise keep a narrowing across calls). */
  #ended(): boolean {
    return this.#state === 'closing' || this.#state === 'closed';
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get backlogBytes(): number {
    return this.#writer.backlogBytes;
  }

  // ---------------------------------------------------------------------------------------
  // Input and flow control

  #onData(chunk: Buffer): void {
    if (this.#ended()) return;
    let frames: Frame[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (err) {
      const reason = err instanceof FrameError ? err.reason : 'DECODE';
      this.#reject(`frame_${reason.toLowerCase()}`, StatusCode.INVALID, (err as Error).message);
      return;
    }
    if (frames.length === 0) return;
    if (this.#state === 'hello') {
      this.#onHello(frames);
      return;
    }
    this.#dispatching = true;
    try {
      for (const frame of frames) {
        if (this.#ended()) return;
        if (this.#deferredHead < this.#deferred.length || !this.#canDispatch(frame)) {
          this.#deferred.push(frame);
        } else {
          this.#dispatch(frame);
        }
      }
    } finally {
      this.#dispatching = false;
    }
    const held = this.#deferred.length - this.#deferredHead;
    if (held > 0) {
      if (held > this.#s.stats.maxDeferredFramesSeen) this.#s.stats.maxDeferredFramesSeen = held;
      this.#pause();
    }
    this.#pump();
  }

  #costOf(frame: Frame): number {
    if (frame.type === FrameType.Read) {
      const length = (frame.header as ballast.dataplane.ReadRequest).length;
      return Math.min(typeof length === 'number' ? length : 0, this.#s.maxIoBytes);
    }
    return frame.payload.length;
  }

  #canDispatch(frame: Frame): boolean {
    if (this.#inFlight >= this.#s.maxInFlightRequests) return false;
    if (this.#writer.backlogBytes >= this.#s.maxBacklogBytes) return false;
    // One request larger than the bound still goes through alone, or it could never run.
    return (
      this.#inFlight === 0 || this.#inFlightBytes + this.#costOf(frame) <= this.#s.maxInFlightBytes
    );
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#s.stats.readPauses += 1;
    this.#socket.pause();
  }

  /** Dispatches held-back frames while the bounds allow, then resumes reading. */
  #pump(): void {
    const backlog = this.#writer.backlogBytes;
    if (backlog > this.#s.stats.maxBacklogBytesSeen) this.#s.stats.maxBacklogBytesSeen = backlog;
    if (this.#dispatching || this.#ended()) return;
    this.#dispatching = true;
    try {
      while (this.#deferredHead < this.#deferred.length) {
        const frame = this.#deferred[this.#deferredHead]!;
        if (!this.#canDispatch(frame)) break;
        this.#deferred[this.#deferredHead++] = undefined as unknown as Frame;
        this.#dispatch(frame);
        if (this.#ended()) return;
      }
    } finally {
      this.#dispatching = false;
    }
    if (this.#deferredHead >= this.#deferred.length) {
      this.#deferred = [];
      this.#deferredHead = 0;
      if (this.#paused && this.#writer.backlogBytes < this.#s.maxBacklogBytes) {
        this.#paused = false;
        this.#socket.resume();
      }
    }
    if (
      this.#state === 'draining' &&
      this.#inFlight === 0 &&
      this.#deferredHead >= this.#deferred.length
    ) {
      this.#finishDrain();
    }
  }

  #onEnd(): void {
    try {
      this.#decoder.end();
    } catch (err) {
      this.#s.stats.protocolErrors += 1;
      this.#s.observer?.connectionRejected?.('frame_truncated');
      this.#s.log?.warn(
        { remote: this.#remote, reason: 'frame_truncated', message: (err as Error).message },
        'data-plane peer ended the connection inside a frame',
      );
    }
    if (this.#state === 'hello') {
      this.#state = 'closing';
      this.#writer.close();
      this.#socket.end();
      return;
    }
    // Let running requests answer (the peer may only have shut its sending side), then close.
    if (this.#state === 'open') this.#state = 'draining';
    this.#pump();
  }

  #onClose(): void {
    this.#state = 'closed';
    this.#writer.close();
    if (this.#handshakeTimer) clearTimeout(this.#handshakeTimer);
    if (this.#destroyTimer) clearTimeout(this.#destroyTimer);
    this.#deferred = [];
    this.#deferredHead = 0;
    for (const session of this.#sessions.values()) this.#endSession(session);
    this.#sessions.clear();
    this.#onClosed();
  }

  /** Logs why, sends an ErrorNotice, and closes this connection (nobody else is affected). */
  #reject(reason: string, code: StatusCode, message: string): void {
    if (this.#ended()) return;
    const s = this.#s;
    if (reason === 'bad_hello' || reason === 'handshake_timeout') s.stats.authFailures += 1;
    else s.stats.protocolErrors += 1;
    s.observer?.connectionRejected?.(reason);
    s.log?.warn(
      { remote: this.#remote, client: this.#peer?.clientId, reason, message },
      'closing data-plane connection',
    );
    this.#state = 'closing';
    if (this.#handshakeTimer) clearTimeout(this.#handshakeTimer);
    try {
      this.#writer.pushFrame(
        FrameType.ErrorNotice,
        0,
        dp.ErrorNotice.encode({ status: { code, message } }).finish(),
      );
    } catch {
      // Nothing to add: the notice is a courtesy.
    }
    this.#writer.closeAfterFlush();
    this.#socket.end();
    // A peer that does not read could keep the socket half-open: drop it after a grace period.
    this.#destroyTimer = setTimeout(() => this.#socket.destroy(), 2000);
    this.#destroyTimer.unref();
  }

  /** Server shutdown: refuse new requests, finish running ones, then close. */
  shutdown(graceMs: number): Promise<void> {
    if (this.#state === 'closed') return this.#closed;
    if (this.#state === 'hello') {
      this.#reject('shutdown', StatusCode.SHUTTING_DOWN, 'the node is shutting down');
    } else if (this.#state === 'open' || this.#state === 'draining') {
      this.#state = 'draining';
      this.#refuseNew = true;
      this.#pump();
    }
    const timer = setTimeout(() => this.#socket.destroy(), graceMs);
    timer.unref();
    return this.#closed.finally(() => clearTimeout(timer));
  }

  #finishDrain(): void {
    if (this.#state !== 'draining') return;
    this.#state = 'closing';
    this.#writer.pushFrame(
      FrameType.ErrorNotice,
      0,
      dp.ErrorNotice.encode({
        status: { code: StatusCode.SHUTTING_DOWN, message: 'connection closing' },
      }).finish(),
    );
    this.#writer.closeAfterFlush();
    this.#socket.end();
    this.#destroyTimer = setTimeout(() => this.#socket.destroy(), 2000);
    this.#destroyTimer.unref();
  }

  // ---------------------------------------------------------------------------------------
  // Hello

  #onHello(frames: Frame[]): void {
    const frame = frames[0]!;
    if (frame.type !== FrameType.ClientHello) {
      this.#reject(
        'bad_hello',
        StatusCode.UNAUTHENTICATED,
        `expected ClientHello, got ${registry.name(frame.type)}`,
      );
      return;
    }
    // The client waits for HelloResponse before sending more; anything else now is a violation
    // (and would otherwise be parsed with the small pre-authentication frame limit).
    if (frames.length > 1 || this.#decoder.bufferedBytes > 0) {
      this.#reject(
        'bad_hello',
        StatusCode.INVALID,
        'data sent after ClientHello before HelloResponse',
      );
      return;
    }
    const hello = frame.header as ballast.dataplane.ClientHello;
    const s = this.#s;
    const refuse = (message: string): void => {
      this.#writer.pushFrame(
        FrameType.HelloResponse,
        0,
        dp.HelloResponse.encode({ status: { code: StatusCode.UNAUTHENTICATED, message } }).finish(),
      );
      this.#reject('bad_hello', StatusCode.UNAUTHENTICATED, message);
    };
    if (hello.protocolVersion !== PROTOCOL_VERSION) {
      refuse(
        `protocol version ${hello.protocolVersion} is not supported (this node speaks ${PROTOCOL_VERSION})`,
      );
      return;
    }
    if (hello.clusterId !== s.clusterId) {
      refuse(`cluster id mismatch: this node belongs to cluster ${s.clusterId}`);
      return;
    }
    const clientId = hello.clientId;
    if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > MAX_ID_CHARS) {
      refuse(`client id must be 1-${MAX_ID_CHARS} characters`);
      return;
    }
    if (
      s.secret !== null &&
      !verifyHelloMac(s.secret, this.#nonce, clientId, hello.mac ?? new Uint8Array())
    ) {
      refuse('authentication failed');
      return;
    }
    // The client's nonce for our proof: 32 bytes, or none from a client that asks for no proof.
    const clientNonce = hello.clientNonce ?? new Uint8Array();
    if (clientNonce.length !== 0 && clientNonce.length !== CLIENT_NONCE_BYTES) {
      refuse(`client nonce must be ${CLIENT_NONCE_BYTES} bytes`);
      return;
    }
    if (this.#handshakeTimer) clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    this.#peer = { clientId, remoteAddress: this.#remote };
    // Large frames that span socket reads (write payloads) are assembled in recycled buffers:
    // a fresh megabyte costs more in page faults than the copy itself.
    const pool = s.pool;
    this.#decoder = new FrameDecoder({
      registry,
      maxFrameBytes: s.maxFrameBytes,
      allocate: (n) => (n >= pool.minBytes ? pool.take(n) : undefined),
    });
    this.#state = 'open';
    // Our proof goes only to a client that proved itself: it is no oracle for strangers.
    this.#writer.pushFrame(
      FrameType.HelloResponse,
      0,
      s.secret !== null && clientNonce.length > 0
        ? dp.HelloResponse.encode({
            status: OK_STATUS,
            serverMac: serverProofMac(s.secret, clientNonce, s.nodeId, this.#nonce),
          }).finish()
        : OK_HEADER,
    );
    s.log?.debug({ remote: this.#remote, client: clientId }, 'data-plane client authenticated');
  }

  // ---------------------------------------------------------------------------------------
  // Requests

  #dispatch(frame: Frame): void {
    if (frame.requestId === 0 && frame.type !== FrameType.CloseSession) {
      this.#reject('bad_request_id', StatusCode.INVALID, 'request id 0 is reserved for notices');
      return;
    }
    if (frame.type === FrameType.CloseSession) {
      this.#closeSession(frame.header as ballast.dataplane.CloseSession);
      return;
    }
    if (!isRequestType(frame.type)) {
      this.#reject(
        'unexpected_frame',
        StatusCode.INVALID,
        `${registry.name(frame.type)} is not a data-plane request`,
      );
      return;
    }
    const cost = this.#costOf(frame);
    const req: Request = {
      type: frame.type,
      id: frame.requestId,
      cost,
      startedMs: this.#s.observer ? performance.now() : 0,
      op: 'open',
      volumeId: undefined,
      bytes: 0,
    };
    this.#inFlight += 1;
    this.#inFlightBytes += cost;
    this.#s.stats.requests += 1;
    if (this.#inFlightBytes > this.#s.stats.maxInFlightBytesSeen) {
      this.#s.stats.maxInFlightBytesSeen = this.#inFlightBytes;
    }
    if (this.#refuseNew) {
      this.#fail(req, StatusCode.SHUTTING_DOWN, 'the node is shutting down');
      return;
    }
    const assembledIn = frame.assembledIn;
    this.#dispatchFrame(req, frame);
    // Writes recycle their buffer once the handler is done with the payload, and a chunk
    // install keeps its own (it is rare); every other request is done with its frame here.
    if (
      assembledIn !== undefined &&
      frame.type !== FrameType.Write &&
      frame.type !== FrameType.WriteChunk
    ) {
      this.#s.pool.give(assembledIn);
    }
  }

  #dispatchFrame(req: Request, frame: Frame): void {
    switch (frame.type) {
      case FrameType.OpenSession:
        this.#openSession(req, frame.header as ballast.dataplane.OpenSession);
        break;
      case FrameType.Read:
        this.#read(req, frame.header as ballast.dataplane.ReadRequest);
        break;
      case FrameType.Write:
        this.#write(
          req,
          frame.header as ballast.dataplane.WriteRequest,
          frame.payload,
          frame.assembledIn,
        );
        break;
      case FrameType.Flush:
        this.#flush(req, frame.header as ballast.dataplane.FlushRequest);
        break;
      case FrameType.Trim:
        this.#trim(req, frame.header as ballast.dataplane.TrimRequest);
        break;
      case FrameType.GetChunkMap:
        this.#chunkMap(req, frame.header as ballast.dataplane.GetChunkMapRequest);
        break;
      case FrameType.ReadChunk:
        this.#readChunk(req, frame.header as ballast.dataplane.ReadChunkRequest);
        break;
      case FrameType.WriteChunk:
        this.#writeChunk(req, frame.header as ballast.dataplane.WriteChunkRequest, frame.payload);
        break;
      case FrameType.Snapshot:
        this.#snapshot(req, frame.header as ballast.dataplane.SnapshotRequest);
        break;
      case FrameType.ReadSnapshot:
        this.#readSnapshot(req, frame.header as ballast.dataplane.ReadSnapshotRequest);
        break;
    }
  }

  #finish(req: Request, status: StatusCode): void {
    this.#inFlight -= 1;
    this.#inFlightBytes -= req.cost;
    const observer = this.#s.observer;
    if (observer?.requestCompleted) {
      observer.requestCompleted(
        req.op,
        req.volumeId,
        status,
        status === StatusCode.OK ? req.bytes : 0,
        (performance.now() - req.startedMs) / 1000,
      );
    }
    if (!this.#dispatching) this.#pump();
  }

  #ok(
    req: Request,
    header: Uint8Array = OK_HEADER,
    payload?: Buffer,
    onWritten?: () => void,
  ): void {
    if (!this.#ended()) {
      try {
        this.#writer.pushFrame(req.type + 1, req.id, header, payload, onWritten);
      } catch (err) {
        onWritten?.();
        // Only a response above the frame limit gets here (a huge chunk map or chunk).
        this.#fail(
          req,
          StatusCode.INVALID,
          `response does not fit one frame: ${(err as Error).message}`,
        );
        return;
      }
    } else {
      onWritten?.();
    }
    this.#finish(req, StatusCode.OK);
  }

  #fail(req: Request, code: StatusCode, message: string): void {
    if (code === StatusCode.FENCED || code === StatusCode.CHECKSUM) {
      // A fenced host may keep trying at full speed: at most one line per second per
      // connection, with the number of refusals left out (metrics count every one).
      if (this.#mayLog()) {
        this.#s.log?.warn(
          {
            remote: this.#remote,
            volumeId: req.volumeId,
            op: req.op,
            status: statusName(code),
            message,
            suppressed: this.#suppressedRefusals,
          },
          'data-plane request refused',
        );
        this.#suppressedRefusals = 0;
      }
    }
    if (!this.#ended()) {
      this.#writer.pushFrame(req.type + 1, req.id, errorHeader(code, message));
    }
    this.#finish(req, code);
  }

  /** Rate limit for per-request log lines: one per second per connection. */
  #mayLog(): boolean {
    const now = Date.now();
    if (now - this.#lastRefusalLogMs < 1000) {
      this.#suppressedRefusals += 1;
      return false;
    }
    this.#lastRefusalLogMs = now;
    return true;
  }

  #failWith(req: Request, err: unknown): void {
    const { code, message } = statusFor(err);
    if (code === StatusCode.IO && this.#mayLog()) {
      this.#s.log?.error(
        {
          remote: this.#remote,
          volumeId: req.volumeId,
          op: req.op,
          err,
          suppressed: this.#suppressedRefusals,
        },
        'data-plane request failed',
      );
      this.#suppressedRefusals = 0;
    }
    this.#fail(req, code, message);
  }

  /**
   * The open session a request names; answers the request if there is none. Its fence is
   * re-checked by the session core when the request runs.
   */
  #session(req: Request, sessionId: number | null | undefined): ServerSession<B> | undefined {
    const session = this.#sessions.get(sessionId ?? 0);
    if (session === undefined || !session.core.isOpen) {
      this.#fail(req, StatusCode.NO_SESSION, `no open session ${sessionId} on this connection`);
      return undefined;
    }
    req.volumeId = session.volumeId;
    return session;
  }

  /**
   * Answers a mutation the session core accepted: at once when it was applied at once
   * (undefined), else when it settles. (The callers call the core themselves: a closure per
   * write would be an allocation on the hot path.)
   */
  #answerMutation(req: Request, result: Promise<void> | undefined): void {
    if (result === undefined) this.#ok(req);
    else
      result.then(
        () => this.#ok(req),
        (err) => this.#failWith(req, err),
      );
  }

  #openSession(req: Request, m: ballast.dataplane.OpenSession): void {
    const volumeId = m.volumeId;
    if (typeof volumeId !== 'string' || volumeId.length === 0 || volumeId.length > MAX_ID_CHARS) {
      this.#fail(req, StatusCode.INVALID, `volume id must be 1-${MAX_ID_CHARS} characters`);
      return;
    }
    req.volumeId = volumeId;
    if (
      !isOffset(m.epoch) ||
      !isOffset(m.incarnation) ||
      !isOffset(m.sizeBytes) ||
      !isOffset(m.chunkSizeBytes)
    ) {
      this.#fail(
        req,
        StatusCode.INVALID,
        'epoch, incarnation, size and chunk size must be non-negative integers',
      );
      return;
    }
    if (this.#sessions.size + this.#openingSessions >= this.#s.maxSessionsPerConnection) {
      this.#fail(
        req,
        StatusCode.OVERLOADED,
        `at most ${this.#s.maxSessionsPerConnection} sessions per connection`,
      );
      return;
    }
    this.#openingSessions += 1;
    SessionCore.open(
      this.#s.store,
      {
        volumeId,
        epoch: m.epoch,
        incarnation: m.incarnation,
        sizeBytes: m.sizeBytes,
        chunkSizeBytes: m.chunkSizeBytes,
      },
      this.#peer!,
    ).then(
      (core) => {
        this.#openingSessions -= 1;
        if (this.#ended()) {
          void core.close();
          this.#finish(req, StatusCode.SHUTTING_DOWN);
          return;
        }
        const id = this.#nextSessionId++;
        this.#sessions.set(id, { id, volumeId, core });
        this.#s.observer?.sessionOpened?.(volumeId);
        const opened = core.opened;
        this.#ok(
          req,
          dp.OpenSessionResponse.encode({
            status: OK_STATUS,
            sessionId: id,
            sizeBytes: opened.sizeBytes,
            chunkSizeBytes: opened.chunkSizeBytes,
            blockSizeBytes: opened.blockSizeBytes,
            highestEpoch: opened.highestEpoch,
            highestIncarnation: opened.highestIncarnation,
          }).finish(),
        );
      },
      (err) => {
        this.#openingSessions -= 1;
        this.#failWith(req, err);
      },
    );
  }

  #closeSession(m: ballast.dataplane.CloseSession): void {
    const session = this.#sessions.get(m.sessionId);
    if (session === undefined) return;
    this.#sessions.delete(session.id);
    this.#endSession(session);
  }

  #endSession(session: ServerSession<B>): void {
    if (!session.core.isOpen) return;
    this.#s.observer?.sessionClosed?.(session.volumeId);
    // The store's binding goes once the session's pending mutations settled.
    void session.core.close();
  }

  #read(req: Request, m: ballast.dataplane.ReadRequest): void {
    req.op = 'read';
    const session = this.#session(req, m.sessionId);
    if (!session) return;
    const length = m.length;
    if (!isOffset(m.offset) || !isOffset(length) || length > this.#s.maxIoBytes) {
      this.#fail(
        req,
        StatusCode.INVALID,
        `read of ${length} bytes at ${m.offset}: bad range or above ${this.#s.maxIoBytes} bytes`,
      );
      return;
    }
    req.bytes = length;
    const core = session.core;
    if (this.#s.store.readInto !== undefined && length >= this.#s.pool.minBytes) {
      const pool = this.#s.pool;
      const target = pool.take(length);
      const sent = (): void => {
        this.#ok(req, OK_HEADER, target, () => pool.give(target));
      };
      const failed = (err: unknown): void => {
        pool.give(target);
        this.#failWith(req, err);
      };
      let pending: Promise<void> | undefined;
      try {
        pending = core.readInto(m.offset, target);
      } catch (err) {
        failed(err);
        return;
      }
      if (pending === undefined) sent();
      else pending.then(sent, failed);
      return;
    }
    const done = (data: Buffer): void => {
      if (data.length !== length) {
        this.#fail(
          req,
          StatusCode.IO,
          `the store returned ${data.length} bytes for a ${length}-byte read`,
        );
        return;
      }
      this.#ok(req, OK_HEADER, data);
    };
    let result: Buffer | Promise<Buffer>;
    try {
      result = core.read(m.offset, length);
    } catch (err) {
      this.#failWith(req, err);
      return;
    }
    if (Buffer.isBuffer(result)) done(result);
    else result.then(done, (err) => this.#failWith(req, err));
  }

  #write(
    req: Request,
    m: ballast.dataplane.WriteRequest,
    payload: Buffer,
    assembledIn: Buffer | undefined,
  ): void {
    req.op = 'write';
    // The store keeps `payload` only until its write settles; then the buffer is recycled.
    const pool = this.#s.pool;
    const recycle = assembledIn === undefined ? undefined : (): void => pool.give(assembledIn);
    const session = this.#session(req, m.sessionId);
    if (!session || !isOffset(m.offset) || payload.length > this.#s.maxIoBytes) {
      if (session) {
        this.#fail(
          req,
          StatusCode.INVALID,
          `write of ${payload.length} bytes at ${m.offset}: bad range or too large`,
        );
      }
      recycle?.();
      return;
    }
    req.bytes = payload.length;
    let result: Promise<void> | undefined;
    try {
      result = session.core.write(m.offset, payload, m.fua === true);
    } catch (err) {
      recycle?.();
      this.#failWith(req, err);
      return;
    }
    this.#answerMutation(req, result);
    if (recycle !== undefined) {
      if (result === undefined) recycle();
      else result.then(recycle, recycle);
    }
  }

  #trim(req: Request, m: ballast.dataplane.TrimRequest): void {
    req.op = m.zero ? 'zero' : 'trim';
    const session = this.#session(req, m.sessionId);
    if (!session) return;
    if (!isOffset(m.offset) || !isOffset(m.length)) {
      this.#fail(req, StatusCode.INVALID, 'trim offset and length must be non-negative integers');
      return;
    }
    req.bytes = m.length;
    const opts = { zero: m.zero === true, noHole: m.noHole === true };
    let result: Promise<void> | undefined;
    try {
      result = session.core.trim(m.offset, m.length, opts, m.fua === true);
    } catch (err) {
      this.#failWith(req, err);
      return;
    }
    this.#answerMutation(req, result);
  }

  #flush(req: Request, m: ballast.dataplane.FlushRequest): void {
    req.op = 'flush';
    const session = this.#session(req, m.sessionId);
    if (!session) return;
    // The core covers every mutation that arrived on this session before the flush.
    callAsync(() => session.core.flush()).then(
      () => this.#ok(req),
      (err) => this.#failWith(req, err),
    );
  }

  /**
   * What a chunk request is about: its session (whose core re-checks the fence) or a bare
   * volume id (a peer node copying a replica holds no session).
   */
  #chunkTarget(
    req: Request,
    sessionId: number,
    volumeId: string,
  ): { session: ServerSession<B> } | { volumeId: string } | undefined {
    if (sessionId !== 0) {
      const session = this.#session(req, sessionId);
      return session === undefined ? undefined : { session };
    }
    if (typeof volumeId !== 'string' || volumeId.length === 0 || volumeId.length > MAX_ID_CHARS) {
      this.#fail(req, StatusCode.INVALID, 'a chunk request needs a session or a volume id');
      return undefined;
    }
    req.volumeId = volumeId;
    return { volumeId };
  }

  #chunkMap(req: Request, m: ballast.dataplane.GetChunkMapRequest): void {
    req.op = 'chunk_map';
    const target = this.#chunkTarget(req, m.sessionId, m.volumeId);
    if (target === undefined) return;
    let result;
    try {
      result =
        'session' in target
          ? target.session.core.chunkMap()
          : this.#s.store.chunkMap(target.volumeId);
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (map) => {
        // `dirty` keeps covering unclean chunks on the wire, for clients that know no more;
        // `detailed` tells newer ones that `unclean` and `hole` are meaningful.
        const chunks = map.chunks.map((c) => ({
          index: c.index,
          generation: c.generation,
          dirty: c.dirty || c.unclean,
          unclean: c.unclean,
          hole: c.hole,
          digest: c.digest ?? 0,
          hasDigest: c.digest !== undefined,
        }));
        this.#ok(
          req,
          dp.GetChunkMapResponse.encode({
            status: OK_STATUS,
            chunkSizeBytes: map.chunkSizeBytes,
            chunks,
            detailed: true,
          }).finish(),
        );
      },
      (err) => this.#failWith(req, err),
    );
  }

  #readChunk(req: Request, m: ballast.dataplane.ReadChunkRequest): void {
    req.op = 'read_chunk';
    const target = this.#chunkTarget(req, m.sessionId, m.volumeId);
    if (target === undefined) return;
    if (!isOffset(m.index)) {
      this.#fail(req, StatusCode.INVALID, 'chunk index must be a non-negative integer');
      return;
    }
    const done = (chunk: { generation: number; data: Buffer | null }): void => {
      req.bytes = chunk.data?.length ?? 0;
      this.#ok(
        req,
        dp.ReadChunkResponse.encode({
          status: OK_STATUS,
          generation: chunk.generation,
          hole: chunk.data === null,
        }).finish(),
        chunk.data ?? undefined,
      );
    };
    let result;
    try {
      result =
        'session' in target
          ? target.session.core.readChunk(m.index)
          : this.#s.store.readChunk(target.volumeId, m.index);
    } catch (err) {
      this.#failWith(req, err);
      return;
    }
    if (result instanceof Promise) result.then(done, (err) => this.#failWith(req, err));
    else done(result);
  }

  #snapshot(req: Request, m: ballast.dataplane.SnapshotRequest): void {
    req.op = 'snapshot';
    const session = this.#session(req, m.sessionId);
    if (!session) return;
    if (!isOffset(m.seq) || m.seq < 1) {
      this.#fail(req, StatusCode.INVALID, 'snapshot seq must be a positive integer');
      return;
    }
    if (!session.core.canSnapshot) {
      this.#fail(req, StatusCode.INVALID, 'this node cannot take snapshots');
      return;
    }
    // The core takes it after every mutation that arrived on this session before it.
    callAsync(() => session.core.snapshot(m.seq)).then(
      () => this.#ok(req),
      (err) => this.#failWith(req, err),
    );
  }

  #readSnapshot(req: Request, m: ballast.dataplane.ReadSnapshotRequest): void {
    req.op = 'read_snapshot';
    const target = this.#chunkTarget(req, m.sessionId, m.volumeId);
    if (target === undefined) return;
    if (!isOffset(m.seq) || m.seq < 1 || !isOffset(m.offset) || !isOffset(m.length)) {
      this.#fail(req, StatusCode.INVALID, 'seq, offset and length must be integers (seq >= 1)');
      return;
    }
    if (m.length > this.#s.maxIoBytes) {
      this.#fail(req, StatusCode.INVALID, `reads are at most ${this.#s.maxIoBytes} bytes`);
      return;
    }
    const store = this.#s.store;
    let result: Buffer | Promise<Buffer>;
    try {
      if ('session' in target) {
        result = target.session.core.readSnapshot(m.seq, m.offset, m.length);
      } else if (store.readSnapshot === undefined) {
        throw new BallastError('INVALID_ARGUMENT', 'this node cannot read snapshots');
      } else {
        result = store.readSnapshot(target.volumeId, m.seq, m.offset, m.length);
      }
    } catch (err) {
      this.#failWith(req, err);
      return;
    }
    const done = (data: Buffer): void => {
      req.bytes = data.length;
      this.#ok(req, dp.ReadSnapshotResponse.encode({ status: OK_STATUS }).finish(), data);
    };
    if (result instanceof Promise) result.then(done, (err) => this.#failWith(req, err));
    else done(result);
  }

  #writeChunk(req: Request, m: ballast.dataplane.WriteChunkRequest, payload: Buffer): void {
    req.op = 'write_chunk';
    const session = this.#session(req, m.sessionId);
    if (!session) return;
    if (!isOffset(m.index) || !isOffset(m.generation)) {
      this.#fail(
        req,
        StatusCode.INVALID,
        'chunk index and generation must be non-negative integers',
      );
      return;
    }
    if (m.hole && payload.length > 0) {
      this.#fail(req, StatusCode.INVALID, 'a hole chunk carries no payload');
      return;
    }
    req.bytes = payload.length;
    let result: Promise<void> | undefined;
    try {
      result = session.core.writeChunk(m.index, m.generation, m.hole ? null : payload);
    } catch (err) {
      this.#failWith(req, err);
      return;
    }
    this.#answerMutation(req, result);
  }
}

function isRequestType(type: number): boolean {
  switch (type) {
    case FrameType.OpenSession:
    case FrameType.Read:
    case FrameType.Write:
    case FrameType.Flush:
    case FrameType.Trim:
    case FrameType.GetChunkMap:
    case FrameType.ReadChunk:
    case FrameType.WriteChunk:
    case FrameType.Snapshot:
    case FrameType.ReadSnapshot:
      return true;
    default:
      return false;
  }
}
