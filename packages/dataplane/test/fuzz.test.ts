// Garbage, truncated and oversized frames, bad hellos and random request streams against a live
// server, while a well-behaved client verifies its data on another connection the whole time.
// Replay a failure with DATAPLANE_FUZZ_SEED=<seed printed in the output>.
import t from 'tap';
import { FRAME_MAGIC, FrameType, encodeFrame } from '@ballast/proto';
import {
  RawPeer,
  SECRET,
  VOLUME,
  connectClient,
  dp,
  pattern,
  rng,
  seedFrom,
  startServer,
  waitUntil,
} from './helpers.js';
import { helloMac } from '../src/index.js';

const ITERATIONS = Number(process.env.DATAPLANE_FUZZ_ITERATIONS ?? 300);
const CONCURRENCY = 4;
const FUZZ_VOLUME = 'fuzz';

class Gen {
  constructor(readonly random: () => number) {}
  int(max: number): number {
    return Math.floor(this.random() * max);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
  /** Numbers that break naive parsers: edges, huge, unaligned. */
  number(): number {
    return this.pick([
      0,
      1,
      4095,
      4096,
      this.int(1 << 20),
      1 << 20,
      (1 << 20) + 1,
      32 * 1024 * 1024,
      0xffffffff,
      2 ** 40,
      Number.MAX_SAFE_INTEGER,
    ]);
  }
}

const REQUEST_TYPES = [
  FrameType.OpenSession,
  FrameType.CloseSession,
  FrameType.Read,
  FrameType.Write,
  FrameType.Flush,
  FrameType.Trim,
  FrameType.GetChunkMap,
  FrameType.ReadChunk,
  FrameType.WriteChunk,
];
const OTHER_TYPES = [
  FrameType.ServerHello,
  FrameType.ClientHello,
  FrameType.HelloResponse,
  FrameType.ReadResponse,
  FrameType.ErrorNotice,
  FrameType.Raft,
  FrameType.NodeHeartbeat,
  0,
  5,
  200,
  255,
];

/** A structurally valid request with hostile values. */
function hostileRequest(g: Gen, requestId: number): Buffer {
  const sessionId = g.pick([0, 1, 2, g.int(1 << 30)]);
  switch (g.pick(REQUEST_TYPES)) {
    case FrameType.OpenSession:
      return encodeFrame(
        FrameType.OpenSession,
        requestId,
        dp.OpenSession.encode({
          volumeId: g.pick([
            FUZZ_VOLUME,
            'nope',
            '',
            'x'.repeat(300),
            g.bytes(8).toString('latin1'),
          ]),
          epoch: g.number(),
          sizeBytes: g.pick([0, g.number()]),
          chunkSizeBytes: g.pick([0, g.number()]),
        }).finish(),
      );
    case FrameType.CloseSession:
      return encodeFrame(FrameType.CloseSession, 0, dp.CloseSession.encode({ sessionId }).finish());
    case FrameType.Read:
      return encodeFrame(
        FrameType.Read,
        requestId,
        dp.ReadRequest.encode({ sessionId, offset: g.number(), length: g.number() }).finish(),
      );
    case FrameType.Write:
      return encodeFrame(
        FrameType.Write,
        requestId,
        dp.WriteRequest.encode({ sessionId, offset: g.number(), fua: g.chance(0.5) }).finish(),
        g.bytes(g.pick([0, 1, 4096, g.int(70000)])),
      );
    case FrameType.Flush:
      return encodeFrame(
        FrameType.Flush,
        requestId,
        dp.FlushRequest.encode({ sessionId }).finish(),
      );
    case FrameType.Trim:
      return encodeFrame(
        FrameType.Trim,
        requestId,
        dp.TrimRequest.encode({
          sessionId,
          offset: g.number(),
          length: g.number(),
          zero: g.chance(0.5),
          noHole: g.chance(0.5),
          fua: g.chance(0.3),
        }).finish(),
      );
    case FrameType.GetChunkMap:
      return encodeFrame(
        FrameType.GetChunkMap,
        requestId,
        dp.GetChunkMapRequest.encode({
          sessionId,
          volumeId: g.pick([FUZZ_VOLUME, 'nope', '']),
        }).finish(),
      );
    case FrameType.ReadChunk:
      return encodeFrame(
        FrameType.ReadChunk,
        requestId,
        dp.ReadChunkRequest.encode({
          sessionId,
          volumeId: g.pick([FUZZ_VOLUME, 'nope']),
          index: g.number(),
        }).finish(),
      );
    default:
      return encodeFrame(
        FrameType.WriteChunk,
        requestId,
        dp.WriteChunkRequest.encode({
          sessionId,
          index: g.number(),
          generation: g.number(),
          hole: g.chance(0.5),
        }).finish(),
        g.bytes(g.pick([0, 65536, g.int(5000)])),
      );
  }
}

/** One frame-shaped or shapeless piece of garbage. */
function garbage(g: Gen): Buffer {
  switch (g.int(6)) {
    case 0:
      return g.bytes(g.int(4096));
    case 1: {
      // A prefix with one field wrong at a time.
      const prefix = Buffer.alloc(16);
      prefix.writeUInt32BE(g.pick([0, 3, 11, 12, 100, 0x7fffffff, 0xffffffff]), 0);
      prefix.writeUInt16BE(g.chance(0.7) ? FRAME_MAGIC : g.int(65536), 4);
      prefix[6] = g.chance(0.7) ? 1 : g.int(256);
      prefix[7] = g.pick([...REQUEST_TYPES, ...OTHER_TYPES]);
      prefix.writeUInt32BE(g.int(2 ** 32), 8);
      prefix.writeUInt32BE(g.pick([0, 4, 1 << 20, 0xffffffff]), 12);
      return Buffer.concat([prefix, g.bytes(g.int(64))]);
    }
    case 2:
      // A registered type with an undecodable header.
      return encodeFrame(
        g.pick(REQUEST_TYPES),
        1 + g.int(1000),
        g.bytes(1 + g.int(40)),
        g.bytes(g.int(100)),
      );
    case 3:
      // A frame type that is not a request.
      return encodeFrame(
        g.pick(OTHER_TYPES.filter((x) => x !== 0 && x !== 5 && x !== 200 && x !== 255)),
        g.int(5),
        Buffer.alloc(0),
      );
    case 4: {
      // Truncated: a valid frame cut short.
      const whole = hostileRequest(g, 1 + g.int(1000));
      return whole.subarray(0, g.int(whole.length));
    }
    default: {
      // Oversized: announce more than the limit.
      const prefix = Buffer.alloc(16);
      prefix.writeUInt32BE(33 * 1024 * 1024 + g.int(1 << 30), 0);
      prefix.writeUInt16BE(FRAME_MAGIC, 4);
      prefix[6] = 1;
      prefix[7] = FrameType.Write;
      return prefix;
    }
  }
}

async function fuzzConnection(port: number, g: Gen): Promise<{ closedByServer: boolean }> {
  const peer = await RawPeer.connect(port);
  try {
    const nonce = await peer.nonce();
    const plan = g.int(5);
    if (plan === 0) {
      peer.socket.write(garbage(g)); // garbage instead of a hello
    } else if (plan === 1) {
      peer.sendHello(g.pick(['a', '', 'x'.repeat(400)]), g.bytes(g.pick([0, 16, 32, 33]))); // bad mac
    } else {
      peer.sendHello('fuzzer', helloMac(Buffer.from(SECRET), nonce, 'fuzzer'));
      await peer.frame(FrameType.HelloResponse);
      const parts: Buffer[] = [];
      const count = 1 + g.int(30);
      for (let i = 0; i < count; i++) {
        if (plan === 2 && i === count - 1) parts.push(garbage(g));
        else parts.push(hostileRequest(g, 1 + i));
      }
      // Write in random pieces: the decoder must not care where the stream is cut.
      const stream = Buffer.concat(parts);
      let pos = 0;
      while (pos < stream.length) {
        const n = 1 + g.int(Math.min(stream.length - pos, 9000));
        peer.socket.write(stream.subarray(pos, pos + n));
        pos += n;
      }
    }
    // An authenticated peer that stays may legitimately stay forever (the rest of a frame may
    // still come); before authentication the handshake timeout must close it.
    if (plan >= 2 || g.chance(0.8)) peer.socket.end();
    const closedByServer = await peer.waitClosed(20_000);
    return { closedByServer };
  } finally {
    peer.destroy();
  }
}

t.test('fuzzing the data-plane port while a good client keeps working', async (t) => {
  const seed = seedFrom('DATAPLANE_FUZZ_SEED');
  t.comment(`seed ${seed} (replay with DATAPLANE_FUZZ_SEED=${seed}), ${ITERATIONS} connections`);
  const ts = await startServer(t, { handshakeTimeoutMs: 2000 });
  ts.store.createVolume(FUZZ_VOLUME, 1024 * 1024, 64 * 1024);
  const good = await connectClient(t, ts.port, { clientId: 'good' });
  const session = await good.openSession({ volumeId: VOLUME, epoch: 1 });

  let fuzzing = true;
  let goodOps = 0;
  const goodErrors: string[] = [];
  const goodLoop = (async () => {
    const random = rng(seed ^ 0x1234567);
    for (let i = 0; fuzzing || i < 10; i++) {
      const offset = Math.floor(random() * 1000) * 4096;
      const data = pattern(seed + i, 4096 * (1 + Math.floor(random() * 16)));
      try {
        await session.write(offset, data);
        const back = await session.read(offset, data.length);
        if (!back.equals(data)) goodErrors.push(`mismatch at ${offset}`);
        if (i % 20 === 0) await session.flush();
      } catch (err) {
        goodErrors.push(String(err));
        if (goodErrors.length > 10) return;
      }
      goodOps += 1;
    }
  })();

  const g = new Gen(rng(seed));
  let next = 0;
  let notClosed = 0;
  const workers = Array.from({ length: CONCURRENCY }, async () => {
    while (next < ITERATIONS) {
      next += 1;
      const sub = new Gen(rng(Math.floor(g.random() * 2 ** 31)));
      const { closedByServer } = await fuzzConnection(ts.port, sub);
      if (!closedByServer) notClosed += 1;
    }
  });
  await Promise.all(workers);
  fuzzing = false;
  await goodLoop;

  const stats = ts.server.stats();
  t.comment(`server: ${JSON.stringify(stats)}; good client ops: ${goodOps}`);
  t.same(goodErrors, [], 'the good client saw no error and no wrong byte');
  t.ok(goodOps >= 10, 'the good client made progress');
  t.equal(notClosed, 0, 'the server closed every fuzz connection');
  t.ok(stats.protocolErrors + stats.authFailures > 0, 'refusals were counted');
  // The fuzzer saw each close; the server's own close event may trail it by a moment.
  await waitUntil(
    'the server to drop every fuzz connection',
    () => ts.server.stats().connections === 1,
  );
  t.pass('only the good connection is left');
  t.ok(good.isOpen, 'the good connection is still open');
});
