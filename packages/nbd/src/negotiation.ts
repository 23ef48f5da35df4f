import * as P from './protocol.js';

/** What option haggling needs to know about an export. */
export interface ExportInfo {
  readonly name: string;
  readonly description: string;
  readonly sizeBytes: number;
  readonly readOnly: boolean;
  /** Advertise NBD_FLAG_CAN_MULTI_CONN (the embedder vouches for cross-connection coherence). */
  readonly multiConn: boolean;
}

/** The exports one listener offers; `""` names its default export, if it has one. */
export interface ExportCatalog<E extends ExportInfo> {
  lookup(name: string): E | undefined;
  list(): E[];
  shuttingDown(): boolean;
}

export interface BlockSizes {
  minimumBytes: number;
  preferredBytes: number;
  maximumBytes: number;
}

/** Min 1 (any alignment; the device does read-modify-write), preferred 4 KiB, max 32 MiB. */
export const DEFAULT_BLOCK_SIZES: BlockSizes = {
  minimumBytes: 1,
  preferredBytes: 4096,
  maximumBytes: 32 * 1024 * 1024,
};

/** The result of option haggling, handed to the transmission phase. */
export interface Session<E extends ExportInfo> {
  readonly export: E;
  readonly transmissionFlags: number;
  readonly structuredReplies: boolean;
  /** Context id of base:allocation when it was selected for this export, else 0. */
  readonly baseAllocationId: number;
}

export type NegotiationStep<E extends ExportInfo> =
  /** Send `out` and read the next option. */
  | { kind: 'reply'; out: Buffer[] }
  /** Send `out`, then close the connection (NBD_OPT_ABORT). */
  | { kind: 'abort'; out: Buffer[] }
  /** Send `out`, then enter transmission with `session`. */
  | { kind: 'transmit'; out: Buffer[]; session: Session<E> }
  /** Hard disconnect; `reason` is logged. */
  | { kind: 'close'; reason: string };

/** Context ids are opaque to clients; base:allocation is the only context we have. */
export const BASE_ALLOCATION_CONTEXT_ID = 1;

export function transmissionFlagsFor(info: ExportInfo, structuredReplies: boolean): number {
  let flags =
    P.NBD_FLAG_HAS_FLAGS | P.NBD_FLAG_SEND_FLUSH | P.NBD_FLAG_SEND_FUA | P.NBD_FLAG_SEND_CACHE;
  if (info.readOnly) flags |= P.NBD_FLAG_READ_ONLY;
  else flags |= P.NBD_FLAG_SEND_TRIM | P.NBD_FLAG_SEND_WRITE_ZEROES | P.NBD_FLAG_SEND_FAST_ZERO;
  // DF MUST be clear without structured replies; with them every READ is one chunk anyway.
  if (structuredReplies) flags |= P.NBD_FLAG_SEND_DF;
  if (info.multiConn) flags |= P.NBD_FLAG_CAN_MULTI_CONN;
  return flags;
}

export function optionReply(option: number, type: number, data?: Buffer | string): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const length = payload?.length ?? 0;
  const out = Buffer.allocUnsafe(P.OPTION_REPLY_HEADER_BYTES + length);
  out.writeBigUInt64BE(P.OPTION_REPLY_MAGIC, 0);
  out.writeUInt32BE(option >>> 0, 8);
  out.writeUInt32BE(type >>> 0, 12);
  out.writeUInt32BE(length, 16);
  payload?.copy(out, P.OPTION_REPLY_HEADER_BYTES);
  return out;
}

function errorReply(option: number, type: number, message: string): Buffer {
  return optionReply(option, type, message);
}

/** Quotes a client-supplied name for a message, clipped so messages stay short strings. */
export function quoteName(name: string): string {
  return JSON.stringify(name.length > 128 ? `${name.slice(0, 128)}...` : name);
}

