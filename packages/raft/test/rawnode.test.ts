// The Ready/advance contract, flow control, batching, limits and input validation.
import t from 'tap';
import fc from 'fast-check';
import { ballast } from '@ballast/proto';
import { AssertionError, isBallastError } from '@ballast/common';
import {
  MemoryStorage,
  RawNode,
  SeededRng,
  bootstrapEntries,
  isRaftError,
  type EntryType,
  type Message,
} from '../src/index.js';
import { Solo, TestNetwork, enc, entry, kind, msg } from './helpers.js';

const ABC = ['a', 'b', 'c'];

/** A leader of a 3-member cluster whose followers have acknowledged everything so far. */
function leader(options = {}): Solo {
  const s = new Solo('a', ABC, { preVote: false, ...options });
  s.node.campaign();
  s.drain();
  s.step(msg('b', 'a', 2, { requestVoteResponse: { granted: true } }));
  for (const f of ['b', 'c']) {
    s.step(msg(f, 'a', 2, { appendEntriesResponse: { success: true, matchIndex: 4 } }));
  }
  return s;
}

t.test('Ready contract: one Ready at a time, advance only after ready', async (t) => {
  const s = new Solo('b', ABC);
  t.notOk(s.node.hasReady());
  t.throws(() => s.node.advance(), AssertionError);
  s.node.step(
    msg('a', 'b', 2, {
      appendEntries: { prevLogIndex: 3, prevLogTerm: 1, entries: [entry(4, 2)] },
    }),
  );
  t.ok(s.node.hasReady());
  const rd = s.node.ready();
  t.notOk(s.node.hasReady(), 'no second Ready while one is being handled');
  t.throws(() => s.node.ready(), AssertionError);
  t.same(rd.softState, { leaderId: 'a', role: 'follower' });
  t.same(rd.hardState, { term: 2, vote: '', commit: 3 });
  s.storage.append(rd.entries);
  s.storage.setHardState(rd.hardState!);
  s.node.advance();
  t.notOk(s.node.hasReady());
});

t.test(
  'Ready contract: the node keeps stepping while a Ready is persisted asynchronously',
  async (t) => {
    const s = new Solo('b', ABC);
    s.node.step(
      msg('a', 'b', 2, {
        appendEntries: { prevLogIndex: 3, prevLogTerm: 1, entries: [entry(4, 2)] },
      }),
    );
    const rd1 = s.node.ready();
    // While rd1 is being written, more entries arrive and a new leader replaces entry 5.
    s.node.step(
      msg('a', 'b', 2, {
        appendEntries: { prevLogIndex: 4, prevLogTerm: 2, entries: [entry(5, 2)], leaderCommit: 4 },
      }),
    );
    s.node.step(
      msg('c', 'b', 3, {
        appendEntries: { prevLogIndex: 4, prevLogTerm: 2, entries: [entry(5, 3)] },
      }),
    );
    t.equal(s.raft.log.term(5), 3, 'the in-memory log moved on');
    s.storage.append(rd1.entries);
    s.storage.setHardState(rd1.hardState!);
    s.node.advance();
    const rd2 = s.node.ready();
    t.same(
      rd2.entries.map((e) => [e.index, e.term]),
      [[5, 3]],
      'the next Ready carries only what is not yet persisted, the replaced entry included',
    );
    t.same(rd2.hardState, { term: 3, vote: '', commit: 4 });
    t.same(
      rd2.messages.map((m) => [m.to, kind(m), m.appendEntriesResponse?.matchIndex]),
      [
        ['a', 'appendEntriesResponse', 5],
        ['c', 'appendEntriesResponse', 5],
      ],
      'acknowledgements leave with the Ready that persists what they acknowledge',
    );
    t.same(
      rd2.committedEntries.map((e) => e.index),
      [4],
    );
    s.storage.append(rd2.entries);
    s.node.advance();
    t.equal(s.storage.term(5), 3);
    t.equal(s.node.status().applied, 4);
  },
);

t.test('Ready.mustSync is false when only the commit index moved', async (t) => {
  const s = new Solo('b', ABC);
  s.step(
    msg('a', 'b', 2, {
      appendEntries: { prevLogIndex: 3, prevLogTerm: 1, entries: [entry(4, 2)] },
    }),
  );
  s.node.step(msg('a', 'b', 2, { heartbeat: { commit: 4 } }));
  const rd = s.node.ready();
  t.same(rd.hardState, { term: 2, vote: '', commit: 4 });
  t.equal(rd.mustSync, false);
  s.node.advance();
});

