// The hand-written encodings of the hot request headers must be what the generated protobuf
// code reads back, for every value the client can send.
import fc from 'fast-check';
import t from 'tap';
import { ballast } from '@ballast/proto';
import { encodeFlushRequest, encodeReadRequest, encodeWriteRequest } from '../src/headers.js';

const dp = ballast.dataplane;
const u32 = fc.oneof(
  fc.constantFrom(0, 1, 127, 128, 2 ** 31, 2 ** 32 - 1),
  fc.nat({ max: 2 ** 32 - 1 }),
);
const u53 = fc.oneof(
  fc.constantFrom(0, 1, 127, 128, 2 ** 31, 2 ** 32, 2 ** 35 + 4096, Number.MAX_SAFE_INTEGER),
  fc.nat({ max: Number.MAX_SAFE_INTEGER }),
);

t.test('WriteRequest', async (t) => {
  fc.assert(
    fc.property(u32, u53, fc.boolean(), (sessionId, offset, fua) => {
      const m = dp.WriteRequest.decode(encodeWriteRequest(sessionId, offset, fua));
      return m.sessionId === sessionId && m.offset === offset && m.fua === fua;
    }),
    { numRuns: 5000 },
  );
  t.pass('decodes to the same fields');
});

t.test('ReadRequest', async (t) => {
  fc.assert(
    fc.property(u32, u53, u32, (sessionId, offset, length) => {
      const m = dp.ReadRequest.decode(encodeReadRequest(sessionId, offset, length));
      return m.sessionId === sessionId && m.offset === offset && m.length === length;
    }),
    { numRuns: 5000 },
  );
  t.pass('decodes to the same fields');
});

t.test('FlushRequest', async (t) => {
  fc.assert(
    fc.property(
      u32,
      (sessionId) => dp.FlushRequest.decode(encodeFlushRequest(sessionId)).sessionId === sessionId,
    ),
    { numRuns: 2000 },
  );
  t.pass('decodes to the same field');
});
