import { decodeConfChange, bootstrapEntries } from '../conf-change.js';
import { isRaftError } from '../errors.js';
import { RawNode, type Ready } from '../raw-node.js';
import { SeededRng } from '../rng.js';
import { MemoryStorage } from '../storage.js';
import {
  ConfChangeType,
  EntryType,
  type ConfState,
  type Entry,
  type HardState,
  type Snapshot,
} from '../types.js';
import { NO_FAULTS, type NetworkFaults, SimNetwork } from './network.js';
import { Trace, describeMessage } from './trace.js';

/**
 * A whole Raft cluster in one process, every choice drawn from one seed: message loss,
 * duplication, delay and reordering; symmetric and asymmetric partitions; crashes at any point
 * of the Ready loop with restart from what was persisted; clocks ticking at different rates;
 * Readies persisted asynchronously while the node keeps stepping; client proposals, linearizable
 * reads, membership changes and leadership transfers. Checked as it runs and at the end:
 * election safety, vote once per term, leader completeness, log matching, state machine
 * safety, exactly-once application of acknowledged proposals, read linearizability, and
 * liveness once the faults heal.
 */
export interface SimOptions {
  seed: number;
  /** Founding voters (default: 3 or 5, chosen by the seed). */
  voters?: number;
  /** Time units with faults (a tick is 7 to 25 units, depending on the member's clock). */
  faultUnits?: number;
  /** After healing, a leader must commit and every member catch up within this many units. */
  healUnits?: number;
  membershipChanges?: boolean;
  leaderTransfers?: boolean;
  reads?: boolean;
  /** Encode and decode every message with protobuf, as the transport does (default true). */
  wire?: boolean;
  /** Events kept for the failure report. */
  traceCapacity?: number;
  electionTicks?: number;
  heartbeatTicks?: number;
}

export interface SimStats {
  leadersElected: number;
  proposed: number;
  acked: number;
  proposalsLost: number;
  readsServed: number;
  readsRejected: number;
  snapshotsInstalled: number;
  confChangesCommitted: number;
  transfersDone: number;
  crashes: number;
  partitions: number;
  messagesSent: number;
  messagesDropped: number;
  messagesDuplicated: number;
  timeUnits: number;
  healedAfterUnits: number;
}

export interface SimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly failure?: string;
  /** The last events before the failure (or the end). */
  readonly trace: readonly string[];
  readonly stats: SimStats;
  /** The parameters the seed chose, for the report. */
  readonly params: string;
}

export class SimViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimViolation';
  }
}

