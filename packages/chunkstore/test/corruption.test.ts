import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { isBallastError } from '@ballast/common';
import type { ScrubChunkResult } from '../src/index.js';
import { done, openStore, pattern, tempDir } from './helpers.js';

const BLOCK = 4096;
const CHUNK = 65536;

/** Flips bytes of the data file behind the store's back (through the page cache, like bit rot seen by a read). */
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

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

t.test('flipped bytes are detected, scrubbed, and repaired from good bytes', async (t) => {
  const dir = tempDir(t);
  const store = await openStore(t, { dir });
  const replica = await store.createReplica('c', { sizeBytes: 8 * CHUNK, chunkSizeBytes: CHUNK });
  const good = pattern(42, 4 * CHUNK);
  await done(replica.write(0, good));
  await replica.flush();
  const path = join(dir, 'replicas', 'c.data');

  const badBlock = 21; // in chunk 1
  flipBytes(path, badBlock * BLOCK + 100, 3);
  // Also damage a never-written chunk: it must read as zeroes or fail, never return garbage.
  flipBytes(path, 6 * CHUNK + 5 * BLOCK, 1);

  const err = caught(() => replica.read(badBlock * BLOCK, BLOCK));
  t.ok(isBallastError(err, 'CHECKSUM_MISMATCH'), 'the damaged block fails');
  if (isBallastError(err)) {
    t.equal(err.details?.blockIndex, badBlock, 'the error names the block');
    t.equal(err.details?.offsetBytes, badBlock * BLOCK);
    t.equal(err.details?.chunkIndex, 1);
    t.equal(err.details?.replicaId, 'c');
  }
  const spanning = caught(() => replica.read(badBlock * BLOCK - 10, 20));
  t.ok(isBallastError(spanning, 'CHECKSUM_MISMATCH'), 'a read touching the block fails');
  t.same(
    replica.read((badBlock - 1) * BLOCK, BLOCK),
    good.subarray((badBlock - 1) * BLOCK, badBlock * BLOCK),
    'the block before reads fine',
  );
  t.same(
    replica.read((badBlock + 1) * BLOCK, 3 * BLOCK),
    good.subarray((badBlock + 1) * BLOCK, (badBlock + 4) * BLOCK),
    'blocks after read fine',
  );
  t.same(replica.read(0, CHUNK), good.subarray(0, CHUNK), 'other chunks read fine');
  const holeErr = caught(() => replica.read(6 * CHUNK + 5 * BLOCK, 10));
  t.ok(
    isBallastError(holeErr, 'CHECKSUM_MISMATCH'),
    'garbage in a never-written chunk is detected',
  );
  t.equal(replica.stats().counters.checksumErrors, 3, 'each failed read is counted');
  t.equal(store.stats().checksumErrors, 3);

  // A partial write into the bad block must not bless the damage by checksumming it.
  // (The chunk was flushed, so the write first marks it dirty: the error comes through the promise.)
  await t.rejects(
    async () => done(replica.write(badBlock * BLOCK + 1000, Buffer.from('xyz'))),
    { code: 'CHECKSUM_MISMATCH' },
    'read-modify-write over a bad block fails',
  );
  t.ok(
    isBallastError(
      caught(() => replica.write(badBlock * BLOCK + 1000, Buffer.from('xyz'))),
      'CHECKSUM_MISMATCH',
    ),
    'also when the chunk is already marked and the write runs synchronously',
  );
  t.ok(
    isBallastError(
      caught(() => replica.read(badBlock * BLOCK, BLOCK)),
      'CHECKSUM_MISMATCH',
    ),
    'and changed nothing',
  );

  // Scrub finds it (the never-written chunk has no map entry, so scrub does not visit it).
  const results: ScrubChunkResult[] = [];
  for await (const r of replica.scrub({ bytesPerSecond: 1024 * 1024 * 1024 })) results.push(r);
  t.same(
    results.map((r) => r.chunkIndex),
    [0, 1, 2, 3],
    'scrub visits every written chunk',
  );
  const bad = results.flatMap((r) => r.badBlocks);
  t.same(
    bad.map((b) => [b.chunkIndex, b.blockIndex, b.offsetBytes]),
    [[1, badBlock, badBlock * BLOCK]],
  );
  t.equal(
    results.reduce((n, r) => n + r.bytesVerified, 0),
    4 * CHUNK,
  );
  const errorsAfterScrub = replica.stats().counters.checksumErrors;
  t.ok(errorsAfterScrub > 3, 'scrub counts what it finds');

  // Repair with wrong bytes is refused; with the good bytes it fixes the block.
  t.ok(
    isBallastError(
      caught(() => replica.repairBlocks(badBlock * BLOCK, Buffer.alloc(BLOCK, 1))),
      'CHECKSUM_MISMATCH',
    ),
  );
  replica.repairBlocks(badBlock * BLOCK, good.subarray(badBlock * BLOCK, (badBlock + 1) * BLOCK));
  t.same(replica.read(0, 4 * CHUNK), good, 'the repaired replica reads back');
  replica.repairBlocks(6 * CHUNK + 5 * BLOCK, Buffer.alloc(BLOCK));
  t.same(replica.read(6 * CHUNK, CHUNK), Buffer.alloc(CHUNK));
  const clean: ScrubChunkResult[] = [];
  for await (const r of replica.scrub({ bytesPerSecond: 1024 * 1024 * 1024 })) clean.push(r);
  t.same(
    clean.flatMap((r) => r.badBlocks),
    [],
    'scrub is clean after repair',
  );
  t.equal(replica.stats().counters.repairedBlocks, 2);
  await replica.flush();
  t.equal(replica.stats().counters.checksumErrors, errorsAfterScrub, 'no new errors after repair');
});

t.test('scrub stops when aborted', async (t) => {
  const dir = tempDir(t);
  const store = await openStore(t, { dir });
  const replica = await store.createReplica('s', { sizeBytes: 8 * CHUNK, chunkSizeBytes: CHUNK });
  await done(replica.write(0, pattern(3, 8 * CHUNK)));
  const controller = new AbortController();
  const seen: number[] = [];
  // 64 KiB/s: without the abort this would take about eight seconds.
  for await (const r of replica.scrub({ bytesPerSecond: CHUNK, signal: controller.signal })) {
    seen.push(r.chunkIndex);
    controller.abort();
  }
  t.same(seen, [0], 'nothing after the abort');
  t.rejects(
    (async () => {
      for await (const _ of replica.scrub({ bytesPerSecond: 0 })) break;
    })(),
    { code: 'INVALID_ARGUMENT' },
  );
});
