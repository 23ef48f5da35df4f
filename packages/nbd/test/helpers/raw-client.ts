import * as net from 'node:net';

/**
 * A deliberately plain NBD client for conformance tests: it writes exact bytes and reads exact
 * byte counts, so tests can assert the wire format. It shares no code with the server.
 */

export const OPT = {
  EXPORT_NAME: 1,
  ABORT: 2,
  LIST: 3,
  STARTTLS: 5,
  INFO: 6,
  GO: 7,
  STRUCTURED_REPLY: 8,
  LIST_META_CONTEXT: 9,
  SET_META_CONTEXT: 10,
  EXTENDED_HEADERS: 11,
} as const;

export const REP = {
  ACK: 1,
  SERVER: 2,
  INFO: 3,
  META_CONTEXT: 4,
  ERR_UNSUP: 0x80000001,
  ERR_INVALID: 0x80000003,
  ERR_UNKNOWN: 0x80000006,
  ERR_SHUTDOWN: 0x80000007,
  ERR_TOO_BIG: 0x80000009,
} as const;

export const CMD = {
  READ: 0,
  WRITE: 1,
  DISC: 2,
  FLUSH: 3,
  TRIM: 4,
  CACHE: 5,
  WRITE_ZEROES: 6,
  BLOCK_STATUS: 7,
} as const;

export const CMD_FLAG = { FUA: 1, NO_HOLE: 2, DF: 4, REQ_ONE: 8, FAST_ZERO: 16 } as const;

export const ERR = {
  EPERM: 1,
  EIO: 5,
  EINVAL: 22,
  ENOSPC: 28,
  EOVERFLOW: 75,
  ENOTSUP: 95,
  ESHUTDOWN: 108,
} as const;

export const OPTION_REPLY_MAGIC = 0x0003e889045565a9n;
export const SIMPLE_MAGIC = 0x67446698;
export const STRUCTURED_MAGIC = 0x668e33ef;

export interface OptionReply {
  magic: bigint;
  option: number;
  type: number;
  data: Buffer;
}

export interface Chunk {
  flags: number;
  type: number;
  cookie: bigint;
  payload: Buffer;
}

const DEFAULT_TIMEOUT_MS = 15_000;

