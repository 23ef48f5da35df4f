// Sessions and requests over real TCP: pipelining, ordering of overlapping writes, flush
// coverage, fencing, chunk requests and request-level errors.
import t from 'tap';
import { FrameType } from '@ballast/proto';
import { StatusCode, isDataPlaneError, type ClientSession } from '../src/index.js';
import {
  CHUNK_BYTES,
  RawPeer,
  VOLUME,
  VOLUME_BYTES,
  connectClient,
  dp,
  pattern,
  rejection,
  rng,
  seedFrom,
  startServer,
} from './helpers.js';

const BLOCK = 4096;

/** A byte-exact model of the volume: what every read must return. */
class Model {
  readonly bytes: Buffer;
  constructor(size: number) {
    this.bytes = Buffer.alloc(size);
  }
  write(offset: number, data: Buffer): void {
    data.copy(this.bytes, offset);
  }
  zero(offset: number, length: number): void {
    this.bytes.fill(0, offset, offset + length);
  }
  read(offset: number, length: number): Buffer {
    return Buffer.from(this.bytes.subarray(offset, offset + length));
  }
}

t.test('1000 mixed requests pipelined on one connection are all answered correctly', async (t) => {
  const seed = seedFrom('DATAPLANE_PIPELINE_SEED');
  t.comment(`seed ${seed} (replay with DATAPLANE_PIPELINE_SEED=${seed})`);
  const random = rng(seed);
  const ts = await startServer(t);
  const client = await connectClient(t, ts.port);
  const session = await client.openSession({ volumeId: VOLUME, epoch: 1 });
  const span = 4 * 1024 * 1024; // a small region, so requests overlap often
  const model = new Model(span);
  const writesBefore = client.stats().socketWrites;
  const checks: Array<Promise<void>> = [];
  const kinds: Record<string, number> = {};
  let mismatches = 0;
  // Every request is issued in this one synchronous loop; the in-memory store applies them in
  // arrival order, so each read must see exactly the model as of its issue.
  for (let i = 0; i < 1000; i++) {
    const r = random();
    const offset = Math.floor(random() * (span / BLOCK - 33)) * BLOCK + (random() < 0.2 ? 512 : 0);
    // Up to 128 KiB: reads of 64 KiB and more take the pooled readInto path.
    const length = (1 + Math.floor(random() * 32)) * BLOCK - (random() < 0.2 ? 100 : 0);
    let kind: string;
    if (r < 0.4) {
      kind = 'write';
      const data = pattern(seed + i, length);
      model.write(offset, data);
      checks.push(session.write(offset, data, { fua: random() < 0.1 }));
    } else if (r < 0.8) {
      kind = 'read';
      const expected = model.read(offset, length);
      checks.push(
        session.read(offset, length).then((got) => {
          if (!got.equals(expected)) mismatches += 1;
        }),
      );
    } else if (r < 0.86) {
      kind = 'flush';
      checks.push(session.flush());
    } else if (r < 0.92) {
      kind = 'zero';
      model.zero(offset, length);
      checks.push(session.zero(offset, length));
    } else if (r < 0.96) {
      kind = 'trim';
      model.zero(offset, length);
      checks.push(session.trim(offset, length));
    } else if (r < 0.98) {
      kind = 'chunk_map';
      checks.push(
        session.getChunkMap().then((map) => {
          if (map.chunkSizeBytes !== CHUNK_BYTES) mismatches += 1;
        }),
      );
    } else {
      kind = 'read_chunk';
      const index = Math.floor(random() * (span / CHUNK_BYTES));
      const expected = model.read(index * CHUNK_BYTES, CHUNK_BYTES);
      checks.push(
        session.readChunk(index).then((chunk) => {
          const got = chunk.data ?? Buffer.alloc(CHUNK_BYTES);
          if (!got.equals(expected)) mismatches += 1;
        }),
      );
    }
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  t.equal(client.stats().inFlight, 1000, 'all 1000 are on the wire together');
  await Promise.all(checks);
  t.equal(mismatches, 0, 'every read and chunk read returned the model bytes');
  t.equal(
    client.stats().socketWrites - writesBefore,
    1,
    'the 1000 frames went out in one socket write',
  );
  t.same(ts.store.volume(VOLUME).peek(0, span), model.bytes, 'the replica equals the model');
  t.comment(`mix: ${JSON.stringify(kinds)}`);
});

t.test('overlapping writes apply in arrival order while some wait (async path)', async (t) => {
  const seed = seedFrom('DATAPLANE_ORDER_SEED');
  t.comment(`seed ${seed} (replay with DATAPLANE_ORDER_SEED=${seed})`);
  const random = rng(seed);
  // About a third of the mutations wait 0-3 ms, like a chunk-store write waiting for its dirty
  // mark; every later mutation must still land after it.
  const delays = rng(seed ^ 0x5bd1e995);
  const ts = await startServer(
    t,
    {},
    {
      mutationDelayMs: () => (delays() < 0.35 ? Math.floor(delays() * 4) : undefined),
    },
  );
  const client = await connectClient(t, ts.port);
  const session = await client.openSession({ volumeId: VOLUME, epoch: 1 });
  const span = 64 * 1024;
  const model = new Model(span);
  for (let round = 0; round < 5; round++) {
    const acks: Array<Promise<void>> = [];
    for (let i = 0; i < 200; i++) {
      const offset = Math.floor(random() * (span - 8192));
      const length = 1 + Math.floor(random() * 8192);
      const data = pattern(seed + round * 1000 + i, length);
      model.write(offset, data);
      acks.push(session.write(offset, data));
    }
    await Promise.all(acks);
    t.same(
      ts.store.volume(VOLUME).peek(0, span),
      model.bytes,
      `round ${round}: last writer wins everywhere`,
    );
    t.same(await session.read(0, span), model.bytes, `round ${round}: reads agree`);
  }
  t.ok(ts.store.volume(VOLUME).delayedMutations > 100, 'the async path was exercised');
});

t.test('a flush covers every write sent before it, acknowledged or not', async (t) => {
  const ts = await startServer(t, {}, { mutationDelayMs: () => 2 });
  const volume = ts.store.volume(VOLUME);
  const appliedAtFlush: number[] = [];
  const originalFlush = ts.store.flush.bind(ts.store);
  ts.store.flush = async (v) => {
    appliedAtFlush.push(v.appliedMutations);
    return originalFlush(v);
  };
  const client = await connectClient(t, ts.port);
  const session = await client.openSession({ volumeId: VOLUME, epoch: 1 });
  const writes: Array<Promise<void>> = [];
  for (let i = 0; i < 20; i++) writes.push(session.write(i * BLOCK, pattern(i, BLOCK)));
  // Sent in the same turn as the writes, before any of them is acknowledged.
  await session.flush();
  t.equal(appliedAtFlush[0], 20, 'the flush reached the store after all 20 writes were applied');
  await Promise.all(writes);
  t.equal(volume.dirty.size, 0);
  // FUA: the write is applied and flushed before its ack.
  await session.write(0, pattern(99, BLOCK), { fua: true });
  t.equal(appliedAtFlush[1], 21, 'FUA flushed after applying');
});

t.test(
  'fencing: once epoch 6 is accepted, epoch-5 requests are refused on every connection',
  async (t) => {
    const ts = await startServer(t);
    const oldHost = await connectClient(t, ts.port, { clientId: 'agent-old' });
    const newHost = await connectClient(t, ts.port, { clientId: 'agent-new' });
    const s5 = await oldHost.openSession({ volumeId: VOLUME, epoch: 5 });
    await s5.write(0, Buffer.alloc(BLOCK, 5));
    t.same(await s5.read(0, BLOCK), Buffer.alloc(BLOCK, 5), 'epoch 5 works');
    const s6 = await newHost.openSession({ volumeId: VOLUME, epoch: 6 });
    t.equal(s6.highestEpoch, 6);
    for (const [name, op] of [
      ['write', () => s5.write(0, Buffer.alloc(BLOCK, 55))],
      ['read', () => s5.read(0, BLOCK)],
      ['flush', () => s5.flush()],
      ['trim', () => s5.trim(0, BLOCK)],
      ['chunk map', () => s5.getChunkMap()],
      ['write chunk', () => s5.writeChunk(0, 9, null)],
    ] as const) {
      const err = await rejection(op());
      t.ok(isDataPlaneError(err, StatusCode.FENCED), `epoch-5 ${name} is FENCED`);
    }
    const reopen = await rejection(oldHost.openSession({ volumeId: VOLUME, epoch: 5 }));
    t.ok(isDataPlaneError(reopen, StatusCode.FENCED), 'reopening at epoch 5 is FENCED');
    t.same(await s6.read(0, BLOCK), Buffer.alloc(BLOCK, 5), 'the fenced write changed nothing');
    await s6.write(0, Buffer.alloc(BLOCK, 6));
    t.ok(oldHost.isOpen, 'the fenced host keeps its connection (only its epoch is refused)');
  },
);

t.test('a newer epoch opens only after older mutations already accepted have landed', async (t) => {
  const ts = await startServer(t, {}, { mutationDelayMs: () => 20 });
  const oldHost = await connectClient(t, ts.port);
  const newHost = await connectClient(t, ts.port);
  const s5 = await oldHost.openSession({ volumeId: VOLUME, epoch: 5 });
  const late = s5.write(0, Buffer.alloc(BLOCK, 5));
  // Wait until the server has accepted the old write (it is queued in the store).
  const volume = ts.store.volume(VOLUME);
  while (volume.queue.length === 0) await new Promise((r) => setTimeout(r, 1));
  const s6 = await newHost.openSession({ volumeId: VOLUME, epoch: 6 });
  t.equal(volume.appliedMutations, 1, 'the epoch-5 write landed before epoch 6 was granted');
  await late;
  await s6.write(0, Buffer.alloc(BLOCK, 6));
  t.same(await s6.read(0, BLOCK), Buffer.alloc(BLOCK, 6), 'the new writer wins');
});

t.test('request errors are answered and the connection stays usable', async (t) => {
  const ts = await startServer(t);
  const client = await connectClient(t, ts.port);
  const session = await client.openSession({ volumeId: VOLUME, epoch: 1 });
  const cases: Array<[string, () => Promise<unknown>, StatusCode]> = [
    ['read past the end', () => session.read(VOLUME_BYTES - BLOCK, 2 * BLOCK), StatusCode.INVALID],
    ['write past the end', () => session.write(VOLUME_BYTES, Buffer.alloc(1)), StatusCode.INVALID],
    ['read above 32 MiB', () => session.read(0, 33 * 1024 * 1024), StatusCode.INVALID],
    [
      'unknown volume',
      () => client.openSession({ volumeId: 'nope', epoch: 1 }),
      StatusCode.NOT_FOUND,
    ],
    [
      'size mismatch',
      () => client.openSession({ volumeId: VOLUME, epoch: 1, sizeBytes: 4096 }),
      StatusCode.INVALID,
    ],
    ['chunk outside', () => session.readChunk(1 << 20), StatusCode.INVALID],
    ['chunk of wrong size', () => session.writeChunk(0, 3, Buffer.alloc(10)), StatusCode.INVALID],
  ];
  for (const [name, op, code] of cases) {
    const err = await rejection(op());
    t.ok(isDataPlaneError(err, code), `${name}: ${String(err)}`);
  }
  session.close();
  const closed = await rejection(session.read(0, BLOCK));
  t.ok(isDataPlaneError(closed, StatusCode.NO_SESSION), 'a closed session answers NO_SESSION');
  const again = await client.openSession({ volumeId: VOLUME, epoch: 1 });
  await again.write(0, Buffer.alloc(BLOCK, 1));
  t.same(await again.read(0, BLOCK), Buffer.alloc(BLOCK, 1), 'the connection still works');
});

t.test('requests on a session id that was never opened get NO_SESSION', async (t) => {
  const ts = await startServer(t);
  const peer = await RawPeer.connect(ts.port);
  t.teardown(() => peer.destroy());
  await peer.authenticate();
  peer.sendMessage(
    FrameType.Read,
    7,
    dp.ReadRequest.encode({ sessionId: 42, offset: 0, length: 4096 }).finish(),
  );
  const r = await peer.frame(FrameType.ReadResponse);
  t.equal((r?.header as { status?: { code?: number } }).status?.code, StatusCode.NO_SESSION);
  t.equal(r?.requestId, 7);
  t.equal(r?.payload.length, 0, 'no data with an error');
});

t.test('chunk requests: map, read and install, with and without a session', async (t) => {
  const ts = await startServer(t);
  const client = await connectClient(t, ts.port);
  const session = await client.openSession({ volumeId: VOLUME, epoch: 1 });
  await session.write(CHUNK_BYTES * 2 + 10, Buffer.alloc(100, 9));
  const map = await client.getChunkMap(VOLUME);
  t.same(map.chunks, [{ index: 2, generation: 1, dirty: true, unclean: false, hole: false }]);
  await session.flush();
  t.same((await session.getChunkMap()).chunks, [
    { index: 2, generation: 1, dirty: false, unclean: false, hole: false },
  ]);
  const chunk = await client.readChunk(VOLUME, 2);
  t.equal(chunk.generation, 1);
  t.same(chunk.data?.subarray(10, 110), Buffer.alloc(100, 9));
  t.equal((await client.readChunk(VOLUME, 3)).data, null, 'a hole has no data');
  await session.writeChunk(5, 17, pattern(5, CHUNK_BYTES));
  await session.writeChunk(2, 18, null);
  t.same(await session.read(5 * CHUNK_BYTES, CHUNK_BYTES), pattern(5, CHUNK_BYTES));
  t.same(await session.read(2 * CHUNK_BYTES, CHUNK_BYTES), Buffer.alloc(CHUNK_BYTES));
  const after = await client.getChunkMap(VOLUME);
  t.same(
    after.chunks.map((c) => [c.index, c.generation]),
    [
      [2, 18],
      [5, 17],
    ],
  );
});

t.test('the chunk map carries unclean and hole apart', async (t) => {
  const ts = await startServer(t);
  const client = await connectClient(t, ts.port);
  const session = await client.openSession({ volumeId: VOLUME, epoch: 1 });
  await session.write(0, Buffer.alloc(100, 1));
  await session.write(CHUNK_BYTES, Buffer.alloc(100, 2));
  await session.writeChunk(3, 5, null);
  await session.flush();
  const volume = ts.store.volume(VOLUME);
  volume.unclean.add(1);
  const map = await client.getChunkMap(VOLUME);
  t.same(map.chunks, [
    { index: 0, generation: 1, hole: false, dirty: false, unclean: false },
    // On the wire `dirty` still covers it, for older clients; normalised it is unclean only.
    { index: 1, generation: 1, hole: false, dirty: false, unclean: true },
    { index: 3, generation: 5, hole: true, dirty: false, unclean: false },
  ]);
  await session.writeChunk(1, 9, pattern(1, CHUNK_BYTES));
  await session.flush();
  const after = await client.getChunkMap(VOLUME);
  t.same(after.chunks[1], { index: 1, generation: 9, hole: false, dirty: false, unclean: false });
});

t.test('one payload buffer fans out to three nodes without a copy per replica', async (t) => {
  const servers = await Promise.all([startServer(t), startServer(t), startServer(t)]);
  const sessions: ClientSession[] = [];
  for (const ts of servers) {
    const c = await connectClient(t, ts.port);
    sessions.push(await c.openSession({ volumeId: VOLUME, epoch: 1 }));
  }
  const { fanOutWrite } = await import('../src/index.js');
  const payload = pattern(7, 1024 * 1024);
  const results = await fanOutWrite(sessions, CHUNK_BYTES, payload, { fua: true });
  t.same(
    results.map((r) => r.status),
    ['fulfilled', 'fulfilled', 'fulfilled'],
  );
  for (const ts of servers) {
    t.same(ts.store.volume(VOLUME).peek(CHUNK_BYTES, payload.length), payload);
  }
});

t.test('large reads in flight together never share a recycled buffer', async (t) => {
  const ts = await startServer(t);
  const client = await connectClient(t, ts.port);
  const session = await client.openSession({ volumeId: VOLUME, epoch: 1 });
  const size = 256 * 1024;
  const regions = 32;
  for (let i = 0; i < regions; i++) await session.write(i * size, pattern(1000 + i, size));
  let wrong = 0;
  for (let round = 0; round < 4; round++) {
    await Promise.all(
      Array.from({ length: regions }, async (_, i) => {
        const got = await session.read(i * size, size);
        if (!got.equals(pattern(1000 + i, size))) wrong += 1;
      }),
    );
  }
  t.equal(wrong, 0, '128 large reads, each with its own bytes');
});

t.test('large writes assembled in recycled buffers keep their bytes until applied', async (t) => {
  // Some writes wait before they apply (as a chunk-store write waits for its dirty mark) while
  // later large frames arrive: a buffer given back too early would show up as wrong bytes.
  const seed = seedFrom('DATAPLANE_RECYCLE_SEED');
  t.teardown(() => {
    if (!t.passing()) console.error(`# replay: DATAPLANE_RECYCLE_SEED=${seed}`);
  });
  const delays = rng(seed);
  const ts = await startServer(
    t,
    {},
    { mutationDelayMs: () => (delays() < 0.5 ? Math.floor(delays() * 5) : undefined) },
  );
  const client = await connectClient(t, ts.port);
  const session = await client.openSession({ volumeId: VOLUME, epoch: 1 });
  const size = 192 * 1024 + 100;
  const regions = 24;
  for (let round = 0; round < 3; round++) {
    await Promise.all(
      Array.from({ length: regions }, (_, i) =>
        session.write(i * size, pattern(round * 100 + i, size)),
      ),
    );
    let wrong = 0;
    for (let i = 0; i < regions; i++) {
      if (
        !ts.store
          .volume(VOLUME)
          .peek(i * size, size)
          .equals(pattern(round * 100 + i, size))
      )
        wrong += 1;
    }
    t.equal(wrong, 0, `round ${round}: ${regions} large pipelined writes hold their own bytes`);
  }
});
