import { systemClock, type Clock } from '@ballast/common';
import { SessionCore } from './core.js';
import { SessionError, toSessionError } from './errors.js';
import {
  SMALLER_REPLICA_WAIT_MS,
  normaliseChunkMap,
  type ReplicaSession,
  type SessionFactory,
} from './session.js';
import type { ReplicaStore } from './store.js';
import type {
  ChunkCopy,
  ChunkMapEntry,
  PeerInfo,
  SessionSpec,
  TrimOptions,
  WritePayload,
} from './types.js';

const SMALLER_REPLICA_POLL_MS = 100;
const RESOLVED: Promise<void> = Promise.resolve();
const TRIM: TrimOptions = { zero: false, noHole: false };
const ZERO: TrimOptions = { zero: true, noHole: false };
const ZERO_NO_HOLE: TrimOptions = { zero: true, noHole: true };

/**
 * A session on a replica whose store runs in this process (the agent's embedded node, tests,
 * the engine's simulation): the engine calls SessionCore directly, with no socket, so every
 * rule a node keeps for a remote engine holds here by construction.
 */
export class LocalSession<B> implements ReplicaSession {
  #aborted = false;
  #closed = false;
  /** Present when the store supports it (the chunk store does; the wire does not yet). */
  readonly markChunksClean?: (indices: number[]) => Promise<void>;
  readonly repairBlocks?: (offsetBytes: number, data: Buffer) => Promise<void>;
  readonly snapshot?: (seq: number) => Promise<void>;
  readonly readSnapshot?: (
    seq: number,
    offsetBytes: number,
    lengthBytes: number,
  ) => Promise<Buffer>;

  private constructor(
    readonly nodeId: string,
    private readonly core: SessionCore<B>,
    private readonly spec: SessionSpec,
    private readonly peer: PeerInfo,
  ) {
    if (core.canRepair) {
      this.markChunksClean = (indices) => this.#mutate(() => this.core.markChunksClean(indices));
      this.repairBlocks = (offsetBytes, data) =>
        this.#mutate(() => this.core.repairBlocks(offsetBytes, data));
    }
    if (core.canSnapshot) {
      this.snapshot = (seq) => this.#mutate(() => this.core.snapshot(seq));
      this.readSnapshot = async (seq, offsetBytes, lengthBytes) => {
        try {
          this.#alive();
          const data = await this.core.readSnapshot(seq, offsetBytes, lengthBytes);
          this.#alive();
          return data;
        } catch (err) {
          throw this.#classify(err);
        }
      };
    }
  }

  /**
   * Opens a session as a remote engine would: `fenced` or `superseded` when the node holds a
   * newer fence; a replica smaller than the volume is waited for up to 10 s (its node has not
   * applied a resize from the map yet), any other shape mismatch is `invalid`.
   */
  static async open<B>(
    nodeId: string,
    store: ReplicaStore<B>,
    spec: SessionSpec,
    peer: PeerInfo,
    clock: Clock = systemClock,
  ): Promise<LocalSession<B>> {
    const args = {
      volumeId: spec.volumeId,
      epoch: spec.epoch,
      incarnation: spec.incarnation,
      sizeBytes: 0,
      chunkSizeBytes: spec.chunkSizeBytes,
    };
    try {
      let core = await SessionCore.open(store, args, peer);
      const deadline = clock.monotonicMs() + SMALLER_REPLICA_WAIT_MS;
      while (core.opened.sizeBytes < spec.sizeBytes && clock.monotonicMs() < deadline) {
        await core.close();
        await clock.sleep(SMALLER_REPLICA_POLL_MS);
        core = await SessionCore.open(store, args, peer);
      }
      if (
        core.opened.sizeBytes !== spec.sizeBytes ||
        core.opened.chunkSizeBytes !== spec.chunkSizeBytes
      ) {
        await core.close();
        throw new SessionError(
          'invalid',
          nodeId,
          `replica on ${nodeId} is ${core.opened.sizeBytes} bytes in ${core.opened.chunkSizeBytes}-byte chunks, the volume ${spec.sizeBytes} in ${spec.chunkSizeBytes}`,
        );
      }
      return new LocalSession(nodeId, core, spec, peer);
    } catch (err) {
      throw toSessionError(err, nodeId);
    }
  }

