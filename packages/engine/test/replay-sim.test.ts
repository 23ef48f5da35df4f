// The engine's exactly replaying simulation (issue 15): the engine, real chunk stores on
// simulated disks (MemoryStorage), the real cluster map, all on virtual time (SimClock). A seed
// decides everything: the workload (concurrent overlapping writes, trims, zeroes, reads,
// flushes), the network's faults (lost, late, slow and hung calls), the disks' faults (EIO on
// bad blocks, failing writes, failing syncs, a disk that fills up), power cuts of one node at
// any moment (unsynced writes lost but for a random subset of their sectors), crashes of the
// engine's host, and power cuts of the whole cluster. Nodes come back, return to the set and
// are rebuilt by delta; a failed engine is reopened at a new epoch, as the agent does (D22).
//
// Checked, per seed:
// - every read while the engine is open returns what the call order says (or fails only with a
//   checksum error or on a disk's bad block);
// - invariant 4 at every acknowledgement: each replica the map lists as in-sync took the write;
// - after a host crash and reopen, every acknowledged write is there;
// - after a power cut of every in-sync copy, every byte holds its last flushed value or a value
//   written since that flush (nothing flushed is lost, nothing appears from nowhere);
// - after the faults stop and the nodes return, the replicas are byte-identical and hold every
//   acknowledged write;
// - the run is a function of its seed: replaying it gives the same trace, bit for bit.
//
// Replay one seed: ENGINE_REPLAY_SEED=<seed> npx tap dist/test/replay-sim.test.js
// More seeds: ENGINE_REPLAY_SEEDS=<count> [ENGINE_REPLAY_FIRST=<seed>]
import { createHash } from 'node:crypto';
import t from 'tap';
import { SimClock, type BallastError, type ClockTimer } from '@ballast/common';
import type { StorageFault, StorageOp } from '@ballast/chunkstore';
import type { VolumeEngine, VolumeEngineOptions } from '../src/engine.js';
import { CALL_CODES, FAIL_KINDS, hash32, pattern, prng } from './helpers/cluster.js';
import type { CallInfo, Fault } from './helpers/faulty-session.js';
import { SimWorld } from './helpers/sim-world.js';

const KiB = 1024;
const SIZE = 512 * KiB;
/** Room for online growth: at most two resizes of up to 96 KiB each. */
const MAX_SIZE = 1024 * KiB;
const CHUNK = 64 * KiB;
const HOT_BYTES = 64 * KiB;
const ROUNDS = Number(process.env.ENGINE_REPLAY_ROUNDS ?? 30);
/** Virtual time a batch may take before the run counts as hung. */
const BATCH_LIMIT_MS = 10 * 60_000;
const READ_STEP = 128 * KiB;

const FIRST = Number(process.env.ENGINE_REPLAY_FIRST ?? 1);
const seeds = process.env.ENGINE_REPLAY_SEED
  ? [Number(process.env.ENGINE_REPLAY_SEED)]
  : Array.from({ length: Number(process.env.ENGINE_REPLAY_SEEDS ?? 1000) }, (_, i) => FIRST + i);

type Op =
  | { kind: 'write'; offset: number; data: Buffer; fua: boolean }
  | { kind: 'trim' | 'zero'; offset: number; length: number }
  | { kind: 'read'; offset: number; length: number }
  | { kind: 'flush' }
  | { kind: 'snapshot'; seq: number };

type Mutation = { offset: number; length: number; data: Buffer | null };

/**
 * What the volume must hold. `latest`/`known`: the value of every byte after every mutation
 * acknowledged so far (`known` 0 where a failed mutation may have left anything). `flushed`:
 * the same at the last flush that completed with nothing in flight; `since`: every mutation
 * issued after it, acknowledged or not, which a power cut may have kept or lost.
 */
class Model {
  latest = Buffer.alloc(MAX_SIZE);
  known = Buffer.alloc(MAX_SIZE, 1);
  flushed = Buffer.alloc(MAX_SIZE);
  flushedKnown = Buffer.alloc(MAX_SIZE, 1);
  since: Mutation[] = [];

  apply(op: Op, ok: boolean): void {
    if (op.kind === 'flush' || op.kind === 'read' || op.kind === 'snapshot') return;
    const length = op.kind === 'write' ? op.data.length : op.length;
    this.since.push({ offset: op.offset, length, data: op.kind === 'write' ? op.data : null });
    if (!ok) {
      this.known.fill(0, op.offset, op.offset + length);
      return;
    }
    if (op.kind === 'write') op.data.copy(this.latest, op.offset);
    else this.latest.fill(0, op.offset, op.offset + length);
    this.known.fill(1, op.offset, op.offset + length);
  }

  markFlushed(): void {
    this.latest.copy(this.flushed);
    this.known.copy(this.flushedKnown);
    this.since = [];
  }

