import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of one member (transport included), registered on the registry the
 * embedder passes (the process's registry in a server; a private one in tests, so that several
 * members in one process do not collide). Names start with `ballast_raft_`.
 */
export interface MemberStateSample {
  term: number;
  isLeader: boolean;
  commitIndex: number;
  appliedIndex: number;
}

export interface PeerQueueSample {
  queuedMessages: number;
  queuedBytes: number;
}

export class RaftMetrics {
  readonly registry: Registry;
  private stateSource: (() => MemberStateSample) | undefined;
  private queueSource: (() => Record<string, PeerQueueSample>) | undefined;
  readonly term: Gauge;
  readonly isLeader: Gauge;
  readonly leaderChanges: Counter;
  readonly commitIndex: Gauge;
  readonly appliedIndex: Gauge;
  readonly proposalsCommitted: Counter;
  readonly proposalsFailed: Counter<'reason'>;
  readonly readsServed: Counter;
  readonly readsFailed: Counter<'reason'>;
  readonly diskWriteSeconds: Histogram;
  readonly entriesPerBatch: Histogram;
  readonly snapshotBytes: Histogram<'kind'>;
  readonly snapshots: Counter<'kind'>;
  readonly peerQueueMessages: Gauge<'peer'>;
  readonly peerQueueBytes: Gauge<'peer'>;
  readonly peerDropped: Counter<'peer' | 'reason'>;
  readonly peerConnected: Gauge<'peer'>;
  readonly peerConnects: Counter<'peer' | 'outcome'>;
  readonly messagesSent: Counter;
  readonly bytesSent: Counter;
  readonly messagesReceived: Counter;
  readonly messagesRejected: Counter<'reason'>;
  readonly connectionsRejected: Counter<'reason'>;

  /** Where the state gauges read from at scrape time (the member). */
  setStateSource(source: () => MemberStateSample): void {
    this.stateSource = source;
  }

  /** Where the queue gauges read from at scrape time (the transport). */
  setQueueSource(source: () => Record<string, PeerQueueSample>): void {
    this.queueSource = source;
  }

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const r = [registry];
    // State gauges are filled when scraped (from the member), not on every Ready.
    const state = () => this.stateSource?.();
    const queues = () => this.queueSource?.();
    const fromState = (pick: (s: MemberStateSample) => number) =>
      function collect(this: Gauge) {
        const s = state();
        if (s !== undefined) this.set(pick(s));
      };
    this.term = new Gauge({
      name: 'ballast_raft_term',
      help: 'Current Raft term',
      registers: r,
      collect: fromState((s) => s.term),
    });
    this.isLeader = new Gauge({
      name: 'ballast_raft_is_leader',
      help: '1 when this member is the leader',
      registers: r,
      collect: fromState((s) => (s.isLeader ? 1 : 0)),
    });
    this.leaderChanges = new Counter({
      name: 'ballast_raft_leader_changes_total',
      help: 'Times the leader this member knows of changed',
      registers: r,
    });
    this.commitIndex = new Gauge({
      name: 'ballast_raft_commit_index',
      help: 'Highest log index known to be committed',
      registers: r,
      collect: fromState((s) => s.commitIndex),
    });
    this.appliedIndex = new Gauge({
      name: 'ballast_raft_applied_index',
      help: 'Highest log index applied to the state machine',
      registers: r,
      collect: fromState((s) => s.appliedIndex),
    });
    this.proposalsCommitted = new Counter({
      name: 'ballast_raft_proposals_committed_total',
      help: 'Proposals made on this member that were committed and applied',
      registers: r,
    });
    this.proposalsFailed = new Counter({
      name: 'ballast_raft_proposals_failed_total',
      help: 'Proposals made on this member that failed, by reason',
      labelNames: ['reason'],
      registers: r,
    });
    this.readsServed = new Counter({
      name: 'ballast_raft_read_barriers_total',
      help: 'Linearizable read barriers that completed',
      registers: r,
    });
    this.readsFailed = new Counter({
      name: 'ballast_raft_read_barriers_failed_total',
      help: 'Linearizable read barriers that failed, by reason',
      labelNames: ['reason'],
      registers: r,
    });
    this.diskWriteSeconds = new Histogram({
      name: 'ballast_raft_disk_write_seconds',
      help: 'Latency of one log batch write (fsync included when the Ready needs it)',
      buckets: [0.0002, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.5, 2],
      registers: r,
    });
    this.entriesPerBatch = new Histogram({
      name: 'ballast_raft_entries_per_batch',
      help: 'Log entries made durable per batch write',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers: r,
    });
    this.snapshotBytes = new Histogram({
      name: 'ballast_raft_snapshot_bytes',
      help: 'Size of snapshots created here or received from the leader',
      labelNames: ['kind'],
      buckets: [1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9],
      registers: r,
    });
    this.snapshots = new Counter({
      name: 'ballast_raft_snapshots_total',
      help: 'Snapshots created, received, sent, and failed sends',
      labelNames: ['kind'],
      registers: r,
    });
    const fromQueues = (pick: (q: PeerQueueSample) => number) =>
      function collect(this: Gauge<'peer'>) {
        const qs = queues();
        if (qs === undefined) return;
        this.reset();
        for (const [peer, q] of Object.entries(qs)) this.set({ peer }, pick(q));
      };
    this.peerQueueMessages = new Gauge({
      name: 'ballast_raft_peer_queue_messages',
      help: 'Messages waiting in the send queue of a peer',
      labelNames: ['peer'],
      registers: r,
      collect: fromQueues((q) => q.queuedMessages),
    });
    this.peerQueueBytes = new Gauge({
      name: 'ballast_raft_peer_queue_bytes',
      help: 'Bytes waiting in the send queue of a peer',
      labelNames: ['peer'],
      registers: r,
      collect: fromQueues((q) => q.queuedBytes),
    });
    this.peerDropped = new Counter({
      name: 'ballast_raft_peer_dropped_messages_total',
      help: 'Messages to a peer dropped before sending, by reason',
      labelNames: ['peer', 'reason'],
      registers: r,
    });
    this.peerConnected = new Gauge({
      name: 'ballast_raft_peer_connected',
      help: '1 while the outgoing connection to a peer is open',
      labelNames: ['peer'],
      registers: r,
    });
    this.peerConnects = new Counter({
      name: 'ballast_raft_peer_connects_total',
      help: 'Outgoing connection attempts, by outcome',
      labelNames: ['peer', 'outcome'],
      registers: r,
    });
    this.messagesSent = new Counter({
      name: 'ballast_raft_messages_sent_total',
      help: 'Raft frames written to peers',
      registers: r,
    });
    this.bytesSent = new Counter({
      name: 'ballast_raft_sent_bytes_total',
      help: 'Raft frame bytes written to peers',
      registers: r,
    });
    this.messagesReceived = new Counter({
      name: 'ballast_raft_messages_received_total',
      help: 'Raft messages accepted from peers',
      registers: r,
    });
    this.messagesRejected = new Counter({
      name: 'ballast_raft_messages_rejected_total',
      help: 'Raft messages from peers that were dropped, by reason',
      labelNames: ['reason'],
      registers: r,
    });
    this.connectionsRejected = new Counter({
      name: 'ballast_raft_connections_rejected_total',
      help: 'Incoming peer connections refused or closed for bad input, by reason',
      labelNames: ['reason'],
      registers: r,
    });
  }
}
