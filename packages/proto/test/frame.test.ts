import fc from 'fast-check';
import t, { type Test } from 'tap';
import {
  FRAME_MAGIC,
  FrameDecoder,
  FrameError,
  FrameType,
  createRegistry,
  encodeFrame,
  encodeMessageFrame,
  ballast,
  type Frame,
} from '../src/index.js';

const registry = createRegistry();
const dp = ballast.dataplane;

function splitRandomly(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    parts.push(buf.subarray(prev, p));
    prev = p;
  }
  parts.push(buf.subarray(prev));
  return parts;
}

t.test('a write frame round-trips with its payload, whole and byte by byte', async (t) => {
  const payload = Buffer.alloc(4096, 0xab);
  const wire = Buffer.concat(
    encodeMessageFrame(
      registry,
      FrameType.Write,
      42,
      { sessionId: 3, offset: 2 ** 40, fua: true },
      payload,
    ),
  );
  for (const chunks of [[wire], [...wire].map((b) => Buffer.from([b]))]) {
    const d = new FrameDecoder({ registry });
    const frames = chunks.flatMap((c) => d.push(c));
    t.equal(frames.length, 1);
    const f = frames[0]!;
    t.equal(f.type, FrameType.Write);
    t.equal(f.requestId, 42);
    t.same((f.header as ballast.dataplane.WriteRequest).offset, 2 ** 40);
    t.equal((f.header as ballast.dataplane.WriteRequest).fua, true);
    t.ok(f.payload.equals(payload));
    t.equal(d.bufferedBytes, 0);
    t.doesNotThrow(() => d.end());
  }
});

t.test('a frame that arrives in one chunk keeps its payload as a view (no copy)', async (t) => {
  const payload = Buffer.alloc(1 << 20, 7);
  const wire = Buffer.concat(
    encodeMessageFrame(registry, FrameType.Write, 1, { sessionId: 1, offset: 0 }, payload),
  );
  const [f] = new FrameDecoder({ registry }).push(wire);
  t.equal(f!.payload.buffer, wire.buffer, 'payload shares the received buffer');
});

t.test('property: any sequence of frames survives any chunking', async (t) => {
  const frameArb = fc.record({
    requestId: fc.nat({ max: 0xffffffff }),
    offset: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    length: fc.nat({ max: 1 << 20 }),
    payload: fc.uint8Array({ maxLength: 300 }),
  });
  fc.assert(
    fc.property(
      fc.array(frameArb, { minLength: 1, maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      (specs, cuts) => {
        const wire = Buffer.concat(
          specs.flatMap((s, i) =>
            i % 2 === 0
              ? encodeMessageFrame(registry, FrameType.Read, s.requestId, {
                  sessionId: 9,
                  offset: s.offset,
                  length: s.length,
                })
              : encodeMessageFrame(
                  registry,
                  FrameType.Write,
                  s.requestId,
                  { sessionId: 9, offset: s.offset },
                  Buffer.from(s.payload),
                ),
          ),
        );
        const d = new FrameDecoder({ registry });
        const frames: Frame[] = splitRandomly(wire, cuts).flatMap((c) => d.push(c));
        if (frames.length !== specs.length) return false;
        d.end();
        return specs.every((s, i) => {
          const f = frames[i]!;
          if (f.requestId !== s.requestId) return false;
          if (i % 2 === 0)
            return (
              (f.header as ballast.dataplane.ReadRequest).length === s.length &&
              f.payload.length === 0
            );
          return (
            (f.header as ballast.dataplane.WriteRequest).offset === s.offset &&
            f.payload.equals(Buffer.from(s.payload))
          );
        });
      },
    ),
    { numRuns: 500 },
  );
  t.pass('all chunkings decoded identically');
});

t.test('property: frames assembled in recycled buffers decode the same', async (t) => {
  // One dirty buffer handed out again and again, longer than asked: the decoder must use only
  // the bytes it asked for, and say which frames live in it.
  let recycled = Buffer.alloc(0);
  let handedOut = 0;
  const allocate = (n: number): Buffer => {
    handedOut++;
    if (recycled.length < n + 7) recycled = Buffer.alloc(n + 7, 0xee);
    else recycled.fill(0xee);
    return recycled;
  };
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 600 }), { minLength: 1, maxLength: 6 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      (payloads, cuts) => {
        const wire = Buffer.concat(
          payloads.flatMap((p, i) =>
            encodeMessageFrame(
              registry,
              FrameType.Write,
              i + 1,
              { sessionId: 9, offset: i },
              Buffer.from(p),
            ),
          ),
        );
        const d = new FrameDecoder({ registry, allocate });
        for (const chunk of splitRandomly(wire, cuts)) {
          // Check each frame before the next push may reuse the buffer it lives in.
          for (const f of d.push(chunk)) {
            const expected = Buffer.from(payloads[f.requestId - 1]!);
            if (!f.payload.equals(expected)) return false;
            if ((f.header as ballast.dataplane.WriteRequest).offset !== f.requestId - 1)
              return false;
            if (f.assembledIn !== undefined && f.payload.buffer !== f.assembledIn.buffer)
              return false;
          }
        }
        d.end();
        return true;
      },
    ),
    { numRuns: 500 },
  );
  t.ok(handedOut > 0, `frames spanning chunks were assembled in given buffers (${handedOut})`);
});

function expectReason(t: Test, fn: () => unknown, reason: string): void {
  const err = t.throws(fn) as FrameError;
  t.ok(err instanceof FrameError, 'a FrameError');
  t.equal(err.reason, reason);
  t.equal(err.code, 'PROTOCOL');
}

