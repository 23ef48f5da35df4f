import t from 'tap';
import fc from 'fast-check';
import { chunksToCopy, needsCopy, type ChunkMapEntry } from '@ballast/session';
import { done, openStore, pattern, tempDir } from './helpers.js';

const CHUNK = 65536;

const infoArb = (index: number): fc.Arbitrary<ChunkMapEntry> =>
  fc.record({
    index: fc.constant(index),
    generation: fc.nat({ max: 3 }),
    hole: fc.boolean(),
    dirty: fc.boolean(),
    unclean: fc.boolean(),
  });

const mapArb: fc.Arbitrary<ChunkMapEntry[]> = fc
  .uniqueArray(fc.nat({ max: 40 }), { maxLength: 20 })
  .chain((indices) => fc.tuple(...indices.sort((a, b) => a - b).map(infoArb)));

t.test('chunksToCopy agrees with a naive per-index comparison', async (t) => {
  fc.assert(
    fc.property(
      mapArb,
      mapArb,
      fc.constantFrom('rebuild' as const, 'reconcile' as const),
      (source, target, mode) => {
        const naive: number[] = [];
        for (let i = 0; i <= 40; i++) {
          if (
            needsCopy(
              source.find((e) => e.index === i),
              target.find((e) => e.index === i),
              mode,
            )
          )
            naive.push(i);
        }
        t.same(chunksToCopy(source, target, mode), naive);
      },
    ),
    { numRuns: 200 },
  );
});

t.test('delta rebuild copies exactly the chunks a replica missed', async (t) => {
  const dir = tempDir(t);
  const store = await openStore(t, { dir });
  const a = await store.createReplica('a', { sizeBytes: 16 * CHUNK, chunkSizeBytes: CHUNK });
  const b = await store.createReplica('b', { sizeBytes: 16 * CHUNK, chunkSizeBytes: CHUNK });
  // Both replicas get the same writes ...
  for (const [i, offset] of [0, 3 * CHUNK + 17, 9 * CHUNK - 100].entries()) {
    await done(a.write(offset, pattern(i, 5000)));
    await done(b.write(offset, pattern(i, 5000)));
  }
  await a.flush();
  await b.flush();
  // ... then b is away for a while and misses a write, a trim and a write of zeroes.
  await done(a.write(5 * CHUNK, pattern(9, 100)));
  await done(a.trim(8 * CHUNK, 2 * CHUNK));
  await done(a.writeZeroes(12 * CHUNK + 7, 3));
  // Live writes reach both again while the rebuild runs.
  await done(a.write(0, pattern(10, 10)));
  await done(b.write(0, pattern(10, 10)));

  const copy = chunksToCopy(await a.fullChunkMap(), await b.fullChunkMap(), 'rebuild');
  t.same(copy, [5, 8, 9, 12], 'only the chunks b missed');
  for (const index of copy) {
    const chunk = a.readChunk(index);
    await done(b.installChunk(index, chunk.generation, chunk.data));
  }
  t.same(b.read(0, 16 * CHUNK), a.read(0, 16 * CHUNK), 'b now matches a');
  t.same(
    chunksToCopy(await a.fullChunkMap(), await b.fullChunkMap(), 'rebuild'),
    [],
    'nothing left to copy',
  );
  const holes = (await b.fullChunkMap()).filter((e) => e.hole).map((e) => e.index);
  t.same(holes, [8, 9, 12], 'trimmed (and all-zero) chunks arrive as holes');
});

t.test('reconcile after an unclean stop resyncs the recovered chunks', async (t) => {
  const dir = tempDir(t);
  let store = await openStore(t, { dir });
  const a = await store.createReplica('a', { sizeBytes: 8 * CHUNK, chunkSizeBytes: CHUNK });
  const b = await store.createReplica('b', { sizeBytes: 8 * CHUNK, chunkSizeBytes: CHUNK });
  for (const r of [a, b]) {
    await done(r.write(0, pattern(1, 3 * CHUNK)));
    await r.flush();
  }
  // An in-flight write reached a but not b, then the node died.
  await done(a.write(CHUNK + 5, pattern(2, 50)));
  await store.abandon();
  store = await openStore(t, { dir });
  const a2 = store.replica('a');
  const b2 = store.replica('b');
  const infoA = a2.chunkInfo(1);
  t.equal(infoA.unclean, true, 'the chunk written after the flush is unclean on a');
  t.equal(infoA.generation, 2, 'its generation was bumped past the flushed one');
  const copy = chunksToCopy(await a2.fullChunkMap(), await b2.fullChunkMap(), 'reconcile');
  t.same(copy, [1]);
  // Choose a as the source: install on b, then clear a's flag.
  for (const index of copy) {
    const chunk = a2.readChunk(index);
    await done(b2.installChunk(index, chunk.generation, chunk.data));
  }
  await a2.markChunksClean(copy);
  await a2.flush();
  await b2.flush();
  t.same(chunksToCopy(await a2.fullChunkMap(), await b2.fullChunkMap(), 'reconcile'), []);
  t.same(b2.read(0, 8 * CHUNK), a2.read(0, 8 * CHUNK));
});

t.test('equal generations with different digests are copied (D24)', async (t) => {
  const base = { index: 3, generation: 7, hole: false, dirty: false, unclean: false };
  t.equal(needsCopy({ ...base, digest: 1 }, { ...base, digest: 1 }, 'rebuild'), false, 'same');
  t.equal(needsCopy({ ...base, digest: 1 }, { ...base, digest: 2 }, 'rebuild'), true, 'differ');
  t.equal(needsCopy({ ...base, digest: 1 }, { ...base, digest: 2 }, 'reconcile'), true);
  t.equal(
    needsCopy({ ...base, digest: 1 }, base, 'rebuild'),
    false,
    'no digest: generations decide',
  );
});

t.test('a rebuild finds a split that generations hide (D24)', async (t) => {
  const store = await openStore(t, { dir: tempDir(t) });
  const a = await store.createReplica('a', { sizeBytes: 4 * CHUNK, chunkSizeBytes: CHUNK });
  const b = await store.createReplica('b', { sizeBytes: 4 * CHUNK, chunkSizeBytes: CHUNK });
  await done(a.write(0, pattern(1, 4096)));
  await done(b.write(0, pattern(1, 4096)));
  // One mutation each that the other never saw: the same count, other bytes.
  await done(a.write(8192, pattern(2, 4096)));
  await done(b.write(16384, pattern(3, 4096)));
  await a.flush();
  await b.flush();
  const mapA = await a.fullChunkMap();
  const mapB = await b.fullChunkMap();
  t.equal(mapA[0]!.generation, mapB[0]!.generation, 'the generations agree');
  t.same(chunksToCopy(mapA, mapB, 'rebuild'), [0], 'the digests do not, so chunk 0 is copied');
});
