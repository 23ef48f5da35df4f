import { createSecureContext } from 'node:tls';
import { BallastError } from '@ballast/common';

/** TLS for a DataPlaneServer (PEM contents, not paths). */
export interface DataPlaneServerTlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  /** CA that client certificates are checked against (with requestCert). */
  ca?: string | Buffer;
  /** Require every client to present a certificate signed by `ca`. */
  requestCert?: boolean;
}

/** TLS for a DataPlaneClient: the node's certificate must chain to `ca`. */
export interface DataPlaneClientTlsOptions {
  ca: string | Buffer;
  /** Client certificate and key, for nodes that require one (requestCert). */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Name the node's certificate must carry (default: the host dialled). */
  servername?: string;
}

function present(value: string | Buffer | undefined): boolean {
  return value !== undefined && value.length > 0;
}

/** Refuses an incomplete or unparseable configuration up front, with the reason. */
export function checkServerTls(tls: DataPlaneServerTlsOptions): void {
  if (!present(tls.cert) || !present(tls.key)) {
    throw new BallastError('CONFIG', 'data-plane TLS needs both a certificate and a key');
  }
  if (tls.requestCert === true && !present(tls.ca)) {
    throw new BallastError('CONFIG', 'data-plane TLS requestCert needs a CA to check clients');
  }
  try {
    createSecureContext({
      cert: tls.cert,
      key: tls.key,
      ...(present(tls.ca) ? { ca: tls.ca } : {}),
    });
  } catch (err) {
    throw new BallastError(
      'CONFIG',
      `data-plane TLS certificate, key or CA unusable: ${(err as Error).message}`,
      {},
      err,
    );
  }
}

export function checkClientTls(tls: DataPlaneClientTlsOptions): void {
  if (!present(tls.ca)) {
    throw new BallastError('CONFIG', 'a data-plane TLS client needs the CA to verify nodes with');
  }
  if (present(tls.cert) !== present(tls.key)) {
    throw new BallastError('CONFIG', 'a data-plane client certificate needs its key (and back)');
  }
  try {
    createSecureContext({
      ca: tls.ca,
      ...(present(tls.cert) ? { cert: tls.cert, key: tls.key } : {}),
    });
  } catch (err) {
    throw new BallastError(
      'CONFIG',
      `data-plane TLS CA or client certificate unusable: ${(err as Error).message}`,
      {},
      err,
    );
  }
}

/** Errors of certificate verification (the node is not who the CA vouches for). */
export function isCertificateError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return (
    typeof code === 'string' &&
    /CERT|SIGNATURE|ISSUER|ALTNAME|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)
  );
}
