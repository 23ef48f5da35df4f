// The fault disk: FaultyDevice on its own (no root needed), its server process, and FaultDisk
// with a real ext4 mount through nbdfuse + loop (root, /dev/fuse and loop devices). Every test
// that mounts something undoes it in a teardown, also when it fails, and checks that nothing
// (mount, loop device, process) is left under its directory.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { ControlClient, FaultDisk, FaultyDevice } from '../src/index.js';

const BLOCK = 4096;
const MiB = 1024 * 1024;
const SERVE_JS = fileURLToPath(new URL('../src/fault-disk/serve.js', import.meta.url));

const rootReason =
  process.getuid?.() !== 0
    ? 'needs root'
    : !fs.existsSync('/dev/fuse')
      ? 'needs /dev/fuse'
      : !fs.existsSync('/dev/loop-control')
        ? 'needs loop devices'
        : undefined;

function tempDir(t: Test, prefix = 'fault-disk-'): string {
  // Short: unix socket paths live in it.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(async () => {
    // Never rm -rf through a mount: whatever is still mounted (a failed test) stays, visibly.
    if ((await leftoversUnder(dir)).mounts.length === 0) {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  return dir;
}

function sha(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function fill(byte: number, length = BLOCK): Buffer {
  return Buffer.alloc(length, byte);
}

async function rejectsEio(t: Test, promise: Promise<unknown>, what: string): Promise<void> {
  await t.rejects(promise, { code: 'IO' }, what);
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface Leftovers {
  mounts: string[];
  loops: string[];
  processes: string[];
}

/** Mounts under dir (from /proc/self/mountinfo), loop devices on files under it, processes naming it. */
async function leftoversUnder(dir: string): Promise<Leftovers> {
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p.startsWith(`${dir}/`));
  const losetup = await run('losetup', ['--list', '--json', '--output', 'NAME,BACK-FILE']);
  const loops =
    losetup.stdout.trim() === ''
      ? []
      : (
          JSON.parse(losetup.stdout) as {
            loopdevices: Array<{ name: string; 'back-file': string | null }>;
          }
        ).loopdevices
          .filter((d) => (d['back-file'] ?? '').startsWith(`${dir}/`))
          .map((d) => `${d.name} on ${d['back-file']}`);
  const processes: string[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'Z' && cmdline.includes(`${dir}/`)) processes.push(`${entry}: ${cmdline}`);
    } catch {
      // gone meanwhile
    }
  }
  return { mounts, loops, processes };
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  // A bound on a wait, not a performance threshold: these conditions hold within a second.
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function openDevice(t: Test, sizeBytes = MiB): FaultyDevice {
  const dir = tempDir(t);
  const device = FaultyDevice.open(path.join(dir, 'disk.img'), { sizeBytes, create: true });
  t.teardown(() => device.close());
  return device;
}

t.test('FaultyDevice: power cut drops unflushed writes, keeps flushed and FUA ones', async (t) => {
  const device = openDevice(t);
  await device.writeAt(0, fill(1));
  await device.flush();
  await device.writeAt(0, fill(2)); // overwrites a durable block: back to 1
  await device.writeAt(BLOCK, fill(3)); // a never-written block: back to zeroes
  await device.writeAt(2 * BLOCK, fill(4), true); // FUA: durable at once
  await device.writeAt(3 * BLOCK + 100, fill(5, 100)); // partial block: the whole block rolls back
  t.same((await device.readAt(0, BLOCK)).equals(fill(2)), true, 'reads see unflushed writes');
  const before = device.stats();
  t.equal(before.cachedBlocks, 3, 'three blocks cached (the FUA one is not)');
  t.equal(before.cachedBytes, 3 * BLOCK);
  t.equal(before.fuaWrites, 1);

  const result = device.powerCut();
  t.same(result, { droppedBlocks: 3, keptBlocks: 0 });
  t.equal(device.isDead, true);
  await rejectsEio(t, device.readAt(0, BLOCK), 'dead: read fails');
  await device.revive();
  t.ok((await device.readAt(0, BLOCK)).equals(fill(1)), 'flushed content is back');
  t.ok((await device.readAt(BLOCK, BLOCK)).equals(fill(0)), 'unflushed new block is gone');
  t.ok((await device.readAt(2 * BLOCK, BLOCK)).equals(fill(4)), 'FUA write survived');
  t.ok((await device.readAt(3 * BLOCK, BLOCK)).equals(fill(0)), 'partial write gone');
  const after = device.stats();
  t.equal(after.cachedBlocks, 0);
  t.equal(after.powerCuts, 1);
  t.equal(after.droppedBlocks, 3);

  // A second cut after another flush epoch goes back to the newest durable state only.
  await device.writeAt(0, fill(6));
  await device.flush();
  await device.writeAt(0, fill(7));
  await device.writeAt(0, fill(8));
  device.powerCut();
  device.revive();
  t.ok((await device.readAt(0, BLOCK)).equals(fill(6)), 'back to the last flushed content');
});

t.test('FaultyDevice: keepFraction 1 keeps everything', async (t) => {
  const device = openDevice(t);
  for (let i = 0; i < 16; i++) await device.writeAt(i * BLOCK, fill(i + 1));
  t.same(device.powerCut({ keepFraction: 1 }), { droppedBlocks: 0, keptBlocks: 16 });
  device.revive();
  for (let i = 0; i < 16; i++) {
    t.ok((await device.readAt(i * BLOCK, BLOCK)).equals(fill(i + 1)), `block ${i} kept`);
  }
  t.equal(device.stats().cachedBlocks, 0, 'survivors are durable now');
});

t.test('FaultyDevice: a seeded subset survives, the same one for the same seed', async (t) => {
  const blocks = 64;
  const survivors = async (seed: number): Promise<number[]> => {
    const device = openDevice(t);
    for (let i = 0; i < blocks; i++) await device.writeAt(i * BLOCK, fill(1));
    await device.flush();
    for (let i = 0; i < blocks; i++) await device.writeAt(i * BLOCK, fill(2));
    const result = device.powerCut({ keepFraction: 0.5, seed });
    device.revive();
    const kept: number[] = [];
    for (let i = 0; i < blocks; i++) {
      const data = await device.readAt(i * BLOCK, BLOCK);
      // Each block is all old or all new: loss is per 4 KiB block.
      t.ok(data.equals(fill(1)) || data.equals(fill(2)), `block ${i} is whole`);
      if (data.equals(fill(2))) kept.push(i);
    }
    t.equal(result.keptBlocks, kept.length);
    t.equal(result.droppedBlocks, blocks - kept.length);
    return kept;
  };
  const first = await survivors(42);
  const again = await survivors(42);
  const other = await survivors(7);
  t.same(again, first, 'same writes and seed: same survivors');
  t.ok(first.length > 0 && first.length < blocks, `a strict subset survived (${first.length})`);
  t.not(other.join(','), first.join(','), 'another seed picks other survivors');
});

t.test('FaultyDevice: injected errors hit exactly their ranges', async (t) => {
  const device = openDevice(t);
  await device.writeAt(0, fill(9, 4 * BLOCK));
  await device.flush();
  device.failRanges([{ startBytes: BLOCK, endBytes: 2 * BLOCK, ops: 'read' }]);
  await rejectsEio(t, device.readAt(BLOCK, BLOCK), 'read inside the range');
  await rejectsEio(t, device.readAt(BLOCK - 1, 2), 'read overlapping its start');
  await rejectsEio(t, device.readAt(2 * BLOCK - 1, 1), 'read of its last byte');
  t.ok((await device.readAt(0, BLOCK)).equals(fill(9)), 'read just before it works');
  t.ok((await device.readAt(2 * BLOCK, BLOCK)).equals(fill(9)), 'read just after it works');
  await device.writeAt(BLOCK, fill(10));
  t.pass('a read-only failure lets writes through');

  device.clearFailures();
  device.failRanges([{ startBytes: 2 * BLOCK, endBytes: 3 * BLOCK, ops: 'write' }]);
  await rejectsEio(t, device.writeAt(2 * BLOCK, fill(11)), 'write inside the range');
  await rejectsEio(t, device.writeZeroes(0, 4 * BLOCK), 'write-zeroes across it');
  await rejectsEio(t, device.trim(2 * BLOCK, BLOCK), 'trim on it');
  t.ok((await device.readAt(2 * BLOCK, BLOCK)).equals(fill(9)), 'failed writes changed nothing');
  await device.writeAt(3 * BLOCK, fill(12));
  t.pass('a write next to the range works');

  device.failRanges([{ startBytes: 0, endBytes: BLOCK, ops: 'all' }]);
  await rejectsEio(t, device.readAt(0, 1), "'all' fails reads");
  await rejectsEio(t, device.writeAt(0, fill(1, 1)), "'all' fails writes");
  t.equal(device.stats().failures.length, 2);
  t.throws(() => device.failRanges([{ startBytes: 5, endBytes: 5, ops: 'read' }]), {
    code: 'INVALID_ARGUMENT',
  });

  device.clearFailures();
  device.failAll('write');
  t.ok((await device.readAt(0, BLOCK)).equals(fill(9)), 'failAll(write) still reads');
  await rejectsEio(t, device.writeAt(5 * BLOCK, fill(1)), 'failAll(write) fails any write');
  await rejectsEio(t, device.flush(), 'a flush with cached blocks it cannot write fails');
  device.clearFailures();
  await device.flush();
  device.failAll('read');
  await rejectsEio(t, device.readAt(200 * BLOCK, BLOCK), 'failAll(read) fails any read');
  device.clearFailures();
  const errors = device.stats().injectedErrors;
  t.equal(errors.read, 5);
  t.equal(errors.write, 5);
  t.equal(errors.flush, 1);
});

t.test('FaultyDevice: a dead device fails everything until revive', async (t) => {
  const device = openDevice(t);
  device.powerCut();
  await rejectsEio(t, device.readAt(0, BLOCK), 'read');
  await rejectsEio(t, device.writeAt(0, fill(1)), 'write');
  await rejectsEio(t, device.writeAt(0, fill(1), true), 'FUA write');
  await rejectsEio(t, device.trim(0, BLOCK), 'trim');
  await rejectsEio(t, device.writeZeroes(0, BLOCK), 'write zeroes');
  await rejectsEio(t, device.flush(), 'flush');
  t.equal(device.stats().injectedErrors.dead, 6);
  t.equal(device.stats().dead, true);
  device.revive();
  await device.writeAt(0, fill(1), true);
  t.ok((await device.readAt(0, BLOCK)).equals(fill(1)), 'alive again');
});

t.test('serve.js: control channel, and it exits when its parent is gone', async (t) => {
  const dir = tempDir(t);
  // A stand-in parent that dies on command.
  const parent = spawn('sleep', ['600'], { stdio: 'ignore' });
  t.teardown(() => parent.kill('SIGKILL'));
  const server = spawn(
    process.execPath,
    [
      SERVE_JS,
      '--file',
      path.join(dir, 'disk.img'),
      '--size',
      '1MiB',
      '--socket',
      path.join(dir, 'nbd.sock'),
      '--control',
      path.join(dir, 'control.sock'),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, BALLAST_PARENT_PID: String(parent.pid) },
    },
  );
  t.teardown(() => server.kill('SIGKILL'));
  const exited = new Promise<number | null>((resolve) =>
    server.on('exit', (code) => resolve(code)),
  );
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let text = '';
    server.stdout!.setEncoding('utf8').on('data', (d: string) => {
      text += d;
      if (text.includes('\n')) resolve(JSON.parse(text.split('\n')[0]!) as Record<string, unknown>);
    });
    server.on('exit', (code) => reject(new Error(`server exited (${code}) before ready`)));
  });
  t.equal(ready.ready, true);
  t.equal(ready.sizeBytes, MiB);

  const control = new ControlClient(path.join(dir, 'control.sock'));
  await control.fail({ ranges: [{ startBytes: 0, endBytes: BLOCK, ops: 'read' }] });
  await control.fail({ all: 'write' });
  t.equal((await control.stats()).device.failures.length, 2);
  await t.rejects(
    control.fail({ ranges: [{ startBytes: 9, endBytes: 1, ops: 'read' }] }),
    /400/,
    'a bad range is refused',
  );
  await control.clear();
  t.same(await control.powerCut({ keepFraction: 1, seed: 3 }), {
    droppedBlocks: 0,
    keptBlocks: 0,
  });
  t.equal((await control.stats()).device.dead, true);
  await control.revive();
  const stats = await control.stats();
  t.equal(stats.device.dead, false);
  t.equal(stats.device.failures.length, 0);
  t.equal(stats.nbd.exports.length, 1, 'the export is back after revive');

  parent.kill('SIGKILL');
  t.equal(await exited, 0, 'the server exits by itself once its parent is gone');
});

