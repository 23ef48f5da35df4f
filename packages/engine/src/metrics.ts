/**
 * Plain counters and fixed-bucket histograms for the agent's Prometheus exporter: the engine
 * does not depend on prom-client; the agent reads `VolumeEngine.stats()` from a collect
 * callback (buckets are cumulative-ready: counts per upper bound, like prom-client's).
 */

/** Upper bounds in seconds, as Prometheus histograms expect (50 µs .. 10 s). */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
  5, 10,
];
const BUCKETS_MS = LATENCY_BUCKETS_SECONDS.map((s) => s * 1000);

export class LatencyHistogram {
  /** counts[i]: observations <= bucket i's bound and > bucket i-1's; the last one is +Inf. */
  readonly counts = new Array<number>(BUCKETS_MS.length + 1).fill(0);
  sumSeconds = 0;
  count = 0;

  observeMs(ms: number): void {
    let i = 0;
    while (i < BUCKETS_MS.length && ms > BUCKETS_MS[i]!) i++;
    this.counts[i]! += 1;
    this.sumSeconds += ms / 1000;
    this.count += 1;
  }

  snapshot(): HistogramSnapshot {
    return {
      bucketsSeconds: LATENCY_BUCKETS_SECONDS,
      counts: [...this.counts],
      sumSeconds: this.sumSeconds,
      count: this.count,
    };
  }
}

export interface HistogramSnapshot {
  bucketsSeconds: readonly number[];
  /** Non-cumulative count per bucket; one more entry than bounds (+Inf). */
  counts: number[];
  sumSeconds: number;
  count: number;
}

export interface OpCounters {
  ops: number;
  bytes: number;
  errors: number;
}

/** `snapshot`: cuts (issue 16); their latency is the write pause, hold to acknowledgement. */
export type OpKind = 'read' | 'write' | 'trim' | 'zero' | 'flush' | 'snapshot';
export const OP_KINDS: readonly OpKind[] = ['read', 'write', 'trim', 'zero', 'flush', 'snapshot'];

export interface ReplicaCounters {
  nodeId: string;
  role: 'in-sync' | 'rebuilding';
  /** `active`: receives I/O; `removing`: failed, leaving the set; `removed`: out of the set. */
  state: 'active' | 'removing' | 'removed';
  inFlight: number;
  writeFailures: number;
  readFailures: number;
  checksumErrors: number;
  /** Read repairs written to this replica. */
  repairs: number;
  lastError: string | null;
}

export interface ReconcileProgress {
  state: 'idle' | 'running' | 'done' | 'failed';
  chunksTotal: number;
  chunksDone: number;
  bytesCopied: number;
}

/** Live rebuilds of this engine's rebuilding replicas, summed over them. */
export interface RebuildProgress {
  /** Chunks the current passes still have to copy (0 when no rebuild runs). */
  remainingChunks: number;
  /** Chunks copied since the engine opened (monotonic). */
  copiedChunks: number;
  /** Bytes copied since the engine opened (monotonic). */
  copiedBytes: number;
}

export interface EngineStats {
  volumeId: string;
  state: string;
  epoch: number;
  /** Size the engine serves (grows after an online resize once every replica has). */
  sizeBytes: number;
  ops: Record<OpKind, OpCounters>;
  latency: Record<OpKind, HistogramSnapshot>;
  inFlight: number;
  /** Reads served by another replica after one failed. */
  readFallbacks: number;
  /** Ranges rewritten on a replica from a good copy after a checksum mismatch. */
  readRepairs: number;
  replicaWriteFailures: number;
  /** markOutOfSync calls committed by meta. */
  replicasMarkedOutOfSync: number;
  replicas: ReplicaCounters[];
  reconcile: ReconcileProgress;
  rebuild: RebuildProgress;
}
