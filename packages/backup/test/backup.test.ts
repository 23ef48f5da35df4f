import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { isBallastError } from '@ballast/common';
import {
  backupVolume,
  collect,
  DirectoryTarget,
  inspectBackup,
  keys,
  listAll,
  PackKind,
  Repository,
  restoreBackup,
  verify,
  type BackupTarget,
} from '../src/index.js';
import {
  BufferSink,
  BufferSource,
  changeBlocks,
  CountingTarget,
  fillRandom,
  KiB,
  makeVolume,
  MiB,
  seeded,
  tempDir,
} from './helpers.js';

const CLUSTER = 'cluster-a';
const FAST_SCRYPT = { N: 1 << 12, r: 8, p: 1 };

async function restoreToBuffer(
  repo: Repository,
  backupId: string,
  chunkSizeBytes = 256 * KiB,
): Promise<Buffer> {
  const m = await repo.manifest(backupId);
  const sink = new BufferSink(m.sizeBytes, chunkSizeBytes);
  await restoreBackup({ repo, backupId, sink, chunkSizeBytes });
  return sink.data;
}

async function objectKeys(target: BackupTarget): Promise<string[]> {
  const out: string[] = [];
  for await (const o of listAll(target, '')) out.push(`${o.key}:${o.sizeBytes}`);
  return out.sort();
}

t.test(
  'round trip, byte for byte: random data, zero regions, sizes not a multiple of the chunk or block',
  async (t) => {
    for (const encrypted of [false, true]) {
      const dir = tempDir(t);
      const target = new DirectoryTarget(dir);
      const password = encrypted ? 'correct horse' : undefined;
      const repo = await Repository.init(target, {
        clusterId: CLUSTER,
        password,
        packSizeBytes: MiB,
        scrypt: FAST_SCRYPT,
      });
      const vol = makeVolume(5 * MiB + 12_345, 1);
      const src = new BufferSource(vol, 256 * KiB);
      const progress: number[] = [];
      const m = await backupVolume({
        repo,
        source: src,
        labels: { volume: 'v1' },
        // Both ways of sealing: on the main thread, and in two worker threads.
        sealThreads: encrypted ? 2 : 0,
        onProgress: (p) => progress.push(p.bytesScanned),
      });
      t.equal(m.sizeBytes, vol.length);
      t.equal(progress.at(-1), vol.length, 'progress reaches the size');
      t.ok(m.stats.bytesZero >= 350 * KiB, 'zero blocks counted and not stored');
      t.ok(
        m.stats.bytesDeduplicated >= 64 * KiB,
        'the repeated region is deduplicated within the volume',
      );
      t.ok(m.stats.packsUploaded >= 4, `several packs (${m.stats.packsUploaded})`);

      // A fresh process: only the target and the password.
      const again = await Repository.open(new DirectoryTarget(dir), { password });
      const list = await again.listBackups();
      t.same(
        list.map((b) => b.backupId),
        [m.backupId],
      );
      t.equal(list[0]!.labels['volume'], 'v1');
      for (const chunk of [256 * KiB, 4 * KiB, MiB]) {
        const back = await restoreToBuffer(again, m.backupId, chunk);
        t.ok(back.equals(vol), `restored byte for byte (encrypted ${encrypted}, chunk ${chunk})`);
      }
      const v = await verify(again, m.backupId, { full: true });
      t.ok(v.ok, 'verify --full passes');
      if (encrypted) {
        // Nothing but config is readable: no label in a manifest, no volume bytes in a pack.
        const probe = vol.subarray(4096, 4096 + 64);
        for await (const o of listAll(target, '')) {
          const body = readFileSync(join(dir, o.key));
          if (o.key.startsWith('backups/')) t.notOk(body.includes('volume'), `${o.key} is sealed`);
          if (o.key.startsWith('packs/')) t.notOk(body.includes(probe), `${o.key} is sealed`);
        }
        const cfg = readFileSync(join(dir, 'config'), 'utf8');
        t.match(cfg, /wrappedKey/);
      }
    }
  },
);

