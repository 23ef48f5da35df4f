import * as net from 'node:net';
import { BallastError, type ErrorCode } from '@ballast/common';
import { protocol as P } from '@ballast/nbd';

/** Option replies larger than this are a protocol error (ours are a few dozen bytes). */
const MAX_OPTION_REPLY_BYTES = 64 * 1024;
const MAX_OPTION_REPLIES = 64;
/** Requests one connection may have outstanding; the front server bounds it far lower. */
const MAX_IN_FLIGHT = 4096;

/** The connection to the server was lost (or never made): the request may be retried. */
export class ConnectionLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionLostError';
  }
}

interface Pending {
  type: number;
  length: number;
  resolve(data: Buffer | undefined): void;
  reject(err: Error): void;
}

/**
 * A minimal NBD client over one unix-socket connection: fixed newstyle handshake with
 * NBD_OPT_GO, then pipelined simple-reply transmission (READ, WRITE, FLUSH, TRIM,
 * WRITE_ZEROES, DISC). No structured replies: a READ that fails carries no payload, which is what
 * @ballast/nbd, nbdkit and qemu-nbd do with simple replies.
 */
export class NbdClient {
  private readonly pending = new Map<number, Pending>();
  private nextCookie = 1;
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Reply whose header has been read and whose READ payload is still arriving. */
  private payloadFor: { cookie: number; pending: Pending; error: number } | undefined;
  private lostError: ConnectionLostError | undefined;
  private readonly closeListeners: Array<(err: ConnectionLostError) => void> = [];

  private constructor(
    private readonly socket: net.Socket,
    readonly sizeBytes: number,
    readonly transmissionFlags: number,
    initial: Buffer[],
  ) {
    for (const chunk of initial) this.push(chunk);
    socket.on('data', (chunk: Buffer) => this.push(chunk));
    socket.on('error', (err) => this.lose(`connection error: ${err.message}`));
    socket.on('close', () => this.lose('connection closed by the server'));
    this.parse();
  }