  /**
   * After a loss that could not be read back (the read failed): every byte written since the
   * last flush may hold any of its candidates, so it is not checked until written again.
   */
  forgetSince(): void {
    for (const m of this.since) this.known.fill(0, m.offset, m.offset + m.length);
    this.markFlushed();
  }

  /** The volume read back whole becomes the truth (after a loss that the rules allowed). */
  rebase(actual: Buffer): void {
    actual.copy(this.latest);
    this.known.fill(1);
    this.markFlushed();
  }

  /** First offset where `actual` differs from a known acknowledged byte, or -1. */
  mismatch(actual: Buffer, offset = 0): number {
    for (let i = 0; i < actual.length; i++) {
      if (this.known[offset + i] === 1 && actual[i] !== this.latest[offset + i]) return offset + i;
    }
    return -1;
  }

  /** After every copy lost power: first byte that is neither flushed nor written since, or -1. */
  lossMismatch(actual: Buffer): number {
    for (let i = 0; i < actual.length; i++) {
      const v = actual[i]!;
      if (this.known[i] === 1 && v === this.latest[i]) continue;
      if (this.flushedKnown[i] === 0 || v === this.flushed[i]) continue;
      let ok = false;
      for (const m of this.since) {
        if (i < m.offset || i >= m.offset + m.length) continue;
        if ((m.data === null ? 0 : m.data[i - m.offset]) === v) {
          ok = true;
          break;
        }
      }
      if (!ok) return i;
    }
    return -1;
  }

  snapshot(offset: number, length: number): { bytes: Buffer; known: Buffer } {
    return {
      bytes: Buffer.from(this.latest.subarray(offset, offset + length)),
      known: Buffer.from(this.known.subarray(offset, offset + length)),
    };
  }
}

const DISK_CODES: Record<StorageOp['kind'], number> = {
  read: 1,
  write: 2,
  punch: 3,
  zero: 4,
  sync: 5,
};

type DiskTrouble = 'bad-blocks' | 'failing-writes' | 'failing-syncs' | 'full';

export interface SeedOutcome {
  violations: string[];
  digest: string;
  summary: string;
  counts: Record<string, number>;
}

