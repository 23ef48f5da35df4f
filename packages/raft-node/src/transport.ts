import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { BallastError, assert, type Logger } from '@ballast/common';
import { ballast } from '@ballast/proto';
import { isRaftError, type Message } from '@ballast/raft';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { RaftMetrics } from './metrics.js';

/** The path the Raft endpoint is served on, by convention. */
export const RAFT_PATH = '/raft';

/** Handshake headers. Every connection says who it is, and proves it. */
export const HEADER_CLUSTER = 'x-ballast-cluster';
export const HEADER_FROM = 'x-ballast-from';
export const HEADER_TO = 'x-ballast-to';
export const HEADER_AUTH = 'x-ballast-auth';
const AUTH_PREFIX = 'v1=';
const MAX_ID_LENGTH = 128;

/**
 * The proof a member sends when it connects: HMAC-SHA256 keyed with the cluster secret over
 * "ballast-raft-v1\n<cluster>\n<from>\n<to>", hex. The secret itself never crosses the wire, and
 * a proof is only good for one (cluster, from, to) triple, so a peer cannot claim another id.
 */
export function raftAuthToken(secret: string, clusterId: string, from: string, to: string): string {
  const mac = createHmac('sha256', secret)
    .update(`ballast-raft-v1\n${clusterId}\n${from}\n${to}`)
    .digest('hex');
  return AUTH_PREFIX + mac;
}

export interface TransportHandler {
  /** A message from a peer, validated for cluster, sender and addressee, snapshots whole. */
  onMessage(message: Message): void;
  /** A peer could not be reached (connection failed or closed). */
  onUnreachable(peer: string): void;
  /** A snapshot send to `peer` finished (ok: fully written) or failed. */
  onSnapshotStatus(peer: string, ok: boolean): void;
}

/**
 * TLS for the Raft connections (wss). The HMAC handshake still runs inside it: TLS hides and
 * protects the frames and proves which servers are real; the HMAC proves cluster membership.
 */
export interface TransportTls {
  /** CA certificates the peers' certificates must chain to (PEM); default: Node's root store. */
  ca?: string | Buffer;
  /** This member's certificate and key (PEM): served by `listen` and presented to peers. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /**
   * Refuse incoming connections that are not TLS or whose client certificate the server did not
   * verify against its CA (mutual TLS). The server must ask for client certificates
   * (`requestCert: true`; `rejectUnauthorized: false` lets the refusal be an HTTP 403 that says
   * why, instead of a bare TLS alert). `listen` sets that up itself.
   */
  requirePeerCertificate?: boolean;
}

export interface TransportOptions {
  clusterId: string;
  memberId: string;
  /** Shared by all members of the cluster; at least 16 characters. */
  secret: string;
  logger: Logger;
  metrics: RaftMetrics;
  /** Largest frame accepted or sent (ws maxPayload). */
  maxFrameBytes?: number;
  /** Snapshots travel in chunks of this size. */
  snapshotChunkBytes?: number;
  /** Largest snapshot reassembled from chunks. */
  maxSnapshotBytes?: number;
  /** Per-peer send queue bounds: the oldest non-critical message is dropped beyond them. */
  maxQueueMessages?: number;
  maxQueueBytes?: number;
  /** A non-critical message waiting longer than this is dropped instead of sent (it is stale). */
  maxMessageAgeMs?: number;
  /** Reconnect backoff: doubles from the initial delay up to the max, with jitter. */
  reconnectInitialDelayMs?: number;
  reconnectMaxDelayMs?: number;
  connectTimeoutMs?: number;
  /** An outgoing connection with nothing to send for this long is closed. */
  idleCloseMs?: number;
  maxIncomingConnections?: number;
  /** Stop handing frames to a socket while it buffers more than this. */
  socketHighWaterBytes?: number;
  /**
   * Outgoing connections are pinged this often; a connection that shows no sign of life (no
   * pong, or on the receiving side no frame or ping) for 3 intervals is closed, so a peer
   * that vanished without closing (a dead host, a stopped process) does not hold a socket.
   */
  pingIntervalMs?: number;
  /** wss with these certificates; absent: plain ws (HMAC only). */
  tls?: TransportTls;
}

type Settings = Required<Omit<TransportOptions, 'logger' | 'metrics' | 'tls'>>;

