// A synchronous, deterministic harness for scenario tests (like etcd's raft_test.go network):
// messages go into one FIFO queue and are delivered in order until the cluster is quiet; links
// can be cut in either direction; members can crash and restart from their storage.
import {
  ConfChangeType,
  EntryType,
  MemoryStorage,
  RawNode,
  SeededRng,
  bootstrapEntries,
  decodeConfChange,
  type ConfState,
  type Entry,
  type Message,
  type RaftConfig,
  type ReadState,
  type Status,
} from '../src/index.js';

export type MemberOptions = Partial<Omit<RaftConfig, 'id' | 'storage' | 'rng'>>;

export class TestMember {
  node: RawNode;
  readonly applied: Entry[] = [];
  readonly readStates: ReadState[] = [];
  readonly rejectedReads: Uint8Array[] = [];
  confState: ConfState = { voters: [], learners: [] };
  up = true;

  constructor(
    readonly id: string,
    readonly storage: MemoryStorage,
    private readonly options: MemberOptions,
    private readonly seed: number,
  ) {
    this.node = this.start();
  }

  start(): RawNode {
    this.node = new RawNode({
      id: this.id,
      storage: this.storage,
      rng: new SeededRng(this.seed),
      ...this.options,
    });
    this.confState = this.storage.initialState().confState;
    return this.node;
  }

  status(): Status {
    return this.node.status();
  }

  appliedData(): string[] {
    return this.applied
      .filter((e) => e.type === EntryType.ENTRY_NORMAL && e.data.length > 0)
      .map((e) => new TextDecoder().decode(e.data));
  }
}

export class TestNetwork {
  readonly members = new Map<string, TestMember>();
  queue: Message[] = [];
  /** Directed links that lose every message ("a->b"). */
  readonly cut = new Set<string>();
  /** Return true to lose a message in flight (in addition to cut links). */
  lose: (m: Message) => boolean = () => false;
  /** Every message delivered, for assertions on traffic. */
  delivered: Message[] = [];
  private seed = 1;

  constructor(
    voters: string[],
    readonly options: MemberOptions = {},
  ) {
    const { entries, hardState } = bootstrapEntries(voters);
    for (const id of voters) {
      const storage = new MemoryStorage();
      storage.append(entries);
      storage.setHardState(hardState);
      this.addMember(id, storage);
    }
    this.settle();
  }

  private addMember(id: string, storage: MemoryStorage, options?: MemberOptions): TestMember {
    const m = new TestMember(id, storage, { ...this.options, ...options }, this.seed++);
    this.members.set(id, m);
    return m;
  }

  /** Starts a member with an empty log (it learns everything from the leader). */
  addEmpty(id: string, options?: MemberOptions): TestMember {
    return this.addMember(id, new MemoryStorage(), options);
  }

