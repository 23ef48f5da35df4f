import type { PeerInfo, ReplicaHandler } from '@ballast/dataplane';
import type {
  ChannelFactory,
  ChunkCopy,
  ChunkMapEntry,
  ReplicaChannel,
  SessionSpec,
  WritePayload,
} from './channel.js';
import { chunkMapEntries } from './dataplane-channel.js';
import { ChannelError, toChannelError } from './errors.js';

/** How long a session waits for a replica that is smaller than the volume to grow. */
const SMALLER_REPLICA_WAIT_MS = 10_000;
const SMALLER_REPLICA_POLL_MS = 100;
const RESOLVED: Promise<void> = Promise.resolve();

/**
 * A session on a replica served by a storage node running in this process (the agent's
 * embedded node): the engine calls the node's `ReplicaHandler` directly, with no socket.
 *
 * It takes the same steps the data-plane server takes for a remote engine, so everything a
 * node guarantees over TCP holds here too: the session opens through `openSession` (the epoch
 * persisted before it resolves, and a clean cut behind older epochs' mutations), every request
 * re-checks the epoch first (a newer attach through any connection fences this one), mutations
 * go through the handler (which orders them and tracks them for later clean cuts), a flush
 * waits for this session's mutations still in flight, and FUA is the mutation then a flush.
 */
export class HandlerReplicaChannel<B> implements ReplicaChannel {
  #aborted = false;
  #closed = false;
  /** Mutations of this session not settled yet: a flush covers them (as the server does). */
  readonly #pending = new Set<Promise<void>>();

  private constructor(
    readonly nodeId: string,
    private readonly handler: ReplicaHandler<B>,
    private readonly session: SessionSpec,
    private readonly binding: B,
    private readonly peer: PeerInfo,
  ) {}

  /**
   * Opens a session as a remote engine would: FENCED (as a `fenced` ChannelError) when the node
   * holds a newer epoch; a replica smaller than the volume is waited for up to 10 s (its node
   * has not applied a resize from the map yet), any other shape mismatch is `invalid`.
   */
  static async open<B>(
    nodeId: string,
    handler: ReplicaHandler<B>,
    session: SessionSpec,
    peer: PeerInfo,
  ): Promise<HandlerReplicaChannel<B>> {
    const request = {
      volumeId: session.volumeId,
      epoch: session.epoch,
      incarnation: session.incarnation,
      sizeBytes: 0,
      chunkSizeBytes: session.chunkSizeBytes,
    };
    try {
      let opened = await handler.openSession(request, peer);
      const deadline = Date.now() + SMALLER_REPLICA_WAIT_MS;
      while (opened.sizeBytes < session.sizeBytes && Date.now() < deadline) {
        handler.closeSession?.(opened.binding);
        await new Promise((resolve) => setTimeout(resolve, SMALLER_REPLICA_POLL_MS));
        opened = await handler.openSession(request, peer);
      }
      if (
        opened.sizeBytes !== session.sizeBytes ||
        opened.chunkSizeBytes !== session.chunkSizeBytes
      ) {
        handler.closeSession?.(opened.binding);
        throw new ChannelError(
          'invalid',
          nodeId,
          `replica on ${nodeId} is ${opened.sizeBytes} bytes in ${opened.chunkSizeBytes}-byte chunks, the volume ${session.sizeBytes} in ${session.chunkSizeBytes}`,
        );
      }
      return new HandlerReplicaChannel(nodeId, handler, session, opened.binding, peer);
    } catch (err) {
      throw toChannelError(err, nodeId);
    }
  }