t.test('empty and all-zero volumes', async (t) => {
  const repo = await Repository.init(new DirectoryTarget(tempDir(t)), { clusterId: CLUSTER });
  const zero = Buffer.alloc(3 * MiB);
  const m = await backupVolume({ repo, source: new BufferSource(zero, MiB) });
  t.equal(m.stats.bytesUploaded, 0, 'nothing but the manifest for an all-zero volume');
  t.ok((await restoreToBuffer(repo, m.backupId)).equals(zero));
  const e = await backupVolume({ repo, source: new BufferSource(Buffer.alloc(0), MiB) });
  t.equal((await restoreToBuffer(repo, e.backupId)).length, 0);
});

t.test(
  'incremental: 1% of 4 KiB blocks changed at random uploads at most 1.5% of the volume',
  async (t) => {
    const counting = new CountingTarget(new DirectoryTarget(tempDir(t)));
    const repo = await Repository.init(counting, {
      clusterId: CLUSTER,
      password: 'pw',
      scrypt: FAST_SCRYPT,
      packSizeBytes: 16 * MiB,
    });
    const size = 64 * MiB;
    const chunk = MiB;
    // A fully written volume of random data: no zero blocks or compression to flatter the numbers.
    const vol = Buffer.alloc(size);
    fillRandom(vol, seeded(22));
    const first = await backupVolume({ repo, source: new BufferSource(vol, chunk) });
    t.ok(
      counting.total() > size,
      'the first backup uploads the whole volume (random data does not compress)',
    );

    const changed = changeBlocks(vol, 0.01, 3);
    const chunksChanged = new Set([...changed].map((b) => Math.floor((b * 4096) / chunk)));
    counting.reset();
    const src = new BufferSource(vol, chunk, chunksChanged);
    const second = await backupVolume({ repo, source: src, parent: first.backupId });
    const uploaded = counting.total();
    const pct = (uploaded / size) * 100;
    t.comment(
      `incremental: ${changed.size} of ${size / 4096} blocks changed (${((changed.size * 4096) / MiB).toFixed(2)} MiB), ` +
        `uploaded ${(uploaded / MiB).toFixed(3)} MiB = ${pct.toFixed(3)}% of ${size / MiB} MiB ` +
        `(packs ${((counting.bytesPut.get('packs') ?? 0) / KiB) | 0} KiB, index ${((counting.bytesPut.get('index') ?? 0) / KiB) | 0} KiB, ` +
        `manifest ${((counting.bytesPut.get('backups') ?? 0) / KiB) | 0} KiB)`,
    );
    t.ok(uploaded <= 0.015 * size, `uploaded ${pct.toFixed(3)}% <= 1.5%`);
    t.equal(second.stats.bytesNew, changed.size * 4096, 'exactly the changed blocks are new');
    t.ok(
      (await restoreToBuffer(repo, second.backupId)).equals(vol),
      'the incremental restores byte for byte',
    );

    // The source says which chunks changed: the others are not read at all.
    const few = new Set([3, 40]);
    vol.fill(7, 3 * chunk, 3 * chunk + 4096);
    vol.fill(9, 40 * chunk + 8192, 40 * chunk + 12288);
    const src3 = new BufferSource(vol, chunk, few);
    counting.reset();
    const third = await backupVolume({ repo, source: src3, parent: second.backupId });
    t.same(
      src3.reads.sort((a, b) => a - b),
      [3, 40],
      'only the changed chunks are read',
    );
    t.equal(third.stats.bytesReused, size - 2 * chunk);
    t.ok(counting.total() < 100 * KiB, `two changed blocks upload ${counting.total()} bytes`);
    t.ok((await restoreToBuffer(repo, third.backupId)).equals(vol));
    t.ok(
      (await restoreToBuffer(repo, first.backupId)).equals(makeVolumeFilled(size)),
      'the first backup is unchanged',
    );

    function makeVolumeFilled(n: number): Buffer {
      const b = Buffer.alloc(n);
      fillRandom(b, seeded(22));
      return b;
    }
  },
);

