import { connect, type Socket } from 'node:net';

/**
 * A small pipelined NBD client (fixed newstyle, NBD_OPT_GO, simple replies) for the torture
 * workloads: they need to know exactly which request the server acknowledged and when, which
 * fio and qemu-io do not report. Requests carry a cookie; replies may come in any order.
 */

const NBDMAGIC = 0x4e42444d41474943n; // "NBDMAGIC"
const IHAVEOPT = 0x49484156454f5054n; // "IHAVEOPT"
const OPTION_REPLY_MAGIC = 0x0003e889045565a9n;
const REQUEST_MAGIC = 0x25609513;
const SIMPLE_REPLY_MAGIC = 0x67446698;
const OPT_GO = 7;
const REP_ACK = 1;
const REP_INFO = 3;
const INFO_EXPORT = 0;
const FLAG_FIXED_NEWSTYLE = 1;
const FLAG_NO_ZEROES = 2;
const CMD_READ = 0;
const CMD_WRITE = 1;
const CMD_DISC = 2;
const CMD_FLUSH = 3;
const CMD_FLAG_FUA = 1;
/** Bound on one request's wait: a request the server never answers fails, it is not lost. */
const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;

export class NbdError extends Error {
  constructor(
    message: string,
    /** The NBD error number (EIO 5, EPERM 1, ...), 0 for a connection problem. */
    readonly errno: number,
  ) {
    super(message);
    this.name = 'NbdError';
  }
}

