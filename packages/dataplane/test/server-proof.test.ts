// The node's proof: a node must show it knows the cluster secret (HelloResponse.server_mac over
// the client's nonce), or the real client refuses it before sending anything else. Impostors
// here are raw TCP servers speaking the frame codec of @ballast/proto.
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import t from 'tap';
import { isBallastError } from '@ballast/common';
import { FrameDecoder, FrameType, ballast, encodeFrame, type Frame } from '@ballast/proto';
import {
  CLIENT_NONCE_BYTES,
  DataPlaneServer,
  StatusCode,
  helloMac,
  isDataPlaneError,
  serverProofMac,
  verifyServerProofMac,
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
  registry,
  rejection,
  startServer,
} from './helpers.js';

const secret = Buffer.from(SECRET);

interface Impostor {
  port: number;
  /** Frames each connection received, in order. */
  received: Frame[][];
  /** Resolves once every accepted connection has closed. */
  allClosed(): Promise<void>;
}

/**
 * A node impostor: sends a ServerHello (with `nonce`), accepts any ClientHello and answers
 * HelloResponse OK carrying whatever `serverMac` returns (undefined: no field at all).
 */
async function impostor(
  t: { teardown(fn: () => unknown): void },
  serverMac: (hello: ballast.dataplane.ClientHello, nonce: Buffer) => Uint8Array | undefined,
  nonce: () => Buffer = () => randomBytes(32),
): Promise<Impostor> {
  const sockets: Socket[] = [];
  const closed: Array<Promise<void>> = [];
  const received: Frame[][] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
    const frames: Frame[] = [];
    received.push(frames);
    socket.on('error', () => undefined);
    const decoder = new FrameDecoder({ registry });
    const serverNonce = nonce();
    socket.write(
      encodeFrame(
        FrameType.ServerHello,
        0,
        dp.ServerHello.encode({
          protocolVersion: 1,
          clusterId: CLUSTER,
          nodeId: NODE,
          nonce: serverNonce,
        }).finish(),
      ),
    );
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        frames.push(frame);
        if (frame.type !== FrameType.ClientHello) continue;
        const mac = serverMac(frame.header as ballast.dataplane.ClientHello, serverNonce);
        socket.write(
          encodeFrame(
            FrameType.HelloResponse,
            0,
            dp.HelloResponse.encode(mac === undefined ? {} : { serverMac: mac }).finish(),
          ),
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return {
    port: (server.address() as { port: number }).port,
    received,
    allClosed: async () => {
      await Promise.all(closed);
    },
  };
}

t.test('the real client refuses a node that cannot prove it knows the secret', async (t) => {
  const cases: Array<{
    name: string;
    mac: (hello: ballast.dataplane.ClientHello, nonce: Buffer) => Uint8Array | undefined;
  }> = [
    { name: 'no server mac', mac: () => undefined },
    { name: 'an empty server mac', mac: () => new Uint8Array() },
    { name: 'random bytes', mac: () => randomBytes(32) },
    {
      name: 'a short mac',
      mac: (h, n) => serverProofMac(secret, h.clientNonce, NODE, n).subarray(0, 16),
    },
    {
      name: 'a mac made with another secret',
      mac: (h, n) =>
        serverProofMac(Buffer.from('another-secret-0123456789'), h.clientNonce, NODE, n),
    },
    {
      name: 'a mac for another node id',
      mac: (h, n) => serverProofMac(secret, h.clientNonce, 'n2', n),
    },
    {
      name: 'a mac over another client nonce (replayed from elsewhere)',
      mac: (_h, n) => serverProofMac(secret, randomBytes(CLIENT_NONCE_BYTES), NODE, n),
    },
    {
      name: "the client's own mac reflected back",
      mac: (h) => h.mac,
    },
  ];
  for (const c of cases) {
    const fake = await impostor(t, c.mac);
    const err = await rejection(connectClient(t, fake.port));
    t.ok(isBallastError(err, 'UNAUTHORIZED'), `${c.name}: refused (${String(err)})`);
    t.match(String((err as Error).message), /did not prove it knows the cluster secret/);
    await fake.allClosed();
    t.same(
      fake.received.flat().map((f) => f.type),
      [FrameType.ClientHello],
      `${c.name}: the client sent nothing after its hello and closed the connection`,
    );
  }
});

t.test('a node nonce of the wrong length is refused before the client proves itself', async (t) => {
  // With a chosen-length nonce an impostor could try to make the client's mac input line up
  // with a node proof; real nodes always send 32 bytes.
  const fake = await impostor(
    t,
    (h, n) => serverProofMac(secret, h.clientNonce, NODE, n),
    () => randomBytes(64),
  );
  const err = await rejection(connectClient(t, fake.port));
  t.ok(isBallastError(err, 'CONFLICT'), String(err));
  await fake.allClosed();
  t.same(fake.received.flat(), [], 'no ClientHello (and so no mac) was sent');
});

t.test('an impostor that knows the secret is accepted (the check is not vacuous)', async (t) => {
  const fake = await impostor(t, (h, n) => serverProofMac(secret, h.clientNonce, NODE, n));
  const client = await connectClient(t, fake.port);
  t.equal(client.nodeId, NODE);
  t.ok(client.isOpen);
  const hello = fake.received[0]![0]!.header as ballast.dataplane.ClientHello;
  t.equal(hello.clientNonce.length, CLIENT_NONCE_BYTES, 'the client sent a 32-byte nonce');
});

t.test('the real server proves itself, and only to a client that proved itself', async (t) => {
  const ts = await startServer(t);
  const client = await connectClient(t, ts.port);
  const session = await client.openSession({ volumeId: VOLUME, epoch: 1 });
  await session.write(0, Buffer.alloc(8192, 9));
  t.same(await session.read(0, 8192), Buffer.alloc(8192, 9), 'the real pair works');

  // By hand: the mac in HelloResponse verifies for our nonce, this node and its nonce.
  const peer = await RawPeer.connect(ts.port);
  t.teardown(() => peer.destroy());
  const nonce = await peer.nonce();
  const clientNonce = randomBytes(CLIENT_NONCE_BYTES);
  peer.sendMessage(
    FrameType.ClientHello,
    0,
    dp.ClientHello.encode({
      protocolVersion: 1,
      clusterId: CLUSTER,
      clientId: 'raw',
      mac: helloMac(secret, nonce, 'raw'),
      clientNonce,
    }).finish(),
  );
  const ok = (await peer.frame(FrameType.HelloResponse))!.header as ballast.dataplane.HelloResponse;
  t.equal(ok.status?.code ?? 0, StatusCode.OK);
  t.ok(verifyServerProofMac(secret, clientNonce, NODE, nonce, ok.serverMac), 'server mac verifies');
  t.notOk(
    verifyServerProofMac(secret, clientNonce, 'n2', nonce, ok.serverMac),
    'and is bound to the node id',
  );

  // A client with a wrong mac gets no proof to collect.
  const stranger = await RawPeer.connect(ts.port);
  t.teardown(() => stranger.destroy());
  await stranger.nonce();
  stranger.sendMessage(
    FrameType.ClientHello,
    0,
    dp.ClientHello.encode({
      protocolVersion: 1,
      clusterId: CLUSTER,
      clientId: 'stranger',
      mac: randomBytes(32),
      clientNonce: randomBytes(CLIENT_NONCE_BYTES),
    }).finish(),
  );
  const refused = (await stranger.frame(FrameType.HelloResponse))!
    .header as ballast.dataplane.HelloResponse;
  t.equal(refused.status?.code, StatusCode.UNAUTHENTICATED);
  t.equal(refused.serverMac.length, 0, 'no server mac for a client that failed');
  t.ok(await stranger.waitClosed(), 'and the connection is closed');
});

t.test('an older client without a nonce is still served (no proof asked)', async (t) => {
  const ts = await startServer(t);
  const peer = await RawPeer.connect(ts.port);
  t.teardown(() => peer.destroy());
  await peer.authenticate('old-client');
  const response = peer.frames.find((f) => f.type === FrameType.HelloResponse)!
    .header as ballast.dataplane.HelloResponse;
  t.equal(response.serverMac.length, 0);
  const sessionId = await peer.openSession(VOLUME, 1);
  t.ok(sessionId > 0, 'and it can open a session');
});

t.test('a client nonce of the wrong length is refused', async (t) => {
  const ts = await startServer(t);
  const peer = await RawPeer.connect(ts.port);
  t.teardown(() => peer.destroy());
  const nonce = await peer.nonce();
  peer.sendMessage(
    FrameType.ClientHello,
    0,
    dp.ClientHello.encode({
      protocolVersion: 1,
      clusterId: CLUSTER,
      clientId: 'raw',
      mac: helloMac(secret, nonce, 'raw'),
      clientNonce: randomBytes(8),
    }).finish(),
  );
  const r = (await peer.frame(FrameType.HelloResponse))!.header as ballast.dataplane.HelloResponse;
  t.equal(r.status?.code, StatusCode.UNAUTHENTICATED);
  t.ok(await peer.waitClosed());
});

t.test('a client with the secret refuses a node that runs without one', async (t) => {
  const store = new MemoryReplicaStore();
  store.createVolume(VOLUME, 1024 * 1024, 64 * 1024);
  const insecure = new DataPlaneServer({
    store,
    clusterId: CLUSTER,
    nodeId: NODE,
    insecureNoAuth: true,
  });
  const { port } = await insecure.listen('127.0.0.1', 0);
  t.teardown(() => insecure.close());
  const err = await rejection(connectClient(t, port));
  t.ok(isBallastError(err, 'UNAUTHORIZED'), String(err));
  t.notOk(isDataPlaneError(err), 'a client-side refusal, not a node status');
  const dev = await connectClient(t, port, { secret: undefined, insecureNoAuth: true });
  t.ok(dev.isOpen, 'a development client without a secret still talks to it');
});
