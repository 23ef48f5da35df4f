// Model-based property test: random sequences of mutations, reads, flushes (awaited or left
// running while more operations go on), clean reopens and crashes (with and without simulated
// power loss) run against the real store and against a plain in-memory model. After every
// crash, every flushed write must read back, every chunk written after the last flush must be
// reported unclean, and every other chunk must keep its flushed generation.
//
// Replay a failure: CHUNKSTORE_FC_SEED=<seed> CHUNKSTORE_FC_PATH=<path> npx tap dist/test/model.test.js
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { setImmediate } from 'node:timers';
import fc from 'fast-check';
import { ChunkStore, type Replica } from '../src/index.js';
import { pattern, tempDir } from './helpers.js';

const BLOCK = 4096;
const CHUNK = 65536;
const INITIAL_SIZE = 15 * CHUNK + 3 * BLOCK; // partial last chunk
const MAX_SIZE = 24 * CHUNK;
const NUM_RUNS = Number(process.env.CHUNKSTORE_FC_RUNS ?? 40);

interface RangeSpec {
  a: number;
  b: number;
  aligned: boolean;
}

type Op =
  | { t: 'write'; r: RangeSpec; seed: number }
  | { t: 'read'; r: RangeSpec }
  | { t: 'trim'; r: RangeSpec }
  | { t: 'zero'; r: RangeSpec; noHole: boolean }
  | { t: 'install'; chunk: number; gen: number; hole: boolean; seed: number }
  | { t: 'clean'; chunk: number }
  | { t: 'flush' }
  | { t: 'flushBegin' }
  | { t: 'flushEnd' }
  | { t: 'resize'; blocks: number }
  | { t: 'reopen' }
  | { t: 'crash'; powerLoss: boolean; seed: number }
  | { t: 'check' };

