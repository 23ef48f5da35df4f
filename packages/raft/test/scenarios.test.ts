// Scenario tests: whole-cluster behaviours driven step by step through TestNetwork.
import t from 'tap';
import { ConfChangeType, isRaftError, type ConfState } from '../src/index.js';
import { Solo, TestNetwork, dec, enc, kind, msg } from './helpers.js';

const ABC = ['a', 'b', 'c'];

function snapshotLeader(net: TestNetwork, id: string): number {
  const m = net.get(id);
  const applied = m.status().applied;
  const data = enc(JSON.stringify(m.appliedData()));
  m.storage.createSnapshot(applied, m.confState, data);
  m.storage.compact(applied);
  return applied;
}

function conf(net: TestNetwork, id: string): ConfState {
  return net.node(id).status().config;
}

t.test(
  'pre-vote + check-quorum: a partitioned member that rejoins does not disrupt the leader',
  async (t) => {
    const net = new TestNetwork(ABC);
    net.campaign('a');
    const term = net.node('a').status().term;
    net.isolate('c');
    net.tickAll(60); // c times out several times over
    t.equal(
      net.node('c').status().term,
      term,
      'c never bumped its term: its pre-votes went nowhere',
    );
    t.equal(net.node('c').status().role, 'pre-candidate');
    t.equal(net.node('a').status().role, 'leader', 'a kept a quorum with b');
    net.propose('a', 'while-c-was-away');
    net.heal();
    net.tickAll(5);
    t.same(net.leaders(), ['a'], 'a is still the leader');
    t.equal(net.node('a').status().term, term, 'no new term');
    t.equal(net.node('c').status().leaderId, 'a', 'c follows a again');
    t.same(net.get('c').appliedData(), ['while-c-was-away'], 'and caught up');
  },
);

t.test(
  'without pre-vote, the same rejoining member forces an election (why pre-vote is on)',
  async (t) => {
    const net = new TestNetwork(ABC, { preVote: false });
    net.campaign('a');
    const term = net.node('a').status().term;
    net.isolate('c');
    net.tickAll(60);
    t.ok(net.node('c').status().term > term + 2, 'c bumped its term over and over');
    net.heal();
    net.tickAll(40);
    t.ok(net.node('a').status().term > term, 'the cluster had to move to a new term');
    t.equal(net.leaders().length, 1);
  },
);

t.test(
  'check-quorum lease: a member that cannot hear the leader cannot depose it while others can',
  async (t) => {
    const net = new TestNetwork(ABC);
    net.campaign('a');
    const term = net.node('a').status().term;
    net.cut.add('a->c'); // asymmetric: c hears nobody from a, but everyone hears c
    net.tickAll(60);
    t.ok(
      net.delivered.some((m) => m.from === 'c' && m.requestVote?.preVote),
      'c campaigned',
    );
    t.same(net.leaders(), ['a'], 'b, still hearing from a, ignored c: a stays leader');
    t.equal(net.node('a').status().term, term);
    t.equal(net.node('b').status().term, term);
  },
);

t.test(
  'check-quorum: a leader cut off from the quorum steps down, the rest elect a new one',
  async (t) => {
    const net = new TestNetwork(ABC);
    net.campaign('a');
    const term = net.node('a').status().term;
    net.isolate('a');
    // Activity is checked once per election timeout over the timeout just ended, so the leader
    // notices within two of them.
    net.tickAll(net.node('a').raft.electionTicks);
    t.equal(net.node('a').status().role, 'leader', 'peers were heard from in the first window');
    net.tickAll(net.node('a').raft.electionTicks);
    t.equal(net.node('a').status().role, 'follower', 'a stepped down within two election timeouts');
    net.tickAll(40);
    const leaders = net.leaders();
    t.equal(leaders.length, 1);
    t.not(leaders[0], 'a');
    t.ok(net.node(leaders[0]!).status().term > term);
    t.ok(
      isRaftError(
        t.throws(() => net.node('a').propose(enc('x'))),
        'not-leader',
      ),
    );
  },
);

