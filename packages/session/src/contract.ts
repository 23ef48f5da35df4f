import { randomBytes } from 'node:crypto';
import type { Fence } from '@ballast/common';
import { toSessionError } from './errors.js';
import type { ReplicaSession } from './session.js';
import type { SessionSpec } from './types.js';

/**
 * The compliance suite of the replica session contract (as js-libp2p's interface-compliance
 * tests run one suite against every transport): every ReplicaSession implementation passes it,
 * over every store: LocalSession over memory and over the chunk store, the data plane's
 * RemoteSession over TCP and TLS. Each package that provides an implementation runs it in its
 * own tests with a harness.
 */
export interface ContractHarness {
  /** The node id sessions report. */
  readonly nodeId: string;
  /** Makes an empty replica of a volume on the store behind the sessions. */
  createVolume(volumeId: string, sizeBytes: number, chunkSizeBytes: number): Promise<void>;
  /** Opens a session as an engine would. */
  open(spec: SessionSpec): Promise<ReplicaSession>;
  /** Persists a fence from outside any session, as a node following the cluster map does. */
  acceptFence(volumeId: string, fence: Fence): Promise<void>;
  /** The replica's bytes as the store holds them, bypassing every session (ground truth). */
  peek(volumeId: string, offsetBytes: number, lengthBytes: number): Promise<Buffer>;
}

/** The part of a tap Test the suite uses (structural: this package does not depend on tap). */
export interface ContractTest {
  ok(value: unknown, message: string): unknown;
  equal(found: unknown, wanted: unknown, message: string): unknown;
  same(found: unknown, wanted: unknown, message: string): unknown;
  fail(message: string): unknown;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const SIZE = 8 * MiB;
const CHUNK = 256 * KiB;
let volumes = 0;

/**
 * Resolves to the kind of SessionError a promise rejected with (as the engine classifies it:
 * implementations may reject with anything toSessionError classifies), or 'resolved'.
 */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return toSessionError(err, 'contract').kind;
  }
}

/** Runs one named test of the suite: `(name, fn) => void t.test(name, fn)` with tap. */
export type ContractRunner = (name: string, fn: (t: ContractTest) => Promise<void>) => void;