const rangeArb: fc.Arbitrary<RangeSpec> = fc.record({
  a: fc.nat(),
  b: fc.nat(),
  aligned: fc.boolean(),
});

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({ t: fc.constant('write' as const), r: rangeArb, seed: fc.nat() }),
  },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('read' as const), r: rangeArb }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('trim' as const), r: rangeArb }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('zero' as const), r: rangeArb, noHole: fc.boolean() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('install' as const),
      chunk: fc.nat(),
      gen: fc.nat({ max: 1000 }),
      hole: fc.boolean(),
      seed: fc.nat(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('clean' as const), chunk: fc.nat() }) },
  { weight: 3, arbitrary: fc.constant({ t: 'flush' as const }) },
  { weight: 2, arbitrary: fc.constant({ t: 'flushBegin' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'flushEnd' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('resize' as const),
      blocks: fc.integer({ min: 1, max: 40 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'reopen' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('crash' as const),
      powerLoss: fc.boolean(),
      seed: fc.nat(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'check' as const }) },
);

interface PersistedGen {
  value: number;
  /** False when a write raced the flush that persisted it: only a lower bound is known. */
  exact: boolean;
}

interface PendingFlush {
  promise: Promise<void>;
  data: Buffer;
  gens: number[];
  dirty: Set<number>;
}

class Model {
  size = INITIAL_SIZE;
  data = Buffer.alloc(INITIAL_SIZE);
  /** Content as of the last completed flush (what power loss may fall back to). */
  flushed = Buffer.alloc(INITIAL_SIZE);
  gens: number[] = [];
  persisted: PersistedGen[] = [];
  unclean = new Set<number>();
  /** Chunks mutated since the last flush began: their dirty marks are durable. */
  dirty = new Set<number>();
  /** Blocks mutated since the last flush began (power loss may undo them). */
  blocks = new Set<number>();
  pending: PendingFlush | null = null;

  constructor() {
    this.resizeArrays();
  }

  get chunkCount(): number {
    return Math.ceil(this.size / CHUNK);
  }

  resizeArrays(): void {
    while (this.gens.length < this.chunkCount) {
      this.gens.push(0);
      this.persisted.push({ value: 0, exact: true });
    }
  }

  range(r: RangeSpec): { offset: number; length: number } {
    const blocks = this.size / BLOCK;
    if (r.aligned) {
      const offset = (r.a % blocks) * BLOCK;
      const length = Math.min(((r.b % 40) + 1) * BLOCK, this.size - offset);
      return { offset, length };
    }
    const offset = r.a % this.size;
    const length = Math.min((r.b % (3 * CHUNK)) + 1, this.size - offset);
    return { offset, length };
  }

  touch(offset: number, length: number): void {
    const first = Math.floor(offset / CHUNK);
    const last = Math.floor((offset + length - 1) / CHUNK);
    for (let c = first; c <= last; c++) {
      this.gens[c]! += 1;
      this.dirty.add(c);
    }
    for (let b = Math.floor(offset / BLOCK); b * BLOCK < offset + length; b++) this.blocks.add(b);
  }

  /** A flush completed: what it captured at its start is durable. */
  flushCompleted(p: PendingFlush): void {
    this.flushed = Buffer.concat([p.data, Buffer.alloc(this.size - p.data.length)]);
    for (const c of p.dirty) {
      // Written again while the flush ran: the flush may have stored a later generation.
      this.persisted[c] = { value: p.gens[c]!, exact: !this.dirty.has(c) };
    }
  }

  beginFlush(replica: Replica): PendingFlush {
    const p: PendingFlush = {
      promise: replica.flush(),
      data: Buffer.from(this.data),
      gens: [...this.gens],
      dirty: this.dirty,
    };
    this.dirty = new Set();
    this.blocks = new Set();
    return p;
  }
}

async function checkAll(m: Model, replica: Replica, label: string): Promise<void> {
  const actual = replica.read(0, m.size);
  if (!actual.equals(m.data)) {
    let at = 0;
    while (actual[at] === m.data[at]) at++;
    throw new Error(
      `${label}: content differs first at byte ${at} (chunk ${Math.floor(at / CHUNK)})`,
    );
  }
  const map = new Map((await replica.fullChunkMap()).map((e) => [e.index, e]));
  for (let c = 0; c < m.chunkCount; c++) {
    const e = map.get(c) ?? { index: c, generation: 0, hole: true, dirty: false, unclean: false };
    const where = `${label}: chunk ${c}`;
    if (e.generation !== m.gens[c])
      throw new Error(`${where}: generation ${e.generation}, model ${m.gens[c]}`);
    if (e.unclean !== m.unclean.has(c))
      throw new Error(`${where}: unclean ${e.unclean}, model ${m.unclean.has(c)}`);
    if (m.pending === null && e.dirty !== m.dirty.has(c)) {
      throw new Error(`${where}: dirty ${e.dirty}, model ${m.dirty.has(c)}`);
    }
    if (e.hole) {
      const start = c * CHUNK;
      const chunk = m.data.subarray(start, Math.min(start + CHUNK, m.size));
      if (chunk.some((x) => x !== 0)) throw new Error(`${where}: reported a hole but holds data`);
    }
  }
}

t.test('store matches an in-memory model across flushes, reopens and crashes', async (t) => {
  const root = tempDir(t);
  let runNo = 0;
  let crashes = 0;
  let powerLosses = 0;
  const property = fc.asyncProperty(
    fc.array(fc.tuple(opArb, fc.nat({ max: 3 })), { minLength: 1, maxLength: 60, size: 'max' }),
    async (ops) => {
      const dir = join(root, `run-${runNo++}`);
      const m = new Model();
      let store = await ChunkStore.open({ dir });
      let replica = await store.createReplica('m', {
        sizeBytes: INITIAL_SIZE,
        chunkSizeBytes: CHUNK,
      });
      const settleFlush = async (): Promise<void> => {
        if (m.pending === null) return;
        const p = m.pending;
        m.pending = null;
        await p.promise;
        m.flushCompleted(p);
      };
      try {
        for (const [i, [op, yields]] of ops.entries()) {
          const label = `op ${i} (${op.t})`;
          // Let a running flush make progress between operations, so mutations also land while
          // its batch is being built and committed.
          for (let y = 0; y < yields; y++) await new Promise((resolve) => setImmediate(resolve));
          switch (op.t) {
            case 'write': {
              const { offset, length } = m.range(op.r);
              const data = pattern(op.seed, length);
              await replica.write(offset, data);
              data.copy(m.data, offset);
              m.touch(offset, length);
              break;
            }
            case 'read': {
              const { offset, length } = m.range(op.r);
              const got = replica.read(offset, length);
              if (!got.equals(m.data.subarray(offset, offset + length))) {
                throw new Error(`${label}: read ${offset}+${length} differs from the model`);
              }
              break;
            }
            case 'trim':
            case 'zero': {
              const { offset, length } = m.range(op.r);
              if (op.t === 'trim') await replica.trim(offset, length);
              else await replica.writeZeroes(offset, length, { noHole: op.noHole });
              m.data.fill(0, offset, offset + length);
              m.touch(offset, length);
              break;
            }
            case 'install': {
              const c = op.chunk % m.chunkCount;
              const start = c * CHUNK;
              const length = Math.min(CHUNK, m.size - start);
              const data = op.hole ? null : pattern(op.seed, length);
              await replica.installChunk(c, op.gen, data);
              if (data) data.copy(m.data, start);
              else m.data.fill(0, start, start + length);
              m.touch(start, length);
              m.gens[c] = op.gen;
              m.unclean.delete(c);
              break;
            }
            case 'clean': {
              const c = op.chunk % m.chunkCount;
              await replica.markChunksClean([c]);
              if (m.unclean.delete(c)) {
                const racing = m.pending !== null && m.pending.dirty.has(c);
                m.persisted[c] = racing
                  ? { value: Math.min(m.pending!.gens[c]!, m.gens[c]!), exact: false }
                  : { value: m.gens[c]!, exact: true };
              }
              break;
            }
            case 'flush':
              await settleFlush();
              m.pending = m.beginFlush(replica);
              await settleFlush();
              break;
            case 'flushBegin':
              if (m.pending === null) m.pending = m.beginFlush(replica);
              break;
            case 'flushEnd':
              await settleFlush();
              break;
            case 'resize': {
              const next = m.size + op.blocks * BLOCK;
              if (next > MAX_SIZE) break;
              await store.resizeReplica('m', next);
              m.size = next;
              m.data = Buffer.concat([m.data, Buffer.alloc(op.blocks * BLOCK)]);
              m.flushed = Buffer.concat([m.flushed, Buffer.alloc(op.blocks * BLOCK)]);
              m.resizeArrays();
              break;
            }
            case 'reopen': {
              await settleFlush();
              await store.close();
              store = await ChunkStore.open({ dir });
              replica = store.replica('m');
              m.flushed = Buffer.from(m.data);
              for (let c = 0; c < m.chunkCount; c++)
                m.persisted[c] = { value: m.gens[c]!, exact: true };
              m.dirty = new Set();
              m.blocks = new Set();
              break;
            }
            case 'crash': {
              await settleFlush();
              await store.abandon();
              crashes++;
              if (op.powerLoss) {
                // Power loss: any block written since the last flush may be back to its flushed bytes.
                powerLosses++;
                const fd = openSync(join(dir, 'replicas', 'm.data'), 'r+');
                try {
                  let i2 = 0;
                  for (const b of [...m.blocks].sort((x, y) => x - y)) {
                    if (((op.seed >>> (i2++ % 31)) & 1) === 0) continue;
                    const at = b * BLOCK;
                    writeSync(fd, m.flushed, at, BLOCK, at);
                    m.flushed.copy(m.data, at, at, at + BLOCK);
                  }
                } finally {
                  closeSync(fd);
                }
              }
              store = await ChunkStore.open({ dir });
              replica = store.replica('m');
              for (const c of m.dirty) {
                const p = m.persisted[c]!;
                const info = replica.chunkInfo(c);
                if (p.exact) {
                  m.gens[c] = p.value + 1;
                } else if (info.generation > p.value) {
                  m.gens[c] = info.generation;
                } else {
                  throw new Error(
                    `${label}: recovered chunk ${c} has generation ${info.generation}, not above ${p.value}`,
                  );
                }
                m.unclean.add(c);
              }
              m.flushed = Buffer.from(m.data);
              for (let c = 0; c < m.chunkCount; c++)
                m.persisted[c] = { value: m.gens[c]!, exact: true };
              m.dirty = new Set();
              m.blocks = new Set();
              await checkAll(m, replica, `${label} after recovery`);
              break;
            }
            case 'check':
              await checkAll(m, replica, label);
              break;
          }
        }
        await settleFlush();
        await checkAll(m, replica, 'end of run');
      } finally {
        await store.close().catch(() => store.abandon());
      }
    },
  );
  const seedEnv = process.env.CHUNKSTORE_FC_SEED;
  const pathEnv = process.env.CHUNKSTORE_FC_PATH;
  const details = await fc.check(property, {
    numRuns: NUM_RUNS,
    // Shrinking reopens stores for every candidate; cap it so a failure reports in time.
    interruptAfterTimeLimit: 75_000,
    ...(seedEnv ? { seed: Number(seedEnv) } : {}),
    ...(pathEnv ? { path: pathEnv } : {}),
  });
  if (details.failed) {
    t.fail(
      `model test failed; replay with CHUNKSTORE_FC_SEED=${details.seed} CHUNKSTORE_FC_PATH=${details.counterexamplePath} ` +
        `(counterexample: ${fc.stringify(details.counterexample)}; error: ${String(details.errorInstance)})`,
    );
  } else {
    t.pass(`${details.numRuns} runs passed (${crashes} crashes, ${powerLosses} with power loss)`);
  }
});