function settingsFrom(o: TransportOptions): Settings {
  const s: Settings = {
    clusterId: o.clusterId,
    memberId: o.memberId,
    secret: o.secret,
    maxFrameBytes: o.maxFrameBytes ?? 8 * 1024 * 1024,
    snapshotChunkBytes: o.snapshotChunkBytes ?? 1024 * 1024,
    maxSnapshotBytes: o.maxSnapshotBytes ?? 256 * 1024 * 1024,
    maxQueueMessages: o.maxQueueMessages ?? 4096,
    maxQueueBytes: o.maxQueueBytes ?? 32 * 1024 * 1024,
    maxMessageAgeMs: o.maxMessageAgeMs ?? 5000,
    reconnectInitialDelayMs: o.reconnectInitialDelayMs ?? 50,
    reconnectMaxDelayMs: o.reconnectMaxDelayMs ?? 2000,
    connectTimeoutMs: o.connectTimeoutMs ?? 3000,
    idleCloseMs: o.idleCloseMs ?? 60_000,
    maxIncomingConnections: o.maxIncomingConnections ?? 64,
    socketHighWaterBytes: o.socketHighWaterBytes ?? 4 * 1024 * 1024,
    pingIntervalMs: o.pingIntervalMs ?? 2000,
  };
  if (typeof s.secret !== 'string' || s.secret.length < 16) {
    throw new BallastError('CONFIG', 'the cluster secret must be at least 16 characters');
  }
  if (!s.clusterId || !s.memberId) {
    throw new BallastError('CONFIG', 'clusterId and memberId must be non-empty');
  }
  for (const [k, v] of Object.entries(s)) {
    if (typeof v === 'number' && (!Number.isSafeInteger(v) || v <= 0)) {
      throw new BallastError('CONFIG', `${k} must be a positive integer, got ${v}`);
    }
  }
  if (s.snapshotChunkBytes + 64 * 1024 > s.maxFrameBytes) {
    throw new BallastError('CONFIG', 'snapshotChunkBytes + 64 KiB must fit in maxFrameBytes');
  }
  return s;
}

/** Messages whose loss costs more than a retransmission on the next tick. */
function isCritical(m: Message): boolean {
  return Boolean(
    m.requestVote ||
    m.requestVoteResponse ||
    m.timeoutNow ||
    m.readIndex ||
    m.readIndexResponse ||
    m.installSnapshotResponse,
  );
}

function kindOf(m: Message): string {
  for (const k of [
    'requestVote',
    'requestVoteResponse',
    'appendEntries',
    'appendEntriesResponse',
    'heartbeat',
    'heartbeatResponse',
    'installSnapshot',
    'installSnapshotResponse',
    'timeoutNow',
    'readIndex',
    'readIndexResponse',
  ] as const) {
    if (m[k]) return k;
  }
  return 'none';
}

interface QueueItem {
  bytes: Uint8Array;
  critical: boolean;
  enqueuedAtMs: number;
}

interface SnapshotJob {
  message: Message;
  data: Uint8Array;
  offset: number;
  /** All chunks handed to the socket; waiting for the last write to complete. */
  finished: boolean;
}

/**
 * Raft messages between members over WebSocket: binary frames, each one encoded
 * ballast.raft.RaftMessage. One outgoing connection per peer carries everything this member
 * sends to it; incoming connections only receive. Nothing here blocks the Raft loop: `send`
 * queues (bounded) and returns.
 */
export class RaftTransport {
  readonly settings: Settings;
  readonly tls: TransportTls | undefined;
  private readonly log: Logger;
  private readonly metrics: RaftMetrics;
  private handler: TransportHandler | undefined;
  private readonly peers = new Map<string, PeerSender>();
  private readonly incoming = new Set<IncomingConnection>();
  private readonly wss: WebSocketServer;
  private ownServer: Server | undefined;
  private readonly idleTimer: NodeJS.Timeout;
  private readonly livenessTimer: NodeJS.Timeout;
  private readonly lastLogMs = new Map<string, number>();
  private blocked: ReadonlySet<string> = new Set();
  private closed = false;

