/**
 * Protobuf encodings of the headers sent with every read and write, written by hand: the same
 * wire format protobufjs reads (field tag, varint), without the encoder objects it allocates
 * per message. Everything else goes through the generated code.
 */

/** Largest encoding: three fields, each a one-byte tag and at most a 10-byte varint. */
const MAX_HEADER_BYTES = 33;

function putVarint(buf: Buffer, pos: number, value: number): number {
  // Non-negative safe integers only (checked by the callers); no 32-bit operators above 2^31.
  let v = value;
  while (v >= 0x80) {
    buf[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[pos++] = v;
  return pos;
}

/** WriteRequest { session_id = 1; offset = 2; fua = 3 }. */
export function encodeWriteRequest(sessionId: number, offset: number, fua: boolean): Uint8Array {
  const buf = Buffer.allocUnsafe(MAX_HEADER_BYTES);
  let pos = 0;
  buf[pos++] = 0x08;
  pos = putVarint(buf, pos, sessionId);
  buf[pos++] = 0x10;
  pos = putVarint(buf, pos, offset);
  if (fua) {
    buf[pos++] = 0x18;
    buf[pos++] = 1;
  }
  return buf.subarray(0, pos);
}

/** ReadRequest { session_id = 1; offset = 2; length = 3 }. */
export function encodeReadRequest(sessionId: number, offset: number, length: number): Uint8Array {
  const buf = Buffer.allocUnsafe(MAX_HEADER_BYTES);
  let pos = 0;
  buf[pos++] = 0x08;
  pos = putVarint(buf, pos, sessionId);
  buf[pos++] = 0x10;
  pos = putVarint(buf, pos, offset);
  buf[pos++] = 0x18;
  pos = putVarint(buf, pos, length);
  return buf.subarray(0, pos);
}

/** FlushRequest { session_id = 1 }. */
export function encodeFlushRequest(sessionId: number): Uint8Array {
  const buf = Buffer.allocUnsafe(11);
  buf[0] = 0x08;
  return buf.subarray(0, putVarint(buf, 1, sessionId));
}
