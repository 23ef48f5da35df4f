import {
  BallastError,
  assert,
  isBallastError,
  systemClock,
  type BlockDevice,
  type Clock,
  type ClockTimer,
  type Logger,
} from '@ballast/common';
import {
  SessionError,
  payloadBytes,
  toSessionError,
  type ReplicaSession,
  type SessionFactory,
  type SessionSpec,
  type WritePayload,
} from '@ballast/session';
import type { ControlPlane } from './control-plane.js';
import {
  LatencyHistogram,
  OP_KINDS,
  type EngineStats,
  type OpCounters,
  type OpKind,
  type ReconcileProgress,
} from './metrics.js';
import { Member } from './member.js';
import {
  FlushOp,
  SnapshotOp,
  KIND_NAME,
  MutationKind,
  MutationOp,
  NOOP,
  RangeHold,
  ReadOp,
  type FanOutOp,
  type OpDispatcher,
} from './ops.js';
import { RangeLock } from './range-lock.js';
import { MAX_TARGETS, ReplicaSet } from './replica-set.js';
import { reconcileReplicas } from './reconcile.js';
import {
  confirmPromotion,
  rebuildReplica,
  type RebuildOptions,
  type RebuildResult,
} from './rebuild.js';
import { ceilBlock, errorMessage, floorBlock, replicaTimeout, withTimeout } from './util.js';

/** The part of meta's volume record the engine uses. */
export interface VolumeSpec {
  id: string;
  name: string;
  sizeBytes: number;
  chunkSizeBytes: number;
  /**
   * The replica set. `incarnation` is the map's for each replica (D17), part of every session's
   * fence; absent (maps from before incarnations, tests) means 0.
   */
  replicas: ReadonlyArray<{
    nodeId: string;
    role: 'in-sync' | 'rebuilding';
    incarnation?: number;
  }>;
  /** The volume's own replica timeout, which wins over the engine option's when set. */
  replicaTimeoutMs?: number;
}

export interface VolumeEngineOptions {
  volume: VolumeSpec;
  /** The attachment's epoch: every session and every control-plane change carries it. */
  epoch: number;
  connect: SessionFactory;
  controlPlane: ControlPlane;
  /** Nodes on this host (same `host` label as the agent): reads prefer them. */
  preferredNodeIds?: readonly string[];
  /**
   * A replica that has not answered a request within this is failed (and leaves the set): the
   * longest a cut-off replica stalls writes. The volume's `replicaTimeoutMs` wins when set.
   */
  replicaTimeoutMs?: number;
  /**
   * How long a request waits for the last in-sync replica before the volume fails with EIO
   * (default 60 s). Dropping the last copy cannot let I/O go on elsewhere, so a slow one is
   * waited for longer than the replica timeout.
   */
  lastReplicaTimeoutMs?: number;
  /** Bound on one markOutOfSync/promote (the control plane retries inside it). */
  controlPlaneTimeoutMs?: number;
  /**
   * Called once, after open, when the engine fails (not when it is fenced): its holder may open
   * a new engine at a new epoch once an in-sync replica answers again (D22).
   */
  onFailed?: (err: BallastError) => void;
  /** Bound on opening one session. */
  openTimeoutMs?: number;
  /** Make the replicas identical before serving (after an unclean detach). Default true: after
   * a clean detach it only compares chunk maps and copies nothing. */
  reconcile?: boolean;
  /** Chunks copied concurrently by reconcile and rebuild. */
  copyConcurrency?: number;
  /** Bound on operations admitted at once (in flight or waiting for a range). */
  maxInFlightOps?: number;
  /** Bound on close() waiting for operations in flight. */
  closeTimeoutMs?: number;
  /** Time and timers (default the system's); a simulation passes a SimClock. */
  clock?: Clock;
  logger?: Logger;
}

export type EngineState =
  'opening' | 'reconciling' | 'open' | 'fenced' | 'failed' | 'closing' | 'closed';

/**
 * A replicated volume as a BlockDevice: the agent puts one behind its NBD export, shared by every
 * connection to that export (so FLUSH is global and the export may advertise CAN_MULTI_CONN).
 * See the README for the algorithms and why they keep DESIGN.md's invariants.
 */
export class VolumeEngine implements BlockDevice, OpDispatcher {
  readonly fastZero = false;
  readonly epoch: number;
  /** The volume as served: its size grows (online resize) once every replica has grown. */
  private spec: VolumeSpec;
  /** Online resizes run one at a time. */
  private growing: Promise<boolean> = Promise.resolve(false);

  private stateValue: EngineState = 'opening';
  private stateError: BallastError | null = null;
  private readonly set: ReplicaSet;
  private readonly lock = new RangeLock();
  private readonly flushOps = new Set<FlushOp>();
  private readonly connect: SessionFactory;
  private readonly controlPlane: ControlPlane;
  private replicaTimeoutMs: number;
  private readonly lastReplicaTimeoutMs: number;
  private readonly onFailed: ((err: BallastError) => void) | undefined;
  private readonly defaultReplicaTimeoutMs: number;
  private readonly controlPlaneTimeoutMs: number;
  private readonly openTimeoutMs: number;
  private readonly closeTimeoutMs: number;
  private readonly maxInFlightOps: number;
  readonly copyConcurrency: number;
  private readonly logger: Logger | undefined;
  private sweeper: ClockTimer | null = null;
  readonly clock: Clock;
  private inFlightOps = 0;
  private readonly idleWaiters: Array<() => void> = [];
  /** While a snapshot is being cut: new mutations and flushes wait for it. */
  private held: Promise<void> | null = null;
  /** A snapshot is being taken (from its flush ahead of the hold to its acknowledgement). */
  private cutting = false;
  /** Write pauses of snapshot cuts (ms), until the metrics exporter takes them. */
  private snapshotPausesMs: number[] = [];
  private rebuildsRunning = new Set<string>();
  /** Per rebuilding node: chunks its current pass still has to copy. */
  private readonly rebuildRemaining = new Map<string, number>();
  private rebuildCopiedChunks = 0;
  private rebuildCopiedBytes = 0;

  private readonly counters: Record<OpKind, OpCounters>;
  private readonly latency: Record<OpKind, LatencyHistogram>;
  private readFallbacks = 0;
  private readRepairs = 0;
  private replicasMarkedOutOfSync = 0;
  readonly reconcileProgress: ReconcileProgress = {
    state: 'idle',
    chunksTotal: 0,
    chunksDone: 0,
    bytesCopied: 0,
  };

  private readonly sweep = (): void => this.sweepTimeouts();