  constructor(options: TransportOptions) {
    this.settings = settingsFrom(options);
    this.tls = options.tls;
    if (this.tls?.requirePeerCertificate && this.tls.ca === undefined) {
      throw new BallastError('CONFIG', 'requirePeerCertificate needs the CA to verify peers with');
    }
    if ((this.tls?.cert === undefined) !== (this.tls?.key === undefined)) {
      throw new BallastError('CONFIG', 'a TLS certificate and its key go together');
    }
    this.log = options.logger;
    this.metrics = options.metrics;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.settings.maxFrameBytes,
      perMessageDeflate: false,
    });
    this.idleTimer = setInterval(
      () => {
        for (const p of this.peers.values()) p.closeIfIdle();
      },
      Math.max(1000, Math.floor(this.settings.idleCloseMs / 2)),
    );
    this.idleTimer.unref();
    this.livenessTimer = setInterval(() => {
      const deadline = Date.now() - 3 * this.settings.pingIntervalMs;
      for (const p of this.peers.values()) p.checkLiveness(deadline);
      for (const c of this.incoming) {
        if (c.lastSeenMs < deadline) {
          this.logLimited(
            `in-dead:${c.from}`,
            'info',
            { from: c.from },
            'closing silent raft connection',
          );
          c.ws.terminate();
        }
      }
    }, this.settings.pingIntervalMs);
    this.livenessTimer.unref();
    this.metrics.setQueueSource(() => this.peerStats());
  }

  setHandler(handler: TransportHandler): void {
    this.handler = handler;
  }

  /** Adds or updates a peer's Raft URL (ws://host:port/raft). */
  setPeer(id: string, url: string): void {
    if (id === this.settings.memberId || this.closed) return;
    const existing = this.peers.get(id);
    if (existing !== undefined) {
      if (existing.url === url) return;
      existing.close();
    }
    this.peers.set(id, new PeerSender(id, url, this));
  }

  removePeer(id: string): void {
    const p = this.peers.get(id);
    if (p === undefined) return;
    p.close();
    this.peers.delete(id);
    this.metrics.peerConnected.remove(id);
  }

  peerIds(): string[] {
    return [...this.peers.keys()];
  }

  /** Queue lengths and connection state, for status, metrics and tests. */
  peerStats(): Record<string, { connected: boolean; queuedMessages: number; queuedBytes: number }> {
    const out: Record<string, { connected: boolean; queuedMessages: number; queuedBytes: number }> =
      {};
    for (const [id, p] of this.peers) out[id] = p.stats();
    return out;
  }

  /**
   * Fault injection for tests (a network partition): messages to and from these peers are
   * dropped and counted (reason 'blocked'). Empty by default; nothing else calls it.
   */
  setBlockedPeers(peers: Iterable<string>): void {
    this.blocked = new Set(peers);
  }

  /** Queues messages for their peers. Never blocks; drops (and counts) what cannot be queued. */
  send(messages: readonly Message[]): void {
    if (this.closed) return;
    for (const m of messages) {
      const to = m.to ?? '';
      if (this.blocked.has(to)) {
        this.metrics.peerDropped.inc({ peer: to, reason: 'blocked' });
        continue;
      }
      const peer = this.peers.get(to);
      if (peer === undefined) {
        this.metrics.peerDropped.inc({ peer: to || '?', reason: 'unknown-peer' });
        this.logLimited(`unknown-peer:${to}`, 'warn', { peer: to }, 'no address for raft peer');
        if (m.installSnapshot) this.handler?.onSnapshotStatus(to, false);
        else this.handler?.onUnreachable(to);
        continue;
      }
      peer.enqueue(m);
    }
  }

  /**
   * Serves the Raft endpoint on its own HTTP server (tests, and members without an API); an HTTPS
   * server (wss) when the transport has a certificate.
   */
  async listen(options: { host?: string; port?: number; path?: string } = {}): Promise<string> {
    assert(this.ownServer === undefined, 'transport is already listening');
    const path = options.path ?? RAFT_PATH;
    const notFound = (_req: IncomingMessage, res: ServerResponse): void => {
      res.statusCode = 404;
      res.end();
    };
    const tls = this.tls;
    const secure = tls?.cert !== undefined && tls.key !== undefined;
    const server: Server = secure
      ? createHttpsServer(
          {
            cert: tls.cert,
            key: tls.key,
            ...(tls.ca !== undefined ? { ca: tls.ca, requestCert: true } : {}),
            rejectUnauthorized: false,
          },
          notFound,
        )
      : createServer(notFound);
    this.attach(server, path);
    server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
      if (pathOf(req) !== path) socket.destroy();
    });
    this.ownServer = server;
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    assert(addr !== null && typeof addr === 'object', 'server address');
    return `${secure ? 'wss' : 'ws'}://${host}:${addr.port}${path}`;
  }

  /**
   * Serves the Raft endpoint on an existing HTTP server: upgrade requests for `path` are taken,
   * others are left to the server's other 'upgrade' listeners. Do not combine with a library
   * that answers every upgrade itself (e.g. @fastify/websocket): use acceptSocket there.
   */
  attach(server: Server, path = RAFT_PATH): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (pathOf(req) !== path) return;
      this.handleUpgrade(req, socket, head);
    });
  }

  /** Takes an HTTP upgrade request for the Raft endpoint: authenticates, then accepts. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const check = this.verifyHandshake(req);
    if (!check.ok) {
      socket.end(`HTTP/1.1 ${check.status} ${check.reason}\r\nConnection: close\r\n\r\n`);
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, check.from));
  }

  /**
   * Takes a WebSocket that another library already upgraded (e.g. a fastify route with
   * @fastify/websocket on RAFT_PATH; give it maxPayload = maxFrameBytes): authenticates from the
   * request headers, closing the socket with 1008 when that fails.
   */
  acceptSocket(ws: WebSocket, req: IncomingMessage): void {
    const check = this.verifyHandshake(req);
    if (!check.ok) {
      ws.close(1008, check.reason);
      return;
    }
    this.accept(ws, check.from);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.idleTimer);
    clearInterval(this.livenessTimer);
    for (const p of this.peers.values()) p.close();
    this.peers.clear();
    for (const c of this.incoming) c.ws.terminate();
    this.incoming.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    const server = this.ownServer;
    if (server !== undefined) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  // -------------------------------------------------------------------------------------------
  // Incoming side

  private verifyHandshake(
    req: IncomingMessage,
  ): { ok: true; from: string } | { ok: false; status: number; reason: string } {
    const header = (name: string): string => {
      const v = req.headers[name];
      return typeof v === 'string' ? v : '';
    };
    const cluster = header(HEADER_CLUSTER);
    const from = header(HEADER_FROM);
    const to = header(HEADER_TO);
    const auth = header(HEADER_AUTH);
    const refuse = (status: number, reason: string, why: string) => {
      this.metrics.connectionsRejected.inc({ reason: why });
      this.logLimited(
        `refuse:${why}`,
        'warn',
        { why, cluster, from, to, remote: req.socket.remoteAddress },
        'refused raft connection',
      );
      return { ok: false as const, status, reason };
    };
    if (this.closed) return refuse(503, 'Service Unavailable', 'closed');
    if (this.tls?.requirePeerCertificate) {
      // Checked before anything else the peer says: without a verified certificate nothing
      // from this connection is believed.
      const socket = req.socket as Partial<TLSSocket>;
      if (socket.encrypted !== true) return refuse(403, 'Forbidden', 'not-tls');
      if (socket.authorized !== true) return refuse(403, 'Forbidden', 'untrusted-certificate');
    }
    if (cluster !== this.settings.clusterId) return refuse(403, 'Forbidden', 'cluster-mismatch');
    if (to !== this.settings.memberId) return refuse(403, 'Forbidden', 'wrong-member');
    if (from.length === 0 || from.length > MAX_ID_LENGTH || from === this.settings.memberId) {
      return refuse(400, 'Bad Request', 'bad-sender');
    }
    const expected = Buffer.from(raftAuthToken(this.settings.secret, cluster, from, to));
    const got = Buffer.from(auth);
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      return refuse(401, 'Unauthorized', 'bad-auth');
    }
    if (this.incoming.size >= this.settings.maxIncomingConnections) {
      return refuse(503, 'Service Unavailable', 'too-many-connections');
    }
    return { ok: true, from };
  }

  private accept(ws: WebSocket, from: string): void {
    if (this.closed) {
      ws.terminate();
      return;
    }
    // One incoming connection per peer: a reconnecting peer replaces its old (maybe half-open)
    // connection.
    for (const c of this.incoming) {
      if (c.from === from) {
        c.ws.terminate();
        this.incoming.delete(c);
      }
    }
    const conn = new IncomingConnection(ws, from, this);
    this.incoming.add(conn);
    ws.on('close', () => this.incoming.delete(conn));
  }

  /** Called by an incoming connection for each frame. Returns false to close the connection. */
  receiveFrame(conn: IncomingConnection, data: RawData, isBinary: boolean): boolean {
    if (!isBinary || !Buffer.isBuffer(data)) {
      return this.rejectConnection(conn, 'text-frame', 'a text frame on the raft connection');
    }
    let m: ballast.raft.RaftMessage;
    try {
      m = ballast.raft.RaftMessage.decode(data);
    } catch (err) {
      return this.rejectConnection(conn, 'undecodable', `undecodable frame: ${String(err)}`);
    }
    if (m.clusterId !== this.settings.clusterId) {
      this.metrics.messagesRejected.inc({ reason: 'cluster-mismatch' });
      this.logLimited(
        'msg-cluster-mismatch',
        'warn',
        { from: conn.from, clusterId: m.clusterId },
        'dropped raft message of another cluster',
      );
      return true;
    }
    if (m.from !== conn.from) {
      return this.rejectConnection(
        conn,
        'wrong-sender',
        `message from ${m.from} on ${conn.from}'s connection`,
      );
    }
    if (m.to !== this.settings.memberId) {
      this.metrics.messagesRejected.inc({ reason: 'wrong-addressee' });
      return true;
    }
    if (this.blocked.has(conn.from)) {
      this.metrics.messagesRejected.inc({ reason: 'blocked' });
      return true;
    }
    let whole: Message | undefined = m;
    if (m.installSnapshot) {
      whole = conn.assemble(m, this.settings.maxSnapshotBytes, (reason) => {
        this.metrics.messagesRejected.inc({ reason });
        this.logLimited(
          `snap:${reason}`,
          'warn',
          { from: conn.from, reason },
          'snapshot chunk dropped',
        );
      });
      if (whole === undefined) return true;
      this.metrics.snapshots.inc({ kind: 'received' });
      this.metrics.snapshotBytes.observe(
        { kind: 'received' },
        whole.installSnapshot?.data?.length ?? 0,
      );
    }
    this.metrics.messagesReceived.inc();
    try {
      this.handler?.onMessage(whole);
    } catch (err) {
      if (isRaftError(err, 'invalid-message')) {
        this.metrics.messagesRejected.inc({ reason: 'invalid-message' });
        this.logLimited(
          `invalid:${conn.from}`,
          'warn',
          { from: conn.from, err: (err as Error).message },
          'invalid raft message dropped',
        );
        return true;
      }
      throw err;
    }
    return true;
  }

  private rejectConnection(conn: IncomingConnection, reason: string, detail: string): false {
    this.metrics.connectionsRejected.inc({ reason });
    this.logLimited(
      `conn:${reason}`,
      'warn',
      { from: conn.from, detail },
      'closing raft connection: bad input',
    );
    return false;
  }

  // -------------------------------------------------------------------------------------------
  // Shared with PeerSender

  /** @internal */
  get internals(): {
    log: Logger;
    metrics: RaftMetrics;
    handler: TransportHandler | undefined;
  } {
    return { log: this.log, metrics: this.metrics, handler: this.handler };
  }

  /** Logs at most once per 5 s per key, so that a misbehaving peer cannot flood the log. */
  logLimited(key: string, level: 'warn' | 'info', obj: object, msg: string): void {
    const now = Date.now();
    const last = this.lastLogMs.get(key) ?? 0;
    if (now - last < 5000) return;
    if (this.lastLogMs.size > 1000) this.lastLogMs.clear();
    this.lastLogMs.set(key, now);
    this.log[level](obj, msg);
  }
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

