// The TLS file loader refuses what cannot work with a message naming the setting; the dev
// certificate maker gives a CA and a leaf that verify against each other and not against
// another CA.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createDevCertificates, loadTlsFiles, readCaFile } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'common-tls-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const a = createDevCertificates(join(dir, 'a'), { hosts: ['127.0.0.1', 'localhost'] });
const b = createDevCertificates(join(dir, 'b'), { caName: 'other CA' });

t.test('dev certificates: a CA, and a leaf it signed for the hosts', async (t) => {
  const ca = new X509Certificate(readFileSync(a.caFile));
  const leaf = new X509Certificate(readFileSync(a.certFile));
  const other = new X509Certificate(readFileSync(b.caFile));
  t.ok(ca.ca, 'the CA is a CA');
  t.notOk(leaf.ca, 'the leaf is not');
  t.ok(leaf.verify(ca.publicKey), 'the leaf verifies against its CA');
  t.notOk(leaf.verify(other.publicKey), 'and not against another CA');
  t.match(leaf.subjectAltName, /IP Address:127\.0\.0\.1/);
  t.match(leaf.subjectAltName, /DNS:localhost/);
  t.equal(statSync(a.keyFile).mode & 0o777, 0o600, 'keys are 0600');
  t.equal(statSync(a.caKeyFile).mode & 0o777, 0o600);
});

t.test('loadTlsFiles', async (t) => {
  t.equal(loadTlsFiles({}), undefined, 'nothing set: no TLS');
  const m = loadTlsFiles({ certFile: a.certFile, keyFile: a.keyFile, caFile: a.caFile });
  t.ok(m?.cert.length && m.key.length && m.ca?.length, 'all three read');
  t.same(Object.keys(loadTlsFiles({ certFile: a.certFile, keyFile: a.keyFile })!).sort(), [
    'cert',
    'key',
  ]);
  t.throws(() => loadTlsFiles({ certFile: a.certFile }), { code: 'CONFIG', message: /--tls-key/ });
  t.throws(() => loadTlsFiles({ caFile: a.caFile }), { code: 'CONFIG' });
  t.throws(() => loadTlsFiles({ certFile: a.certFile, keyFile: b.keyFile }), {
    code: 'CONFIG',
    message: /does not fit/,
  });
  t.throws(() => loadTlsFiles({ certFile: join(dir, 'missing.pem'), keyFile: a.keyFile }), {
    code: 'CONFIG',
    message: /tlsCert: cannot read/,
  });
  const junk = join(dir, 'junk.pem');
  writeFileSync(junk, 'not a certificate\n');
  t.throws(() => loadTlsFiles({ certFile: junk, keyFile: a.keyFile }), {
    code: 'CONFIG',
    message: /holds no PEM/,
  });
  t.throws(() => readCaFile(junk), { code: 'CONFIG' });
  const tenYearsMs = 10 * 365 * 24 * 3600 * 1000;
  t.throws(
    () => loadTlsFiles({ certFile: a.certFile, keyFile: a.keyFile }, Date.now() + tenYearsMs),
    { code: 'CONFIG', message: /not valid now/ },
  );
});
