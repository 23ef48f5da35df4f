// Bytes flipped in a replica file on disk: reads get CHECKSUM (never the bad bytes), the
// metrics count it, and the background scrub finds it on its own.
import { openSync, readSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { StatusCode, isDataPlaneError } from '@ballast/dataplane';
import {
  connect,
  metricValue,
  pattern,
  rejection,
  startNodeProcess,
  waitUntil,
} from './helpers.js';

const VOLUME = 'vol1';
const CHUNK = 1024 * 1024;
const BLOCK = 4096;

function flipByte(path: string, offset: number): void {
  const fd = openSync(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, offset);
    b[0] = b[0]! ^ 0xff;
    writeSync(fd, b, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}

t.test('a flipped byte on disk is reported as CHECKSUM, counted and found by scrub', async (t) => {
  const node = await startNodeProcess(t, {
    replicas: [{ volumeId: VOLUME, sizeBytes: 16 * CHUNK, chunkSizeBytes: CHUNK }],
    // Scrub continuously and fast, so the test does not wait for it.
    config: { scrubBytesPerSecond: 256 * 1024 * 1024, scrubIntervalMs: 50 },
  });
  const metrics = node.endpoints.metrics!;
  const client = await connect(t, node);
  const session = await client.openSession({ volumeId: VOLUME, epoch: 1 });
  // Before any error the replica's error series exist at 0 (rate() and alerts need a series).
  t.equal(
    await metricValue(metrics, 'ballast_node_checksum_errors_total', { volume: VOLUME }),
    0,
    'the checksum error series exists at 0',
  );
  t.equal(
    await metricValue(metrics, 'ballast_node_repaired_blocks_total', { volume: VOLUME }),
    0,
    'the repaired blocks series exists at 0',
  );
  const data = pattern(42, 2 * CHUNK);
  await session.write(3 * CHUNK, data);
  await session.flush();
  t.same(await session.read(3 * CHUNK, 2 * CHUNK), data, 'intact before');

  const badOffset = 3 * CHUNK + 5 * BLOCK + 100;
  flipByte(join(node.dataDir, 'replicas', `${VOLUME}.data`), badOffset);

  const err = await rejection(session.read(3 * CHUNK + 5 * BLOCK, BLOCK));
  t.ok(isDataPlaneError(err, StatusCode.CHECKSUM), `the bad block is refused: ${String(err)}`);
  const wide = await rejection(session.read(3 * CHUNK, 2 * CHUNK));
  t.ok(isDataPlaneError(wide, StatusCode.CHECKSUM), 'so is any read that covers it');
  const chunkErr = await rejection(session.readChunk(3));
  t.ok(isDataPlaneError(chunkErr, StatusCode.CHECKSUM), 'and a rebuild read of its chunk');
  t.same(
    await session.read(3 * CHUNK + 6 * BLOCK, BLOCK),
    data.subarray(6 * BLOCK, 7 * BLOCK),
    'neighbouring blocks still read fine',
  );
  t.same(await session.read(4 * CHUNK, CHUNK), data.subarray(CHUNK), 'other chunks too');

  t.ok(
    (await metricValue(metrics, 'ballast_node_checksum_errors_total', { volume: VOLUME })) >= 3,
    'checksum errors are counted',
  );
  t.ok(
    (await metricValue(metrics, 'ballast_node_request_errors_total', {
      volume: VOLUME,
      op: 'read',
      status: 'CHECKSUM',
    })) >= 2,
    'the refused reads are counted by status',
  );
  await waitUntil(
    'the scrub to find the bad block',
    async () =>
      (await metricValue(metrics, 'ballast_node_scrub_errors_total', { volume: VOLUME })) >= 1,
    60_000,
  );
  // The bad chunk may be the first one a pass reports: wait for the pass to cover both.
  await waitUntil(
    'the scrub to verify the written chunks',
    async () =>
      (await metricValue(metrics, 'ballast_node_scrubbed_bytes_total', { volume: VOLUME })) >=
      2 * CHUNK,
    60_000,
  );
  t.pass('the scrub verified the written chunks');

  // Writing the whole block again repairs it from the client's side.
  await session.write(3 * CHUNK + 5 * BLOCK, data.subarray(5 * BLOCK, 6 * BLOCK));
  t.same(await session.read(3 * CHUNK, 2 * CHUNK), data, 'a full-block rewrite heals the block');
});
