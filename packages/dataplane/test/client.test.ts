// The client's failure behaviour: connect timeouts, lost connections, request timeouts, clean
// close, and a node that shuts down. Fake nodes here are plain TCP servers speaking frames.
import { createServer, type Server, type Socket } from 'node:net';
import t from 'tap';
import { isBallastError } from '@ballast/common';
import { FrameDecoder, FrameType, ballast, encodeFrame, type Frame } from '@ballast/proto';
import { DataPlaneClient, StatusCode, isDataPlaneError, serverProofMac } from '../src/index.js';
import {
  CLUSTER,
  SECRET,
  VOLUME,
  connectClient,
  dp,
  registry,
  rejection,
  startServer,
  waitUntil,
} from './helpers.js';

interface FakeNode {
  port: number;
  sockets: Socket[];
  requests: Frame[];
}

/**
 * A node that completes the hello (trusting any mac, proving itself with the test secret) and
 * then calls `onRequest` for each frame.
 */
async function fakeNode(
  t: { teardown(fn: () => unknown): void },
  onRequest: (frame: Frame, socket: Socket) => void,
  opts: { silent?: boolean } = {},
): Promise<FakeNode> {
  const state: FakeNode = { port: 0, sockets: [], requests: [] };
  const server: Server = createServer((socket) => {
    state.sockets.push(socket);
    socket.on('error', () => undefined);
    if (opts.silent) return;
    const decoder = new FrameDecoder({ registry });
    let authed = false;
    socket.write(
      encodeFrame(
        FrameType.ServerHello,
        0,
        dp.ServerHello.encode({
          protocolVersion: 1,
          clusterId: CLUSTER,
          nodeId: 'fake',
          nonce: Buffer.alloc(32),
        }).finish(),
      ),
    );
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        if (!authed) {
          authed = true;
          const hello = frame.header as ballast.dataplane.ClientHello;
          const serverMac = serverProofMac(
            Buffer.from(SECRET),
            hello.clientNonce,
            'fake',
            Buffer.alloc(32),
          );
          socket.write(
            encodeFrame(
              FrameType.HelloResponse,
              0,
              dp.HelloResponse.encode({ serverMac }).finish(),
            ),
          );
          continue;
        }
        state.requests.push(frame);
        onRequest(frame, socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as { port: number }).port;
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const s of state.sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return state;
}

function openResponse(frame: Frame): Buffer {
  return encodeFrame(
    FrameType.OpenSessionResponse,
    frame.requestId,
    dp.OpenSessionResponse.encode({
      sessionId: 1,
      sizeBytes: 1 << 20,
      chunkSizeBytes: 65536,
      blockSizeBytes: 4096,
      highestEpoch: 1,
    }).finish(),
  );
}

t.test('connect fails clearly: refused port, silent node', async (t) => {
  const unused = createServer();
  await new Promise<void>((resolve) => unused.listen(0, '127.0.0.1', resolve));
  const port = (unused.address() as { port: number }).port;
  await new Promise<void>((resolve) => unused.close(() => resolve()));
  const refused = await rejection(
    DataPlaneClient.connect({
      host: '127.0.0.1',
      port,
      clusterId: CLUSTER,
      clientId: 'c',
      secret: SECRET,
    }),
  );
  t.ok(isBallastError(refused, 'UNAVAILABLE'), String(refused));

  const silent = await fakeNode(t, () => undefined, { silent: true });
  const timedOut = await rejection(
    DataPlaneClient.connect({
      host: '127.0.0.1',
      port: silent.port,
      clusterId: CLUSTER,
      clientId: 'c',
      secret: SECRET,
      connectTimeoutMs: 200,
    }),
  );
  t.ok(isBallastError(timedOut, 'TIMEOUT'), String(timedOut));
});

t.test('a lost connection fails every pending request with UNAVAILABLE', async (t) => {
  const node = await fakeNode(t, (frame, socket) => {
    if (frame.type === FrameType.OpenSession) socket.write(openResponse(frame));
    // Requests after the open are never answered; the third one kills the connection.
    else if (node.requests.length === 4) socket.destroy();
  });
  const client = await connectClient(t, node.port);
  const session = await client.openSession({ volumeId: VOLUME, epoch: 1 });
  const pending = [session.read(0, 4096), session.write(0, Buffer.alloc(4096)), session.flush()];
  const errors = await Promise.all(pending.map((p) => rejection(p)));
  for (const err of errors) t.ok(isBallastError(err, 'UNAVAILABLE'), String(err));
  const reason = await client.closed;
  t.ok(isBallastError(reason, 'UNAVAILABLE'), 'closed resolves with the reason');
  const after = await rejection(session.read(0, 4096));
  t.ok(isBallastError(after, 'UNAVAILABLE'), 'later requests fail at once');
});

t.test('an unanswered request times out; its late answer is ignored', async (t) => {
  let held: Frame | undefined;
  let heldSocket: Socket | undefined;
  const node = await fakeNode(t, (frame, socket) => {
    if (frame.type === FrameType.OpenSession) socket.write(openResponse(frame));
    else if (frame.type === FrameType.Flush && held === undefined) {
      held = frame;
      heldSocket = socket;
    } else {
      socket.write(
        encodeFrame(frame.type + 1, frame.requestId, dp.FlushResponse.encode({}).finish()),
      );
    }
  });
  const client = await connectClient(t, node.port, { requestTimeoutMs: 200 });
  const session = await client.openSession({ volumeId: VOLUME, epoch: 1 });
  const err = await rejection(session.flush());
  t.ok(isBallastError(err, 'TIMEOUT'), String(err));
  heldSocket!.write(
    encodeFrame(FrameType.FlushResponse, held!.requestId, dp.FlushResponse.encode({}).finish()),
  );
  await session.flush();
  t.equal(client.stats().lateResponses, 1, 'the late answer was recognised');
  t.ok(client.isOpen, 'the connection survives a timeout');
});

t.test('an answer of the wrong type is a protocol error that ends the connection', async (t) => {
  const node = await fakeNode(t, (frame, socket) => {
    if (frame.type === FrameType.OpenSession) socket.write(openResponse(frame));
    else
      socket.write(
        encodeFrame(FrameType.WriteResponse, frame.requestId, dp.WriteResponse.encode({}).finish()),
      );
  });
  const client = await connectClient(t, node.port);
  const session = await client.openSession({ volumeId: VOLUME, epoch: 1 });
  const err = await rejection(session.read(0, 4096));
  t.ok(isBallastError(err, 'PROTOCOL'), String(err));
  t.ok(isBallastError(await client.closed, 'PROTOCOL'));
});

t.test('clean close waits for pending requests; a node shutting down is reported', async (t) => {
  const ts = await startServer(t, {}, { mutationDelayMs: () => 20 });
  const client = await connectClient(t, ts.port);
  const session = await client.openSession({ volumeId: VOLUME, epoch: 1 });
  const write = session.write(0, Buffer.alloc(4096, 1));
  const closing = client.close();
  const refused = await rejection(session.read(0, 4096));
  t.ok(isBallastError(refused, 'UNAVAILABLE'), 'no new requests while closing');
  await write;
  await closing;
  t.equal(await client.closed, undefined, 'a clean close has no error');
  await waitUntil('the server to drop the connection', () => ts.server.stats().connections === 0);

  const other = await connectClient(t, ts.port);
  const s2 = await other.openSession({ volumeId: VOLUME, epoch: 1 });
  const running = s2.write(4096, Buffer.alloc(4096, 2));
  const volume = ts.store.volume(VOLUME);
  await waitUntil('the write to reach the node', () => volume.queue.length > 0);
  await ts.server.close();
  await running; // answered before the connection closed
  const reason = await other.closed;
  t.ok(isDataPlaneError(reason, StatusCode.SHUTTING_DOWN), `the node said why: ${String(reason)}`);
  t.same(ts.store.volume(VOLUME).peek(4096, 4096), Buffer.alloc(4096, 2));
});

t.test('the local queue past the in-flight window keeps order and is bounded', async (t) => {
  const ts = await startServer(t);
  const client = await connectClient(t, ts.port, { maxInFlightRequests: 4, maxQueuedRequests: 10 });
  const session = await client.openSession({ volumeId: VOLUME, epoch: 1 });
  const writes: Array<Promise<void>> = [];
  for (let i = 0; i < 14; i++) writes.push(session.write(0, Buffer.alloc(4096, i)));
  t.equal(client.stats().inFlight, 4);
  t.equal(client.stats().queued, 10);
  const overflow = await rejection(session.write(0, Buffer.alloc(4096, 99)));
  t.ok(isBallastError(overflow, 'RATE_LIMITED'), 'the 15th request is refused locally');
  await Promise.all(writes);
  t.same(await session.read(0, 4096), Buffer.alloc(4096, 13), 'queued writes kept their order');
});

t.test('reset right after the node closed its end still closes (no hang)', async (t) => {
  // The node ends the connection while a request is pending; the client resets it at once, as
  // the engine does when it drops a replica. Node.js then refuses the reset (a shutdown is under
  // way after the peer's FIN), reports an error and never emits 'close': close() used to wait
  // for that 'close' for ever.
  const ts = await startServer(t, { closeGraceMs: 1 }, { mutationDelayMs: () => 60_000 });
  const client = await connectClient(t, ts.port);
  const session = await client.openSession({ volumeId: VOLUME, epoch: 1 });
  const write = session.write(0, Buffer.alloc(4096, 1));
  const resetOnFailure = write.then(
    () => undefined,
    () => client.reset(),
  );
  const volume = ts.store.volume(VOLUME);
  await waitUntil('the write to reach the node', () => volume.queue.length > 0);
  void ts.server.close();
  await resetOnFailure;
  const closed = await Promise.race([
    client.close().then(() => 'closed'),
    new Promise((resolve) => setTimeout(() => resolve('still waiting after 10 s'), 10_000).unref()),
  ]);
  t.equal(closed, 'closed');
});
