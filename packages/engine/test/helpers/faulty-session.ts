// A fault-injecting wrapper around a real session (the simulation's network): each call asks
// `decide` what happens to it. Faults injected:
// - fail: the call rejects with a SessionError of the given kind, after reaching the replica
//   (applied: true, "the answer was lost") or without reaching it (applied: false);
// - hang: no answer ever (until the engine aborts the session), applied or not;
// - delay: the replica applies the call at once, the answer arrives `ms` later (a slow link);
// - late: the call reaches the replica `ms` later, after calls issued after it (a link that
//   does not keep order, which the engine must not rely on).
// Every write's outcome as the engine saw it is recorded by payload Buffer identity, so a test
// can check, at the moment a write is acknowledged, which replicas have it. `silence()` is a
// node that lost power: no call gets an answer any more (answers already on their way are
// dropped), as a peer that vanished without closing its connections.
import { systemClock, type Clock, type ClockTimer } from '@ballast/common';
import {
  payloadBytes,
  type ChunkCopy,
  type ChunkMapEntry,
  type ReplicaSession,
  type WritePayload,
  SessionError,
  type SessionErrorKind,
} from '@ballast/session';

export type CallKind =
  | 'read'
  | 'write'
  | 'trim'
  | 'zero'
  | 'flush'
  | 'chunkMap'
  | 'readChunk'
  | 'writeChunk'
  | 'markClean'
  | 'repair'
  | 'size'
  | 'snapshot';

export interface CallInfo {
  nodeId: string;
  kind: CallKind;
  offsetBytes: number;
  lengthBytes: number;
  /** Calls of this session so far. */
  seq: number;
}

export type Fault =
  | { type: 'none' }
  | { type: 'fail'; kind: SessionErrorKind; applied: boolean }
  | { type: 'hang'; applied: boolean }
  | { type: 'delay'; ms: number }
  | { type: 'late'; ms: number };

const NONE: Fault = { type: 'none' };

export class FaultySession implements ReplicaSession {
  decide: (call: CallInfo) => Fault = () => NONE;
  /** Debugging: told of every call that reached the replica, with the replica's outcome. */
  observe?: (call: CallInfo, fault: Fault, outcome: string) => void;
  /** Outcome of each write, by payload buffer, as the engine was told. */
  readonly writeOutcomes = new Map<WritePayload, 'ok' | 'failed'>();
  private seq = 0;
  private aborted = false;
  private readonly hung = new Set<(err: Error) => void>();
  private readonly timers = new Set<ClockTimer>();
  private silent = false;
  calls = 0;

  constructor(
    private readonly inner: ReplicaSession,
    private readonly clock: Clock = systemClock,
  ) {}

  /** From now on nothing answers: pending and new calls wait until the engine aborts. */
  silence(): void {
    this.silent = true;
  }

  get nodeId(): string {
    return this.inner.nodeId;
  }

  get markChunksClean(): ((indices: number[]) => Promise<void>) | undefined {
    const inner = this.inner.markChunksClean?.bind(this.inner);
    if (inner === undefined) return undefined;
    return (indices) =>
      this.run({ kind: 'markClean', offsetBytes: 0, lengthBytes: 0 }, () => inner(indices));
  }

  get repairBlocks(): ((offset: number, data: Buffer) => Promise<void>) | undefined {
    const inner = this.inner.repairBlocks?.bind(this.inner);
    if (inner === undefined) return undefined;
    return (offset, data) =>
      this.run({ kind: 'repair', offsetBytes: offset, lengthBytes: data.length }, () =>
        inner(offset, data),
      );
  }

  get replicaSizeBytes(): (() => Promise<number>) | undefined {
    const inner = this.inner.replicaSizeBytes?.bind(this.inner);
    if (inner === undefined) return undefined;
    return () => this.run({ kind: 'size', offsetBytes: 0, lengthBytes: 0 }, inner);
  }

  get snapshot(): ((seq: number) => Promise<void>) | undefined {
    const inner = this.inner.snapshot?.bind(this.inner);
    if (inner === undefined) return undefined;
    return (seq) =>
      this.run({ kind: 'snapshot', offsetBytes: 0, lengthBytes: 0 }, () => inner(seq));
  }

  get readSnapshot():
    ((seq: number, offset: number, length: number) => Promise<Buffer>) | undefined {
    const inner = this.inner.readSnapshot?.bind(this.inner);
    if (inner === undefined) return undefined;
    return (seq, offset, length) =>
      this.run({ kind: 'read', offsetBytes: offset, lengthBytes: length }, () =>
        inner(seq, offset, length),
      );
  }

  read(offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    return this.run({ kind: 'read', offsetBytes, lengthBytes }, () =>
      this.inner.read(offsetBytes, lengthBytes),
    );
  }

  readInto(
    offsetBytes: number,
    lengthBytes: number,
    target: Buffer,
    targetOffset: number,
  ): Promise<void> {
    return this.run({ kind: 'read', offsetBytes, lengthBytes }, () =>
      this.inner.readInto(offsetBytes, lengthBytes, target, targetOffset),
    );
  }

