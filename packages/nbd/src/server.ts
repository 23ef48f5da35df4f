import * as fs from 'node:fs';
import * as net from 'node:net';
import { BallastError } from '@ballast/common';
import {
  NbdConnection,
  type ConnectionHost,
  type ConnectionLimits,
  type NbdLogger,
  type ServedExport,
} from './connection.js';
import type { NbdBlockDevice } from './device-extensions.js';
import { DEFAULT_BLOCK_SIZES, type BlockSizes, type ExportCatalog } from './negotiation.js';
import { MAX_STRING_BYTES } from './protocol.js';
import { CommandCounters, type NbdServerStats } from './stats.js';

export interface NbdServerOptions extends Partial<ConnectionLimits> {
  logger?: NbdLogger;
  /** Open connections across all listeners; more are closed at once. */
  maxConnections?: number;
  /** How long close() lets running requests finish before cutting connections. */
  closeTimeoutMs?: number;
}

export interface ExportOptions {
  description?: string;
  readOnly?: boolean;
  /**
   * Advertise NBD_FLAG_CAN_MULTI_CONN. Only set this when every connection to the export sees
   * one shared device state and a FLUSH on any connection makes writes acknowledged on all of
   * them durable (true for FileBlockDevice and MemoryBlockDevice, which every connection shares).
   */
  multiConn?: boolean;
}

export interface ListenOptions {
  /** Exports offered on this listener; all exports (present and future) when omitted. */
  exports?: string[];
  /** The export a client gets when it asks for the empty name "". */
  defaultExport?: string;
}

export interface UnixListenOptions extends ListenOptions {
  /** File mode for the socket (default 0o600: only the owner, root for the agent). */
  mode?: number;
}

export interface TcpListenOptions extends ListenOptions {
  host?: string;
  /** 0 picks a free port; the chosen one is returned. */
  port?: number;
}

const DEFAULT_LIMITS: ConnectionLimits = {
  maxInFlightRequests: 256,
  maxInFlightBytes: 64 * 1024 * 1024,
  maxReplyBacklogBytes: 16 * 1024 * 1024,
  maxPayloadBytes: DEFAULT_BLOCK_SIZES.maximumBytes,
  maxDiscardBytes: 64 * 1024 * 1024,
  maxOptionBytes: 64 * 1024,
  maxOptions: 1024,
  handshakeTimeoutMs: 30_000,
};

const SILENT_LOGGER: NbdLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

class ExportEntry implements ServedExport {
  readonly counters = new CommandCounters();
  readonly connections = new Set<NbdConnection>();
  constructor(
    readonly name: string,
    readonly device: NbdBlockDevice,
    readonly description: string,
    readonly readOnly: boolean,
    readonly multiConn: boolean,
  ) {}
  get sizeBytes(): number {
    return this.device.sizeBytes;
  }
}

interface Listener {
  readonly server: net.Server;
  readonly unixPath: string | undefined;
}

/**
 * An NBD server (fixed newstyle, structured replies, base:allocation) serving named exports,
 * each backed by a BlockDevice, on any number of unix-socket and TCP listeners.
 */
export class NbdServer {
  private readonly exports = new Map<string, ExportEntry>();
  private readonly listeners: Listener[] = [];
  private readonly connections = new Set<NbdConnection>();
  private readonly logger: NbdLogger;
  private readonly limits: ConnectionLimits;
  private readonly maxConnections: number;
  private readonly closeTimeoutMs: number;
  private readonly blockSizes: BlockSizes;
  private closing = false;
  private connectionsTotal = 0;
  private connectionsRefused = 0;
  private handshakesCompleted = 0;
  private maxBufferedBytesClosed = 0;

