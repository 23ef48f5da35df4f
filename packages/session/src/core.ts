import { BallastError, type Fence } from '@ballast/common';
import type { ChunkMapResult, OpenSessionArgs, OpenedSession, ReplicaStore } from './store.js';
import type { ChunkCopy, PeerInfo, TrimOptions } from './types.js';

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * The session rules, written once: the data-plane server runs one SessionCore per session a
 * remote engine opens, LocalSession one per session an engine in this process opens.
 *
 * - Opening goes through the store (the fence persisted and a clean cut behind older fences).
 * - Every request re-checks the fence first (`check`): a newer epoch or incarnation accepted
 *   through any session, the cluster map or before a restart ends this one.
 * - Mutations go to the store in call order; those that took the asynchronous path are tracked,
 *   so a flush covers every mutation issued on this session before it, applied or not yet.
 * - FUA is the mutation, then a flush.
 * - Closing waits for the session's pending mutations, then releases the store's binding.
 *
 * Results stay synchronous where the store's are (a mutation returns undefined when applied at
 * once): the server answers those without a promise per request.
 */
export class SessionCore<B> {
  #open = true;
  readonly #pending = new Set<Promise<void>>();
  readonly fence: Fence;

  private constructor(
    readonly store: ReplicaStore<B>,
    readonly volumeId: string,
    fence: Fence,
    readonly opened: OpenedSession<B>,
  ) {
    this.fence = { epoch: fence.epoch, incarnation: fence.incarnation };
  }

  static async open<B>(
    store: ReplicaStore<B>,
    args: OpenSessionArgs,
    peer: PeerInfo,
  ): Promise<SessionCore<B>> {
    const opened = await store.openSession(args, peer);
    return new SessionCore(store, args.volumeId, args, opened);
  }

  get binding(): B {
    return this.opened.binding;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /** Mutations that took the asynchronous path and have not settled. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Throws NOT_FOUND once closed, FENCED or SUPERSEDED once the fence moved on. */
  check(): void {
    if (!this.#open) {
      throw new BallastError('NOT_FOUND', `the session on volume ${this.volumeId} is closed`);
    }
    this.store.checkFence(this.volumeId, this.fence);
  }

  read(offsetBytes: number, lengthBytes: number): Buffer | Promise<Buffer> {
    this.check();
    return this.store.read(this.binding, offsetBytes, lengthBytes);
  }

  /** Fills all of `target`; undefined when done at once. */
  readInto(offsetBytes: number, target: Buffer): Promise<void> | undefined {
    this.check();
    if (this.store.readInto !== undefined) {
      return this.store.readInto(this.binding, offsetBytes, target);
    }
    const data = this.store.read(this.binding, offsetBytes, target.length);
    if (Buffer.isBuffer(data)) {
      data.copy(target);
      return undefined;
    }
    return data.then((d) => {
      d.copy(target);
    });
  }

  write(
    offsetBytes: number,
    data: Buffer | readonly Buffer[],
    fua: boolean,
  ): Promise<void> | undefined {
    this.check();
    return this.#settle(this.store.write(this.binding, offsetBytes, data), fua);
  }

  trim(
    offsetBytes: number,
    lengthBytes: number,
    opts: TrimOptions,
    fua: boolean,
  ): Promise<void> | undefined {
    this.check();
    return this.#settle(this.store.trim(this.binding, offsetBytes, lengthBytes, opts), fua);
  }

  writeChunk(index: number, generation: number, data: Buffer | null): Promise<void> | undefined {
    this.check();
    return this.#settle(this.store.writeChunk(this.binding, index, generation, data), false);
  }

  /** Whether the store can clear unclean marks and repair blocks in place (not remotely yet). */
  get canRepair(): boolean {
    return this.store.markChunksClean !== undefined && this.store.repairBlocks !== undefined;
  }

  markChunksClean(indices: number[]): Promise<void> {
    this.check();
    if (this.store.markChunksClean === undefined) {
      throw new BallastError('INTERNAL', 'this store cannot mark chunks clean');
    }
    return this.#settle(this.store.markChunksClean(this.binding, indices), false)!;
  }

  repairBlocks(offsetBytes: number, data: Buffer): Promise<void> | undefined {
    this.check();
    if (this.store.repairBlocks === undefined) {
      throw new BallastError('INTERNAL', 'this store cannot repair blocks');
    }
    return this.#settle(this.store.repairBlocks(this.binding, offsetBytes, data), false);
  }

  /** Whether the store can take and read snapshots (the chunk store and memory do). */
  get canSnapshot(): boolean {
    return this.store.createSnapshot !== undefined && this.store.readSnapshot !== undefined;
  }

  /**
   * Takes snapshot `seq` after every mutation issued on this session before the call (applied
   * or not yet, as for flush): the replica's side of the engine's cut.
   */
  snapshot(seq: number): Promise<void> {
    this.check();
    const create = this.store.createSnapshot;
    if (create === undefined)
      throw new BallastError('INTERNAL', 'this store cannot take snapshots');
    if (this.#pending.size === 0) return create.call(this.store, this.binding, seq);
    return Promise.allSettled([...this.#pending]).then(() =>
      create.call(this.store, this.binding, seq),
    );
  }

  readSnapshot(seq: number, offsetBytes: number, lengthBytes: number): Buffer | Promise<Buffer> {
    this.check();
    if (this.store.readSnapshot === undefined) {
      throw new BallastError('INTERNAL', 'this store cannot read snapshots');
    }
    return this.store.readSnapshot(this.volumeId, seq, offsetBytes, lengthBytes);
  }

  /** Makes every mutation issued on this session before the call durable. */
  flush(): Promise<void> {
    this.check();
    if (this.#pending.size === 0) return this.store.flush(this.binding);
    // Cover every mutation that arrived before the flush, applied or not yet.
    return Promise.allSettled([...this.#pending]).then(() => this.store.flush(this.binding));
  }

  chunkMap(): Promise<ChunkMapResult> {
    this.check();
    return this.store.chunkMap(this.volumeId);
  }

  readChunk(index: number): ChunkCopy | Promise<ChunkCopy> {
    this.check();
    return this.store.readChunk(this.volumeId, index);
  }

  /** Ends the session: no request is accepted any more; the binding goes once pending ones settle. */
  close(): Promise<void> {
    if (!this.#open) return RESOLVED;
    this.#open = false;
    const release = (): void => this.store.closeSession?.(this.binding);
    if (this.#pending.size === 0) {
      release();
      return RESOLVED;
    }
    return Promise.allSettled([...this.#pending]).then(release);
  }

  #settle(result: Promise<void> | undefined, fua: boolean): Promise<void> | undefined {
    if (result !== undefined) {
      this.#pending.add(result);
      const untrack = (): void => {
        this.#pending.delete(result);
      };
      result.then(untrack, untrack);
    }
    if (!fua) return result;
    return (result ?? RESOLVED).then(() => this.store.flush(this.binding));
  }
}
