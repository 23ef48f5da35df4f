// Authentication: the hello exchange, its refusals, and that a mac is bound to its connection.
import t from 'tap';
import { isBallastError } from '@ballast/common';
import { FrameType } from '@ballast/proto';
import {
  DataPlaneClient,
  DataPlaneServer,
  StatusCode,
  helloMac,
  isDataPlaneError,
} from '../src/index.js';
import { MemoryReplicaStore } from '@ballast/session';
import {
  CLUSTER,
  NODE,
  RawPeer,
  SECRET,
  VOLUME,
  connectClient,
  dp,
  startServer,
  rejection,
  waitUntil,
  type TestServer,
} from './helpers.js';

function noticeCode(peer: RawPeer): number | undefined {
  const notice = peer.frames.find((f) => f.type === FrameType.ErrorNotice);
  return (notice?.header as { status?: { code?: number } } | undefined)?.status?.code ?? undefined;
}

t.test('a server without a secret refuses to start unless the insecure flag is set', async (t) => {
  const store = new MemoryReplicaStore();
  t.throws(() => new DataPlaneServer({ store, clusterId: CLUSTER, nodeId: NODE }), {
    code: 'CONFIG',
  });
  t.throws(
    () =>
      new DataPlaneServer({
        store,
        clusterId: CLUSTER,
        nodeId: NODE,
        secret: 'short',
      }),
    { code: 'CONFIG' },
    'a secret shorter than 16 bytes is not a key',
  );
  const insecure = new DataPlaneServer({
    store,
    clusterId: CLUSTER,
    nodeId: NODE,
    insecureNoAuth: true,
  });
  store.createVolume(VOLUME, 1024 * 1024, 64 * 1024);
  const { port } = await insecure.listen('127.0.0.1', 0);
  t.teardown(() => insecure.close());
  const client = await connectClient(t, port, { secret: undefined, insecureNoAuth: true });
  const session = await client.openSession({ volumeId: VOLUME, epoch: 1 });
  await session.write(0, Buffer.alloc(4096, 7));
  t.same(await session.read(0, 4096), Buffer.alloc(4096, 7), 'the insecure server serves');
  await t.rejects(
    DataPlaneClient.connect({ host: '127.0.0.1', port, clusterId: CLUSTER, clientId: 'x' }),
    { code: 'CONFIG' },
    'a client without a secret needs the insecure flag too',
  );
});