  static async connect(
    socketPath: string,
    exportName: string,
    timeoutMs: number,
  ): Promise<NbdClient> {
    const socket = net.connect(socketPath);
    const reader = new HandshakeReader(socket);
    const timer = setTimeout(
      () => socket.destroy(new Error(`handshake took longer than ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      const greeting = await reader.read(P.GREETING_BYTES);
      if (
        greeting.readBigUInt64BE(0) !== P.NBDMAGIC ||
        greeting.readBigUInt64BE(8) !== P.IHAVEOPT
      ) {
        throw new BallastError('PROTOCOL', 'not an NBD newstyle server');
      }
      const serverFlags = greeting.readUInt16BE(16);
      if ((serverFlags & P.NBD_FLAG_FIXED_NEWSTYLE) === 0) {
        throw new BallastError('PROTOCOL', 'server does not speak fixed newstyle');
      }
      const noZeroes = (serverFlags & P.NBD_FLAG_NO_ZEROES) !== 0;
      const clientFlags = Buffer.alloc(4);
      clientFlags.writeUInt32BE(
        P.NBD_FLAG_C_FIXED_NEWSTYLE | (noZeroes ? P.NBD_FLAG_C_NO_ZEROES : 0),
      );
      const name = Buffer.from(exportName, 'utf8');
      const option = Buffer.alloc(P.OPTION_HEADER_BYTES + 4 + name.length + 2);
      option.writeBigUInt64BE(P.IHAVEOPT, 0);
      option.writeUInt32BE(P.NBD_OPT_GO, 8);
      option.writeUInt32BE(4 + name.length + 2, 12);
      option.writeUInt32BE(name.length, 16);
      name.copy(option, 20);
      option.writeUInt16BE(0, 20 + name.length); // no information requests: INFO_EXPORT comes anyway
      socket.write(Buffer.concat([clientFlags, option]));

      let sizeBytes: number | undefined;
      let flags = 0;
      for (let replies = 0; ; replies++) {
        if (replies >= MAX_OPTION_REPLIES)
          throw new BallastError('PROTOCOL', 'too many option replies');
        const header = await reader.read(P.OPTION_REPLY_HEADER_BYTES);
        if (header.readBigUInt64BE(0) !== P.OPTION_REPLY_MAGIC) {
          throw new BallastError('PROTOCOL', 'bad option reply magic');
        }
        const type = header.readUInt32BE(12);
        const length = header.readUInt32BE(16);
        if (length > MAX_OPTION_REPLY_BYTES)
          throw new BallastError('PROTOCOL', 'option reply too large');
        const data = await reader.read(length);
        if ((type & 0x80000000) !== 0) {
          throw new BallastError(
            type === P.NBD_REP_ERR_UNKNOWN ? 'NOT_FOUND' : 'PROTOCOL',
            `server refused export ${JSON.stringify(exportName)} (reply 0x${type.toString(16)}` +
              `${data.length > 0 ? `: ${data.toString('utf8')}` : ''})`,
          );
        }
        if (type === P.NBD_REP_INFO && length >= 2 && data.readUInt16BE(0) === P.NBD_INFO_EXPORT) {
          if (length !== 12) throw new BallastError('PROTOCOL', 'bad NBD_INFO_EXPORT length');
          sizeBytes = Number(data.readBigUInt64BE(2));
          flags = data.readUInt16BE(10);
        } else if (type === P.NBD_REP_ACK) {
          break;
        }
      }
      if (sizeBytes === undefined || !Number.isSafeInteger(sizeBytes)) {
        throw new BallastError('PROTOCOL', 'server acknowledged GO without NBD_INFO_EXPORT');
      }
      clearTimeout(timer);
      return new NbdClient(socket, sizeBytes, flags, reader.detach());
    } catch (err) {
      clearTimeout(timer);
      socket.destroy();
      if (err instanceof BallastError) throw err;
      throw new ConnectionLostError(`cannot connect to ${socketPath}: ${(err as Error).message}`);
    }
  }

  get lost(): boolean {
    return this.lostError !== undefined;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  onLost(listener: (err: ConnectionLostError) => void): void {
    if (this.lostError !== undefined) listener(this.lostError);
    else this.closeListeners.push(listener);
  }

  read(offset: number, length: number): Promise<Buffer> {
    return this.request(P.NBD_CMD_READ, 0, offset, length) as Promise<Buffer>;
  }

  async write(offset: number, data: Buffer, fua: boolean): Promise<void> {
    await this.request(P.NBD_CMD_WRITE, fua ? P.NBD_CMD_FLAG_FUA : 0, offset, data.length, data);
  }

  async flush(): Promise<void> {
    await this.request(P.NBD_CMD_FLUSH, 0, 0, 0);
  }

  async trim(offset: number, length: number, fua: boolean): Promise<void> {
    await this.request(P.NBD_CMD_TRIM, fua ? P.NBD_CMD_FLAG_FUA : 0, offset, length);
  }

  async writeZeroes(offset: number, length: number, noHole: boolean, fua: boolean): Promise<void> {
    const flags = (noHole ? P.NBD_CMD_FLAG_NO_HOLE : 0) | (fua ? P.NBD_CMD_FLAG_FUA : 0);
    await this.request(P.NBD_CMD_WRITE_ZEROES, flags, offset, length);
  }

  /** Sends NBD_CMD_DISC after outstanding replies arrive (bounded) and closes the socket. */
  async close(timeoutMs = 5_000): Promise<void> {
    if (this.lostError !== undefined) return;
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0 && Date.now() < deadline && this.lostError === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (this.lostError === undefined) {
      this.socket.end(requestHeader(P.NBD_CMD_DISC, 0, 0, 0, 0));
    }
    this.lose('closed by the client');
    this.socket.destroy();
  }

  private request(
    type: number,
    flags: number,
    offset: number,
    length: number,
    payload?: Buffer,
  ): Promise<Buffer | undefined> {
    if (this.lostError !== undefined) return Promise.reject(this.lostError);
    if (this.pending.size >= MAX_IN_FLIGHT) {
      return Promise.reject(new BallastError('UNAVAILABLE', 'too many NBD requests in flight'));
    }
    const cookie = this.nextCookie;
    this.nextCookie = this.nextCookie >= 0xffffffff ? 1 : this.nextCookie + 1;
    return new Promise((resolve, reject) => {
      this.pending.set(cookie, { type, length, resolve, reject });
      const header = requestHeader(type, flags, cookie, offset, length);
      if (payload === undefined) {
        this.socket.write(header);
      } else {
        this.socket.cork();
        this.socket.write(header);
        this.socket.write(payload);
        this.socket.uncork();
      }
    });
  }

  private push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.parse();
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const head = this.chunks[0]!;
      const used = Math.min(head.length, n - filled);
      head.copy(out, filled, 0, used);
      filled += used;
      if (used === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(used);
    }
    this.buffered -= n;
    return out;
  }

  private parse(): void {
    // Bounded by the bytes buffered: every turn consumes a header or a payload.
    while (this.lostError === undefined) {
      if (this.payloadFor !== undefined) {
        const { pending, cookie } = this.payloadFor;
        if (this.buffered < pending.length) return;
        const data = this.take(pending.length);
        this.payloadFor = undefined;
        this.pending.delete(cookie);
        // take() may return a view of a socket chunk; the caller keeps it, which is fine since
        // socket chunks are never reused.
        pending.resolve(data);
        continue;
      }
      if (this.buffered < P.SIMPLE_REPLY_HEADER_BYTES) return;
      const header = this.take(P.SIMPLE_REPLY_HEADER_BYTES);
      if (header.readUInt32BE(0) !== P.NBD_SIMPLE_REPLY_MAGIC) {
        this.lose('protocol error: unexpected reply magic');
        this.socket.destroy();
        return;
      }
      const error = header.readUInt32BE(4);
      const cookieHigh = header.readUInt32BE(8);
      const cookie = header.readUInt32BE(12);
      const pending = this.pending.get(cookie);
      if (pending === undefined || cookieHigh !== 0) {
        this.lose(`protocol error: reply for unknown cookie ${cookie}`);
        this.socket.destroy();
        return;
      }
      if (pending.type === P.NBD_CMD_READ && error === 0 && pending.length > 0) {
        this.payloadFor = { cookie, pending, error };
        continue;
      }
      this.pending.delete(cookie);
      if (error === 0) pending.resolve(undefined);
      else pending.reject(replyError(error));
    }
  }

  private lose(reason: string): void {
    if (this.lostError !== undefined) return;
    const err = new ConnectionLostError(reason);
    this.lostError = err;
    for (const pending of this.pending.values()) pending.reject(err);
    this.pending.clear();
    this.chunks = [];
    this.buffered = 0;
    for (const listener of this.closeListeners.splice(0)) listener(err);
  }
}

function requestHeader(
  type: number,
  flags: number,
  cookie: number,
  offset: number,
  length: number,
): Buffer {
  const header = Buffer.allocUnsafe(P.REQUEST_HEADER_BYTES);
  header.writeUInt32BE(P.NBD_REQUEST_MAGIC, 0);
  header.writeUInt16BE(flags, 4);
  header.writeUInt16BE(type, 6);
  header.writeUInt32BE(0, 8);
  header.writeUInt32BE(cookie, 12);
  header.writeUInt32BE(Math.floor(offset / 0x100000000), 16);
  header.writeUInt32BE(offset % 0x100000000, 20);
  header.writeUInt32BE(length, 24);
  return header;
}

const ERRNO_NAMES: Record<number, string> = {
  [P.NBD_EPERM]: 'EPERM',
  [P.NBD_EIO]: 'EIO',
  [P.NBD_ENOMEM]: 'ENOMEM',
  [P.NBD_EINVAL]: 'EINVAL',
  [P.NBD_ENOSPC]: 'ENOSPC',
  [P.NBD_EOVERFLOW]: 'EOVERFLOW',
  [P.NBD_ENOTSUP]: 'ENOTSUP',
  [P.NBD_ESHUTDOWN]: 'ESHUTDOWN',
};

const CODE_FOR: Record<string, ErrorCode> = {
  EPERM: 'FORBIDDEN',
  EINVAL: 'INVALID_ARGUMENT',
};

/** The server is going away: the request was not executed and may go to the next connection. */
export class ServerShutdownError extends ConnectionLostError {}

function replyError(error: number): Error {
  const errno = ERRNO_NAMES[error] ?? `errno ${error}`;
  if (error === P.NBD_ESHUTDOWN) return new ServerShutdownError('server is shutting down');
  const cause = Object.assign(new Error(errno), { code: errno });
  return new BallastError(CODE_FOR[errno] ?? 'IO', `upstream NBD error ${errno}`, { errno }, cause);
}

/** Reads exact byte counts from a socket during the handshake; hands leftovers on afterwards. */
class HandshakeReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiter: { n: number; resolve(b: Buffer): void; reject(e: Error): void } | undefined;
  private failure: Error | undefined;
  private readonly onData = (chunk: Buffer): void => {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.wake();
  };
  private readonly onEnd = (): void => this.fail(new Error('server closed the connection'));
  private readonly onError = (err: Error): void => this.fail(err);

  constructor(private readonly socket: net.Socket) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
  }

  read(n: number): Promise<Buffer> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { n, resolve, reject };
      this.wake();
    });
  }

  detach(): Buffer[] {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
    return this.chunks;
  }

  private wake(): void {
    const waiter = this.waiter;
    if (waiter === undefined || this.buffered < waiter.n) return;
    this.waiter = undefined;
    const all = Buffer.concat(this.chunks);
    this.chunks = all.length > waiter.n ? [all.subarray(waiter.n)] : [];
    this.buffered = all.length - waiter.n;
    waiter.resolve(all.subarray(0, waiter.n));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(err);
  }
}
