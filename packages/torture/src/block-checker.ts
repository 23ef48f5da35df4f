/**
 * The block checker: what a read of a volume may return, given every write and flush the single
 * writer issued and what the volume answered. Pure (no I/O, no clock of its own): the workload
 * feeds it events with their times, in the order they happened, and it reports violations.
 *
 * The rules (per 4 KiB block; writes to one block never overlap in flight, so the block's
 * writes are totally ordered by their sequence numbers):
 * - A read returns a stamp of a write to that block, or zeroes; never anything else (corrupt).
 * - Never from the future: the write it returns was issued before the read completed.
 * - Never a rollback below the **durable floor**: the newest write that was acknowledged before
 *   a flush was issued that then succeeded (NBD's durability contract), whatever failed since.
 * - Never below the **session floor**: the newest write acknowledged on the current connection
 *   before the read was issued. A connection that dies (the agent crashed) may lose what was
 *   acknowledged but not flushed, so a new connection starts a new session and only the
 *   durable floor carries over.
 * A failed or unanswered write may or may not have landed: it raises no floor, but its stamp
 * is an acceptable answer.
 */

export interface BlockValue {
  /** The write's sequence number; 0 for a block that reads as zeroes. */
  seq: number;
}

export interface Violation {
  kind: 'corrupt' | 'future' | 'rollback-durable' | 'rollback-session' | 'lost';
  block: number;
  /** What the read returned (a sequence number, 0 for zeroes, -1 for garbage). */
  got: number;
  /** The floor or bound it broke. */
  expected: number;
  atMs: number;
  detail: string;
}

interface BlockState {
  /** Sequence numbers written to this block, in issue order, with their issue time. */
  issued: Array<{ seq: number; atMs: number }>;
  durableFloor: number;
  sessionFloor: number;
  session: number;
  /** Newest acknowledged write not yet covered by an issued flush. */
  uncovered: number;
}

export class BlockChecker {
  private readonly blocks = new Map<number, BlockState>();
  /** Blocks with acknowledged writes since the last flush was issued (what it will cover). */
  private pendingCover = new Map<number, number>();
  private readonly flushCover = new Map<number, Map<number, number>>();
  private session = 0;
  readonly violations: Violation[] = [];
  writesAcked = 0;
  writesFailed = 0;
  flushesAcked = 0;
  readsChecked = 0;

  private state(block: number): BlockState {
    let s = this.blocks.get(block);
    if (s === undefined) {
      s = { issued: [], durableFloor: 0, sessionFloor: 0, session: this.session, uncovered: 0 };
      this.blocks.set(block, s);
    }
    if (s.session !== this.session) {
      s.session = this.session;
      s.sessionFloor = 0;
    }
    return s;
  }

  /** A new connection: acknowledged but unflushed writes of the last one may be gone. */
  newSession(): void {
    this.session += 1;
    this.pendingCover = new Map();
  }

  writeIssued(blocks: readonly number[], seq: number, atMs: number): void {
    for (const b of blocks) this.state(b).issued.push({ seq, atMs });
  }

  writeAcked(blocks: readonly number[], seq: number): void {
    this.writesAcked += 1;
    for (const b of blocks) {
      const s = this.state(b);
      if (seq > s.sessionFloor) s.sessionFloor = seq;
      if (seq > (this.pendingCover.get(b) ?? 0)) this.pendingCover.set(b, seq);
    }
  }

  writeFailed(): void {
    this.writesFailed += 1;
  }

  /** A flush covers the writes acknowledged before it was issued on this session. */
  flushIssued(flushId: number): void {
    this.flushCover.set(flushId, this.pendingCover);
    this.pendingCover = new Map();
  }

  flushDone(flushId: number, ok: boolean): void {
    const cover = this.flushCover.get(flushId);
    this.flushCover.delete(flushId);
    if (cover === undefined) return;
    if (ok) {
      this.flushesAcked += 1;
      for (const [b, seq] of cover) {
        const s = this.state(b);
        if (seq > s.durableFloor) s.durableFloor = seq;
      }
      return;
    }
    // Not known durable: the next flush on this session covers them again.
    for (const [b, seq] of cover) {
      if (seq > (this.pendingCover.get(b) ?? 0)) this.pendingCover.set(b, seq);
    }
  }

  /** The floors a read issued now must respect (taken at issue, checked at completion). */
  floors(blocks: readonly number[]): Array<{ durable: number; session: number; session_: number }> {
    return blocks.map((b) => {
      const s = this.state(b);
      return { durable: s.durableFloor, session: s.sessionFloor, session_: this.session };
    });
  }

