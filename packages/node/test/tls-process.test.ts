// A storage node in its own process with data-plane TLS configured (the settings `ballastd node`
// passes through): it serves a TLS client that trusts the cluster CA, and refuses plain-TCP
// clients and clients that trust another CA. Certificates come from @ballast/common's
// createDevCertificates (the openssl CLI); the other CA is a second call's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createDevCertificates, isBallastError } from '@ballast/common';
import { StatusCode, isDataPlaneError } from '@ballast/dataplane';
import { startStorageNode } from '../src/index.js';
import { SECRET, connect, pattern, rejection, startNodeProcess, tempDir } from './helpers.js';
import { logger } from './in-process-cluster.js';

const MiB = 1024 * 1024;
const VOLUME = 'vol-tls';

t.test('a node process with TLS flags serves TLS clients and refuses plain ones', async (t) => {
  const dir = tempDir(t, 'ballast-node-tls-');
  const files = createDevCertificates(join(dir, 'cluster'), { caName: 'cluster CA' });
  const other = createDevCertificates(join(dir, 'other'), { caName: 'unrelated CA' });
  const ca = readFileSync(files.caFile);
  const node = await startNodeProcess(t, {
    replicas: [{ volumeId: VOLUME, sizeBytes: 64 * MiB, chunkSizeBytes: MiB }],
    config: {
      dataPlaneTlsCert: files.certFile,
      dataPlaneTlsKey: files.keyFile,
      dataPlaneTlsCa: files.caFile,
    },
  });

  const client = await connect(t, node, { tls: { ca } });
  t.ok(client.encrypted, 'the connection runs over TLS');
  const session = await client.openSession({ volumeId: VOLUME, epoch: 1 });
  const big = pattern(1, 2 * MiB);
  const small = pattern(2, 4096);
  await Promise.all([session.write(0, big), session.write(8 * MiB, small, { fua: true })]);
  await session.flush();
  t.ok((await session.read(0, 2 * MiB)).equals(big), '2 MiB read back over TLS');
  t.ok((await session.read(8 * MiB, 4096)).equals(small), '4 KiB read back over TLS');

  const plain = await rejection(connect(t, node, { connectTimeoutMs: 3_000 }));
  t.ok(
    isBallastError(plain, 'TIMEOUT') || isBallastError(plain, 'UNAVAILABLE'),
    `a plain-TCP client is refused: ${String(plain)}`,
  );
  const wrongCa = await rejection(connect(t, node, { tls: { ca: readFileSync(other.caFile) } }));
  t.ok(
    isBallastError(wrongCa, 'UNAUTHORIZED'),
    `a client trusting another CA refuses: ${String(wrongCa)}`,
  );
  const wrongSecret = await rejection(
    connect(t, node, { tls: { ca }, secret: `${SECRET}-but-wrong` }),
  );
  t.ok(
    isDataPlaneError(wrongSecret, StatusCode.UNAUTHENTICATED),
    `the hello inside TLS still refuses a wrong secret: ${String(wrongSecret)}`,
  );

  // The node is unharmed: the first client still works, and a new one connects.
  t.ok((await session.read(8 * MiB, 4096)).equals(small), 'the first client still reads');
  const again = await connect(t, node, { tls: { ca } });
  const s2 = await again.openSession({ volumeId: VOLUME, epoch: 2 });
  t.ok((await s2.read(0, 4096)).equals(big.subarray(0, 4096)), 'a new TLS client reads');
});

t.test('incomplete or unreadable data-plane TLS settings are refused at start', async (t) => {
  const dir = tempDir(t, 'ballast-node-tls-');
  const files = createDevCertificates(join(dir, 'certs'));
  const base = {
    id: 'n1',
    dataDir: join(dir, 'data'),
    dataPlaneSecret: SECRET,
    scrubBytesPerSecond: 0,
  };
  const log = logger('node/n1');
  await t.rejects(
    startStorageNode(
      { ...base, dataPlaneTlsCert: files.certFile, dataPlaneTlsKey: files.keyFile },
      log,
    ),
    { code: 'CONFIG' },
    'a certificate without the CA',
  );
  await t.rejects(
    startStorageNode(
      {
        ...base,
        dataPlaneTlsCert: files.certFile,
        dataPlaneTlsKey: join(dir, 'missing.key'),
        dataPlaneTlsCa: files.caFile,
      },
      log,
    ),
    { code: 'CONFIG' },
    'an unreadable key',
  );
  await t.rejects(
    startStorageNode(
      {
        ...base,
        dataPlaneTlsCert: files.caFile,
        dataPlaneTlsKey: files.keyFile,
        dataPlaneTlsCa: files.caFile,
      },
      log,
    ),
    { code: 'CONFIG' },
    'a key that does not match the certificate',
  );
});