class IncomingConnection {
  lastSeenMs = Date.now();
  private snapshot:
    { index: number; term: number; first: Message; parts: Uint8Array[]; bytes: number } | undefined;

  constructor(
    readonly ws: WebSocket,
    readonly from: string,
    transport: RaftTransport,
  ) {
    ws.binaryType = 'nodebuffer';
    ws.on('ping', () => (this.lastSeenMs = Date.now()));
    ws.on('message', (data, isBinary) => {
      this.lastSeenMs = Date.now();
      let keep: boolean;
      try {
        keep = transport.receiveFrame(this, data, isBinary);
      } catch (err) {
        transport.internals.log.error({ err, from }, 'raft message handler failed');
        keep = false;
      }
      if (!keep) ws.close(1008, 'bad input');
    });
    ws.on('error', (err) => {
      transport.logLimited(
        `in-err:${from}`,
        'info',
        { from, err: err.message },
        'raft connection error',
      );
    });
  }

  /**
   * Snapshot chunks arrive in order on this connection; returns the whole snapshot message on
   * the last one. A chunk out of order or over the size bound drops the assembly.
   */
  assemble(m: Message, maxBytes: number, drop: (reason: string) => void): Message | undefined {
    const s = m.installSnapshot!;
    const meta = s.metadata;
    const index = Number(meta?.index ?? 0);
    const term = Number(meta?.term ?? 0);
    const offset = Number(s.offset ?? 0);
    const data = s.data ?? new Uint8Array(0);
    if (offset === 0) {
      if (s.done) {
        this.snapshot = undefined;
        return m;
      }
      this.snapshot = { index, term, first: m, parts: [], bytes: 0 };
    }
    const a = this.snapshot;
    if (a === undefined || a.index !== index || a.term !== term || a.bytes !== offset) {
      this.snapshot = undefined;
      drop('snapshot-chunk-out-of-order');
      return undefined;
    }
    if (a.bytes + data.length > maxBytes) {
      this.snapshot = undefined;
      drop('snapshot-too-large');
      return undefined;
    }
    a.parts.push(data);
    a.bytes += data.length;
    if (!s.done) return undefined;
    this.snapshot = undefined;
    const whole = Buffer.concat(a.parts, a.bytes);
    return {
      clusterId: m.clusterId,
      from: m.from,
      to: m.to,
      term: m.term,
      installSnapshot: { metadata: meta, offset: 0, data: whole, done: true },
    };
  }
}

