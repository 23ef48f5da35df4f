// Each test is named after the rule of the Raft paper (Ongaro & Ousterhout, "In Search of an
// Understandable Consensus Algorithm", extended version) it checks, as etcd's
// raft_paper_test.go does. Pre-vote and check-quorum are off where the rule is about the
// basic algorithm; they have their own scenario tests.
import t from 'tap';
import { EntryType, RawNode, type Message } from '../src/index.js';
import { Solo, TestNetwork, enc, entry, kind, msg } from './helpers.js';

const PLAIN = { preVote: false, checkQuorum: false };
const ABC = ['a', 'b', 'c'];

/** Makes `s` the leader of `term` (it must be a candidate that others vote for). */
function electSolo(s: Solo): Message[] {
  s.node.campaign();
  const votes = s.drain().filter((m) => kind(m) === 'requestVote');
  for (const v of votes) {
    s.step(msg(v.to!, s.id, v.term!, { requestVoteResponse: { granted: true } }));
  }
  return s.drain();
}

t.test('§5.1 a server that sees a larger term adopts it and becomes a follower', async (t) => {
  for (const role of ['follower', 'candidate', 'leader'] as const) {
    const s = new Solo('a', ABC, PLAIN);
    if (role === 'candidate') s.node.campaign();
    if (role === 'leader') electSolo(s);
    s.drain();
    t.equal(s.raft.role, role);
    const term = s.raft.term;
    s.step(msg('b', 'a', term + 5, { appendEntries: { prevLogIndex: 0, prevLogTerm: 0 } }));
    t.equal(s.raft.term, term + 5, `${role} adopts the larger term`);
    t.equal(s.raft.role, 'follower', `${role} becomes a follower`);
    t.equal(s.raft.lead, 'b', 'and follows the sender of AppendEntries');
    t.equal(s.raft.vote, '', 'with no vote in the new term');
  }
});

t.test('§5.1 a request with a stale term is rejected', async (t) => {
  const s = new Solo('a', ABC, PLAIN, [entry(4, 2)]);
  s.step(msg('b', 'a', 3, { heartbeat: { commit: 0 } }));
  t.equal(s.raft.term, 3);
  const last = s.raft.log.lastIndex();
  s.step(
    msg('c', 'a', 2, {
      appendEntries: { prevLogIndex: 4, prevLogTerm: 2, entries: [entry(5, 2)] },
    }),
  );
  t.equal(s.raft.log.lastIndex(), last, 'entries from a stale leader are not appended');
  t.equal(s.raft.lead, 'b', 'the stale leader is not followed');
  const votes = s.step(msg('c', 'a', 2, { requestVote: { lastLogIndex: 100, lastLogTerm: 2 } }));
  t.same(votes, [], 'a stale vote request gets no vote');
  t.equal(s.raft.vote, '');
});

t.test(
  '§5.2 a follower that hears nothing starts an election: new term, own vote, RequestVote to all',
  async (t) => {
    const s = new Solo('a', ABC, PLAIN);
    const sent = s.tick(2 * s.raft.electionTicks);
    t.equal(s.raft.role, 'candidate');
    t.equal(s.raft.term, 2);
    t.equal(s.raft.vote, 'a');
    const votes = sent.filter((m) => kind(m) === 'requestVote');
    t.same(votes.map((m) => m.to).sort(), ['b', 'c']);
    for (const v of votes) {
      t.equal(v.term, 2);
      t.same(v.requestVote, {
        lastLogIndex: 3,
        lastLogTerm: 1,
        preVote: false,
        leaderTransfer: false,
      });
    }
  },
);

t.test('§5.2 election timeouts are randomized in [electionTicks, 2*electionTicks)', async (t) => {
  const seen = new Set<number>();
  for (let seed = 1; seed <= 200; seed++) {
    const s = new Solo('a', ABC, PLAIN, [], seed);
    let ticks = 0;
    while (s.raft.role === 'follower' && ticks < 100) {
      s.tick();
      ticks++;
    }
    t.ok(ticks >= 10 && ticks < 20, `timeout ${ticks} within [10, 20)`);
    seen.add(ticks);
  }
  t.ok(seen.size >= 8, `timeouts spread over ${seen.size} distinct values`);
});