  write(offsetBytes: number, data: WritePayload, fua: boolean): Promise<void> {
    const p = this.run({ kind: 'write', offsetBytes, lengthBytes: payloadBytes(data) }, () =>
      this.inner.write(offsetBytes, data, fua),
    );
    p.then(
      () => this.writeOutcomes.set(data, 'ok'),
      () => this.writeOutcomes.set(data, 'failed'),
    );
    return p;
  }

  trim(offsetBytes: number, lengthBytes: number, fua: boolean): Promise<void> {
    return this.run({ kind: 'trim', offsetBytes, lengthBytes }, () =>
      this.inner.trim(offsetBytes, lengthBytes, fua),
    );
  }

  writeZeroes(
    offsetBytes: number,
    lengthBytes: number,
    noHole: boolean,
    fua: boolean,
  ): Promise<void> {
    return this.run({ kind: 'zero', offsetBytes, lengthBytes }, () =>
      this.inner.writeZeroes(offsetBytes, lengthBytes, noHole, fua),
    );
  }

  flush(): Promise<void> {
    return this.run({ kind: 'flush', offsetBytes: 0, lengthBytes: 0 }, () => this.inner.flush());
  }

  chunkMap(): Promise<ChunkMapEntry[]> {
    return this.run({ kind: 'chunkMap', offsetBytes: 0, lengthBytes: 0 }, () =>
      this.inner.chunkMap(),
    );
  }

  readChunk(index: number): Promise<ChunkCopy> {
    return this.run({ kind: 'readChunk', offsetBytes: index, lengthBytes: 0 }, () =>
      this.inner.readChunk(index),
    );
  }

  writeChunk(index: number, generation: number, data: Buffer | null): Promise<void> {
    return this.run(
      { kind: 'writeChunk', offsetBytes: index, lengthBytes: data?.length ?? 0 },
      () => this.inner.writeChunk(index, generation, data),
    );
  }

  close(): Promise<void> {
    const silent = this.silent;
    this.stop();
    // A node without power never answers the goodbye either.
    return silent ? Promise.resolve() : this.inner.close();
  }

  abort(): void {
    this.stop();
    this.inner.abort();
  }

  private stop(): void {
    this.aborted = true;
    const err = new SessionError('disconnected', this.nodeId, 'session aborted');
    for (const reject of this.hung) reject(err);
    this.hung.clear();
    for (const timer of this.timers) this.clock.clearTimeout(timer);
    this.timers.clear();
  }

  private run<T>(call: Omit<CallInfo, 'nodeId' | 'seq'>, forward: () => Promise<T>): Promise<T> {
    this.calls += 1;
    if (this.aborted) {
      return Promise.reject(new SessionError('disconnected', this.nodeId, 'session aborted'));
    }
    if (this.silent) return this.hang();
    const info = { ...call, nodeId: this.nodeId, seq: this.seq++ };
    const fault = this.decide(info);
    const observe = this.observe;
    if (observe === undefined) return this.unlessSilenced(this.apply(fault, call.kind, forward));
    // The replica's own outcome (what it applied), then what the engine was told.
    observe(info, fault, 'sent');
    const reached = () => {
      const p = forward();
      p.then(
        () => observe(info, fault, 'replica ok'),
        (e: Error) => observe(info, fault, `replica failed: ${e.message}`),
      );
      return p;
    };
    return this.unlessSilenced(this.apply(fault, call.kind, reached));
  }

  private hang<T>(): Promise<T> {
    return new Promise<T>((_resolve, reject) => {
      this.hung.add(reject);
    });
  }

  /** An answer that arrives after silence() is dropped: the call hangs instead. */
  private unlessSilenced<T>(answer: Promise<T>): Promise<T> {
    return answer.then(
      (value) => (this.silent ? this.hang<T>() : value),
      (err: unknown) => (this.silent ? this.hang<T>() : Promise.reject(err)),
    );
  }

  private apply<T>(fault: Fault, kind: CallKind, forward: () => Promise<T>): Promise<T> {
    switch (fault.type) {
      case 'none':
        return forward();
      case 'fail': {
        const err = new SessionError(fault.kind, this.nodeId, `injected ${fault.kind} on ${kind}`);
        if (!fault.applied) return Promise.reject(err);
        return forward().then(
          () => {
            throw err;
          },
          () => {
            throw err;
          },
        );
      }
      case 'hang': {
        if (fault.applied) forward().catch(() => undefined);
        return new Promise<T>((_resolve, reject) => {
          this.hung.add(reject);
        });
      }
      case 'late': {
        return new Promise<T>((resolve, reject) => {
          this.hung.add(reject);
          const timer = this.clock.setTimeout(() => {
            this.timers.delete(timer);
            this.hung.delete(reject);
            forward().then(resolve, reject);
          }, fault.ms);
          this.timers.add(timer);
        });
      }
      case 'delay': {
        const answer = forward();
        answer.catch(() => undefined); // an abort may leave nobody waiting for it
        return new Promise<T>((resolve, reject) => {
          this.hung.add(reject);
          const timer = this.clock.setTimeout(() => {
            this.timers.delete(timer);
            this.hung.delete(reject);
            answer.then(resolve, reject);
          }, fault.ms);
          this.timers.add(timer);
        });
      }
    }
  }
}