  private constructor(options: VolumeEngineOptions) {
    const v = options.volume;
    if (!Number.isSafeInteger(v.sizeBytes) || v.sizeBytes <= 0) {
      throw new BallastError('INVALID_ARGUMENT', `volume size must be a positive integer`);
    }
    if (!Number.isSafeInteger(options.epoch) || options.epoch < 0) {
      throw new BallastError('INVALID_ARGUMENT', `epoch must be a non-negative integer`);
    }
    if (v.replicas.length === 0 || v.replicas.length > MAX_TARGETS) {
      throw new BallastError('INVALID_ARGUMENT', `a volume needs 1..${MAX_TARGETS} replicas`);
    }
    if (new Set(v.replicas.map((r) => r.nodeId)).size !== v.replicas.length) {
      throw new BallastError('INVALID_ARGUMENT', `a node appears twice in the replica set`);
    }
    if (!v.replicas.some((r) => r.role === 'in-sync')) {
      throw new BallastError('INVALID_ARGUMENT', `volume ${v.name} has no in-sync replica`);
    }
    this.spec = v;
    this.epoch = options.epoch;
    this.connect = options.connect;
    this.controlPlane = options.controlPlane;
    this.set = new ReplicaSet(new Set(options.preferredNodeIds ?? []));
    this.defaultReplicaTimeoutMs = positive(options.replicaTimeoutMs ?? 30_000, 'replicaTimeoutMs');
    this.replicaTimeoutMs = positive(
      v.replicaTimeoutMs ?? this.defaultReplicaTimeoutMs,
      'the volume replicaTimeoutMs',
    );
    this.lastReplicaTimeoutMs = positive(
      options.lastReplicaTimeoutMs ?? 60_000,
      'lastReplicaTimeoutMs',
    );
    this.controlPlaneTimeoutMs = positive(
      options.controlPlaneTimeoutMs ?? 60_000,
      'controlPlaneTimeoutMs',
    );
    this.openTimeoutMs = positive(options.openTimeoutMs ?? 30_000, 'openTimeoutMs');
    this.closeTimeoutMs = positive(options.closeTimeoutMs ?? 60_000, 'closeTimeoutMs');
    this.maxInFlightOps = positive(options.maxInFlightOps ?? 65_536, 'maxInFlightOps');
    this.copyConcurrency = positive(options.copyConcurrency ?? 4, 'copyConcurrency');
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    this.onFailed = options.onFailed;
    this.counters = {} as Record<OpKind, OpCounters>;
    this.latency = {} as Record<OpKind, LatencyHistogram>;
    for (const k of OP_KINDS) {
      this.counters[k] = { ops: 0, bytes: 0, errors: 0 };
      this.latency[k] = new LatencyHistogram();
    }
  }

  /**
   * Opens sessions to every replica of the set at `epoch` (in-sync and rebuilding), takes the
   * unreachable ones out of the set (waiting for meta's commit), reconciles the in-sync replicas
   * and resolves when the volume can be served. Rejects FENCED when a node or meta has seen a
   * newer epoch, IO when no in-sync replica is left.
   */
  static async open(options: VolumeEngineOptions): Promise<VolumeEngine> {
    const engine = new VolumeEngine(options);
    try {
      await engine.start(options.reconcile ?? true);
    } catch (err) {
      await engine.abandon();
      throw err;
    }
    return engine;
  }

  get sizeBytes(): number {
    return this.spec.sizeBytes;
  }

  get volume(): VolumeSpec {
    return this.spec;
  }

  get state(): EngineState {
    return this.stateValue;
  }

  private async start(reconcile: boolean): Promise<void> {
    const results = await Promise.allSettled(
      this.volume.replicas.map((r) =>
        this.openSession(r.nodeId, this.sessionSpec(r.incarnation ?? 0)),
      ),
    );
    const failed: Array<{ member: Member; err: SessionError }> = [];
    results.forEach((result, i) => {
      const r = this.volume.replicas[i]!;
      const member = new Member(r.nodeId, r.role, null, r.incarnation ?? 0);
      this.set.members.push(member);
      if (result.status === 'fulfilled') member.session = result.value;
      else failed.push({ member, err: toSessionError(result.reason, r.nodeId) });
    });
    const fenced = failed.find((f) => f.err.kind === 'fenced');
    if (fenced) throw this.fence(fenced.err);
    this.set.recompute();
    // Referenced on purpose: an open engine is a live resource, like a listening socket; a
    // request waiting on a silent replica must still time out. close() or abandon() stop it.
    this.startSweeper();
    for (const f of failed) this.memberFailed(f.member, f.err, 'open session');
    await this.waitForRemovals();
    this.stateValue = 'reconciling';
    if (reconcile) {
      await reconcileReplicas(this.reconcileContext());
      this.throwIfUnusable();
    }
    this.stateValue = 'open';
    this.logger?.info(
      {
        volumeId: this.volume.id,
        epoch: this.epoch,
        inSync: this.set.activeInSync.map((m) => m.nodeId),
        rebuilding: this.set.active.filter((m) => m.role === 'rebuilding').map((m) => m.nodeId),
      },
      'volume engine open',
    );
  }

  private sessionSpec(incarnation: number): SessionSpec {
    return {
      volumeId: this.volume.id,
      epoch: this.epoch,
      incarnation,
      sizeBytes: this.volume.sizeBytes,
      chunkSizeBytes: this.volume.chunkSizeBytes,
    };
  }

  /** Opens one session within openTimeoutMs; a session that opens after that is aborted. */
  private openSession(nodeId: string, session: SessionSpec): Promise<ReplicaSession> {
    let opening: Promise<ReplicaSession>;
    try {
      opening = this.connect(nodeId, session);
    } catch (err) {
      return Promise.reject(toSessionError(err, nodeId));
    }
    return replicaTimeout(this.clock, opening, this.openTimeoutMs, nodeId, 'open session').catch(
      (err: unknown) => {
        opening.then((late) => late.abort(), NOOP);
        throw err;
      },
    );
  }

  /** Awaits every pending removal of an in-sync replica; throws if one was refused. */
  private async waitForRemovals(): Promise<void> {
    const pending = this.set.members
      .filter((m) => m.role === 'in-sync' && m.state === 'removing')
      .map((m) => m.removal!);
    await Promise.all(pending);
    this.throwIfUnusable();
    if (this.set.activeInSync.length === 0) {
      throw this.failEngine('no in-sync replica of the volume is reachable');
    }
  }

  private throwIfUnusable(): void {
    if (this.stateError !== null) throw this.stateError;
  }

  // ---------------------------------------------------------------------------------------
  // BlockDevice

  writeAt(offset: number, data: Buffer, fua = false): Promise<void> {
    return this.mutate(MutationKind.Write, offset, data.length, data, fua, false);
  }

  /**
   * NBD fast path: a large payload as the pieces it arrived in, sent on to every replica as
   * they are (no joining copy). The parts must not change until the promise settles.
   */
  writeParts(offset: number, parts: readonly Buffer[], fua = false): Promise<void> {
    return this.mutate(MutationKind.Write, offset, payloadBytes(parts), parts, fua, false);
  }

  trim(offset: number, length: number, fua = false): Promise<void> {
    return this.mutate(MutationKind.Trim, offset, length, null, fua, false);
  }

  writeZeroes(
    offset: number,
    length: number,
    opts: { noHole?: boolean; fua?: boolean } = {},
  ): Promise<void> {
    return this.mutate(
      MutationKind.Zero,
      offset,
      length,
      null,
      opts.fua === true,
      opts.noHole === true,
    );
  }

  readAt(offset: number, length: number): Promise<Buffer> {
    return this.read(offset, length, null, 0) as Promise<Buffer>;
  }

  /** NBD fast path: reads straight into the reply buffer. */
  readInto(offset: number, length: number, target: Buffer, targetOffset: number): Promise<void> {
    if (targetOffset < 0 || targetOffset + length > target.length) {
      return Promise.reject(new BallastError('INVALID_ARGUMENT', 'readInto target is too small'));
    }
    return this.read(offset, length, target, targetOffset) as Promise<void>;
  }

