import { BallastError, type BlockDevice } from '@ballast/common';
import { protocol as P } from '@ballast/nbd';
import { SILENT_LOGGER, errorText, type AgentLogger } from '../logger.js';
import { ConnectionLostError, NbdClient } from './nbd-client.js';

export interface UpstreamTarget {
  socketPath: string;
  exportName: string;
}

export interface ReconnectingDeviceOptions {
  /** Where to connect; asked again before every attempt (the agent may move the export). */
  target: () => Promise<UpstreamTarget>;
  /** How long a request waits for the upstream to come back before it fails with EIO. */
  holdMs: number;
  /** Bound on one connect + handshake attempt. */
  connectTimeoutMs?: number;
  /** Longest pause between reconnect attempts; they start at 20 ms and double. */
  maxBackoffMs?: number;
  logger?: AgentLogger;
}

type Operation = (client: NbdClient) => Promise<Buffer | void>;

interface Queued {
  seq: number;
  op: Operation;
  deadlineMs: number;
  resolve(value: Buffer | void): void;
  reject(err: Error): void;
}

/** Requests held while the upstream is away; the front server bounds them far lower. */
const MAX_HELD_REQUESTS = 8192;

/**
 * A BlockDevice that forwards to an NBD export over a unix socket and survives that export going
 * away: requests that were in flight or arrive while it is gone are held (up to `holdMs` each)
 * and replayed in their original order on the next connection. Replaying is safe because every
 * request the kernel sends is idempotent (READ, WRITE of the same bytes, TRIM, WRITE_ZEROES,
 * FLUSH), and no acknowledgement is sent to the kernel before the upstream has acknowledged.
 *
 * This is what keeps a mounted volume alive across an agent restart: the kernel-facing client
 * (nbdfuse or nbd-client) talks to a relay process holding this device, not to the agent.
 */
export class ReconnectingNbdDevice implements BlockDevice {
  readonly fastZero = false;
  private client: NbdClient | undefined;
  private readonly held: Queued[] = [];
  private seq = 0;
  private reconnecting: Promise<void> | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly logger: AgentLogger;
  private flags = 0;
  reconnects = 0;

  private constructor(
    private readonly options: ReconnectingDeviceOptions,
    client: NbdClient,
    readonly sizeBytes: number,
  ) {
    this.logger = options.logger ?? SILENT_LOGGER;
    this.adopt(client);
  }

  /** Connects once (retrying until `startTimeoutMs`), so the export size is known. */
  static async open(
    options: ReconnectingDeviceOptions,
    startTimeoutMs: number,
  ): Promise<ReconnectingNbdDevice> {
    const deadline = Date.now() + startTimeoutMs;
    let backoff = 20;
    for (;;) {
      try {
        const target = await options.target();
        const client = await NbdClient.connect(
          target.socketPath,
          target.exportName,
          options.connectTimeoutMs ?? 10_000,
        );
        return new ReconnectingNbdDevice(options, client, client.sizeBytes);
      } catch (err) {
        if (!(err instanceof ConnectionLostError) || Date.now() + backoff > deadline) throw err;
        await sleep(backoff);
        backoff = Math.min(backoff * 2, options.maxBackoffMs ?? 1_000);
      }
    }
  }

  get connected(): boolean {
    return this.client !== undefined && !this.client.lost;
  }

  get heldRequests(): number {
    return this.held.length;
  }

  readAt(offset: number, length: number): Promise<Buffer> {
    return this.submit((c) => c.read(offset, length)) as Promise<Buffer>;
  }

  async writeAt(offset: number, data: Buffer, fua?: boolean): Promise<void> {
    // The front server may reuse `data` after we resolve, never before: holding the reference
    // until the upstream acknowledges (across reconnects) is enough.
    const useFua = fua === true && (this.flags & P.NBD_FLAG_SEND_FUA) !== 0;
    await this.submit((c) => c.write(offset, data, useFua));
    if (fua === true && !useFua) await this.flush();
  }

  async trim(offset: number, length: number, fua?: boolean): Promise<void> {
    if ((this.flags & P.NBD_FLAG_SEND_TRIM) === 0) return; // advisory: nothing to do
    await this.submit((c) => c.trim(offset, length, false));
    if (fua === true) await this.flush();
  }

  async writeZeroes(
    offset: number,
    length: number,
    opts?: { noHole?: boolean; fua?: boolean },
  ): Promise<void> {
    if ((this.flags & P.NBD_FLAG_SEND_WRITE_ZEROES) === 0) {
      throw new BallastError('INVALID_ARGUMENT', 'upstream export does not support WRITE_ZEROES');
    }
    await this.submit((c) => c.writeZeroes(offset, length, opts?.noHole === true, false));
    if (opts?.fua === true) await this.flush();
  }