t.test('a clone of a backed-up volume costs at most 1% of its size', async (t) => {
  const counting = new CountingTarget(new DirectoryTarget(tempDir(t)));
  const repo = await Repository.init(counting, { clusterId: CLUSTER, packSizeBytes: 4 * MiB });
  const size = 32 * MiB;
  const vol = makeVolume(size, 4);
  await backupVolume({ repo, source: new BufferSource(vol, MiB), labels: { volume: 'a' } });
  const clone = Buffer.from(vol);
  counting.reset();
  const c1 = await backupVolume({
    repo,
    source: new BufferSource(clone, MiB),
    labels: { volume: 'a-clone' },
  });
  t.comment(`identical clone: uploaded ${counting.total()} bytes of ${size}`);
  t.ok(counting.total() <= 0.01 * size);
  t.equal(c1.stats.bytesNew, 0);
  // The clone diverges a little: still only the new blocks.
  changeBlocks(clone, 0.002, 5);
  counting.reset();
  const c2 = await backupVolume({
    repo,
    source: new BufferSource(clone, MiB),
    labels: { volume: 'a-clone' },
  });
  t.comment(
    `clone with 0.2% changed: uploaded ${counting.total()} bytes = ${((counting.total() / size) * 100).toFixed(3)}%`,
  );
  t.ok(counting.total() <= 0.01 * size);
  t.ok((await restoreToBuffer(repo, c2.backupId)).equals(clone));
});

t.test(
  'abort mid-backup leaves no listed backup; the next backup works; collect removes the debris',
  async (t) => {
    const dir = tempDir(t);
    const repo = await Repository.init(new DirectoryTarget(dir), {
      clusterId: CLUSTER,
      packSizeBytes: 512 * KiB,
    });
    const vol = makeVolume(8 * MiB, 6);
    const ac = new AbortController();
    const err = await backupVolume({
      repo,
      source: new BufferSource(vol, 256 * KiB),
      signal: ac.signal,
      onProgress: (p) => {
        if (p.packsUploaded >= 2) ac.abort(new Error('stop here'));
      },
    }).catch((e: unknown) => e);
    t.match(err, { message: 'stop here' });
    t.same(await repo.listBackups(), [], 'no backup listed');
    const packsLeft = (await objectKeys(repo.target)).filter((k) => k.startsWith('packs/')).length;
    t.ok(packsLeft >= 2, 'the aborted run left unreferenced packs');
    t.same(
      (await objectKeys(repo.target)).filter((k) => k.startsWith('locks/')),
      [],
      'and no lock',
    );
    const c = await collect(repo);
    t.equal(c.deletedPacks.length, packsLeft, 'collect deletes every pack of the aborted run');
    t.same(
      (await objectKeys(repo.target)).filter((k) => !k.startsWith('config')),
      [],
      'nothing but the config left',
    );
    const m = await backupVolume({ repo, source: new BufferSource(vol, 256 * KiB) });
    t.ok((await restoreToBuffer(repo, m.backupId)).equals(vol), 'the next backup works');
    t.ok((await verify(repo, m.backupId, { full: true })).ok);
  },
);