t.test('§5.2 a candidate wins with votes from a majority, and only then', async (t) => {
  const cases: { voters: string[]; grants: Record<string, boolean>; role: string }[] = [
    { voters: ['a'], grants: {}, role: 'leader' },
    { voters: ['a', 'b', 'c'], grants: { b: true }, role: 'leader' },
    { voters: ['a', 'b', 'c'], grants: { b: false }, role: 'candidate' },
    { voters: ['a', 'b', 'c'], grants: { b: false, c: false }, role: 'follower' },
    { voters: ['a', 'b', 'c', 'd', 'e'], grants: { b: true }, role: 'candidate' },
    { voters: ['a', 'b', 'c', 'd', 'e'], grants: { b: true, c: true }, role: 'leader' },
    {
      voters: ['a', 'b', 'c', 'd', 'e'],
      grants: { b: false, c: false, d: false },
      role: 'follower',
    },
  ];
  for (const c of cases) {
    const s = new Solo('a', c.voters, PLAIN);
    s.node.campaign();
    s.drain();
    for (const [from, granted] of Object.entries(c.grants)) {
      s.step(msg(from, 'a', s.raft.term, { requestVoteResponse: { granted } }));
    }
    t.equal(s.raft.role, c.role, `${c.voters.length} voters, grants ${JSON.stringify(c.grants)}`);
  }
});

t.test(
  '§5.2 each server votes for at most one candidate per term, first come first served',
  async (t) => {
    const s = new Solo('a', ABC, PLAIN);
    const r1 = s.step(msg('b', 'a', 2, { requestVote: { lastLogIndex: 3, lastLogTerm: 1 } }));
    t.equal(r1[0]!.requestVoteResponse!.granted, true, 'first candidate gets the vote');
    t.equal(s.raft.vote, 'b');
    const hs = s.readies.at(-1)!.hardState;
    t.same(hs && { term: hs.term, vote: hs.vote }, { term: 2, vote: 'b' }, 'the vote is persisted');
    const r2 = s.step(msg('c', 'a', 2, { requestVote: { lastLogIndex: 9, lastLogTerm: 1 } }));
    t.equal(
      r2[0]!.requestVoteResponse!.granted,
      false,
      'second candidate in the same term is refused',
    );
    const r3 = s.step(msg('b', 'a', 2, { requestVote: { lastLogIndex: 3, lastLogTerm: 1 } }));
    t.equal(
      r3[0]!.requestVoteResponse!.granted,
      true,
      'a repeated request from the same candidate is granted again',
    );
    // The vote survives a restart: it came from storage.
    const restarted = new RawNode({
      id: 'a',
      storage: s.storage,
      rng: { intBelow: () => 0 },
      ...PLAIN,
    });
    t.equal(restarted.raft.vote, 'b');
    restarted.step(msg('c', 'a', 2, { requestVote: { lastLogIndex: 9, lastLogTerm: 1 } }));
    const after = restarted.ready().messages;
    t.equal(after[0]!.requestVoteResponse!.granted, false, 'still refused after a restart');
  },
);

t.test(
  'Figure 2: term and vote are in the same Ready as the vote, persisted before it is sent',
  async (t) => {
    const s = new Solo('a', ABC, PLAIN);
    s.node.step(msg('b', 'a', 5, { requestVote: { lastLogIndex: 3, lastLogTerm: 1 } }));
    const rd = s.node.ready();
    t.same(rd.hardState, { term: 5, vote: 'b', commit: 3 });
    t.equal(rd.mustSync, true);
    t.equal(rd.messages.length, 1);
    t.equal(rd.messages[0]!.requestVoteResponse!.granted, true);
    s.node.advance();
  },
);

t.test('§5.2 a candidate that hears from a leader of its term becomes a follower', async (t) => {
  const s = new Solo('a', ABC, PLAIN);
  s.node.campaign();
  s.drain();
  t.equal(s.raft.role, 'candidate');
  s.step(msg('b', 'a', s.raft.term, { heartbeat: { commit: 0 } }));
  t.equal(s.raft.role, 'follower');
  t.equal(s.raft.lead, 'b');
});

