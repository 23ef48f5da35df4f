import type { ChunkMapEntry } from './types.js';

/** The fields of a chunk map entry the rule reads. */
type ChunkInfo = Pick<ChunkMapEntry, 'index' | 'generation' | 'dirty' | 'unclean'>;

/**
 * Which chunks a copy from `source` to `target` must move, from their chunk maps (both sorted
 * by index; chunks missing from a map are generation 0, hole, clean).
 *
 * - 'rebuild': a returning or new replica catching up while live writes reach both. A chunk is
 *   trusted only if both sides have the same generation and neither is unclean. Dirty flags are
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
  return false;
}
