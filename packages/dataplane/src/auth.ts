import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BallastError } from '@ballast/common';

/** Version of the data-plane protocol spoken on top of frame version 1. */
export const PROTOCOL_VERSION = 1;
export const NONCE_BYTES = 32;
export const MAC_BYTES = 32;
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
