import { BallastError } from '@ballast/common';
import type { BlockIndex } from './block-index.js';
import { HASH_BYTES, ZERO_HASH } from './codec.js';
import { BlobKind, type Manifest } from './format.js';
import { geometry, type TreeReader } from './tree.js';
import { hex } from './util.js';

export interface Visit {
  hash: Buffer;
  kind: BlobKind;
  /** Pack number in the index; undefined when the index has no such blob. */
  pack: number | undefined;
}

/**
 * Calls `visit` for every blob a backup references: its root, its leaves and their blocks.
 * Leaves in `seenLeaves` (shared with a backup walked before) are skipped with their blocks.
 * A tree blob that cannot be read throws: nobody can tell what lies below it.
 */
export async function walkBackup(
  m: Manifest,
  index: BlockIndex,
  trees: TreeReader,
  seenLeaves: Set<string>,
  visit: (v: Visit) => void,
  /** When given, a tree blob that cannot be read is reported here and skipped instead. */
  onTreeError?: (hash: Buffer, err: unknown) => void,
): Promise<void> {
  const root = Buffer.from(m.root, 'hex');
  if (root.equals(ZERO_HASH)) return;
  visit({ hash: root, kind: BlobKind.ROOT, pack: index.get(root)?.pack });
  let leaves: Buffer;
  try {
    leaves = await trees.root(m);
  } catch (err) {
    if (!onTreeError) throw err;
    onTreeError(root, err);
    return;
  }
  const g = geometry(m.sizeBytes, m.blockSizeBytes, m.leafBlocks);
  for (let j = 0; j < m.leafCount; j++) {
    const lh = leaves.subarray(j * HASH_BYTES, (j + 1) * HASH_BYTES);
    if (lh.equals(ZERO_HASH)) continue;
    const key = lh.toString('latin1');
    if (seenLeaves.has(key)) continue;
    seenLeaves.add(key);
    const loc = index.get(lh);
    visit({ hash: Buffer.from(lh), kind: BlobKind.LEAF, pack: loc?.pack });
    let blocks: Buffer;
    try {
      if (!loc) {
        throw new BallastError('NOT_FOUND', `backup ${m.backupId}: leaf ${hex(lh)} is in no pack`, {
          block: hex(lh),
        });
      }
      blocks = await trees.leaf(lh, g.leafLength(j));
    } catch (err) {
      if (!onTreeError) throw err;
      onTreeError(Buffer.from(lh), err);
      continue;
    }
    for (let i = 0; i < g.leafLength(j); i++) {
      const bh = blocks.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES);
      if (bh.equals(ZERO_HASH)) continue;
      visit({ hash: bh, kind: BlobKind.DATA, pack: index.get(bh)?.pack });
    }
  }
}