t.test('FaultDisk with ext4', { skip: rootReason }, async (t) => {
  const dir = tempDir(t);
  const mountPoint = path.join(dir, 'mnt');
  // create() undoes its own partial work when it fails.
  const disk = await FaultDisk.create({ dir, sizeBytes: 256 * MiB, mountPoint, label: 'torture' });
  t.teardown(() => disk.destroy());
  t.ok(disk.loopDevice?.startsWith('/dev/loop'), `attached as ${disk.loopDevice}`);
  t.ok(disk.isMounted);
  const mount = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[4] === mountPoint);
  t.match(mount, / - ext4 /, 'ext4 is mounted at the mount point');

  await t.test('power cut: fsynced files survive, the rest may not', async (t) => {
    const data = path.join(mountPoint, 'data');
    fs.mkdirSync(data);
    const durable = new Map<string, string>();
    for (let i = 0; i < 4; i++) {
      const file = path.join(data, `durable-${i}`);
      const content = randomBytes(256 * 1024 + i * 1000);
      const fd = fs.openSync(file, 'w');
      fs.writeSync(fd, content);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      durable.set(file, sha(content));
    }
    // The directory entries are durable only once the directory is synced.
    const dirFd = fs.openSync(data, 'r');
    fs.fsyncSync(dirFd);
    fs.closeSync(dirFd);
    for (let i = 0; i < 4; i++) {
      fs.writeFileSync(path.join(data, `volatile-${i}`), randomBytes(128 * 1024));
    }
    // O_DIRECT writes reach the device at once, without a flush: they sit in its cache.
    const dd = await run('dd', [
      'if=/dev/urandom',
      `of=${path.join(data, 'direct')}`,
      'bs=1M',
      'count=4',
      'oflag=direct',
    ]);
    t.equal(dd.code, 0, dd.stderr);
    const before = await disk.stats();
    t.ok(before.device.cachedBytes > 0, `${before.device.cachedBytes} bytes cached at the cut`);

    const cut = await disk.powerCut();
    t.ok(cut.droppedBlocks > 0, `${cut.droppedBlocks} unflushed blocks dropped`);
    t.equal(cut.keptBlocks, 0);
    t.not(cut.fsck.preen.code, null, 'e2fsck ran');
    t.equal(cut.fsck.uncorrected, false, `fsck: ${cut.fsck.preen.output}`);
    t.comment(`fsck after the cut: exit ${cut.fsck.preen.code}: ${cut.fsck.preen.output}`);
    t.ok(disk.isMounted, 'mounted again');
    for (const [file, hash] of durable) {
      t.equal(sha(fs.readFileSync(file)), hash, `${path.basename(file)} is intact`);
    }
    const left = fs.readdirSync(data).filter((n) => !n.startsWith('durable-'));
    t.comment(`unsynced files left after the cut: ${left.join(', ') || 'none'}`);
    const after = await disk.stats();
    t.equal(after.device.powerCuts, 1);
    t.equal(after.device.dead, false);
  });

  await t.test('power cut keeping every cached block', async (t) => {
    const file = path.join(mountPoint, 'kept');
    const content = randomBytes(2 * MiB);
    fs.writeFileSync(file, content);
    // syncfs makes it durable with its metadata; then an O_DIRECT overwrite stays cached.
    t.equal((await run('sync', ['-f', file])).code, 0);
    // An O_DIRECT overwrite of its first MiB reaches the device without a flush.
    const update = randomBytes(MiB);
    const source = path.join(dir, 'update.bin');
    fs.writeFileSync(source, update);
    const dd = await run('dd', [
      `if=${source}`,
      `of=${file}`,
      'bs=1M',
      'count=1',
      'oflag=direct',
      'conv=notrunc',
    ]);
    t.equal(dd.code, 0, dd.stderr);
    fs.rmSync(source);
    t.ok((await disk.stats()).device.cachedBytes >= MiB, 'the overwrite is cached');
    const cut = await disk.powerCut({ keepFraction: 1 });
    t.equal(cut.droppedBlocks, 0);
    t.ok(cut.keptBlocks > 0, `${cut.keptBlocks} cached blocks kept`);
    const expected = Buffer.concat([update, content.subarray(MiB)]);
    t.equal(sha(fs.readFileSync(file)), sha(expected), 'the unflushed overwrite survived');
  });

  await t.test('failRanges on a file read fails that file only', async (t) => {
    const file = path.join(mountPoint, 'target');
    const other = path.join(mountPoint, 'other');
    for (const f of [file, other]) {
      const fd = fs.openSync(f, 'w');
      fs.writeSync(fd, randomBytes(256 * 1024));
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    }
    const extents = await disk.extentsOf(file);
    t.ok(extents.length > 0, `extents ${JSON.stringify(extents)}`);
    await disk.failRanges(extents.map((e) => ({ ...e, ops: 'read' as const })));
    // O_DIRECT reads skip the page cache and go through loop and FUSE to the device.
    const bad = await run('dd', [`if=${file}`, 'of=/dev/null', 'bs=64K', 'iflag=direct']);
    t.not(bad.code, 0, 'reading the file fails');
    t.match(bad.stderr, /Input\/output error/);
    const good = await run('dd', [`if=${other}`, 'of=/dev/null', 'bs=64K', 'iflag=direct']);
    t.equal(good.code, 0, `another file reads fine ${good.stderr}`);
    await disk.clearFailures();
    const again = await run('dd', [`if=${file}`, 'of=/dev/null', 'bs=64K', 'iflag=direct']);
    t.equal(again.code, 0, 'readable again once cleared');
    t.ok((await disk.stats()).device.injectedErrors.read > 0);
  });

  await t.test('failAll(write): fsync fails with EIO; clear + power cut recovers', async (t) => {
    const keep = path.join(mountPoint, 'before-errors');
    const keepContent = randomBytes(64 * 1024);
    const fd0 = fs.openSync(keep, 'w');
    fs.writeSync(fd0, keepContent);
    fs.fsyncSync(fd0);
    fs.closeSync(fd0);

    await disk.failAll('write');
    const fd = fs.openSync(path.join(mountPoint, 'during-errors'), 'w');
    fs.writeSync(fd, randomBytes(64 * 1024));
    t.throws(() => fs.fsyncSync(fd), { code: 'EIO' }, 'fsync reports the write error');
    fs.closeSync(fd);
    // A journal commit now fails too; with errors=remount-ro ext4 then turns read-only.
    const syncfs = await run('sync', ['-f', mountPoint]);
    let mkdirError = 'none';
    try {
      fs.mkdirSync(path.join(mountPoint, 'new-dir'));
    } catch (err) {
      mkdirError = (err as NodeJS.ErrnoException).code ?? String(err);
    }
    // ext4 aborted its journal at the failed commit: metadata changes are refused from then on.
    t.ok(['EROFS', 'EIO'].includes(mkdirError), `mkdir after the failed commit: ${mkdirError}`);
    // The superblock's options (after " - "): ext4 sets ro there when it remounts read-only.
    const superOptions = fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[4] === mountPoint)
      ?.split(' - ')[1];
    t.comment(
      `after failed writes: syncfs exit ${syncfs.code} (${syncfs.stderr.trim()}); ` +
        `mkdir: ${mkdirError}; superblock: ${superOptions}`,
    );
    const stats = await disk.stats();
    t.ok(
      stats.device.injectedErrors.write > 0,
      `${stats.device.injectedErrors.write} writes failed`,
    );

    await disk.clearFailures();
    const cut = await disk.powerCut();
    t.equal(cut.fsck.uncorrected, false, 'fsck repaired what the errors left');
    t.comment(
      `fsck after the errors: ${cut.fsck.preen.code}: ${cut.fsck.preen.output}` +
        (cut.fsck.full ? ` / -y: ${cut.fsck.full.code}: ${cut.fsck.full.output}` : ''),
    );
    t.equal(
      sha(fs.readFileSync(keep)),
      sha(keepContent),
      'data synced before the errors is intact',
    );
    const fd2 = fs.openSync(path.join(mountPoint, 'after-errors'), 'w');
    fs.writeSync(fd2, randomBytes(64 * 1024));
    fs.fsyncSync(fd2);
    fs.closeSync(fd2);
    t.pass('writable again');
  });

  await t.test('fill makes writes fail with ENOSPC; unfill frees the space', async (t) => {
    const filled = await disk.fill();
    t.ok(filled.fillerBytes > 0, `filler takes ${filled.fillerBytes} bytes`);
    t.comment(`free after fill: ${filled.freeBytes} bytes`);
    const file = path.join(mountPoint, 'no-room');
    t.throws(() => fs.writeFileSync(file, randomBytes(MiB)), { code: 'ENOSPC' });
    t.throws(() => fs.writeFileSync(file, randomBytes(4096)), { code: 'ENOSPC' }, 'one block too');
    fs.rmSync(file, { force: true });
    await disk.unfill();
    const fd = fs.openSync(file, 'w');
    fs.writeSync(fd, randomBytes(MiB));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    t.pass('room again after unfill');
  });

  await t.test('a power cut while something holds the mount', async (t) => {
    // Not what callers should do (they kill the node first), but it must not wedge anything.
    const holder = spawn('sleep', ['600'], { cwd: mountPoint, stdio: 'ignore' });
    t.teardown(() => holder.kill('SIGKILL'));
    await waitFor('holder to start', () => holder.pid !== undefined);
    const oldLoop = disk.loopDevice!;
    const cut = await disk.powerCut();
    t.ok(
      cut.notes.some((n) => n.includes('lazily')),
      `busy filesystem unmounted lazily: ${cut.notes.join(' | ')}`,
    );
    t.ok(disk.isMounted, 'mounted again');
    t.not(disk.loopDevice, oldLoop, 'on a new loop device');
    fs.writeFileSync(path.join(mountPoint, 'after-busy'), 'ok');
    holder.kill('SIGKILL');
    // The old filesystem and its loop device (auto-clear, its file now reads as /nbd after the
    // lazy FUSE unmount) go once the holder lets go of them.
    await waitFor(`${oldLoop} to go`, async () => {
      const listed = await run('losetup', ['--list', '--noheadings', '--output', 'NAME,BACK-FILE']);
      return !listed.stdout
        .split('\n')
        .some((l) => l.trim().split(/\s+/)[0] === oldLoop && /(^|\s)(\/nbd|\S*fault-disk)/.test(l));
    });
    const left = await leftoversUnder(dir);
    t.equal(left.loops.length, 1, 'only the new loop device is on the disk');
    t.equal(left.processes.length, 2, 'the server and the new nbdfuse run, nothing else');
  });

  await t.test('destroy leaves nothing behind', async (t) => {
    await disk.destroy();
    await disk.destroy();
    t.pass('destroy is idempotent');
    const left = await leftoversUnder(dir);
    t.same(left, { mounts: [], loops: [], processes: [] }, 'no mount, loop device or process');
    const losetup = await run('losetup', ['-a']);
    t.notMatch(losetup.stdout, dir, 'losetup -a does not name the disk');
    t.notMatch(fs.readFileSync('/proc/mounts', 'utf8'), dir, '/proc/mounts does not either');
    t.same(
      fs.readdirSync(dir).filter((n) => n !== 'mnt'),
      [],
      'its files are removed',
    );
    await t.rejects(disk.powerCut(), /destroyed/);
  });
});

