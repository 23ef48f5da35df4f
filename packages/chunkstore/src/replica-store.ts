import { BallastError, assert, formatFence, type Fence, type Logger } from '@ballast/common';
import type {
  ChunkCopy,
  ChunkMapResult,
  OpenSessionArgs,
  OpenedSession,
  ReplicaStore,
  TrimOptions,
} from '@ballast/session';
import { BLOCK_SIZE_BYTES, MAX_IO_BYTES } from './constants.js';
import type { Replica } from './replica.js';
import type { ChunkStore } from './store.js';

/** What a session holds on to: the replica it reads and writes. */
export interface ReplicaBinding {
  readonly volumeId: string;
  readonly fence: Fence;
  readonly replica: Replica;
}

/**
 * The chunk store as sessions see it (the node's data-plane server, the agent's embedded node,
 * the engine's tests). A node holds at most one replica per volume, so the replica id is the
 * volume id. Fences (epoch, replica incarnation) are the store's, persisted
 * in its index so fencing survives restarts; checksum failures surface as CHECKSUM_MISMATCH and
 * are never answered with data.
 */
export class ChunkStoreReplicaStore implements ReplicaStore<ReplicaBinding> {
  readonly #store: ChunkStore;
  readonly #log: Logger | undefined;
  /**
   * The latest mutation per volume that is still waiting for a dirty mark. The replica applies
   * its queue in order, so once this settles every earlier one has too.
   */
  readonly #tails = new Map<string, Promise<void>>();

  constructor(store: ChunkStore, log?: Logger) {
    this.#store = store;
    this.#log = log;
  }