  /**
   * Checks a completed read. `values[i]` is what block `blocks[i]` held (-1: not a stamp of
   * this volume and block, nor zeroes), `floors` what `floors()` answered when it was issued.
   */
  readDone(
    blocks: readonly number[],
    values: readonly number[],
    floors: ReadonlyArray<{ durable: number; session: number; session_: number }>,
    issuedAtMs: number,
    doneAtMs: number,
  ): void {
    this.readsChecked += 1;
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i]!;
      const got = values[i]!;
      const floor = floors[i]!;
      const s = this.state(b);
      const sameSession = floor.session_ === this.session;
      const at = doneAtMs;
      if (got < 0) {
        this.violate('corrupt', b, got, 0, at, 'neither zeroes nor a stamp of a write to it');
        continue;
      }
      if (got > 0) {
        const w = s.issued.find((x) => x.seq === got);
        if (w === undefined) {
          this.violate('corrupt', b, got, 0, at, `seq ${got} was never written to block ${b}`);
          continue;
        }
        if (w.atMs > doneAtMs) {
          this.violate('future', b, got, 0, at, `write ${got} was issued after the read ended`);
          continue;
        }
      }
      if (got < floor.durable) {
        this.violate(
          'rollback-durable',
          b,
          got,
          floor.durable,
          at,
          `read issued at ${issuedAtMs} returned ${got}, older than flushed write ${floor.durable}`,
        );
      } else if (sameSession && got < floor.session) {
        this.violate(
          'rollback-session',
          b,
          got,
          floor.session,
          at,
          `read issued at ${issuedAtMs} returned ${got}, older than acknowledged write ${floor.session}`,
        );
      }
    }
  }

  /** Blocks ever written, for the final read-back. */
  writtenBlocks(): number[] {
    return [...this.blocks.entries()]
      .filter(([, s]) => s.issued.length > 0)
      .map(([b]) => b)
      .sort((a, b) => a - b);
  }

  private violate(
    kind: Violation['kind'],
    block: number,
    got: number,
    expected: number,
    atMs: number,
    detail: string,
  ): void {
    // Bounded: the first thousand tell the story.
    if (this.violations.length < 1000) {
      this.violations.push({ kind, block, got, expected, atMs, detail });
    }
  }
}

const STAMP_MAGIC = Buffer.from('BLSTMP01', 'ascii');
export const BLOCK_BYTES = 4096;

/** A volume's tag in its stamps (so a block of another volume is never taken for ours). */
export function volumeTag(name: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const c of Buffer.from(name, 'utf8')) {
    h ^= BigInt(c);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

/**
 * Fills `target` (one block) with the stamp of write `seq` to `block`: a header naming the
 * volume, block and sequence, then a pattern derived from them, so a torn or misplaced block
 * never passes for a good one.
 */
export function stampBlock(target: Buffer, tag: bigint, block: number, seq: number): void {
  STAMP_MAGIC.copy(target, 0);
  target.writeBigUInt64LE(tag, 8);
  target.writeBigUInt64LE(BigInt(block), 16);
  target.writeBigUInt64LE(BigInt(seq), 24);
  // xorshift32 seeded from the header: cheap, and different for every (volume, block, seq).
  let x =
    (Math.imul(seq, 0x9e3779b1) ^ Math.imul(block + 1, 0x85ebca6b) ^ Number(tag & 0xffffffffn)) | 0;
  if (x === 0) x = 0x6d2b79f5;
  for (let off = 32; off < BLOCK_BYTES; off += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    target.writeInt32LE(x | 0, off);
  }
}

/** What a block holds: 0 for zeroes, the write's seq for a valid stamp, -1 otherwise. */
export function readStamp(data: Buffer, tag: bigint, block: number): number {
  if (isZero(data)) return 0;
  if (!data.subarray(0, 8).equals(STAMP_MAGIC)) return -1;
  if (data.readBigUInt64LE(8) !== tag || data.readBigUInt64LE(16) !== BigInt(block)) return -1;
  const seq = Number(data.readBigUInt64LE(24));
  const expected = Buffer.allocUnsafe(BLOCK_BYTES);
  stampBlock(expected, tag, block, seq);
  return expected.equals(data) ? seq : -1;
}

function isZero(data: Buffer): boolean {
  for (let i = 0; i < data.length; i += 8) {
    if (data.readBigUInt64LE(i) !== 0n) return false;
  }
  return true;
}