t.test('FaultDisk: destroy after the server died', { skip: rootReason }, async (t) => {
  const dir = tempDir(t);
  const mountPoint = path.join(dir, 'mnt');
  const disk = await FaultDisk.create({ dir, sizeBytes: 64 * MiB, mountPoint });
  t.teardown(() => disk.destroy());
  fs.writeFileSync(path.join(mountPoint, 'x'), 'x');
  const server = (await leftoversUnder(dir)).processes.find((p) => p.includes('serve.js'));
  t.ok(server, 'the server runs');
  process.kill(Number(server!.split(':')[0]), 'SIGKILL');
  await t.rejects(disk.powerCut(), 'a power cut without a server fails');
  await disk.destroy();
  t.same(await leftoversUnder(dir), { mounts: [], loops: [], processes: [] }, 'nothing left');
});

t.test(
  'FaultDisk.removeStale cleans up after a process that died',
  { skip: rootReason },
  async (t) => {
    const dir = tempDir(t);
    const mountPoint = path.join(dir, 'mnt');
    // A child process makes a disk and is SIGKILLed without destroying it.
    const script = `
    import { FaultDisk } from ${JSON.stringify(new URL('../src/index.js', import.meta.url).href)};
    await FaultDisk.create({ dir: ${JSON.stringify(dir)}, sizeBytes: ${64 * MiB}, mountPoint: ${JSON.stringify(mountPoint)} });
    process.stdout.write('up\\n');
    setInterval(() => {}, 1000);
  `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // Teardowns run last-registered first: the child goes before its leftovers are removed.
    t.teardown(() => FaultDisk.removeStale(dir));
    t.teardown(() => child.kill('SIGKILL'));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        if (d.includes('up')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`child exited (${code})`)));
    });
    t.ok((await leftoversUnder(dir)).mounts.length >= 2, 'the child left mounts');
    child.kill('SIGKILL');
    await FaultDisk.removeStale(dir);
    // Its server notices its parent is gone on its own; removeStale does not wait for that.
    await waitFor(
      'the server to exit',
      async () => (await leftoversUnder(dir)).processes.length === 0,
    );
    t.same(await leftoversUnder(dir), { mounts: [], loops: [], processes: [] }, 'nothing left');
  },
);

t.test(
  'FaultDisk: an owner that exits without destroy releases the disk',
  { skip: rootReason },
  async (t) => {
    const dir = tempDir(t);
    const mountPoint = path.join(dir, 'mnt');
    // SIGTERM ends it through testkit's exit hook, as a tap timeout would.
    const script = `
    import { FaultDisk } from ${JSON.stringify(new URL('../src/index.js', import.meta.url).href)};
    await FaultDisk.create({ dir: ${JSON.stringify(dir)}, sizeBytes: ${64 * MiB}, mountPoint: ${JSON.stringify(mountPoint)} });
    process.stdout.write('up\\n');
    setInterval(() => {}, 1000);
  `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    t.teardown(() => FaultDisk.removeStale(dir));
    t.teardown(() => child.kill('SIGKILL'));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        if (d.includes('up')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`child exited (${code})`)));
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    await waitFor('the disk to be released', async () => {
      const left = await leftoversUnder(dir);
      return left.mounts.length + left.loops.length + left.processes.length === 0;
    });
    t.pass('no mount, loop device or process left');
  },
);