export class RawClient {
  private buffered: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  private ended = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.ended = true;
        this.wake();
        resolve();
      });
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
  }

  static connect(path: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(path);
      socket.once('connect', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  get bufferedBytes(): number {
    return this.buffered.length;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  write(data: Buffer): void {
    this.socket.write(data);
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Reads exactly n bytes; rejects if the connection ends first or the wait is too long. */
  async read(n: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffered.length < n) {
      if (this.ended) {
        throw new Error(`connection ended with ${this.buffered.length} of ${n} bytes read`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${n} bytes`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }

  /** Resolves when the server closed the connection (EOF); rejects after the timeout. */
  async waitClosed(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('connection was not closed')), timeoutMs);
    });
    try {
      await Promise.race([
        (async () => {
          while (!this.ended) {
            await new Promise<void>((resolve) => (this.waiter = resolve));
          }
        })(),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  // ---- handshake --------------------------------------------------------------------------

  async greeting(): Promise<Buffer> {
    return this.read(18);
  }

  sendClientFlags(flags: number): void {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(flags >>> 0);
    this.write(out);
  }

  /** Reads the greeting and answers with fixed-newstyle (+ no-zeroes by default). */
  async start(clientFlags = 3): Promise<void> {
    await this.greeting();
    this.sendClientFlags(clientFlags);
  }

  sendOption(option: number, data: Buffer = Buffer.alloc(0), lengthOverride?: number): void {
    const header = Buffer.alloc(16);
    header.write('IHAVEOPT', 0, 'latin1');
    header.writeUInt32BE(option >>> 0, 8);
    header.writeUInt32BE(lengthOverride ?? data.length, 12);
    this.write(Buffer.concat([header, data]));
  }

  async readOptionReply(): Promise<OptionReply> {
    const header = await this.read(20);
    const length = header.readUInt32BE(16);
    const data = length > 0 ? Buffer.from(await this.read(length)) : Buffer.alloc(0);
    return {
      magic: header.readBigUInt64BE(0),
      option: header.readUInt32BE(8),
      type: header.readUInt32BE(12),
      data,
    };
  }

  /** Reads replies to one option up to and including the final one (ACK or an error). */
  async readOptionReplies(): Promise<OptionReply[]> {
    const replies: OptionReply[] = [];
    for (;;) {
      const reply = await this.readOptionReply();
      replies.push(reply);
      if (reply.type === REP.ACK || reply.type >= 0x80000000) return replies;
      if (replies.length > 10_000) throw new Error('too many option replies');
    }
  }

  async option(option: number, data?: Buffer): Promise<OptionReply[]> {
    this.sendOption(option, data);
    return this.readOptionReplies();
  }

  async structuredReplies(): Promise<void> {
    const [reply] = await this.option(OPT.STRUCTURED_REPLY);
    if (reply?.type !== REP.ACK) throw new Error(`STRUCTURED_REPLY refused: ${reply?.type}`);
  }

  /** SET_META_CONTEXT; returns the context ids by name. */
  async setMetaContext(exportName: string, queries: string[]): Promise<Map<string, number>> {
    const replies = await this.option(OPT.SET_META_CONTEXT, metaContextData(exportName, queries));
    const last = replies[replies.length - 1]!;
    if (last.type !== REP.ACK)
      throw new Error(`SET_META_CONTEXT failed: 0x${last.type.toString(16)}`);
    const out = new Map<string, number>();
    for (const reply of replies.slice(0, -1)) {
      out.set(reply.data.toString('utf8', 4), reply.data.readUInt32BE(0));
    }
    return out;
  }

  /** GO (or INFO); returns every reply and the decoded NBD_INFO_EXPORT. */
  async go(
    name: string,
    infos: number[] = [],
    option: number = OPT.GO,
  ): Promise<{ replies: OptionReply[]; sizeBytes: number; flags: number }> {
    const replies = await this.option(option, infoRequestData(name, infos));
    const last = replies[replies.length - 1]!;
    if (last.type !== REP.ACK) {
      throw Object.assign(new Error(`GO failed: 0x${last.type.toString(16)}`), { replies });
    }
    const exportInfo = replies.find((r) => r.type === REP.INFO && r.data.readUInt16BE(0) === 0);
    if (exportInfo === undefined) throw new Error('no NBD_INFO_EXPORT');
    return {
      replies,
      sizeBytes: Number(exportInfo.data.readBigUInt64BE(2)),
      flags: exportInfo.data.readUInt16BE(10),
    };
  }

  // ---- transmission -----------------------------------------------------------------------

  sendRequest(request: {
    type: number;
    flags?: number;
    cookie: bigint;
    offset: number | bigint;
    length: number;
    payload?: Buffer;
    magic?: number;
  }): void {
    const header = Buffer.alloc(28);
    header.writeUInt32BE(request.magic ?? 0x25609513, 0);
    header.writeUInt16BE(request.flags ?? 0, 4);
    header.writeUInt16BE(request.type, 6);
    header.writeBigUInt64BE(request.cookie, 8);
    header.writeBigUInt64BE(BigInt(request.offset), 16);
    header.writeUInt32BE(request.length, 24);
    this.write(request.payload ? Buffer.concat([header, request.payload]) : header);
  }

  async readSimpleReply(dataLength = 0): Promise<{ error: number; cookie: bigint; data: Buffer }> {
    const header = await this.read(16);
    const magic = header.readUInt32BE(0);
    if (magic !== SIMPLE_MAGIC) throw new Error(`not a simple reply: 0x${magic.toString(16)}`);
    const error = header.readUInt32BE(4);
    const data =
      error === 0 && dataLength > 0 ? Buffer.from(await this.read(dataLength)) : Buffer.alloc(0);
    return { error, cookie: header.readBigUInt64BE(8), data };
  }

  async readChunk(): Promise<Chunk> {
    const header = await this.read(20);
    const magic = header.readUInt32BE(0);
    if (magic !== STRUCTURED_MAGIC)
      throw new Error(`not a structured chunk: 0x${magic.toString(16)}`);
    const length = header.readUInt32BE(16);
    return {
      flags: header.readUInt16BE(4),
      type: header.readUInt16BE(6),
      cookie: header.readBigUInt64BE(8),
      payload: length > 0 ? Buffer.from(await this.read(length)) : Buffer.alloc(0),
    };
  }

  /**
   * Reads one reply of either kind (peeking at the magic). For a simple reply to a READ, pass
   * the expected data length, since a simple reply does not carry it.
   */
  async readAnyReply(
    readLengthByCookie: Map<bigint, number> = new Map(),
  ): Promise<
    { kind: 'simple'; error: number; cookie: bigint; data: Buffer } | ({ kind: 'chunk' } & Chunk)
  > {
    const head = await this.read(4);
    this.buffered = Buffer.concat([head, this.buffered]);
    const magic = head.readUInt32BE(0);
    if (magic === SIMPLE_MAGIC) {
      const header = await this.read(16);
      const cookie = header.readBigUInt64BE(8);
      const error = header.readUInt32BE(4);
      const length = error === 0 ? (readLengthByCookie.get(cookie) ?? 0) : 0;
      const data = length > 0 ? Buffer.from(await this.read(length)) : Buffer.alloc(0);
      return { kind: 'simple', error, cookie, data };
    }
    return { kind: 'chunk', ...(await this.readChunk()) };
  }

  /** Reads every chunk of one structured reply (until DONE); all must share one cookie. */
  async readStructuredReply(): Promise<Chunk[]> {
    const chunks: Chunk[] = [];
    for (;;) {
      const chunk = await this.readChunk();
      if (chunks.length > 0 && chunk.cookie !== chunks[0]!.cookie) {
        throw new Error('interleaved replies; use readChunk');
      }
      chunks.push(chunk);
      if ((chunk.flags & 1) !== 0) return chunks;
    }
  }
}

export function infoRequestData(name: string, infos: number[]): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const out = Buffer.alloc(4 + nameBytes.length + 2 + infos.length * 2);
  out.writeUInt32BE(nameBytes.length, 0);
  nameBytes.copy(out, 4);
  out.writeUInt16BE(infos.length, 4 + nameBytes.length);
  infos.forEach((info, i) => out.writeUInt16BE(info, 6 + nameBytes.length + i * 2));
  return out;
}

export function metaContextData(exportName: string, queries: string[]): Buffer {
  const parts: Buffer[] = [];
  const name = Buffer.from(exportName, 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(name.length);
  parts.push(head, name);
  const count = Buffer.alloc(4);
  count.writeUInt32BE(queries.length);
  parts.push(count);
  for (const query of queries) {
    const bytes = Buffer.from(query, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  }
  return Buffer.concat(parts);
}

/** Connects, negotiates (structured replies and base:allocation when asked) and GOes. */
export async function openSession(
  path: string,
  exportName: string,
  options: { structured?: boolean; meta?: boolean } = {},
): Promise<{ client: RawClient; sizeBytes: number; flags: number; contextId: number }> {
  const client = await RawClient.connect(path);
  await client.start();
  let contextId = 0;
  if (options.structured || options.meta) await client.structuredReplies();
  if (options.meta) {
    const contexts = await client.setMetaContext(exportName, ['base:allocation']);
    contextId = contexts.get('base:allocation') ?? 0;
  }
  const { sizeBytes, flags } = await client.go(exportName, [3]);
  return { client, sizeBytes, flags, contextId };
}
