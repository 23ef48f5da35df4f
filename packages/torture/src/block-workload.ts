import { BLOCK_BYTES, BlockChecker, readStamp, stampBlock, volumeTag } from './block-checker.js';
import { NbdClient, NbdError } from './nbd-client.js';
import type { Rng } from './rng.js';

export interface BlockWorkloadOptions {
  /** The volume's name (its stamps carry it). */
  volume: string;
  /** The agent's NBD export of the volume (a unix socket). */
  socketPath: string;
  exportName: string;
  /** Blocks of 4 KiB the workload writes (from block 0). */
  blocks: number;
  /** Writes in flight at once. */
  queueDepth: number;
  /** A flush after this many writes were issued. */
  flushEvery: number;
  rng: Rng;
  /** Milliseconds since the run started (the report's time base). */
  now: () => number;
  log: (event: Record<string, unknown>) => void;
}

export interface WriteStall {
  /** When the write was issued and how long it waited for its answer. */
  atMs: number;
  ms: number;
  outcome: 'ok' | 'error';
}

/**
 * A single writer that stamps 4 KiB blocks (volume, block, sequence) through a real NBD
 * connection to the agent, flushes every few writes, and reads blocks back all along; every
 * answer goes through the BlockChecker. A dead connection is replaced (a new session of the
 * checker), with backoff, until stop().
 */
export class BlockWorkload {
  readonly checker = new BlockChecker();
  readonly stalls: WriteStall[] = [];
  /** Periods of 250 ms or more without any acknowledged write (what an application feels). */
  readonly gaps: WriteStall[] = [];
  maxWriteMs = 0;
  /** The longest time without an acknowledged write (a stall or an outage) and when it began. */
  maxGapMs = 0;
  private lastAckMs = 0;
  errors = 0;
  reconnects = 0;
  readonly errorKinds = new Map<string, number>();
  private readonly tag: bigint;
  private seq = 0;
  private flushId = 0;
  private readonly inFlight = new Set<number>();
  private client: NbdClient | null = null;
  private stopping = false;
  private loops: Promise<void>[] = [];
  private writesSinceFlush = 0;

  constructor(private readonly o: BlockWorkloadOptions) {
    this.tag = volumeTag(o.volume);
  }

  start(): void {
    this.lastAckMs = this.o.now();
    this.loops = [
      ...Array.from({ length: this.o.queueDepth }, () => this.writeLoop()),
      this.readLoop(),
      this.readLoop(),
    ];
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled(this.loops);
    await this.client?.close().catch(() => undefined);
    this.client = null;
  }

  /** Reads every block ever written through a fresh connection and checks each. */
  async verifyAll(): Promise<{ blocks: number; violations: number }> {
    const before = this.checker.violations.length;
    // A fresh connection: a new session of the checker (only flushed writes are owed).
    this.checker.newSession();
    const client = await NbdClient.connect({
      socketPath: this.o.socketPath,
      exportName: this.o.exportName,
      requestTimeoutMs: 300_000,
    });
    const blocks = this.checker.writtenBlocks();
    for (let i = 0; i < blocks.length; i += 64) {
      const batch = blocks.slice(i, i + 64);
      await Promise.all(
        batch.map(async (b) => {
          const floors = this.checker.floors([b]);
          const issued = this.o.now();
          const data = await client.read(b * BLOCK_BYTES, BLOCK_BYTES);
          this.checker.readDone([b], [readStamp(data, this.tag, b)], floors, issued, this.o.now());
        }),
      );
    }
    await client.close();
    return { blocks: blocks.length, violations: this.checker.violations.length - before };
  }

  /** The connection, opened again (a new checker session) when the last one died. */
  private async connection(): Promise<NbdClient> {
    let delayMs = 100;
    for (;;) {
      if (this.client !== null && !this.client.closed) return this.client;
      if (this.stopping && this.client === null) throw new Error('stopping');
      try {
        const pending = this.pendingConnect ?? this.openClient();
        this.pendingConnect = pending;
        const client = await pending;
        return client;
      } catch (err) {
        this.countError(err);
        await sleep(delayMs);
        delayMs = Math.min(2_000, delayMs * 2);
      } finally {
        this.pendingConnect = null;
      }
    }
  }

  private pendingConnect: Promise<NbdClient> | null = null;

