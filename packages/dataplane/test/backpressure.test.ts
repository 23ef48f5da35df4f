// A client that sends without reading cannot make the server buffer without bound: the server
// stops reading from it, and other connections keep working.
import t from 'tap';
import { FrameType, encodeFrame } from '@ballast/proto';
import { RawPeer, VOLUME, connectClient, dp, pattern, startServer, waitUntil } from './helpers.js';

const MiB = 1024 * 1024;

t.test('a reader that never reads its responses stalls only itself', async (t) => {
  const maxBacklogBytes = 4 * MiB;
  const ts = await startServer(t, { maxBacklogBytes, maxInFlightBytes: 8 * MiB });
  const peer = await RawPeer.connect(ts.port);
  t.teardown(() => peer.destroy());
  await peer.authenticate();
  const sessionId = await peer.openSession(VOLUME, 1);
  peer.socket.pause(); // from now on this client reads nothing
  const readBytes = 256 * 1024;
  const requests = 1000; // 250 MiB of responses if nothing pushed back
  const batch: Buffer[] = [];
  for (let i = 0; i < requests; i++) {
    batch.push(
      encodeFrame(
        FrameType.Read,
        i + 10,
        dp.ReadRequest.encode({ sessionId, offset: (i % 60) * MiB, length: readBytes }).finish(),
      ),
    );
  }
  peer.socket.write(Buffer.concat(batch));
  // The server stops reading once its backlog is full; then the frames pile up in the kernel
  // and finally in this client's own socket buffer.
  // Steady state: the connection is paused because its backlog is full, which cannot change
  // until this client reads (the kernel buffers in between are full as well).
  await waitUntil(
    'the server to stop reading with a full backlog',
    () => {
      const s = ts.server.stats();
      return s.pausedConnections === 1 && s.backlogBytes >= maxBacklogBytes;
    },
    60_000,
  );
  const stats = ts.server.stats();
  t.comment(`server while stalled: ${JSON.stringify(stats)}`);
  t.ok(stats.requests < requests, `served ${stats.requests} of ${requests} requests so far`);
  t.ok(
    stats.maxBacklogBytesSeen <= maxBacklogBytes + readBytes + 64 * 1024,
    `response backlog stayed bounded: max ${stats.maxBacklogBytesSeen} bytes`,
  );
  t.ok(
    stats.maxDeferredFramesSeen <= 4096,
    `held-back frames bounded: ${stats.maxDeferredFramesSeen}`,
  );
  // Another client is not affected.
  const good = await connectClient(t, ts.port);
  const session = await good.openSession({ volumeId: VOLUME, epoch: 1 });
  await session.write(63 * MiB, pattern(1, 65536));
  t.same(await session.read(63 * MiB, 65536), pattern(1, 65536), 'others are served');
  // Once the slow client reads again, everything it asked for arrives, in full.
  let received = 0;
  const decoderDone = new Promise<void>((resolve) => {
    let bytes = 0;
    peer.socket.removeAllListeners('data');
    peer.socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      received = bytes;
      // Each response is a 16-byte prefix, a 2-byte header and the data.
      if (bytes >= requests * (readBytes + 18)) resolve();
    });
  });
  peer.socket.resume();
  await decoderDone;
  t.equal(received, requests * (readBytes + 18), 'every response arrived once the client read');
  t.ok(
    ts.server.stats().maxBacklogBytesSeen <= maxBacklogBytes + readBytes + 64 * 1024,
    'still bounded',
  );
});

t.test('writes to a slow store are bounded by in-flight bytes', async (t) => {
  const maxInFlightBytes = 4 * MiB;
  // Every mutation waits 5 ms: the store is much slower than the client.
  const ts = await startServer(t, { maxInFlightBytes }, { mutationDelayMs: () => 5 });
  const client = await connectClient(t, ts.port, { maxInFlightRequests: 4096 });
  const session = await client.openSession({ volumeId: VOLUME, epoch: 1 });
  const data = pattern(3, 256 * 1024);
  const writes: Array<Promise<void>> = [];
  for (let i = 0; i < 200; i++) writes.push(session.write((i % 200) * 256 * 1024, data));
  await Promise.all(writes);
  const stats = ts.server.stats();
  t.ok(stats.readPauses >= 1, 'the server paused reading');
  t.ok(
    stats.maxInFlightBytesSeen <= maxInFlightBytes,
    `in-flight payload stayed within ${maxInFlightBytes}: max ${stats.maxInFlightBytesSeen}`,
  );
  t.same(await session.read(199 * 256 * 1024, data.length), data, 'all writes landed');
});

t.test('the in-flight request count is bounded too', async (t) => {
  const ts = await startServer(t, { maxInFlightRequests: 8 }, { mutationDelayMs: () => 1 });
  const client = await connectClient(t, ts.port);
  const session = await client.openSession({ volumeId: VOLUME, epoch: 1 });
  const writes: Array<Promise<void>> = [];
  for (let i = 0; i < 100; i++) writes.push(session.write(i * 4096, Buffer.alloc(4096, i)));
  await Promise.all(writes);
  t.ok(ts.server.stats().readPauses >= 1, 'paused at 8 requests in flight');
  t.same(await session.read(99 * 4096, 4096), Buffer.alloc(4096, 99));
});

t.test('requests held back by a bound are still served when the client half-closes', async (t) => {
  const ts = await startServer(t, { maxInFlightRequests: 4 }, { mutationDelayMs: () => 1 });
  const peer = await RawPeer.connect(ts.port);
  t.teardown(() => peer.destroy());
  await peer.authenticate();
  const sessionId = await peer.openSession(VOLUME, 1);
  const frames: Buffer[] = [];
  for (let i = 0; i < 50; i++) {
    frames.push(
      encodeFrame(
        FrameType.Write,
        100 + i,
        dp.WriteRequest.encode({ sessionId, offset: i * 4096 }).finish(),
        Buffer.alloc(4096, i),
      ),
    );
  }
  peer.socket.end(Buffer.concat(frames)); // everything, then our side is done
  t.ok(await peer.waitClosed(), 'the server closes after answering');
  const answers = peer.frames.filter((f) => f.type === FrameType.WriteResponse);
  t.equal(answers.length, 50, 'every write was answered');
  t.ok(
    answers.every((f) => ((f.header as { status?: { code?: number } }).status?.code ?? 0) === 0),
    'all of them OK',
  );
  t.same(ts.store.volume(VOLUME).peek(49 * 4096, 4096), Buffer.alloc(4096, 49));
});
