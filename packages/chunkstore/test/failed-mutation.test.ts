// A mutation that fails on a replica after it was accepted, while later mutations of the same
// chunk still apply, leaves the replica holding something other than a prefix of the stream it
// was sent. Two replicas that each failed a different write to one chunk would then show the
// same generation with different bytes. The store flags such chunks unclean, durably, so that
// reconcile and rebuild copy them.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { chunksToCopy } from '@ballast/session';
import { done, openStore, pattern, tempDir } from './helpers.js';

const BLOCK = 4096;
const CHUNK = 65536;

/** XORs bytes of the data file behind the store's back; calling it twice restores them. */
function flipBytes(path: string, offset: number, count: number): void {
  const fd = openSync(path, 'r+');
  try {
    const buf = Buffer.alloc(count);
    readSync(fd, buf, 0, count, offset);
    for (let i = 0; i < count; i++) buf[i] = buf[i]! ^ 0x5a;
    writeSync(fd, buf, 0, count, offset);
  } finally {
    closeSync(fd);
  }
}

t.test('a failed mutation leaves its chunk unclean, across flushes and a reopen', async (t) => {
  const dir = tempDir(t);
  const store = await openStore(t, { dir });
  const replica = await store.createReplica('c', { sizeBytes: 8 * CHUNK, chunkSizeBytes: CHUNK });
  await done(replica.write(0, pattern(1, 4 * CHUNK)));
  await replica.flush();
  const path = join(dir, 'replicas', 'c.data');
  const badBlock = 21; // in chunk 1
  flipBytes(path, badBlock * BLOCK + 100, 2);
  const before = replica.chunkInfo(1);

  await t.rejects(
    async () => done(replica.write(badBlock * BLOCK + 1000, Buffer.from('partial'))),
    { code: 'CHECKSUM_MISMATCH' },
    'a read-modify-write over the damaged block fails',
  );
  t.equal(replica.chunkInfo(1).unclean, true, 'the chunk of the failed write is unclean');
  t.equal(replica.chunkInfo(1).generation, before.generation, 'the failed write changed nothing');
  t.equal(replica.chunkInfo(0).unclean, false, 'other chunks are not');
  t.equal(replica.stats().counters.uncleanFlags, 1);

  // Later writes to the chunk still apply; the flag stays through them and through flushes.
  await done(replica.write(17 * BLOCK, pattern(2, BLOCK)));
  t.equal(replica.chunkInfo(1).generation, before.generation + 1);
  await replica.flush();
  t.same(
    (await replica.fullChunkMap()).filter((c) => c.unclean).map((c) => c.index),
    [1],
    'only the chunk of the failed write is unclean in the map',
  );
  flipBytes(path, badBlock * BLOCK + 100, 2); // the damage was transient

  await store.close();
  const reopened = await openStore(t, { dir });
  const again = reopened.replica('c');
  const info = again.chunkInfo(1);
  t.equal(info.unclean, true, 'the flag is durable');
  t.equal(info.dirty, false);
  t.same(again.read(17 * BLOCK, BLOCK), pattern(2, BLOCK), 'the later write is there');

  // Replacing the chunk (reconcile or rebuild installing a peer's copy) clears it.
  await done(again.installChunk(1, info.generation + 5, pattern(3, CHUNK)));
  t.equal(again.chunkInfo(1).unclean, false);
});

t.test('two replicas failing different writes to one chunk do not look equal', async (t) => {
  // Two stores stand for two nodes holding replicas of the same volume. Each gets the same
  // stream of writes; a transient fault makes each fail a different one of them.
  const stores = await Promise.all([0, 1].map(async () => openStore(t, { dir: tempDir(t) })));
  const replicas = await Promise.all(
    stores.map((s) => s.createReplica('v', { sizeBytes: 4 * CHUNK, chunkSizeBytes: CHUNK })),
  );
  for (const r of replicas) {
    await done(r.write(0, pattern(7, 2 * CHUNK)));
    await r.flush();
  }
  const paths = stores.map((_, i) => join(stores[i]!.dir, 'replicas', 'v.data'));
  const w1 = { offset: 3 * BLOCK + 10, data: Buffer.from('first write') };
  const w2 = { offset: 9 * BLOCK + 10, data: Buffer.from('second write') };
  flipBytes(paths[0]!, 3 * BLOCK, 1); // replica 0 will fail w1
  flipBytes(paths[1]!, 9 * BLOCK, 1); // replica 1 will fail w2
  for (const [i, r] of replicas.entries()) {
    for (const w of [w1, w2]) {
      const failsHere = (i === 0 && w === w1) || (i === 1 && w === w2);
      if (failsHere) {
        await t.rejects(async () => done(r.write(w.offset, w.data)), { code: 'CHECKSUM_MISMATCH' });
      } else {
        await done(r.write(w.offset, w.data));
      }
    }
    await r.flush(); // a flush already on its way lands after the failed write
  }
  flipBytes(paths[0]!, 3 * BLOCK, 1);
  flipBytes(paths[1]!, 9 * BLOCK, 1);

  const [a, b] = replicas as [(typeof replicas)[0], (typeof replicas)[0]];
  t.equal(a.chunkInfo(0).generation, b.chunkInfo(0).generation, 'same generation');
  t.not(a.read(0, CHUNK).equals(b.read(0, CHUNK)), true, 'different bytes');
  t.equal(a.chunkInfo(0).dirty || b.chunkInfo(0).dirty, false, 'both flushed');
  const mapA = await a.fullChunkMap();
  const mapB = await b.fullChunkMap();
  t.same(chunksToCopy(mapA, mapB, 'reconcile'), [0], 'reconcile copies the chunk');
  t.same(chunksToCopy(mapA, mapB, 'rebuild'), [0], 'and so does rebuild');
});