t.test('pre-vote: a stale log cannot win, and no pre-vote changes a term or a vote', async (t) => {
  // Voter side: the voter's log ends at (4, term 1); it has no leader, so it may grant.
  for (const [lastLogIndex, granted] of [
    [3, false],
    [4, true],
  ] as const) {
    const voter = new Solo('a', ABC, {}, [{ index: 4, term: 1, type: 0, data: enc('x') }]);
    const out = voter.step(
      msg('c', 'a', 2, { requestVote: { lastLogIndex, lastLogTerm: 1, preVote: true } }),
    );
    t.equal(out.length, 1);
    t.same(out[0]!.requestVoteResponse, { granted, preVote: true });
    t.equal(out[0]!.term, granted ? 2 : 1, 'granted at the future term, refused at ours');
    t.equal(voter.raft.term, 1, 'the voter did not move to the pre-vote term');
    t.equal(voter.raft.vote, '', 'and recorded no vote');
  }
  // Candidate side: refused by a majority, the pre-candidate goes back to follower, term unchanged.
  const c = new Solo('c', ABC, {});
  c.node.campaign();
  const preVotes = c.drain();
  t.ok(preVotes.every((m) => m.requestVote?.preVote === true && m.term === 2));
  t.equal(c.raft.role, 'pre-candidate');
  t.equal(c.raft.term, 1);
  c.step(msg('a', 'c', 1, { requestVoteResponse: { granted: false, preVote: true } }));
  c.step(msg('b', 'c', 1, { requestVoteResponse: { granted: false, preVote: true } }));
  t.equal(c.raft.role, 'follower');
  t.equal(c.raft.term, 1);
  // Granted by a majority, it runs the real election at term + 1.
  const d = new Solo('c', ABC, {});
  d.node.campaign();
  d.drain();
  const votes = d.step(msg('a', 'c', 2, { requestVoteResponse: { granted: true, preVote: true } }));
  t.equal(d.raft.role, 'candidate');
  t.equal(d.raft.term, 2);
  t.ok(votes.some((m) => m.requestVote?.preVote === false && m.term === 2));
});

t.test(
  'a lagging follower catches up through a snapshot after the leader compacted its log',
  async (t) => {
    const net = new TestNetwork(ABC);
    net.campaign('a');
    net.propose('a', 'early');
    net.isolate('c');
    for (let i = 0; i < 20; i++) net.propose('a', `v${i}`);
    // A membership change c never sees as an entry: it must come with the snapshot.
    net.addEmpty('d');
    net.node('a').proposeConfChange({ type: ConfChangeType.CONF_ADD_LEARNER, nodeId: 'd' });
    net.settle();
    net.isolate('c');
    const snapIndex = snapshotLeader(net, 'a');
    t.ok(
      net.get('a').storage.firstIndex() > net.node('c').status().lastIndex + 1,
      'c now needs what a dropped',
    );
    net.propose('a', 'after-snapshot');
    net.delivered = [];
    net.heal();
    net.tickAll(3);
    const snaps = net.delivered.filter((m) => kind(m) === 'installSnapshot');
    t.equal(snaps.length, 1, 'exactly one snapshot was sent');
    t.equal(snaps[0]!.to, 'c');
    t.equal(net.get('c').storage.snapshot().metadata.index, snapIndex, 'c persisted the snapshot');
    t.same(
      JSON.parse(dec(net.get('c').storage.snapshot().data)),
      net.get('a').appliedData().slice(0, 21),
    );
    t.same(net.get('c').storage.snapshot().metadata.confState, {
      voters: ['a', 'b', 'c'],
      learners: ['d'],
    });
    // 'early' was applied before the partition; the v* entries came inside the snapshot.
    t.same(
      net.get('c').appliedData(),
      ['early', 'after-snapshot'],
      'then applied the entries after it',
    );
    t.equal(net.node('c').status().applied, net.node('a').status().applied);
    t.same(
      conf(net, 'c'),
      { voters: ['a', 'b', 'c'], learners: ['d'] },
      "with the snapshot's configuration",
    );
    t.same(net.node('a').status().progress['c']!.state, 'replicate', 'and is replicating again');
  },
);