  private async openClient(): Promise<NbdClient> {
    const client = await NbdClient.connect({
      socketPath: this.o.socketPath,
      exportName: this.o.exportName,
      requestTimeoutMs: 300_000,
    });
    if (this.client !== null) {
      this.reconnects += 1;
      this.checker.newSession();
      this.o.log({ event: 'reconnect', volume: this.o.volume, reconnects: this.reconnects });
    }
    this.client = client;
    return client;
  }

  private pickFree(): number[] | null {
    const n = 1 + Math.floor(this.o.rng() * 4);
    for (let attempt = 0; attempt < 8; attempt++) {
      const start = Math.floor(this.o.rng() * (this.o.blocks - n));
      const blocks = Array.from({ length: n }, (_, i) => start + i);
      if (blocks.every((b) => !this.inFlight.has(b))) return blocks;
    }
    return null;
  }

  private async writeLoop(): Promise<void> {
    while (!this.stopping) {
      const blocks = this.pickFree();
      if (blocks === null) {
        await sleep(1);
        continue;
      }
      let client: NbdClient;
      try {
        client = await this.connection();
      } catch {
        return;
      }
      for (const b of blocks) this.inFlight.add(b);
      const seq = ++this.seq;
      const data = Buffer.allocUnsafe(blocks.length * BLOCK_BYTES);
      blocks.forEach((b, i) => stampBlock(data.subarray(i * BLOCK_BYTES), this.tag, b, seq));
      const issued = this.o.now();
      this.checker.writeIssued(blocks, seq, issued);
      let ok = false;
      try {
        await client.write(blocks[0]! * BLOCK_BYTES, data);
        ok = true;
        this.checker.writeAcked(blocks, seq);
        const at = this.o.now();
        if (this.lastAckMs > 0) {
          const gap = at - this.lastAckMs;
          if (gap > this.maxGapMs) this.maxGapMs = gap;
          if (gap >= 250 && this.gaps.length < 20_000) {
            this.gaps.push({ atMs: this.lastAckMs, ms: gap, outcome: 'ok' });
          }
        }
        this.lastAckMs = at;
      } catch (err) {
        this.checker.writeFailed();
        this.countError(err);
      } finally {
        for (const b of blocks) this.inFlight.delete(b);
      }
      const ms = this.o.now() - issued;
      if (ms > this.maxWriteMs) this.maxWriteMs = ms;
      if (ms >= 250 && this.stalls.length < 20_000) {
        this.stalls.push({ atMs: issued, ms, outcome: ok ? 'ok' : 'error' });
      }
      if (!ok) await sleep(50);
      if (++this.writesSinceFlush >= this.o.flushEvery) {
        this.writesSinceFlush = 0;
        void this.flush(client);
      }
    }
  }

  private async flush(client: NbdClient): Promise<void> {
    const id = ++this.flushId;
    this.checker.flushIssued(id);
    try {
      await client.flush();
      this.checker.flushDone(id, true);
    } catch (err) {
      this.checker.flushDone(id, false);
      this.countError(err);
    }
  }

  private async readLoop(): Promise<void> {
    while (!this.stopping) {
      const n = 1 + Math.floor(this.o.rng() * 4);
      const start = Math.floor(this.o.rng() * (this.o.blocks - n));
      const blocks = Array.from({ length: n }, (_, i) => start + i);
      let client: NbdClient;
      try {
        client = await this.connection();
      } catch {
        return;
      }
      const floors = this.checker.floors(blocks);
      const issued = this.o.now();
      try {
        const data = await client.read(start * BLOCK_BYTES, n * BLOCK_BYTES);
        const values = blocks.map((b, i) =>
          readStamp(data.subarray(i * BLOCK_BYTES, (i + 1) * BLOCK_BYTES), this.tag, b),
        );
        const before = this.checker.violations.length;
        this.checker.readDone(blocks, values, floors, issued, this.o.now());
        for (const v of this.checker.violations.slice(before)) {
          this.o.log({ event: 'violation', volume: this.o.volume, ...v });
        }
      } catch (err) {
        this.countError(err);
        await sleep(50);
      }
      await sleep(5);
    }
  }

  private countError(err: unknown): void {
    this.errors += 1;
    const key =
      err instanceof NbdError
        ? err.errno === 0
          ? `connection: ${err.message.slice(0, 60)}`
          : `errno ${err.errno}`
        : (err as Error).message.slice(0, 60);
    this.errorKinds.set(key, (this.errorKinds.get(key) ?? 0) + 1);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