t.test(
  'concurrent backup + delete + collect: every remaining backup restores byte for byte',
  async (t) => {
    const repo = await Repository.init(new DirectoryTarget(tempDir(t)), {
      clusterId: CLUSTER,
      packSizeBytes: 512 * KiB,
    });
    const a = makeVolume(4 * MiB, 7);
    const b = makeVolume(4 * MiB, 8);
    const ba = await backupVolume({
      repo,
      source: new BufferSource(a, 256 * KiB),
      labels: { volume: 'a' },
    });
    const bb = await backupVolume({
      repo,
      source: new BufferSource(b, 256 * KiB),
      labels: { volume: 'b' },
    });

    // A backup of a (changed a little) builds on ba and is held half-way.
    const a2 = Buffer.from(a);
    a2.fill(1, 0, 8192);
    a2.fill(2, 3 * MiB, 3 * MiB + 4096);
    const src = new BufferSource(a2, 256 * KiB, new Set([0, 12]));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let reached!: () => void;
    const atGate = new Promise<void>((r) => (reached = r));
    let reads = 0;
    src.gate = async () => {
      if (++reads === 2) {
        reached();
        await held;
      }
    };
    const running = backupVolume({
      repo,
      source: src,
      parent: ba.backupId,
      labels: { volume: 'a' },
    });
    await atGate;
    // Meanwhile: the parent is deleted and garbage is collected.
    await repo.deleteBackup(ba.backupId);
    const c1 = await collect(repo);
    t.equal(
      c1.deletedPacks.length,
      0,
      'nothing deleted while a backup that may use the packs runs',
    );
    t.ok(c1.deferredPacks.length > 0, `${c1.deferredPacks.length} packs condemned, deferred`);
    t.equal(c1.waitingFor.length, 1, 'waiting for the running backup');
    // A backup started now may not point at condemned packs: it stores those blocks again.
    const late = await backupVolume({
      repo,
      source: new BufferSource(a, 256 * KiB),
      labels: { volume: 'a-copy' },
    });
    t.ok(late.stats.bytesNew > 0, 'a backup started after the condemnation stores its blocks anew');
    release();
    const ba2 = await running;
    const c2 = await collect(repo);
    t.comment(`second collect: deleted ${c2.deletedPacks.length} packs, ${c2.bytesFreed} bytes`);
    t.ok(c2.deletedPacks.length > 0, 'the next collect deletes what is still unreferenced');
    const remaining = await repo.listBackups();
    t.same(
      remaining.map((m) => m.backupId).sort(),
      [bb.backupId, ba2.backupId, late.backupId].sort(),
    );
    t.ok((await restoreToBuffer(repo, bb.backupId)).equals(b), 'b restores');
    t.ok(
      (await restoreToBuffer(repo, ba2.backupId)).equals(a2),
      'the backup that ran during collect restores',
    );
    t.ok((await restoreToBuffer(repo, late.backupId)).equals(a), 'the late backup restores');
    for (const m of remaining)
      t.ok((await verify(repo, m.backupId, { full: true })).ok, `verify ${m.backupId}`);
    const c3 = await collect(repo);
    t.equal(c3.deletedPacks.length + c3.deferredPacks.length, 0, 'nothing left to collect');
  },
);

t.test(
  'corrupt pack: verify --full names it; restore needing it fails naming block and pack; the next backup repairs it',
  async (t) => {
    const dir = tempDir(t);
    const repo = await Repository.init(new DirectoryTarget(dir), {
      clusterId: CLUSTER,
      password: 'pw',
      scrypt: FAST_SCRYPT,
      packSizeBytes: 512 * KiB,
    });
    const y = makeVolume(2 * MiB, 9);
    const x = makeVolume(3 * MiB, 10);
    const by = await backupVolume({ repo, source: new BufferSource(y, 256 * KiB) });
    const before = new Set(
      (await objectKeys(repo.target))
        .filter((k) => k.startsWith('packs/'))
        .map((k) => k.split(':')[0]!),
    );
    const bx = await backupVolume({ repo, source: new BufferSource(x, 256 * KiB) });
    const newPacks = (await objectKeys(repo.target))
      .map((k) => k.split(':')[0]!)
      .filter((k) => k.startsWith('packs/') && !before.has(k));
    let victim: string | undefined;
    for (const key of newPacks) {
      const id = key.slice(key.lastIndexOf('/') + 1);
      if ((await repo.readIndex(id)).packKind === PackKind.DATA) victim = id;
    }
    t.ok(victim, 'a data pack only backup x uses');
    const path = join(dir, keys.pack(victim!));
    const bytes = readFileSync(path);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x55;
    writeFileSync(path, bytes);

    t.ok(
      (await verify(repo, bx.backupId)).ok,
      'quick verify cannot see a flipped byte (size is right)',
    );
    const restoreErr = await restoreToBuffer(repo, bx.backupId).catch((e: unknown) => e);
    t.ok(isBallastError(restoreErr, 'CHECKSUM_MISMATCH'), 'restore fails on the corrupt block');
    t.match((restoreErr as Error).message, new RegExp(`block [0-9a-f]{64} in pack ${victim}`));
    t.equal((restoreErr as { details: Record<string, unknown> }).details['pack'], victim);

    const v = await verify(repo, bx.backupId, { full: true });
    t.notOk(v.ok);
    t.ok(
      v.badBlocks.length >= 1 && v.badBlocks.every((b) => b.pack === victim),
      'verify --full names the pack',
    );
    t.same(
      v.badPacks.map((p) => p.pack),
      [victim],
    );
    t.ok((await verify(repo, by.backupId, { full: true })).ok, 'the other backup is fine');
    t.ok(
      (await restoreToBuffer(repo, by.backupId)).equals(y),
      'a restore not needing the pack succeeds',
    );
    const err2 = await restoreToBuffer(repo, bx.backupId).catch((e: unknown) => e);
    t.match((err2 as Error).message, new RegExp(`in pack ${victim} was found corrupt by verify`));

    // Nothing changed in the volume and the source says so, yet the blocks verify flagged are read
    // and stored again.
    const src = new BufferSource(x, 256 * KiB, new Set());
    const repaired = await backupVolume({ repo, source: src, parent: bx.backupId });
    t.ok(
      src.reads.length >= 1 && src.reads.length < 12,
      `only the chunks with bad blocks were read (${src.reads.length})`,
    );
    t.equal(
      repaired.stats.bytesNew,
      v.badBlocks.length * 4096,
      'exactly the bad blocks stored again',
    );
    t.ok((await restoreToBuffer(repo, repaired.backupId)).equals(x), 'the new backup restores');
    t.ok(
      (await restoreToBuffer(repo, bx.backupId)).equals(x),
      'and so does the old one, from the re-stored blocks',
    );
    t.ok(
      (await verify(repo, repaired.backupId, { full: true })).ok,
      'verify --full passes after the repair',
    );
  },
);