type SenderState = 'idle' | 'connecting' | 'open' | 'backoff' | 'closed';

/** The outgoing side for one peer: a bounded queue in front of one WebSocket. */
class PeerSender {
  private state: SenderState = 'idle';
  private ws: WebSocket | undefined;
  private queue: QueueItem[] = [];
  private queueBytes = 0;
  private snapshot: SnapshotJob | undefined;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private lastActivityMs = Date.now();
  private waitingForDrain = false;
  private closingIdle = false;
  private lastPongMs = 0;
  private readonly s: Settings;

  constructor(
    readonly id: string,
    readonly url: string,
    private readonly t: RaftTransport,
  ) {
    this.s = t.settings;
  }

  stats(): { connected: boolean; queuedMessages: number; queuedBytes: number } {
    return {
      connected: this.state === 'open',
      queuedMessages: this.queue.length,
      queuedBytes: this.queueBytes,
    };
  }

  enqueue(m: Message): void {
    if (this.state === 'closed') return;
    this.lastActivityMs = Date.now();
    if (m.installSnapshot) {
      this.startSnapshot(m);
    } else {
      const bytes = ballast.raft.RaftMessage.encode(m).finish();
      if (bytes.length > this.s.maxFrameBytes) {
        this.drop('too-large');
        this.t.logLimited(
          'too-large',
          'warn',
          { peer: this.id, sizeBytes: bytes.length, kind: kindOf(m) },
          'raft message larger than maxFrameBytes dropped',
        );
        return;
      }
      const item: QueueItem = { bytes, critical: isCritical(m), enqueuedAtMs: Date.now() };
      while (
        this.queue.length + 1 > this.s.maxQueueMessages ||
        this.queueBytes + bytes.length > this.s.maxQueueBytes
      ) {
        const victim = this.queue.findIndex((q) => !q.critical);
        if (victim < 0) {
          // Only critical messages queued: the newest one goes.
          this.drop('queue-full');
          return;
        }
        const [gone] = this.queue.splice(victim, 1);
        this.queueBytes -= gone!.bytes.length;
        this.drop('queue-full');
      }
      this.queue.push(item);
      this.queueBytes += bytes.length;
    }
    if (this.state === 'idle') this.connect();
    else if (this.state === 'open') this.pump();
  }

