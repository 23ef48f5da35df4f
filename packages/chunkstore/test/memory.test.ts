import t from 'tap';
import { done, openStore, pattern, tempDir } from './helpers.js';

const MiB = 1024 * 1024;

t.test('chunk metadata stays within its bounds while many chunks are touched', async (t) => {
  const dir = tempDir(t);
  const cacheBytes = 128 * 1024;
  const dirtyBytes = 4 * (96 + 16384 * 4); // the smallest allowed dirty budget
  const chunkMeta = 96 + 1024 * 4; // a 4 MiB chunk: 1024 checksums
  let store = await openStore(t, {
    dir,
    metadataCacheBytes: cacheBytes,
    dirtyMetadataBytes: dirtyBytes,
  });
  const replica = await store.createReplica('wide', { sizeBytes: 2048 * MiB });
  const chunks = 512;
  let maxPinned = 0;
  // One block in every chunk, with a few writes waiting at a time, as a data plane would issue them.
  for (let c = 0; c < chunks; c += 4) {
    const batch: Array<Promise<void> | undefined> = [];
    for (let k = 0; k < 4; k++)
      batch.push(replica.write((c + k) * 4 * MiB + 4096, pattern(c + k, 4096)));
    await Promise.all(batch.map(done));
    maxPinned = Math.max(maxPinned, store.stats().pinnedMetadataBytes);
  }
  const stats = store.stats();
  t.ok(
    stats.pressureFlushes > 0,
    `dirty metadata pressure forced ${stats.pressureFlushes} flushes`,
  );
  t.ok(
    maxPinned <= dirtyBytes + 8 * chunkMeta,
    `pinned metadata peaked at ${maxPinned} bytes (bound ${dirtyBytes} + in-flight)`,
  );
  t.ok(
    stats.cleanMetadataBytes <= cacheBytes,
    `clean metadata ${stats.cleanMetadataBytes} <= ${cacheBytes}`,
  );
  // Read everything back: evicted metadata reloads from the index.
  for (let c = 0; c < chunks; c++) {
    t.same(replica.read(c * 4 * MiB + 4096, 4096), pattern(c, 4096), `chunk ${c}`, {
      diagnostic: false,
    });
  }
  t.ok(store.stats().metadataCacheEvictions > 0, 'entries were evicted and reloaded');
  t.ok(store.stats().cleanMetadataBytes <= cacheBytes);
  await store.close();

  store = await openStore(t, {
    dir,
    metadataCacheBytes: cacheBytes,
    dirtyMetadataBytes: dirtyBytes,
  });
  const again = store.replica('wide');
  const map = await again.fullChunkMap();
  t.equal(map.length, chunks, 'every chunk is in the map after reopen');
  t.ok(map.every((e) => e.generation === 1 && !e.dirty && !e.unclean));
  t.same(again.read(300 * 4 * MiB + 4096, 4096), pattern(300, 4096));
});