t.test('violations are clean FrameErrors, detected as early as possible', async (t) => {
  const max = 1024;
  // Oversized: refused from the 4-byte length alone, before any payload is buffered.
  const big = Buffer.alloc(4);
  big.writeUInt32BE(max + 1);
  expectReason(t, () => new FrameDecoder({ registry, maxFrameBytes: max }).push(big), 'TOO_LARGE');
  const huge = Buffer.from([0xff, 0xff, 0xff, 0xff]);
  expectReason(t, () => new FrameDecoder({ registry }).push(huge), 'TOO_LARGE');

  const tiny = Buffer.from([0, 0, 0, 3, 1, 2, 3]);
  expectReason(t, () => new FrameDecoder({ registry }).push(tiny), 'BAD_LENGTH');

  const good = encodeFrame(FrameType.Flush, 1, dp.FlushRequest.encode({ sessionId: 1 }).finish());
  const badMagic = Buffer.from(good);
  badMagic.writeUInt16BE(0x1234, 4);
  expectReason(t, () => new FrameDecoder({ registry }).push(badMagic.subarray(0, 8)), 'BAD_MAGIC');
  const badVersion = Buffer.from(good);
  badVersion[6] = 9;
  expectReason(t, () => new FrameDecoder({ registry }).push(badVersion), 'BAD_VERSION');
  const unknown = Buffer.from(good);
  unknown[7] = 200;
  expectReason(
    t,
    () => new FrameDecoder({ registry }).push(unknown.subarray(0, 8)),
    'UNKNOWN_TYPE',
  );
  const badHeaderLen = Buffer.from(good);
  badHeaderLen.writeUInt32BE(1000, 12);
  expectReason(t, () => new FrameDecoder({ registry }).push(badHeaderLen), 'BAD_LENGTH');

  // A header that is not a valid protobuf message (a field tag with wire type 7 does not exist).
  const garbageHeader = encodeFrame(FrameType.Flush, 1, Buffer.from([0x0f, 0xff, 0xff]));
  expectReason(t, () => new FrameDecoder({ registry }).push(garbageHeader), 'BAD_HEADER');

  const d = new FrameDecoder({ registry });
  d.push(good.subarray(0, good.length - 1));
  expectReason(t, () => d.end(), 'TRUNCATED');

  // After a violation the decoder stays failed: the stream cannot be resynchronised.
  const failed = new FrameDecoder({ registry });
  t.throws(() => failed.push(tiny));
  t.throws(() => failed.push(good));
  t.equal(failed.bufferedBytes, 0, 'nothing kept after failure');
});

t.test('encoder refuses frames over the limit and unregistered types', async (t) => {
  t.throws(
    () => encodeFrame(FrameType.Write, 1, new Uint8Array(0), Buffer.alloc(2000), 1000),
    FrameError,
  );
  t.throws(() => encodeMessageFrame(registry, 250, 1, {}), FrameError);
});

t.test('fuzz: 100k random and mutated inputs never crash, hang or over-buffer', async (t) => {
  const maxFrameBytes = 64 * 1024;
  const valid = [
    Buffer.concat(
      encodeMessageFrame(
        registry,
        FrameType.Write,
        5,
        { sessionId: 1, offset: 4096 },
        Buffer.alloc(100, 1),
      ),
    ),
    encodeFrame(
      FrameType.ReadResponse,
      6,
      dp.ReadResponse.encode({ status: { code: 0 } }).finish(),
      Buffer.alloc(33),
    ),
    Buffer.concat(
      encodeMessageFrame(registry, FrameType.OpenSession, 7, { volumeId: 'v1', epoch: 3 }),
    ),
  ];
  const input = fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
    // Mutations of valid frames hit the deeper checks far more often than pure noise.
    fc
      .tuple(
        fc.constantFrom(...valid),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 4 }),
        fc.nat(),
      )
      .map(([v, flips, cut]) => {
        const b = Buffer.from(v);
        for (const [pos, val] of flips) b[pos % b.length] = val;
        return b.subarray(0, cut % (b.length + 1));
      }),
    fc
      .tuple(fc.constantFrom(...valid), fc.uint8Array({ maxLength: 64 }))
      .map(([v, tail]) => Buffer.concat([v, Buffer.from(tail)])),
  );
  const fuzzBuffer = Buffer.alloc(maxFrameBytes + 4);
  let runs = 0;
  let frames = 0;
  let errors = 0;
  fc.assert(
    fc.property(input, fc.array(fc.nat(), { maxLength: 5 }), (bytes, cuts) => {
      runs++;
      // Every other input assembles spanning frames in a recycled buffer.
      const d = new FrameDecoder(
        runs % 2 === 0
          ? { registry, maxFrameBytes }
          : { registry, maxFrameBytes, allocate: (n) => fuzzBuffer.subarray(0, n) },
      );
      try {
        for (const c of splitRandomly(bytes, cuts)) {
          frames += d.push(c).length;
          if (d.bufferedBytes > maxFrameBytes + 4 + bytes.length)
            throw new Error('decoder over-buffered');
        }
        d.end();
      } catch (err) {
        if (!(err instanceof FrameError)) throw err;
        errors++;
      }
    }),
    { numRuns: 100_000 },
  );
  t.equal(runs, 100_000);
  t.ok(frames > 0, `some inputs decoded (${frames} frames)`);
  t.ok(errors > 0, `some inputs were refused (${errors})`);
});

t.test('magic constant', async (t) => {
  t.equal(FRAME_MAGIC, 0xba57);
});