  /** Pings an open connection; terminates it when it has not answered since `deadline`. */
  checkLiveness(deadline: number): void {
    const ws = this.ws;
    if (this.state !== 'open' || ws === undefined) return;
    if (this.lastPongMs < deadline) {
      this.t.logLimited(
        `out-dead:${this.id}`,
        'info',
        { peer: this.id },
        'raft peer stopped answering pings',
      );
      ws.terminate();
      return;
    }
    ws.ping();
  }

  closeIfIdle(): void {
    if (
      this.state === 'open' &&
      this.queue.length === 0 &&
      this.snapshot === undefined &&
      Date.now() - this.lastActivityMs > this.s.idleCloseMs
    ) {
      this.t.internals.log.debug({ peer: this.id }, 'closing idle raft connection');
      this.closingIdle = true;
      this.ws?.close(1000, 'idle');
    }
  }

  close(): void {
    this.state = 'closed';
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.ws?.terminate();
    this.ws = undefined;
    this.queue = [];
    this.queueBytes = 0;
    this.snapshot = undefined;
  }

  private drop(reason: string): void {
    this.t.internals.metrics.peerDropped.inc({ peer: this.id, reason });
  }

  private startSnapshot(m: Message): void {
    if (this.snapshot !== undefined) {
      // The core gave up on the previous send (it only sends one at a time): replace it.
      this.t.internals.log.info({ peer: this.id }, 'replacing an unfinished snapshot send');
    }
    const data = m.installSnapshot!.data ?? new Uint8Array(0);
    this.snapshot = { message: m, data, offset: 0, finished: false };
    this.t.internals.metrics.snapshotBytes.observe({ kind: 'sent' }, data.length);
  }

