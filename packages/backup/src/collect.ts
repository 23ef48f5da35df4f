import { randomBytes } from 'node:crypto';
import { BallastError, isBallastError } from '@ballast/common';
import { keys } from './format.js';
import { walkBackup } from './references.js';
import type { Repository } from './repository.js';
import { listAll, type ObjectInfo } from './target.js';
import { TreeReader } from './tree.js';

/** A `condemned/<id>` object: packs found unreferenced, waiting for the backups that may use them. */
interface CondemnedRecord {
  id: string;
  packs: string[];
  /** Lock keys of backups that were running when the packs were condemned. */
  blockers: string[];
  createdAt: string;
}

export interface CollectOptions {
  /** A lock not rewritten for this long belongs to a dead process; default 15 minutes. */
  staleLockMs?: number;
}

export interface CollectResult {
  /** Packs deleted by this run. */
  deletedPacks: string[];
  bytesFreed: number;
  /** Packs condemned but kept until the listed backups end (the next collect deletes them). */
  deferredPacks: string[];
  waitingFor: string[];
  /** Incomplete multipart uploads older than the stale limit that were aborted (S3). */
  abortedUploads: number;
}

/** Every pack id some `condemned/` record holds. Writers never point new backups at them. */
export async function loadCondemnedPacks(repo: Repository): Promise<Set<string>> {
  const out = new Set<string>();
  for (const r of await loadRecords(repo)) for (const p of r.record.packs) out.add(p);
  return out;
}

async function loadRecords(repo: Repository): Promise<{ key: string; record: CondemnedRecord }[]> {
  const out: { key: string; record: CondemnedRecord }[] = [];
  for await (const o of listAll(repo.target, 'condemned/')) {
    try {
      out.push({ key: o.key, record: await repo.getSealedJson<CondemnedRecord>(o.key) });
    } catch (err) {
      if (!isBallastError(err, 'NOT_FOUND')) throw err;
    }
  }
  return out;
}

/**
 * Deletes packs no backup references, in two steps so that a backup running meanwhile never
 * loses a pack it points at (docs/backup-format.md, "Collect"): unreferenced packs are first
 * condemned (recorded), then deleted only once every backup that was running when they were
 * condemned has ended, after checking again that no manifest references them.
 */
export async function collect(repo: Repository, opts: CollectOptions = {}): Promise<CollectResult> {
  repo.assertWritable('collect garbage');
  const staleMs = opts.staleLockMs ?? 15 * 60_000;
  const own = await repo.writeLock('collect', randomBytes(6).toString('hex'));
  const result: CollectResult = {
    deletedPacks: [],
    bytesFreed: 0,
    deferredPacks: [],
    waitingFor: [],
    abortedUploads: 0,
  };
  try {
    const locks = await repo.listLocks();
    // The store's clock, as the listing reports it (a HEAD may round it to the second).
    const now = locks.find((l) => l.key === own.key)?.modifiedMs ?? own.info.modifiedMs;
    const alive = (o: ObjectInfo): boolean => o.modifiedMs >= now - staleMs;
    const otherCollect = locks.find(
      (l) => l.key !== own.key && l.key.startsWith('locks/collect-') && alive(l),
    );
    if (otherCollect) {
      throw new BallastError('CONFLICT', `another collect is running (${otherCollect.key})`);
    }
    const liveBackups = new Set(
      locks.filter((l) => l.key.startsWith('locks/backup-') && alive(l)).map((l) => l.key),
    );
    // Dead writers' locks only block: remove them.
    for (const l of locks) {
      if (l.key.startsWith('locks/backup-') && !alive(l)) await repo.target.delete(l.key);
    }
    const records = await loadRecords(repo);
    const packs = new Map<string, number>();
    for await (const o of listAll(repo.target, 'packs/'))
      packs.set(o.key.slice(o.key.lastIndexOf('/') + 1), o.sizeBytes);

    // Records whose backups have all ended: delete what is still unreferenced.
    let referenced = await referencedPacks(repo);
    const stillCondemned = new Set<string>();
    for (const { key, record } of records) {
      if (record.blockers.some((b) => liveBackups.has(b))) {
        for (const p of record.packs) stillCondemned.add(p);
        result.deferredPacks.push(...record.packs);
        result.waitingFor.push(...record.blockers.filter((b) => liveBackups.has(b)));
        continue;
      }
      await deletePacks(
        repo,
        record.packs.filter((p) => !referenced.has(p)),
        packs,
        result,
      );
      await repo.target.delete(key);
    }

    // New garbage: condemn it first, then see which backups might still point at it.
    const garbage = [...packs.keys()].filter(
      (p) => !referenced.has(p) && !stillCondemned.has(p) && !result.deletedPacks.includes(p),
    );
    if (garbage.length > 0) {
      const id = randomBytes(8).toString('hex');
      const record: CondemnedRecord = {
        id,
        packs: garbage,
        blockers: [],
        createdAt: new Date().toISOString(),
      };
      await repo.putSealedJson(keys.condemned(id), record);
      const after = await repo.listLocks();
      record.blockers = after
        .filter((l) => l.key.startsWith('locks/backup-') && alive(l))
        .map((l) => l.key);
      if (record.blockers.length > 0) {
        await repo.putSealedJson(keys.condemned(id), record);
        result.deferredPacks.push(...garbage);
        result.waitingFor.push(...record.blockers);
      } else {
        // A backup that ended between the first walk and the record may reference some of them.
        referenced = await referencedPacks(repo);
        await deletePacks(
          repo,
          garbage.filter((p) => !referenced.has(p)),
          packs,
          result,
        );
        await repo.target.delete(keys.condemned(id));
      }
    }
    // A writer's multipart upload older than the stale limit belongs to a dead writer.
    result.abortedUploads = (await repo.target.abortIncompleteUploads?.(staleMs)) ?? 0;
    result.waitingFor = [...new Set(result.waitingFor)];
    return result;
  } finally {
    await repo.target.delete(own.key).catch(() => undefined);
  }
}

/** Packs holding a blob some backup references (by the index's location for each hash). */
async function referencedPacks(repo: Repository): Promise<Set<string>> {
  const manifests = await repo.listBackups();
  const loaded = await repo.loadIndex();
  const trees = new TreeReader(repo, loaded.index);
  const used = new Set<number>();
  const seen = new Set<string>();
  for (const m of manifests) {
    await walkBackup(m, loaded.index, trees, seen, (v) => {
      if (v.pack !== undefined) used.add(v.pack);
    });
  }
  const out = new Set<string>();
  for (const n of used) out.add(loaded.index.packId(n)!);
  // A pack with a bad record whose good blobs were stored again elsewhere is no longer used by
  // the index; one still used keeps its record.
  return out;
}

async function deletePacks(
  repo: Repository,
  ids: string[],
  sizes: Map<string, number>,
  result: CollectResult,
): Promise<void> {
  for (const id of ids) {
    // The index first: a crash in between leaves a pack no index names, which is garbage again.
    await repo.target.delete(keys.index(id));
    await repo.target.delete(keys.pack(id));
    await repo.target.delete(keys.bad(id));
    result.deletedPacks.push(id);
    result.bytesFreed += sizes.get(id) ?? 0;
  }
}
