import { execFileSync } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { BallastError } from './errors.js';

/** Certificate, key and CA as read from PEM files, checked to belong together. */
export interface TlsMaterial {
  /** This process's certificate chain (PEM). */
  cert: Buffer;
  /** Its private key (PEM). */
  key: Buffer;
  /**
   * CA certificates peers must chain to (PEM). Absent: Node's built-in root store, and no
   * client certificates are asked for.
   */
  ca?: Buffer;
}

export interface TlsFiles {
  certFile?: string | undefined;
  keyFile?: string | undefined;
  caFile?: string | undefined;
}

/** Largest PEM file read: a chain of a few certificates is a few KiB. */
const MAX_PEM_BYTES = 1024 * 1024;

function readPem(path: string, setting: string, marker: RegExp): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw new BallastError('CONFIG', `${setting}: cannot read ${path}: ${(err as Error).message}`);
  }
  if (data.length > MAX_PEM_BYTES)
    throw new BallastError('CONFIG', `${setting}: ${path} is larger than 1 MiB`);
  if (!marker.test(data.toString('latin1'))) {
    throw new BallastError('CONFIG', `${setting}: ${path} holds no PEM ${marker.source}`);
  }
  return data;
}

/** A CA bundle for clients (`ballast --ca`, outgoing connections). */
export function readCaFile(path: string, setting = 'tlsCa'): Buffer {
  const ca = readPem(path, setting, /-----BEGIN CERTIFICATE-----/);
  try {
    createSecureContext({ ca });
  } catch (err) {
    throw new BallastError('CONFIG', `${setting}: ${path}: ${(err as Error).message}`);
  }
  return ca;
}

/**
 * Reads the TLS files of a server (`--tls-cert`, `--tls-key`, `--tls-ca`). Nothing set: no TLS
 * (undefined). Certificate and key go together; the CA needs them (it says which client
 * certificates to trust, which only matters on a TLS server). The pieces are checked at start-up,
 * so a wrong file is a clear configuration error and not a failed handshake later: the key must
 * match the certificate, and the certificate must be valid now.
 */
export function loadTlsFiles(files: TlsFiles, nowMs = Date.now()): TlsMaterial | undefined {
  const { certFile, keyFile, caFile } = files;
  if (certFile === undefined && keyFile === undefined && caFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw new BallastError(
      'CONFIG',
      'TLS needs both a certificate and its key (--tls-cert and --tls-key); --tls-ca alone is not enough',
    );
  }
  const cert = readPem(certFile, 'tlsCert', /-----BEGIN CERTIFICATE-----/);
  const key = readPem(keyFile, 'tlsKey', /-----BEGIN [A-Z ]*PRIVATE KEY-----/);
  const ca = caFile === undefined ? undefined : readCaFile(caFile);
  try {
    createSecureContext({ cert, key, ...(ca ? { ca } : {}) });
  } catch (err) {
    throw new BallastError(
      'CONFIG',
      `tlsKey ${keyFile} does not fit tlsCert ${certFile}: ${(err as Error).message}`,
    );
  }
  const leaf = new X509Certificate(cert);
  if (Date.parse(leaf.validTo) < nowMs || Date.parse(leaf.validFrom) > nowMs) {
    throw new BallastError(
      'CONFIG',
      `tlsCert ${certFile} is not valid now (valid from ${leaf.validFrom} to ${leaf.validTo})`,
    );
  }
  return ca === undefined ? { cert, key } : { cert, key, ca };
}

export interface DevCertificates {
  /** The CA certificate every party trusts (PEM file). */
  caFile: string;
  /** The CA's key: it can sign more leaves; keep it or delete it. */
  caKeyFile: string;
  /** A leaf for the listed hosts, good for server and client authentication. */
  certFile: string;
  keyFile: string;
}

export interface DevCertificateOptions {
  /** Names and addresses the leaf is valid for (subjectAltName). */
  hosts?: string[];
  /** Common name of the CA, so that two CAs made for a test are told apart in errors. */
  caName?: string;
  validDays?: number;
}

const OPENSSL_TIMEOUT_MS = 30_000;

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, {
      cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: OPENSSL_TIMEOUT_MS,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') {
      throw new BallastError(
        'CONFIG',
        'the openssl command is needed to make certificates (Debian: apt-get install openssl)',
      );
    }
    throw new BallastError(
      'INTERNAL',
      `openssl ${args[0]} failed: ${e.stderr?.toString().trim() ?? e.message}`,
    );
  }
}

/**
 * Makes a private CA and one leaf certificate signed by it, with the `openssl` command (Node has
 * no X.509 builder): for `ballast dev up --tls` and for tests. EC P-256 keys, written with mode
 * 0600. Not for production: a real deployment brings its own CA and certificates.
 */
export function createDevCertificates(
  dir: string,
  options: DevCertificateOptions = {},
): DevCertificates {
  const hosts = options.hosts ?? ['127.0.0.1', 'localhost'];
  const days = String(options.validDays ?? 825);
  for (const h of hosts) {
    if (!/^[A-Za-z0-9.:*-]{1,253}$/.test(h)) throw new BallastError('CONFIG', `bad host name ${h}`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const out: DevCertificates = {
    caFile: join(dir, 'ca.pem'),
    caKeyFile: join(dir, 'ca.key'),
    certFile: join(dir, 'member.pem'),
    keyFile: join(dir, 'member.key'),
  };
  const curve = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    [
      'req',
      '-x509',
      ...curve,
      '-keyout',
      out.caKeyFile,
      '-out',
      out.caFile,
      '-days',
      days,
      '-subj',
      `/CN=${(options.caName ?? 'Ballast dev CA').replace(/[/=]/g, '_')}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  const csr = join(dir, 'member.csr');
  const ext = join(dir, 'member.ext');
  openssl(['req', ...curve, '-keyout', out.keyFile, '-out', csr, '-subj', '/CN=ballast'], dir);
  const altNames = hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  writeFileSync(
    ext,
    `subjectAltName=${altNames}\n` +
      'basicConstraints=CA:FALSE\n' +
      'keyUsage=critical,digitalSignature\n' +
      'extendedKeyUsage=serverAuth,clientAuth\n',
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      out.caFile,
      '-CAkey',
      out.caKeyFile,
      '-set_serial',
      `0x${randomBytes(12).toString('hex')}`,
      '-days',
      days,
      '-extfile',
      ext,
      '-out',
      out.certFile,
    ],
    dir,
  );
  rmSync(csr, { force: true });
  rmSync(ext, { force: true });
  for (const f of [out.caKeyFile, out.keyFile]) chmodSync(f, 0o600);
  return out;
}