t.test('bad input: clear errors, nothing changed', async (t) => {
  const dir = tempDir(t);
  const target = new DirectoryTarget(dir);
  const repo = await Repository.init(target, {
    clusterId: CLUSTER,
    password: 'secret',
    scrypt: FAST_SCRYPT,
    packSizeBytes: MiB,
  });
  const vol = makeVolume(MiB, 11);
  const m = await backupVolume({ repo, source: new BufferSource(vol, 256 * KiB) });
  const snapshot = await objectKeys(target);

  const code = async (p: Promise<unknown>, c: string, what: string): Promise<void> => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(isBallastError(err, c as never), `${what}: ${c} (${(err as Error)?.message})`);
  };
  await code(repo.manifest('20260101T000000Z-deadbeef'), 'NOT_FOUND', 'unknown backup');
  await code(
    restoreBackup({ repo, backupId: 'nope', sink: new BufferSink(1, 4096), chunkSizeBytes: 4096 }),
    'NOT_FOUND',
    'restore of an unknown backup',
  );
  await code(verify(repo, 'nope'), 'NOT_FOUND', 'verify of an unknown backup');
  await code(repo.deleteBackup('nope'), 'NOT_FOUND', 'delete of an unknown backup');
  await code(repo.manifest('../config'), 'INVALID_ARGUMENT', 'a backup id with a path in it');
  await code(Repository.open(target, { password: 'wrong' }), 'UNAUTHORIZED', 'wrong password');
  await code(Repository.open(target), 'UNAUTHORIZED', 'no password for an encrypted repository');
  await code(
    Repository.init(target, { clusterId: CLUSTER }),
    'CONFLICT',
    'init over an existing repository',
  );
  await code(
    Repository.open(new DirectoryTarget(join(dir, 'nothing-here'))),
    'NOT_FOUND',
    'no repository',
  );
  await code(
    backupVolume({ repo, source: new BufferSource(vol, 1000) }),
    'INVALID_ARGUMENT',
    'a chunk size not a multiple of the block size',
  );
  await code(
    backupVolume({ repo, source: new BufferSource(vol, 4096), parent: 'nope' }),
    'NOT_FOUND',
    'an unknown parent',
  );

  // Another cluster: may list and restore, may not write.
  const foreign = await Repository.open(target, { password: 'secret', clusterId: 'cluster-b' });
  t.same(
    (await foreign.listBackups()).map((b) => b.backupId),
    [m.backupId],
    'a foreign cluster lists',
  );
  t.ok((await restoreToBuffer(foreign, m.backupId)).equals(vol), 'and restores');
  await code(
    backupVolume({ repo: foreign, source: new BufferSource(vol, 4096) }),
    'FORBIDDEN',
    'a foreign cluster backing up',
  );
  await code(foreign.deleteBackup(m.backupId), 'FORBIDDEN', 'a foreign cluster deleting');
  await code(collect(foreign), 'FORBIDDEN', 'a foreign cluster collecting');
  const noCluster = await Repository.open(target, { password: 'secret' });
  await code(
    backupVolume({ repo: noCluster, source: new BufferSource(vol, 4096) }),
    'FORBIDDEN',
    'no cluster id',
  );
  t.same(await objectKeys(target), snapshot, 'nothing changed in the repository');

  // A newer format version is refused before anything is read.
  const cfgPath = join(dir, 'config');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
  writeFileSync(cfgPath, JSON.stringify({ ...cfg, version: 2 }));
  await code(Repository.open(target, { password: 'secret' }), 'CONFIG', 'format version 2');
  writeFileSync(cfgPath, JSON.stringify({ ...cfg, format: 'something-else' }));
  await code(Repository.open(target, { password: 'secret' }), 'CONFIG', 'not a Ballast repository');
  writeFileSync(cfgPath, JSON.stringify(cfg));
  t.ok(await Repository.open(target, { password: 'secret' }), 'opens again with the right config');
});

