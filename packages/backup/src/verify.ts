import { isBallastError } from '@ballast/common';
import type { Location } from './block-index.js';
import { sha256 } from './codec.js';
import { keys } from './format.js';
import { walkBackup } from './references.js';
import type { BadRecord, Repository } from './repository.js';
import { TreeReader } from './tree.js';
import { hex } from './util.js';

export interface VerifyOptions {
  /** Read every referenced pack and check every blob's hash (default: existence and size only). */
  full?: boolean;
  /**
   * Record what was found bad in the repository (`bad/<pack>`) so the next backup stores those
   * blocks again; default true for the owning cluster (others cannot write).
   */
  record?: boolean;
}

export interface BadBlock {
  block: string;
  pack: string | undefined;
  reason: string;
}

export interface VerifyResult {
  backupId: string;
  ok: boolean;
  full: boolean;
  packsChecked: number;
  blobsChecked: number;
  badPacks: { pack: string; reason: string }[];
  badBlocks: BadBlock[];
  /** Packs whose bytes do not match their name although every blob this backup needs checks out. */
  warnings: string[];
}

/**
 * Checks that backup `backupId` can be restored. Quick: every blob it references is indexed and
 * every pack holding one exists with its indexed size. Full: also reads those packs and checks
 * each referenced blob against its hash. Bad findings are returned and, by default, recorded.
 */
export async function verify(
  repo: Repository,
  backupId: string,
  opts: VerifyOptions = {},
): Promise<VerifyResult> {
  const m = await repo.manifest(backupId);
  const loaded = await repo.loadIndex();
  const index = loaded.index;
  const trees = new TreeReader(repo, index);
  const result: VerifyResult = {
    backupId,
    ok: true,
    full: opts.full ?? false,
    packsChecked: 0,
    blobsChecked: 0,
    badPacks: [],
    badBlocks: [],
    warnings: [],
  };
  const badByHash = new Map<string, string>();
  for (const r of loaded.bad.values()) for (const b of r.blocks) badByHash.set(b, r.packId);
  for (const r of loaded.bad.values())
    if (r.missing) result.badPacks.push({ pack: r.packId, reason: 'missing (recorded earlier)' });

  // Referenced blobs per pack.
  const byPack = new Map<number, { hash: Buffer; loc: Location }[]>();
  await walkBackup(
    m,
    index,
    trees,
    new Set(),
    (v) => {
      if (v.pack === undefined) {
        const h = hex(v.hash);
        result.badBlocks.push({
          block: h,
          pack: badByHash.get(h),
          reason: badByHash.has(h) ? 'recorded bad earlier' : 'in no pack',
        });
        return;
      }
      let list = byPack.get(v.pack);
      if (!list) byPack.set(v.pack, (list = []));
      list.push({ hash: Buffer.from(v.hash), loc: index.get(v.hash)! });
    },
    (hash, err) => {
      const h = hex(hash);
      const pack =
        (isBallastError(err) ? (err.details?.['pack'] as string | undefined) : undefined) ??
        packOf(hash);
      result.badBlocks.push({
        block: h,
        pack,
        reason: `tree blob unreadable: ${(err as Error).message}`,
      });
    },
  );
  function packOf(hash: Buffer): string | undefined {
    const l = index.get(hash);
    return l ? index.packId(l.pack) : undefined;
  }

  for (const [n, blobs] of byPack) {
    const packId = index.packId(n)!;
    result.packsChecked++;
    const expected = loaded.packs.get(packId)?.sizeBytes;
    const info = await repo.target.head(keys.pack(packId));
    if (!info) {
      result.badPacks.push({ pack: packId, reason: 'missing' });
      for (const b of blobs)
        result.badBlocks.push({ block: hex(b.hash), pack: packId, reason: 'pack missing' });
      continue;
    }
    if (info.sizeBytes !== expected) {
      result.badPacks.push({
        pack: packId,
        reason: `size ${info.sizeBytes}, index says ${expected}`,
      });
    }
    if (!opts.full) {
      // Blobs past the end of a short pack cannot be whole.
      for (const b of blobs) {
        if (b.loc.offset + b.loc.storedLength > info.sizeBytes) {
          result.badBlocks.push({
            block: hex(b.hash),
            pack: packId,
            reason: 'beyond the end of the pack',
          });
        }
      }
      result.blobsChecked += blobs.length;
      continue;
    }
    const bytes = await repo.target.get(keys.pack(packId));
    let failed = 0;
    for (const b of blobs) {
      result.blobsChecked++;
      try {
        repo.openBlob(
          bytes.subarray(b.loc.offset, b.loc.offset + b.loc.storedLength),
          b.hash,
          packId,
          b.loc.rawLength,
        );
      } catch (err) {
        failed++;
        result.badBlocks.push({ block: hex(b.hash), pack: packId, reason: (err as Error).message });
      }
    }
    if (sha256(bytes).toString('hex') !== packId && info.sizeBytes === expected) {
      const why = 'content does not match its name (hash mismatch)';
      if (failed > 0) result.badPacks.push({ pack: packId, reason: `${why}; ${failed} blobs bad` });
      else result.warnings.push(`pack ${packId}: ${why}, in bytes this backup does not use`);
    }
  }
  result.ok = result.badPacks.length === 0 && result.badBlocks.length === 0;

  const record = opts.record ?? repo.clusterId === repo.config.clusterId;
  if (record && !result.ok) {
    repo.assertWritable('record what verify found');
    await recordBad(repo, loaded.bad, result);
  }
  return result;
}

async function recordBad(
  repo: Repository,
  known: Map<string, BadRecord>,
  result: VerifyResult,
): Promise<void> {
  const missing = new Set(result.badPacks.filter((p) => p.reason === 'missing').map((p) => p.pack));
  const perPack = new Map<string, Set<string>>();
  for (const b of result.badBlocks) {
    if (!b.pack) continue;
    let s = perPack.get(b.pack);
    if (!s) perPack.set(b.pack, (s = new Set(known.get(b.pack)?.blocks ?? [])));
    s.add(b.block);
  }
  for (const p of missing) if (!perPack.has(p)) perPack.set(p, new Set());
  for (const [packId, blocks] of perPack) {
    const rec: BadRecord = {
      packId,
      missing: missing.has(packId) || (known.get(packId)?.missing ?? false),
      blocks: [...blocks].sort(),
      foundAt: new Date().toISOString(),
    };
    await repo.putSealedJson(keys.bad(packId), rec);
  }
}
