import { ballast } from '@ballast/proto';
import type { SeededRng } from '../rng.js';
import type { Message } from '../types.js';

export interface NetworkFaults {
  /** Probability that a message is lost. */
  dropRate: number;
  /** Probability that a message is delivered twice (each copy with its own delay). */
  duplicateRate: number;
  /** Delivery delay in time units, uniform in [minDelay, maxDelay]; reordering follows. */
  minDelay: number;
  maxDelay: number;
}

export const NO_FAULTS: NetworkFaults = { dropRate: 0, duplicateRate: 0, minDelay: 1, maxDelay: 3 };

type Payload = Message | Uint8Array;

/**
 * The simulated network. Faults it injects: loss, duplication, delay (hence reordering),
 * and partitions as a set of cut directed links (so a partition can be asymmetric: a hears b
 * while b does not hear a). A cut link drops messages both when they are sent and when they
 * would arrive. With `wire`, every message is encoded with ballast.raft.RaftMessage and decoded
 * on arrival, as the real transport does.
 */
export class SimNetwork {
  faults: NetworkFaults = NO_FAULTS;
  private readonly cut = new Set<string>();
  private readonly buckets = new Map<number, Payload[]>();
  private inFlight = 0;
  sent = 0;
  dropped = 0;
  duplicated = 0;
  delivered = 0;

  constructor(
    private readonly rng: SeededRng,
    private readonly wire: boolean,
    /** Bound on messages in flight; beyond it the network drops (a full socket buffer). */
    private readonly maxInFlight = 100_000,
  ) {}

  private static link(from: string, to: string): string {
    return `${from}>${to}`;
  }

  isCut(from: string, to: string): boolean {
    return this.cut.has(SimNetwork.link(from, to));
  }

  cutLink(from: string, to: string): void {
    this.cut.add(SimNetwork.link(from, to));
  }

  /** Cuts every link between the groups, both ways. */
  partition(groupA: readonly string[], groupB: readonly string[]): void {
    for (const a of groupA) {
      for (const b of groupB) {
        this.cutLink(a, b);
        this.cutLink(b, a);
      }
    }
  }

  healAll(): void {
    this.cut.clear();
  }

  cutCount(): number {
    return this.cut.size;
  }

  send(m: Message, now: number): void {
    this.sent++;
    if (this.isCut(m.from!, m.to!) || this.rng.chance(this.faults.dropRate)) {
      this.dropped++;
      return;
    }
    const payload: Payload = this.wire ? ballast.raft.RaftMessage.encode(m).finish() : m;
    const copies = this.rng.chance(this.faults.duplicateRate) ? 2 : 1;
    if (copies === 2) this.duplicated++;
    for (let i = 0; i < copies; i++) {
      if (this.inFlight >= this.maxInFlight) {
        this.dropped++;
        continue;
      }
      const at = now + this.rng.intBetween(this.faults.minDelay, this.faults.maxDelay);
      let bucket = this.buckets.get(at);
      if (bucket === undefined) {
        bucket = [];
        this.buckets.set(at, bucket);
      }
      bucket.push(payload);
      this.inFlight++;
    }
  }

  /** Messages arriving at `now`, in random order, minus those on links cut meanwhile. */
  deliver(now: number): Message[] {
    const bucket = this.buckets.get(now);
    if (bucket === undefined) return [];
    this.buckets.delete(now);
    this.inFlight -= bucket.length;
    for (let i = bucket.length - 1; i > 0; i--) {
      const j = this.rng.intBelow(i + 1);
      const tmp = bucket[i]!;
      bucket[i] = bucket[j]!;
      bucket[j] = tmp;
    }
    const out: Message[] = [];
    for (const p of bucket) {
      const m = p instanceof Uint8Array ? ballast.raft.RaftMessage.decode(p) : p;
      if (this.isCut(m.from!, m.to!)) {
        this.dropped++;
        continue;
      }
      this.delivered++;
      out.push(m);
    }
    return out;
  }
}