t.test('a snapshot lost in the network is sent again after the snapshot timeout', async (t) => {
  const net = new TestNetwork(ABC, { snapshotTimeoutTicks: 5 });
  net.campaign('a');
  net.isolate('c');
  for (let i = 0; i < 5; i++) net.propose('a', `v${i}`);
  snapshotLeader(net, 'a');
  net.heal();
  let lost = 0;
  net.lose = (m) => kind(m) === 'installSnapshot' && lost++ === 0;
  net.tickAll(2);
  t.equal(lost, 1, 'the first snapshot was lost');
  t.equal(net.node('a').status().progress['c']!.state, 'snapshot', 'waiting for an answer');
  net.tickAll(4);
  t.equal(net.node('a').status().progress['c']!.state, 'snapshot', 'still within the timeout');
  net.tickAll(4);
  t.equal(lost, 2, 'sent again after the timeout');
  t.equal(net.node('a').status().progress['c']!.state, 'replicate', 'and this time it arrived');
  t.same(net.node('c').status().applied, net.node('a').status().applied);
});

t.test(
  'membership: add a learner, learners neither vote nor count, promote it, remove members',
  async (t) => {
    const net = new TestNetwork(ABC);
    net.campaign('a');
    net.propose('a', 'before-d');
    net.addEmpty('d');
    net.node('a').proposeConfChange({ type: ConfChangeType.CONF_ADD_LEARNER, nodeId: 'd' });
    net.settle();
    net.tickAll(2);
    t.same(conf(net, 'a'), { voters: ['a', 'b', 'c'], learners: ['d'] });
    t.same(conf(net, 'd'), { voters: ['a', 'b', 'c'], learners: ['d'] }, 'd learned the config');
    t.same(net.get('d').appliedData(), ['before-d'], 'd caught up from an empty log');

    // A learner does not count towards the quorum: a + learner d do not commit.
    net.isolate('b');
    net.isolate('c');
    const commitBefore = net.node('a').status().commit;
    net.node('a').propose(enc('not-yet'));
    net.settle();
    t.equal(net.node('a').status().commit, commitBefore, 'leader + learner is not a majority');
    net.heal();
    net.tickAll(1);
    t.ok(net.node('a').status().commit > commitBefore);

    // A learner never campaigns, even with no leader for a long time.
    net.isolate('d');
    const dTerm = net.node('d').status().term;
    net.tickAll(60);
    t.equal(net.node('d').status().role, 'follower');
    t.equal(net.node('d').status().term, dTerm, 'd did not even pre-vote');
    net.heal();
    net.tickAll(2);

    // One change at a time: a second proposal before the first is applied is refused.
    net.node('a').proposeConfChange({ type: ConfChangeType.CONF_ADD_VOTER, nodeId: 'd' });
    const err = t.throws(() =>
      net.node('a').proposeConfChange({ type: ConfChangeType.CONF_REMOVE_NODE, nodeId: 'c' }),
    );
    t.ok(isRaftError(err, 'conf-change-pending'), 'second change refused while one is pending');
    t.equal((err as { code?: string }).code, 'CONFLICT');
    net.settle();
    t.same(conf(net, 'b'), { voters: ['a', 'b', 'c', 'd'], learners: [] }, 'd promoted');

    // d now votes: with b and c gone, a and d (2 of 4) cannot commit; with c back they can.
    // Remove c: three voters left.
    net.node('a').proposeConfChange({ type: ConfChangeType.CONF_REMOVE_NODE, nodeId: 'c' });
    net.settle();
    net.tickAll(1);
    t.same(conf(net, 'a'), { voters: ['a', 'b', 'd'], learners: [] });
    net.isolate('c');
    net.propose('a', 'without-c');
    t.same(net.get('b').appliedData().at(-1), 'without-c', 'a, b, d commit without c');
    t.ok(
      isRaftError(
        t.throws(() =>
          net.node('a').proposeConfChange({ type: ConfChangeType.CONF_ADD_LEARNER, nodeId: 'b' }),
        ),
        'invalid-conf-change',
      ),
      'demoting a voter is refused',
    );
  },
);

