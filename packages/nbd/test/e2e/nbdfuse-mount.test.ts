// The attach path used on hosts without the nbd module (protocols.md C.5): nbdfuse exposes the
// export as a file, a loop device sits on it, ext4 goes on that and is mounted. Needs root,
// /dev/fuse and loop devices. Everything is undone in teardown, also when a step fails.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { FileBlockDevice, NbdServer } from '../../src/index.js';
import { captureLogger, nbdUri, run, tempDir, waitFor } from '../helpers/env.js';

const SIZE = 256 * 1024 * 1024;

t.test('nbdfuse + losetup + mkfs.ext4 + mount: files survive a remount', async (t) => {
  if (process.getuid?.() !== 0 || !fs.existsSync('/dev/fuse')) {
    t.fail('this test needs root and /dev/fuse');
    return;
  }
  const dir = tempDir(t);
  const socketPath = path.join(dir, 'nbd.sock');
  const { logger, lines } = captureLogger();
  const server = new NbdServer({ logger });
  const device = await FileBlockDevice.open(path.join(dir, 'vol.img'), {
    sizeBytes: SIZE,
    create: true,
  });
  server.addExport('vol', device, { multiConn: true });
  await server.listenUnix(socketPath);

  const fuseDir = path.join(dir, 'fuse');
  const mountDir = path.join(dir, 'mnt');
  fs.mkdirSync(fuseDir);
  fs.mkdirSync(mountDir);
  const pidFile = path.join(dir, 'nbdfuse.pid');
  const state: { loop: string | undefined; mounted: boolean } = { loop: undefined, mounted: false };
  // Teardown runs in reverse order of registration: unmount, detach loop, unmount fuse, stop.
  t.teardown(async () => {
    await server.close();
    await device.close();
  });
  const fuse = run('nbdfuse', ['-P', pidFile, fuseDir, nbdUri(socketPath, 'vol')], {
    timeoutMs: 600_000,
  });
  t.teardown(async () => {
    await run('fusermount3', ['-u', fuseDir]);
    await fuse;
  });
  t.teardown(async () => {
    if (state.loop !== undefined) await run('losetup', ['-d', state.loop]);
  });
  t.teardown(async () => {
    if (state.mounted) await run('umount', [mountDir]);
  });

  await waitFor(() => fs.existsSync(pidFile), 'nbdfuse to come up', 30_000);
  const image = path.join(fuseDir, 'nbd');
  t.equal((await fs.promises.stat(image)).size, SIZE, 'nbdfuse shows the export as a file');

  const attach = await run('losetup', ['--find', '--show', image]);
  t.equal(attach.code, 0, attach.stderr);
  const loop = attach.stdout.trim();
  state.loop = loop;
  t.match(loop, /^\/dev\/loop\d+$/);

  const mkfs = await run('mkfs.ext4', ['-q', '-F', loop], { timeoutMs: 300_000 });
  t.equal(mkfs.code, 0, mkfs.stderr);

  const files = new Map<string, Buffer>();
  for (let i = 0; i < 20; i++) files.set(`file-${i}.bin`, randomBytes(1000 + i * 50_000));
  files.set('big.bin', randomBytes(16 * 1024 * 1024));

  const mount = await run('mount', [loop, mountDir]);
  t.equal(mount.code, 0, mount.stderr);
  state.mounted = true;
  for (const [name, data] of files) await fs.promises.writeFile(path.join(mountDir, name), data);
  const umount = await run('umount', [mountDir]);
  t.equal(umount.code, 0, umount.stderr);
  state.mounted = false;

  const again = await run('mount', [loop, mountDir]);
  t.equal(again.code, 0, again.stderr);
  state.mounted = true;
  let intact = 0;
  for (const [name, data] of files) {
    if ((await fs.promises.readFile(path.join(mountDir, name))).equals(data)) intact++;
  }
  t.equal(intact, files.size, 'every file reads back intact after a remount');
  const last = await run('umount', [mountDir]);
  t.equal(last.code, 0, last.stderr);
  state.mounted = false;
  const check = await run('e2fsck', ['-f', '-n', loop], { timeoutMs: 300_000 });
  t.equal(check.code, 0, `e2fsck is clean: ${check.stdout}${check.stderr}`);

  const stats = server.stats().exports[0]!.commands;
  t.ok(
    stats.write.ops > 0 && stats.read.ops > 0 && stats.flush.ops > 0,
    'reads, writes and flushes went through NBD',
  );
  t.same(
    lines.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => l.msg),
    [],
    'no warnings from the server',
  );
});
