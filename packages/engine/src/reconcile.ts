import {
  needsCopy,
  stampedGeneration,
  toSessionError,
  type ChunkCopy,
  type ChunkMapEntry,
} from '@ballast/session';
import { BallastError, type Clock, type Logger } from '@ballast/common';
import type { Member } from './member.js';
import type { ReconcileProgress } from './metrics.js';
import { replicaTimeout } from './util.js';

/** What reconcile and rebuild need from the engine. */
export interface CopyContext {
  volumeName: string;
  /** The attachment's epoch: the stamp of chunks reconcile keeps from an unclean copy (D23). */
  epoch: number;
  chunkSizeBytes: number;
  sizeBytes: number;
  concurrency: number;
  timeoutMs: number;
  progress: ReconcileProgress;
  clock: Clock;
  logger: Logger | undefined;
  /** Active in-sync members (current at each call). */
  inSync(): readonly Member[];
  /** Active members that are not in-sync (rebuilding). */
  others(): readonly Member[];
  /** Fails a member (it leaves the set); resolves once meta committed that, rejects if the
   * engine cannot go on (last in-sync replica, fenced). */
  fail(member: Member, err: unknown, what: string): Promise<void>;
  /** Throws the engine's fencing or failure error, if any. */
  checkUsable(): void;
}

/**
 * Makes the replicas identical after an unclean detach, before any read is served.
 *
 * Every chunk that is dirty or unclean on any replica, or whose generations differ between
 * in-sync replicas, is copied whole from one in-sync replica to every other replica that differs
 * (in-sync and rebuilding; see `differs`). The source is
 * chosen deterministically: a replica whose copy is not `unclean` (its node did not crash, so it
 * still holds every write it acknowledged, flushed or not), then the highest generation (it
 * applied the most of the mutations in flight), then the smallest node id.
 *
 * Why any in-sync source is safe: a write is acknowledged only once every in-sync replica has
 * it (invariant 4), so no acknowledged write can be missing from any of them. Replicas differ
 * only in writes that were in flight at the crash, which the client never saw acknowledged and
 * may find applied or not. Afterwards every replica holds the same bytes and generation for
 * every chunk, and the sources' `unclean` flags are cleared.
 */
export async function reconcileReplicas(ctx: CopyContext): Promise<void> {
  const progress = ctx.progress;
  progress.state = 'running';
  try {
    const maps = new Map<Member, ChunkMapEntry[]>();
    await Promise.all(
      [...ctx.inSync(), ...ctx.others()].map(async (member) => {
        try {
          maps.set(
            member,
            await replicaTimeout(
              ctx.clock,
              member.session!.chunkMap(),
              ctx.timeoutMs,
              member.nodeId,
              'chunk map',
            ),
          );
        } catch (err) {
          await ctx.fail(member, err, 'chunk map');
        }
      }),
    );
    ctx.checkUsable();
    // In-sync members first: `differs` reads the first `inSyncCount` entries of a row as theirs.
    const members = [...ctx.inSync(), ...ctx.others()].filter((m) => maps.has(m));
    const inSyncCount = members.filter((m) => m.role === 'in-sync').length;
    const entries = collate(members, maps);
    let work = [...entries.keys()]
      .filter((index) => differs(entries.get(index)!, inSyncCount))
      .sort((a, b) => a - b);
    if (members.length === 1) {
      // Nothing to make identical with, but its unclean chunks become the truth: each gets this
      // attach's stamp (D23). One that fails its checksum stays unclean: reads of that block
      // fail on their own, and failing the attach for it would lose the whole volume.
      work = work.filter((index) => entries.get(index)![0]?.unclean === true);
    }
    progress.chunksTotal = work.length;
    progress.chunksDone = 0;
    ctx.logger?.info(
      { volume: ctx.volumeName, chunks: work.length, replicas: members.map((m) => m.nodeId) },
      'reconciling',
    );
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < work.length) {
        const index = work[next++]!;
        await reconcileChunk(ctx, index, members, entries.get(index)!);
        progress.chunksDone += 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(ctx.concurrency, work.length) }, worker));
    ctx.checkUsable();
    // Installs are durable, and dirty flags clear, before the first client request.
    await Promise.all(
      [...ctx.inSync(), ...ctx.others()].map(async (member) => {
        try {
          await replicaTimeout(
            ctx.clock,
            member.session!.flush(),
            ctx.timeoutMs,
            member.nodeId,
            'flush',
          );
        } catch (err) {
          await ctx.fail(member, err, 'flush after reconcile');
        }
      }),
    );
    ctx.checkUsable();
    progress.state = 'done';
  } catch (err) {
    progress.state = 'failed';
    throw err;
  }
}