t.test('§5.2 a split vote ends in a new election with a higher term', async (t) => {
  const s = new Solo('a', ABC, PLAIN);
  s.node.campaign();
  s.drain();
  s.step(msg('b', 'a', 2, { requestVoteResponse: { granted: false } }));
  t.equal(s.raft.role, 'candidate', 'one refusal out of three is not a loss yet');
  const sent = s.tick(2 * s.raft.electionTicks);
  t.equal(s.raft.role, 'candidate');
  t.equal(s.raft.term, 3, 'the timeout started a new term');
  t.equal(sent.filter((m) => kind(m) === 'requestVote').length, 2);
});

t.test('§5.2 the leader sends heartbeats to every follower each heartbeat interval', async (t) => {
  const s = new Solo('a', ABC, { ...PLAIN, heartbeatTicks: 2 });
  electSolo(s);
  t.equal(s.tick().filter((m) => kind(m) === 'heartbeat').length, 0);
  const hb = s.tick().filter((m) => kind(m) === 'heartbeat');
  t.same(hb.map((m) => m.to).sort(), ['b', 'c']);
  t.equal(hb[0]!.heartbeat!.commit, 0, 'heartbeat commit never exceeds the follower match');
});

t.test('§5.3 the leader appends a proposal to its log and sends AppendEntries', async (t) => {
  const s = new Solo('a', ABC, PLAIN);
  electSolo(s);
  // Followers acknowledge the leader's empty entry (index 4).
  for (const f of ['b', 'c']) {
    s.step(msg(f, 'a', 2, { appendEntriesResponse: { success: true, matchIndex: 4 } }));
  }
  const { index, term } = s.node.propose(enc('x'));
  t.same({ index, term }, { index: 5, term: 2 });
  const sent = s.drain().filter((m) => kind(m) === 'appendEntries');
  t.same(sent.map((m) => m.to).sort(), ['b', 'c']);
  const ae = sent[0]!.appendEntries!;
  t.equal(ae.prevLogIndex, 4);
  t.equal(ae.prevLogTerm, 2);
  t.same(
    ae.entries!.map((e) => e.index),
    [5],
  );
  t.equal(s.storage.lastIndex(), 5, "the entry is in the leader's storage");
});

t.test(
  '§5.3 an entry is committed once a majority stores it; followers learn the commit index',
  async (t) => {
    const net = new TestNetwork(['a', 'b', 'c', 'd', 'e'], PLAIN);
    net.campaign('a');
    net.cut.add('a->d');
    net.cut.add('a->e');
    net.cut.add('a->c');
    const { index } = net.propose('a', 'x');
    t.equal(net.node('a').status().commit, index - 1, 'a and b are 2 of 5: not committed');
    net.cut.delete('a->c');
    net.tickAll(1); // the heartbeat answer from c makes a send c the entry
    t.equal(net.node('a').status().commit, index, 'a, b, c are 3 of 5: committed');
    t.same(net.get('a').appliedData(), ['x']);
    net.tickAll(1);
    t.equal(net.node('b').status().commit, index, 'followers learn the commit index');
    t.same(net.get('c').appliedData(), ['x']);
    t.same(net.get('d').appliedData(), [], 'an unreachable follower has not');
  },
);

t.test('§5.3 a follower rejects AppendEntries whose previous entry does not match', async (t) => {
  const s = new Solo('b', ABC, PLAIN, [entry(4, 1), entry(5, 2)]);
  const wrongTerm = s.step(
    msg('a', 'b', 3, {
      appendEntries: { prevLogIndex: 5, prevLogTerm: 3, entries: [entry(6, 3)] },
    }),
  );
  t.equal(wrongTerm[0]!.appendEntriesResponse!.success, false);
  t.equal(wrongTerm[0]!.appendEntriesResponse!.rejectIndex, 5);
  t.equal(
    wrongTerm[0]!.appendEntriesResponse!.rejectHint,
    5,
    'hint: entry 5 (term 2 <= 3) may match',
  );
  const tooFar = s.step(
    msg('a', 'b', 3, {
      appendEntries: { prevLogIndex: 9, prevLogTerm: 3, entries: [entry(10, 3)] },
    }),
  );
  t.equal(tooFar[0]!.appendEntriesResponse!.success, false);
  t.equal(tooFar[0]!.appendEntriesResponse!.rejectHint, 5, 'hint: the log ends at 5');
  t.equal(s.raft.log.lastIndex(), 5, 'nothing was appended');
  const ok = s.step(
    msg('a', 'b', 3, {
      appendEntries: { prevLogIndex: 5, prevLogTerm: 2, entries: [entry(6, 3)] },
    }),
  );
  t.same(ok[0]!.appendEntriesResponse, { success: true, matchIndex: 6 });
});