  /**
   * Makes every write acknowledged before this call durable on every in-sync replica (or the
   * replicas that failed the flush are out of the set). Global across NBD connections.
   */
  flush(): Promise<void> {
    if (this.held !== null) return this.held.then(() => this.flush());
    const now = this.clock.monotonicMs();
    const refusal = this.admit();
    if (refusal !== null) return this.refuse('flush', refusal);
    const op = new FlushOp(now);
    const promise = new Promise<void>((resolve, reject) => {
      op.resolve = resolve;
      op.reject = reject;
    });
    this.flushOps.add(op);
    this.fanOut(op, (m) => m.session!.flush());
    return promise;
  }

  /**
   * Takes snapshot `seq` of the volume, crash-consistent across its in-sync replicas (issue 16):
   * new requests wait (mutations, flushes and reads: nothing overtakes what was issued
   * before it), those in flight settle, every in-sync replica records the
   * snapshot at that same point of the write stream, then the held requests go on. Every write
   * acknowledged before the call is in the snapshot; none issued after it resolves is. It is
   * acknowledged like a flush: once every in-sync replica has it or the replicas that failed
   * it are out of the set (they are failed like a failed flush). Rebuilding replicas do not
   * take it: their content is not the volume's yet. Resolves with the replicas that hold it
   * and how long writes were held.
   */
  async snapshot(seq: number): Promise<{ nodeIds: string[]; pauseMs: number }> {
    if (!Number.isSafeInteger(seq) || seq < 1) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `snapshot seq must be a positive integer, not ${seq}`,
      );
    }
    const refusal = this.admit();
    if (refusal !== null) throw refusal;
    if (this.cutting) {
      throw new BallastError('CONFLICT', `volume ${this.volume.name}: a snapshot is being taken`);
    }
    const lacking = this.set.activeInSync.filter((m) => m.session?.snapshot === undefined);
    if (lacking.length > 0) {
      throw new BallastError(
        'UNAVAILABLE',
        `volume ${this.volume.name}: replicas on ${lacking.map((m) => m.nodeId).join(', ')} cannot take snapshots over this connection yet`,
      );
    }
    this.cutting = true;
    let release = NOOP;
    try {
      // A flush first, while writes flow: the replicas' flush inside the cut then covers only
      // what arrived since, which is what the pause waits for (bench/README.md, "Snapshots").
      await this.flush().catch(() => undefined);
      this.throwIfUnusable();
      const startedMs = this.clock.monotonicMs();
      this.held = new Promise<void>((resolve) => (release = resolve));
      if (this.inFlightOps > 0 || this.lock.size > 0 || this.flushOps.size > 0) {
        await withTimeout(
          this.clock,
          new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
          this.closeTimeoutMs,
          () => new BallastError('TIMEOUT', 'writes in flight did not settle for the snapshot'),
        );
      }
      this.throwIfUnusable();
      const targets = this.set.activeInSync;
      const op = new SnapshotOp(startedMs);
      const acked = new Promise<void>((resolve, reject) => {
        op.resolve = resolve;
        op.reject = reject;
      });
      this.flushOps.add(op);
      this.fanOut(op, (m) => m.session!.snapshot!(seq), targets);
      await acked;
      const pauseMs = this.clock.monotonicMs() - startedMs;
      if (this.snapshotPausesMs.length < 1024) this.snapshotPausesMs.push(pauseMs);
      const holders = targets.filter((m, i) => (op.okMask & (1 << i)) !== 0);
      return { nodeIds: holders.map((m) => m.nodeId), pauseMs };
    } finally {
      this.cutting = false;
      this.held = null;
      release();
    }
  }

  /** Write pauses of snapshot cuts (ms) since the last call. */
  takeSnapshotPauses(): number[] {
    const pauses = this.snapshotPausesMs;
    this.snapshotPausesMs = [];
    return pauses;
  }

  /** Reads [offset, offset+length) of snapshot `seq` from the first in-sync replica that can. */
  async readSnapshot(seq: number, offset: number, length: number): Promise<Buffer> {
    const refusal = this.admit();
    if (refusal !== null) throw refusal;
    let last: unknown = new BallastError(
      'UNAVAILABLE',
      `no replica of ${this.volume.name} can read snapshots`,
    );
    for (const m of this.set.activeInSync) {
      if (m.session?.readSnapshot === undefined) continue;
      try {
        return await replicaTimeout(
          this.clock,
          m.session.readSnapshot(seq, offset, length),
          this.replicaTimeoutMs,
          m.nodeId,
          'read snapshot',
        );
      } catch (err) {
        last = err;
      }
    }
    throw last;
  }

  /**
   * Clean detach: waits for operations in flight (bounded), flushes every replica (so the next
   * attach finds nothing to reconcile), ends the sessions.
   */
  async close(): Promise<void> {
    if (this.stateValue === 'closed' || this.stateValue === 'closing') return;
    const usable = this.stateValue === 'open';
    this.stateValue = 'closing';
    this.logger?.debug(
      { volumeId: this.spec.id, inFlight: this.inFlightOps, locked: this.lock.size },
      'engine closing',
    );
    if (this.inFlightOps > 0 || this.lock.size > 0 || this.flushOps.size > 0) {
      await withTimeout(
        this.clock,
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        this.closeTimeoutMs,
        () => new BallastError('TIMEOUT', 'operations still in flight at close'),
      ).catch((err: unknown) => this.logger?.warn({ err }, 'closing with operations in flight'));
    }
    if (usable) {
      const flushes = this.set.active.map((m) =>
        replicaTimeout(
          this.clock,
          m.session!.flush(),
          this.replicaTimeoutMs,
          m.nodeId,
          'flush at close',
        ),
      );
      const results = await Promise.allSettled(flushes);
      results.forEach((r, i) => {
        if (r.status === 'rejected') {
          this.logger?.warn(
            { nodeId: this.set.active[i]?.nodeId, err: r.reason },
            'flush at close failed',
          );
        }
      });
    }
    this.stopSweeper();
    this.logger?.debug({ volumeId: this.spec.id }, 'engine closing its sessions');
    await Promise.allSettled(
      this.set.members.map((m) => (m.session ? m.session.close() : Promise.resolve())),
    );
    this.failAllOps(new BallastError('UNAVAILABLE', `volume ${this.volume.name} is closed`));
    this.stateValue = 'closed';
    this.logger?.debug({ volumeId: this.spec.id }, 'engine closed');
  }

  /**
   * Drops everything without flushing or waiting, as a crash would (sessions aborted, operations
   * rejected). For tests that leave replicas as a crashed engine leaves them, and for open()
   * failures.
   */
  async abandon(): Promise<void> {
    this.stopSweeper();
    if (this.stateError === null) this.stateValue = 'closed';
    for (const m of this.set.members) m.session?.abort();
    this.failAllOps(new BallastError('UNAVAILABLE', `volume ${this.volume.name} was abandoned`));
  }

  // ---------------------------------------------------------------------------------------
  // Mutations

  private mutate(
    kind: MutationKind,
    offset: number,
    length: number,
    data: WritePayload | null,
    fua: boolean,
    noHole: boolean,
  ): Promise<void> {
    if (this.held !== null) {
      return this.held.then(() => this.mutate(kind, offset, length, data, fua, noHole));
    }
    const now = this.clock.monotonicMs();
    const name = KIND_NAME[kind]!;
    const refusal = this.admit() ?? this.checkRange(offset, length);
    if (refusal !== null) return this.refuse(name, refusal);
    if (length === 0) return Promise.resolve();
    const op = new MutationOp(this, kind, offset, offset + length, data, fua, noHole, now);
    const promise = new Promise<void>((resolve, reject) => {
      op.resolve = resolve;
      op.reject = reject;
    });
    if (this.lock.acquire(op)) this.dispatchMutation(op);
    return promise;
  }

  /** @internal Sends a mutation that holds its range to every active replica. */
  dispatchMutation(op: MutationOp): void {
    if (op.done) {
      this.lock.release(op);
      return;
    }
    const length = op.endBytes - op.startBytes;
    switch (op.kind) {
      case MutationKind.Write:
        this.fanOut(op, (m) => m.session!.write(op.startBytes, op.data!, op.fua));
        break;
      case MutationKind.Trim:
        this.fanOut(op, (m) => m.session!.trim(op.startBytes, length, op.fua));
        break;
      case MutationKind.Zero:
        this.fanOut(op, (m) => m.session!.writeZeroes(op.startBytes, length, op.noHole, op.fua));
        break;
    }
  }

  /**
   * Sends one leg per active replica (the same arguments, the same payload Buffer) and counts
   * the answers. The acknowledgement is decided once no in-sync replica's leg is pending (a slow
   * rebuilding replica never delays it); the range is released once every leg has settled (so
   * every replica applies overlapping operations in the same order).
   */
  private fanOut(
    op: FanOutOp,
    send: (m: Member) => Promise<void>,
    targets: Member[] = this.set.active,
  ): void {
    if (this.stateError !== null || this.set.activeInSync.length === 0) {
      this.settleFanOut(op, this.stateError ?? this.noReplicaError());
      this.releaseOp(op);
      return;
    }
    op.targets = targets;
    op.legsPending = targets.length;
    op.dispatchedAtMs = this.clock.monotonicMs();
    this.inFlightOps += 1;
    for (let i = 0; i < targets.length; i++) {
      const member = targets[i]!;
      member.inFlight += 1;
      let leg: Promise<void>;
      try {
        leg = send(member);
      } catch (err) {
        leg = Promise.reject(err);
      }
      leg.then(
        () => this.legSettled(op, i, null),
        (err: unknown) => this.legSettled(op, i, err),
      );
    }
  }

  private legSettled(op: FanOutOp, index: number, err: unknown): void {
    const bit = 1 << index;
    if ((op.settledMask & bit) !== 0) return; // timed out earlier; the late answer changes nothing
    op.settledMask |= bit;
    const member = op.targets[index]!;
    member.inFlight -= 1;
    if (err === null) {
      op.okMask |= bit;
    } else {
      const failure = toSessionError(err, member.nodeId);
      member.writeFailures += 1;
      this.memberFailed(member, failure, op instanceof FlushOp ? 'flush' : 'write');
    }
    op.legsPending -= 1;
    if (!op.evaluated && !this.inSyncLegPending(op)) {
      op.evaluated = true;
      this.decideAck(op);
    }
    if (op.legsPending === 0) {
      this.inFlightOps -= 1;
      this.releaseOp(op);
    }
  }

  /** True while a replica that counts as in-sync has not answered this op. */
  private inSyncLegPending(op: FanOutOp): boolean {
    if (op.legsPending === 0) return false;
    const targets = op.targets;
    for (let i = 0; i < targets.length; i++) {
      if ((op.settledMask & (1 << i)) === 0 && targets[i]!.role === 'in-sync') return true;
    }
    return false;
  }

  /**
   * Invariant 4: acknowledge only when every replica the map lists as in-sync has the operation,
   * or its removal from the set has been committed.
   */
  private decideAck(op: FanOutOp): void {
    if (op.done) return;
    if (this.stateError !== null) {
      this.settleFanOut(op, this.stateError);
      return;
    }
    let reachedInSync = 0;
    let waits: Array<Promise<void>> | null = null;
    for (const m of this.set.members) {
      if (m.role !== 'in-sync' || m.state === 'removed') continue;
      if (op.reached(m)) {
        reachedInSync += 1;
        continue;
      }
      if (m.state === 'active') {
        // Counts as in-sync but was not sent this op: promoted while it was in flight. It missed
        // the op, so it must leave the set like any replica that failed one.
        this.memberFailed(
          m,
          new SessionError('io', m.nodeId, `missed an operation dispatched before its promotion`),
          'write',
        );
      }
      assert(m.removal !== null, 'a replica that missed an operation has no removal under way');
      (waits ??= []).push(m.removal);
    }
    if (reachedInSync === 0) {
      this.settleFanOut(op, this.noReplicaError());
      return;
    }
    if (waits === null) {
      this.settleFanOut(op, null);
      return;
    }
    Promise.all(waits).then(
      () => this.settleFanOut(op, this.stateError),
      (err: unknown) => this.settleFanOut(op, err),
    );
  }

  /** Answers the client (once). */
  private settleFanOut(op: FanOutOp, err: unknown): void {
    if (op.done) return;
    op.done = true;
    const kind: OpKind =
      op instanceof MutationOp
        ? KIND_NAME[op.kind]!
        : op instanceof SnapshotOp
          ? 'snapshot'
          : 'flush';
    const counters = this.counters[kind];
    if (err === null) {
      counters.ops += 1;
      if (op instanceof MutationOp) counters.bytes += op.endBytes - op.startBytes;
      this.latency[kind].observeMs(this.clock.monotonicMs() - op.createdAtMs);
      op.resolve();
    } else {
      counters.errors += 1;
      op.reject(this.clientError(err));
    }
  }

  /** Every leg settled (or the engine stopped): the op no longer holds its range. */
  private releaseOp(op: FanOutOp): void {
    if (op instanceof MutationOp) this.lock.release(op);
    else this.flushOps.delete(op as FlushOp);
    this.notifyIdle();
  }

  // ---------------------------------------------------------------------------------------
  // Reads

  private read(
    offset: number,
    length: number,
    target: Buffer | null,
    targetOffset: number,
  ): Promise<Buffer | undefined> {
    // Reads wait out a snapshot cut too: one issued after a held write must not overtake it
    // (overlapping operations take effect in the order they were issued).
    if (this.held !== null) {
      return this.held.then(() => this.read(offset, length, target, targetOffset));
    }
    const now = this.clock.monotonicMs();
    const refusal = this.admit() ?? this.checkRange(offset, length);
    if (refusal !== null) return this.refuse('read', refusal);
    if (length === 0) return Promise.resolve(target === null ? Buffer.alloc(0) : undefined);
    const op = new ReadOp(this, offset, offset + length, target, targetOffset, now);
    const promise = new Promise<Buffer | undefined>((resolve, reject) => {
      op.resolve = resolve;
      op.reject = reject;
    });
    if (this.lock.acquire(op)) this.dispatchRead(op);
    return promise;
  }

  /** @internal Sends the read to one in-sync replica: a local one, else the least loaded. */
  dispatchRead(op: ReadOp): void {
    if (op.done) {
      this.lock.release(op);
      return;
    }
    if (this.stateError !== null) {
      this.finishRead(op, undefined, this.stateError);
      return;
    }
    const member = this.set.pickForRead(op.tried);
    if (member === null) {
      const err =
        op.bad !== null
          ? new BallastError(
              'CHECKSUM_MISMATCH',
              `every in-sync replica failed its checksum for ${op.endBytes - op.startBytes} bytes at ${op.startBytes}`,
            )
          : this.noReplicaError();
      this.finishRead(op, undefined, err);
      return;
    }
    op.current = member;
    op.dispatchedAtMs = this.clock.monotonicMs();
    member.inFlight += 1;
    const attempt = op.attempt;
    const session = member.session!;
    let pending: Promise<Buffer | undefined | void>;
    try {
      if (op.bad !== null) {
        // After a checksum failure: read whole blocks, so they can be written back as repair.
        const start = floorBlock(op.startBytes);
        pending = session.read(start, ceilBlock(op.endBytes) - start);
      } else if (op.target !== null) {
        pending = session.readInto(
          op.startBytes,
          op.endBytes - op.startBytes,
          op.target,
          op.targetOffset,
        );
      } else {
        pending = session.read(op.startBytes, op.endBytes - op.startBytes);
      }
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (data) => this.readSettled(op, attempt, data ?? undefined, null),
      (err: unknown) => this.readSettled(op, attempt, undefined, err),
    );
  }

  private readSettled(op: ReadOp, attempt: number, data: Buffer | undefined, err: unknown): void {
    if (attempt !== op.attempt || op.done) return; // a timed-out attempt answering late
    const member = op.current!;
    member.inFlight -= 1;
    op.current = null;
    if (err !== null) {
      const failure = toSessionError(err, member.nodeId);
      (op.tried ??= []).push(member);
      op.attempt += 1;
      if (failure.kind === 'checksum') {
        member.checksumErrors += 1;
        member.lastError = failure.message;
        (op.bad ??= []).push(member);
      } else {
        member.readFailures += 1;
        this.memberFailed(member, failure, 'read');
      }
      if (this.stateError === null) this.readFallbacks += 1;
      this.dispatchRead(op);
      return;
    }
    if (op.bad === null) {
      this.finishRead(op, data, null);
      return;
    }
    // Good whole blocks after a checksum failure: answer, then repair under the read's range.
    const good = data!;
    const skip = op.startBytes - floorBlock(op.startBytes);
    const length = op.endBytes - op.startBytes;
    const view = good.subarray(skip, skip + length);
    if (op.target !== null) view.copy(op.target, op.targetOffset);
    this.answerRead(op, op.target === null ? view : undefined);
    this.repair(op.bad, floorBlock(op.startBytes), good).finally(() => {
      this.lock.release(op);
      this.notifyIdle();
    });
  }

  private finishRead(op: ReadOp, data: Buffer | undefined, err: unknown): void {
    this.lock.release(op);
    if (!op.done) {
      if (err === null) this.answerRead(op, op.target === null ? data : undefined);
      else {
        op.done = true;
        this.counters.read.errors += 1;
        op.reject(this.clientError(err));
      }
    }
    this.notifyIdle();
  }

  private answerRead(op: ReadOp, data: Buffer | undefined): void {
    op.done = true;
    this.counters.read.ops += 1;
    this.counters.read.bytes += op.endBytes - op.startBytes;
    this.latency.read.observeMs(this.clock.monotonicMs() - op.createdAtMs);
    op.resolve(data);
  }

  /**
   * Writes good bytes back to replicas whose copy failed its checksum (invariant 5). No write to
   * the range can run meanwhile: the read holds it, and writers wait for readers.
   */
  private async repair(bad: Member[], offsetBytes: number, good: Buffer): Promise<void> {
    await Promise.all(
      bad.map(async (member) => {
        if (member.state !== 'active' || member.session === null) return;
        const session = member.session;
        try {
          try {
            // Prefer a repair that keeps generations (bytes must match the stored checksums).
            if (session.repairBlocks === undefined) throw new Error('no repairBlocks');
            await replicaTimeout(
              this.clock,
              session.repairBlocks(offsetBytes, good),
              this.replicaTimeoutMs,
              member.nodeId,
              'repair',
            );
          } catch (first) {
            if (first instanceof SessionError && first.kind === 'fenced') throw first;
            await replicaTimeout(
              this.clock,
              session.write(offsetBytes, good, false),
              this.replicaTimeoutMs,
              member.nodeId,
              'repair write',
            );
          }
          member.repairs += 1;
          this.readRepairs += 1;
          this.logger?.warn(
            { nodeId: member.nodeId, offsetBytes, lengthBytes: good.length },
            'repaired a range that failed its checksum',
          );
        } catch (err) {
          this.memberFailed(member, toSessionError(err, member.nodeId), 'repair');
        }
      }),
    );
  }

  // ---------------------------------------------------------------------------------------
  // Online resize

  /**
   * Serves `sizeBytes` from now on, once every replica receiving writes holds at least that
   * much: the nodes grow their replicas from the map by themselves, so this polls each one (a
   * probe session reports the node's current size) every `pollMs` for up to `timeoutMs`.
   * Resolves true when the size changed, false when it was already that large; rejects
   * UNAVAILABLE (size unchanged) when an in-sync replica has not grown in time, so the caller
   * tries again later (e.g. after that replica left the set). A rebuilding replica that has not
   * grown does not hold it back: a write beyond its end fails on it and it leaves the set like
   * any failed replica. NBD clients see the new size on their next connection.
   */
  grow(sizeBytes: number, options: { timeoutMs?: number; pollMs?: number } = {}): Promise<boolean> {
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) {
      return Promise.reject(
        new BallastError('INVALID_ARGUMENT', `volume size must be a positive integer`),
      );
    }
    const run = this.growing.catch(NOOP).then(() => this.growNow(sizeBytes, options));
    this.growing = run;
    return run;
  }

  private async growNow(
    sizeBytes: number,
    options: { timeoutMs?: number; pollMs?: number },
  ): Promise<boolean> {
    if (this.stateError !== null) throw this.stateError;
    if (sizeBytes <= this.spec.sizeBytes) return false;
    const timeoutMs = options.timeoutMs ?? this.controlPlaneTimeoutMs;
    const pollMs = options.pollMs ?? 200;
    const deadline = this.clock.monotonicMs() + timeoutMs;
    const grown = new Set<Member>();
    for (;;) {
      if (this.stateError !== null) throw this.stateError;
      if (this.stateValue !== 'open') {
        throw new BallastError('UNAVAILABLE', `volume ${this.spec.name} is ${this.stateValue}`);
      }
      const waiting = this.set.active.filter((m) => !grown.has(m));
      await Promise.all(
        waiting.map(async (m) => {
          const session = m.session;
          if (session?.replicaSizeBytes === undefined) return;
          try {
            // Bounded like any request to it: a replica that does not answer must not hold up
            // the growth (and its holder's resize call) for good.
            const size = await replicaTimeout(
              this.clock,
              session.replicaSizeBytes(),
              this.timeoutOf(m),
              m.nodeId,
              'size probe',
            );
            if (size >= sizeBytes) grown.add(m);
          } catch (err) {
            // Not this code's business to drop it: its next write or read decides.
            m.lastError = `size probe: ${errorMessage(err)}`;
          }
        }),
      );
      const inSyncLeft = this.set.activeInSync.filter((m) => !grown.has(m));
      const allLeft = this.set.active.filter((m) => !grown.has(m));
      if (allLeft.length === 0 || (inSyncLeft.length === 0 && this.clock.monotonicMs() >= deadline))
        break;
      if (this.clock.monotonicMs() >= deadline) {
        throw new BallastError(
          'UNAVAILABLE',
          `volume ${this.spec.name} stays ${this.spec.sizeBytes} bytes: ${inSyncLeft.map((m) => m.nodeId).join(', ')} ${inSyncLeft.length === 1 ? 'has' : 'have'} not grown to ${sizeBytes} bytes within ${timeoutMs} ms`,
          { sizeBytes: this.spec.sizeBytes, requestedBytes: sizeBytes },
        );
      }
      await this.clock.sleep(pollMs);
    }
    if (this.stateError !== null) throw this.stateError;
    if (sizeBytes <= this.spec.sizeBytes) return false;
    this.logger?.info(
      { volumeId: this.spec.id, fromBytes: this.spec.sizeBytes, toBytes: sizeBytes },
      'volume grown online',
    );
    this.spec = { ...this.spec, sizeBytes };
    return true;
  }

  // ---------------------------------------------------------------------------------------
  // Failures

  /**
   * A replica failed a request: it stops receiving I/O at once (so no later overlapping write
   * can reach it out of order) and its removal from the in-sync set is proposed. Operations that
   * it did not complete wait for that commit before they are acknowledged.
   */
  private memberFailed(member: Member, err: SessionError, what: string): void {
    if (err.kind === 'fenced') {
      this.fence(err);
      return;
    }
    member.lastError = `${what}: ${err.message}`;
    if (member.state !== 'active') return;
    member.state = 'removing';
    this.set.recompute();
    member.session?.abort();
    if (this.stateError !== null || this.stateValue === 'closed') {
      // A dead (or abandoned) engine changes nothing in the map.
      member.removal = Promise.reject(
        this.stateError ?? new BallastError('UNAVAILABLE', `volume ${this.volume.name} is closed`),
      );
      member.removal.catch(NOOP);
      return;
    }
    const reason = `${what} failed on ${member.nodeId}: ${err.message}`;
    this.logger?.warn(
      {
        volumeId: this.volume.id,
        nodeId: member.nodeId,
        role: member.role,
        kind: err.kind,
        reason,
      },
      'replica failed; taking it out of the set',
    );
    member.removal = this.removeFromSet(member, reason);
    member.removal.catch(NOOP);
  }

  private async removeFromSet(member: Member, reason: string): Promise<void> {
    try {
      await withTimeout(
        this.clock,
        this.controlPlane.markOutOfSync({
          volumeId: this.volume.id,
          volumeName: this.volume.name,
          nodeId: member.nodeId,
          epoch: this.epoch,
          incarnation: member.incarnation,
          reason,
        }),
        this.controlPlaneTimeoutMs,
        () =>
          new BallastError(
            'TIMEOUT',
            `meta did not confirm within ${this.controlPlaneTimeoutMs} ms that ${member.nodeId} left the set`,
          ),
      );
    } catch (err) {
      if (isBallastError(err, 'FENCED')) throw this.fence(err);
      if (member.role === 'rebuilding') {
        // Never blocks an acknowledgement; the replica stays out of this engine's I/O.
        this.logger?.warn({ nodeId: member.nodeId, err }, 'could not mark a rebuilding replica');
        member.state = 'removed';
        return;
      }
      if (isBallastError(err, 'CONFLICT')) {
        throw this.failEngine(
          `the replica on ${member.nodeId} is the last in-sync replica and it failed (${reason})`,
          err,
        );
      }
      throw this.failEngine(
        `meta did not take ${member.nodeId} out of the in-sync set: ${errorMessage(err)}`,
        err,
      );
    }
    member.state = 'removed';
    this.replicasMarkedOutOfSync += 1;
  }

  /** A newer epoch holds the volume: stop, fail everything, never acknowledge again. */
  private fence(err: unknown): BallastError {
    if (this.stateValue === 'fenced') return this.stateError!;
    const fenced = new BallastError(
      'FENCED',
      `volume ${this.volume.name}: epoch ${this.epoch} was superseded (${errorMessage(err)})`,
      { volumeId: this.volume.id, epoch: this.epoch },
      err,
    );
    this.logger?.error({ volumeId: this.volume.id, epoch: this.epoch, err }, 'engine fenced');
    this.stateError = fenced;
    if (this.stateValue !== 'closed') this.stateValue = 'fenced';
    for (const m of this.set.members) m.session?.abort();
    this.failAllOps(fenced);
    return fenced;
  }

  /** The engine cannot keep invariant 4 any more (the last in-sync replica failed, or meta did
   * not answer): every operation fails with EIO from now on. */
  private failEngine(reason: string, cause?: unknown): BallastError {
    if (this.stateError !== null) return this.stateError;
    const failed = new BallastError(
      'IO',
      `volume ${this.volume.name}: ${reason}`,
      {
        volumeId: this.volume.id,
      },
      cause,
    );
    this.logger?.error({ volumeId: this.volume.id, reason }, 'engine failed');
    const wasOpen = this.stateValue === 'open';
    this.stateError = failed;
    if (this.stateValue !== 'closed') this.stateValue = 'failed';
    this.failAllOps(failed);
    // Outside this call stack: the holder's reaction must not run inside a failing operation.
    if (wasOpen && this.onFailed !== undefined) {
      const notify = this.onFailed;
      queueMicrotask(() => notify(failed));
    }
    return failed;
  }

  private failAllOps(err: BallastError): void {
    const entries = [...this.lock.entries()];
    for (const e of entries) {
      if (e instanceof MutationOp) {
        this.settleFanOut(e, err);
        this.lock.release(e);
      } else if (e instanceof ReadOp) this.finishRead(e, undefined, err);
      else {
        this.lock.release(e);
        if (e instanceof RangeHold) e.cancel(err);
      }
    }
    for (const f of [...this.flushOps]) {
      this.settleFanOut(f, err);
      this.flushOps.delete(f);
    }
    this.notifyIdle();
  }

  private noReplicaError(): BallastError {
    return new BallastError('IO', `volume ${this.volume.name}: no in-sync replica is available`, {
      volumeId: this.volume.id,
    });
  }

  /** What the NBD server sees: FENCED (EPERM), INVALID_ARGUMENT (EINVAL), or IO (EIO). */
  private clientError(err: unknown): BallastError {
    if (err instanceof BallastError && !(err instanceof SessionError)) {
      if (err.code === 'FENCED' || err.code === 'INVALID_ARGUMENT' || err.code === 'IO') return err;
      if (err.code === 'CHECKSUM_MISMATCH') return err;
    }
    if (isBallastError(err, 'FENCED')) return this.fence(err);
    return new BallastError('IO', `volume ${this.volume.name}: ${errorMessage(err)}`, {}, err);
  }

  private admit(): BallastError | null {
    if (this.stateValue === 'open') {
      if (this.lock.size + this.flushOps.size >= this.maxInFlightOps) {
        return new BallastError(
          'UNAVAILABLE',
          `volume ${this.volume.name}: more than ${this.maxInFlightOps} operations in flight`,
        );
      }
      return null;
    }
    if (this.stateError !== null) return this.stateError;
    return new BallastError('UNAVAILABLE', `volume ${this.volume.name} is ${this.stateValue}`);
  }

  private checkRange(offset: number, length: number): BallastError | null {
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset + length > this.sizeBytes
    ) {
      return new BallastError(
        'INVALID_ARGUMENT',
        `range ${offset}+${length} is outside volume ${this.volume.name} (${this.sizeBytes} bytes)`,
      );
    }
    return null;
  }

  private refuse(kind: OpKind, err: BallastError): Promise<never> {
    this.counters[kind].errors += 1;
    return Promise.reject(err);
  }

  // ---------------------------------------------------------------------------------------
  // Timeouts

  /** How long a request to `m` may take before it fails as `timeout`. */
  private timeoutOf(m: Member): number {
    return this.set.isLastInSync(m)
      ? Math.max(this.replicaTimeoutMs, this.lastReplicaTimeoutMs)
      : this.replicaTimeoutMs;
  }

  /**
   * One timer for every request: legs older than replicaTimeoutMs fail as `timeout`. A leg to
   * the last in-sync replica waits up to lastReplicaTimeoutMs instead: a slow last copy (a
   * degraded link, a loaded node) is slowness to wait out, not a failure to drop.
   */
  private sweepTimeouts(): void {
    const now = this.clock.monotonicMs();
    const limit = now - this.replicaTimeoutMs;
    const lastLimit = now - Math.max(this.replicaTimeoutMs, this.lastReplicaTimeoutMs);
    // A snapshot: settling a timed-out entry changes the list.
    for (const e of [...this.lock.entries()]) {
      if (e instanceof MutationOp) this.timeOutLegs(e, limit, lastLimit);
      else if (e instanceof ReadOp) {
        const due = e.current !== null && this.set.isLastInSync(e.current) ? lastLimit : limit;
        if (e.current !== null && e.dispatchedAtMs < due) {
          this.readSettled(
            e,
            e.attempt,
            undefined,
            new SessionError(
              'timeout',
              e.current.nodeId,
              `read took more than ${this.timeoutOf(e.current)} ms`,
            ),
          );
        }
      }
    }
    for (const f of [...this.flushOps]) this.timeOutLegs(f, limit, lastLimit);
  }

  private timeOutLegs(op: FanOutOp, limit: number, lastLimit: number): void {
    if (op.legsPending === 0 || op.dispatchedAtMs >= limit) return;
    for (let i = 0; i < op.targets.length; i++) {
      if ((op.settledMask & (1 << i)) !== 0) continue;
      const target = op.targets[i]!;
      if (this.set.isLastInSync(target) && op.dispatchedAtMs >= lastLimit) continue;
      this.legSettled(
        op,
        i,
        new SessionError('timeout', target.nodeId, `no answer within ${this.timeoutOf(target)} ms`),
      );
    }
  }

  private startSweeper(): void {
    this.sweeper = this.clock.setInterval(
      this.sweep,
      Math.max(5, Math.min(1000, this.replicaTimeoutMs / 4)),
    );
  }

  /** A changed replica timeout (the volume's option) applies to requests in flight too. */
  private setReplicaTimeout(ms: number): void {
    if (ms === this.replicaTimeoutMs || !(ms > 0)) return;
    this.logger?.info(
      { volumeId: this.spec.id, fromMs: this.replicaTimeoutMs, toMs: ms },
      'replica timeout changed',
    );
    this.replicaTimeoutMs = ms;
    if (this.sweeper !== null) {
      this.stopSweeper();
      this.startSweeper();
    }
  }

  private stopSweeper(): void {
    if (this.sweeper !== null) this.clock.clearInterval(this.sweeper);
    this.sweeper = null;
  }

  private notifyIdle(): void {
    if (this.idleWaiters.length === 0) return;
    if (this.inFlightOps > 0 || this.lock.size > 0 || this.flushOps.size > 0) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  // ---------------------------------------------------------------------------------------
  // Membership, reconcile, rebuild

  /**
   * Applies a newer volume record from the map (the agent's watch): a changed attachment epoch
   * fences this engine; replicas that left the map stop receiving I/O; promoted replicas count as
   * in-sync from now on; new (rebuilding) replicas get a session and receive every write from
   * then on. Promotions should come from `rebuildReplica`, which promotes under a hold of the
   * whole volume; a promotion made elsewhere is handled conservatively (see the README).
   */
  async updateVolume(
    volume: VolumeSpec & { epoch?: number; attachment?: { epoch: number } | null },
  ): Promise<void> {
    if (volume.id !== this.volume.id || this.stateError !== null) return;
    const attachmentEpoch = volume.attachment === undefined ? this.epoch : volume.attachment?.epoch;
    if (attachmentEpoch !== this.epoch) {
      this.fence(new Error(`the map holds attachment epoch ${attachmentEpoch ?? 'none'}`));
      return;
    }
    this.setReplicaTimeout(volume.replicaTimeoutMs ?? this.defaultReplicaTimeoutMs);
    const listed = new Map(volume.replicas.map((r) => [r.nodeId, r] as const));
    for (const m of this.set.members) {
      const entry = listed.get(m.nodeId);
      // Another incarnation on that node is another replica (this one left the set, and the
      // map took the node back): for this member it is as if the map removed it.
      const role =
        entry === undefined || (entry.incarnation ?? 0) !== m.incarnation ? undefined : entry.role;
      if (role === undefined) {
        if (m.state === 'active') {
          // Removed by the map (an operator, or a move finishing): stop writing to it.
          m.state = 'removed';
          m.session?.abort();
          this.set.recompute();
        } else if (m.state === 'removing' && entry === undefined) {
          m.state = 'removed';
        }
      } else if (role === 'in-sync' && m.role === 'rebuilding' && m.state === 'active') {
        m.role = 'in-sync';
        this.set.recompute();
      }
      if (role === 'in-sync') m.promotionPending = false;
    }
    // A replica this engine dropped can be listed again as rebuilding (its node came back and
    // meta took the copy back for a delta rebuild, or a drain moved a replica back to it). Its
    // removal must be committed first; then it joins afresh, under its new incarnation.
    for (const m of this.set.members) {
      if (m.state === 'removing' && listed.get(m.nodeId)?.role === 'rebuilding') {
        await m.removal?.catch(NOOP);
      }
    }
    const joining = volume.replicas.filter((r) => {
      const known = this.set.members.find((m) => m.nodeId === r.nodeId);
      return known === undefined || (known.state === 'removed' && r.role === 'rebuilding');
    });
    await Promise.all(joining.map((r) => this.addMember(r.nodeId, r.role, r.incarnation ?? 0)));
  }

  private async addMember(
    nodeId: string,
    role: 'in-sync' | 'rebuilding',
    incarnation: number,
  ): Promise<void> {
    const member = new Member(nodeId, 'rebuilding', null, incarnation);
    const previous = this.set.members.findIndex((m) => m.nodeId === nodeId);
    if (previous === -1) {
      this.set.members.push(member);
    } else {
      // A returning replica: the failure counters stay monotonic across its incarnations.
      const old = this.set.members[previous]!;
      member.writeFailures = old.writeFailures;
      member.readFailures = old.readFailures;
      member.checksumErrors = old.checksumErrors;
      member.repairs = old.repairs;
      this.set.members[previous] = member;
    }
    try {
      member.session = await this.openSession(nodeId, this.sessionSpec(incarnation));
    } catch (err) {
      // It never received a write, so meta needs to hear nothing: the map still lists it as
      // rebuilding, and a later update (the agent retries) lets it join again.
      member.state = 'removed';
      this.memberFailed(member, toSessionError(err, nodeId), 'open session');
      return;
    }
    if (this.stateError !== null || member.state !== 'active') {
      member.session.abort();
      return;
    }
    if (role === 'in-sync') {
      // Listed in-sync without ever having received this engine's writes: it cannot count.
      this.logger?.error({ nodeId }, 'a replica joined the set as in-sync; treating it as failed');
      this.set.recompute();
      this.memberFailed(
        member,
        new SessionError('io', nodeId, "joined as in-sync without receiving this engine's writes"),
        'join',
      );
      return;
    }
    this.set.recompute();
  }

  /**
   * Copies to the rebuilding replica on `nodeId` every chunk it lacks, from an in-sync replica,
   * each copy under an exclusive hold of the chunk (no write to it in flight), and promotes it
   * once a comparison made under a hold of the whole volume finds nothing left to copy.
   */
  rebuildReplica(nodeId: string, options: RebuildOptions = {}): Promise<RebuildResult> {
    const member = this.set.members.find((m) => m.nodeId === nodeId);
    if (this.stateValue !== 'open') return Promise.reject(this.admit());
    if (member?.promotionPending === true && member.state === 'active') {
      // Copied and counted in-sync already; only meta's commit of the promotion is missing.
      if (this.rebuildsRunning.has(nodeId)) {
        return Promise.reject(new BallastError('CONFLICT', `${nodeId} is already being rebuilt`));
      }
      this.rebuildsRunning.add(nodeId);
      return confirmPromotion(this.rebuildContext(), member)
        .then(() => ({ chunksCopied: 0, bytesCopied: 0, passes: 0 }))
        .finally(() => this.rebuildsRunning.delete(nodeId));
    }
    if (member === undefined || member.role !== 'rebuilding' || member.state !== 'active') {
      return Promise.reject(
        new BallastError(
          'CONFLICT',
          `${nodeId} is not an active rebuilding replica of ${this.volume.name}`,
        ),
      );
    }
    if (this.rebuildsRunning.has(nodeId)) {
      return Promise.reject(new BallastError('CONFLICT', `${nodeId} is already being rebuilt`));
    }
    this.rebuildsRunning.add(nodeId);
    return rebuildReplica(this.rebuildContext(), member, options).finally(() =>
      this.rebuildsRunning.delete(nodeId),
    );
  }

  private reconcileContext() {
    return {
      volumeName: this.volume.name,
      epoch: this.epoch,
      chunkSizeBytes: this.volume.chunkSizeBytes,
      sizeBytes: this.volume.sizeBytes,
      concurrency: this.copyConcurrency,
      timeoutMs: this.replicaTimeoutMs,
      progress: this.reconcileProgress,
      clock: this.clock,
      logger: this.logger,
      inSync: () => this.set.activeInSync,
      others: () => this.set.active.filter((m) => m.role !== 'in-sync'),
      fail: (m: Member, err: unknown, what: string) => {
        this.memberFailed(m, toSessionError(err, m.nodeId), what);
        return m.removal ?? Promise.resolve();
      },
      checkUsable: () => this.throwIfUnusable(),
    };
  }

  private rebuildContext() {
    return {
      ...this.reconcileContext(),
      volumeId: this.volume.id,
      controlPlane: this.controlPlane,
      controlPlaneTimeoutMs: this.controlPlaneTimeoutMs,
      timeoutOf: (m: Member) => this.timeoutOf(m),
      hold: async (startBytes: number, endBytes: number): Promise<RangeHold> => {
        const hold = new RangeHold(startBytes, endBytes);
        if (this.lock.acquire(hold)) hold.lockGranted();
        await hold.granted;
        return hold;
      },
      release: (hold: RangeHold) => {
        this.lock.release(hold);
        this.notifyIdle();
      },
      remaining: (nodeId: string, chunks: number) => {
        if (chunks > 0) this.rebuildRemaining.set(nodeId, chunks);
        else this.rebuildRemaining.delete(nodeId);
      },
      copied: (bytes: number) => {
        this.rebuildCopiedChunks += 1;
        this.rebuildCopiedBytes += bytes;
      },
      promote: (m: Member) => {
        m.role = 'in-sync';
        this.set.recompute();
      },
      unpromote: (m: Member) => {
        if (m.role !== 'in-sync' || m.state !== 'active') return;
        this.logger?.warn(
          { volumeId: this.volume.id, nodeId: m.nodeId },
          'meta refused the promotion; the replica counts as rebuilding again',
        );
        m.role = 'rebuilding';
        this.set.recompute();
      },
      isActive: (m: Member) => m.state === 'active' && this.stateError === null,
    };
  }

  // ---------------------------------------------------------------------------------------
  // Metrics

  stats(): EngineStats {
    const ops = {} as Record<OpKind, OpCounters>;
    const latency = {} as EngineStats['latency'];
    for (const k of OP_KINDS) {
      ops[k] = { ...this.counters[k] };
      latency[k] = this.latency[k].snapshot();
    }
    let replicaWriteFailures = 0;
    for (const m of this.set.members) replicaWriteFailures += m.writeFailures;
    return {
      volumeId: this.volume.id,
      state: this.stateValue,
      epoch: this.epoch,
      sizeBytes: this.spec.sizeBytes,
      ops,
      latency,
      inFlight: this.lock.size + this.flushOps.size,
      readFallbacks: this.readFallbacks,
      readRepairs: this.readRepairs,
      replicaWriteFailures,
      replicasMarkedOutOfSync: this.replicasMarkedOutOfSync,
      replicas: this.set.members.map((m) => ({
        nodeId: m.nodeId,
        role: m.role,
        state: m.state,
        inFlight: m.inFlight,
        writeFailures: m.writeFailures,
        readFailures: m.readFailures,
        checksumErrors: m.checksumErrors,
        repairs: m.repairs,
        lastError: m.lastError,
      })),
      reconcile: { ...this.reconcileProgress },
      rebuild: {
        remainingChunks: [...this.rebuildRemaining.values()].reduce((a, b) => a + b, 0),
        copiedChunks: this.rebuildCopiedChunks,
        copiedBytes: this.rebuildCopiedBytes,
      },
    };
  }

  /** Node ids of the replicas receiving I/O, by role (for tests and the agent's status). */
  replicaSet(): { inSync: string[]; rebuilding: string[]; leaving: string[] } {
    return this.set.view();
  }
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new BallastError('CONFIG', `${name} must be a positive number, not ${value}`);
  }
  return value;
}