/** A strict reader over one option's data: every read is bounds-checked. */
class FieldReader {
  private position = 0;
  constructor(private readonly data: Buffer) {}
  get remaining(): number {
    return this.data.length - this.position;
  }
  u16(): number | undefined {
    if (this.remaining < 2) return undefined;
    const value = this.data.readUInt16BE(this.position);
    this.position += 2;
    return value;
  }
  u32(): number | undefined {
    if (this.remaining < 4) return undefined;
    const value = this.data.readUInt32BE(this.position);
    this.position += 4;
    return value;
  }
  /** A string of `length` bytes; undefined when it overruns the data or the string limit. */
  string(length: number): string | undefined {
    if (length > this.remaining || length > P.MAX_STRING_BYTES) return undefined;
    const value = this.data.toString('utf8', this.position, this.position + length);
    this.position += length;
    return value;
  }
}

/**
 * Option haggling for one connection, as a pure state machine: options go in, replies and the
 * next step come out. No sockets, so it is tested and fuzzed directly.
 */
export class OptionNegotiator<E extends ExportInfo> {
  private structuredReplies = false;
  /** The last SET_META_CONTEXT: for which export name, and whether base:allocation was chosen. */
  private metaContext: { exportName: string; baseAllocation: boolean } | null = null;

  constructor(
    private readonly catalog: ExportCatalog<E>,
    private readonly blockSizes: BlockSizes = DEFAULT_BLOCK_SIZES,
  ) {}

  /** Option numbers handled by this negotiator; others are answered ERR_UNSUP. */
  static isKnownOption(option: number): boolean {
    return (
      option === P.NBD_OPT_EXPORT_NAME ||
      option === P.NBD_OPT_ABORT ||
      option === P.NBD_OPT_LIST ||
      option === P.NBD_OPT_INFO ||
      option === P.NBD_OPT_GO ||
      option === P.NBD_OPT_STRUCTURED_REPLY ||
      option === P.NBD_OPT_LIST_META_CONTEXT ||
      option === P.NBD_OPT_SET_META_CONTEXT
    );
  }

  /**
   * Answer for an option whose data was too long to buffer (the connection skipped it). The
   * session stays in sync because the data was consumed.
   */
  handleOversized(option: number, length: number): NegotiationStep<E> {
    if (option === P.NBD_OPT_EXPORT_NAME) {
      return { kind: 'close', reason: `NBD_OPT_EXPORT_NAME with ${length} bytes of name` };
    }
    if (!OptionNegotiator.isKnownOption(option)) {
      return { kind: 'reply', out: [errorReply(option, P.NBD_REP_ERR_UNSUP, 'unknown option')] };
    }
    return {
      kind: 'reply',
      out: [
        errorReply(option, P.NBD_REP_ERR_TOO_BIG, `option data of ${length} bytes is too long`),
      ],
    };
  }

  handle(option: number, data: Buffer, clientNoZeroes: boolean): NegotiationStep<E> {
    if (this.catalog.shuttingDown()) {
      if (option === P.NBD_OPT_ABORT) {
        return { kind: 'abort', out: [optionReply(option, P.NBD_REP_ACK)] };
      }
      if (option === P.NBD_OPT_EXPORT_NAME)
        return { kind: 'close', reason: 'server shutting down' };
      return {
        kind: 'reply',
        out: [errorReply(option, P.NBD_REP_ERR_SHUTDOWN, 'server is shutting down')],
      };
    }
    switch (option) {
      case P.NBD_OPT_EXPORT_NAME:
        return this.exportName(data, clientNoZeroes);
      case P.NBD_OPT_ABORT:
        // Data is ignored, as the spec asks.
        return { kind: 'abort', out: [optionReply(option, P.NBD_REP_ACK)] };
      case P.NBD_OPT_LIST:
        return this.list(data);
      case P.NBD_OPT_INFO:
      case P.NBD_OPT_GO:
        return this.infoOrGo(option, data);
      case P.NBD_OPT_STRUCTURED_REPLY:
        if (data.length !== 0) {
          return this.reply(errorReply(option, P.NBD_REP_ERR_INVALID, 'no data expected'));
        }
        this.structuredReplies = true;
        return this.reply(optionReply(option, P.NBD_REP_ACK));
      case P.NBD_OPT_LIST_META_CONTEXT:
      case P.NBD_OPT_SET_META_CONTEXT:
        return this.metaContextOption(option, data);
      case P.NBD_OPT_STARTTLS:
        return this.reply(errorReply(option, P.NBD_REP_ERR_UNSUP, 'TLS is not supported'));
      default:
        // Includes EXTENDED_HEADERS and the withdrawn PEEK_EXPORT.
        return this.reply(errorReply(option, P.NBD_REP_ERR_UNSUP, 'unsupported option'));
    }
  }