  async openSession(request: OpenSessionArgs): Promise<OpenedSession<ReplicaBinding>> {
    const { volumeId } = request;
    const fence: Fence = { epoch: request.epoch, incarnation: request.incarnation };
    const replica = this.#store.replica(volumeId);
    if (replica.state !== 'open') {
      throw new BallastError('IO', `replica ${volumeId} is ${replica.state} and cannot serve`);
    }
    if (request.sizeBytes !== 0 && request.sizeBytes !== replica.sizeBytes) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `replica ${volumeId} is ${replica.sizeBytes} bytes, the session expects ${request.sizeBytes}`,
      );
    }
    if (request.chunkSizeBytes !== 0 && request.chunkSizeBytes !== replica.chunkSizeBytes) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `replica ${volumeId} has ${replica.chunkSizeBytes}-byte chunks, the session expects ${request.chunkSizeBytes}`,
      );
    }
    // FENCED (older epoch) or SUPERSEDED (older incarnation); a newer fence is persisted
    // (synced) before we go on.
    const newer = this.#store.checkFence(volumeId, fence) === 'newer';
    await this.#store.acceptFence(volumeId, fence);
    // A clean cut: mutations under older fences that were accepted before this moment land
    // before the new session hears it may start; every later one is refused by checkFence.
    // Also when the fence is not new to the store: the map (acceptFence below) may have
    // brought it first.
    await this.#settled(volumeId);
    if (newer) this.#log?.info({ volumeId, ...fence }, 'accepted a new fence');
    const highest = this.#store.highestFence(volumeId);
    return {
      binding: { volumeId, fence, replica },
      sizeBytes: replica.sizeBytes,
      chunkSizeBytes: replica.chunkSizeBytes,
      blockSizeBytes: BLOCK_SIZE_BYTES,
      highestEpoch: highest.epoch,
      highestIncarnation: highest.incarnation,
    };
  }

  checkFence(volumeId: string, fence: Fence): void {
    this.#store.checkFence(volumeId, fence);
  }

  /**
   * Accepts a fence for the node's own control code (the cluster map, a rebuild): persisted
   * (synced) first, then every mutation under an older fence that was accepted before has
   * landed, as when a session opens it. FENCED or SUPERSEDED if a newer one is accepted.
   */
  async acceptFence(volumeId: string, fence: Fence): Promise<void> {
    await this.#store.acceptFence(volumeId, fence);
    await this.#settled(volumeId);
  }

  /**
   * Installs a chunk copied from a peer (a node-driven rebuild) as a mutation under `fence`,
   * which the caller accepted first (`acceptFence`): refused once a newer fence is accepted,
   * and ordered with the data plane's mutations (a newer session's clean cut waits for it),
   * exactly like a WriteChunk on a session under that fence.
   */
  installChunk(
    volumeId: string,
    fence: Fence,
    index: number,
    generation: number,
    data: Buffer | null,
  ): Promise<void> | undefined {
    const state = this.#store.checkFence(volumeId, fence);
    assert(
      state === 'current',
      `install under ${formatFence(fence)} of ${volumeId} before accepting it`,
    );
    const replica = this.#store.replica(volumeId);
    if (replica.state !== 'open') {
      throw new BallastError('IO', `replica ${volumeId} is ${replica.state} and cannot serve`);
    }
    return this.#track(volumeId, replica.installChunk(index, generation, data));
  }

  read(b: ReplicaBinding, offsetBytes: number, lengthBytes: number): Buffer {
    return b.replica.read(offsetBytes, lengthBytes);
  }

  readInto(b: ReplicaBinding, offsetBytes: number, target: Buffer): undefined {
    b.replica.readInto(offsetBytes, target);
    return undefined;
  }

  write(
    b: ReplicaBinding,
    offsetBytes: number,
    data: Buffer | readonly Buffer[],
  ): Promise<void> | undefined {
    return this.#track(b.volumeId, b.replica.write(offsetBytes, data));
  }

  trim(
    b: ReplicaBinding,
    offsetBytes: number,
    lengthBytes: number,
    opts: TrimOptions,
  ): Promise<void> | undefined {
    // The store takes at most MAX_IO_BYTES per call; NBD clients trim far more at once. The
    // pieces are submitted now, in order, so they keep their place among other mutations.
    const waits: Promise<void>[] = [];
    let pos = offsetBytes;
    const end = offsetBytes + lengthBytes;
    if (lengthBytes === 0) return undefined;
    if (end > b.replica.sizeBytes) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `range ${offsetBytes}+${lengthBytes} is outside replica ${b.volumeId} (${b.replica.sizeBytes} bytes)`,
      );
    }
    while (pos < end) {
      const n = Math.min(MAX_IO_BYTES, end - pos);
      const r = opts.zero
        ? b.replica.writeZeroes(pos, n, { noHole: opts.noHole })
        : b.replica.trim(pos, n);
      if (r !== undefined) waits.push(r);
      pos += n;
    }
    if (waits.length === 0) return undefined;
    const all = waits.length === 1 ? waits[0]! : Promise.all(waits).then(() => undefined);
    return this.#track(b.volumeId, all);
  }

  flush(b: ReplicaBinding): Promise<void> {
    return b.replica.flush();
  }

  async chunkMap(volumeId: string): Promise<ChunkMapResult> {
    const replica = this.#store.replica(volumeId);
    const entries = await replica.fullChunkMap();
    return { chunkSizeBytes: replica.chunkSizeBytes, chunks: entries };
  }

  readChunk(volumeId: string, index: number): ChunkCopy {
    const chunk = this.#store.replica(volumeId).readChunk(index);
    return { generation: chunk.generation, data: chunk.data };
  }

  writeChunk(
    b: ReplicaBinding,
    index: number,
    generation: number,
    data: Buffer | null,
  ): Promise<void> | undefined {
    return this.#track(b.volumeId, b.replica.installChunk(index, generation, data));
  }

  markChunksClean(b: ReplicaBinding, indices: number[]): Promise<void> {
    return b.replica.markChunksClean(indices);
  }

  repairBlocks(b: ReplicaBinding, offsetBytes: number, data: Buffer): undefined {
    b.replica.repairBlocks(offsetBytes, data);
    return undefined;
  }

  async createSnapshot(b: ReplicaBinding, seq: number): Promise<void> {
    await b.replica.createSnapshot(seq);
  }

  readSnapshot(volumeId: string, seq: number, offsetBytes: number, lengthBytes: number): Buffer {
    return this.#store.replica(volumeId).readSnapshot(seq, offsetBytes, lengthBytes);
  }

  #track(volumeId: string, result: Promise<void> | undefined): Promise<void> | undefined {
    if (result === undefined) return undefined;
    this.#tails.set(volumeId, result);
    const clear = (): void => {
      if (this.#tails.get(volumeId) === result) this.#tails.delete(volumeId);
    };
    result.then(clear, clear);
    return result;
  }

  async #settled(volumeId: string): Promise<void> {
    // Mutations submitted after acceptFence resolved carry the new fence (older ones are
    // refused), so the tail seen now covers every older mutation still in the queue.
    const tail = this.#tails.get(volumeId);
    if (tail !== undefined) await tail.catch(() => undefined);
  }
}
