// Certificates for the TLS tests, made by the openssl CLI in a temp dir (removed at teardown):
// a cluster CA, a node certificate it signs for 127.0.0.1 and localhost, and an unrelated CA.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsFiles {
  caCert: string;
  nodeCert: string;
  nodeKey: string;
  otherCaCert: string;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): void {
  openssl(dir, [
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

/** Writes the files into `dir` (a temp dir the caller removes) and returns their paths. */
export function makeTlsFiles(dir: string): TlsFiles {
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  openssl(dir, ['req', ...EC_KEY, '-keyout', 'node.key', '-out', 'node.csr', '-subj', '/CN=node']);
  writeFileSync(
    join(dir, 'node.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'node.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'node.crt',
    '-days',
    '2',
    '-extfile',
    'node.ext',
  ]);
  return {
    caCert: join(dir, 'ca.crt'),
    nodeCert: join(dir, 'node.crt'),
    nodeKey: join(dir, 'node.key'),
    otherCaCert: join(dir, 'other-ca.crt'),
  };
}
