// The data plane over TLS: round trips through the same hot path, the HMAC hello inside TLS,
// and refusals (plain client, wrong CA, wrong name, missing client certificate, garbage).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { createDevCertificates, isBallastError } from '@ballast/common';
import { StatusCode, isDataPlaneError, type DataPlaneClient } from '../src/index.js';
import {
  VOLUME,
  connectClient,
  pattern,
  rejection,
  startServer,
  waitUntil,
  type TestServer,
} from './helpers.js';

/**
 * Certificates from @ballast/common (the openssl CLI): the cluster CA and a leaf it signs for
 * 127.0.0.1 and localhost, good for server and client authentication (the node's certificate and
 * the client's are the same leaf), and a second CA that signed nothing the server presents.
 */
function makeCertificates(t: { teardown(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'ballast-dp-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cluster = createDevCertificates(join(dir, 'cluster'), { caName: 'cluster CA' });
  const other = createDevCertificates(join(dir, 'other'), { caName: 'unrelated CA' });
  const leafCert = readFileSync(cluster.certFile);
  const leafKey = readFileSync(cluster.keyFile);
  return {
    caCert: readFileSync(cluster.caFile),
    nodeCert: leafCert,
    nodeKey: leafKey,
    clientCert: leafCert,
    clientKey: leafKey,
    otherCaCert: readFileSync(other.caFile),
  };
}

const certs = makeCertificates(t);

async function tlsServer(
  t: { teardown(fn: () => unknown): void },
  opts: { requestCert?: boolean; handshakeTimeoutMs?: number } = {},
): Promise<TestServer> {
  return startServer(t, {
    tls: {
      cert: certs.nodeCert,
      key: certs.nodeKey,
      ca: certs.caCert,
      ...(opts.requestCert !== undefined ? { requestCert: opts.requestCert } : {}),
    },
    ...(opts.handshakeTimeoutMs !== undefined
      ? { handshakeTimeoutMs: opts.handshakeTimeoutMs }
      : {}),
  });
}

function tlsClient(
  t: { teardown(fn: () => unknown): void },
  port: number,
  extra: Parameters<typeof connectClient>[2] = {},
): Promise<DataPlaneClient> {
  return connectClient(t, port, { tls: { ca: certs.caCert }, ...extra });
}

/** Writes and reads back through one TLS session: small, large (writev path) and pipelined. */
async function roundTrip(t: Test, client: DataPlaneClient, seed: number): Promise<void> {
  const session = await client.openSession({ volumeId: VOLUME, epoch: 1 });
  const small = pattern(seed, 4096);
  await session.write(0, small, { fua: true });
  t.same(await session.read(0, 4096), small, '4 KiB write read back');
  // 1 MiB: past the concatenation bound, so the payload goes to a corked writev by reference.
  const large = pattern(seed + 1, 1024 * 1024);
  await session.write(1024 * 1024, large);
  t.same(await session.read(1024 * 1024, 1024 * 1024), large, '1 MiB write read back');
  // 256 pipelined writes in one turn (one batch), then reads of all of them.
  const blocks = Array.from({ length: 256 }, (_, i) => pattern(seed + 100 + i, 4096));
  await Promise.all(blocks.map((b, i) => session.write(4 * 1024 * 1024 + i * 4096, b)));
  await session.flush();
  const back = await Promise.all(
    blocks.map((_, i) => session.read(4 * 1024 * 1024 + i * 4096, 4096)),
  );
  t.ok(
    back.every((b, i) => b.equals(blocks[i]!)),
    '256 pipelined 4 KiB writes read back in place',
  );
}

t.test('a TLS client and server round trip reads and writes', async (t) => {
  const ts = await tlsServer(t);
  t.ok(ts.server.tls);
  const client = await tlsClient(t, ts.port);
  t.ok(client.encrypted);
  await roundTrip(t, client, 11);
  // By name as well as by address (the certificate carries both).
  const byName = await tlsClient(t, ts.port, { host: 'localhost' });
  await roundTrip(t, byName, 12);
  t.equal(ts.server.stats().tlsFailures, 0);
  t.equal(ts.server.stats().authFailures, 0);
});

t.test('the HMAC hello still runs inside TLS', async (t) => {
  const ts = await tlsServer(t);
  const err = await rejection(tlsClient(t, ts.port, { secret: 'not-the-secret-at-all-0000' }));
  t.ok(isDataPlaneError(err, StatusCode.UNAUTHENTICATED), `wrong secret refused: ${String(err)}`);
  await waitUntil('the refusal to be counted', () => ts.server.stats().authFailures === 1);
});

t.test('a plain-TCP client against a TLS server fails cleanly', async (t) => {
  const ts = await tlsServer(t, { handshakeTimeoutMs: 1000 });
  const err = await rejection(connectClient(t, ts.port, { connectTimeoutMs: 5_000 }));
  t.ok(
    isBallastError(err, 'TIMEOUT') || isBallastError(err, 'UNAVAILABLE'),
    `plain client refused: ${String(err)}`,
  );
  await waitUntil('the connection to be gone', () => ts.server.stats().connections === 0);
  await roundTrip(t, await tlsClient(t, ts.port), 21);
});

t.test('a TLS client against a plain server fails cleanly', async (t) => {
  const ts = await startServer(t);
  const err = await rejection(tlsClient(t, ts.port));
  t.ok(isBallastError(err, 'UNAVAILABLE'), `TLS client refused: ${String(err)}`);
  await waitUntil('the connection to be gone', () => ts.server.stats().connections === 0);
  const plain = await connectClient(t, ts.port);
  t.ok(plain.isOpen, 'the plain server still serves plain clients');
});

t.test(
  "a client refuses a node whose certificate its CA did not sign, or another name's",
  async (t) => {
    const ts = await tlsServer(t);
    const wrongCa = await rejection(connectClient(t, ts.port, { tls: { ca: certs.otherCaCert } }));
    t.ok(isBallastError(wrongCa, 'UNAUTHORIZED'), `wrong CA: ${String(wrongCa)}`);
    t.match(String((wrongCa as Error).message), /certificate is not trusted/);
    const wrongName = await rejection(
      connectClient(t, ts.port, { tls: { ca: certs.caCert, servername: 'other.example' } }),
    );
    t.ok(isBallastError(wrongName, 'UNAUTHORIZED'), `wrong name: ${String(wrongName)}`);
    // (The server may only notice at its handshake timeout: the refusal is the client's.)
    t.equal(ts.server.stats().connections, 0, 'no connection was accepted');
    t.equal(ts.server.stats().authFailures, 0, 'no hello was ever exchanged');
  },
);

t.test('requestCert: only clients with a certificate from the CA get in', async (t) => {
  const ts = await tlsServer(t, { requestCert: true });
  const err = await rejection(tlsClient(t, ts.port));
  t.ok(isBallastError(err), `a client without a certificate is refused: ${String(err)}`);
  await waitUntil('the failure to be counted', () => ts.server.stats().tlsFailures >= 1);
  const client = await tlsClient(t, ts.port, {
    tls: { ca: certs.caCert, cert: certs.clientCert, key: certs.clientKey },
  });
  await roundTrip(t, client, 31);
});

t.test('bad TLS configuration is refused up front', async (t) => {
  await t.rejects(
    startServer(t, { tls: { cert: certs.nodeCert, key: Buffer.alloc(0) } }),
    { code: 'CONFIG' },
    'a certificate without a key',
  );
  await t.rejects(
    startServer(t, { tls: { cert: Buffer.from('not a pem'), key: certs.nodeKey } }),
    { code: 'CONFIG' },
    'an unparseable certificate',
  );
  await t.rejects(
    startServer(t, { tls: { cert: certs.nodeCert, key: certs.nodeKey, requestCert: true } }),
    { code: 'CONFIG' },
    'requestCert without a CA',
  );
  await t.rejects(
    connectClient(t, 1, { tls: { ca: Buffer.alloc(0) } }),
    { code: 'CONFIG' },
    'a client without a CA',
  );
  await t.rejects(
    connectClient(t, 1, { tls: { ca: certs.caCert, cert: certs.clientCert } }),
    { code: 'CONFIG' },
    'a client certificate without its key',
  );
});

t.test('garbage sent to the TLS port does not hurt the server', async (t) => {
  const ts = await tlsServer(t, { handshakeTimeoutMs: 2000 });
  const good = await tlsClient(t, ts.port);
  const session = await good.openSession({ volumeId: VOLUME, epoch: 1 });
  const inputs: Buffer[] = [
    randomBytes(4096),
    Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
    // A TLS handshake record header announcing far more than it sends (truncated).
    Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x00, 0x3f, 0xfc]),
    // A record header announcing an oversized record.
    Buffer.from([0x16, 0x03, 0x03, 0xff, 0xff]),
    // A data-plane frame prefix, as a plain client would send after a ServerHello.
    Buffer.from([0, 0, 0, 64, 0xba, 0x57, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0]),
    Buffer.alloc(0),
  ];
  for (const [i, input] of inputs.entries()) {
    const socket = connect({ host: '127.0.0.1', port: ts.port });
    socket.on('error', () => undefined);
    // Read (and drop) whatever comes back, or 'end' and 'close' never fire.
    socket.resume();
    t.teardown(() => socket.destroy());
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.end(input);
    const closed = await Promise.race([
      new Promise<boolean>((resolve) => socket.once('close', () => resolve(true))),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 30_000).unref()),
    ]);
    t.ok(closed, `input ${i}: the server closed the connection`);
    const data = pattern(40 + i, 4096);
    await session.write(i * 4096, data);
    t.same(await session.read(i * 4096, 4096), data, `input ${i}: the good client is unaffected`);
  }
  await waitUntil('the handshakes to be counted', () => ts.server.stats().tlsFailures >= 4);
  t.equal(ts.server.stats().connections, 1, 'only the good client is connected');
});
