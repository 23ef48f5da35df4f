import { randomBytes, randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { BallastError, assert, type Logger } from '@ballast/common';
import {
  ConfChangeType,
  EntryType,
  RaftError,
  RawNode,
  SeededRng,
  contextKey,
  decodeConfChange,
  isRaftError,
  type ConfState,
  type Entry,
  type Message,
  type RaftConfig,
  type Ready,
  type Role,
  type Snapshot,
} from '@ballast/raft';
import type { Registry } from 'prom-client';
import { DiskStorage, type PersistStats } from './disk-storage.js';
import {
  decodeAddress,
  encodeAddress,
  isMemberId,
  isPeerUrl,
  unwrapSnapshot,
  wrapSnapshot,
  type PeerAddress,
} from './envelope.js';
import { memberError, notLeaderError, type LeaderHint } from './errors.js';
import { RaftMetrics } from './metrics.js';
import { RaftTransport, type TransportHandler, type TransportOptions } from './transport.js';

/** A committed command handed to the state machine. */
export interface CommittedEntry {
  readonly index: number;
  readonly term: number;
  readonly data: Uint8Array;
}

/**
 * The replicated application. `apply` must be deterministic (a function of the state and the
 * entry only) and must not throw for a bad command: refusals are results. A throw is treated as
 * a bug and stops the member. `snapshot` returns the state as of the last applied entry;
 * `restore` replaces the state by a snapshot's (taken at `index`).
 */
export interface StateMachine<R = unknown> {
  apply(entry: CommittedEntry): R;
  snapshot(): Uint8Array;
  restore(data: Uint8Array, at: { index: number; term: number }): void;
}

export interface RaftMemberOptions<R> {
  clusterId: string;
  memberId: string;
  /** LevelDB directory of this member's log. */
  dataDir: string;
  /** Shared secret of the cluster (>= 16 characters); see the README's transport section. */
  secret: string;
  /**
   * Addresses of known members, this one included (its apiUrl is the hint given for it).
   * Members added later through the log need not be listed: their addresses travel in the conf
   * change and in snapshots. Listed addresses win over learned ones.
   */
  peers: Record<string, PeerAddress>;
  /**
   * Founding voters, the same list on every founding member; used only when the data dir is
   * new. Leave it out on a member that joins a running cluster (it starts empty).
   */
  initialVoters?: readonly string[];
  stateMachine: StateMachine<R>;
  logger: Logger;
  /** prom-client registry for the ballast_raft_* metrics (default: a private one). */
  metricsRegistry?: Registry;
  /** One Raft tick. Elections start after electionTicks..2*electionTicks ticks of silence. */
  tickMs?: number;
  electionTicks?: number;
  heartbeatTicks?: number;
  /** A proposal not applied within this time rejects with 'timeout' (outcome unknown). */
  proposalTimeoutMs?: number;
  /** A read barrier not confirmed within this time rejects with 'read-timeout'. */
  readTimeoutMs?: number;
  /** A ReadIndex request with no answer after this long is asked again (messages get lost). */
  readRetryMs?: number;
  maxPendingProposals?: number;
  maxPendingReads?: number;
  /** Largest command accepted by propose(). */
  maxEntryBytes?: number;
  /** Take a snapshot after this many applied entries (0: never). */
  snapshotEveryEntries?: number;
  /** Entries kept in the log behind a snapshot, so that slow followers catch up from the log. */
  keepEntriesAfterSnapshot?: number;
  /**
   * The leader sends its appends while its own batch is being written (default true; see
   * handleReady). false: strictly persist, then send, on every member.
   */
  leaderSendsBeforePersist?: boolean;
  /** Passed to the Raft core (flow control and limits). */
  raft?: Pick<
    RaftConfig,
    | 'maxMsgBytes'
    | 'maxInflightMsgs'
    | 'maxInflightBytes'
    | 'maxApplyBytesPerReady'
    | 'maxUncommittedBytes'
    | 'maxPendingReads'
    | 'checkQuorum'
    | 'preVote'
    | 'snapshotTimeoutTicks'
  >;
  transport?: Omit<TransportOptions, 'clusterId' | 'memberId' | 'secret' | 'logger' | 'metrics'>;
}

/** 'non-member': not in the configuration (not added yet, or removed). */
export type MemberRole = Role | 'learner' | 'non-member';

export interface MemberInfo {
  id: string;
  suffrage: 'voter' | 'learner';
  isLeader: boolean;
  peerUrl: string;
  apiUrl: string;
  /** Leader only: highest index known to be replicated on this member. */
  match?: number;
  /** Leader only: heard from recently. */
  active?: boolean;
}

export interface MemberStatus {
  id: string;
  clusterId: string;
  role: MemberRole;
  leader: LeaderHint | null;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  firstIndex: number;
  lastIndex: number;
  snapshotIndex: number;
  members: MemberInfo[];
  pendingProposals: number;
  peers: ReturnType<RaftTransport['peerStats']>;
}

export interface AppliedEvent<R> {
  index: number;
  term: number;
  kind: 'command' | 'conf-change' | 'empty';
  /** The state machine's result for a command; the new configuration for a conf change. */
  result: R | ConfState | undefined;
}

export interface LeaderEvent {
  leader: LeaderHint | null;
  role: MemberRole;
  term: number;
}

interface PendingProposal {
  term: number;
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

interface ReadWaiter {
  resolve(): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  settled: boolean;
}

interface ReadRequestInFlight {
  key: string;
  waiters: ReadWaiter[];
  retryTimer: NodeJS.Timeout;
}

interface TransferWaiter {
  to: string;
  resolve(): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

const MAX_TRANSFER_WAITERS = 16;

function positive(name: string, v: number, allowZero = false): number {
  if (!Number.isSafeInteger(v) || v < (allowZero ? 0 : 1)) {
    throw new BallastError(
      'CONFIG',
      `${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${v}`,
    );
  }
  return v;
}

/**
 * A running Raft member: the pure core (RawNode) plus the disk (DiskStorage), the network
 * (RaftTransport) and the clock. It owns the Ready loop:
 *
 *   persist (one atomic LevelDB batch, fsync) -> send -> apply -> advance
 *
 * and turns proposals, reads and membership changes into promises. Events: 'applied'
 * (AppliedEvent), 'leader' (LeaderEvent), 'membership' (ConfState), 'snapshot-restored'
 * ({ index, term }), 'fatal' (Error; the member has stopped).
 */
export class RaftMember<R = unknown> extends EventEmitter {
  readonly id: string;
  readonly clusterId: string;
  readonly transport: RaftTransport;
  readonly metrics: RaftMetrics;
  private readonly storage: DiskStorage;
  private readonly node: RawNode;
  private readonly sm: StateMachine<R>;
  private readonly log: Logger;
  private readonly tickMs: number;
  private readonly electionTicks: number;
  private readonly proposalTimeoutMs: number;
  private readonly readTimeoutMs: number;
  private readonly readRetryMs: number;
  private readonly maxPendingProposals: number;
  private readonly maxPendingReads: number;
  private readonly maxEntryBytes: number;
  private readonly snapshotEveryEntries: number;
  private readonly keepEntriesAfterSnapshot: number;
  private readonly configuredAddresses: Map<string, PeerAddress>;
  private readonly sendBeforePersist: boolean;
  /** Addresses from conf change contexts and snapshots (persisted in snapshots). */
  private learnedAddresses = new Map<string, PeerAddress>();
  private confState: ConfState;
  private appliedIndex: number;
  private snapshotIndex: number;
  private leaderId: string | null = null;
  private leaderSince: number | null = null;
  private role: Role = 'follower';
  private readonly pending = new Map<number, PendingProposal>();
  private readBatch: ReadWaiter[] = [];
  private readInFlight: ReadRequestInFlight | undefined;
  private readonly readsAwaitingApply: Array<{ index: number; waiters: ReadWaiter[] }> = [];
  private readWaiterCount = 0;
  private readCounter = 0;
  private readonly readPrefix = randomBytes(8);
  private readonly transfers = new Set<TransferWaiter>();
  private ticker: NodeJS.Timeout | undefined;
  private drainScheduled = false;
  private draining = false;
  private loopIdle: Promise<void> = Promise.resolve();
  private markLoopIdle: () => void = () => undefined;
  private stopped = false;
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    options: RaftMemberOptions<R>,
    storage: DiskStorage,
    metrics: RaftMetrics,
    transport: RaftTransport,
  ) {
    super();
    this.id = options.memberId;
    this.clusterId = options.clusterId;
    this.storage = storage;
    this.metrics = metrics;
    this.transport = transport;
    this.sm = options.stateMachine;
    this.log = options.logger;
    this.tickMs = positive('tickMs', options.tickMs ?? 100);
    this.electionTicks = positive('electionTicks', options.electionTicks ?? 10);
    this.proposalTimeoutMs = positive('proposalTimeoutMs', options.proposalTimeoutMs ?? 10_000);
    this.readTimeoutMs = positive('readTimeoutMs', options.readTimeoutMs ?? 5_000);
    this.readRetryMs = positive(
      'readRetryMs',
      options.readRetryMs ?? this.tickMs * this.electionTicks,
    );
    this.maxPendingProposals = positive(
      'maxPendingProposals',
      options.maxPendingProposals ?? 10_000,
    );
    this.maxPendingReads = positive('maxPendingReads', options.maxPendingReads ?? 10_000);
    this.maxEntryBytes = positive('maxEntryBytes', options.maxEntryBytes ?? 1024 * 1024);
    this.snapshotEveryEntries = positive(
      'snapshotEveryEntries',
      options.snapshotEveryEntries ?? 10_000,
      true,
    );
    this.keepEntriesAfterSnapshot = positive(
      'keepEntriesAfterSnapshot',
      options.keepEntriesAfterSnapshot ?? 5_000,
      true,
    );
    this.configuredAddresses = new Map(Object.entries(options.peers));
    this.sendBeforePersist = options.leaderSendsBeforePersist ?? true;

    // The application state comes back from the latest snapshot; the core hands out the
    // committed entries after it again.
    const snap = storage.memory.snapshot();
    this.confState = storage.memory.initialState().confState;
    this.snapshotIndex = snap.metadata.index;
    this.appliedIndex = snap.metadata.index;
    if (snap.metadata.index > 0) this.restoreFrom(snap);

    this.node = new RawNode({
      ...options.raft,
      id: this.id,
      clusterId: this.clusterId,
      storage: storage.memory,
      rng: new SeededRng(randomInt(0, 2 ** 32)),
      electionTicks: this.electionTicks,
      heartbeatTicks: options.heartbeatTicks ?? 1,
      applied: this.appliedIndex,
    });
    this.syncPeers();
  }

  /** Opens the data dir (refusing another cluster's or member's), recovers, and starts. */
  static async open<R>(options: RaftMemberOptions<R>): Promise<RaftMember<R>> {
    if (!isMemberId(options.memberId)) {
      throw new BallastError('CONFIG', `invalid member id ${JSON.stringify(options.memberId)}`);
    }
    for (const [id, a] of Object.entries(options.peers)) {
      if (!isMemberId(id) || !isPeerUrl(a.peerUrl)) {
        throw new BallastError(
          'CONFIG',
          `invalid peer ${id}: ${a.peerUrl} (want ws://host:port/path)`,
        );
      }
    }
    const metrics = new RaftMetrics(options.metricsRegistry);
    const transport = new RaftTransport({
      ...options.transport,
      clusterId: options.clusterId,
      memberId: options.memberId,
      secret: options.secret,
      logger: options.logger,
      metrics,
    });
    let storage: DiskStorage;
    try {
      storage = await DiskStorage.open({
        dir: options.dataDir,
        clusterId: options.clusterId,
        memberId: options.memberId,
        ...(options.initialVoters !== undefined ? { bootstrapVoters: options.initialVoters } : {}),
      });
    } catch (err) {
      await transport.close();
      throw err;
    }
    let member: RaftMember<R>;
    try {
      member = new RaftMember(options, storage, metrics, transport);
    } catch (err) {
      await transport.close();
      await storage.close();
      throw err;
    }
    member.start(storage.created);
    return member;
  }

  private start(created: boolean): void {
    this.transport.setHandler(this.transportHandler);
    // Gauges are read when scraped, not updated on every Ready.
    this.metrics.setStateSource(() => ({
      term: this.node.raft.term,
      isLeader: this.role === 'leader',
      commitIndex: this.node.raft.log.committed,
      appliedIndex: this.appliedIndex,
    }));
    const st = this.node.status();
    this.log.info(
      {
        term: st.term,
        commit: st.commit,
        applied: this.appliedIndex,
        lastIndex: st.lastIndex,
        voters: st.config.voters,
        learners: st.config.learners,
        created,
      },
      'raft member started',
    );
    this.ticker = setInterval(() => {
      if (this.stopped) return;
      this.node.tick();
      this.scheduleDrain();
    }, this.tickMs);
    this.scheduleDrain();
  }

  // ---------------------------------------------------------------------------------------
  // Public API

  /**
   * Puts one command through the log and resolves with the state machine's result once the
   * entry is applied here. Only the leader takes proposals: elsewhere this rejects with
   * reason 'not-leader' and `details.leader` ({ id, api } or null). Rejections with
   * 'proposal-dropped' mean the command was not applied and never will be; 'timeout',
   * 'stopped' and 'outcome-unknown' mean it may or may not have been.
   */
  propose(data: Uint8Array, options: { timeoutMs?: number } = {}): Promise<R> {
    if (!(data instanceof Uint8Array) || data.length === 0) {
      // An empty entry is what a new leader appends; a command must not look like one.
      return Promise.reject(
        new BallastError('INVALID_ARGUMENT', 'a command must be non-empty bytes'),
      );
    }
    return this.proposeEntry(
      (node) => node.propose(data),
      options.timeoutMs,
      data.length,
    ) as Promise<R>;
  }

  /**
   * Resolves once this member has applied everything committed before the call (ReadIndex: the
   * leader confirms its leadership with a heartbeat round; followers ask the leader). Reads
   * of the state machine after that are linearizable.
   */
  readBarrier(options: { timeoutMs?: number } = {}): Promise<void> {
    const err = this.unavailable();
    if (err !== undefined) return Promise.reject(err);
    if (this.readWaiterCount >= this.maxPendingReads) {
      this.metrics.readsFailed.inc({ reason: 'busy' });
      return Promise.reject(memberError('busy', 'too many reads waiting; retry later'));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: ReadWaiter = {
        resolve,
        reject,
        settled: false,
        timer: setTimeout(() => {
          this.failRead(
            waiter,
            memberError('read-timeout', 'linearizable read not confirmed in time', {
              leader: this.leaderHint(),
            }),
            'timeout',
          );
        }, options.timeoutMs ?? this.readTimeoutMs),
      };
      this.readWaiterCount++;
      this.readBatch.push(waiter);
      this.kickRead();
    });
  }

  addLearner(
    id: string,
    address: PeerAddress,
    options: { timeoutMs?: number } = {},
  ): Promise<ConfState> {
    return this.changeMembership(ConfChangeType.CONF_ADD_LEARNER, id, address, options.timeoutMs);
  }

  addVoter(
    id: string,
    address: PeerAddress,
    options: { timeoutMs?: number } = {},
  ): Promise<ConfState> {
    return this.changeMembership(ConfChangeType.CONF_ADD_VOTER, id, address, options.timeoutMs);
  }

  /** Makes a learner a voter (its address is already known from when it was added). */
  promote(id: string, options: { timeoutMs?: number } = {}): Promise<ConfState> {
    const address = this.addressOf(id);
    if (address === undefined) {
      return Promise.reject(new BallastError('NOT_FOUND', `no address known for member ${id}`));
    }
    return this.changeMembership(ConfChangeType.CONF_ADD_VOTER, id, address, options.timeoutMs);
  }

  removeMember(id: string, options: { timeoutMs?: number } = {}): Promise<ConfState> {
    return this.changeMembership(ConfChangeType.CONF_REMOVE_NODE, id, undefined, options.timeoutMs);
  }

  /**
   * Hands leadership to `to` (a voter that is caught up or catching up) and resolves when this
   * member sees `to` as the leader.
   */
  transferLeadership(to: string, options: { timeoutMs?: number } = {}): Promise<void> {
    const err = this.unavailable();
    if (err !== undefined) return Promise.reject(err);
    if (this.leaderId === to) return Promise.resolve();
    if (this.transfers.size >= MAX_TRANSFER_WAITERS) {
      return Promise.reject(memberError('busy', 'too many leadership transfers waiting'));
    }
    try {
      this.node.transferLeadership(to);
    } catch (e) {
      return Promise.reject(this.translate(e));
    }
    this.scheduleDrain();
    return new Promise<void>((resolve, reject) => {
      const w: TransferWaiter = {
        to,
        resolve,
        reject,
        timer: setTimeout(
          () => {
            this.transfers.delete(w);
            reject(
              memberError('timeout', `leadership did not move to ${to} in time`, {
                leader: this.leaderHint(),
              }),
            );
          },
          options.timeoutMs ?? this.tickMs * this.electionTicks * 3,
        ),
      };
      this.transfers.add(w);
    });
  }

  isLeader(): boolean {
    return this.role === 'leader';
  }

  /** When this member last became leader (ms since the epoch), or null when it is not. */
  leaderSinceMs(): number | null {
    return this.leaderSince;
  }

  /** The leader as this member knows it, with its API base URL for forwarding. */
  leaderHint(): LeaderHint | null {
    if (this.leaderId === null) return null;
    return { id: this.leaderId, api: this.addressOf(this.leaderId)?.apiUrl ?? '' };
  }

  /** The configuration as of the last applied entry. */
  membership(): ConfState {
    return { voters: [...this.confState.voters], learners: [...this.confState.learners] };
  }

  addressOf(id: string): PeerAddress | undefined {
    return this.configuredAddresses.get(id) ?? this.learnedAddresses.get(id);
  }

  status(): MemberStatus {
    const st = this.node.status();
    const members: MemberInfo[] = [];
    const add = (id: string, suffrage: 'voter' | 'learner') => {
      const a = this.addressOf(id);
      const pr = st.progress[id];
      members.push({
        id,
        suffrage,
        isLeader: id === st.leaderId,
        peerUrl: a?.peerUrl ?? '',
        apiUrl: a?.apiUrl ?? '',
        ...(pr !== undefined ? { match: pr.match, active: pr.recentActive || id === this.id } : {}),
      });
    };
    for (const id of [...this.confState.voters].sort()) add(id, 'voter');
    for (const id of [...this.confState.learners].sort()) add(id, 'learner');
    return {
      id: this.id,
      clusterId: this.clusterId,
      role: this.memberRole(),
      leader: this.leaderHint(),
      term: st.term,
      commitIndex: st.commit,
      appliedIndex: this.appliedIndex,
      firstIndex: st.firstIndex,
      lastIndex: st.lastIndex,
      snapshotIndex: this.snapshotIndex,
      members,
      pendingProposals: this.pending.size,
      peers: this.transport.peerStats(),
    };
  }

  /** Stops the member: the current Ready finishes, pending requests reject with 'stopped'. */
  close(): Promise<void> {
    this.closing ??= this.shutdown(memberError('stopped', 'raft member stopped'));
    return this.closing;
  }

  // ---------------------------------------------------------------------------------------
  // The Ready loop

  private readonly transportHandler: TransportHandler = {
    onMessage: (m: Message) => {
      if (this.stopped) return;
      const data = m.installSnapshot?.data;
      if (data != null) {
        // Check the envelope before the core takes the snapshot: once persisted, a snapshot
        // that cannot be restored would stop this member at every start.
        try {
          unwrapSnapshot(data);
        } catch (err) {
          throw new RaftError(
            'invalid-message',
            `snapshot from ${m.from}: ${(err as Error).message}`,
          );
        }
      }
      try {
        this.node.step(m);
      } catch (err) {
        // Bad input is refused with nothing changed (the transport counts it); anything else
        // is a broken invariant in the core: stop loudly.
        if (isRaftError(err, 'invalid-message')) throw err;
        this.fail(err);
        return;
      }
      this.scheduleDrain();
    },
    onUnreachable: (peer: string) => {
      if (this.stopped) return;
      this.node.reportUnreachable(peer);
    },
    onSnapshotStatus: (peer: string, ok: boolean) => {
      if (this.stopped) return;
      this.node.reportSnapshot(peer, ok);
      this.scheduleDrain();
    },
  };

  /**
   * Runs the loop soon, once: inputs that arrive in the same turn of the event loop (and all
   * those that arrive while a batch is being written) end up in the same Ready.
   */
  private scheduleDrain(): void {
    if (this.drainScheduled || this.draining || this.stopped) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.draining || this.stopped) return;
    this.draining = true;
    this.loopIdle = new Promise((resolve) => (this.markLoopIdle = resolve));
    try {
      // Bounded by the input: every Ready consumes what accumulated, and the loop ends when
      // nothing new arrived while the last one was handled.
      while (!this.stopped && this.node.hasReady()) {
        await this.handleReady(this.node.ready());
        if (this.stopped) break;
        this.node.advance();
        if (
          this.snapshotEveryEntries > 0 &&
          this.appliedIndex - this.snapshotIndex >= this.snapshotEveryEntries
        ) {
          await this.takeSnapshot();
        }
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.draining = false;
      this.markLoopIdle();
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    if (rd.softState !== undefined) this.onSoftState(rd.softState.role, rd.softState.leaderId);
    const durableLast = this.storage.durableLastIndex;

    // 1. Persist: ONE atomic batch (hard state, entries, snapshot), synced when the Ready
    //    requires it. The write is handed to LevelDB first, so that the fsync runs while the
    //    rest of this function works; nothing that depends on it goes out before it completes.
    let writing: Promise<PersistStats> | undefined;
    const t0 = process.hrtime.bigint();
    if (rd.hardState !== undefined || rd.entries.length > 0 || rd.snapshot !== undefined) {
      writing = this.storage.persist({
        ...(rd.hardState !== undefined ? { hardState: rd.hardState } : {}),
        entries: rd.entries,
        ...(rd.snapshot !== undefined ? { snapshot: rd.snapshot } : {}),
        sync: rd.mustSync,
      });
    }

    // A leader in a steady term sends its appends while its own batch is being written (Raft
    // thesis 10.2.1, as etcd does): those messages carry the entries themselves and promise
    // nothing about the leader's disk. Its own copy counts towards commit at once, but a commit
    // can only be observed (applied here, or sent to followers) from the next Ready on, which
    // comes after this batch is durable. Everything else (votes, acknowledgements, a new term,
    // a snapshot, a single-voter cluster where the leader alone commits) waits for the disk.
    const sendEarly = rd.messages.length > 0 && this.canSendBeforePersist(rd);
    if (sendEarly) this.transport.send(rd.messages);

    // Committed entries that were already in the durable log (written by earlier Readies) are
    // applied now, during the write: the fsync does not delay their answers (etcd applies in
    // parallel with its WAL write the same way). Those in this Ready's own batch wait for it.
    // A snapshot from the leader keeps the strict order.
    const committed = rd.committedEntries;
    let applied = 0;
    if (rd.snapshot === undefined) {
      try {
        while (applied < committed.length && committed[applied]!.index <= durableLast) {
          this.applyEntry(committed[applied]!);
          applied++;
        }
        this.takeReadStates(rd);
      } catch (err) {
        await writing?.catch(() => undefined); // never close the log under a running write
        throw err;
      }
    }

    if (writing !== undefined) {
      const stats = await writing;
      if (stats.ops > 0) {
        this.metrics.diskWriteSeconds.observe(Number(process.hrtime.bigint() - t0) / 1e9);
        if (rd.entries.length > 0) this.metrics.entriesPerBatch.observe(rd.entries.length);
      }
      if (this.stopped) return;
    }

    // 2. Send what depends on the write.
    if (!sendEarly && rd.messages.length > 0) this.transport.send(rd.messages);

    // 3. Apply the rest.
    if (rd.snapshot !== undefined) {
      this.installSnapshot(rd.snapshot);
      this.takeReadStates(rd);
    }
    for (; applied < committed.length; applied++) this.applyEntry(committed[applied]!);
    this.releaseReads();
  }

  private canSendBeforePersist(rd: Ready): boolean {
    if (!this.sendBeforePersist || this.role !== 'leader' || rd.snapshot !== undefined)
      return false;
    if (this.confState.voters.length < 2) return false;
    const persisted = this.storage.hardState;
    const hs = rd.hardState;
    return hs === undefined || (hs.term === persisted.term && hs.vote === persisted.vote);
  }

  private takeReadStates(rd: Ready): void {
    for (const rs of rd.readStates) this.onReadState(contextKey(rs.context), rs.index);
    for (const ctx of rd.rejectedReads) this.onReadRejected(contextKey(ctx));
    this.releaseReads();
  }

  private onSoftState(role: Role, leaderId: string | null): void {
    const leaderChanged = leaderId !== this.leaderId;
    if (role === 'leader' && this.role !== 'leader') this.leaderSince = Date.now();
    if (role !== 'leader') this.leaderSince = null;
    this.role = role;
    this.leaderId = leaderId;
    if (leaderChanged) {
      this.metrics.leaderChanges.inc();
      this.log.info(
        { leader: leaderId, role, term: this.node.status().term },
        'raft leader changed',
      );
      for (const w of [...this.transfers]) {
        if (w.to === leaderId) {
          clearTimeout(w.timer);
          this.transfers.delete(w);
          w.resolve();
        }
      }
    }
    this.emit('leader', {
      leader: this.leaderHint(),
      role: this.memberRole(),
      term: this.node.status().term,
    } satisfies LeaderEvent);
  }

  private applyEntry(e: Entry): void {
    assert(
      e.index === this.appliedIndex + 1,
      `applying entry ${e.index} after ${this.appliedIndex}: entries must be applied in order`,
    );
    let result: R | ConfState | undefined;
    let kind: AppliedEvent<R>['kind'];
    if (e.type === EntryType.ENTRY_CONF_CHANGE) {
      const cc = decodeConfChange(e.data);
      this.confState = this.node.applyConfChange(cc);
      const address = decodeAddress(cc.context);
      if (cc.type === ConfChangeType.CONF_REMOVE_NODE) {
        this.learnedAddresses.delete(cc.nodeId);
      } else if (address !== undefined) {
        this.learnedAddresses.set(cc.nodeId, address);
      }
      this.syncPeers();
      if (cc.type === ConfChangeType.CONF_REMOVE_NODE && !this.configuredAddresses.has(cc.nodeId)) {
        this.transport.removePeer(cc.nodeId);
      }
      this.log.info(
        {
          index: e.index,
          change: ConfChangeType[cc.type],
          node: cc.nodeId,
          config: this.confState,
        },
        'raft membership changed',
      );
      result = this.membership();
      kind = 'conf-change';
      this.emit('membership', this.membership());
    } else if (e.data.length === 0) {
      // A new leader's empty entry.
      kind = 'empty';
    } else {
      result = this.sm.apply({ index: e.index, term: e.term, data: e.data });
      kind = 'command';
    }
    this.appliedIndex = e.index;
    const p = this.pending.get(e.index);
    if (p !== undefined) {
      this.pending.delete(e.index);
      clearTimeout(p.timer);
      if (p.term === e.term) {
        this.metrics.proposalsCommitted.inc();
        p.resolve(result);
      } else {
        this.metrics.proposalsFailed.inc({ reason: 'dropped' });
        p.reject(
          memberError(
            'proposal-dropped',
            `the proposal at index ${e.index} (term ${p.term}) was replaced by a new leader's entry (term ${e.term})`,
            { index: e.index, term: p.term, leader: this.leaderHint() },
          ),
        );
      }
    }
    if (this.listenerCount('applied') > 0) {
      this.emit('applied', {
        index: e.index,
        term: e.term,
        kind,
        result,
      } satisfies AppliedEvent<R>);
    }
  }

  /** A snapshot from the leader replaces the application state. */
  private installSnapshot(snap: Snapshot): void {
    const { index, term } = snap.metadata;
    this.restoreFrom(snap);
    this.confState = {
      voters: [...snap.metadata.confState.voters],
      learners: [...snap.metadata.confState.learners],
    };
    this.appliedIndex = index;
    this.snapshotIndex = index;
    this.syncPeers();
    this.metrics.snapshots.inc({ kind: 'installed' });
    this.log.info(
      { index, term, sizeBytes: snap.data.length },
      'installed raft snapshot from the leader',
    );
    // Proposals covered by the snapshot may or may not be in it: their outcome is unknown.
    for (const [i, p] of this.pending) {
      if (i > index) continue;
      this.pending.delete(i);
      clearTimeout(p.timer);
      this.metrics.proposalsFailed.inc({ reason: 'outcome-unknown' });
      p.reject(
        memberError(
          'outcome-unknown',
          `a snapshot at ${index} replaced the log that held proposal ${i}`,
        ),
      );
    }
    this.emit('membership', this.membership());
    this.emit('snapshot-restored', { index, term });
  }

  private restoreFrom(snap: Snapshot): void {
    const { addresses, app } = unwrapSnapshot(snap.data);
    this.learnedAddresses = new Map(Object.entries(addresses));
    this.sm.restore(app, { index: snap.metadata.index, term: snap.metadata.term });
  }

  private async takeSnapshot(): Promise<void> {
    const index = this.appliedIndex;
    const data = wrapSnapshot(Object.fromEntries(this.learnedAddresses), this.sm.snapshot());
    const t0 = process.hrtime.bigint();
    const { compactedIndex } = await this.storage.saveSnapshot(
      index,
      this.confState,
      data,
      this.keepEntriesAfterSnapshot,
    );
    this.snapshotIndex = index;
    this.metrics.snapshots.inc({ kind: 'created' });
    this.metrics.snapshotBytes.observe({ kind: 'created' }, data.length);
    this.log.info(
      {
        index,
        compactedIndex,
        sizeBytes: data.length,
        ms: Number(process.hrtime.bigint() - t0) / 1e6,
      },
      'raft snapshot saved, log compacted',
    );
  }

  // ---------------------------------------------------------------------------------------
  // Proposals

  private proposeEntry(
    append: (node: RawNode) => { index: number; term: number },
    timeoutMs: number | undefined,
    sizeBytes: number,
  ): Promise<unknown> {
    const err = this.unavailable();
    if (err !== undefined) return Promise.reject(err);
    if (sizeBytes > this.maxEntryBytes) {
      this.metrics.proposalsFailed.inc({ reason: 'too-large' });
      return Promise.reject(
        memberError('too-large', `command of ${sizeBytes} bytes exceeds ${this.maxEntryBytes}`),
      );
    }
    if (this.pending.size >= this.maxPendingProposals) {
      this.metrics.proposalsFailed.inc({ reason: 'busy' });
      return Promise.reject(memberError('busy', 'too many proposals in flight; retry later'));
    }
    let at: { index: number; term: number };
    try {
      at = append(this.node);
    } catch (e) {
      const translated = this.translate(e);
      const reason = (translated as BallastError).details?.['reason'];
      this.metrics.proposalsFailed.inc({ reason: typeof reason === 'string' ? reason : 'refused' });
      return Promise.reject(translated);
    }
    this.scheduleDrain();
    return new Promise((resolve, reject) => {
      const older = this.pending.get(at.index);
      if (older !== undefined) {
        // Our own log replaced the older proposal's entry: it cannot commit any more.
        clearTimeout(older.timer);
        this.metrics.proposalsFailed.inc({ reason: 'dropped' });
        older.reject(
          memberError('proposal-dropped', `the proposal at index ${at.index} was replaced`, {
            index: at.index,
            term: older.term,
          }),
        );
      }
      const p: PendingProposal = {
        term: at.term,
        resolve,
        reject,
        timer: setTimeout(() => {
          if (this.pending.get(at.index) !== p) return;
          this.pending.delete(at.index);
          this.metrics.proposalsFailed.inc({ reason: 'timeout' });
          reject(
            memberError(
              'timeout',
              `proposal at index ${at.index} not applied in time (outcome unknown)`,
              {
                index: at.index,
                term: at.term,
                leader: this.leaderHint(),
              },
            ),
          );
        }, timeoutMs ?? this.proposalTimeoutMs),
      };
      this.pending.set(at.index, p);
    });
  }

  private changeMembership(
    type: ConfChangeType,
    id: string,
    address: PeerAddress | undefined,
    timeoutMs: number | undefined,
  ): Promise<ConfState> {
    if (!isMemberId(id)) {
      return Promise.reject(
        new BallastError('INVALID_ARGUMENT', `invalid member id ${JSON.stringify(id)}`),
      );
    }
    if (address !== undefined && !isPeerUrl(address.peerUrl)) {
      return Promise.reject(
        new BallastError(
          'INVALID_ARGUMENT',
          `invalid peer URL ${address.peerUrl} (want ws://host:port/path)`,
        ),
      );
    }
    const context = address !== undefined ? encodeAddress(address) : undefined;
    return this.proposeEntry(
      (node) =>
        node.proposeConfChange({ type, nodeId: id, ...(context !== undefined ? { context } : {}) }),
      timeoutMs,
      context?.length ?? 0,
    ) as Promise<ConfState>;
  }

  /** Core refusals become member errors; not-leader gets the leader's API URL as a hint. */
  private translate(err: unknown): Error {
    if (isRaftError(err, 'not-leader')) {
      const leaderId = err.details?.['leaderId'];
      if (typeof leaderId === 'string' && leaderId.length > 0) {
        return notLeaderError({ id: leaderId, api: this.addressOf(leaderId)?.apiUrl ?? '' });
      }
      return notLeaderError(null);
    }
    return err instanceof Error ? err : new Error(String(err));
  }

  // ---------------------------------------------------------------------------------------
  // Linearizable reads: waiters that arrive while a ReadIndex request is in flight share the
  // next one (a request issued before they arrived cannot serve them).

  private kickRead(): void {
    if (this.readInFlight !== undefined || this.readBatch.length === 0 || this.stopped) return;
    const waiters = this.readBatch.filter((w) => !w.settled);
    this.readBatch = [];
    if (waiters.length === 0) return;
    const ctx = Buffer.alloc(16);
    this.readPrefix.copy(ctx, 0);
    ctx.writeDoubleBE(++this.readCounter, 8);
    try {
      this.node.readIndex(ctx);
    } catch (e) {
      const err = this.translate(e);
      const reason = isRaftError(e, 'read-queue-full') ? 'busy' : 'refused';
      for (const w of waiters) this.failRead(w, err, reason);
      return;
    }
    const key = contextKey(ctx);
    this.readInFlight = {
      key,
      waiters,
      retryTimer: setTimeout(() => {
        // No answer (a lost message, a leader that just went away): ask again. A later
        // request is still a valid barrier for these waiters.
        if (this.readInFlight?.key !== key) return;
        this.readInFlight = undefined;
        this.readBatch.unshift(...waiters);
        this.kickRead();
      }, this.readRetryMs),
    };
    this.scheduleDrain();
  }

  private onReadState(key: string, index: number): void {
    const req = this.readInFlight;
    if (req === undefined || req.key !== key) return; // a late answer to a retried request
    clearTimeout(req.retryTimer);
    this.readInFlight = undefined;
    this.readsAwaitingApply.push({ index, waiters: req.waiters });
    this.kickRead();
  }

  private onReadRejected(key: string): void {
    const req = this.readInFlight;
    if (req === undefined || req.key !== key) return;
    clearTimeout(req.retryTimer);
    this.readInFlight = undefined;
    const err = memberError(
      'read-rejected',
      'the leader could not confirm the read (leadership changed?)',
      {
        leader: this.leaderHint(),
      },
    );
    for (const w of req.waiters) this.failRead(w, err, 'rejected');
    this.kickRead();
  }

  private releaseReads(): void {
    if (this.readsAwaitingApply.length === 0) return;
    let kept = 0;
    for (const r of this.readsAwaitingApply) {
      if (r.index <= this.appliedIndex) {
        for (const w of r.waiters) {
          if (w.settled) continue;
          w.settled = true;
          clearTimeout(w.timer);
          this.readWaiterCount--;
          this.metrics.readsServed.inc();
          w.resolve();
        }
      } else {
        this.readsAwaitingApply[kept++] = r;
      }
    }
    this.readsAwaitingApply.length = kept;
  }

  private failRead(w: ReadWaiter, err: Error, reason: string): void {
    if (w.settled) return;
    w.settled = true;
    clearTimeout(w.timer);
    this.readWaiterCount--;
    this.metrics.readsFailed.inc({ reason });
    w.reject(err);
  }

  // ---------------------------------------------------------------------------------------
  // Plumbing

  private unavailable(): Error | undefined {
    if (this.failure !== undefined) {
      return memberError('failed', `raft member failed: ${this.failure.message}`, {}, this.failure);
    }
    if (this.stopped) return memberError('stopped', 'raft member stopped');
    return undefined;
  }

  private memberRole(): MemberRole {
    if (this.role !== 'follower') return this.role;
    if (this.confState.learners.includes(this.id)) return 'learner';
    if (!this.confState.voters.includes(this.id)) return 'non-member';
    return 'follower';
  }

  /** The transport knows every member with an address (listed or learned). */
  private syncPeers(): void {
    const ids = new Set([...this.configuredAddresses.keys(), ...this.learnedAddresses.keys()]);
    for (const id of ids) {
      if (id === this.id) continue;
      const a = this.addressOf(id);
      if (a !== undefined) this.transport.setPeer(id, a.peerUrl);
    }
  }

  private fail(err: unknown): void {
    if (this.failure !== undefined || this.stopped) return;
    const error = err instanceof Error ? err : new Error(String(err));
    this.failure = error;
    this.log.fatal({ err: error }, 'raft member failed; stopping');
    this.closing ??= this.shutdown(
      memberError('failed', `raft member failed: ${error.message}`, {}, error),
    );
    this.emit('fatal', error);
  }

  private async shutdown(reason: Error): Promise<void> {
    this.stopped = true;
    if (this.ticker !== undefined) clearInterval(this.ticker);
    // Let a Ready that is being written finish (its batch is atomic either way).
    await this.loopIdle;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(reason);
    }
    this.pending.clear();
    if (this.readInFlight !== undefined) {
      clearTimeout(this.readInFlight.retryTimer);
      this.readBatch.push(...this.readInFlight.waiters);
      this.readInFlight = undefined;
    }
    for (const r of this.readsAwaitingApply) this.readBatch.push(...r.waiters);
    this.readsAwaitingApply.length = 0;
    for (const w of this.readBatch) this.failRead(w, reason, 'stopped');
    this.readBatch = [];
    for (const w of this.transfers) {
      clearTimeout(w.timer);
      w.reject(reason);
    }
    this.transfers.clear();
    await this.transport.close();
    await this.storage.close();
    this.log.info('raft member stopped');
  }
}