t.test('authentication', async (t) => {
  let ts: TestServer;
  t.beforeEach(async (t) => {
    ts = await startServer(t);
  });

  t.test('the right secret opens the connection and states who the node is', async (t) => {
    const client = await connectClient(t, ts.port);
    t.equal(client.nodeId, NODE);
    t.equal(client.clusterId, CLUSTER);
    const session = await client.openSession({ volumeId: VOLUME, epoch: 1 });
    await session.write(4096, Buffer.alloc(4096, 1));
    t.same(await session.read(4096, 4096), Buffer.alloc(4096, 1));
    t.equal(ts.server.stats().authFailures, 0);
  });

  t.test('a wrong secret is refused with UNAUTHENTICATED', async (t) => {
    const err = await DataPlaneClient.connect({
      host: '127.0.0.1',
      port: ts.port,
      clusterId: CLUSTER,
      clientId: 'intruder',
      secret: 'not-the-secret-at-all-0000',
    }).then(
      () => null,
      (e: unknown) => e,
    );
    t.ok(isDataPlaneError(err, StatusCode.UNAUTHENTICATED), `refused: ${String(err)}`);
    await waitUntil('the refusal to be counted', () => ts.server.stats().authFailures >= 1);
    await waitUntil('the connection to close', () => ts.server.stats().connections === 0);
    t.pass('the refused connection is closed');
  });

  t.test('a client without any secret (insecure flag, zero mac) is refused', async (t) => {
    const err = await rejection(
      DataPlaneClient.connect({
        host: '127.0.0.1',
        port: ts.port,
        clusterId: CLUSTER,
        clientId: 'nosecret',
        insecureNoAuth: true,
      }),
    );
    t.ok(isDataPlaneError(err, StatusCode.UNAUTHENTICATED), String(err));
  });

  t.test('a mac computed for another connection nonce is refused (no replay)', async (t) => {
    const a = await RawPeer.connect(ts.port);
    const b = await RawPeer.connect(ts.port);
    t.teardown(() => {
      a.destroy();
      b.destroy();
    });
    const nonceA = await a.nonce();
    const nonceB = await b.nonce();
    t.not(Buffer.from(nonceA).toString('hex'), Buffer.from(nonceB).toString('hex'), 'fresh nonces');
    const macForA = helloMac(Buffer.from(SECRET), nonceA, 'agent-1');
    // Replay A's proof on B: refused.
    b.sendHello('agent-1', macForA);
    const refused = await b.frame(FrameType.HelloResponse);
    t.equal(
      (refused?.header as { status?: { code?: number } }).status?.code,
      StatusCode.UNAUTHENTICATED,
    );
    t.ok(await b.waitClosed(), 'the replaying connection is closed');
    // The same mac on its own connection works: the refusal was about the nonce.
    a.sendHello('agent-1', macForA);
    const accepted = await a.frame(FrameType.HelloResponse);
    t.equal((accepted?.header as { status?: { code?: number } }).status?.code ?? 0, 0);
    // And the mac is bound to the client id as well.
    const c = await RawPeer.connect(ts.port);
    t.teardown(() => c.destroy());
    const nonceC = await c.nonce();
    c.sendHello('agent-2', helloMac(Buffer.from(SECRET), nonceC, 'agent-1'));
    const wrongId = await c.frame(FrameType.HelloResponse);
    t.equal(
      (wrongId?.header as { status?: { code?: number } }).status?.code,
      StatusCode.UNAUTHENTICATED,
    );
  });

  t.test('anything but a ClientHello first is refused before it is looked at', async (t) => {
    const peer = await RawPeer.connect(ts.port);
    t.teardown(() => peer.destroy());
    await peer.nonce();
    peer.sendMessage(
      FrameType.OpenSession,
      1,
      dp.OpenSession.encode({ volumeId: VOLUME, epoch: 1 }).finish(),
    );
    t.ok(await peer.waitClosed(), 'closed');
    t.equal(noticeCode(peer), StatusCode.UNAUTHENTICATED);
    t.notOk(
      peer.frames.some((f) => f.type === FrameType.OpenSessionResponse),
      'no session was opened',
    );
  });

  t.test('a large frame before authentication is refused at its length', async (t) => {
    const peer = await RawPeer.connect(ts.port);
    t.teardown(() => peer.destroy());
    await peer.nonce();
    const prefix = Buffer.alloc(8);
    prefix.writeUInt32BE(1024 * 1024, 0);
    prefix.writeUInt16BE(0xba57, 4);
    prefix[6] = 1;
    prefix[7] = FrameType.ClientHello;
    peer.socket.write(prefix);
    t.ok(await peer.waitClosed(), 'closed without waiting for the megabyte');
    t.equal(noticeCode(peer), StatusCode.INVALID);
  });

  t.test('requests pipelined behind the ClientHello are a violation', async (t) => {
    const peer = await RawPeer.connect(ts.port);
    t.teardown(() => peer.destroy());
    const nonce = await peer.nonce();
    const hello = dp.ClientHello.encode({
      protocolVersion: 1,
      clusterId: CLUSTER,
      clientId: 'eager',
      mac: helloMac(Buffer.from(SECRET), nonce, 'eager'),
    }).finish();
    const open = dp.OpenSession.encode({ volumeId: VOLUME, epoch: 1 }).finish();
    const { encodeFrame } = await import('@ballast/proto');
    peer.socket.write(
      Buffer.concat([
        encodeFrame(FrameType.ClientHello, 0, hello),
        encodeFrame(FrameType.OpenSession, 1, open),
      ]),
    );
    t.ok(await peer.waitClosed(), 'closed');
    t.notOk(peer.frames.some((f) => f.type === FrameType.OpenSessionResponse));
  });

  t.test('a cluster id mismatch is refused on both sides', async (t) => {
    await t.rejects(
      DataPlaneClient.connect({
        host: '127.0.0.1',
        port: ts.port,
        clusterId: 'other-cluster',
        clientId: 'x',
        secret: SECRET,
      }),
      { code: 'CONFLICT' },
      'the client refuses a node of another cluster',
    );
    const peer = await RawPeer.connect(ts.port);
    t.teardown(() => peer.destroy());
    const nonce = await peer.nonce();
    peer.sendHello('x', helloMac(Buffer.from(SECRET), nonce, 'x'), 'other-cluster');
    const r = await peer.frame(FrameType.HelloResponse);
    t.equal((r?.header as { status?: { code?: number } }).status?.code, StatusCode.UNAUTHENTICATED);
  });

  t.test('the client refuses a node that is not the one it expected', async (t) => {
    const err = await connectClient(t, ts.port, { expectedNodeId: 'n2' }).then(
      () => null,
      (e: unknown) => e,
    );
    t.ok(isBallastError(err, 'CONFLICT'), String(err));
  });
});

t.test('a silent peer is dropped after the handshake timeout', async (t) => {
  const ts = await startServer(t, { handshakeTimeoutMs: 200 });
  const peer = await RawPeer.connect(ts.port);
  t.teardown(() => peer.destroy());
  t.ok(await peer.waitClosed(10_000), 'closed by the server');
  t.equal(noticeCode(peer), StatusCode.UNAUTHENTICATED);
  t.equal(ts.server.stats().authFailures, 1);
});

t.test('connections past the limit are refused with OVERLOADED, others unaffected', async (t) => {
  const ts = await startServer(t, { maxConnections: 2 });
  const a = await connectClient(t, ts.port);
  const b = await connectClient(t, ts.port);
  const err = await rejection(connectClient(t, ts.port));
  t.ok(isDataPlaneError(err, StatusCode.OVERLOADED), String(err));
  const s = await a.openSession({ volumeId: VOLUME, epoch: 1 });
  await s.write(0, Buffer.alloc(4096, 3));
  t.ok(b.isOpen);
  t.equal(ts.server.stats().connectionsRejected, 1);
});
