import t from 'tap';
import { MemoryStorage, isRaftError, RaftLog, type Entry } from '../src/index.js';
import { entry } from './helpers.js';

function storageWith(ents: Entry[]): MemoryStorage {
  const s = new MemoryStorage();
  s.append(ents);
  return s;
}

t.test('MemoryStorage serves entries, terms and bounds', async (t) => {
  const s = storageWith([entry(1, 1), entry(2, 1), entry(3, 2)]);
  t.equal(s.firstIndex(), 1);
  t.equal(s.lastIndex(), 3);
  t.equal(s.term(0), 0, 'the dummy entry stands for the empty snapshot');
  t.equal(s.term(3), 2);
  t.same(
    s.entries(1, 4, Infinity).map((e) => e.index),
    [1, 2, 3],
  );
  t.ok(
    isRaftError(
      t.throws(() => s.term(4)),
      'unavailable',
    ),
  );
  t.ok(
    isRaftError(
      t.throws(() => s.entries(2, 5, Infinity)),
      'unavailable',
    ),
  );
  t.ok(
    isRaftError(
      t.throws(() => s.entries(0, 2, Infinity)),
      'compacted',
    ),
  );
});

t.test('MemoryStorage limits entries by size but always returns one', async (t) => {
  const big = 'x'.repeat(100);
  const s = storageWith([entry(1, 1, big), entry(2, 1, big), entry(3, 1, big)]);
  t.equal(s.entries(1, 4, 1).length, 1, 'one oversized entry still goes');
  t.equal(s.entries(1, 4, 2 * 124).length, 2);
  t.equal(s.entries(1, 4, Infinity).length, 3);
});

t.test('MemoryStorage append replaces a conflicting suffix and refuses gaps', async (t) => {
  const s = storageWith([entry(1, 1), entry(2, 1), entry(3, 1)]);
  s.append([entry(2, 2), entry(3, 2), entry(4, 2)]);
  t.same(
    s.entries(1, 5, Infinity).map((e) => e.term),
    [1, 2, 2, 2],
  );
  t.throws(() => s.append([entry(7, 2)]), /missing log entries/);
  s.append([entry(1, 1)]);
  t.equal(s.lastIndex(), 1, 'an overlap at 1 replaces everything after it');
});

t.test('MemoryStorage snapshots and compaction', async (t) => {
  const s = storageWith([entry(1, 1), entry(2, 1), entry(3, 2), entry(4, 2)]);
  const cs = { voters: ['a', 'b'], learners: [] };
  const snap = s.createSnapshot(3, cs, new Uint8Array([1]));
  t.equal(snap.metadata.term, 2);
  t.same(snap.metadata.confState, cs);
  t.ok(
    isRaftError(
      t.throws(() => s.createSnapshot(2, cs, new Uint8Array())),
      'snapshot-out-of-date',
    ),
  );
  s.compact(3);
  t.equal(s.firstIndex(), 4);
  t.equal(s.term(3), 2, 'the compacted index keeps its term');
  t.ok(
    isRaftError(
      t.throws(() => s.term(2)),
      'compacted',
    ),
  );
  t.ok(
    isRaftError(
      t.throws(() => s.compact(3)),
      'compacted',
    ),
  );
  t.same(s.initialState().confState, cs);
  // A snapshot from the leader replaces everything.
  s.applySnapshot({ metadata: { index: 10, term: 5, confState: cs }, data: new Uint8Array() });
  t.equal(s.firstIndex(), 11);
  t.equal(s.lastIndex(), 10);
  t.ok(
    isRaftError(
      t.throws(() =>
        s.applySnapshot({ metadata: { index: 9, term: 5, confState: cs }, data: new Uint8Array() }),
      ),
      'snapshot-out-of-date',
    ),
  );
  // Appending entries older than the snapshot is a no-op.
  s.append([entry(5, 3)]);
  t.equal(s.lastIndex(), 10);
});

t.test('RaftLog reads across storage and the unstable tail', async (t) => {
  const s = storageWith([entry(1, 1), entry(2, 1)]);
  const log = new RaftLog(s, Infinity);
  log.append([entry(3, 2), entry(4, 2)]);
  t.equal(log.lastIndex(), 4);
  t.equal(log.term(4), 2);
  t.equal(log.term(5), undefined);
  t.same(
    log.slice(1, 5, Infinity).map((e) => e.index),
    [1, 2, 3, 4],
  );
  t.same(
    log.unstableEntries().map((e) => e.index),
    [3, 4],
  );
  // The embedder persisted 3..4: they leave the unstable log.
  s.append(log.unstableEntries());
  log.stableTo(4, 2);
  t.same(log.unstableEntries(), []);
  // stableTo with a stale term (the entries were replaced meanwhile) changes nothing.
  log.append([entry(5, 3)]);
  log.stableTo(5, 2);
  t.equal(log.unstableEntries().length, 1);
});

t.test('RaftLog.maybeAppend: log matching and conflict truncation', async (t) => {
  const log = new RaftLog(storageWith([entry(1, 1), entry(2, 1), entry(3, 1)]), Infinity);
  t.equal(log.maybeAppend(3, 2, 3, [entry(4, 2)]), undefined, 'prev term mismatch is refused');
  t.equal(log.maybeAppend(5, 1, 3, []), undefined, 'prev index beyond the log is refused');
  t.equal(log.maybeAppend(1, 1, 2, [entry(2, 2), entry(3, 2)]), 3);
  t.equal(log.term(2), 2, 'conflicting entries from index 2 were replaced');
  t.equal(log.committed, 2, 'commit follows the leader but not past the last new entry');
  t.equal(log.maybeAppend(1, 1, 3, [entry(2, 2)]), 2, 'a stale, shorter append truncates nothing');
  t.equal(log.lastIndex(), 3);
  t.equal(log.committed, 2, 'commit is min(leaderCommit, last new entry)');
});

t.test('RaftLog.findConflictByTerm skips a divergent tail', async (t) => {
  const log = new RaftLog(
    storageWith([entry(1, 1), entry(2, 1), entry(3, 4), entry(4, 4), entry(5, 5)]),
    Infinity,
  );
  t.equal(log.findConflictByTerm(5, 3), 2, 'largest index with term <= 3');
  t.equal(log.findConflictByTerm(5, 5), 5);
  t.equal(log.findConflictByTerm(5, 0), 0);
});

t.test('RaftLog.nextCommittedEntries respects the Ready size limit', async (t) => {
  const s = storageWith([entry(1, 1, 'a'.repeat(100)), entry(2, 1, 'b'.repeat(100))]);
  const log = new RaftLog(s, 150);
  log.commitTo(2);
  t.equal(log.nextCommittedEntries().length, 1);
  log.appliedTo(1);
  t.same(
    log.nextCommittedEntries().map((e) => e.index),
    [2],
  );
  t.throws(() => log.commitTo(3), /beyond last index/);
});