interface Pending {
  readonly cookie: bigint;
  readonly readLength: number;
  readonly resolve: (data: Buffer) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export interface NbdConnectOptions {
  /** Unix socket path of the export. */
  socketPath: string;
  exportName?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export class NbdClient {
  readonly sizeBytes: number;
  private buffered: Buffer = Buffer.alloc(0);
  private readonly pending = new Map<bigint, Pending>();
  private nextCookie = 1n;
  private error: Error | null = null;
  private readonly requestTimeoutMs: number;

  private constructor(
    private readonly socket: Socket,
    sizeBytes: number,
    leftover: Buffer,
    requestTimeoutMs: number,
  ) {
    this.sizeBytes = sizeBytes;
    this.requestTimeoutMs = requestTimeoutMs;
    this.buffered = leftover;
    socket.on('data', (d: Buffer) => {
      this.buffered = this.buffered.length === 0 ? d : Buffer.concat([this.buffered, d]);
      this.drain();
    });
    const fail = (err: Error): void => this.failAll(err);
    socket.on('error', fail);
    socket.on('close', () => fail(new NbdError('connection closed', 0)));
    if (leftover.length > 0) this.drain();
  }

  static async connect(options: NbdConnectOptions): Promise<NbdClient> {
    const socket = connect(options.socketPath);
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    const reader = new HandshakeReader(socket, timeoutMs);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      const greeting = await reader.read(18);
      if (greeting.readBigUInt64BE(0) !== NBDMAGIC || greeting.readBigUInt64BE(8) !== IHAVEOPT) {
        throw new NbdError('not an NBD newstyle server', 0);
      }
      const flags = greeting.readUInt16BE(16);
      if ((flags & FLAG_FIXED_NEWSTYLE) === 0)
        throw new NbdError('server is not fixed newstyle', 0);
      const clientFlags = Buffer.alloc(4);
      clientFlags.writeUInt32BE(FLAG_FIXED_NEWSTYLE | (flags & FLAG_NO_ZEROES));
      socket.write(clientFlags);
      const name = Buffer.from(options.exportName ?? '', 'utf8');
      const data = Buffer.alloc(4 + name.length + 2);
      data.writeUInt32BE(name.length, 0);
      name.copy(data, 4);
      data.writeUInt16BE(0, 4 + name.length); // no information requests
      const header = Buffer.alloc(16);
      header.writeBigUInt64BE(IHAVEOPT, 0);
      header.writeUInt32BE(OPT_GO, 8);
      header.writeUInt32BE(data.length, 12);
      socket.write(Buffer.concat([header, data]));
      let sizeBytes = -1;
      for (;;) {
        const reply = await reader.read(20);
        if (reply.readBigUInt64BE(0) !== OPTION_REPLY_MAGIC) {
          throw new NbdError('bad option reply magic', 0);
        }
        const type = reply.readUInt32BE(12);
        const length = reply.readUInt32BE(16);
        const payload = await reader.read(length);
        if (type === REP_ACK) break;
        if (type === REP_INFO && payload.length >= 12 && payload.readUInt16BE(0) === INFO_EXPORT) {
          sizeBytes = Number(payload.readBigUInt64BE(2));
        } else if (type >= 0x80000000) {
          throw new NbdError(
            `server refused the export (${type.toString(16)}): ${payload.toString('utf8')}`,
            0,
          );
        }
      }
      if (sizeBytes < 0) throw new NbdError('server sent no export size', 0);
      return new NbdClient(
        socket,
        sizeBytes,
        reader.rest(),
        options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      );
    } catch (err) {
      socket.destroy();
      throw err instanceof NbdError ? err : new NbdError((err as Error).message, 0);
    } finally {
      reader.stop();
    }
  }

  get closed(): boolean {
    return this.error !== null;
  }

  read(offset: number, length: number): Promise<Buffer> {
    return this.request(CMD_READ, 0, offset, length, null);
  }

  async write(offset: number, data: Buffer, fua = false): Promise<void> {
    await this.request(CMD_WRITE, fua ? CMD_FLAG_FUA : 0, offset, data.length, data);
  }

  async flush(): Promise<void> {
    await this.request(CMD_FLUSH, 0, 0, 0, null);
  }

  /** Disconnects politely (NBD_CMD_DISC) once the requests in flight are answered. */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.error !== null) return;
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0 && this.error === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (this.error !== null) return;
    const header = this.header(CMD_DISC, 0, 0n, 0, 0);
    this.socket.end(header);
    this.failAll(new NbdError('closed by client', 0));
  }

  destroy(): void {
    this.socket.destroy();
    this.failAll(new NbdError('closed by client', 0));
  }

  private request(
    command: number,
    flags: number,
    offset: number,
    length: number,
    payload: Buffer | null,
  ): Promise<Buffer> {
    if (this.error !== null) return Promise.reject(this.error);
    const cookie = this.nextCookie++;
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(cookie)) {
          reject(new NbdError(`no reply within ${this.requestTimeoutMs} ms`, 0));
        }
      }, this.requestTimeoutMs);
      timer.unref();
      this.pending.set(cookie, {
        cookie,
        readLength: command === CMD_READ ? length : 0,
        resolve,
        reject,
        timer,
      });
      const header = this.header(command, flags, cookie, offset, length);
      this.socket.write(payload === null ? header : Buffer.concat([header, payload]));
    });
  }

  private header(
    command: number,
    flags: number,
    cookie: bigint,
    offset: number,
    length: number,
  ): Buffer {
    const h = Buffer.alloc(28);
    h.writeUInt32BE(REQUEST_MAGIC, 0);
    h.writeUInt16BE(flags, 4);
    h.writeUInt16BE(command, 6);
    h.writeBigUInt64BE(cookie, 8);
    h.writeBigUInt64BE(BigInt(offset), 16);
    h.writeUInt32BE(length, 24);
    return h;
  }

  private drain(): void {
    while (this.buffered.length >= 16) {
      if (this.buffered.readUInt32BE(0) !== SIMPLE_REPLY_MAGIC) {
        this.failAll(new NbdError('bad reply magic (structured replies are not asked for)', 0));
        this.socket.destroy();
        return;
      }
      const errno = this.buffered.readUInt32BE(4);
      const cookie = this.buffered.readBigUInt64BE(8);
      const p = this.pending.get(cookie);
      if (p === undefined) {
        this.failAll(new NbdError(`reply for an unknown cookie ${cookie}`, 0));
        this.socket.destroy();
        return;
      }
      // A read's data follows an OK reply only.
      const dataLength = errno === 0 ? p.readLength : 0;
      if (this.buffered.length < 16 + dataLength) return;
      const data = Buffer.from(this.buffered.subarray(16, 16 + dataLength));
      this.buffered = this.buffered.subarray(16 + dataLength);
      this.pending.delete(cookie);
      clearTimeout(p.timer);
      if (errno === 0) p.resolve(data);
      else p.reject(new NbdError(`server answered errno ${errno}`, errno));
    }
  }

  private failAll(err: Error): void {
    if (this.error === null) this.error = err;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}

/** Reads exact byte counts from a socket during the handshake. */
class HandshakeReader {
  private buffered: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  private failure: Error | null = null;
  private readonly onData = (d: Buffer): void => {
    this.buffered = Buffer.concat([this.buffered, d]);
    this.waiter?.();
  };
  private readonly onEnd = (): void => {
    this.failure ??= new NbdError('connection closed during the handshake', 0);
    this.waiter?.();
  };

  constructor(
    private readonly socket: Socket,
    private readonly timeoutMs: number,
  ) {
    socket.on('data', this.onData);
    socket.on('close', this.onEnd);
    socket.on('error', this.onEnd);
  }

  async read(n: number): Promise<Buffer> {
    const deadline = Date.now() + this.timeoutMs;
    while (this.buffered.length < n) {
      if (this.failure) throw this.failure;
      const left = deadline - Date.now();
      if (left <= 0) throw new NbdError(`handshake took more than ${this.timeoutMs} ms`, 0);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = null;
    }
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }

  rest(): Buffer {
    return this.buffered;
  }

  stop(): void {
    this.socket.off('data', this.onData);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onEnd);
  }
}