  read(offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    try {
      this.#alive();
      const result = this.core.read(offsetBytes, lengthBytes);
      if (Buffer.isBuffer(result)) return Promise.resolve(result);
      return result.then(
        (data) => {
          this.#alive();
          return data;
        },
        (err: unknown) => {
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
      this.#alive();
      const pending = this.core.readInto(
        offsetBytes,
        target.subarray(targetOffset, targetOffset + lengthBytes),
      );
      return pending === undefined ? RESOLVED : pending.then(this.#ok, this.#fail);
    } catch (err) {
      return Promise.reject(this.#classify(err));
    }
  }

  // The data-path calls (write, trim, zeroes, flush) call the core themselves rather than
  // through #mutate: a closure per request is an allocation on the hot path.

  write(offsetBytes: number, data: WritePayload, fua: boolean): Promise<void> {
    // A payload in parts (as the NBD server received it) goes to the store as it is: the chunk
    // store writes block-aligned parts with one pwritev, without joining them.
    let result: Promise<void> | undefined;
    try {
      this.#alive();
      result = this.core.write(offsetBytes, data, fua);
    } catch (err) {
      return Promise.reject(this.#classify(err));
    }
    return this.#answer(result);
  }

  trim(offsetBytes: number, lengthBytes: number, fua: boolean): Promise<void> {
    return this.#zeroOrTrim(offsetBytes, lengthBytes, TRIM, fua);
  }

  writeZeroes(
    offsetBytes: number,
    lengthBytes: number,
    noHole: boolean,
    fua: boolean,
  ): Promise<void> {
    return this.#zeroOrTrim(offsetBytes, lengthBytes, noHole ? ZERO_NO_HOLE : ZERO, fua);
  }

  flush(): Promise<void> {
    let result: Promise<void>;
    try {
      this.#alive();
      result = this.core.flush();
    } catch (err) {
      return Promise.reject(this.#classify(err));
    }
    return this.#answer(result);
  }

  #zeroOrTrim(
    offsetBytes: number,
    lengthBytes: number,
    opts: TrimOptions,
    fua: boolean,
  ): Promise<void> {
    let result: Promise<void> | undefined;
    try {
      this.#alive();
      result = this.core.trim(offsetBytes, lengthBytes, opts, fua);
    } catch (err) {
      return Promise.reject(this.#classify(err));
    }
    return this.#answer(result);
  }

  async chunkMap(): Promise<ChunkMapEntry[]> {
    try {
      this.#alive();
      const map = await this.core.chunkMap();
      this.#alive();
      // As a remote session returns it: an unclean chunk is handled as unclean only.
      return normaliseChunkMap(map.chunks, true);
    } catch (err) {
      throw this.#classify(err);
    }
  }

  async readChunk(index: number): Promise<ChunkCopy> {
    try {
      this.#alive();
      const chunk = await this.core.readChunk(index);
      this.#alive();
      return { generation: chunk.generation, data: chunk.data };
    } catch (err) {
      throw this.#classify(err);
    }
  }

  writeChunk(index: number, generation: number, data: Buffer | null): Promise<void> {
    return this.#mutate(() => this.core.writeChunk(index, generation, data));
  }

  async replicaSizeBytes(): Promise<number> {
    try {
      this.#alive();
      this.core.check();
      // A second session under the same fence (size 0 = any size), as the remote probe does:
      // the node answers from the replica it holds, grown once it applied the map's resize.
      const probe = await SessionCore.open(
        this.core.store,
        {
          volumeId: this.spec.volumeId,
          epoch: this.spec.epoch,
          incarnation: this.spec.incarnation,
          sizeBytes: 0,
          chunkSizeBytes: 0,
        },
        this.peer,
      );
      await probe.close();
      this.#alive();
      return probe.opened.sizeBytes;
    } catch (err) {
      throw this.#classify(err);
    }
  }

  close(): Promise<void> {
    // Requests in flight are answered first (a remote session closes after its replies).
    this.#closed = true;
    return this.core.close();
  }

  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    void this.core.close();
  }

  #mutate(apply: () => Promise<void> | undefined): Promise<void> {
    let result: Promise<void> | undefined;
    try {
      this.#alive();
      result = apply();
    } catch (err) {
      return Promise.reject(this.#classify(err));
    }
    return this.#answer(result);
  }

  /** A mutation the core accepted, as the engine sees it: applied, or failed, or gone. */
  #answer(result: Promise<void> | undefined): Promise<void> {
    if (result === undefined) return this.#aborted ? Promise.reject(this.#gone()) : RESOLVED;
    return result.then(this.#ok, this.#fail);
  }

  /** An answer that arrives after abort() is not delivered (a dropped remote session's is not). */
  readonly #ok = (): void => {
    this.#alive();
  };

  readonly #fail = (err: unknown): never => {
    throw this.#classify(err);
  };

  #alive(): void {
    if (this.#aborted || this.#closed) throw this.#gone();
  }

  #classify(err: unknown): SessionError {
    if (this.#aborted && !(err instanceof SessionError && err.kind === 'disconnected')) {
      return this.#gone();
    }
    return toSessionError(err, this.nodeId);
  }

  #gone(): SessionError {
    return new SessionError('disconnected', this.nodeId, `session to ${this.nodeId} was closed`);
  }
}

/**
 * A SessionFactory that reaches the nodes in `local` (node id -> its store) in process and every
 * other node through `remote` (normally the data plane).
 */
export function localSessionFactory(
  local: ReadonlyMap<string, ReplicaStore<unknown>>,
  peer: PeerInfo,
  remote: SessionFactory,
): SessionFactory {
  return (nodeId, spec) => {
    const store = local.get(nodeId);
    return store === undefined
      ? remote(nodeId, spec)
      : LocalSession.open(nodeId, store, spec, peer);
  };
}
