// The receive queue against a naive model (one concatenated buffer), on random inputs.
import fc from 'fast-check';
import t from 'tap';
import { ByteQueue } from '../src/byte-queue.js';

type Op =
  { kind: 'push'; bytes: number[] } | { kind: 'take' | 'skip' | 'peek' | 'parts'; n: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('push' as const),
    bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }),
  }),
  fc.record({
    kind: fc.constantFrom('take' as const, 'skip' as const, 'peek' as const, 'parts' as const),
    n: fc.integer({ min: 0, max: 60 }),
  }),
);

t.test('ByteQueue matches a naive concatenating queue', async (t) => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => {
      const queue = new ByteQueue();
      let model = Buffer.alloc(0);
      for (const op of ops) {
        if (op.kind === 'push') {
          queue.push(Buffer.from(op.bytes));
          model = Buffer.concat([model, Buffer.from(op.bytes)]);
        } else if (op.kind === 'skip') {
          const dropped = queue.skip(op.n);
          if (dropped !== Math.min(op.n, model.length)) return false;
          model = model.subarray(dropped);
        } else {
          if (op.n > model.length || ((op.kind === 'peek' || op.kind === 'parts') && op.n === 0))
            continue;
          if (op.kind === 'parts') {
            const parts = queue.takeParts(op.n);
            if (parts.some((p) => p.length === 0)) return false;
            if (!Buffer.concat(parts).equals(model.subarray(0, op.n))) return false;
            model = model.subarray(op.n);
          } else if (op.kind === 'take') {
            if (!queue.take(op.n).equals(model.subarray(0, op.n))) return false;
            model = model.subarray(op.n);
          } else {
            const { buffer, offset } = queue.peek(op.n);
            if (!buffer.subarray(offset, offset + op.n).equals(model.subarray(0, op.n)))
              return false;
          }
        }
        if (queue.length !== model.length) return false;
      }
      return true;
    }),
    { numRuns: 500 },
  );
  t.pass('500 random operation sequences agree with the model');
});

t.test('take within one chunk is zero-copy', async (t) => {
  const queue = new ByteQueue();
  const chunk = Buffer.from('0123456789');
  queue.push(chunk);
  const part = queue.take(4);
  t.equal(part.buffer, chunk.buffer, 'shares memory with the pushed chunk');
  t.equal(part.toString(), '0123');
  const { buffer, offset } = queue.peek(3);
  t.equal(buffer, chunk);
  t.equal(offset, 4);
});

t.test('a message straddling chunks is joined once', async (t) => {
  const queue = new ByteQueue();
  queue.push(Buffer.from('ab'));
  queue.push(Buffer.from('cd'));
  queue.push(Buffer.from('ef'));
  const { buffer, offset } = queue.peek(5);
  t.equal(buffer.toString('utf8', offset, offset + 5), 'abcde');
  t.equal(queue.length, 6);
  t.equal(queue.take(6).toString(), 'abcdef');
  t.equal(queue.length, 0);
  t.throws(() => queue.take(1), /assertion failed/);
});

t.test('takeParts hands out views of the received chunks, never copies', async (t) => {
  const queue = new ByteQueue();
  const chunks = [Buffer.from('0123'), Buffer.from('4567'), Buffer.from('89ab')];
  for (const c of chunks) queue.push(c);
  queue.skip(1);
  const parts = queue.takeParts(9);
  t.same(
    parts.map((p) => p.toString()),
    ['123', '4567', '89'],
  );
  chunks[1]![0] = 0x5a; // 'Z'
  t.equal(parts[1]!.toString(), 'Z567', 'each part shares memory with its chunk');
  t.equal(queue.length, 2);
  t.equal(queue.take(2).toString(), 'ab');
});