t.test(
  '§5.3 a follower acknowledges only what the append proved, not the rest of its log',
  async (t) => {
    // b holds a stale tail (5, 6 of term 2); the leader of term 3 sends just entry 4.
    const s = new Solo('b', ABC, PLAIN, [entry(4, 1), entry(5, 2), entry(6, 2)]);
    const out = s.step(
      msg('a', 'b', 3, {
        appendEntries: { prevLogIndex: 3, prevLogTerm: 1, entries: [entry(4, 1)], leaderCommit: 9 },
      }),
    );
    t.same(out[0]!.appendEntriesResponse, { success: true, matchIndex: 4 }, 'match is 4, not 6');
    t.equal(s.raft.log.committed, 4, 'commit stops at the last entry known to match');
    t.equal(s.raft.log.lastIndex(), 6, 'the tail stays until an entry conflicts with it');
  },
);

t.test(
  '§5.3 a follower deletes a conflicting entry and all that follow it, then appends',
  async (t) => {
    const s = new Solo('b', ABC, PLAIN, [entry(4, 2), entry(5, 2), entry(6, 2)]);
    s.step(
      msg('a', 'b', 3, {
        appendEntries: { prevLogIndex: 4, prevLogTerm: 2, entries: [entry(5, 3)] },
      }),
    );
    t.equal(s.raft.log.lastIndex(), 5, 'entry 6 is gone');
    t.equal(s.raft.log.term(5), 3);
    t.equal(s.storage.lastIndex(), 5, 'storage was truncated too');
    // A stale, duplicated append that matches does not truncate anything.
    s.step(
      msg('a', 'b', 3, {
        appendEntries: { prevLogIndex: 3, prevLogTerm: 1, entries: [entry(4, 2)] },
      }),
    );
    t.equal(s.raft.log.lastIndex(), 5);
  },
);

t.test('§5.3 the leader backs off nextIndex on rejection until the logs match', async (t) => {
  const net = new TestNetwork(ABC, PLAIN);
  net.campaign('a');
  net.propose('a', 'x1');
  // c misses a run of entries, then b takes over with c still behind; c must catch up.
  net.isolate('c');
  for (let i = 2; i <= 6; i++) net.propose('a', `x${i}`);
  net.heal();
  net.tickAll(2);
  t.same(net.get('c').appliedData(), ['x1', 'x2', 'x3', 'x4', 'x5', 'x6']);
  const rejects = net.delivered.filter(
    (m) => m.appendEntriesResponse && !m.appendEntriesResponse.success,
  );
  t.ok(rejects.length <= 2, `caught up after ${rejects.length} rejection(s) thanks to the hint`);
});

t.test(
  '§5.3 leader append-only: a leader never overwrites or deletes its own entries',
  async (t) => {
    const s = new Solo('a', ABC, PLAIN, [entry(4, 1)]);
    electSolo(s);
    const before = s.raft.log.slice(1, s.raft.log.lastIndex() + 1, Infinity).map((e) => e.term);
    // A message from another "leader" of the same term is not possible; stale ones are ignored.
    s.step(
      msg('b', 'a', 1, {
        appendEntries: { prevLogIndex: 3, prevLogTerm: 1, entries: [entry(4, 1)] },
      }),
    );
    s.step(
      msg('b', 'a', s.raft.term, {
        appendEntriesResponse: { success: false, rejectIndex: 5, rejectHint: 0 },
      }),
    );
    const after = s.raft.log.slice(1, s.raft.log.lastIndex() + 1, Infinity).map((e) => e.term);
    t.same(after, before);
    t.equal(s.raft.role, 'leader');
  },
);