t.test(
  'a backup process killed half-way leaves no listed backup; collect frees its packs once its lock is stale',
  async (t) => {
    const dir = tempDir(t);
    const repo = await Repository.init(new DirectoryTarget(dir), {
      clusterId: CLUSTER,
      packSizeBytes: 512 * KiB,
    });
    const keep = await backupVolume({
      repo,
      source: new BufferSource(makeVolume(MiB, 12), 256 * KiB),
    });
    // The child backs up 16 MiB of random data, slowly once its first pack is up, and is killed.
    const src = JSON.stringify(new URL('../src/index.js', import.meta.url).href);
    const helpers = JSON.stringify(new URL('./helpers.js', import.meta.url).href);
    const script = `
    import { backupVolume, DirectoryTarget, Repository } from ${src};
    import { BufferSource, fillRandom, seeded } from ${helpers};
    const repo = await Repository.open(new DirectoryTarget(${JSON.stringify(dir)}), { clusterId: ${JSON.stringify(CLUSTER)} });
    const vol = Buffer.alloc(16 * 1024 * 1024);
    fillRandom(vol, seeded(13));
    const source = new BufferSource(vol, 256 * 1024);
    let said = false;
    source.gate = () => new Promise((r) => setTimeout(r, said ? 50 : 0));
    await backupVolume({ repo, source, onProgress: (p) => { if (p.packsUploaded >= 2 && !said) { said = true; console.log('uploading'); } } });
    console.log('finished');
  `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const said = await new Promise<string>((resolve) => {
      child.stdout.on('data', (d: Buffer) => resolve(d.toString()));
      child.once('exit', () => resolve('exited'));
    });
    t.match(said, /uploading/, 'the child was mid-backup');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    t.same(
      (await repo.listBackups()).map((m) => m.backupId),
      [keep.backupId],
      'only the earlier backup is listed',
    );
    const packs = async (): Promise<number> =>
      (await objectKeys(repo.target)).filter((k) => k.startsWith('packs/')).length;
    const before = await packs();
    // The dead writer's lock is fresh: collect condemns its packs but waits.
    const c1 = await collect(repo);
    t.equal(c1.deletedPacks.length, 0, 'nothing deleted while the lock looks alive');
    t.equal(c1.waitingFor.length, 1);
    // Once the lock is older than the stale limit the packs go.
    const c2 = await collect(repo, { staleLockMs: 0 });
    t.ok(
      c2.deletedPacks.length >= 2,
      `deleted ${c2.deletedPacks.length} packs of the killed backup`,
    );
    t.equal(await packs(), before - c2.deletedPacks.length);
    t.same(
      (await objectKeys(repo.target)).filter(
        (k) => k.startsWith('locks/') || k.startsWith('condemned/'),
      ),
      [],
      'no lock or record left',
    );
    t.ok(
      (await restoreToBuffer(repo, keep.backupId)).equals(makeVolume(MiB, 12)),
      'the earlier backup restores',
    );
    const vol = Buffer.alloc(16 * MiB);
    fillRandom(vol, seeded(13));
    const m = await backupVolume({ repo, source: new BufferSource(vol, 256 * KiB) });
    t.ok((await restoreToBuffer(repo, m.backupId)).equals(vol), 'the next backup works');
  },
);