  constructor(options: NbdServerOptions = {}) {
    this.logger = options.logger ?? SILENT_LOGGER;
    this.limits = {
      maxInFlightRequests: options.maxInFlightRequests ?? DEFAULT_LIMITS.maxInFlightRequests,
      maxInFlightBytes: options.maxInFlightBytes ?? DEFAULT_LIMITS.maxInFlightBytes,
      maxReplyBacklogBytes: options.maxReplyBacklogBytes ?? DEFAULT_LIMITS.maxReplyBacklogBytes,
      maxPayloadBytes: options.maxPayloadBytes ?? DEFAULT_LIMITS.maxPayloadBytes,
      maxDiscardBytes: options.maxDiscardBytes ?? DEFAULT_LIMITS.maxDiscardBytes,
      maxOptionBytes: options.maxOptionBytes ?? DEFAULT_LIMITS.maxOptionBytes,
      maxOptions: options.maxOptions ?? DEFAULT_LIMITS.maxOptions,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULT_LIMITS.handshakeTimeoutMs,
    };
    for (const [key, value] of Object.entries(this.limits)) {
      if (!Number.isSafeInteger(value) || value <= 0) {
        throw new BallastError('CONFIG', `nbd server: ${key} must be a positive integer`);
      }
    }
    const max = this.limits.maxPayloadBytes;
    if (max < 4096 || max > 0xffffffff) {
      throw new BallastError('CONFIG', 'nbd server: maxPayloadBytes must be in [4096, 2^32)');
    }
    this.blockSizes = { ...DEFAULT_BLOCK_SIZES, maximumBytes: max };
    this.maxConnections = options.maxConnections ?? 1024;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
  }

  addExport(name: string, device: NbdBlockDevice, options: ExportOptions = {}): void {
    if (this.closing) throw new BallastError('UNAVAILABLE', 'nbd server is closing');
    checkString('export name', name);
    const description = options.description ?? '';
    checkString('export description', description);
    if (this.exports.has(name)) {
      throw new BallastError('CONFLICT', `nbd export "${name}" already exists`);
    }
    if (!Number.isSafeInteger(device.sizeBytes) || device.sizeBytes < 0) {
      throw new BallastError('INVALID_ARGUMENT', `device size ${device.sizeBytes} is not valid`);
    }
    this.exports.set(
      name,
      new ExportEntry(
        name,
        device,
        description,
        options.readOnly ?? false,
        options.multiConn ?? false,
      ),
    );
  }

  /**
   * Removes an export: new clients cannot choose it, and its connections are drained (running
   * requests finish) and closed. The device is the caller's to close afterwards.
   */
  async removeExport(name: string): Promise<void> {
    const entry = this.exports.get(name);
    if (entry === undefined) throw new BallastError('NOT_FOUND', `no nbd export "${name}"`);
    this.exports.delete(name);
    await this.drainConnections([...entry.connections]);
  }

  async listenUnix(path: string, options: UnixListenOptions = {}): Promise<void> {
    await removeStaleSocket(path);
    const server = this.createListener(options);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    fs.chmodSync(path, options.mode ?? 0o600);
    this.listeners.push({ server, unixPath: path });
    this.logger.info({ path }, 'nbd: listening on unix socket');
  }

  async listenTcp(options: TcpListenOptions = {}): Promise<net.AddressInfo> {
    const server = this.createListener(options);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 10809, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.listeners.push({ server, unixPath: undefined });
    const address = server.address() as net.AddressInfo;
    this.logger.info({ address }, 'nbd: listening on tcp');
    return address;
  }

  stats(): NbdServerStats {
    return {
      connectionsOpen: this.connections.size,
      connectionsTotal: this.connectionsTotal,
      connectionsRefused: this.connectionsRefused,
      handshakesCompleted: this.handshakesCompleted,
      exports: [...this.exports.values()].map((entry) => ({
        name: entry.name,
        connections: entry.connections.size,
        inFlight: entry.counters.inFlight,
        commands: entry.counters.snapshot(),
      })),
    };
  }

  /** The largest input buffer any connection has held (bytes); for tests and debugging. */
  maxBufferedBytes(): number {
    let max = this.maxBufferedBytesClosed;
    for (const connection of this.connections) max = Math.max(max, connection.maxBufferedBytes);
    return max;
  }