t.test('messages round-trip through the protobuf encoding', async (t) => {
  const net = new TestNetwork(ABC);
  net.campaign('a');
  net.node('b').readIndex(enc('r'));
  net.propose('a', 'x');
  net.node('a').transferLeadership('c');
  net.settle();
  const kinds = new Set<string>();
  for (const m of net.delivered) {
    const bytes = ballast.raft.RaftMessage.encode(m).finish();
    const back = ballast.raft.RaftMessage.decode(bytes);
    kinds.add(kind(back));
    t.equal(kind(back), kind(m));
    t.same(ballast.raft.RaftMessage.encode(back).finish(), bytes);
  }
  t.ok(kinds.size >= 9, `covered ${[...kinds].join(', ')}`);
});

t.test('bad messages get a clear error and change nothing', async (t) => {
  const s = leader();
  const before = JSON.stringify({ st: s.node.status(), hs: s.raft.hardState() });
  const bad: [string, Message][] = [
    ['addressed elsewhere', msg('b', 'z', 2, { heartbeatResponse: {} })],
    ['from itself', msg('a', 'a', 2, { heartbeatResponse: {} })],
    ['no sender', msg('', 'a', 2, { heartbeatResponse: {} })],
    ['other cluster', { ...msg('b', 'a', 2, { heartbeatResponse: {} }), clusterId: 'other' }],
    ['no body', msg('b', 'a', 2, {})],
    ['two bodies', msg('b', 'a', 2, { heartbeatResponse: {}, timeoutNow: {} })],
    ['negative term', msg('b', 'a', -1, { heartbeatResponse: {} })],
    ['fractional term', msg('b', 'a', 2.5, { heartbeatResponse: {} })],
    ['term beyond 2^53', msg('b', 'a', 2 ** 60, { heartbeatResponse: {} })],
    ['string term', msg('b', 'a', '2' as unknown as number, { heartbeatResponse: {} })],
    [
      'gap in entries',
      msg('b', 'a', 9, {
        appendEntries: { prevLogIndex: 4, prevLogTerm: 2, entries: [entry(6, 9)] },
      }),
    ],
    [
      'entry term beyond message term',
      msg('b', 'a', 9, {
        appendEntries: { prevLogIndex: 4, prevLogTerm: 2, entries: [entry(5, 10)] },
      }),
    ],
    [
      'entry terms going down',
      msg('b', 'a', 9, {
        appendEntries: { prevLogIndex: 4, prevLogTerm: 5, entries: [entry(5, 3)] },
      }),
    ],
    [
      'unknown entry type',
      msg('b', 'a', 9, {
        appendEntries: {
          prevLogIndex: 4,
          prevLogTerm: 2,
          entries: [{ ...entry(5, 9), type: 7 as EntryType }],
        },
      }),
    ],
    ['entries not a list', msg('b', 'a', 9, { appendEntries: { entries: 'x' as unknown as [] } })],
    [
      'snapshot chunk',
      msg('b', 'a', 9, {
        installSnapshot: { metadata: { index: 9, term: 9 }, offset: 5, done: false },
      }),
    ],
    ['snapshot without metadata', msg('b', 'a', 9, { installSnapshot: { done: true } })],
    [
      'snapshot repeats a voter',
      msg('b', 'a', 9, {
        installSnapshot: {
          metadata: { index: 9, term: 9, confState: { voters: ['a', 'a'] } },
          done: true,
        },
      }),
    ],
    ['heartbeat commit beyond the log', msg('b', 'a', 2, { heartbeat: { commit: 99 } })],
    [
      'ack beyond the log',
      msg('b', 'a', 2, { appendEntriesResponse: { success: true, matchIndex: 99 } }),
    ],
    ['data not bytes', msg('b', 'a', 2, { heartbeat: { context: 'x' as unknown as Uint8Array } })],
    ['not an object', null as unknown as Message],
  ];
  for (const [why, m] of bad) {
    const err = t.throws(() => s.node.step(m), why);
    t.ok(
      isRaftError(err, 'invalid-message') && isBallastError(err, 'PROTOCOL'),
      `${why}: invalid-message`,
    );
  }
  t.notOk(s.node.hasReady(), 'nothing to persist or send');
  t.equal(
    JSON.stringify({ st: s.node.status(), hs: s.raft.hardState() }),
    before,
    'state unchanged',
  );
});

/** Runs a member's Ready loop against its storage (persist, apply, advance). */
function drainInto(node: RawNode, storage: MemoryStorage): void {
  for (let i = 0; i < 50 && node.hasReady(); i++) {
    const rd = node.ready();
    if (rd.snapshot) storage.applySnapshot(rd.snapshot);
    storage.append(rd.entries);
    if (rd.hardState) storage.setHardState(rd.hardState);
    node.advance();
  }
}