  private reply(...out: Buffer[]): NegotiationStep<E> {
    return { kind: 'reply', out };
  }

  private exportName(data: Buffer, clientNoZeroes: boolean): NegotiationStep<E> {
    if (data.length > P.MAX_STRING_BYTES) {
      return { kind: 'close', reason: `export name of ${data.length} bytes is too long` };
    }
    const name = data.toString('utf8');
    const entry = this.catalog.lookup(name);
    if (entry === undefined) {
      // NBD_OPT_EXPORT_NAME cannot carry an error: the spec says to drop the connection.
      return { kind: 'close', reason: `NBD_OPT_EXPORT_NAME for unknown export ${quoteName(name)}` };
    }
    const session = this.session(name, entry);
    const out = Buffer.alloc(10 + (clientNoZeroes ? 0 : P.EXPORT_NAME_ZERO_PAD_BYTES));
    out.writeBigUInt64BE(BigInt(entry.sizeBytes), 0);
    out.writeUInt16BE(session.transmissionFlags, 8);
    return { kind: 'transmit', out: [out], session };
  }

  private list(data: Buffer): NegotiationStep<E> {
    if (data.length !== 0) {
      return this.reply(errorReply(P.NBD_OPT_LIST, P.NBD_REP_ERR_INVALID, 'no data expected'));
    }
    const out: Buffer[] = [];
    for (const entry of this.catalog.list()) {
      const name = Buffer.from(entry.name, 'utf8');
      const description = Buffer.from(entry.description, 'utf8');
      const payload = Buffer.allocUnsafe(4 + name.length + description.length);
      payload.writeUInt32BE(name.length, 0);
      name.copy(payload, 4);
      description.copy(payload, 4 + name.length);
      out.push(optionReply(P.NBD_OPT_LIST, P.NBD_REP_SERVER, payload));
    }
    out.push(optionReply(P.NBD_OPT_LIST, P.NBD_REP_ACK));
    return { kind: 'reply', out };
  }

  private infoOrGo(option: number, data: Buffer): NegotiationStep<E> {
    const reader = new FieldReader(data);
    const nameLength = reader.u32();
    const name = nameLength === undefined ? undefined : reader.string(nameLength);
    const count = reader.u16();
    if (name === undefined || count === undefined || reader.remaining !== count * 2) {
      return this.reply(errorReply(option, P.NBD_REP_ERR_INVALID, 'malformed INFO/GO request'));
    }
    const requested = new Set<number>();
    for (let i = 0; i < count; i++) requested.add(reader.u16()!);
    const entry = this.catalog.lookup(name);
    if (entry === undefined) {
      return this.reply(
        errorReply(option, P.NBD_REP_ERR_UNKNOWN, `no export named ${quoteName(name)}`),
      );
    }
    const session = this.session(name, entry);
    const out: Buffer[] = [];
    const exportInfo = Buffer.allocUnsafe(12);
    exportInfo.writeUInt16BE(P.NBD_INFO_EXPORT, 0);
    exportInfo.writeBigUInt64BE(BigInt(entry.sizeBytes), 2);
    exportInfo.writeUInt16BE(session.transmissionFlags, 10);
    out.push(optionReply(option, P.NBD_REP_INFO, exportInfo));
    // Sent only when asked: older clients (nbd-client) send GO with no requests at all.
    if (requested.has(P.NBD_INFO_BLOCK_SIZE)) {
      const sizes = Buffer.allocUnsafe(14);
      sizes.writeUInt16BE(P.NBD_INFO_BLOCK_SIZE, 0);
      sizes.writeUInt32BE(this.blockSizes.minimumBytes, 2);
      sizes.writeUInt32BE(this.blockSizes.preferredBytes, 6);
      sizes.writeUInt32BE(this.blockSizes.maximumBytes, 10);
      out.push(optionReply(option, P.NBD_REP_INFO, sizes));
    }
    if (requested.has(P.NBD_INFO_NAME)) {
      out.push(optionReply(option, P.NBD_REP_INFO, infoString(P.NBD_INFO_NAME, entry.name)));
    }
    if (requested.has(P.NBD_INFO_DESCRIPTION) && entry.description !== '') {
      const info = infoString(P.NBD_INFO_DESCRIPTION, entry.description);
      out.push(optionReply(option, P.NBD_REP_INFO, info));
    }
    out.push(optionReply(option, P.NBD_REP_ACK));
    if (option === P.NBD_OPT_INFO) return { kind: 'reply', out };
    return { kind: 'transmit', out, session };
  }

