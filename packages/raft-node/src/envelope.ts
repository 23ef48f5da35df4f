import { BallastError } from '@ballast/common';

/** Where a member can be reached: its Raft endpoint and (for forwarding hints) its API. */
export interface PeerAddress {
  /** ws://host:port/raft */
  peerUrl: string;
  /** Base URL of the member's API, e.g. http://host:port ('' or absent when it has none). */
  apiUrl?: string;
}

const MAGIC = [0x42, 0x52, 0x53, 0x31]; // "BRS1"
const MAX_HEADER_BYTES = 16 * 1024 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The bytes of a Raft snapshot: the member's own state (the address book of members added
 * through the log, which the log entries that carried it no longer hold once compacted) in
 * front of the application's snapshot.
 *
 *   "BRS1" | u32 BE header length | header JSON { addresses } | application bytes
 */
export function wrapSnapshot(addresses: Record<string, PeerAddress>, app: Uint8Array): Uint8Array {
  const header = encoder.encode(JSON.stringify({ addresses }));
  const out = new Uint8Array(8 + header.length + app.length);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, header.length);
  out.set(header, 8);
  out.set(app, 8 + header.length);
  return out;
}

export function unwrapSnapshot(bytes: Uint8Array): {
  addresses: Record<string, PeerAddress>;
  app: Uint8Array;
} {
  const bad = (why: string) => new BallastError('PROTOCOL', `malformed raft snapshot: ${why}`);
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) throw bad('bad magic');
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4);
  if (len > MAX_HEADER_BYTES || 8 + len > bytes.length) throw bad('header length');
  let header: unknown;
  try {
    header = JSON.parse(decoder.decode(bytes.subarray(8, 8 + len)));
  } catch {
    throw bad('header is not JSON');
  }
  const addresses: Record<string, PeerAddress> = {};
  const raw = (header as { addresses?: unknown }).addresses;
  if (typeof raw !== 'object' || raw === null) throw bad('no address book');
  for (const [id, a] of Object.entries(raw as Record<string, unknown>)) {
    const parsed = parsePeerAddress(a);
    if (parsed !== undefined) addresses[id] = parsed;
  }
  return { addresses, app: bytes.subarray(8 + len) };
}

/** A conf change's context: the new member's addresses, JSON. */
export function encodeAddress(a: PeerAddress): Uint8Array {
  return encoder.encode(JSON.stringify({ peerUrl: a.peerUrl, apiUrl: a.apiUrl ?? '' }));
}

export function decodeAddress(bytes: Uint8Array | undefined): PeerAddress | undefined {
  if (bytes === undefined || bytes.length === 0) return undefined;
  try {
    return parsePeerAddress(JSON.parse(decoder.decode(bytes)));
  } catch {
    return undefined;
  }
}

function parsePeerAddress(v: unknown): PeerAddress | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const { peerUrl, apiUrl } = v as { peerUrl?: unknown; apiUrl?: unknown };
  if (typeof peerUrl !== 'string' || !isPeerUrl(peerUrl)) return undefined;
  return { peerUrl, apiUrl: typeof apiUrl === 'string' ? apiUrl : '' };
}

export function isPeerUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'ws:' || u.protocol === 'wss:';
  } catch {
    return false;
  }
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isMemberId(id: string): boolean {
  return ID_PATTERN.test(id);
}
