// The engine's snapshot cut over real chunk stores (in process): writers stamp blocks while
// snapshots are taken; every write acknowledged before a snapshot call began is in it, no write
// issued after the call returned is, and every in-sync replica holds the same bytes. A replica
// that fails the snapshot leaves the set, as one that fails a flush does.
import t from 'tap';
import { LocalCluster } from './helpers/cluster.js';

const KiB = 1024;
const BLOCK = 4 * KiB;
const CHUNK = 64 * KiB;
const SIZE = 2 * 1024 * KiB;
const BLOCKS = SIZE / BLOCK;
const WRITERS = 8;

interface WriteRecord {
  stamp: number;
  issuedAt: number;
  ackedAt: number;
}

function stamped(block: number, stamp: number): Buffer {
  const buf = Buffer.alloc(BLOCK);
  for (let at = 0; at < BLOCK; at += 8) {
    buf.writeUInt32LE(block, at);
    buf.writeUInt32LE(stamp, at + 4);
  }
  return buf;
}

t.test('snapshots under concurrent writes hold exactly the acknowledged past', async (t) => {
  const cluster = await LocalCluster.create(t, {
    nodes: 3,
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
  });
  const epoch = await cluster.attach();
  const engine = await cluster.openEngine(epoch);
  // A logical clock of events: every issue, acknowledgement, snapshot start and return.
  let now = 0;
  const history = new Map<number, WriteRecord[]>();
  let stamp = 0;
  let stop = false;
  const writer = async (w: number): Promise<void> => {
    let n = 0;
    while (!stop) {
      const block = (((n++ * 7919 + w * 131) % (BLOCKS / WRITERS)) * WRITERS + w) % BLOCKS;
      const record: WriteRecord = { stamp: ++stamp, issuedAt: ++now, ackedAt: Infinity };
      const list = history.get(block) ?? [];
      list.push(record);
      history.set(block, list);
      await engine.writeAt(block * BLOCK, stamped(block, record.stamp), false);
      record.ackedAt = ++now;
      if (n % 16 === 0) await engine.flush();
    }
  };
  const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
  const cuts: Array<{ seq: number; startedAt: number; returnedAt: number; pauseMs: number }> = [];
  for (let seq = 1; seq <= 6; seq++) {
    await new Promise((r) => setTimeout(r, 80));
    const startedAt = ++now;
    const { nodeIds, pauseMs } = await engine.snapshot(seq);
    const returnedAt = ++now;
    t.same(nodeIds.sort(), ['n1', 'n2', 'n3'], `snapshot ${seq} is on every replica`);
    cuts.push({ seq, startedAt, returnedAt, pauseMs });
  }
  stop = true;
  await Promise.all(writers);
  t.ok(stamp > 100, `enough writes to mean something (${stamp})`);

  for (const cut of cuts) {
    const copies = cluster.nodeIds.map((n) =>
      cluster.store(n).replica(cluster.volumeId).readSnapshot(cut.seq, 0, SIZE),
    );
    t.ok(
      copies.every((c) => c.equals(copies[0]!)),
      `snapshot ${cut.seq}: every replica holds the same bytes`,
    );
    t.ok(
      (await engine.readSnapshot(cut.seq, 0, SIZE)).equals(copies[0]!),
      `snapshot ${cut.seq} reads the same through the engine`,
    );
    let violations = 0;
    for (let block = 0; block < BLOCKS; block++) {
      const found = copies[0]!.readUInt32LE(block * BLOCK + 4);
      const writes = history.get(block) ?? [];
      // The newest write acknowledged before the call began must be there or a later one
      // issued before the call returned; nothing issued after it returned.
      const floor = writes.filter((w) => w.ackedAt < cut.startedAt).at(-1)?.stamp ?? 0;
      const allowed = writes
        .filter((w) => w.issuedAt < cut.returnedAt && w.stamp >= floor)
        .map((w) => w.stamp);
      if (floor === 0) allowed.push(0);
      if (!allowed.includes(found)) {
        if (violations++ < 5) {
          t.fail(
            `snapshot ${cut.seq} block ${block}: stamp ${found}, allowed ${allowed.join(',')}`,
          );
        }
      }
    }
    t.equal(violations, 0, `snapshot ${cut.seq}: every block is a write the cut allows`);
  }
  const pauses = cuts.map((c) => c.pauseMs).sort((a, b) => a - b);
  t.comment(`write pause per snapshot (ms): ${pauses.map((p) => p.toFixed(1)).join(' ')}`);
  t.same(engine.takeSnapshotPauses().length, cuts.length, 'every pause is recorded');
  await engine.close();
});

t.test('a replica that fails the snapshot leaves the set; the others hold it', async (t) => {
  const cluster = await LocalCluster.create(t, {
    nodes: 3,
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
  });
  const epoch = await cluster.attach();
  const engine = await cluster.openEngine(epoch);
  await engine.writeAt(0, stamped(0, 1));
  cluster.decide = (call) =>
    call.nodeId === 'n3' && call.kind === 'snapshot'
      ? { type: 'fail', kind: 'io', applied: false }
      : { type: 'none' };
  const { nodeIds } = await engine.snapshot(1);
  t.same(nodeIds.sort(), ['n1', 'n2'], 'the snapshot is on the replicas that took it');
  t.notOk(cluster.inSyncNodes().includes('n3'), 'n3 is out of the set, through the map');
  for (const n of ['n1', 'n2']) {
    t.ok(
      cluster.store(n).replica(cluster.volumeId).readSnapshot(1, 0, BLOCK).equals(stamped(0, 1)),
      `${n} holds snapshot 1`,
    );
  }
  await t.rejects(engine.snapshot(0), { code: 'INVALID_ARGUMENT' }, 'seq 0 is refused');
  await engine.close();
});