t.test(
  'membership: removing the leader makes it step down and the others elect a new one',
  async (t) => {
    const net = new TestNetwork(ABC);
    net.campaign('a');
    net.node('a').proposeConfChange({ type: ConfChangeType.CONF_REMOVE_NODE, nodeId: 'a' });
    net.settle();
    t.equal(net.node('a').status().role, 'follower', 'a stepped down when it applied its removal');
    net.tickAll(2); // b and c learn the removal is committed
    net.tickAll(40);
    const leaders = net.leaders();
    t.equal(leaders.length, 1);
    t.ok(['b', 'c'].includes(leaders[0]!));
    t.same(conf(net, leaders[0]!), { voters: ['b', 'c'], learners: [] });
    net.propose(leaders[0]!, 'after');
    t.same(net.get('b').appliedData(), ['after']);
    t.ok(
      isRaftError(
        t.throws(() =>
          net
            .node(leaders[0]!)
            .proposeConfChange({ type: ConfChangeType.CONF_REMOVE_NODE, nodeId: 'zz' }),
        ),
        'invalid-conf-change',
      ),
      'removing a non-member is refused',
    );
  },
);

t.test('leadership transfer to an up-to-date follower', async (t) => {
  const net = new TestNetwork(ABC);
  net.campaign('a');
  const term = net.node('a').status().term;
  net.node('a').transferLeadership('b');
  net.settle();
  t.same(net.leaders(), ['b']);
  t.equal(net.node('b').status().term, term + 1);
  t.equal(net.node('a').status().leaderId, 'b');
  const timeoutNow = net.delivered.filter((m) => kind(m) === 'timeoutNow');
  t.equal(timeoutNow.length, 1);
  const votes = net.delivered.filter((m) => kind(m) === 'requestVote' && m.from === 'b');
  t.ok(
    votes.every((m) => m.requestVote!.leaderTransfer === true && !m.requestVote!.preVote),
    'the transferee skips the pre-vote and marks its vote requests',
  );
});

t.test(
  'leadership transfer waits for the transferee to catch up, refusing proposals meanwhile',
  async (t) => {
    const net = new TestNetwork(ABC);
    net.campaign('a');
    net.isolate('c');
    net.propose('a', 'c-misses-this');
    net.node('a').transferLeadership('c');
    net.settle();
    t.equal(net.node('a').status().leadTransferee, 'c');
    const err = t.throws(() => net.node('a').propose(enc('refused')));
    t.ok(isRaftError(err, 'transfer-in-progress'), 'proposals are refused during the transfer');
    net.heal();
    net.tickAll(2);
    t.same(net.leaders(), ['c'], 'c caught up and took over');
    t.same(net.get('c').appliedData(), ['c-misses-this']);
  },
);

t.test('leadership transfer is abandoned after an election timeout', async (t) => {
  const net = new TestNetwork(ABC);
  net.campaign('a');
  net.isolate('c');
  net.node('a').transferLeadership('c');
  net.settle();
  t.equal(net.node('a').status().leadTransferee, 'c');
  net.tickAll(net.node('a').raft.electionTicks);
  t.equal(net.node('a').status().leadTransferee, null, 'given up');
  t.equal(net.node('a').status().role, 'leader', 'still the leader');
  net.propose('a', 'accepted-again');
  t.same(net.get('b').appliedData(), ['accepted-again']);
  t.ok(
    isRaftError(
      t.throws(() => net.node('a').transferLeadership('zz')),
      'invalid-argument',
    ),
  );
  t.ok(
    isRaftError(
      t.throws(() => net.node('b').transferLeadership('c')),
      'not-leader',
    ),
  );
});