  read(offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    try {
      this.#check();
      const result = this.handler.read(this.binding, offsetBytes, lengthBytes);
      if (Buffer.isBuffer(result)) return Promise.resolve(result);
      return result.then(
        (data) => {
          this.#checkAlive();
          return data;
        },
        (err) => {
          throw this.#classify(err);
        },
      );
    } catch (err) {
      return Promise.reject(this.#classify(err));
    }
  }

  readInto(
    offsetBytes: number,
    lengthBytes: number,
    target: Buffer,
    targetOffset: number,
  ): Promise<void> {
    try {
      this.#check();
      const view = target.subarray(targetOffset, targetOffset + lengthBytes);
      if (this.handler.readInto === undefined) {
        return this.read(offsetBytes, lengthBytes).then((data) => {
          data.copy(view);
        });
      }
      const pending = this.handler.readInto(this.binding, offsetBytes, view);
      return pending === undefined ? RESOLVED : pending.then(this.#settledOk, this.#settledErr);
    } catch (err) {
      return Promise.reject(this.#classify(err));
    }
  }

  write(offsetBytes: number, data: WritePayload, fua: boolean): Promise<void> {
    // A payload in parts (as the NBD server received it) goes to the handler as it is: the
    // chunk store writes block-aligned parts with one pwritev, without joining them.
    return this.#mutate(() => this.handler.write(this.binding, offsetBytes, data), fua);
  }

  trim(offsetBytes: number, lengthBytes: number, fua: boolean): Promise<void> {
    return this.#mutate(
      () =>
        this.handler.trim(this.binding, offsetBytes, lengthBytes, { zero: false, noHole: false }),
      fua,
    );
  }

  writeZeroes(
    offsetBytes: number,
    lengthBytes: number,
    noHole: boolean,
    fua: boolean,
  ): Promise<void> {
    return this.#mutate(
      () => this.handler.trim(this.binding, offsetBytes, lengthBytes, { zero: true, noHole }),
      fua,
    );
  }

  flush(): Promise<void> {
    try {
      this.#check();
      // Cover every mutation issued on this session before the flush, applied or not yet.
      const before = this.#pending.size === 0 ? RESOLVED : this.#allPendingSettled();
      return before
        .then(() => {
          this.#check();
          return this.handler.flush(this.binding);
        })
        .then(this.#settledOk, this.#settledErr);
    } catch (err) {
      return Promise.reject(this.#classify(err));
    }
  }

  async chunkMap(): Promise<ChunkMapEntry[]> {
    try {
      this.#check();
      const map = await this.handler.chunkMap(this.session.volumeId);
      this.#checkAlive();
      // A handler that reports `unclean` for every chunk gives a detailed map.
      return chunkMapEntries(
        map.chunks,
        map.chunks.every((c) => typeof c.unclean === 'boolean'),
      );
    } catch (err) {
      throw this.#classify(err);
    }
  }

  async readChunk(index: number): Promise<ChunkCopy> {
    try {
      this.#check();
      const chunk = await this.handler.readChunk(this.session.volumeId, index);
      this.#checkAlive();
      return { generation: chunk.generation, data: chunk.data };
    } catch (err) {
      throw this.#classify(err);
    }
  }

  writeChunk(index: number, generation: number, data: Buffer | null): Promise<void> {
    return this.#mutate(
      () => this.handler.writeChunk(this.binding, index, generation, data),
      false,
    );
  }

  async replicaSizeBytes(): Promise<number> {
    try {
      this.#check();
      // A second session at the same epoch (size 0 = any size), as the TCP probe does: the
      // node answers from the replica it holds, grown once it applied the map's resize.
      const probe = await this.handler.openSession(
        {
          volumeId: this.session.volumeId,
          epoch: this.session.epoch,
          incarnation: this.session.incarnation,
          sizeBytes: 0,
          chunkSizeBytes: 0,
        },
        this.peer,
      );
      this.handler.closeSession?.(probe.binding);
      this.#checkAlive();
      return probe.sizeBytes;
    } catch (err) {
      throw this.#classify(err);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Requests in flight are answered first (a remote session closes after its replies).
    if (this.#pending.size > 0) await this.#allPendingSettled();
    this.handler.closeSession?.(this.binding);
  }

  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    if (!this.#closed) {
      this.#closed = true;
      this.handler.closeSession?.(this.binding);
    }
  }

  #mutate(apply: () => Promise<void> | undefined, fua: boolean): Promise<void> {
    let result: Promise<void> | undefined;
    try {
      this.#check();
      result = apply();
    } catch (err) {
      return Promise.reject(this.#classify(err));
    }
    if (result !== undefined) {
      const tracked = result;
      this.#pending.add(tracked);
      const untrack = (): void => {
        this.#pending.delete(tracked);
      };
      tracked.then(untrack, untrack);
    }
    const applied = result ?? RESOLVED;
    if (!fua)
      return result === undefined
        ? this.#aliveOrReject()
        : applied.then(this.#settledOk, this.#settledErr);
    return applied
      .then(() => {
        this.#checkAlive();
        return this.handler.flush(this.binding);
      })
      .then(this.#settledOk, this.#settledErr);
  }

  readonly #settledOk = (): void => {
    this.#checkAlive();
  };

  readonly #settledErr = (err: unknown): never => {
    throw this.#classify(err);
  };

  #aliveOrReject(): Promise<void> {
    return this.#aborted ? Promise.reject(this.#disconnected()) : RESOLVED;
  }

  #allPendingSettled(): Promise<void> {
    return Promise.allSettled([...this.#pending]).then(() => undefined);
  }

  /** As the server does before every request: the session is open and its fence current. */
  #check(): void {
    if (this.#aborted || this.#closed) throw this.#disconnected();
    this.handler.checkFence(this.session.volumeId, this.session);
  }

  /** An answer that arrives after abort() is not delivered (a dropped remote session's is not). */
  #checkAlive(): void {
    if (this.#aborted) throw this.#disconnected();
  }

  #classify(err: unknown): ChannelError {
    if (this.#aborted && !(err instanceof ChannelError && err.kind === 'disconnected')) {
      return this.#disconnected();
    }
    return toChannelError(err, this.nodeId);
  }

  #disconnected(): ChannelError {
    return new ChannelError('disconnected', this.nodeId, `session to ${this.nodeId} was closed`);
  }
}

/**
 * A ChannelFactory that reaches the nodes in `local` (node id -> its handler) in process and
 * every other node through `remote` (normally the data plane).
 */
export function handlerChannelFactory(
  local: ReadonlyMap<string, ReplicaHandler<unknown>>,
  peer: PeerInfo,
  remote: ChannelFactory,
): ChannelFactory {
  return (nodeId, session) => {
    const handler = local.get(nodeId);
    return handler === undefined
      ? remote(nodeId, session)
      : HandlerReplicaChannel.open(nodeId, handler, session, peer);
  };
}
