import { needsCopy, toSessionError, type ChunkCopy, type ChunkMapEntry } from '@ballast/session';
import { BallastError, type Logger } from '@ballast/common';
import type { Member } from './engine.js';
import type { ReconcileProgress } from './metrics.js';
import { replicaTimeout } from './util.js';

/** What reconcile and rebuild need from the engine. */
export interface CopyContext {
  volumeName: string;
  chunkSizeBytes: number;
  sizeBytes: number;
  concurrency: number;
  timeoutMs: number;
  progress: ReconcileProgress;
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
      // Nothing to make identical with. Reading the chunks would only turn a block that failed
      // its checksum (it may be why a write failed and left the chunk unclean) into a failed
      // attach; reads of that block fail on their own.
      const only = members[0]!;
      const unclean = work.filter((index) => entries.get(index)![0]?.unclean === true);
      work = [];
      if (unclean.length > 0 && only.session!.markChunksClean !== undefined) {
        try {
          await replicaTimeout(
            only.session!.markChunksClean(unclean),
            ctx.timeoutMs,
            only.nodeId,
            'mark clean',
          );
        } catch (err) {
          await ctx.fail(only, err, 'mark chunks clean');
        }
      }
    }
    progress.chunksTotal = work.length;
    progress.chunksDone = 0;
    ctx.logger?.info(
      { volume: ctx.volumeName, chunks: work.length, replicas: members.map((m) => m.nodeId) },
      'reconciling',
    );
    const cleanOnSource = new Map<Member, number[]>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < work.length) {
        const index = work[next++]!;
        await reconcileChunk(ctx, index, members, entries.get(index)!, cleanOnSource);
        progress.chunksDone += 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(ctx.concurrency, work.length) }, worker));
    ctx.checkUsable();
    for (const [source, indices] of cleanOnSource) {
      if (!isActive(source)) continue;
      try {
        await replicaTimeout(
          source.session!.markChunksClean!(indices),
          ctx.timeoutMs,
          source.nodeId,
          'mark clean',
        );
      } catch (err) {
        await ctx.fail(source, err, 'mark chunks clean');
      }
    }
    // Installs are durable, and dirty flags clear, before the first client request.
    await Promise.all(
      [...ctx.inSync(), ...ctx.others()].map(async (member) => {
        try {
          await replicaTimeout(member.session!.flush(), ctx.timeoutMs, member.nodeId, 'flush');
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
  cleanOnSource: Map<Member, number[]>,
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
  if (source === null || copy === null) {
    throw new BallastError(
      corrupt.length > 0 ? 'CHECKSUM_MISMATCH' : 'IO',
      `volume ${ctx.volumeName}: no in-sync replica could supply chunk ${index}`,
      { chunkIndex: index, corrupt: corrupt.map((m) => m.nodeId) },
    );
  }
  const sourceEntry = entryOf(source);
  const found = copy;
  await Promise.all(
    members.map(async (member) => {
      if (member === source || !isActive(member)) return;
      if (!corrupt.includes(member) && !needsCopy(sourceEntry, entryOf(member), 'reconcile'))
        return;
      try {
        await replicaTimeout(
          member.session!.writeChunk(index, found.generation, found.data),
          ctx.timeoutMs,
          member.nodeId,
          'install chunk',
        );
        ctx.progress.bytesCopied += found.data?.length ?? 0;
      } catch (err) {
        await ctx.fail(member, err, 'install chunk');
      }
    }),
  );
  if (sourceEntry?.unclean) {
    if (source.session!.markChunksClean !== undefined) {
      const list = cleanOnSource.get(source);
      if (list === undefined) cleanOnSource.set(source, [index]);
      else list.push(index);
    } else {
      // Re-installing the source's own copy clears its unclean flag the same way.
      try {
        await replicaTimeout(
          source.session!.writeChunk(index, found.generation, found.data),
          ctx.timeoutMs,
          source.nodeId,
          'install chunk',
        );
      } catch (err) {
        await ctx.fail(source, err, 'install chunk');
      }
    }
  }
}