t.test('a backup whose lock a collect judged stale does not complete', async (t) => {
  const repo = await Repository.init(new DirectoryTarget(tempDir(t)), {
    clusterId: CLUSTER,
    packSizeBytes: 512 * KiB,
  });
  const vol = makeVolume(2 * MiB, 14);
  const src = new BufferSource(vol, 256 * KiB);
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let reached!: () => void;
  const atGate = new Promise<void>((r) => (reached = r));
  let reads = 0;
  src.gate = async () => {
    if (++reads === 3) {
      reached();
      await held;
    }
  };
  const running = backupVolume({ repo, source: src }).catch((e: unknown) => e);
  await atGate;
  await new Promise((r) => setTimeout(r, 20)); // the store's clock must move past the lock's time
  const c = await collect(repo, { staleLockMs: 0 });
  t.equal(c.waitingFor.length, 0, 'the stalled backup was judged dead');
  release();
  const err = await running;
  t.ok(isBallastError(err, 'CONFLICT'), `the backup fails: ${(err as Error).message}`);
  t.same(await repo.listBackups(), [], 'and is not listed');
});

t.test('restore resumes: a sink that failed half-way, then the rest with skip', async (t) => {
  const repo = await Repository.init(new DirectoryTarget(tempDir(t)), {
    clusterId: CLUSTER,
    packSizeBytes: MiB,
  });
  const vol = makeVolume(4 * MiB + 4096, 15);
  const m = await backupVolume({ repo, source: new BufferSource(vol, 256 * KiB) });
  const sink = new BufferSink(vol.length, 256 * KiB);
  const done = new Set<number>();
  let writes = 0;
  const failing = {
    writeChunk: async (i: number, d: Buffer | null, len: number): Promise<void> => {
      if (++writes === 7) throw new Error('disk went away');
      await sink.writeChunk(i, d, len);
      done.add(i);
    },
  };
  const err = await restoreBackup({
    repo,
    backupId: m.backupId,
    sink: failing,
    chunkSizeBytes: 256 * KiB,
    concurrency: 1,
  }).catch((e: unknown) => e);
  t.match(err, { message: 'disk went away' });
  t.equal(done.size, 6, 'six chunks were restored before the failure');
  const second: number[] = [];
  const progress: number[] = [];
  await restoreBackup({
    repo,
    backupId: m.backupId,
    chunkSizeBytes: 256 * KiB,
    skip: done,
    sink: { writeChunk: async (i, d, len) => (second.push(i), sink.writeChunk(i, d, len)) },
    onProgress: (p) => progress.push(p.bytesRestored + p.bytesSkipped),
  });
  t.notOk(
    second.some((i) => done.has(i)),
    'chunks already restored are not written again',
  );
  t.equal(second.length + done.size, Math.ceil(vol.length / (256 * KiB)));
  t.equal(progress.at(-1), vol.length, 'progress covers the whole volume');
  t.ok(sink.data.equals(vol), 'byte for byte after the resumed restore');
  // A predicate works as well as a set.
  const s2 = new BufferSink(vol.length, 256 * KiB);
  await restoreBackup({
    repo,
    backupId: m.backupId,
    sink: s2,
    chunkSizeBytes: 256 * KiB,
    skip: (i) => i % 2 === 0,
  });
  t.ok(s2.written.every((i) => i % 2 === 1));
});

t.test(
  'a volume that grew or shrank since its parent: chunks not whole in both are read',
  async (t) => {
    const repo = await Repository.init(new DirectoryTarget(tempDir(t)), {
      clusterId: CLUSTER,
      packSizeBytes: MiB,
    });
    const base = makeVolume(4 * MiB, 16);
    const parent = await backupVolume({ repo, source: new BufferSource(base, 256 * KiB) });
    for (const size of [4 * MiB - 100, 3 * MiB + 2048, 5 * MiB + 300, 6 * MiB]) {
      const vol = Buffer.alloc(size);
      base.copy(vol, 0, 0, Math.min(size, base.length));
      if (size > base.length) vol.fill(0x5a, base.length);
      // The source claims nothing changed: only the resized end may be read.
      const src = new BufferSource(vol, 256 * KiB, new Set());
      const m = await backupVolume({ repo, source: src, parent: parent.backupId });
      const whole = Math.floor(Math.min(size, base.length) / (256 * KiB));
      t.ok(
        src.reads.every((c) => c >= whole),
        `size ${size}: only chunks from ${whole} on were read (${src.reads.length})`,
      );
      t.ok((await restoreToBuffer(repo, m.backupId)).equals(vol), `size ${size}: byte for byte`);
    }
  },
);

