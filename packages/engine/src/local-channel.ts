import type { ChunkStore, Replica } from '@ballast/chunkstore';
import type {
  ChunkCopy,
  ChunkMapEntry,
  ReplicaChannel,
  SessionSpec,
  WritePayload,
} from './channel.js';
import { ChannelError, toChannelError } from './errors.js';

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * A session on a replica held by an in-process `ChunkStore`: real files, real index, real epoch
 * fencing, no sockets. It behaves as a node's data-plane server does (the epoch is accepted
 * durably before the session opens and checked on every request), so the engine's tests and
 * simulation run against the real store logic.
 */
export class LocalReplicaChannel implements ReplicaChannel {
  private aborted = false;
  private readonly onMutationDone = (): void => {
    if (this.aborted) throw this.disconnected();
  };
  private readonly onError = (err: unknown): never => {
    throw this.aborted ? this.disconnected() : toChannelError(err, this.nodeId);
  };

  private constructor(
    readonly nodeId: string,
    private readonly store: ChunkStore,
    private readonly replica: Replica,
    private readonly session: SessionSpec,
  ) {}

  /**
   * Opens a session on `replicaId` (the volume id unless told otherwise): accepts the epoch
   * durably first (refused as `fenced` when the store has seen a newer one) and checks that the
   * replica has the shape the volume record says.
   */
  static async open(
    nodeId: string,
    store: ChunkStore,
    session: SessionSpec,
    replicaId = session.volumeId,
  ): Promise<LocalReplicaChannel> {
    try {
      const fence = { epoch: session.epoch, incarnation: session.incarnation };
      if (store.checkFence(session.volumeId, fence) === 'newer') {
        await store.acceptFence(session.volumeId, fence);
      }
      const replica = store.replica(replicaId);
      if (
        replica.sizeBytes !== session.sizeBytes ||
        replica.chunkSizeBytes !== session.chunkSizeBytes
      ) {
        throw new ChannelError(
          'invalid',
          nodeId,
          `replica ${replicaId} on ${nodeId} is ${replica.sizeBytes} bytes in ${replica.chunkSizeBytes}-byte chunks, the volume ${session.sizeBytes} in ${session.chunkSizeBytes}`,
        );
      }
      return new LocalReplicaChannel(nodeId, store, replica, session);
    } catch (err) {
      throw toChannelError(err, nodeId);
    }
  }

  read(offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    try {
      this.check();
      return Promise.resolve(this.replica.read(offsetBytes, lengthBytes));
    } catch (err) {
      return Promise.reject(this.classify(err));
    }
  }

  readInto(
    offsetBytes: number,
    lengthBytes: number,
    target: Buffer,
    targetOffset: number,
  ): Promise<void> {
    try {
      this.check();
      this.replica.readInto(offsetBytes, target.subarray(targetOffset, targetOffset + lengthBytes));
      return RESOLVED;
    } catch (err) {
      return Promise.reject(this.classify(err));
    }
  }

  write(offsetBytes: number, data: WritePayload, fua: boolean): Promise<void> {
    return this.mutate(() => this.replica.write(offsetBytes, data), fua);
  }

  trim(offsetBytes: number, lengthBytes: number, fua: boolean): Promise<void> {
    return this.mutate(() => this.replica.trim(offsetBytes, lengthBytes), fua);
  }

  writeZeroes(
    offsetBytes: number,
    lengthBytes: number,
    noHole: boolean,
    fua: boolean,
  ): Promise<void> {
    return this.mutate(() => this.replica.writeZeroes(offsetBytes, lengthBytes, { noHole }), fua);
  }

  flush(): Promise<void> {
    try {
      this.check();
      return this.replica.flush().then(this.onMutationDone, this.onError);
    } catch (err) {
      return Promise.reject(this.classify(err));
    }
  }

  async chunkMap(): Promise<ChunkMapEntry[]> {
    try {
      this.check();
      return await this.replica.fullChunkMap();
    } catch (err) {
      throw this.classify(err);
    }
  }

  async readChunk(index: number): Promise<ChunkCopy> {
    try {
      this.check();
      const chunk = this.replica.readChunk(index);
      return { generation: chunk.generation, data: chunk.data };
    } catch (err) {
      throw this.classify(err);
    }
  }

  writeChunk(index: number, generation: number, data: Buffer | null): Promise<void> {
    return this.mutate(() => this.replica.installChunk(index, generation, data), false);
  }

  async markChunksClean(indices: number[]): Promise<void> {
    try {
      this.check();
      await this.replica.markChunksClean(indices);
    } catch (err) {
      throw this.classify(err);
    }
  }

  repairBlocks(offsetBytes: number, data: Buffer): Promise<void> {
    try {
      this.check();
      this.replica.repairBlocks(offsetBytes, data);
      return RESOLVED;
    } catch (err) {
      return Promise.reject(this.classify(err));
    }
  }

  replicaSizeBytes(): Promise<number> {
    try {
      this.check();
      return Promise.resolve(this.replica.sizeBytes);
    } catch (err) {
      return Promise.reject(this.classify(err));
    }
  }

  async close(): Promise<void> {
    this.aborted = true;
  }

  abort(): void {
    this.aborted = true;
  }

  private mutate(apply: () => Promise<void> | undefined, fua: boolean): Promise<void> {
    try {
      this.check();
      const pending = apply();
      if (fua) {
        return (pending ?? RESOLVED)
          .then(() => (this.aborted ? undefined : this.replica.flush()))
          .then(this.onMutationDone, this.onError);
      }
      return pending === undefined ? RESOLVED : pending.then(this.onMutationDone, this.onError);
    } catch (err) {
      return Promise.reject(this.classify(err));
    }
  }

  /** Fencing as a node does it: every request's fence against the highest persisted one. */
  private check(): void {
    if (this.aborted) throw this.disconnected();
    this.store.checkFence(this.session.volumeId, this.session);
  }

  private classify(err: unknown): ChannelError {
    return err instanceof ChannelError ? err : toChannelError(err, this.nodeId);
  }

  private disconnected(): ChannelError {
    return new ChannelError('disconnected', this.nodeId, `session to ${this.nodeId} was aborted`);
  }
}
