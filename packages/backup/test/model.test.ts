// Seeded random runs of backups, changes, deletes and collects (some collects while a backup is
// held half-way), against a model that keeps every backup's image: after every step every
// backup the model says exists is listed, and at the end every one restores byte for byte and
// passes a full verify. A failing seed replays exactly: BACKUP_MODEL_SEED=<seed>. Seed 1 found
// pack names reused by identical packs (an unencrypted repository is deterministic): a collect
// deleting a condemned pack deleted a new one of the same name (packs now start with salt).
import t from 'tap';
import {
  backupVolume,
  collect,
  DirectoryTarget,
  Repository,
  restoreBackup,
  verify,
  type Manifest,
} from '../src/index.js';
import { BufferSink, BufferSource, fillRandom, KiB, seeded, tempDir } from './helpers.js';

const CHUNK = 64 * KiB;
// BACKUP_MODEL_SEEDS=<n> runs seeds 1..n (default 8; a longer hunt).
const SEEDS = process.env['BACKUP_MODEL_SEED']
  ? [Number(process.env['BACKUP_MODEL_SEED'])]
  : Array.from({ length: Number(process.env['BACKUP_MODEL_SEEDS'] ?? 8) }, (_, i) => i + 1);
const STEPS = 24;

interface Volume {
  data: Buffer;
  /** Chunks changed since the volume's last backup, or 'all' after a resize. */
  dirty: Set<number> | 'all';
  last: string | undefined;
}

for (const seed of SEEDS) {
  t.test(`seed ${seed}`, async (t) => {
    const rand = seeded(seed);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const repo = await Repository.init(new DirectoryTarget(tempDir(t)), {
      clusterId: 'c',
      packSizeBytes: 96 * KiB,
      password: seed % 2 === 0 ? 'pw' : undefined,
      scrypt: { N: 1 << 10, r: 8, p: 1 },
    });
    const volumes: Volume[] = [0, 1, 2].map(() => ({
      data: Buffer.alloc(0),
      dirty: 'all',
      last: undefined,
    }));
    for (const v of volumes)
      resize(v, (8 + Math.floor(rand() * 8)) * CHUNK + Math.floor(rand() * 3) * 4096);
    // The second volume starts as a clone of the first.
    volumes[1]!.data = Buffer.from(volumes[0]!.data);
    const images = new Map<string, Buffer>();
    const log: string[] = [];

    function resize(v: Volume, size: number): void {
      const d = Buffer.alloc(size);
      v.data.copy(d, 0, 0, Math.min(size, v.data.length));
      if (size > v.data.length) fillRandom(d, rand, v.data.length, size - v.data.length);
      v.data = d;
      v.dirty = 'all';
    }
    function change(v: Volume): void {
      const blocks = Math.floor(v.data.length / 4096);
      const n = 1 + Math.floor(rand() * 6);
      for (let i = 0; i < n; i++) {
        const b = Math.floor(rand() * blocks);
        if (rand() < 0.3) v.data.fill(0, b * 4096, (b + 1) * 4096);
        else fillRandom(v.data, rand, b * 4096, 4096);
        if (v.dirty !== 'all') v.dirty.add(Math.floor((b * 4096) / CHUNK));
      }
    }
    async function doBackup(v: Volume, src: BufferSource, done: Promise<Manifest>): Promise<void> {
      const m = await done;
      images.set(m.backupId, Buffer.from(src.data));
      v.last = m.backupId;
      log.push(`backup ${m.backupId} parent ${m.parent} new ${m.stats.bytesNew}`);
    }

    for (let step = 0; step < STEPS; step++) {
      const op = rand();
      const v = pick(volumes);
      if (op < 0.35) {
        // Sometimes the source knows what changed, sometimes it says 'all', sometimes nothing.
        const mode = rand();
        const changed =
          mode < 0.6
            ? v.dirty === 'all'
              ? 'all'
              : new Set(v.dirty)
            : mode < 0.8
              ? 'all'
              : undefined;
        const src = new BufferSource(Buffer.from(v.data), CHUNK, changed);
        const parent = v.last !== undefined && images.has(v.last) ? v.last : undefined;
        v.dirty = new Set();
        await doBackup(
          v,
          src,
          backupVolume({ repo, source: src, parent, sealThreads: seed % 4 === 1 ? 1 : 0 }),
        );
      } else if (op < 0.55) {
        change(v);
      } else if (op < 0.6) {
        resize(
          v,
          Math.max(
            CHUNK,
            v.data.length + (rand() < 0.5 ? -1 : 1) * (Math.floor(rand() * 3) * CHUNK + 4096),
          ),
        );
      } else if (op < 0.72 && images.size > 0) {
        const id = pick([...images.keys()]);
        await repo.deleteBackup(id);
        images.delete(id);
        for (const w of volumes) if (w.last === id) w.last = undefined;
        log.push(`delete ${id}`);
      } else if (op < 0.85) {
        const c = await collect(repo);
        log.push(
          `collect at step ${step} deleted ${c.deletedPacks.length} deferred ${c.deferredPacks.length}`,
        );
      } else {
        // A backup held half-way while a delete and a collect run, then another collect.
        const src = new BufferSource(
          Buffer.from(v.data),
          CHUNK,
          v.dirty === 'all' ? 'all' : new Set(v.dirty),
        );
        const parent = v.last !== undefined && images.has(v.last) ? v.last : undefined;
        v.dirty = new Set();
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        let reached!: () => void;
        const atGate = new Promise<void>((r) => (reached = r));
        let reads = 0;
        const holdAt = 1 + Math.floor(rand() * 3);
        src.gate = async () => {
          if (++reads === holdAt) {
            reached();
            await held;
          }
        };
        const running = backupVolume({
          repo,
          source: src,
          parent,
          sealThreads: seed % 4 === 1 ? 1 : 0,
        });
        await Promise.race([atGate, running.then(() => undefined)]);
        if (images.size > 0 && rand() < 0.7) {
          const id = pick([...images.keys()]);
          await repo.deleteBackup(id);
          images.delete(id);
          for (const w of volumes) if (w.last === id && w !== v) w.last = undefined;
          log.push(`delete ${id} (during a backup)`);
        }
        const c = await collect(repo);
        log.push(
          `collect during a backup: deleted ${c.deletedPacks.length} deferred ${c.deferredPacks.length}`,
        );
        release();
        await doBackup(v, src, running);
      }
      const listed = (await repo.listBackups()).map((m) => m.backupId).sort();
      if (JSON.stringify(listed) !== JSON.stringify([...images.keys()].sort())) {
        t.fail(
          `step ${step}: listed ${listed.length} backups, the model has ${images.size}\n${log.join('\n')}`,
        );
        return;
      }
    }
    await collect(repo);
    const fresh = await Repository.open(repo.target, {
      password: seed % 2 === 0 ? 'pw' : undefined,
    });
    for (const [id, image] of images) {
      const sink = new BufferSink(image.length, CHUNK);
      try {
        await restoreBackup({ repo: fresh, backupId: id, sink, chunkSizeBytes: CHUNK });
      } catch (err) {
        t.fail(`restore ${id}: ${(err as Error).message}\n${log.join('\n')}`);
        continue;
      }
      t.ok(sink.data.equals(image), `${id} restores byte for byte`);
      const v = await verify(fresh, id, { full: true });
      t.ok(v.ok, `${id} verifies`);
    }
    t.comment(`seed ${seed}: ${images.size} backups at the end; ${log.length} logged steps`);
  });
}