export function sessionContract(test: ContractRunner, name: string, h: ContractHarness): void {
  const fresh = async (
    epoch = 1,
    incarnation = 1,
  ): Promise<{
    volumeId: string;
    spec: SessionSpec;
  }> => {
    const volumeId = `contract-${++volumes}-${randomBytes(3).toString('hex')}`;
    await h.createVolume(volumeId, SIZE, CHUNK);
    return {
      volumeId,
      spec: { volumeId, epoch, incarnation, sizeBytes: SIZE, chunkSizeBytes: CHUNK },
    };
  };

  test(`${name}: reads return what was written; parts, trims and zeroes`, async (t) => {
    const { volumeId, spec } = await fresh();
    const s = await h.open(spec);
    t.equal(s.nodeId, h.nodeId, 'the session names its node');
    const data = randomBytes(64 * KiB);
    await s.write(CHUNK - 4 * KiB, data, false);
    t.ok(
      (await s.read(CHUNK - 4 * KiB, data.length)).equals(data),
      'read back across a chunk edge',
    );
    const target = Buffer.alloc(data.length + 8, 0xee);
    await s.readInto(CHUNK - 4 * KiB, data.length, target, 8);
    t.ok(target.subarray(8).equals(data) && target[7] === 0xee, 'readInto fills only its range');
    const parts = [randomBytes(4 * KiB), randomBytes(8 * KiB), randomBytes(4 * KiB)];
    await s.write(3 * CHUNK, parts, false);
    t.ok(
      (await s.read(3 * CHUNK, 16 * KiB)).equals(Buffer.concat(parts)),
      'a payload in parts is written back to back',
    );
    await s.writeZeroes(CHUNK - 4 * KiB, 8 * KiB, false, false);
    t.ok((await s.read(CHUNK - 4 * KiB, 8 * KiB)).equals(Buffer.alloc(8 * KiB)), 'zeroed');
    await s.trim(3 * CHUNK, CHUNK, false);
    t.ok((await s.read(3 * CHUNK, 16 * KiB)).equals(Buffer.alloc(16 * KiB)), 'trimmed');
    await s.flush();
    t.ok(
      (await h.peek(volumeId, CHUNK + 4 * KiB, 56 * KiB)).equals(data.subarray(8 * KiB)),
      'the store holds what the session wrote',
    );
    await s.close();
  });

  test(`${name}: a snapshot holds the session's earlier mutations and none after`, async (t) => {
    const { spec } = await fresh();
    const s = await h.open(spec);
    // Optional in the interface, but every implementation the suite runs against has it: one
    // without it fails here rather than passing unchecked.
    if (s.snapshot === undefined || s.readSnapshot === undefined) {
      t.fail(`${name} has no snapshot operation`);
      await s.close();
      return;
    }
    const before = randomBytes(CHUNK + 8 * KiB);
    // Not awaited: the snapshot must cover mutations issued before it, applied or not yet.
    const issued = s.write(CHUNK / 2, before, false);
    await s.snapshot(1);
    await issued;
    const after = randomBytes(16 * KiB);
    await s.write(CHUNK, after, false);
    await s.trim(0, CHUNK, false);
    const expected = Buffer.alloc(4 * CHUNK);
    before.copy(expected, CHUNK / 2);
    t.ok(
      (await s.readSnapshot(1, 0, 4 * CHUNK)).equals(expected),
      'the snapshot reads the earlier write and not the later ones',
    );
    t.ok((await s.read(CHUNK, after.length)).equals(after), 'the volume reads the later write');
    await s.snapshot(1);
    t.equal(await outcome(s.snapshot(0)), 'invalid', 'seq 0 is refused');
    t.ok((await outcome(s.readSnapshot(7, 0, 4096))) !== 'resolved', 'an unknown snapshot');
    await s.close();
  });

  test(`${name}: mutations apply in the order they were issued`, async (t) => {
    const { volumeId, spec } = await fresh();
    const s = await h.open(spec);
    const writes: Array<Promise<void>> = [];
    for (let i = 0; i < 64; i++) {
      // Issued back to back without waiting: each overwrites part of the one before.
      writes.push(s.write((i % 4) * 4 * KiB, Buffer.alloc(8 * KiB, i), false));
    }
    await Promise.all(writes);
    await s.flush();
    const expected = Buffer.alloc(20 * KiB);
    for (let i = 0; i < 64; i++) Buffer.alloc(8 * KiB, i).copy(expected, (i % 4) * 4 * KiB);
    t.ok((await s.read(0, 20 * KiB)).equals(expected), 'the last write to each block wins');
    t.ok((await h.peek(volumeId, 0, 20 * KiB)).equals(expected), 'in the store too');
    await s.close();
  });

  test(`${name}: a flush covers the session's earlier mutations; FUA is durable`, async (t) => {
    const { spec } = await fresh();
    const s = await h.open(spec);
    const pending = [
      s.write(0, randomBytes(4 * KiB), false),
      s.write(CHUNK, randomBytes(4 * KiB), false),
    ];
    const flushed = s.flush();
    await Promise.all([...pending, flushed]);
    let map = await s.chunkMap();
    t.same(
      map.map((c) => [c.index, c.dirty]),
      [
        [0, false],
        [1, false],
      ],
      'nothing is dirty after a flush that followed the writes',
    );
    await s.write(2 * CHUNK, randomBytes(4 * KiB), true);
    map = await s.chunkMap();
    t.equal(
      map.find((c) => c.index === 2)?.dirty,
      false,
      'a FUA write is durable when it resolves',
    );
    await s.write(5 * CHUNK, randomBytes(4 * KiB), false);
    map = await s.chunkMap();
    t.equal(map.find((c) => c.index === 5)?.dirty, true, 'a plain write is dirty until a flush');
    await s.close();
  });

  test(`${name}: chunk maps, whole chunks and their generations`, async (t) => {
    const { spec } = await fresh();
    const s = await h.open(spec);
    await s.write(0, randomBytes(4 * KiB), false);
    await s.write(0, randomBytes(4 * KiB), false);
    await s.write(2 * CHUNK, randomBytes(CHUNK), false);
    await s.flush();
    const map = await s.chunkMap();
    t.same(
      map.map((c) => [c.index, c.generation, c.hole, c.unclean]),
      [
        [0, 2, false, false],
        [2, 1, false, false],
      ],
      'one generation per mutation of a chunk, in index order',
    );
    const copy = randomBytes(CHUNK);
    await s.writeChunk(3, 42, copy);
    const chunk = await s.readChunk(3);
    t.equal(chunk.generation, 42, 'an installed chunk keeps the generation it was given');
    t.ok(chunk.data?.equals(copy), 'and its bytes');
    await s.writeChunk(0, 7, null);
    const hole = await s.readChunk(0);
    t.same([hole.generation, hole.data], [7, null], 'a hole is installed as a hole');
    t.equal((await s.chunkMap()).find((c) => c.index === 0)?.hole, true, 'the map says so');
    if (s.replicaSizeBytes !== undefined) {
      t.equal(await s.replicaSizeBytes(), SIZE, 'the probe reports the replica size');
    }
    await s.close();
  });

  test(`${name}: fences: an older epoch is fenced, an older incarnation superseded`, async (t) => {
    const { volumeId, spec } = await fresh(5, 10);
    const s = await h.open(spec);
    const before = randomBytes(4 * KiB);
    await s.write(0, before, false);
    // The map demoted this replica and took it back (a new incarnation, same epoch).
    await h.acceptFence(volumeId, { epoch: 5, incarnation: 20 });
    t.equal(await outcome(s.write(0, randomBytes(4 * KiB), false)), 'superseded', 'a late write');
    t.equal(await outcome(s.read(0, 4 * KiB)), 'superseded', 'a late read');
    t.equal(await outcome(s.flush()), 'superseded', 'a late flush');
    t.ok((await h.peek(volumeId, 0, 4 * KiB)).equals(before), 'nothing was applied');
    t.equal(await outcome(h.open(spec)), 'superseded', 'a new session under the old incarnation');
    const current = await h.open({ ...spec, incarnation: 20 });
    await current.write(0, randomBytes(4 * KiB), false);
    // Another writer attached (a new epoch): every session of the older epoch is fenced.
    await h.acceptFence(volumeId, { epoch: 6, incarnation: 20 });
    t.equal(await outcome(current.write(0, randomBytes(4 * KiB), false)), 'fenced', 'fenced');
    t.equal(await outcome(h.open({ ...spec, epoch: 4, incarnation: 99 })), 'fenced', 'old epoch');
    const newer = await h.open({ ...spec, epoch: 6, incarnation: 20 });
    await newer.write(0, Buffer.alloc(4 * KiB, 1), true);
    t.ok(
      (await h.peek(volumeId, 0, 4 * KiB)).equals(Buffer.alloc(4 * KiB, 1)),
      'the new writer writes',
    );
    await Promise.allSettled([s.close(), current.close(), newer.close()]);
  });

  test(`${name}: abort drops the session; a shape mismatch is refused`, async (t) => {
    const { spec } = await fresh();
    const s = await h.open(spec);
    await s.write(0, randomBytes(4 * KiB), false);
    s.abort();
    t.equal(await outcome(s.read(0, 4 * KiB)), 'disconnected', 'nothing reaches the replica');
    t.equal(await outcome(s.write(0, randomBytes(4 * KiB), false)), 'disconnected', 'no write');
    t.equal(
      await outcome(h.open({ ...spec, chunkSizeBytes: CHUNK * 2 })),
      'invalid',
      'another chunk size is refused',
    );
    const closing = await h.open(spec);
    await closing.close();
    t.equal(await outcome(closing.read(0, 4 * KiB)), 'disconnected', 'nothing after close');
  });
}