  get(id: string): TestMember {
    const m = this.members.get(id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  node(id: string): RawNode {
    return this.get(id).node;
  }

  /** Runs one member's Ready loop: persist, send, apply, advance. */
  handleReady(id: string): void {
    const m = this.get(id);
    for (let round = 0; round < 1000 && m.up && m.node.hasReady(); round++) {
      const rd = m.node.ready();
      if (rd.snapshot !== undefined) m.storage.applySnapshot(rd.snapshot);
      m.storage.append(rd.entries);
      if (rd.hardState !== undefined) m.storage.setHardState(rd.hardState);
      this.queue.push(...rd.messages);
      if (rd.snapshot !== undefined) m.confState = rd.snapshot.metadata.confState;
      for (const e of rd.committedEntries) {
        m.applied.push(e);
        if (e.type === EntryType.ENTRY_CONF_CHANGE) {
          m.confState = m.node.applyConfChange(decodeConfChange(e.data));
        }
      }
      m.readStates.push(...rd.readStates);
      m.rejectedReads.push(...rd.rejectedReads);
      m.node.advance();
    }
  }

  handleAllReadies(): void {
    for (const id of this.members.keys()) this.handleReady(id);
  }

  /** Delivers queued messages (and what they cause) until none is left. Returns how many. */
  settle(maxMessages = 100_000): number {
    this.handleAllReadies();
    let n = 0;
    while (this.queue.length > 0) {
      if (++n > maxMessages) throw new Error('the cluster did not quiesce');
      const msg = this.queue.shift()!;
      const target = this.members.get(msg.to!);
      if (target === undefined || !target.up || this.cut.has(`${msg.from}->${msg.to}`)) continue;
      if (this.lose(msg)) continue;
      this.delivered.push(msg);
      target.node.step(msg);
      this.handleReady(target.id);
    }
    return n;
  }

  /** Drops queued messages without delivering them. */
  dropQueued(filter: (m: Message) => boolean = () => true): Message[] {
    const dropped = this.queue.filter(filter);
    this.queue = this.queue.filter((m) => !filter(m));
    return dropped;
  }

  tick(id: string, n = 1): void {
    for (let i = 0; i < n; i++) {
      this.get(id).node.tick();
      this.handleReady(id);
    }
  }

  /** Ticks every live member n times, settling the network after each round. */
  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const m of this.members.values()) if (m.up) m.node.tick();
      this.settle();
    }
  }

  campaign(id: string): void {
    this.node(id).campaign();
    this.settle();
  }

  isolate(id: string): void {
    for (const other of this.members.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}->${other}`);
      this.cut.add(`${other}->${id}`);
    }
  }

  heal(): void {
    this.cut.clear();
  }

  crash(id: string): void {
    this.get(id).up = false;
  }

  /** Restarts from what was persisted (storage); volatile state, applied entries included, is lost. */
  restart(id: string): void {
    const m = this.get(id);
    m.applied.length = 0;
    m.up = true;
    m.start();
    this.handleReady(id);
  }

  propose(id: string, data: string): { index: number; term: number } {
    const r = this.node(id).propose(new TextEncoder().encode(data));
    this.settle();
    return r;
  }

  leaders(): string[] {
    return [...this.members.values()]
      .filter((m) => m.up && m.node.status().role === 'leader')
      .map((m) => m.id);
  }

  addVoter(leader: string, id: string): void {
    this.node(leader).proposeConfChange({ type: ConfChangeType.CONF_ADD_VOTER, nodeId: id });
    this.settle();
  }
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Builds a raw message to step into a member, as a peer would send it. */
export function msg(from: string, to: string, term: number, body: Partial<Message>): Message {
  return { clusterId: '', from, to, term, ...body };
}

export function entry(index: number, term: number, data = ''): Entry {
  return { index, term, type: EntryType.ENTRY_NORMAL, data: enc(data) };
}

/**
 * One member driven by hand: messages are stepped in directly and the Ready loop is run by
 * drain(), which returns what the member sent (the style of etcd's raft_paper_test.go).
 */
export class Solo {
  readonly storage = new MemoryStorage();
  readonly node: RawNode;
  readonly applied: Entry[] = [];
  readonly readies: import('../src/index.js').Ready[] = [];

  constructor(
    readonly id: string,
    voters: string[],
    options: MemberOptions = {},
    /** Extra log entries after the bootstrap ones (they must start at voters.length + 1). */
    log: Entry[] = [],
    seed = 7,
  ) {
    const boot = bootstrapEntries(voters);
    this.storage.append(boot.entries);
    this.storage.append(log);
    const last = log.length > 0 ? log[log.length - 1]!.term : 1;
    this.storage.setHardState({ term: last, vote: '', commit: boot.hardState.commit });
    this.node = new RawNode({ id, storage: this.storage, rng: new SeededRng(seed), ...options });
    this.drain();
  }

  get raft(): import('../src/index.js').Raft {
    return this.node.raft;
  }

  /** Runs the Ready loop to completion and returns the messages sent. */
  drain(): Message[] {
    const out: Message[] = [];
    for (let i = 0; i < 100 && this.node.hasReady(); i++) {
      const rd = this.node.ready();
      this.readies.push(rd);
      if (rd.snapshot !== undefined) this.storage.applySnapshot(rd.snapshot);
      this.storage.append(rd.entries);
      if (rd.hardState !== undefined) this.storage.setHardState(rd.hardState);
      out.push(...rd.messages);
      for (const e of rd.committedEntries) {
        this.applied.push(e);
        if (e.type === EntryType.ENTRY_CONF_CHANGE) {
          this.node.applyConfChange(decodeConfChange(e.data));
        }
      }
      this.node.advance();
    }
    return out;
  }

  step(m: Message): Message[] {
    this.node.step(m);
    return this.drain();
  }

  tick(n = 1): Message[] {
    const out: Message[] = [];
    for (let i = 0; i < n; i++) {
      this.node.tick();
      out.push(...this.drain());
    }
    return out;
  }
}

/** The name of a message's body, for compact assertions. */
export function kind(m: Message): string {
  for (const k of [
    'requestVote',
    'requestVoteResponse',
    'appendEntries',
    'appendEntriesResponse',
    'heartbeat',
    'heartbeatResponse',
    'installSnapshot',
    'installSnapshotResponse',
    'timeoutNow',
    'readIndex',
    'readIndexResponse',
  ] as const) {
    if (m[k] !== undefined && m[k] !== null) return k;
  }
  return 'none';
}