t.test('fuzz: arbitrary messages never crash the core, only RaftErrors come out', async (t) => {
  const ids = ['a', 'b', 'c', 'x'];
  const bytes = fc.uint8Array({ maxLength: 4 });
  const small = fc.nat({ max: 12 });
  const ent = fc.record({ term: small, index: small, type: fc.constantFrom(0, 1, 5), data: bytes });
  const body = fc.oneof(
    fc.record({
      requestVote: fc.record({
        lastLogIndex: small,
        lastLogTerm: small,
        preVote: fc.boolean(),
        leaderTransfer: fc.boolean(),
      }),
    }),
    fc.record({ requestVoteResponse: fc.record({ granted: fc.boolean(), preVote: fc.boolean() }) }),
    fc.record({
      appendEntries: fc.record({
        prevLogIndex: small,
        prevLogTerm: small,
        entries: fc.array(ent, { maxLength: 3 }),
        leaderCommit: small,
      }),
    }),
    fc.record({
      appendEntriesResponse: fc.record({
        success: fc.boolean(),
        matchIndex: small,
        rejectIndex: small,
        rejectHint: small,
      }),
    }),
    fc.record({ heartbeat: fc.record({ commit: small, context: bytes }) }),
    fc.record({ heartbeatResponse: fc.record({ context: bytes }) }),
    fc.record({
      installSnapshot: fc.record({
        metadata: fc.record({
          index: small,
          term: small,
          confState: fc.record({
            voters: fc.uniqueArray(fc.constantFrom(...ids)),
            learners: fc.constant([]),
          }),
        }),
        offset: fc.constant(0),
        data: bytes,
        done: fc.constant(true),
      }),
    }),
    fc.record({ installSnapshotResponse: fc.record({ index: small, success: fc.boolean() }) }),
    fc.record({ timeoutNow: fc.constant({}) }),
    fc.record({ readIndex: fc.record({ context: bytes }) }),
    fc.record({ readIndexResponse: fc.record({ index: small, context: bytes, ok: fc.boolean() }) }),
  );
  const message = fc.tuple(fc.constantFrom('b', 'c', 'x'), small, body);
  const action = fc.oneof(
    message.map((m) => ({ m })),
    fc.constant({ tick: true }),
    fc.constant({ propose: true }),
    fc.constant({ campaign: true }),
  );
  let raftErrors = 0;
  fc.assert(
    fc.property(fc.array(action, { maxLength: 40 }), (actions) => {
      const storage = new MemoryStorage();
      const boot = bootstrapEntries(ABC);
      storage.append(boot.entries);
      storage.setHardState(boot.hardState);
      const node = new RawNode({ id: 'a', storage, rng: new SeededRng(1), electionTicks: 3 });
      drainInto(node, storage);
      for (const a of actions) {
        try {
          if ('m' in a)
            node.step({ clusterId: '', from: a.m[0], to: 'a', term: a.m[1], ...a.m[2] } as Message);
          else if ('tick' in a) node.tick();
          else if ('propose' in a) node.propose(enc('p'));
          else node.campaign();
        } catch (err) {
          if (!isRaftError(err)) throw err;
          raftErrors++;
        }
        drainInto(node, storage);
      }
    }),
    { numRuns: 1500 },
  );
  t.ok(raftErrors > 0, `${raftErrors} inputs were refused with a RaftError`);
});

t.test('fuzz: random bytes decoded as RaftMessage never crash the core', async (t) => {
  const s = leader();
  let decoded = 0;
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (raw) => {
      let m: Message;
      try {
        m = ballast.raft.RaftMessage.decode(raw);
      } catch {
        return; // the transport drops undecodable frames
      }
      decoded++;
      try {
        s.node.step({ ...m, to: 'a', from: m.from === 'a' ? 'b' : m.from || 'b' } as Message);
      } catch (err) {
        if (!isRaftError(err)) throw err;
      }
      s.drain();
    }),
    { numRuns: 3000 },
  );
  t.ok(decoded > 100, `${decoded} garbage frames decoded and were stepped`);
});

