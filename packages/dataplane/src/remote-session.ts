import { BallastError, parseHostPort, type Logger } from '@ballast/common';
import {
  SMALLER_REPLICA_WAIT_MS,
  SessionError,
  toSessionError,
  type ChunkCopy,
  type ChunkMapEntry,
  type ReplicaSession,
  type SessionFactory,
  type SessionSpec,
  type WritePayload,
} from '@ballast/session';
import { DataPlaneClient, type ClientSession } from './client.js';
import type { DataPlaneClientTlsOptions } from './tls.js';

export interface RemoteSessionOptions {
  /** The node's data-plane address (`host:port`) from the cluster map. */
  addressOf: (nodeId: string) => string | Promise<string>;
  clusterId: string;
  /** Who this engine is (the agent's id): part of the hello mac and of the node's logs. */
  clientId: string;
  /** The cluster secret (required unless insecureNoAuth). */
  secret?: string | Uint8Array;
  insecureNoAuth?: boolean;
  connectTimeoutMs?: number;
  /** The client's own request timeout; keep it at or above the engine's replicaTimeoutMs. */
  requestTimeoutMs?: number;
  maxInFlightRequests?: number;
  /** Hold new frames while earlier reads/writes are unanswered (DataPlaneClient, default on). */
  batchWhileBusy?: boolean;
  /** Dial nodes over TLS, verifying them against this CA (the hello macs still run inside). */
  tls?: DataPlaneClientTlsOptions;
  logger?: Logger;
}

/**
 * A session on one node's replica over the TCP data plane: one authenticated DataPlaneClient
 * connection per replica, requests pipelined with ids, the frames of one event-loop turn sent in
 * one socket write. Write payloads go out by reference (no copy), so the engine's fan-out hands
 * the same Buffer to every replica.
 */
export class RemoteSession implements ReplicaSession {
  constructor(
    readonly nodeId: string,
    private readonly client: DataPlaneClient,
    private readonly session: ClientSession,
  ) {}

  read(offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    return this.session.read(offsetBytes, lengthBytes);
  }

  readInto(
    offsetBytes: number,
    lengthBytes: number,
    target: Buffer,
    targetOffset: number,
  ): Promise<void> {
    // The payload arrives in socket buffers: one copy into the caller's reply buffer.
    return this.session.readInto(offsetBytes, lengthBytes, target, targetOffset);
  }

  write(offsetBytes: number, data: WritePayload, fua: boolean): Promise<void> {
    return this.session.write(offsetBytes, data, fua ? FUA : NO_FUA);
  }

  trim(offsetBytes: number, lengthBytes: number, fua: boolean): Promise<void> {
    return this.session.trim(offsetBytes, lengthBytes, fua ? FUA : NO_FUA);
  }

  writeZeroes(
    offsetBytes: number,
    lengthBytes: number,
    noHole: boolean,
    fua: boolean,
  ): Promise<void> {
    return this.session.zero(offsetBytes, lengthBytes, { noHole, fua });
  }

  flush(): Promise<void> {
    return this.session.flush();
  }

  async chunkMap(): Promise<ChunkMapEntry[]> {
    return (await this.session.getChunkMap()).chunks;
  }

  async readChunk(index: number): Promise<ChunkCopy> {
    const chunk = await this.session.readChunk(index);
    return { generation: chunk.generation, data: chunk.data };
  }

  writeChunk(index: number, generation: number, data: Buffer | null): Promise<void> {
    return this.session.writeChunk(index, generation, data);
  }

  snapshot(seq: number): Promise<void> {
    return this.session.snapshot(seq);
  }

  readSnapshot(seq: number, offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    return this.session.readSnapshot(seq, offsetBytes, lengthBytes);
  }

  async replicaSizeBytes(): Promise<number> {
    // A second session at the same epoch (size 0 = any size) reads the node's current size;
    // the node answers OpenSession from the replica it holds, so this is the grown size once
    // the node has applied the map's resize.
    const probe = await this.client.openSession({
      volumeId: this.session.volumeId,
      epoch: this.session.epoch,
      incarnation: this.session.incarnation,
    });
    probe.close();
    return probe.sizeBytes;
  }

  async close(): Promise<void> {
    this.session.close();
    await this.client.close();
  }

  abort(): void {
    // A reset, not a close: requests still queued in the kernel must not reach the node later
    // (a cut-off node would apply them after the heal). The node's fence refuses any that do.
    this.client.reset();
  }
}

const FUA = { fua: true };
const NO_FUA = { fua: false };

/**
 * Opens data-plane sessions for a VolumeEngine: connect, authenticate, open under the fence
 * (volume, epoch, incarnation).
 */
export function remoteSessionFactory(options: RemoteSessionOptions): SessionFactory {
  return async (nodeId: string, session: SessionSpec): Promise<ReplicaSession> => {
    let client: DataPlaneClient;
    try {
      const address = await options.addressOf(nodeId);
      let host: string;
      let port: number;
      try {
        ({ host, port } = parseHostPort(address, `address of node ${nodeId}`));
      } catch (err) {
        throw new BallastError('CONFIG', (err as Error).message);
      }
      client = await DataPlaneClient.connect({
        host,
        port,
        clusterId: options.clusterId,
        clientId: options.clientId,
        expectedNodeId: nodeId,
        ...(options.secret !== undefined ? { secret: options.secret } : {}),
        ...(options.insecureNoAuth === true ? { insecureNoAuth: true } : {}),
        ...(options.tls !== undefined ? { tls: options.tls } : {}),
        ...(options.connectTimeoutMs !== undefined
          ? { connectTimeoutMs: options.connectTimeoutMs }
          : {}),
        ...(options.requestTimeoutMs !== undefined
          ? { requestTimeoutMs: options.requestTimeoutMs }
          : {}),
        ...(options.maxInFlightRequests !== undefined
          ? { maxInFlightRequests: options.maxInFlightRequests }
          : {}),
        ...(options.batchWhileBusy !== undefined ? { batchWhileBusy: options.batchWhileBusy } : {}),
        ...(options.logger !== undefined ? { logger: options.logger } : {}),
      });
    } catch (err) {
      throw toSessionError(err, nodeId);
    }
    try {
      const open = {
        volumeId: session.volumeId,
        epoch: session.epoch,
        incarnation: session.incarnation,
        chunkSizeBytes: session.chunkSizeBytes,
      };
      let opened = await client.openSession(open);
      // A replica smaller than the volume: its node has not applied a resize from the map yet
      // (an attach right after a grow). Wait for it a little rather than drop the replica.
      const deadline = Date.now() + SMALLER_REPLICA_WAIT_MS;
      while (opened.sizeBytes < session.sizeBytes && Date.now() < deadline) {
        opened.close();
        await new Promise((resolve) => setTimeout(resolve, 100));
        opened = await client.openSession(open);
      }
      if (
        opened.sizeBytes !== session.sizeBytes ||
        opened.chunkSizeBytes !== session.chunkSizeBytes
      ) {
        throw new SessionError(
          'invalid',
          nodeId,
          `replica on ${nodeId} is ${opened.sizeBytes} bytes in ${opened.chunkSizeBytes}-byte chunks, the volume ${session.sizeBytes} in ${session.chunkSizeBytes}`,
        );
      }
      return new RemoteSession(nodeId, client, opened);
    } catch (err) {
      client.destroy();
      throw toSessionError(err, nodeId);
    }
  };
}