  private connect(): void {
    if (this.state === 'closed') return;
    this.state = 'connecting';
    const { clusterId, memberId, secret } = this.s;
    const log = this.t.internals.log;
    const metrics = this.t.internals.metrics;
    const tls = this.t.tls;
    if (tls !== undefined && !this.url.startsWith('wss:')) {
      // With TLS configured, a plain peer URL is a misconfiguration (or a downgrade): never send
      // frames in the clear. Counted and retried with backoff, as any failed connection.
      metrics.peerConnects.inc({ peer: this.id, outcome: 'failed' });
      this.t.logLimited(
        `plain:${this.id}`,
        'warn',
        { peer: this.id, url: this.url },
        'refusing a plain ws:// raft peer: TLS is configured',
      );
      this.onDisconnected(false);
      return;
    }
    const ws = new WebSocket(this.url, {
      ...(tls?.ca !== undefined ? { ca: tls.ca } : {}),
      ...(tls?.cert !== undefined && tls.key !== undefined ? { cert: tls.cert, key: tls.key } : {}),
      headers: {
        [HEADER_CLUSTER]: clusterId,
        [HEADER_FROM]: memberId,
        [HEADER_TO]: this.id,
        [HEADER_AUTH]: raftAuthToken(secret, clusterId, memberId, this.id),
      },
      perMessageDeflate: false,
      handshakeTimeout: this.s.connectTimeoutMs,
      // This side never receives: anything the server sends is a protocol error.
      maxPayload: 1024,
    });
    this.ws = ws;
    let opened = false;
    ws.on('open', () => {
      if (this.ws !== ws) return;
      opened = true;
      this.state = 'open';
      this.lastPongMs = Date.now();
      this.attempt = 0;
      metrics.peerConnects.inc({ peer: this.id, outcome: 'ok' });
      metrics.peerConnected.set({ peer: this.id }, 1);
      log.info({ peer: this.id, url: this.url }, 'raft peer connected');
      this.pump();
    });
    ws.on('message', () => ws.close(1008, 'unexpected message'));
    ws.on('pong', () => (this.lastPongMs = Date.now()));
    ws.on('error', (err) => {
      this.t.logLimited(
        `out-err:${this.id}`,
        'info',
        { peer: this.id, url: this.url, err: err.message },
        'raft peer connection error',
      );
    });
    ws.on('close', () => {
      if (this.ws !== ws) return;
      if (!opened) metrics.peerConnects.inc({ peer: this.id, outcome: 'failed' });
      this.onDisconnected(opened);
    });
  }