function violation(message: string): never {
  throw new SimViolation(message);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface StateMachine {
  appliedIndex: number;
  /** Rolling hash of every applied entry (index, term, type, data) in order. */
  hash: number;
  ids: Set<string>;
  confState: ConfState;
}

function mixEntry(h: number, e: Entry): number {
  let x = Math.imul(h ^ e.index, 16777619);
  x = Math.imul(x ^ e.term, 16777619);
  x = Math.imul(x ^ e.type, 16777619);
  for (let i = 0; i < e.data.length; i++) x = Math.imul(x ^ e.data[i]!, 16777619);
  return x >>> 0;
}

function encodeStateMachine(sm: StateMachine): Uint8Array {
  return encoder.encode(JSON.stringify({ hash: sm.hash, ids: [...sm.ids] }));
}

function stateMachineFromSnapshot(snap: Snapshot): StateMachine {
  const md = snap.metadata;
  if (md.index === 0) {
    return { appliedIndex: 0, hash: 0x811c9dc5, ids: new Set(), confState: md.confState };
  }
  const parsed = JSON.parse(decoder.decode(snap.data)) as { hash: number; ids: string[] };
  return {
    appliedIndex: md.index,
    hash: parsed.hash,
    ids: new Set(parsed.ids),
    confState: { voters: [...md.confState.voters], learners: [...md.confState.learners] },
  };
}

class SimMember {
  readonly disk = new MemoryStorage();
  node: RawNode | undefined;
  sm: StateMachine = stateMachineFromSnapshot(this.disk.snapshot());
  /** Proposals this member accepted as leader: index -> command and term. Volatile. */
  readonly pending = new Map<number, { cmd: string; term: number }>();
  /** A Ready being "written to disk" asynchronously; completes at completeAt. */
  inflight: { rd: Ready; completeAt: number } | undefined;
  nextTickAt: number;
  restartAt = Number.POSITIVE_INFINITY;
  /** Crash in the middle of handling the next Ready, at this step (0..3). */
  crashPhase: number | undefined;
  durableHardState: HardState = { term: 0, vote: '', commit: 0 };

  constructor(
    readonly id: string,
    readonly tickInterval: number,
    now: number,
  ) {
    this.nextTickAt = now + 1;
  }

  get up(): boolean {
    return this.node !== undefined;
  }
}

interface PendingRead {
  member: string;
  issuedAt: number;
  /** Highest index acknowledged to any client before the read was issued. */
  minIndex: number;
}

class Simulation {
  readonly rng: SeededRng;
  readonly net: SimNetwork;
  readonly trace: Trace;
  readonly members = new Map<string, SimMember>();
  now = 0;
  readonly stats: SimStats = {
    leadersElected: 0,
    proposed: 0,
    acked: 0,
    proposalsLost: 0,
    readsServed: 0,
    readsRejected: 0,
    snapshotsInstalled: 0,
    confChangesCommitted: 0,
    transfersDone: 0,
    crashes: 0,
    partitions: 0,
    messagesSent: 0,
    messagesDropped: 0,
    messagesDuplicated: 0,
    timeUnits: 0,
    healedAfterUnits: -1,
  };

  // Parameters chosen by the seed.
  readonly params: Record<string, number | string | boolean> = {};
  private readonly faults: NetworkFaults;
  private readonly snapshotEvery: number;
  private readonly keepEntries: number;
  private readonly asyncReadyRate: number;
  private readonly proposeRate: number;
  private readonly readRate: number;
  private readonly maxMsgBytes: number;
  private readonly maxInflightMsgs: number;
  private readonly crashRate: number;
  private readonly partitionRate: number;

  // Checker state.
  private readonly leaderOfTerm = new Map<number, string>();
  /** Hash of the state machine after applying index i, as first seen. */
  private readonly prefixHash: number[] = [];
  /** For each index committed by a leader: that leader's term and the entry's term. */
  private readonly commitTermOf: number[] = [];
  private readonly entryTermAt: number[] = [];
  private highestCommitSeen = 0;
  private readonly acked = new Map<string, number>();
  private readonly confChangeIndexes = new Set<number>();
  private maxAckedIndex = 0;
  private readonly reads = new Map<string, PendingRead>();
  private nextCmd = 1;
  private nextRead = 1;
  private nextMemberId: number;
  private clientLeaderGuess: string | undefined;
  private healed = false;
  private probe: { cmd: string; index: number } | undefined;
  private lastTransferTarget: string | undefined;

  constructor(readonly options: Required<Omit<SimOptions, 'voters'>> & { voters: number }) {
    this.rng = new SeededRng(options.seed);
    this.trace = new Trace(options.traceCapacity);
    this.net = new SimNetwork(this.rng.fork(), options.wire);
    const r = this.rng;
    const maxDelay = r.pick([3, 6, 12, 24, 40]);
    this.faults = {
      dropRate: r.pick([0, 0.01, 0.05, 0.1, 0.2]),
      duplicateRate: r.pick([0, 0.01, 0.05, 0.1]),
      minDelay: 1,
      maxDelay,
    };
    this.snapshotEvery = r.intBetween(4, 40);
    this.keepEntries = r.intBetween(0, 8);
    this.asyncReadyRate = r.pick([0, 0, 0.3, 0.8]);
    this.proposeRate = r.pick([0.01, 0.03, 0.08]);
    this.readRate = r.pick([0.005, 0.02, 0.05]);
    // Small messages and windows make replication go in many small steps.
    this.maxMsgBytes = r.pick([40, 100, 4096]);
    this.maxInflightMsgs = r.pick([1, 4, 64]);
    this.crashRate = r.pick([0, 0.0005, 0.002, 0.006]);
    this.partitionRate = r.pick([0, 0.0005, 0.002]);
    const skewed = r.chance(0.3);
    Object.assign(this.params, {
      voters: options.voters,
      ...this.faults,
      snapshotEvery: this.snapshotEvery,
      keepEntries: this.keepEntries,
      asyncReadyRate: this.asyncReadyRate,
      proposeRate: this.proposeRate,
      readRate: this.readRate,
      maxMsgBytes: this.maxMsgBytes,
      maxInflightMsgs: this.maxInflightMsgs,
      crashRate: this.crashRate,
      partitionRate: this.partitionRate,
      skewedClocks: skewed,
      membershipChanges: options.membershipChanges,
      leaderTransfers: options.leaderTransfers,
      reads: options.reads,
      wire: options.wire,
    });
    this.net.faults = this.faults;

    const founders = Array.from({ length: options.voters }, (_, i) => `m${i + 1}`);
    this.nextMemberId = options.voters + 1;
    const boot = bootstrapEntries(founders);
    for (const id of founders) {
      const m = this.addMember(id, skewed);
      m.disk.append(boot.entries);
      m.disk.setHardState(boot.hardState);
      m.durableHardState = boot.hardState;
      this.start(m);
    }
  }

  private addMember(id: string, skewed: boolean): SimMember {
    const interval = skewed ? this.rng.intBetween(5, 25) : this.rng.intBetween(8, 12);
    const m = new SimMember(id, interval, this.now);
    this.members.set(id, m);
    return m;
  }

  private event(text: string): void {
    this.trace.add(this.now, text);
  }

  // -------------------------------------------------------------------------------------
  // Member lifecycle

  private start(m: SimMember): void {
    const snap = m.disk.snapshot();
    m.sm = stateMachineFromSnapshot(snap);
    if (snap.metadata.index > 0) this.checkPrefix(m, snap.metadata.index, m.sm.hash);
    m.node = new RawNode({
      id: m.id,
      storage: m.disk,
      rng: this.rng.fork(),
      applied: snap.metadata.index,
      electionTicks: this.options.electionTicks,
      heartbeatTicks: this.options.heartbeatTicks,
      maxMsgBytes: this.maxMsgBytes,
      maxInflightMsgs: this.maxInflightMsgs,
      maxApplyBytesPerReady: 1024,
      checkQuorum: true,
      preVote: true,
    });
    m.pending.clear();
    m.inflight = undefined;
    m.crashPhase = undefined;
    m.restartAt = Number.POSITIVE_INFINITY;
    m.nextTickAt = this.now + 1 + this.rng.intBelow(m.tickInterval);
    this.event(`${m.id} start (applied=${snap.metadata.index}, last=${m.disk.lastIndex()})`);
  }

  private crash(m: SimMember, why: string): void {
    m.node = undefined;
    m.inflight = undefined;
    m.crashPhase = undefined;
    m.pending.clear();
    for (const [key, r] of this.reads) if (r.member === m.id) this.reads.delete(key);
    if (this.clientLeaderGuess === m.id) this.clientLeaderGuess = undefined;
    this.stats.crashes++;
    m.restartAt = this.healed ? this.now + 1 : this.now + this.rng.intBetween(20, 800);
    this.event(`${m.id} CRASH (${why}), restart at ${m.restartAt}`);
  }

  // -------------------------------------------------------------------------------------
  // Calls into the core, each followed by the checks that must hold after any transition

  private call<T>(m: SimMember, what: string | (() => string), fn: (node: RawNode) => T): T {
    const node = m.node!;
    let out: T;
    try {
      out = fn(node);
    } catch (err) {
      if (isRaftError(err) && err.reason !== 'invalid-message') throw err;
      const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
      violation(`${m.id}: ${typeof what === 'string' ? what : what()} threw: ${detail}`);
    }
    this.observe(m);
    return out;
  }

  private observe(m: SimMember): void {
    const r = m.node!.raft;
    if (r.role !== 'leader') return;
    const holder = this.leaderOfTerm.get(r.term);
    if (holder === undefined) {
      this.leaderOfTerm.set(r.term, m.id);
      this.stats.leadersElected++;
      this.event(`${m.id} LEADER of term ${r.term} (last=${r.log.lastIndex()})`);
      this.checkLeaderCompleteness(m);
      if (this.lastTransferTarget === m.id) {
        this.stats.transfersDone++;
        this.lastTransferTarget = undefined;
      }
    } else if (holder !== m.id) {
      violation(`election safety: ${holder} and ${m.id} are both leaders of term ${r.term}`);
    }
    const c = r.log.committed;
    if (c > this.highestCommitSeen) {
      for (let i = this.highestCommitSeen + 1; i <= c; i++) {
        this.commitTermOf[i] = r.term;
        this.entryTermAt[i] = r.log.term(i) ?? 0;
      }
      this.highestCommitSeen = c;
    }
  }

  /** Every entry committed in an earlier term is in the new leader's log (§5.4). */
  private checkLeaderCompleteness(m: SimMember): void {
    const r = m.node!.raft;
    const first = r.log.firstIndex();
    for (let i = 1; i <= this.highestCommitSeen; i++) {
      if (this.commitTermOf[i]! >= r.term) continue;
      if (i < first - 1) continue; // compacted: it was applied, the state machine check covers it
      const t = r.log.term(i);
      if (t !== this.entryTermAt[i]) {
        violation(
          `leader completeness: ${m.id} leader of term ${r.term} has term ${t} at index ${i}, ` +
            `committed in term ${this.commitTermOf[i]} with term ${this.entryTermAt[i]}`,
        );
      }
    }
  }

  private checkPrefix(m: SimMember, index: number, hash: number): void {
    const seen = this.prefixHash[index];
    if (seen === undefined) this.prefixHash[index] = hash;
    else if (seen !== hash) {
      violation(
        `state machine safety: ${m.id} state after index ${index} differs from another member's`,
      );
    }
  }

  // -------------------------------------------------------------------------------------
  // The Ready loop

  private takeReady(m: SimMember): void {
    const rd = this.call(m, 'ready', (n) => n.ready());
    if (m.crashPhase === undefined && this.rng.chance(this.asyncReadyRate)) {
      // The disk write takes a while; the node keeps stepping messages and ticks meanwhile.
      m.inflight = { rd, completeAt: this.now + this.rng.intBetween(1, 15) };
      return;
    }
    this.completeReady(m, rd);
  }

  private completeReady(m: SimMember, rd: Ready): void {
    m.inflight = undefined;
    const crashAt = m.crashPhase;
    if (crashAt === 0) return this.crash(m, 'before persisting a Ready');
    // 1. Persist.
    if (rd.snapshot !== undefined) m.disk.applySnapshot(rd.snapshot);
    m.disk.append(rd.entries);
    if (rd.hardState !== undefined) {
      const prev = m.durableHardState;
      const hs = rd.hardState;
      if (hs.term < prev.term)
        violation(`${m.id}: persisted term went back ${prev.term} -> ${hs.term}`);
      if (hs.term === prev.term && prev.vote !== '' && hs.vote !== prev.vote) {
        violation(
          `vote once per term: ${m.id} voted ${prev.vote} then ${hs.vote} in term ${hs.term}`,
        );
      }
      if (hs.commit < prev.commit) violation(`${m.id}: persisted commit went back`);
      m.disk.setHardState(hs);
      m.durableHardState = hs;
    }
    if (crashAt === 1) return this.crash(m, 'after persisting, before sending');
    // 2. Send.
    for (const msg of rd.messages) this.net.send(msg, this.now);
    if (crashAt === 2) return this.crash(m, 'after sending, before applying');
    // 3. Apply.
    if (rd.snapshot !== undefined) this.applySnapshot(m, rd.snapshot);
    for (const e of rd.committedEntries) this.applyEntry(m, e);
    for (const rs of rd.readStates) this.readDone(m, rs.context, rs.index);
    for (const ctx of rd.rejectedReads) {
      if (this.reads.delete(decoder.decode(ctx))) this.stats.readsRejected++;
    }
    if (crashAt === 3) return this.crash(m, 'after applying, before advance');
    // 4. Advance.
    this.call(m, 'advance', (n) => n.advance());
    this.maybeSnapshot(m);
  }

  private applySnapshot(m: SimMember, snap: Snapshot): void {
    m.sm = stateMachineFromSnapshot(snap);
    this.checkPrefix(m, snap.metadata.index, m.sm.hash);
    for (const index of [...m.pending.keys()]) {
      if (index <= snap.metadata.index) m.pending.delete(index); // outcome unknown to this member
    }
    this.stats.snapshotsInstalled++;
    this.event(`${m.id} installed snapshot at ${snap.metadata.index}`);
  }

  private applyEntry(m: SimMember, e: Entry): void {
    const sm = m.sm;
    if (e.index !== sm.appliedIndex + 1) {
      violation(`${m.id} applies index ${e.index} after ${sm.appliedIndex}`);
    }
    sm.hash = mixEntry(sm.hash, e);
    sm.appliedIndex = e.index;
    this.checkPrefix(m, e.index, sm.hash);
    let cmd: string | undefined;
    if (e.type === EntryType.ENTRY_NORMAL && e.data.length > 0) {
      cmd = decoder.decode(e.data);
      if (sm.ids.has(cmd))
        violation(`exactly once: ${m.id} applied ${cmd} twice (again at ${e.index})`);
      sm.ids.add(cmd);
    } else if (e.type === EntryType.ENTRY_CONF_CHANGE) {
      const cc = decodeConfChange(e.data);
      sm.confState = this.call(m, 'applyConfChange', (n) => n.applyConfChange(cc));
      if (!this.confChangeIndexes.has(e.index)) {
        this.confChangeIndexes.add(e.index);
        this.stats.confChangesCommitted++;
      }
      this.event(
        `${m.id} applied conf change at ${e.index}: ${ConfChangeType[cc.type]} ${cc.nodeId} -> ` +
          `voters=${sm.confState.voters.join(',')} learners=${sm.confState.learners.join(',')}`,
      );
    }
    const p = m.pending.get(e.index);
    if (p !== undefined) {
      m.pending.delete(e.index);
      if (cmd === p.cmd && e.term === p.term) {
        this.acked.set(p.cmd, e.index);
        this.maxAckedIndex = Math.max(this.maxAckedIndex, e.index);
        this.stats.acked++;
        if (this.probe !== undefined && this.probe.cmd === p.cmd) this.probe.index = e.index;
      } else {
        this.stats.proposalsLost++;
        this.event(`${m.id} proposal ${p.cmd} at ${e.index} was overwritten`);
      }
    }
  }

  private maybeSnapshot(m: SimMember): void {
    const applied = m.sm.appliedIndex;
    if (applied - m.disk.snapshot().metadata.index < this.snapshotEvery) return;
    m.disk.createSnapshot(applied, m.sm.confState, encodeStateMachine(m.sm));
    const compactTo = applied - this.keepEntries;
    if (compactTo >= m.disk.firstIndex()) m.disk.compact(compactTo);
  }

  private readDone(m: SimMember, ctx: Uint8Array, index: number): void {
    const key = decoder.decode(ctx);
    const r = this.reads.get(key);
    if (r === undefined) return;
    this.reads.delete(key);
    if (r.member !== m.id) violation(`read ${key} issued on ${r.member} completed on ${m.id}`);
    if (index < r.minIndex) {
      violation(
        `linearizable read: ${key} issued at ${r.issuedAt} got read index ${index}, but index ` +
          `${r.minIndex} was acknowledged before it was issued`,
      );
    }
    this.stats.readsServed++;
  }

  // -------------------------------------------------------------------------------------
  // Clients and operators

  private upMembers(): SimMember[] {
    return [...this.members.values()].filter((m) => m.up);
  }

  private leader(): SimMember | undefined {
    let best: SimMember | undefined;
    for (const m of this.members.values()) {
      const r = m.node?.raft;
      if (
        r !== undefined &&
        r.role === 'leader' &&
        (best === undefined || r.term > best.node!.raft.term)
      ) {
        best = m;
      }
    }
    return best;
  }

  private propose(cmd: string): void {
    const up = this.upMembers();
    if (up.length === 0) return;
    const guess =
      this.clientLeaderGuess === undefined ? undefined : this.members.get(this.clientLeaderGuess);
    const m = guess !== undefined && guess.up ? guess : this.rng.pick(up);
    try {
      const { index, term } = this.call(m, 'propose', (n) => n.propose(encoder.encode(cmd)));
      m.pending.set(index, { cmd, term });
      this.stats.proposed++;
      this.event(`${m.id} accepted ${cmd} at ${index}/t${term}`);
    } catch (err) {
      if (!isRaftError(err)) throw err;
      const leaderId = err.details?.['leaderId'];
      this.clientLeaderGuess = typeof leaderId === 'string' ? leaderId : undefined;
    }
  }

  private read(): void {
    const up = this.upMembers();
    if (up.length === 0) return;
    // Half the reads go to a member that believes it leads: possibly a deposed leader that
    // has not noticed yet, the case ReadIndex must get right.
    const leaders = up.filter((m) => m.node!.raft.role === 'leader');
    const m =
      leaders.length > 0 && this.rng.chance(0.5) ? this.rng.pick(leaders) : this.rng.pick(up);
    const key = `r${this.nextRead++}`;
    try {
      this.call(m, 'readIndex', (n) => n.readIndex(encoder.encode(key)));
      this.reads.set(key, { member: m.id, issuedAt: this.now, minIndex: this.maxAckedIndex });
    } catch (err) {
      if (!isRaftError(err)) throw err;
    }
  }

  private changeMembership(): void {
    const l = this.leader();
    if (l === undefined) return;
    const conf = l.node!.raft.tracker.confState();
    const choices: { type: ConfChangeType; nodeId: string }[] = [];
    const members = conf.voters.length + conf.learners.length;
    if (members < 7) {
      const fresh = `m${this.nextMemberId}`;
      choices.push({ type: ConfChangeType.CONF_ADD_LEARNER, nodeId: fresh });
      choices.push({ type: ConfChangeType.CONF_ADD_VOTER, nodeId: fresh });
    }
    for (const id of conf.learners)
      choices.push({ type: ConfChangeType.CONF_ADD_VOTER, nodeId: id });
    for (const id of conf.learners)
      choices.push({ type: ConfChangeType.CONF_REMOVE_NODE, nodeId: id });
    if (conf.voters.length > 2) {
      for (const id of conf.voters)
        choices.push({ type: ConfChangeType.CONF_REMOVE_NODE, nodeId: id });
    }
    if (choices.length === 0) return;
    const cc = this.rng.pick(choices);
    if (!this.members.has(cc.nodeId)) {
      // A new member starts with an empty log and learns everything from the leader.
      this.nextMemberId++;
      const fresh = this.addMember(cc.nodeId, this.params['skewedClocks'] === true);
      this.start(fresh);
    }
    try {
      const { index } = this.call(l, 'proposeConfChange', (n) => n.proposeConfChange(cc));
      this.event(`${l.id} proposed ${ConfChangeType[cc.type]} ${cc.nodeId} at ${index}`);
    } catch (err) {
      if (!isRaftError(err)) throw err;
      this.event(`${l.id} refused ${ConfChangeType[cc.type]} ${cc.nodeId}: ${err.reason}`);
    }
  }

  private transfer(): void {
    const l = this.leader();
    if (l === undefined) return;
    const others = l.node!.raft.tracker.voters.filter((id) => id !== l.id);
    if (others.length === 0) return;
    const to = this.rng.pick(others);
    try {
      this.call(l, 'transferLeadership', (n) => n.transferLeadership(to));
      this.lastTransferTarget = to;
      this.event(`${l.id} transfers leadership to ${to}`);
    } catch (err) {
      if (!isRaftError(err)) throw err;
    }
  }

  private partition(): void {
    const ids = [...this.members.keys()];
    const kind = this.rng.intBelow(3);
    if (kind === 0) {
      const l = this.leader();
      const lone = l !== undefined && this.rng.chance(0.5) ? l.id : this.rng.pick(ids);
      this.net.partition(
        [lone],
        ids.filter((id) => id !== lone),
      );
      this.event(`partition: ${lone} isolated`);
    } else if (kind === 1) {
      const a = ids.filter(() => this.rng.chance(0.5));
      const b = ids.filter((id) => !a.includes(id));
      this.net.partition(a, b);
      this.event(`partition: [${a.join(',')}] | [${b.join(',')}]`);
    } else {
      // Asymmetric: some directed links only.
      const n = this.rng.intBetween(1, ids.length);
      const cuts: string[] = [];
      for (let i = 0; i < n; i++) {
        const from = this.rng.pick(ids);
        const to = this.rng.pick(ids);
        if (from === to) continue;
        this.net.cutLink(from, to);
        cuts.push(`${from}->${to}`);
      }
      this.event(`partition: one-way cuts ${cuts.join(' ')}`);
    }
    this.stats.partitions++;
  }

  // -------------------------------------------------------------------------------------
  // The loop

  private faultActions(): void {
    if (this.rng.chance(this.crashRate)) {
      const up = this.upMembers();
      if (up.length > 0) {
        // Leaders are the interesting victims: half the crashes aim at one.
        const l = this.leader();
        const m = l !== undefined && this.rng.chance(0.5) ? l : this.rng.pick(up);
        if (this.rng.chance(0.5)) this.crash(m, 'between Readies');
        else m.crashPhase = this.rng.intBelow(4); // during its next Ready
      }
    }
    if (this.rng.chance(this.partitionRate)) this.partition();
    if (this.net.cutCount() > 0 && this.rng.chance(0.003)) {
      this.net.healAll();
      this.event('partitions healed');
    }
    if (this.options.membershipChanges && this.rng.chance(0.002)) this.changeMembership();
    if (this.options.leaderTransfers && this.rng.chance(0.001)) this.transfer();
  }

  private step(): void {
    const now = this.now;
    if (!this.healed) this.faultActions();
    if (this.rng.chance(this.proposeRate)) this.propose(`c${this.nextCmd++}`);
    if (this.options.reads && this.rng.chance(this.readRate)) this.read();

    for (const m of this.members.values()) {
      if (!m.up && m.restartAt <= now) this.start(m);
    }
    for (const msg of this.net.deliver(now)) {
      const m = this.members.get(msg.to!);
      if (m === undefined || !m.up) continue;
      this.trace.add(now, msg);
      this.call(
        m,
        () => `step(${describeMessage(msg)})`,
        (n) => n.step(msg),
      );
    }
    for (const m of this.members.values()) {
      if (m.up && m.nextTickAt <= now) {
        m.nextTickAt = now + m.tickInterval;
        this.call(m, 'tick', (n) => n.tick());
      }
    }
    for (const m of this.members.values()) {
      if (m.inflight !== undefined && m.inflight.completeAt <= now) {
        this.completeReady(m, m.inflight.rd);
      }
      for (let round = 0; round < 100 && m.up && m.inflight === undefined; round++) {
        if (!m.node!.hasReady()) break;
        this.takeReady(m);
      }
    }
  }

  private heal(): void {
    this.healed = true;
    this.net.healAll();
    this.net.faults = NO_FAULTS;
    for (const m of this.members.values()) {
      m.crashPhase = undefined;
      if (!m.up) m.restartAt = this.now;
    }
    this.event('HEAL: no more faults');
  }

  /** After healing: a leader commits a new command and every member in its config applies it. */
  private livenessReached(): boolean {
    const l = this.leader();
    if (l === undefined) return false;
    if (this.probe === undefined || (this.probe.index === 0 && !this.probePending(l))) {
      const cmd = `probe${this.nextCmd++}`;
      try {
        const { index, term } = this.call(l, 'propose', (n) => n.propose(encoder.encode(cmd)));
        l.pending.set(index, { cmd, term });
        this.probe = { cmd, index: 0 };
      } catch (err) {
        if (!isRaftError(err)) throw err;
      }
      return false;
    }
    if (this.probe.index === 0) return false;
    const conf = l.sm.confState;
    for (const id of [...conf.voters, ...conf.learners]) {
      const m = this.members.get(id);
      if (m === undefined || !m.up || m.sm.appliedIndex < this.probe.index) return false;
    }
    return true;
  }

  private probePending(l: SimMember): boolean {
    for (const p of l.pending.values()) if (p.cmd === this.probe!.cmd) return true;
    return false;
  }

  run(): void {
    const faultEnd = this.options.faultUnits;
    for (; this.now < faultEnd; this.now++) this.step();
    this.heal();
    const healStart = this.now;
    const deadline = healStart + this.options.healUnits;
    for (; ; this.now++) {
      this.step();
      if (this.livenessReached()) break;
      if (this.now >= deadline) {
        const l = this.leader();
        violation(
          `liveness: ${this.options.healUnits} units after healing, ` +
            (l === undefined
              ? 'there is no leader'
              : `leader ${l.id} (term ${l.node!.raft.term}) has not committed and spread a new entry`),
        );
      }
    }
    this.stats.healedAfterUnits = this.now - healStart;
    this.finalChecks();
  }

  private finalChecks(): void {
    // Log matching (§5.3): if two logs hold an entry with the same index and term, they are
    // identical up to it. Checked on every pair of durable logs, crashed and removed members too.
    const logs = [...this.members.values()].map((m) => ({ id: m.id, disk: m.disk }));
    for (let a = 0; a < logs.length; a++) {
      for (let b = a + 1; b < logs.length; b++) {
        const x = logs[a]!;
        const y = logs[b]!;
        const lo = Math.max(x.disk.firstIndex(), y.disk.firstIndex());
        const hi = Math.min(x.disk.lastIndex(), y.disk.lastIndex());
        if (lo > hi) continue;
        const xe = x.disk.entries(lo, hi + 1, Number.MAX_SAFE_INTEGER);
        const ye = y.disk.entries(lo, hi + 1, Number.MAX_SAFE_INTEGER);
        let agree = -1;
        for (let i = xe.length - 1; i >= 0; i--) {
          if (xe[i]!.term === ye[i]!.term) {
            agree = i;
            break;
          }
        }
        for (let i = 0; i <= agree; i++) {
          const e1 = xe[i]!;
          const e2 = ye[i]!;
          if (e1.term !== e2.term || mixEntry(0, e1) !== mixEntry(0, e2)) {
            violation(
              `log matching: ${x.id} and ${y.id} agree at index ${lo + agree} but differ at ${e1.index}`,
            );
          }
        }
      }
    }
    // Every acknowledged command is applied, once, on every member that applied that far.
    for (const m of this.members.values()) {
      if (!m.up) continue;
      for (const [cmd, index] of this.acked) {
        if (index <= m.sm.appliedIndex && !m.sm.ids.has(cmd)) {
          violation(
            `acknowledged ${cmd} (index ${index}) is missing on ${m.id} (applied ${m.sm.appliedIndex})`,
          );
        }
      }
    }
  }
}

/** Runs one seed. Never throws: a violated property comes back as ok=false with a trace. */
export function runSimulation(options: SimOptions): SimResult {
  const seedRng = new SeededRng(options.seed ^ 0x5eed);
  const full = {
    seed: options.seed,
    voters: options.voters ?? (seedRng.chance(0.5) ? 3 : 5),
    faultUnits: options.faultUnits ?? 1200,
    healUnits: options.healUnits ?? 6000,
    membershipChanges: options.membershipChanges ?? seedRng.chance(0.4),
    leaderTransfers: options.leaderTransfers ?? seedRng.chance(0.4),
    reads: options.reads ?? true,
    wire: options.wire ?? true,
    traceCapacity: options.traceCapacity ?? 200,
    electionTicks: options.electionTicks ?? 10,
    heartbeatTicks: options.heartbeatTicks ?? 1,
  };
  let sim: Simulation | undefined;
  let failure: string | undefined;
  try {
    sim = new Simulation(full);
    sim.run();
  } catch (err) {
    failure =
      err instanceof SimViolation
        ? err.message
        : err instanceof Error
          ? (err.stack ?? err.message)
          : String(err);
  }
  const stats = sim?.stats;
  if (sim !== undefined && stats !== undefined) {
    stats.timeUnits = sim.now;
    stats.messagesSent = sim.net.sent;
    stats.messagesDropped = sim.net.dropped;
    stats.messagesDuplicated = sim.net.duplicated;
  }
  const params = sim === undefined ? '' : JSON.stringify(sim.params);
  const base = {
    seed: options.seed,
    ok: failure === undefined,
    // Formatting the trace costs; only a failure needs it.
    trace:
      failure !== undefined || options.traceCapacity !== undefined
        ? (sim?.trace.lines() ?? [])
        : [],
    stats: stats ?? ({} as SimStats),
    params,
  };
  return failure === undefined ? base : { ...base, failure };
}