t.test('§5.4.1 a voter denies its vote to a candidate whose log is less up-to-date', async (t) => {
  // The voter's log ends at index 5, term 2.
  const cases = [
    { lastLogIndex: 5, lastLogTerm: 2, granted: true, why: 'same last entry' },
    { lastLogIndex: 6, lastLogTerm: 2, granted: true, why: 'same term, longer' },
    { lastLogIndex: 4, lastLogTerm: 2, granted: false, why: 'same term, shorter' },
    { lastLogIndex: 2, lastLogTerm: 3, granted: true, why: 'later term, shorter' },
    { lastLogIndex: 9, lastLogTerm: 1, granted: false, why: 'earlier term, longer' },
  ];
  for (const c of cases) {
    const s = new Solo('a', ABC, PLAIN, [entry(4, 1), entry(5, 2)]);
    const out = s.step(
      msg('b', 'a', 3, {
        requestVote: { lastLogIndex: c.lastLogIndex, lastLogTerm: c.lastLogTerm },
      }),
    );
    t.equal(out[0]!.requestVoteResponse!.granted, c.granted, c.why);
  }
});

t.test(
  '§5.4.2 a leader commits entries of earlier terms only by committing one of its own term (Figure 8)',
  async (t) => {
    // a was leader in term 2 and wrote entry 6 (term 2) without committing it; now a leads term 4
    // and gets entry 6 onto a majority. Counting replicas must not commit it.
    const a = new Solo('a', ['a', 'b', 'c', 'd', 'e'], PLAIN, [entry(6, 2)]);
    a.step(msg('x', 'a', 3, { heartbeat: { commit: 0 } })); // term 3 came and went
    a.node.campaign();
    a.drain();
    t.equal(a.raft.term, 4);
    for (const v of ['b', 'c']) a.step(msg(v, 'a', 4, { requestVoteResponse: { granted: true } }));
    t.equal(a.raft.role, 'leader');
    t.equal(a.raft.log.lastIndex(), 7, 'the empty entry of term 4 is at 7');
    // b and c acknowledge entry 6 (term 2) but not 7 yet.
    for (const f of ['b', 'c']) {
      a.step(msg(f, 'a', 4, { appendEntriesResponse: { success: true, matchIndex: 6 } }));
    }
    t.equal(a.raft.log.committed, 5, 'entry 6 of term 2 on a majority is still not committed');
    a.step(msg('b', 'a', 4, { appendEntriesResponse: { success: true, matchIndex: 7 } }));
    t.equal(a.raft.log.committed, 5, 'entry 7 is on 2 of 5');
    a.step(msg('c', 'a', 4, { appendEntriesResponse: { success: true, matchIndex: 7 } }));
    t.equal(a.raft.log.committed, 7, 'committing entry 7 of term 4 commits entry 6 with it');
  },
);

t.test('§5.3 a follower acknowledges entries in the same Ready that persists them', async (t) => {
  const s = new Solo('b', ABC, PLAIN);
  s.node.step(
    msg('a', 'b', 2, {
      appendEntries: { prevLogIndex: 3, prevLogTerm: 1, entries: [entry(4, 2)] },
    }),
  );
  const rd = s.node.ready();
  t.same(
    rd.entries.map((e) => e.index),
    [4],
  );
  t.equal(rd.messages[0]!.appendEntriesResponse!.matchIndex, 4);
  t.equal(rd.mustSync, true);
  s.node.advance();
});

t.test('§5.3 committed entries are handed out to apply exactly once, in order', async (t) => {
  const net = new TestNetwork(ABC, PLAIN);
  net.campaign('b');
  for (let i = 0; i < 20; i++) net.propose('b', `v${i}`);
  for (const id of ABC) {
    const applied = net.get(id).applied.map((e) => e.index);
    t.same(
      applied,
      Array.from({ length: applied.length }, (_, i) => i + 1),
      `${id} applied 1..n once each`,
    );
    t.equal(net.get(id).appliedData().length, 20);
    t.ok(net.get(id).applied.every((e) => e.type === EntryType.ENTRY_NORMAL || e.index <= 3));
  }
});
