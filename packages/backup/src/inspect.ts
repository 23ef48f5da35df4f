import type { Manifest } from './format.js';
import { BlobKind } from './format.js';
import { walkBackup } from './references.js';
import type { Repository } from './repository.js';
import { TreeReader } from './tree.js';

export interface BackupDetails {
  manifest: Manifest;
  /** Non-zero blocks the backup lists (a block repeated in the volume counts each time). */
  blocks: number;
  /** Distinct blobs it references (blocks, leaves, root). */
  uniqueBlobs: number;
  /** Bytes those blobs take in the repository, compressed and sealed. */
  storedBytes: number;
  /** Packs holding them. */
  packs: number;
  /** Referenced blobs the index lacks (verify tells more). */
  missingBlobs: number;
}

/** What a backup is made of, from its tree and the indexes (reads tree packs, no data packs). */
export async function inspectBackup(repo: Repository, backupId: string): Promise<BackupDetails> {
  const manifest = await repo.manifest(backupId);
  const { index } = await repo.loadIndex();
  const seen = new Set<string>();
  const packs = new Set<number>();
  const out: BackupDetails = {
    manifest,
    blocks: 0,
    uniqueBlobs: 0,
    storedBytes: 0,
    packs: 0,
    missingBlobs: 0,
  };
  await walkBackup(manifest, index, new TreeReader(repo, index), new Set(), (v) => {
    if (v.kind === BlobKind.DATA) out.blocks++;
    const key = v.hash.toString('latin1');
    if (seen.has(key)) return;
    seen.add(key);
    out.uniqueBlobs++;
    const loc = index.get(v.hash);
    if (!loc) {
      out.missingBlobs++;
      return;
    }
    out.storedBytes += loc.storedLength;
    packs.add(loc.pack);
  });
  out.packs = packs.size;
  return out;
}
