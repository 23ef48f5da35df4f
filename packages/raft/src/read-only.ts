import { assert } from '@ballast/common';
import { contextKey } from './types.js';

/** Who asked for a read: this member ('' ) or a follower that forwarded it. */
export interface ReadRequest {
  readonly from: string;
  readonly context: Uint8Array;
}

interface ReadIndexStatus {
  readonly request: ReadRequest;
  readonly index: number;
  readonly acks: Set<string>;
}

/**
 * ReadIndex requests waiting for a heartbeat round to confirm the leader is still the leader
 * (etcd's readOnly). Requests are confirmed in order: an ack for a later request confirms
 * every earlier one, since it proves leadership at a later moment.
 */
export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  size(): number {
    return this.queue.length;
  }

  has(ctx: Uint8Array): boolean {
    return this.pending.has(contextKey(ctx));
  }

  addRequest(index: number, request: ReadRequest): void {
    const key = contextKey(request.context);
    if (this.pending.has(key)) return;
    this.pending.set(key, { request, index, acks: new Set() });
    this.queue.push(key);
  }

  /** Records an ack and returns who has acked this request so far (undefined if unknown). */
  recvAck(id: string, ctx: Uint8Array): ReadonlySet<string> | undefined {
    const rs = this.pending.get(contextKey(ctx));
    if (rs === undefined) return undefined;
    rs.acks.add(id);
    return rs.acks;
  }

  /** Releases the request with ctx and all requests queued before it. */
  advance(ctx: Uint8Array): { request: ReadRequest; index: number }[] {
    const key = contextKey(ctx);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const released = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    return released.map((k) => {
      const rs = this.pending.get(k);
      assert(rs !== undefined, 'queued read must be pending');
      this.pending.delete(k);
      return { request: rs.request, index: rs.index };
    });
  }

  lastPendingContext(): Uint8Array | undefined {
    const key = this.queue[this.queue.length - 1];
    return key === undefined ? undefined : this.pending.get(key)!.request.context;
  }

  /** Drops everything (leadership lost) and returns what was dropped. */
  clear(): ReadRequest[] {
    const dropped = this.queue.map((k) => this.pending.get(k)!.request);
    this.pending.clear();
    this.queue = [];
    return dropped;
  }
}