  private onDisconnected(wasOpen: boolean): void {
    this.ws = undefined;
    this.waitingForDrain = false;
    const { metrics, handler, log } = this.t.internals;
    metrics.peerConnected.set({ peer: this.id }, 0);
    if (wasOpen) log.info({ peer: this.id }, 'raft peer disconnected');
    if (this.snapshot !== undefined) {
      this.snapshot = undefined;
      metrics.snapshots.inc({ kind: 'send-failed' });
      handler?.onSnapshotStatus(this.id, false);
    }
    if (this.state === 'closed') return;
    if (this.closingIdle) {
      this.closingIdle = false;
      this.state = 'idle';
      if (this.queue.length > 0) this.connect();
      return;
    }
    handler?.onUnreachable(this.id);
    this.state = 'backoff';
    const ceiling = Math.min(
      this.s.reconnectMaxDelayMs,
      this.s.reconnectInitialDelayMs * 2 ** Math.min(this.attempt, 20),
    );
    this.attempt++;
    // Equal jitter: at least half the ceiling, so that retries never spin.
    const half = Math.max(1, Math.floor(ceiling / 2));
    const delayMs = half + randomInt(0, half + 1);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.state !== 'backoff') return;
      if (this.queue.length > 0 || this.snapshot !== undefined) this.connect();
      else this.state = 'idle';
    }, delayMs);
  }

  /** Hands queued frames to the socket while it is not backed up. */
  private pump(): void {
    const ws = this.ws;
    if (this.state !== 'open' || ws === undefined) return;
    const { metrics } = this.t.internals;
    const now = Date.now();
    while (ws.bufferedAmount < this.s.socketHighWaterBytes) {
      const item = this.queue.shift();
      if (item !== undefined) {
        this.queueBytes -= item.bytes.length;
        if (!item.critical && now - item.enqueuedAtMs > this.s.maxMessageAgeMs) {
          this.drop('stale');
          continue;
        }
        ws.send(item.bytes, { binary: true }, this.onWritten);
        metrics.messagesSent.inc();
        metrics.bytesSent.inc(item.bytes.length);
        continue;
      }
      // Regular messages go first; one snapshot chunk after each round of them, so that
      // heartbeats are not stuck behind a large snapshot.
      if (!this.sendSnapshotChunk(ws)) break;
    }
    if (ws.bufferedAmount >= this.s.socketHighWaterBytes) this.waitingForDrain = true;
  }

  // Write callbacks get null or undefined on success, depending on the path through ws.
  private readonly onWritten = (err?: Error | null): void => {
    if (err != null) return; // the close handler deals with it
    if (this.waitingForDrain && this.ws !== undefined) {
      if (this.ws.bufferedAmount < this.s.socketHighWaterBytes) {
        this.waitingForDrain = false;
        this.pump();
      }
    }
  };

  private sendSnapshotChunk(ws: WebSocket): boolean {
    const job = this.snapshot;
    if (job === undefined || job.finished) return false;
    const end = Math.min(job.data.length, job.offset + this.s.snapshotChunkBytes);
    const done = end >= job.data.length;
    const m = job.message;
    const bytes = ballast.raft.RaftMessage.encode({
      clusterId: m.clusterId,
      from: m.from,
      to: m.to,
      term: m.term,
      installSnapshot: {
        metadata: m.installSnapshot!.metadata,
        offset: job.offset,
        data: job.data.subarray(job.offset, end),
        done,
      },
    }).finish();
    job.offset = end;
    const { metrics, handler } = this.t.internals;
    metrics.messagesSent.inc();
    metrics.bytesSent.inc(bytes.length);
    if (!done) {
      ws.send(bytes, { binary: true }, this.onWritten);
      return true;
    }
    job.finished = true;
    ws.send(bytes, { binary: true }, (err?: Error | null) => {
      // On error the job stays, and the close handler reports the failure.
      if (err == null && this.snapshot === job) {
        this.snapshot = undefined;
        metrics.snapshots.inc({ kind: 'sent' });
        handler?.onSnapshotStatus(this.id, true);
      }
      this.onWritten(err);
    });
    return true;
  }
}