/** Per chunk index, each member's entry (undefined: never written there). */
function collate(
  members: readonly Member[],
  maps: ReadonlyMap<Member, ChunkMapEntry[]>,
): Map<number, Array<ChunkMapEntry | undefined>> {
  const entries = new Map<number, Array<ChunkMapEntry | undefined>>();
  members.forEach((member, position) => {
    for (const entry of maps.get(member)!) {
      let row = entries.get(entry.index);
      if (row === undefined) {
        row = new Array<ChunkMapEntry | undefined>(members.length).fill(undefined);
        entries.set(entry.index, row);
      }
      row[position] = entry;
    }
  });
  return entries;
}

/**
 * The chunk needs reconciling: among the in-sync replicas (the first `inSyncCount` of the row)
 * it is dirty or unclean somewhere or the generations differ; or a rebuilding replica holds it
 * dirty or unclean (it may carry a write in flight at the crash). A rebuilding replica that is
 * merely behind (older generation, clean) is left to the rebuild, so an attach never waits for
 * a full copy to a new replica.
 */
function differs(row: ReadonlyArray<ChunkMapEntry | undefined>, inSyncCount: number): boolean {
  const first = row[0]?.generation ?? 0;
  for (let i = 0; i < row.length; i++) {
    const e = row[i];
    if (i >= inSyncCount) {
      if (e !== undefined && (e.dirty || e.unclean)) return true;
      continue;
    }
    if (e === undefined) {
      if (first !== 0) return true;
      continue;
    }
    if (e.dirty || e.unclean || e.generation !== first) return true;
  }
  return false;
}

function isActive(member: Member): boolean {
  return member.state === 'active' && member.session !== null;
}

async function reconcileChunk(
  ctx: CopyContext,
  index: number,
  members: readonly Member[],
  row: ReadonlyArray<ChunkMapEntry | undefined>,
): Promise<void> {
  const entryOf = (m: Member): ChunkMapEntry | undefined => row[members.indexOf(m)];
  const candidates = members
    .filter((m) => m.role === 'in-sync')
    .sort((a, b) => {
      const ea = entryOf(a);
      const eb = entryOf(b);
      const ua = ea?.unclean ? 1 : 0;
      const ub = eb?.unclean ? 1 : 0;
      if (ua !== ub) return ua - ub;
      const ga = ea?.generation ?? 0;
      const gb = eb?.generation ?? 0;
      if (ga !== gb) return gb - ga;
      return a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0;
    });
  let source: Member | null = null;
  let copy: ChunkCopy | null = null;
  const corrupt: Member[] = [];
  for (const candidate of candidates) {
    if (!isActive(candidate)) continue;
    try {
      copy = await replicaTimeout(
        ctx.clock,
        candidate.session!.readChunk(index),
        ctx.timeoutMs,
        candidate.nodeId,
        'read chunk',
      );
      source = candidate;
      break;
    } catch (err) {
      const failure = toSessionError(err, candidate.nodeId);
      if (failure.kind === 'checksum') {
        candidate.checksumErrors += 1;
        corrupt.push(candidate);
      } else {
        await ctx.fail(candidate, failure, 'read chunk');
      }
    }
  }
  ctx.checkUsable();
  if (members.length === 1 && source === null && corrupt.length > 0) return;
  if (source === null || copy === null) {
    throw new BallastError(
      corrupt.length > 0 ? 'CHECKSUM_MISMATCH' : 'IO',
      `volume ${ctx.volumeName}: no in-sync replica could supply chunk ${index}`,
      { chunkIndex: index, corrupt: corrupt.map((m) => m.nodeId) },
    );
  }
  const sourceEntry = entryOf(source);
  const found = copy;
  // A kept unclean chunk gets this attach's stamp on every replica, its source included: its
  // own generation was made up and may equal another lineage's (D23).
  const restamp = sourceEntry?.unclean === true;
  const generation = restamp ? stampedGeneration(ctx.epoch) : found.generation;
  await Promise.all(
    members.map(async (member) => {
      if (!isActive(member)) return;
      if (
        member === source
          ? !restamp
          : !restamp &&
            !corrupt.includes(member) &&
            !needsCopy(sourceEntry, entryOf(member), 'reconcile')
      ) {
        return;
      }
      try {
        await replicaTimeout(
          ctx.clock,
          member.session!.writeChunk(index, generation, found.data),
          ctx.timeoutMs,
          member.nodeId,
          'install chunk',
        );
        if (member !== source) ctx.progress.bytesCopied += found.data?.length ?? 0;
      } catch (err) {
        await ctx.fail(member, err, 'install chunk');
      }
    }),
  );
}