/** One whole run of a seed, under virtual time. */
async function simulate(seed: number, clock: SimClock): Promise<SeedOutcome> {
  const wl = prng(seed);
  const env = prng(hash32(seed, 0x5eed));
  const replicas = wl() < 0.25 ? 2 : 3;
  const nodeIds = Array.from({ length: replicas }, (_, i) => `n${i + 1}`);

  // Disk troubles of a seeded subset of the nodes.
  const troubleRoll = wl();
  const troubled = nodeIds
    .slice()
    .sort(() => wl() - 0.5)
    .slice(0, troubleRoll < 0.2 ? 0 : troubleRoll < 0.75 ? 1 : 2);
  const troubles = new Map<string, DiskTrouble>();
  const KINDS: DiskTrouble[] = ['bad-blocks', 'failing-writes', 'failing-syncs', 'full'];
  for (const n of troubled) troubles.set(n, KINDS[Math.floor(wl() * KINDS.length)]!);
  const badBlocks = new Map<string, Set<number>>();
  for (const [n, kind] of troubles) {
    if (kind !== 'bad-blocks') continue;
    const blocks = new Set<number>();
    const count = 1 + Math.floor(wl() * 3);
    for (let i = 0; i < count; i++) blocks.add(Math.floor((wl() * HOT_BYTES * 2) / 4096));
    badBlocks.set(n, blocks);
  }
  const fullDiskBytes = Math.floor(SIZE * (0.25 + wl() * 0.5));
  const faultFrom = Math.floor(wl() * ROUNDS * 0.5);
  const faultUntil = faultFrom + Math.floor(ROUNDS * 0.3 + wl() * ROUNDS * 0.4);
  const diskRate = 0.01 + wl() * 0.05;
  // Network: every node is sometimes slow or out of order; a seeded one also fails calls.
  const netDoomed = wl() < 0.5 ? nodeIds[Math.floor(wl() * replicas)]! : null;
  const netRate = 0.02 + wl() * 0.08;
  const replicaTimeoutMs = 100 + Math.floor(wl() * 400);

  const world = await SimWorld.create({
    clock,
    nodes: replicas,
    replicas,
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
    capacityBytes: (n) => (troubles.get(n) === 'full' ? fullDiskBytes : undefined),
    syncDelayMs: () => 0.1 + env() * 4,
  });
  let round = 0;
  let faultsOn = true;
  const inWindow = (): boolean => faultsOn && round >= faultFrom && round < faultUntil;

  for (const [n, kind] of troubles) {
    const blocks = badBlocks.get(n);
    world.node(n).storageFault = (op: StorageOp): StorageFault => {
      if (!faultsOn) return null;
      if (kind === 'bad-blocks') {
        // A latent sector error: reads of those blocks fail from the window's start on, until
        // the faults stop (the drive remaps them when they are written after that).
        if (op.kind !== 'read' || round < faultFrom || blocks === undefined) return null;
        for (const b of blocks) {
          if (op.offsetBytes < (b + 1) * 4096 && op.offsetBytes + op.lengthBytes > b * 4096) {
            counts.badBlockHits! += 1;
            return 'EIO';
          }
        }
        return null;
      }
      if (!inWindow()) return null;
      const r = hash32(seed, Number(n.slice(1)), DISK_CODES[op.kind], op.seq) / 2 ** 32;
      if (kind === 'failing-writes' && op.kind === 'write' && r < diskRate) return 'EIO';
      if (kind === 'failing-syncs' && op.kind === 'sync' && r < diskRate * 3) return 'EIO';
      return null;
    };
  }

  const watched = process.env.ENGINE_REPLAY_WATCH_CHUNK;
  if (watched !== undefined) {
    const chunk = Number(watched);
    world.observe = (call, fault, outcome) => {
      if (process.env.ENGINE_REPLAY_WATCH_NODE === call.nodeId) {
        note(
          `node ${call.nodeId} #${call.seq} ${call.kind} ${call.offsetBytes}+${call.lengthBytes} fault ${fault.type}: ${outcome}`,
        );
        return;
      }
      const chunkCall = call.kind === 'readChunk' || call.kind === 'writeChunk';
      const first = chunkCall ? call.offsetBytes : Math.floor(call.offsetBytes / CHUNK);
      const last = chunkCall
        ? call.offsetBytes
        : Math.floor((call.offsetBytes + Math.max(1, call.lengthBytes) - 1) / CHUNK);
      if (call.kind === 'flush')
        note(`watch ${call.nodeId} #${call.seq} flush fault ${fault.type}: ${outcome}`);
      if (
        call.kind === 'read' ||
        call.kind === 'flush' ||
        call.kind === 'chunkMap' ||
        call.kind === 'readChunk'
      )
        return;
      if (first <= chunk && chunk <= last) {
        note(
          `watch ${call.nodeId} #${call.seq} ${call.kind} ${call.offsetBytes}+${call.lengthBytes} fault ${fault.type}: ${outcome}`,
        );
      }
    };
  }
  world.decide = (call: CallInfo): Fault => {
    if (!faultsOn) return { type: 'none' };
    const r =
      hash32(seed, Number(call.nodeId.slice(1)), CALL_CODES[call.kind] ?? 0, call.seq) / 2 ** 32;
    const r2 = hash32(seed, call.seq, 77) / 2 ** 32;
    if (r > 0.94) return { type: 'delay', ms: 1 + Math.floor(r2 * 15) };
    if (r > 0.88) return { type: 'late', ms: 1 + Math.floor(r2 * 10) };
    if (call.nodeId !== netDoomed || !inWindow() || r >= netRate) return { type: 'none' };
    if (r < netRate * 0.2) return { type: 'hang', applied: r2 < 0.5 };
    const kind = FAIL_KINDS[Math.floor(r2 * FAIL_KINDS.length)]!;
    if (kind === 'checksum') checksumFaults += 1;
    return { type: 'fail', kind, applied: r2 < 0.5 };
  };
  /** Checksum failures the network made up: only those may fail a read with CHECKSUM_MISMATCH. */
  let checksumFaults = 0;

  const engineOptions: Partial<VolumeEngineOptions> = {
    // The real map logic; every removal the engine asks for goes into the trace.
    controlPlane: {
      markOutOfSync: (request) => {
        note(`engine at epoch ${request.epoch} drops ${request.nodeId}: ${request.reason}`);
        return world.control.markOutOfSync(request);
      },
      promoteReplica: (request) => world.control.promoteReplica(request),
    },
    replicaTimeoutMs,
    lastReplicaTimeoutMs: replicaTimeoutMs * 4,
    controlPlaneTimeoutMs: 5_000,
    openTimeoutMs: 2_000,
    preferredNodeIds: wl() < 0.5 ? ['n1'] : [],
  };

  const violations: string[] = [];
  const counts: Record<string, number> = {
    acked: 0,
    failed: 0,
    nodePowerCuts: 0,
    sectorsLost: 0,
    hostCrashes: 0,
    clusterPowerCuts: 0,
    lossChecks: 0,
    engineReopens: 0,
    returns: 0,
    rebuildsPromoted: 0,
    rebuildsFailed: 0,
    badBlockReads: 0,
    badBlockHits: 0,
    resizes: 0,
  };
  /** The promise's value, or 'hang' when it has not settled after BATCH_LIMIT_MS of virtual time. */
  const within = <T>(promise: Promise<T>): Promise<T | 'hang'> => {
    let timer: ClockTimer | null = null;
    const limit = new Promise<'hang'>((resolve) => {
      timer = clock.setTimeout(() => resolve('hang'), BATCH_LIMIT_MS);
    });
    return Promise.race([promise, limit]).finally(() => clock.clearTimeout(timer!));
  };
  const trace = createHash('sha256');
  const note = (line: string): void => {
    const entry = `${clock.monotonicMs().toFixed(3)} ${line}\n`;
    trace.update(entry);
    if (process.env.ENGINE_REPLAY_TRACE) process.stderr.write(entry);
  };

  const model = new Model();
  /**
   * Snapshots the engine acknowledged: what each must read (the model after the mutations
   * issued before the call, a failed one leaving its bytes unknown) and the replicas holding it.
   */
  const snapshots: Array<{
    seq: number;
    sizeBytes: number;
    bytes: Buffer;
    known: Buffer;
    holders: Set<string>;
    round: number;
  }> = [];
  let nextSnapshotSeq = 1;
  // Snapshot decisions come from a stream of their own, so the workload stays what it was.
  const snapRoll = prng(hash32(seed, 0x5a4a));
  /** Nodes whose power was cut, in order; a flush clears those cut before it began. */
  const cutLog: string[] = [];
  let cutSinceFlush = new Set<string>();
  const downUntil = new Map<string, number>();
  const rebuilds = new Map<string, Promise<void>>();
  let engine: VolumeEngine = await world.openEngine(engineOptions);
  let unavailable = false;

  const readWhole = async (): Promise<Buffer> => {
    const parts: Buffer[] = [];
    const size = engine.sizeBytes;
    for (let off = 0; off < size; off += READ_STEP) {
      parts.push(await engine.readAt(off, Math.min(READ_STEP, size - off)));
    }
    return Buffer.concat(parts);
  };

  /** Lets the engine act on failures already reported (a refused removal fails it). */
  const settle = (): Promise<void> => clock.sleep(1);

  const touchesBadBlock = (offset: number, length: number): boolean => {
    for (const blocks of badBlocks.values()) {
      for (const b of blocks)
        if (offset < (b + 1) * 4096 && offset + length > b * 4096) return true;
    }
    return false;
  };

  /** Checks the volume after a reopen: strict, or by the loss rule when every copy lost power. */
  const verifyAfterReopen = async (why: string): Promise<void> => {
    const inSync = world.inSyncNodes();
    const lossPossible = inSync.every((n) => cutSinceFlush.has(n));
    let whole: Buffer;
    const faultsBefore = checksumFaults;
    try {
      whole = await readWhole();
    } catch (err) {
      await settle();
      const injected =
        (err as BallastError).code === 'CHECKSUM_MISMATCH' && checksumFaults > faultsBefore;
      if (injected || touchesBadBlock(0, MAX_SIZE) || engine.state !== 'open') {
        note(`verify skipped: ${(err as Error).message}`);
        if (lossPossible) {
          model.forgetSince();
          cutSinceFlush = new Set();
        }
        return;
      }
      violations.push(
        `round ${round}: reading the volume after ${why} failed: ${(err as Error).message}`,
      );
      return;
    }
    if (lossPossible) {
      counts.lossChecks! += 1;
      const at = model.lossMismatch(whole);
      if (at >= 0) {
        violations.push(
          `round ${round}: after ${why} (every in-sync copy lost power) byte ${at} is ${whole[at]}: neither flushed nor written since`,
        );
      }
      model.rebase(whole);
      cutSinceFlush = new Set();
    } else {
      const at = model.mismatch(whole);
      if (at >= 0) {
        violations.push(`round ${round}: after ${why} byte ${at} lost an acknowledged write`);
      }
    }
  };

  /** As the agent does for a failed engine (D22): nodes restarted, a new epoch, reconcile. */
  const reopenEngine = async (why: string): Promise<void> => {
    await engine.abandon();
    for (let attempt = 0; attempt < 4; attempt++) {
      for (const n of world.inSyncNodes()) {
        if (world.node(n).store === null) {
          downUntil.delete(n);
          await world.startNode(n);
        } else if (!world.replicaUsable(n)) {
          // A replica that stopped serving (a failed sync) serves again after its node restarts.
          await world.stopNode(n);
          await world.startNode(n);
        }
      }
      try {
        engine = await world.openEngine(engineOptions);
        counts.engineReopens! += 1;
        note(`engine reopened at epoch ${engine.epoch} after ${why}`);
        await verifyAfterReopen(why);
        return;
      } catch (err) {
        note(`reopen failed: ${(err as Error).message}`);
      }
    }
    unavailable = true;
  };

  /** The planner's "back within the grace period": a node that is up returns as rebuilding. */
  const returnNodes = async (): Promise<void> => {
    if (engine.state !== 'open') return;
    const volume = world.volume();
    if (engine.sizeBytes < volume.sizeBytes) {
      // The agent tries a growth again while the map still wants it.
      try {
        await engine.grow(volume.sizeBytes, { timeoutMs: 2_000, pollMs: 50 });
        note(`grow to ${volume.sizeBytes} again: served ${engine.sizeBytes}`);
      } catch (err) {
        note(`grow to ${volume.sizeBytes} again failed: ${(err as Error).message}`);
      }
    }
    for (const n of nodeIds) {
      const node = world.node(n);
      if (node.store === null || rebuilds.has(n)) continue;
      // A node follows the map: a resize that failed on its disk is tried again.
      await world.followSize(n);
      const member = volume.replicas.find((r) => r.nodeId === n);
      if (member?.role === 'in-sync') continue;
      if (member === undefined) {
        if (!world.replicaUsable(n)) {
          // What the node does for a copy it must rebuild that failed: recreate it empty.
          if (node.store.hasReplica(world.volumeId)) await node.store.deleteReplica(world.volumeId);
          for (const snap of snapshots) snap.holders.delete(n);
          await world.createReplica(n);
        }
        const result = await world.meta.propose({
          type: 'addReplica',
          at: clock.wallMs(),
          volumeId: world.volumeId,
          nodeId: n,
        });
        if (!result.ok) continue;
        counts.returns! += 1;
        const r = node.store.replica(world.volumeId);
        note(
          `return ${n}: replica ${r.state} ${r.sizeBytes} bytes, volume ${world.volume().sizeBytes}`,
        );
        await engine.updateVolume(world.volume());
      }
      // As the agent does before each rebuild attempt: the update lets a replica whose joining
      // failed (its session did not open) join the engine again.
      if (member !== undefined) await engine.updateVolume(world.volume());
      const rebuild = engine.rebuildReplica(n).then(
        (r) => {
          counts.rebuildsPromoted! += 1;
          note(`rebuilt ${n}: ${r.chunksCopied} chunks in ${r.passes} passes`);
        },
        (err: Error) => {
          counts.rebuildsFailed! += 1;
          note(`rebuild of ${n} failed: ${err.message}`);
        },
      );
      rebuilds.set(
        n,
        rebuild.finally(() => rebuilds.delete(n)),
      );
    }
  };

  const stopCutNodes = async (): Promise<void> => {
    for (const n of nodeIds) {
      if (downUntil.has(n) && world.node(n).store !== null) await world.stopNode(n);
    }
  };

  const flushAll = async (): Promise<boolean> => {
    const cutsBefore = cutLog.length;
    try {
      await engine.flush();
    } catch {
      return false;
    }
    model.markFlushed();
    cutSinceFlush = new Set(cutLog.slice(cutsBefore));
    return true;
  };

  for (round = 0; round < ROUNDS && !unavailable; round++) {
    // Nodes come back on schedule.
    for (const [n, until] of [...downUntil]) {
      if (round >= until) {
        downUntil.delete(n);
        await world.stopNode(n);
        await world.startNode(n);
        note(`${n} back`);
      }
    }
    await returnNodes();

    // Events of this round.
    const event = wl();
    if (event < 0.1) {
      const candidates = nodeIds.filter((n) => world.node(n).store !== null && !downUntil.has(n));
      if (candidates.length > 0) {
        const victim = candidates[Math.floor(wl() * candidates.length)]!;
        const at = wl() * 8;
        const back = round + 1 + Math.floor(wl() * 4);
        clock.setTimeout(() => {
          if (!faultsOn || world.node(victim).store === null || downUntil.has(victim)) return;
          counts.nodePowerCuts! += 1;
          counts.sectorsLost! += world.cutPower(victim, env);
          cutLog.push(victim);
          cutSinceFlush.add(victim);
          downUntil.set(victim, back);
          note(`power cut ${victim}`);
        }, at);
      }
    } else if (event < 0.14) {
      counts.hostCrashes! += 1;
      note('host crash');
      await reopenEngine('a crash of the engine host');
    } else if (event < 0.19 && counts.resizes! < 2 && engine.state === 'open') {
      // Online growth: the map first, then each node that is up, then the engine once every
      // in-sync replica has grown (nodes that are down grow when they start).
      const target = world.volume().sizeBytes + 32 * KiB * (1 + Math.floor(wl() * 3));
      counts.resizes! += 1;
      await world.resize(target);
      try {
        const grown = await engine.grow(target, { timeoutMs: 2_000, pollMs: 50 });
        note(`grow to ${target}: ${grown ? 'served' : 'no change'}`);
      } catch (err) {
        note(`grow to ${target} failed: ${(err as Error).message}`);
      }
    } else if (event < 0.21) {
      counts.clusterPowerCuts! += 1;
      note('cluster power cut');
      for (const n of nodeIds) {
        if (world.node(n).store === null) continue;
        counts.sectorsLost! += world.cutPower(n, env);
        cutLog.push(n);
        cutSinceFlush.add(n);
        await world.stopNode(n);
      }
      downUntil.clear();
      for (const n of nodeIds) await world.startNode(n);
      await reopenEngine('a power cut of the whole cluster');
    }
    if (unavailable) break;

    // The batch: issued in call order; the engine orders overlapping operations the same way.
    const batch: Op[] = [];
    const count = 1 + Math.floor(wl() * 12);
    for (let k = 0; k < count; k++) {
      const r = wl();
      const hot = wl() < 0.5;
      const aligned = wl() < 0.5;
      const length = Math.max(
        1,
        aligned ? 4096 * (1 + Math.floor(wl() * 3)) : Math.floor(wl() * 12_000),
      );
      let offset = Math.floor(wl() * ((hot ? HOT_BYTES : engine.sizeBytes) - length));
      if (aligned) offset -= offset % 4096;
      if (r < 0.5) {
        batch.push({
          kind: 'write',
          offset,
          data: pattern(length, seed * 1000 + round * 20 + k),
          fua: wl() < 0.1,
        });
      } else if (r < 0.6) batch.push({ kind: 'trim', offset, length });
      else if (r < 0.67) batch.push({ kind: 'zero', offset, length });
      else if (r < 0.75) batch.push({ kind: 'flush' });
      else batch.push({ kind: 'read', offset, length });
    }
    // Now and then a snapshot among the batch's operations (issue 16): those before it are in
    // it, those after it are not.
    if (snapRoll() < 0.25) {
      const at = Math.floor(snapRoll() * (batch.length + 1));
      batch.splice(at, 0, { kind: 'snapshot', seq: nextSnapshotSeq++ });
    }
    const shadow = new Model();
    model.latest.copy(shadow.latest);
    model.known.copy(shadow.known);
    const expectations = new Map<number, { bytes: Buffer; known: Buffer }>();
    const snapshotHolders = new Map<number, { holders: string[]; sizeBytes: number }>();
    const current = engine;
    const faultsBefore = checksumFaults;
    const promises = batch.map((op, i) => {
      switch (op.kind) {
        case 'write':
          shadow.apply(op, true);
          return current.writeAt(op.offset, op.data, op.fua).then(() => {
            for (const n of world.inSyncNodes()) {
              if (world.session(n)?.writeOutcomes.get(op.data) !== 'ok') {
                violations.push(
                  `round ${round}: write ${op.offset}+${op.data.length} acknowledged while in-sync ${n} did not take it`,
                );
              }
            }
          });
        case 'trim':
          shadow.apply(op, true);
          return current.trim(op.offset, op.length);
        case 'zero':
          shadow.apply(op, true);
          return current.writeZeroes(op.offset, op.length, { noHole: wl() < 0.5 });
        case 'flush':
          return current.flush();
        case 'snapshot': {
          const sizeBytes = current.sizeBytes;
          return current.snapshot(op.seq).then(({ nodeIds: holders }) => {
            note(`snapshot ${op.seq} on ${holders.join(',')}`);
            snapshotHolders.set(i, { holders, sizeBytes });
          });
        }
        case 'read':
          expectations.set(i, shadow.snapshot(op.offset, op.length));
          return current.readAt(op.offset, op.length).then((data) => {
            const want = expectations.get(i)!;
            for (let b = 0; b < data.length; b++) {
              if (want.known[b] === 1 && data[b] !== want.bytes[b]) {
                violations.push(`round ${round}: read ${op.offset}+${op.length} differs at +${b}`);
                break;
              }
            }
          });
      }
    });
    const settled = await within(Promise.allSettled(promises));
    if (settled === 'hang') {
      violations.push(`round ${round}: the batch did not settle within ${BATCH_LIMIT_MS} ms`);
      break;
    }
    await settle();
    let outcome = '';
    settled.forEach((result, i) => {
      const op = batch[i]!;
      const ok = result.status === 'fulfilled';
      outcome += ok ? '1' : '0';
      if (ok) counts.acked! += 1;
      else {
        counts.failed! += 1;
        const err = result.reason as BallastError;
        const injected = err.code === 'CHECKSUM_MISMATCH' && checksumFaults > faultsBefore;
        if (op.kind === 'read' && current.state === 'open' && !injected) {
          if (touchesBadBlock(op.offset, op.length)) counts.badBlockReads! += 1;
          else {
            violations.push(
              `round ${round}: read ${op.offset}+${op.length} failed with ${err.code} while the engine was open: ${err.message}`,
            );
          }
        }
      }
      if (op.kind === 'snapshot' && ok) {
        const taken = snapshotHolders.get(i)!;
        const at = model.snapshot(0, taken.sizeBytes);
        // The engine flushes before it holds new requests, so mutations issued after the call
        // but before the hold may fall on either side of the cut (the contract promises only
        // what was acknowledged before the call, and nothing issued after it returned).
        for (const later of batch.slice(i + 1)) {
          if (later.kind !== 'write' && later.kind !== 'trim' && later.kind !== 'zero') continue;
          const length = later.kind === 'write' ? later.data.length : later.length;
          at.known.fill(0, later.offset, Math.min(taken.sizeBytes, later.offset + length));
        }
        snapshots.push({
          seq: op.seq,
          sizeBytes: taken.sizeBytes,
          bytes: at.bytes,
          known: at.known,
          holders: new Set(taken.holders),
          round,
        });
      }
      if (op.kind !== 'read') model.apply(op, ok);
    });
    await stopCutNodes();
    if (engine.state === 'open' && wl() < 0.4) await flushAll();
    if (engine.state !== 'open') await reopenEngine(`the engine ${engine.state}`);
    note(
      `round ${round} ${outcome} ${engine.state} in-sync ${world.inSyncNodes().join(',')} rebuilding ${[...rebuilds.keys()].join(',')}`,
    );
  }

  // Heal: faults stop (full disks get room), every node comes back and returns, the replicas
  // must converge.
  faultsOn = false;
  for (const n of nodeIds) world.node(n).storage.setCapacity(2 ** 40);
  for (const n of nodeIds) await world.followSize(n);
  await stopCutNodes();
  if (!violations.some((v) => v.includes('did not settle'))) {
    // Calls hung by the faults time out now and take their replicas out; those come back below.
    await clock.sleep(engineOptions.lastReplicaTimeoutMs! * 2);
    await within(Promise.allSettled([...rebuilds.values()]));
    await stopCutNodes();
    for (const n of nodeIds) {
      downUntil.delete(n);
      await world.startNode(n);
    }
    unavailable = false;
    if (engine.state !== 'open') await reopenEngine('the faults stopped');
    if (unavailable) violations.push('the volume could not be opened after every fault stopped');
    for (let pass = 0; pass < 4 && !unavailable; pass++) {
      await returnNodes();
      if ((await within(Promise.allSettled([...rebuilds.values()]))) === 'hang') {
        violations.push(`healing pass ${pass}: a rebuild did not end within ${BATCH_LIMIT_MS} ms`);
        break;
      }
      if (engine.state !== 'open') await reopenEngine('a failure while healing');
      await clock.sleep(engineOptions.lastReplicaTimeoutMs! * 2);
      if (world.inSyncNodes().length === replicas && engine.replicaSet().leaving.length === 0)
        break;
    }
  }
  const finalState = engine.state;
  if (finalState === 'open') {
    try {
      if ((await within(engine.close())) === 'hang') violations.push('closing the engine hung');
    } catch (err) {
      violations.push(`closing the engine failed: ${(err as Error).message}`);
    }
  } else await engine.abandon();
  // The next attach, as the user's next mount: a detach whose final flush did not reach a
  // replica (its node lost power unnoticed) is reconciled here, and every acknowledged write
  // must read back through it.
  if (!unavailable) {
    try {
      engine = await world.openEngine(engineOptions);
      note(`next attach: epoch ${engine.epoch}, in-sync ${world.inSyncNodes().join(',')}`);
      const whole = await readWhole();
      const at = model.mismatch(whole);
      if (at >= 0)
        violations.push(`the next attach reads byte ${at} without its acknowledged write`);
      if ((await within(engine.close())) === 'hang')
        violations.push('closing the last engine hung');
    } catch (err) {
      violations.push(`the next attach failed: ${(err as Error).message}`);
    }
  }
  const inSync = world.inSyncNodes();
  if (inSync.length !== replicas) {
    violations.push(`after healing only ${inSync.join(',')} are in sync, not all ${replicas}`);
  }
  const live = inSync.filter((n) => world.replicaUsable(n));
  if (live.length > 0) {
    const first = world.contents(live[0]!);
    for (const n of live) {
      const contents = world.contents(n);
      const at = model.mismatch(contents);
      if (at >= 0) violations.push(`in-sync ${n} lost an acknowledged write at byte ${at}`);
      if (!contents.equals(first)) {
        let at = 0;
        while (contents[at] === first[at]) at++;
        const chunk = Math.floor(at / CHUNK);
        const entries: string[] = [];
        for (const m of live) {
          const page = await world
            .node(m)
            .store!.replica(world.volumeId)
            .chunkMap({ fromIndex: chunk, limit: 1 });
          const e = page.entries.find((x) => x.index === chunk);
          entries.push(
            `${m}: ${e === undefined ? 'absent' : `gen ${e.generation}${e.unclean ? ' unclean' : ''}${e.dirty ? ' dirty' : ''}`}`,
          );
        }
        violations.push(
          `in-sync ${n} differs from ${live[0]} at byte ${at} (chunk ${chunk}: ${entries.join('; ')})`,
        );
      }
    }
  }
  // Every snapshot the engine acknowledged reads, on every replica that took it and still
  // holds that copy, exactly the writes acknowledged before its cut (none issued after it).
  for (const snap of snapshots) {
    for (const n of snap.holders) {
      if (!world.replicaUsable(n)) continue;
      let data: Buffer;
      try {
        data = world
          .node(n)
          .store!.replica(world.volumeId)
          .readSnapshot(snap.seq, 0, snap.sizeBytes);
      } catch (err) {
        violations.push(
          `snapshot ${snap.seq} (round ${snap.round}) cannot be read on ${n}: ${(err as Error).message}`,
        );
        continue;
      }
      for (let b = 0; b < data.length; b++) {
        if (snap.known[b] === 1 && data[b] !== snap.bytes[b]) {
          violations.push(
            `snapshot ${snap.seq} (round ${snap.round}) on ${n} differs at byte ${b}: ${data[b]} instead of ${snap.bytes[b]}`,
          );
          break;
        }
      }
    }
  }
  counts.snapshots = snapshots.length;
  for (const n of nodeIds) await world.node(n).store?.close();
  world.meta.close();
  note(`end ${finalState} in-sync ${inSync.join(',')}`);
  const summary =
    `replicas=${replicas} troubles=${[...troubles].map(([n, k]) => `${n}:${k}`).join(',') || 'none'} ` +
    `net-doomed=${netDoomed ?? 'none'} rounds ${faultFrom}-${faultUntil} timeout=${replicaTimeoutMs}ms ` +
    Object.entries(counts)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ') +
    ` eio=${nodeIds.reduce((s, n) => s + world.node(n).storage.injected.EIO, 0)}` +
    ` enospc=${nodeIds.reduce((s, n) => s + world.node(n).storage.injected.ENOSPC, 0)}` +
    ` virtual=${(clock.monotonicMs() / 1000).toFixed(1)}s`;
  return { violations, digest: trace.digest('hex'), summary, counts };
}

