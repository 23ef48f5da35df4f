// The operations the engine tracks: mutations and flushes that fan out to every active replica
// (their legs counted in bit masks), reads that try one replica at a time, and whole-range holds
// for rebuild copies. Each waits in the range lock (range-lock.ts) until the engine dispatches it.
import type { WritePayload } from '@ballast/session';
import type { Member } from './member.js';
import type { OpKind } from './metrics.js';
import type { LockEntry } from './range-lock.js';

/** What a mutation does (an index into KIND_NAME). */
export const MutationKind = { Write: 0, Trim: 1, Zero: 2 } as const;
export type MutationKind = (typeof MutationKind)[keyof typeof MutationKind];

export const KIND_NAME: readonly OpKind[] = ['write', 'trim', 'zero'];
export const NOOP = (): void => undefined;

/** What an operation calls when the range lock grants it (the engine). */
export interface OpDispatcher {
  dispatchMutation(op: MutationOp): void;
  dispatchRead(op: ReadOp): void;
}

/** Fields shared by operations that fan out to several replicas and count their legs. */
export abstract class FanOutOp {
  targets: Member[] = [];
  legsPending = 0;
  /** Bit i: leg to targets[i] settled / succeeded. */
  settledMask = 0;
  okMask = 0;
  dispatchedAtMs = 0;
  /** The acknowledgement has been decided (answered, or waiting for removals). */
  evaluated = false;
  done = false;
  resolve: () => void = NOOP;
  reject: (err: unknown) => void = NOOP;
  constructor(readonly createdAtMs: number) {}

  reached(member: Member): boolean {
    const i = this.targets.indexOf(member);
    return i >= 0 && (this.okMask & (1 << i)) !== 0;
  }
}

export class MutationOp extends FanOutOp implements LockEntry {
  readonly exclusive = true;
  lockWaitingOn = 0;
  lockWaiters: LockEntry[] | null = null;
  lockPrev: LockEntry | null = null;
  lockNext: LockEntry | null = null;
  lockQueued = false;

  constructor(
    private readonly engine: OpDispatcher,
    readonly kind: MutationKind,
    readonly startBytes: number,
    readonly endBytes: number,
    readonly data: WritePayload | null,
    readonly fua: boolean,
    readonly noHole: boolean,
    createdAtMs: number,
  ) {
    super(createdAtMs);
  }

  lockGranted(): void {
    this.engine.dispatchMutation(this);
  }
}

export class FlushOp extends FanOutOp {}

/** A snapshot cut's fan-out (created when the hold began: its latency is the write pause). */
export class SnapshotOp extends FlushOp {}

export class ReadOp implements LockEntry {
  readonly exclusive = false;
  lockWaitingOn = 0;
  lockWaiters: LockEntry[] | null = null;
  lockPrev: LockEntry | null = null;
  lockNext: LockEntry | null = null;
  lockQueued = false;
  current: Member | null = null;
  attempt = 0;
  dispatchedAtMs = 0;
  tried: Member[] | null = null;
  /** Replicas whose copy failed its checksum: repaired once a good copy is read. */
  bad: Member[] | null = null;
  done = false;
  resolve: (data: Buffer | undefined) => void = NOOP;
  reject: (err: unknown) => void = NOOP;

  constructor(
    private readonly engine: OpDispatcher,
    readonly startBytes: number,
    readonly endBytes: number,
    /** readInto: where the data goes; readAt: null (a new buffer is returned). */
    readonly target: Buffer | null,
    readonly targetOffset: number,
    readonly createdAtMs: number,
  ) {}

  lockGranted(): void {
    this.engine.dispatchRead(this);
  }
}

/** A whole-range exclusive hold for chunk copies (rebuild) and map snapshots. */
export class RangeHold implements LockEntry {
  readonly exclusive = true;
  lockWaitingOn = 0;
  lockWaiters: LockEntry[] | null = null;
  lockPrev: LockEntry | null = null;
  lockNext: LockEntry | null = null;
  lockQueued = false;
  private onGranted: (() => void) | null = null;
  private onCancel: ((err: unknown) => void) | null = null;
  readonly granted: Promise<void>;

  constructor(
    readonly startBytes: number,
    readonly endBytes: number,
  ) {
    this.granted = new Promise<void>((resolve, reject) => {
      this.onGranted = resolve;
      this.onCancel = reject;
    });
    this.granted.catch(NOOP);
  }

  lockGranted(): void {
    this.onGranted?.();
  }

  /** The engine stopped: a holder still waiting gets the reason instead of waiting forever. */
  cancel(err: unknown): void {
    this.onCancel?.(err);
  }
}