t.test(
  'flow control: a bounded window of appends in replicate, one at a time in probe',
  async (t) => {
    const s = leader({ maxInflightMsgs: 2 });
    t.equal(s.node.status().progress['b']!.state, 'replicate');
    const sent: Message[] = [];
    for (let i = 0; i < 5; i++) {
      s.node.propose(enc(`p${i}`));
      sent.push(...s.drain());
    }
    const toB = sent.filter((m) => m.to === 'b' && kind(m) === 'appendEntries');
    t.equal(toB.length, 2, 'only two appends in flight to b');
    t.equal(s.node.status().progress['b']!.paused, true);
    const more = s.step(
      msg('b', 'a', 2, { appendEntriesResponse: { success: true, matchIndex: 5 } }),
    );
    const next = more.filter((m) => m.to === 'b' && kind(m) === 'appendEntries');
    t.equal(next.length, 1, 'one acknowledged, one more goes');
    t.same(
      next[0]!.appendEntries!.entries!.map((e) => e.index),
      [7, 8, 9],
      'carrying everything that waited, batched',
    );

    // Probe: after a rejection the leader sends one append and waits.
    s.step(
      msg('c', 'a', 2, {
        appendEntriesResponse: { success: false, rejectIndex: 9, rejectHint: 3 },
      }),
    );
    t.equal(s.node.status().progress['c']!.state, 'probe');
    s.node.propose(enc('q'));
    const probes = s.drain().filter((m) => m.to === 'c' && kind(m) === 'appendEntries');
    t.equal(probes.length, 0, 'a probe is already in flight: nothing more');
    t.equal(s.node.status().progress['c']!.paused, true);
  },
);

t.test('batching: entries per AppendEntries are cut at maxMsgBytes', async (t) => {
  const s = leader({ maxInflightMsgs: 1, maxMsgBytes: 100 });
  s.node.propose(enc('first')); // fills b's window of one
  s.drain();
  for (let i = 0; i < 6; i++) s.node.propose(enc('0123456789')); // 34 bytes each with header
  s.drain();
  const out = s.step(msg('b', 'a', 2, { appendEntriesResponse: { success: true, matchIndex: 5 } }));
  const app = out.filter((m) => m.to === 'b' && kind(m) === 'appendEntries');
  t.equal(app.length, 1, 'the window holds one message');
  t.equal(
    app[0]!.appendEntries!.entries!.length,
    2,
    'two 34-byte entries fit in 100 bytes, not three',
  );
});

t.test('proposals are refused past the uncommitted bytes limit, and nothing changes', async (t) => {
  const s = leader({ maxUncommittedBytes: 100 });
  s.node.propose(new Uint8Array(60));
  s.node.propose(new Uint8Array(40));
  s.drain();
  const last = s.raft.log.lastIndex();
  const err = t.throws(() => s.node.propose(new Uint8Array(10)));
  t.ok(isRaftError(err, 'uncommitted-limit') && isBallastError(err, 'RATE_LIMITED'));
  t.equal(s.raft.log.lastIndex(), last);
  // Once committed and handed to the application, room frees up.
  s.step(msg('b', 'a', 2, { appendEntriesResponse: { success: true, matchIndex: last } }));
  s.node.propose(new Uint8Array(10));
  t.pass('accepted again');
});

t.test('transport reports: unreachable peers are probed, failed snapshots retried', async (t) => {
  const s = leader();
  s.node.reportUnreachable('b');
  t.equal(s.node.status().progress['b']!.state, 'probe');
  const pr = s.raft.tracker.progress.get('c')!;
  pr.becomeSnapshot(9);
  s.node.reportSnapshot('c', false);
  t.equal(s.node.status().progress['c']!.state, 'probe');
  t.equal(s.node.status().progress['c']!.paused, true, 'waits for a heartbeat answer');
});

t.test('configuration is checked', async (t) => {
  const storage = new MemoryStorage();
  const rng = new SeededRng(1);
  for (const bad of [
    { electionTicks: 0 },
    { electionTicks: 3, heartbeatTicks: 3 },
    { maxInflightMsgs: 0 },
    { maxMsgBytes: -1 },
    { maxInflightBytes: -5 },
  ]) {
    const err = t.throws(() => new RawNode({ id: 'a', storage, rng, ...bad }), JSON.stringify(bad));
    t.ok(isBallastError(err, 'CONFIG'));
  }
  t.ok(
    isBallastError(
      t.throws(() => new RawNode({ id: '', storage, rng })),
      'CONFIG',
    ),
  );
});

t.test('status exposes term, leader, commit, applied, role and per-peer progress', async (t) => {
  const s = leader();
  const st = s.node.status();
  t.match(st, { id: 'a', term: 2, leaderId: 'a', role: 'leader', commit: 4, applied: 4 });
  t.same(Object.keys(st.progress).sort(), ['a', 'b', 'c']);
  t.match(st.progress['b'], { match: 4, next: 5, state: 'replicate', isLearner: false });
  const f = new Solo('b', ABC);
  t.same(f.node.status().progress, {}, 'followers have no progress to show');
  t.equal(f.node.status().leaderId, null);
});