t.test('two backups into one repository at once both complete and restore', async (t) => {
  const repo = await Repository.init(new DirectoryTarget(tempDir(t)), {
    clusterId: CLUSTER,
    packSizeBytes: 512 * KiB,
  });
  const a = makeVolume(3 * MiB, 17);
  const b = Buffer.from(a);
  changeBlocks(b, 0.1, 18);
  const [ma, mb] = await Promise.all([
    backupVolume({ repo, source: new BufferSource(a, 256 * KiB) }),
    backupVolume({ repo, source: new BufferSource(b, 256 * KiB) }),
  ]);
  t.ok((await restoreToBuffer(repo, ma.backupId)).equals(a));
  t.ok((await restoreToBuffer(repo, mb.backupId)).equals(b));
  t.ok((await verify(repo, mb.backupId, { full: true })).ok);
  await collect(repo);
  t.ok((await restoreToBuffer(repo, ma.backupId)).equals(a), 'and after collect');
  t.ok((await restoreToBuffer(repo, mb.backupId)).equals(b));
});

t.test(
  'sealed objects are bound to their names: a manifest moved to another name fails',
  async (t) => {
    const dir = tempDir(t);
    const repo = await Repository.init(new DirectoryTarget(dir), {
      clusterId: CLUSTER,
      password: 'pw',
      scrypt: FAST_SCRYPT,
    });
    const m1 = await backupVolume({
      repo,
      source: new BufferSource(makeVolume(MiB, 19), 256 * KiB),
    });
    const m2 = await backupVolume({
      repo,
      source: new BufferSource(makeVolume(MiB, 20), 256 * KiB),
    });
    writeFileSync(
      join(dir, keys.backup(m2.backupId)),
      readFileSync(join(dir, keys.backup(m1.backupId))),
    );
    const err = await repo.manifest(m2.backupId).catch((e: unknown) => e);
    t.ok(isBallastError(err, 'CHECKSUM_MISMATCH'), (err as Error).message);
    t.equal((await repo.manifest(m1.backupId)).backupId, m1.backupId);
  },
);

t.test('inspect and change the password', async (t) => {
  const dir = tempDir(t);
  const repo = await Repository.init(new DirectoryTarget(dir), {
    clusterId: CLUSTER,
    password: 'old',
    scrypt: FAST_SCRYPT,
    packSizeBytes: MiB,
  });
  const vol = makeVolume(2 * MiB + 4096, 23);
  const m = await backupVolume({ repo, source: new BufferSource(vol, 256 * KiB) });
  const d = await inspectBackup(repo, m.backupId);
  t.equal(d.manifest.backupId, m.backupId);
  t.equal(d.missingBlobs, 0);
  t.equal(
    d.blocks * 4096 + m.stats.bytesZero >= vol.length - 4096,
    true,
    'every non-zero block listed',
  );
  t.ok(
    d.uniqueBlobs <= d.blocks + d.manifest.leafCount + 1 - 16,
    'the repeated 64 KiB count once among unique blobs',
  );
  t.ok(d.storedBytes > 0 && d.packs >= 2);

  await repo.changePassword('new', FAST_SCRYPT);
  const old = await Repository.open(new DirectoryTarget(dir), { password: 'old' }).catch(
    (e: unknown) => e,
  );
  t.ok(isBallastError(old, 'UNAUTHORIZED'), 'the old password no longer opens it');
  const fresh = await Repository.open(new DirectoryTarget(dir), { password: 'new' });
  t.ok(
    (await restoreToBuffer(fresh, m.backupId)).equals(vol),
    'the new one does, and the data reads',
  );
  const foreign = await Repository.open(new DirectoryTarget(dir), {
    password: 'new',
    clusterId: 'other',
  });
  const err = await foreign.changePassword('x').catch((e: unknown) => e);
  t.ok(isBallastError(err, 'FORBIDDEN'), 'another cluster cannot change it');
});
