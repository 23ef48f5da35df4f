// Raft over wss: members with certificates from one CA talk; a member whose certificate another
// CA signed is refused by the server (mutual TLS), a member that does not trust the server's CA
// refuses to talk to it, plain ws never reaches a TLS member, and a TLS member never dials a
// plain ws:// peer.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { createDevCertificates, createLogger, type DevCertificates } from '@ballast/common';
import type { Message } from '@ballast/raft';
import { waitFor } from '@ballast/testkit';
import { WebSocket } from 'ws';
import { RaftMetrics } from '../src/metrics.js';
import {
  HEADER_AUTH,
  HEADER_CLUSTER,
  HEADER_FROM,
  HEADER_TO,
  RaftTransport,
  raftAuthToken,
  type TransportTls,
} from '../src/transport.js';

const SECRET = 'test-secret-0123456789';
const log = createLogger({ name: 'transport-tls-test', level: 'silent', pretty: false });

interface Pki {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

function load(c: DevCertificates): Pki {
  return {
    ca: readFileSync(c.caFile),
    cert: readFileSync(c.certFile),
    key: readFileSync(c.keyFile),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'raft-tls-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const trusted = load(createDevCertificates(join(dir, 'a'), { caName: 'cluster CA' }));
const stranger = load(createDevCertificates(join(dir, 'b'), { caName: 'other CA' }));

interface Member {
  transport: RaftTransport;
  metrics: RaftMetrics;
  received: Message[];
  unreachable: string[];
  url: string;
}

async function member(t: Test, id: string, tls: TransportTls | undefined): Promise<Member> {
  const metrics = new RaftMetrics();
  const transport = new RaftTransport({
    clusterId: 'c1',
    memberId: id,
    secret: SECRET,
    logger: log,
    metrics,
    reconnectInitialDelayMs: 20,
    reconnectMaxDelayMs: 200,
    ...(tls ? { tls } : {}),
  });
  const m: Member = { transport, metrics, received: [], unreachable: [], url: '' };
  transport.setHandler({
    onMessage: (msg) => m.received.push(msg),
    onUnreachable: (p) => m.unreachable.push(p),
    onSnapshotStatus: () => undefined,
  });
  m.url = await transport.listen();
  t.teardown(() => transport.close());
  return m;
}

function heartbeat(from: string, to: string, commit: number): Message {
  return { clusterId: 'c1', from, to, term: 3, heartbeat: { commit, context: new Uint8Array(0) } };
}

async function count(
  metric: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> },
  labels: Record<string, string>,
): Promise<number> {
  let sum = 0;
  for (const v of (await metric.get()).values) {
    if (Object.entries(labels).every(([k, want]) => v.labels[k] === want)) sum += v.value;
  }
  return sum;
}

const mutual = (p: Pki, ca = p.ca): TransportTls => ({
  ca,
  cert: p.cert,
  key: p.key,
  requirePeerCertificate: true,
});

function handshakeHeaders(from: string, to: string): Record<string, string> {
  return {
    [HEADER_CLUSTER]: 'c1',
    [HEADER_FROM]: from,
    [HEADER_TO]: to,
    [HEADER_AUTH]: raftAuthToken(SECRET, 'c1', from, to),
  };
}

/** How a raw handshake ends: the HTTP status of a refusal, 101 when accepted, or the error. */
function outcome(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => {
    ws.once('unexpected-response', (_req, res) => {
      resolve(String(res.statusCode));
      ws.terminate();
    });
    ws.once('open', () => {
      resolve('101');
      ws.terminate();
    });
    ws.once('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
  });
}

t.test('members with certificates of the cluster CA exchange messages over wss', async (t) => {
  const a = await member(t, 'm1', mutual(trusted));
  const b = await member(t, 'm2', mutual(trusted));
  t.match(a.url, /^wss:\/\/127\.0\.0\.1:\d+\/raft$/);
  a.transport.setPeer('m2', b.url);
  b.transport.setPeer('m1', a.url);
  a.transport.send([heartbeat('m1', 'm2', 7)]);
  b.transport.send([heartbeat('m2', 'm1', 8)]);
  await waitFor('both delivered', () => a.received.length === 1 && b.received.length === 1);
  t.equal(b.received[0]!.heartbeat?.commit, 7);
  t.equal(a.received[0]!.heartbeat?.commit, 8);
  t.equal(await count(b.metrics.connectionsRejected, {}), 0, 'nothing refused');
});

t.test('a peer whose certificate another CA signed is refused (mutual TLS)', async (t) => {
  const server = await member(t, 'm1', mutual(trusted));
  // Trusts the cluster CA (so it accepts the server), but presents a stranger's certificate.
  const intruder = await member(t, 'm9', mutual(stranger, trusted.ca));
  intruder.transport.setPeer('m1', server.url);
  intruder.transport.send([heartbeat('m9', 'm1', 1)]);
  await waitFor('refused as untrusted, and the intruder told', async () => {
    const refused = await count(server.metrics.connectionsRejected, {
      reason: 'untrusted-certificate',
    });
    return refused > 0 && intruder.unreachable.includes('m1');
  });
  t.pass('the server refused the certificate; the intruder learns the peer is unreachable');
  t.same(server.received, [], 'nothing from the intruder was delivered');

  // The same with a raw client holding the right HMAC: the certificate decides first.
  const noCert = new WebSocket(server.url, {
    ca: trusted.ca,
    headers: handshakeHeaders('m2', 'm1'),
  });
  t.equal(await outcome(noCert), '403', 'no client certificate: 403');
  const strangerCert = new WebSocket(server.url, {
    ca: trusted.ca,
    cert: stranger.cert,
    key: stranger.key,
    headers: handshakeHeaders('m2', 'm1'),
  });
  t.equal(await outcome(strangerCert), '403', "another CA's certificate: 403");
  const good = new WebSocket(server.url, {
    ca: trusted.ca,
    cert: trusted.cert,
    key: trusted.key,
    headers: handshakeHeaders('m2', 'm1'),
  });
  t.equal(await outcome(good), '101', 'the cluster certificate and the HMAC: accepted');
  const goodCertBadHmac = new WebSocket(server.url, {
    ca: trusted.ca,
    cert: trusted.cert,
    key: trusted.key,
    headers: { ...handshakeHeaders('m2', 'm1'), [HEADER_AUTH]: 'v1=00' },
  });
  t.equal(await outcome(goodCertBadHmac), '401', 'a certificate does not replace the secret');
  t.same(server.received, []);
});

t.test('a member that does not trust the server certificate does not talk to it', async (t) => {
  const server = await member(t, 'm1', mutual(trusted));
  const wary = await member(t, 'm2', mutual(stranger));
  wary.transport.setPeer('m1', server.url);
  wary.transport.send([heartbeat('m2', 'm1', 1)]);
  await waitFor('connection failed', async () => {
    return (await count(wary.metrics.peerConnects, { peer: 'm1', outcome: 'failed' })) > 0;
  });
  t.same(server.received, [], 'nothing delivered');
  const raw = new WebSocket(server.url, { ca: stranger.ca, headers: handshakeHeaders('m2', 'm1') });
  t.match(await outcome(raw), /^error (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/);
});

t.test('plain ws neither reaches a TLS member nor is dialled by one', async (t) => {
  const secure = await member(t, 'm1', mutual(trusted));
  const plainUrl = secure.url.replace(/^wss:/, 'ws:');
  const raw = new WebSocket(plainUrl, { headers: handshakeHeaders('m2', 'm1') });
  t.match(await outcome(raw), /^error /, 'plain ws to the TLS port fails');

  const plain = await member(t, 'm2', undefined);
  t.match(plain.url, /^ws:\/\//);
  secure.transport.setPeer('m2', plain.url);
  secure.transport.send([heartbeat('m1', 'm2', 1)]);
  await waitFor('dial refused', async () => {
    return (await count(secure.metrics.peerConnects, { peer: 'm2', outcome: 'failed' })) > 0;
  });
  t.ok(secure.unreachable.includes('m2'));
  t.same(plain.received, [], 'no frame left in the clear');
});

t.test('TLS settings that cannot work are refused at construction', async (t) => {
  const base = { clusterId: 'c1', memberId: 'm1', secret: SECRET, logger: log };
  t.throws(
    () =>
      new RaftTransport({
        ...base,
        metrics: new RaftMetrics(),
        tls: { cert: trusted.cert, key: trusted.key, requirePeerCertificate: true },
      }),
    /needs the CA/,
  );
  t.throws(
    () => new RaftTransport({ ...base, metrics: new RaftMetrics(), tls: { cert: trusted.cert } }),
    /go together/,
  );
});
