// The block checker's rules, one history at a time: what a read may return after writes,
// flushes, failures and reconnects, and the stamps that make a block self-describing.
import t from 'tap';
import {
  BLOCK_BYTES,
  BlockChecker,
  readStamp,
  stampBlock,
  volumeTag,
} from '../src/block-checker.js';

function read(c: BlockChecker, block: number, value: number, at = 100): void {
  const floors = c.floors([block]);
  c.readDone([block], [value], floors, at, at + 1);
}

t.test('acknowledged writes are a floor within a session, flushed ones across sessions', (t) => {
  const c = new BlockChecker();
  c.writeIssued([7], 1, 1);
  c.writeAcked([7], 1);
  read(c, 7, 1);
  t.same(c.violations, [], 'the acknowledged write reads back');
  read(c, 7, 0);
  t.match(c.violations, [{ kind: 'rollback-session', block: 7, got: 0, expected: 1 }]);

  c.flushIssued(1);
  c.writeIssued([7], 2, 2);
  c.writeAcked([7], 2);
  c.flushDone(1, true);
  c.newSession(); // the connection died: write 2 was acknowledged but never flushed
  read(c, 7, 1);
  t.equal(c.violations.length, 1, 'after a reconnect the unflushed write 2 may be gone');
  read(c, 7, 0);
  t.match(c.violations.at(-1), { kind: 'rollback-durable', got: 0, expected: 1 });
  t.end();
});

t.test('a flush covers only what was acknowledged before it was issued', (t) => {
  const c = new BlockChecker();
  c.writeIssued([1], 1, 1);
  c.flushIssued(1);
  c.writeAcked([1], 1); // acknowledged after the flush was issued: not covered
  c.flushDone(1, true);
  c.newSession();
  read(c, 1, 0);
  t.same(c.violations, [], 'not durable yet');
  c.writeIssued([1], 2, 2);
  c.writeAcked([1], 2);
  c.flushIssued(2);
  c.flushDone(2, false);
  c.flushIssued(3);
  c.flushDone(3, true); // the failed flush's writes are covered by the next one
  c.newSession();
  read(c, 1, 1);
  t.match(c.violations, [{ kind: 'rollback-durable', expected: 2 }]);
  t.end();
});

t.test('failed writes may land; unknown and future values are caught', (t) => {
  const c = new BlockChecker();
  c.writeIssued([3], 5, 10);
  c.writeFailed();
  read(c, 3, 5);
  read(c, 3, 0);
  t.same(c.violations, [], 'a failed write may or may not have landed');
  read(c, 3, 6);
  t.match(c.violations, [{ kind: 'corrupt', got: 6 }], 'never written');
  read(c, 3, -1);
  t.match(c.violations.at(-1), { kind: 'corrupt', got: -1 });
  c.writeIssued([3], 9, 500);
  const floors = c.floors([3]);
  c.readDone([3], [9], floors, 100, 200);
  t.match(c.violations.at(-1), { kind: 'future', got: 9 });
  t.end();
});

t.test('stamps name their volume, block and write, and detect tearing', (t) => {
  const tag = volumeTag('vol-a');
  const buf = Buffer.alloc(BLOCK_BYTES);
  stampBlock(buf, tag, 42, 1234);
  t.equal(readStamp(buf, tag, 42), 1234);
  t.equal(readStamp(buf, tag, 43), -1, 'another block');
  t.equal(readStamp(buf, volumeTag('vol-b'), 42), -1, 'another volume');
  t.equal(readStamp(Buffer.alloc(BLOCK_BYTES), tag, 42), 0, 'zeroes');
  const torn = Buffer.from(buf);
  Buffer.alloc(512).copy(torn, 2048);
  t.equal(readStamp(torn, tag, 42), -1, 'half a write');
  const other = Buffer.alloc(BLOCK_BYTES);
  stampBlock(other, tag, 42, 1235);
  t.not(other.subarray(32).compare(buf.subarray(32)), 0, 'the pattern differs per write');
  t.end();
});
