import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BallastError } from '@ballast/common';

/** Version of the data-plane protocol spoken on top of frame version 1. */
export const PROTOCOL_VERSION = 1;
export const NONCE_BYTES = 32;
/** The client's nonce in ClientHello, which the node's proof (server_mac) covers. */
export const CLIENT_NONCE_BYTES = 32;
export const MAC_BYTES = 32;
/**
 * Prefix of the node's proof. The client's mac starts with 32 bytes the node chose; the node's
 * starts with this label, so neither mac can be made to stand for the other (see README).
 */
const SERVER_PROOF_LABEL = Buffer.from('ballast-dataplane-server-proof-v1\0', 'latin1');
/** A shorter secret is refused: HMAC keys below 128 bits are guessable. */
export const MIN_SECRET_BYTES = 16;
/** Ids in hellos are names, not payloads. */
export const MAX_ID_CHARS = 256;

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

/** Normalises a configured secret, refusing one that is too short to be a key. */
export function secretBytes(secret: string | Uint8Array): Buffer {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new BallastError(
      'CONFIG',
      `the data-plane secret must be at least ${MIN_SECRET_BYTES} bytes long`,
    );
  }
  return bytes;
}

/** mac = HMAC-SHA256(secret, nonce || clientId): proves the client knows the cluster secret. */
export function helloMac(secret: Buffer, nonce: Uint8Array, clientId: string): Buffer {
  return createHmac('sha256', secret).update(nonce).update(clientId, 'utf8').digest();
}

/** Constant-time check of a client's mac against the one expected for this connection's nonce. */
export function verifyHelloMac(
  secret: Buffer,
  nonce: Uint8Array,
  clientId: string,
  mac: Uint8Array,
): boolean {
  const expected = helloMac(secret, nonce, clientId);
  // The length is public (always 32); comparing it first leaks nothing about the secret.
  if (mac.length !== expected.length) return false;
  return timingSafeEqual(expected, mac);
}

/**
 * The node's proof: HMAC-SHA256(secret, label || clientNonce || nodeId || serverNonce). The
 * client's fresh nonce makes it unusable on any other connection; the node id and the node's
 * nonce bind it to the ServerHello the client checked.
 */
export function serverProofMac(
  secret: Buffer,
  clientNonce: Uint8Array,
  nodeId: string,
  serverNonce: Uint8Array,
): Buffer {
  return createHmac('sha256', secret)
    .update(SERVER_PROOF_LABEL)
    .update(clientNonce)
    .update(nodeId, 'utf8')
    .update(serverNonce)
    .digest();
}

/** Constant-time check of a node's proof; a missing or short mac is simply wrong. */
export function verifyServerProofMac(
  secret: Buffer,
  clientNonce: Uint8Array,
  nodeId: string,
  serverNonce: Uint8Array,
  mac: Uint8Array | null | undefined,
): boolean {
  const expected = serverProofMac(secret, clientNonce, nodeId, serverNonce);
  if (mac === null || mac === undefined || mac.length !== expected.length) return false;
  return timingSafeEqual(expected, mac);
}