t.test('ReadIndex on the leader needs a heartbeat round with a quorum', async (t) => {
  const net = new TestNetwork(ABC);
  net.campaign('a');
  net.propose('a', 'x');
  const commit = net.node('a').status().commit;
  net.node('a').readIndex(enc('r1'));
  net.settle();
  t.same(
    net.get('a').readStates.map((r) => [dec(r.context), r.index]),
    [['r1', commit]],
  );
  // Cut off from the quorum, the leader cannot confirm it is still the leader.
  net.isolate('a');
  net.node('a').readIndex(enc('r2'));
  net.settle();
  net.tickAll(3);
  t.equal(net.get('a').readStates.length, 1, 'r2 is not served');
  net.tickAll(2 * net.node('a').raft.electionTicks);
  t.equal(net.node('a').status().role, 'follower');
  t.same(net.get('a').rejectedReads.map(dec), ['r2'], 'and is failed when a steps down');
});

t.test('ReadIndex on a follower is forwarded to the leader', async (t) => {
  const net = new TestNetwork(ABC);
  net.campaign('a');
  net.propose('a', 'x');
  net.node('b').readIndex(enc('rb'));
  net.settle();
  t.same(
    net.get('b').readStates.map((r) => [dec(r.context), r.index]),
    [['rb', net.node('a').status().commit]],
  );
  t.ok(net.delivered.some((m) => kind(m) === 'readIndex' && m.from === 'b' && m.to === 'a'));
  // A member that knows no leader refuses at once.
  const net2 = new TestNetwork(ABC);
  const err = t.throws(() => net2.node('b').readIndex(enc('r')));
  t.ok(isRaftError(err, 'not-leader'));
  t.equal((err as { details?: Record<string, unknown> }).details?.['leaderId'], null);
});

t.test(
  'ReadIndex: a new leader serves reads only after committing an entry of its term',
  async (t) => {
    const s = new Solo('a', ABC, { preVote: false });
    s.node.campaign();
    s.drain();
    s.step(msg('b', 'a', s.raft.term, { requestVoteResponse: { granted: true } }));
    t.equal(s.raft.role, 'leader');
    s.node.readIndex(enc('early'));
    const sent = s.drain();
    t.same(
      sent.filter((m) => kind(m) === 'heartbeat'),
      [],
      'no confirmation round yet',
    );
    // b acknowledges the empty entry of the new term: it commits, the read starts.
    const afterCommit = s.step(
      msg('b', 'a', s.raft.term, {
        appendEntriesResponse: { success: true, matchIndex: s.raft.log.lastIndex() },
      }),
    );
    const hbs = afterCommit.filter((m) => kind(m) === 'heartbeat');
    t.equal(hbs.length, 2, 'the confirmation heartbeats go out');
    t.same(dec(hbs[0]!.heartbeat!.context!), 'early');
    s.step(msg('c', 'a', s.raft.term, { heartbeatResponse: { context: enc('early') } }));
    const rs = s.readies.flatMap((r) => r.readStates);
    t.same(
      rs.map((r) => [dec(r.context), r.index]),
      [['early', s.raft.log.committed]],
    );
  },
);

t.test('a proposal on a follower is refused with the leader to retry at', async (t) => {
  const net = new TestNetwork(ABC);
  net.campaign('a');
  const err = t.throws(() => net.node('b').propose(enc('x')));
  t.ok(isRaftError(err, 'not-leader'));
  t.equal((err as { code?: string }).code, 'UNAVAILABLE');
  t.equal((err as { details?: Record<string, unknown> }).details?.['leaderId'], 'a');
  t.match((err as Error).message, /leader is a/);
});

t.test('a member restarted from its storage rejoins with its log and vote', async (t) => {
  const net = new TestNetwork(ABC);
  net.campaign('a');
  for (let i = 0; i < 5; i++) net.propose('a', `v${i}`);
  net.crash('b');
  net.propose('a', 'while-b-down');
  const before = net.node('b').status();
  net.restart('b');
  t.equal(net.node('b').status().term, before.term);
  t.equal(net.node('b').status().lastIndex, before.lastIndex);
  net.tickAll(2);
  t.same(
    net.get('b').appliedData(),
    ['v0', 'v1', 'v2', 'v3', 'v4', 'while-b-down'],
    're-applied from the log',
  );
  t.same(net.leaders(), ['a']);
});