  async flush(): Promise<void> {
    await this.submit((c) => c.flush());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.expiryTimer);
    for (const queued of this.held.splice(0)) {
      queued.reject(new BallastError('UNAVAILABLE', 'relay is closing'));
    }
    await this.client?.close();
  }

  private submit(op: Operation): Promise<Buffer | void> {
    if (this.closed) return Promise.reject(new BallastError('UNAVAILABLE', 'relay is closing'));
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      const queued: Queued = {
        seq,
        op,
        deadlineMs: Date.now() + this.options.holdMs,
        resolve,
        reject,
      };
      if (this.connected) this.dispatch(queued);
      else this.hold(queued);
    });
  }

  private dispatch(queued: Queued): void {
    const client = this.client!;
    queued.op(client).then(queued.resolve, (err: unknown) => {
      if (err instanceof ConnectionLostError && !this.closed) {
        // Not answered by the upstream: replay it on the next connection.
        queued.deadlineMs = Math.max(queued.deadlineMs, Date.now() + this.options.holdMs);
        this.hold(queued);
      } else {
        queued.reject(err as Error);
      }
    });
  }

  private hold(queued: Queued): void {
    if (this.held.length >= MAX_HELD_REQUESTS) {
      queued.reject(new BallastError('UNAVAILABLE', 'too many requests held for the upstream'));
      return;
    }
    this.held.push(queued);
    this.expiryTimer ??= setInterval(() => this.expire(), 100);
    if (this.connected) {
      // A request failed on a connection that is being replaced; flush the queue once the new
      // one is adopted (or right now, if it already has been).
      queueMicrotask(() => this.drainHeld());
    }
    this.startReconnect();
  }

  private expire(): void {
    const now = Date.now();
    for (let i = this.held.length - 1; i >= 0; i--) {
      const queued = this.held[i]!;
      if (queued.deadlineMs <= now) {
        this.held.splice(i, 1);
        queued.reject(
          new BallastError(
            'IO',
            `upstream NBD export unavailable for ${this.options.holdMs} ms`,
            undefined,
            Object.assign(new Error('EIO'), { code: 'EIO' }),
          ),
        );
      }
    }
    if (this.held.length === 0) {
      clearInterval(this.expiryTimer);
      this.expiryTimer = undefined;
    }
  }

  private drainHeld(): void {
    if (!this.connected) return;
    const queued = this.held.splice(0).sort((a, b) => a.seq - b.seq);
    for (const q of queued) this.dispatch(q);
    if (this.held.length === 0 && this.expiryTimer !== undefined) {
      clearInterval(this.expiryTimer);
      this.expiryTimer = undefined;
    }
  }

  private adopt(client: NbdClient): void {
    this.client = client;
    this.flags = client.transmissionFlags;
    client.onLost((err) => {
      if (this.closed) return;
      this.logger.warn(
        { reason: err.message },
        'relay: upstream connection lost; holding requests',
      );
      this.startReconnect();
    });
  }

  private startReconnect(): void {
    if (this.reconnecting !== undefined || this.closed || this.connected) return;
    this.reconnecting = this.reconnectLoop().finally(() => {
      this.reconnecting = undefined;
    });
  }

  private async reconnectLoop(): Promise<void> {
    let backoff = 20;
    const startedMs = Date.now();
    // Runs until connected or closed; each turn is bounded by the connect timeout and backoff.
    while (!this.closed) {
      try {
        const target = await this.options.target();
        const client = await NbdClient.connect(
          target.socketPath,
          target.exportName,
          this.options.connectTimeoutMs ?? 10_000,
        );
        if (client.sizeBytes !== this.sizeBytes) {
          await client.close();
          throw new BallastError(
            'CONFLICT',
            `upstream export size changed from ${this.sizeBytes} to ${client.sizeBytes}`,
          );
        }
        if (this.closed) {
          await client.close();
          return;
        }
        this.reconnects += 1;
        this.adopt(client);
        this.logger.info(
          { afterMs: Date.now() - startedMs, held: this.held.length },
          'relay: upstream reconnected; replaying held requests',
        );
        this.drainHeld();
        return;
      } catch (err) {
        if (!(err instanceof ConnectionLostError)) {
          this.logger.error({ err: errorText(err) }, 'relay: upstream refused the reconnect');
        }
        await sleep(backoff);
        backoff = Math.min(backoff * 2, this.options.maxBackoffMs ?? 1_000);
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