/** Runs a seed on its own virtual clock (a run longer than a virtual day is a livelock). */
function runSeed(seed: number): Promise<SeedOutcome> {
  const clock = new SimClock();
  return clock.run(simulate(seed, clock), 24 * 3_600_000);
}

// About half a second per seed on an idle 2-core machine; room for a loaded one.
t.setTimeout(
  Number(process.env.ENGINE_REPLAY_TIMEOUT_MS ?? Math.max(900_000, seeds.length * 2_000)),
);

const totals: Record<string, number> = {};
let failures = 0;
const started = Date.now();
t.test(`${seeds.length} seeds`, async (t) => {
  for (const seed of seeds) {
    let outcome: SeedOutcome;
    try {
      outcome = await runSeed(seed);
    } catch (err) {
      failures += 1;
      t.fail(`seed ${seed} threw: ${(err as Error).stack}`);
      t.comment(`replay: ENGINE_REPLAY_SEED=${seed} npx tap dist/test/replay-sim.test.js`);
      continue;
    }
    for (const [k, v] of Object.entries(outcome.counts)) totals[k] = (totals[k] ?? 0) + v;
    if (seeds.length === 1) t.comment(outcome.summary);
    if (outcome.violations.length > 0) {
      failures += 1;
      t.same(outcome.violations, [], `seed ${seed}: ${outcome.summary}`);
      t.comment(`replay: ENGINE_REPLAY_SEED=${seed} npx tap dist/test/replay-sim.test.js`);
    }
  }
  t.equal(failures, 0, `no seed of ${seeds.length} broke an invariant`);
  t.comment(
    `${seeds.length} seeds in ${((Date.now() - started) / 1000).toFixed(1)} s: ` +
      Object.entries(totals)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
  );
  if (seeds.length >= 100) {
    // The faults the simulation exists for did happen (not a guard against chance: these are
    // hundreds of events over the default seeds).
    t.ok(
      totals.nodePowerCuts! > 0 && totals.sectorsLost! > 0,
      'nodes lost power and unsynced sectors',
    );
    t.ok(
      totals.clusterPowerCuts! > 0 && totals.lossChecks! > 0,
      'whole-cluster power cuts were checked',
    );
    t.ok(totals.hostCrashes! > 0 && totals.engineReopens! > 0, 'engines were reopened');
    t.ok(totals.rebuildsPromoted! > 0, 'returning nodes were rebuilt and promoted');
    t.ok(totals.badBlockHits! > 0, 'reads hit bad blocks');
  }
});

t.test('a seed replays exactly', async (t) => {
  const probe = process.env.ENGINE_REPLAY_SEED ? Number(process.env.ENGINE_REPLAY_SEED) : 4242;
  const first = await runSeed(probe);
  const second = await runSeed(probe);
  t.equal(second.digest, first.digest, `seed ${probe}: same trace twice (${first.summary})`);
  const other = await runSeed(probe + 1);
  t.not(other.digest, first.digest, 'another seed gives another trace');
});