  /**
   * Stops the listeners (removing their unix sockets), drains every connection (running
   * requests finish and are answered) and closes them. Devices are left to the caller.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const listenersClosed = this.listeners.map(
      (listener) =>
        new Promise<void>((resolve) => {
          listener.server.close(() => resolve());
        }),
    );
    await this.drainConnections([...this.connections]);
    await Promise.all(listenersClosed);
    for (const listener of this.listeners) {
      if (listener.unixPath !== undefined) fs.rmSync(listener.unixPath, { force: true });
    }
    this.listeners.length = 0;
  }

  private async drainConnections(connections: NbdConnection[]): Promise<void> {
    for (const connection of connections) connection.shutdown();
    let timer: NodeJS.Timeout | undefined;
    const settled = Promise.all(connections.map((c) => c.whenSettled()));
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.closeTimeoutMs);
    });
    const late = await Promise.race([settled.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) {
      for (const connection of connections) {
        connection.destroy(`requests still running after ${this.closeTimeoutMs} ms`);
      }
      // A device call that never settles must not hang close() forever.
      const stuck = await Promise.race([
        settled.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), this.closeTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (stuck) {
        this.logger.error(
          { connections: connections.filter((c) => c.inFlightRequests > 0).map((c) => c.id) },
          'nbd: device requests never settled; giving up on them',
        );
      }
    }
  }

  private createListener(options: ListenOptions): net.Server {
    const named = [...(options.exports ?? [])];
    if (options.defaultExport !== undefined) named.push(options.defaultExport);
    for (const name of named) {
      if (!this.exports.has(name)) throw new BallastError('NOT_FOUND', `no nbd export "${name}"`);
    }
    const allowed = options.exports === undefined ? undefined : new Set(options.exports);
    const catalog: ExportCatalog<ServedExport> = {
      lookup: (name) => {
        const wanted =
          name === '' && options.defaultExport !== undefined ? options.defaultExport : name;
        if (allowed !== undefined && !allowed.has(wanted)) return undefined;
        return this.exports.get(wanted);
      },
      list: () =>
        [...this.exports.values()].filter((e) => allowed === undefined || allowed.has(e.name)),
      shuttingDown: () => this.closing,
    };
    const host: ConnectionHost = {
      limits: this.limits,
      logger: this.logger,
      blockSizes: this.blockSizes,
      attach: (connection, entry) => {
        this.handshakesCompleted += 1;
        (entry as ExportEntry).connections.add(connection);
      },
      detach: (connection) => {
        this.connections.delete(connection);
        this.maxBufferedBytesClosed = Math.max(
          this.maxBufferedBytesClosed,
          connection.maxBufferedBytes,
        );
        for (const entry of this.exports.values()) entry.connections.delete(connection);
        this.logger.debug(
          { conn: connection.id, reason: connection.closeReason },
          'nbd: connection closed',
        );
      },
      refused: () => {
        this.connectionsRefused += 1;
      },
    };
    // allowHalfOpen: a client that shuts down its sending side still gets its replies.
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      this.connectionsTotal += 1;
      if (this.closing || this.connections.size >= this.maxConnections) {
        this.connectionsRefused += 1;
        this.logger.warn(
          { open: this.connections.size },
          this.closing ? 'nbd: refusing connection, closing' : 'nbd: too many connections',
        );
        socket.destroy();
        return;
      }
      this.connections.add(new NbdConnection(socket, host, catalog));
    });
    server.on('error', (err) => this.logger.error({ err: err.message }, 'nbd: listener error'));
    return server;
  }
}

function checkString(what: string, value: string): void {
  if (Buffer.byteLength(value, 'utf8') > MAX_STRING_BYTES || value.includes('\0')) {
    throw new BallastError('INVALID_ARGUMENT', `${what} must be at most 4096 bytes without NUL`);
  }
}

/** A socket file left by a dead process is removed; one a live server answers on is an error. */
async function removeStaleSocket(path: string): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(path);
  } catch {
    return;
  }
  if (!stat.isSocket()) {
    throw new BallastError('CONFLICT', `${path} exists and is not a socket`);
  }
  const alive = await new Promise<boolean>((resolve) => {
    const probe = net.connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new BallastError('CONFLICT', `${path} is in use by a running server`);
  fs.rmSync(path, { force: true });
}
