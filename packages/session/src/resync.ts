import type { ChunkMapEntry } from './types.js';

/**
 * Generations count mutations of a chunk. Replicas that applied the same mutations in order hold
 * the same generation, so equal generations mean equal bytes, except for a generation made up
 * where the stream was broken (recovery after a crash, a failed mutation): those chunks are
 * flagged unclean and never trusted. When reconcile keeps such a chunk as the volume's truth it
 * gives it a generation of its own, `stampedGeneration(epoch)`, on every replica it installs it
 * on (D23): each attach has its own epoch, so no other lineage holds that number, and counts
 * continue from it. A count that reaches the next stamp flags the chunk unclean (chunk store).
 */
export const GENERATION_STAMP = 2 ** 28;

/** The generation reconcile gives a kept chunk at `epoch` (epochs below 2^25 fit). */
export function stampedGeneration(epoch: number): number {
  return epoch * GENERATION_STAMP;
}

/** The fields of a chunk map entry the rule reads. */
type ChunkInfo = Pick<ChunkMapEntry, 'index' | 'generation' | 'dirty' | 'unclean' | 'digest'>;

/**
 * Which chunks a copy from `source` to `target` must move, from their chunk maps (both sorted
 * by index; chunks missing from a map are generation 0, hole, clean).
 *
 * - 'rebuild': a returning or new replica catching up while live writes reach both. A chunk is
 *   trusted only if both sides have the same generation and digest and neither is unclean. Dirty flags are
 *   ignored: live writes make chunks dirty on both sides in step.
 * - 'reconcile': after an unclean detach, with no writer attached. Chunks dirty or unclean on
 *   either side may hold writes that reached one replica and not the other, so they are copied
 *   whatever their generations say; so is every chunk whose generations differ.
 *
 * The copy is `installChunk(index, source.generation, data)` on the target; in 'reconcile' the
 * source then calls `markChunksClean` for the copied chunks it holds as unclean.
 */
export function chunksToCopy(
  source: readonly ChunkInfo[],
  target: readonly ChunkInfo[],
  mode: 'rebuild' | 'reconcile',
): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < source.length || j < target.length) {
    const s = source[i];
    const t = target[j];
    let index: number;
    let a: ChunkInfo | undefined;
    let b: ChunkInfo | undefined;
    if (t === undefined || (s !== undefined && s.index < t.index)) {
      index = s!.index;
      a = s;
      i++;
    } else if (s === undefined || t.index < s.index) {
      index = t.index;
      b = t;
      j++;
    } else {
      index = s.index;
      a = s;
      b = t;
      i++;
      j++;
    }
    if (needsCopy(a, b, mode)) out.push(index);
  }
  return out;
}

/** The rule of chunksToCopy for one chunk (undefined = absent from that map). */
export function needsCopy(
  source: ChunkInfo | undefined,
  target: ChunkInfo | undefined,
  mode: 'rebuild' | 'reconcile',
): boolean {
  const sGen = source?.generation ?? 0;
  const tGen = target?.generation ?? 0;
  if (sGen !== tGen) return true;
  if (source?.unclean || target?.unclean) return true;
  if (mode === 'reconcile' && (source?.dirty || target?.dirty)) return true;
  // Equal generations, different bytes: lineages that split where no flag could record it (a
  // mutation one replica applied and the volume's truth never did, D24).
  const sDigest = source?.digest;
  const tDigest = target?.digest;
  if (sDigest !== undefined && tDigest !== undefined && sDigest !== tDigest) return true;
  return false;
}
