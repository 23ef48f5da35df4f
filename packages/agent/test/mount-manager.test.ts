// MountManager against the real pipeline: LocalFileBackend -> relay process -> nbdfuse -> loop
// -> mkfs -> mount. Needs root, /dev/fuse and loop devices. Every test ends by checking that
// nothing (mount, loop device, process) is left under its temp dir.
//
// The backend's NBD server runs in this test process, so every file operation on a mounted
// volume here must be asynchronous (fs.promises): a synchronous one blocks the event loop that
// has to serve the very I/O it waits for, and the test deadlocks.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { isBallastError } from '@ballast/common';
import { parseVolumeOptions } from '../src/index.js';
import { needsRoot, run, tempDir } from './helpers/env.js';
import { makeStack } from './helpers/stack.js';

const MiB = 1024 * 1024;

function mountsAt(mountPath: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.split(' ')[4] === mountPath);
}

function md5(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

async function uuidOf(device: string): Promise<string> {
  const probe = await run('blkid', ['-p', '-s', 'UUID', '-o', 'value', device]);
  return probe.stdout.trim();
}

if (needsRoot(t)) {
  t.test(
    'create + mount (1 GiB), write, unmount, mount again: files intact, not reformatted',
    async (t) => {
      const dir = tempDir(t);
      const stack = await makeStack(t, dir);
      const started = Date.now();
      await stack.backend.create('vol1', parseVolumeOptions({ size: '1GiB' }));
      const mountPath = await stack.mounts.mount('vol1', 'id-a');
      const elapsedMs = Date.now() - started;
      t.comment(`create + first mount (mkfs) of a 1 GiB ext4 volume took ${elapsedMs} ms`);
      t.equal(mountPath, path.join(dir, 'mnt', 'vol1'));
      const [line] = mountsAt(mountPath);
      t.ok(line, 'mounted');
      t.match(line!, / - ext4 \/dev\/loop\d+ /, 'ext4 on a loop device');
      t.match(line!, /noatime/, 'noatime');
      t.match(line!, /errors=remount-ro/, 'errors=remount-ro');
      const mounted = stack.lines.find((l) => l.msg === 'volume mounted');
      t.equal(mounted?.obj.formatted, true, 'formatted on first use');
      const device = stack.mounts.status('vol1')!.devicePath!;
      const uuid = await uuidOf(device);
      t.match(uuid, /^[0-9a-f-]{36}$/);

      const files = new Map<string, string>();
      for (let i = 0; i < 10; i++) {
        const data = randomBytes(1000 + i * 100_000);
        files.set(`f${i}.bin`, md5(data));
        await fs.promises.writeFile(path.join(mountPath, `f${i}.bin`), data);
      }
      await stack.mounts.unmount('vol1', 'id-a');
      t.same(mountsAt(mountPath), [], 'unmounted after the last reference');
      t.equal(
        (await stack.backend.get('vol1')).attachment,
        undefined,
        'backend attachment released',
      );

      const again = await stack.mounts.mount('vol1', 'id-b');
      t.equal(again, mountPath, 'same mount path');
      const second = stack.lines.filter((l) => l.msg === 'volume mounted')[1];
      t.equal(second?.obj.formatted, false, 'not formatted again');
      t.equal(await uuidOf(stack.mounts.status('vol1')!.devicePath!), uuid, 'same filesystem UUID');
      let intact = 0;
      for (const [name, sum] of files) {
        if (md5(await fs.promises.readFile(path.join(mountPath, name))) === sum) intact++;
      }
      t.equal(intact, files.size, 'every file intact');
      await stack.mounts.unmount('vol1', 'id-b');
      const fsck = await run('e2fsck', ['-f', '-n', stack.backend.imagePath('vol1')]);
      t.equal(fsck.code, 0, `e2fsck clean: ${fsck.stdout}${fsck.stderr}`);
      t.same(
        await stack.shutdown(),
        { mounts: [], loops: [], processes: [] },
        'nothing left behind',
      );
    },
  );

  t.test(
    'mount references: two IDs share one mount, one ID twice needs two unmounts',
    async (t) => {
      const dir = tempDir(t);
      const stack = await makeStack(t, dir);
      await stack.backend.create('shared', parseVolumeOptions({ size: '64MiB' }));
      const a = await stack.mounts.mount('shared', 'A');
      const b = await stack.mounts.mount('shared', 'B');
      t.equal(a, b, 'both containers get the same mount point');
      t.equal(mountsAt(a).length, 1, 'one filesystem mount');
      await fs.promises.writeFile(path.join(a, 'x'), 'from A');
      t.equal(await fs.promises.readFile(path.join(b, 'x'), 'utf8'), 'from A');
      await stack.mounts.unmount('shared', 'A');
      t.equal(mountsAt(a).length, 1, 'still mounted while B holds it');
      await stack.mounts.unmount('shared', 'A');
      t.equal(mountsAt(a).length, 1, 'a repeated unmount of A changes nothing');
      await stack.mounts.unmount('shared', 'never-mounted');
      t.equal(mountsAt(a).length, 1, 'an unknown ID changes nothing');
      await stack.mounts.unmount('shared', 'B');
      t.same(mountsAt(a), [], 'the last reference unmounts');

      await stack.mounts.mount('shared', 'C');
      await stack.mounts.mount('shared', 'C');
      t.equal(stack.mounts.status('shared')!.mountIds, 2, 'same ID counted twice');
      await stack.mounts.unmount('shared', 'C');
      t.equal(mountsAt(a).length, 1, 'one unmount of C is not enough');
      await stack.mounts.unmount('shared', 'C');
      t.same(mountsAt(a), [], 'the second one releases it');
      const state = JSON.parse(fs.readFileSync(path.join(dir, 'state', 'mounts.json'), 'utf8')) as {
        volumes: object;
      };
      t.same(state.volumes, {}, 'persisted state is empty');
      t.same(
        await stack.shutdown(),
        { mounts: [], loops: [], processes: [] },
        'nothing left behind',
      );
    },
  );

  t.test('xfs: formatted once, files survive a remount', async (t) => {
    const dir = tempDir(t);
    const stack = await makeStack(t, dir);
    await stack.backend.create('x1', parseVolumeOptions({ size: '320MiB', fs: 'xfs' }));
    const p = await stack.mounts.mount('x1', 'id');
    t.match(mountsAt(p)[0]!, / - xfs \/dev\/loop\d+ /, 'xfs mounted');
    const data = randomBytes(3 * MiB);
    await fs.promises.writeFile(path.join(p, 'data'), data);
    await stack.mounts.unmount('x1', 'id');
    await stack.mounts.mount('x1', 'id2');
    t.equal(md5(await fs.promises.readFile(path.join(p, 'data'))), md5(data), 'file intact');
    const formatted = stack.lines
      .filter((l) => l.msg === 'volume mounted')
      .map((l) => l.obj.formatted);
    t.same(formatted, [true, false], 'formatted on first use only');
    await stack.mounts.unmount('x1', 'id2');
    const check = await run('xfs_repair', ['-n', stack.backend.imagePath('x1')]);
    t.equal(check.code, 0, `xfs_repair -n clean: ${check.stderr}`);
    t.same(await stack.shutdown(), { mounts: [], loops: [], processes: [] }, 'nothing left behind');
  });

  t.test('a device holding something else is never formatted or mounted', async (t) => {
    const dir = tempDir(t);
    const stack = await makeStack(t, dir);
    await stack.backend.create('swapvol', parseVolumeOptions({ size: '32MiB' }));
    const image = stack.backend.imagePath('swapvol');
    const mkswap = await run('mkswap', [image]);
    t.equal(mkswap.code, 0, mkswap.stderr);
    const before = fs.readFileSync(image).subarray(0, 8192);
    try {
      await stack.mounts.mount('swapvol', 'id');
      t.fail('mounted a swap device');
    } catch (err) {
      t.ok(isBallastError(err, 'CONFLICT'), 'CONFLICT');
      t.match((err as Error).message, /swap filesystem.*never reformats/);
    }
    t.ok(fs.readFileSync(image).subarray(0, 8192).equals(before), 'the device is untouched');
    t.equal(stack.mounts.status('swapvol'), undefined, 'no record left');
    t.equal((await stack.backend.get('swapvol')).attachment, undefined, 'attachment released');
    t.same(await stack.shutdown(), { mounts: [], loops: [], processes: [] }, 'nothing left behind');
  });

  t.test('a step failing half-way undoes every earlier step', async (t) => {
    const dir = tempDir(t);
    const stack = await makeStack(t, dir);
    await stack.backend.create('blocked', parseVolumeOptions({ size: '32MiB' }));
    // A file where the mount point should be: mkdir fails after attach, relay, nbdfuse, loop
    // and mkfs have all been done.
    fs.mkdirSync(path.join(dir, 'mnt'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'mnt', 'blocked'), 'in the way');
    await t.rejects(stack.mounts.mount('blocked', 'id'));
    t.equal(stack.mounts.status('blocked'), undefined, 'no record left');
    t.equal((await stack.backend.get('blocked')).attachment, undefined, 'attachment released');
    t.same(
      { ...(await stack.shutdown()) },
      { mounts: [], loops: [], processes: [] },
      'no mount, loop device, nbdfuse or relay left',
    );
    fs.rmSync(path.join(dir, 'mnt', 'blocked'));
  });

  t.test('bad requests change nothing', async (t) => {
    const dir = tempDir(t);
    const stack = await makeStack(t, dir);
    await t.rejects(stack.mounts.mount('nosuch', 'id'), { code: 'NOT_FOUND' });
    await t.rejects(stack.mounts.unmount('nosuch', 'id'), { code: 'NOT_FOUND' });
    await t.rejects(stack.mounts.mount('../etc', 'id'), { code: 'INVALID_ARGUMENT' });
    await t.rejects(stack.mounts.mount('ok', ''), { code: 'INVALID_ARGUMENT' });
    t.same(stack.mounts.volumes(), []);
    t.same(await stack.shutdown(), { mounts: [], loops: [], processes: [] });
  });

  t.test('a busy filesystem is not torn down; a later call finishes the job', async (t) => {
    const dir = tempDir(t);
    const stack = await makeStack(t, dir);
    await stack.backend.create('busy', parseVolumeOptions({ size: '32MiB' }));
    const p = await stack.mounts.mount('busy', 'id');
    const handle = await fs.promises.open(path.join(p, 'open-file'), 'w');
    try {
      await stack.mounts.unmount('busy', 'id');
      t.fail('unmounted a busy filesystem');
    } catch (err) {
      t.match((err as Error).message, /busy/);
    }
    t.equal(mountsAt(p).length, 1, 'still mounted');
    await handle.writeFile('still writable');
    await handle.close();
    await stack.mounts.unmount('busy', 'id');
    t.same(mountsAt(p), [], 'the retried unmount finished the teardown');
    t.same(await stack.shutdown(), { mounts: [], loops: [], processes: [] });
  });
}