  private metaContextOption(option: number, data: Buffer): NegotiationStep<E> {
    const isSet = option === P.NBD_OPT_SET_META_CONTEXT;
    // SET replaces the selection even when it fails.
    if (isSet) this.metaContext = null;
    if (!this.structuredReplies) {
      const message = 'negotiate NBD_OPT_STRUCTURED_REPLY first';
      return this.reply(errorReply(option, P.NBD_REP_ERR_INVALID, message));
    }
    const reader = new FieldReader(data);
    const nameLength = reader.u32();
    const name = nameLength === undefined ? undefined : reader.string(nameLength);
    const queryCount = reader.u32();
    if (name === undefined || queryCount === undefined) {
      return this.reply(
        errorReply(option, P.NBD_REP_ERR_INVALID, 'malformed meta context request'),
      );
    }
    const queries: string[] = [];
    for (let i = 0; i < queryCount; i++) {
      const length = reader.u32();
      const query = length === undefined ? undefined : reader.string(length);
      if (query === undefined) {
        return this.reply(errorReply(option, P.NBD_REP_ERR_INVALID, 'malformed query'));
      }
      queries.push(query);
    }
    if (reader.remaining !== 0) {
      return this.reply(errorReply(option, P.NBD_REP_ERR_INVALID, 'trailing bytes after queries'));
    }
    if (this.catalog.lookup(name) === undefined) {
      return this.reply(
        errorReply(option, P.NBD_REP_ERR_UNKNOWN, `no export named ${quoteName(name)}`),
      );
    }
    let baseAllocation: boolean;
    if (isSet) {
      // SET: only the exact name selects it; "base:" selects nothing; unknown names are ignored.
      baseAllocation = queries.includes(P.BASE_ALLOCATION);
    } else {
      // LIST: no queries lists everything; "base:" is the namespace wildcard.
      baseAllocation =
        queries.length === 0 || queries.some((q) => q === 'base:' || q === P.BASE_ALLOCATION);
    }
    const out: Buffer[] = [];
    if (baseAllocation) {
      const contextName = Buffer.from(P.BASE_ALLOCATION, 'utf8');
      const payload = Buffer.allocUnsafe(4 + contextName.length);
      // LIST replies carry id 0 (reserved); SET assigns the id used in BLOCK_STATUS replies.
      payload.writeUInt32BE(isSet ? BASE_ALLOCATION_CONTEXT_ID : 0, 0);
      contextName.copy(payload, 4);
      out.push(optionReply(option, P.NBD_REP_META_CONTEXT, payload));
    }
    if (isSet) this.metaContext = { exportName: name, baseAllocation };
    out.push(optionReply(option, P.NBD_REP_ACK));
    return { kind: 'reply', out };
  }

  private session(name: string, entry: E): Session<E> {
    const selected =
      this.structuredReplies &&
      this.metaContext !== null &&
      this.metaContext.baseAllocation &&
      this.metaContext.exportName === name;
    return {
      export: entry,
      transmissionFlags: transmissionFlagsFor(entry, this.structuredReplies),
      structuredReplies: this.structuredReplies,
      baseAllocationId: selected ? BASE_ALLOCATION_CONTEXT_ID : 0,
    };
  }
}

function infoString(type: number, text: string): Buffer {
  // Names and descriptions are checked to be <= 4096 bytes when an export is added.
  const bytes = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16BE(type, 0);
  bytes.copy(out, 2);
  return out;
}
