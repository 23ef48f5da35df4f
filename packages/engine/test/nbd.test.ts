// The engine behind @ballast/nbd's server on a unix socket (replicas are in-process chunk stores
// here; test/e2e runs the same over the TCP data plane), driven by real NBD clients: fio with
// crc32c verify while a replica starts failing, nbdcopy over 4 connections (multi-conn) in and
// out, and qemu-io processes writing and reading on different connections.
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { NbdServer } from '@ballast/nbd';
import { LocalCluster, type Teardown } from './helpers/cluster.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const SIZE = 64 * MiB;
const CHUNK = MiB;

async function serve(t: Teardown, cluster: LocalCluster) {
  const epoch = await cluster.attach();
  const engine = await cluster.openEngine(epoch);
  const server = new NbdServer();
  server.addExport('vol', engine, { multiConn: true, description: 'replicated volume' });
  const socket = join(cluster.dir, 'nbd.sock');
  await server.listenUnix(socket, { defaultExport: 'vol' });
  t.teardown(async () => {
    await server.close();
    await engine.close();
  });
  return { engine, server, uri: `nbd+unix:///vol?socket=${socket}` };
}

t.test('fio verifies its data while a replica fails mid-run', async (t) => {
  const cluster = await LocalCluster.create(t, {
    nodes: 3,
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
  });
  const { engine, uri } = await serve(t, cluster);
  // n3 starts failing writes after its 2000th call.
  cluster.decide = (c) =>
    c.nodeId === 'n3' && c.kind === 'write' && c.seq > 2000
      ? { type: 'fail', kind: 'io', applied: c.seq % 2 === 0 }
      : { type: 'none' };
  const { stdout } = await run(
    'fio',
    [
      '--name=verify',
      '--ioengine=nbd',
      `--uri=${uri}`,
      '--rw=randwrite',
      '--bs=4k',
      '--iodepth=32',
      '--size=24M',
      '--verify=crc32c',
      '--do_verify=1',
      '--verify_fatal=1',
      '--verify_state_save=0',
      '--output-format=json',
    ],
    { maxBuffer: 16 * MiB },
  );
  const job = (JSON.parse(stdout.slice(stdout.indexOf('{'))) as { jobs: Array<{ error: number }> })
    .jobs[0]!;
  t.equal(job.error, 0, 'fio wrote and verified without an error');
  t.same(cluster.inSyncNodes(), ['n1', 'n2'], 'n3 left the set');
  t.equal(engine.stats().replicasMarkedOutOfSync, 1);
  await engine.flush();
  t.ok(cluster.contents('n1').equals(cluster.contents('n2')), 'the remaining replicas agree');
});

t.test('nbdcopy over 4 connections in and out; qemu-io across connections', async (t) => {
  const cluster = await LocalCluster.create(t, {
    nodes: 2,
    sizeBytes: SIZE,
    chunkSizeBytes: CHUNK,
  });
  const { uri } = await serve(t, cluster);
  const source = join(cluster.dir, 'source.img');
  const back = join(cluster.dir, 'back.img');
  const data = Buffer.alloc(SIZE);
  randomFillSync(data, 0, 16 * MiB);
  randomFillSync(data, 40 * MiB, 3 * MiB);
  writeFileSync(source, data);
  const info = await run('nbdinfo', [uri]);
  t.match(info.stdout, /can_multi_conn: true/, 'the export advertises multi-conn');
  await run('nbdcopy', ['--connections=4', '--flush', source, uri]);
  await run('nbdcopy', ['--connections=4', uri, back]);
  t.ok(readFileSync(back).equals(data), 'what nbdcopy wrote over 4 connections reads back');
  t.ok(
    cluster.contents('n1').equals(data) && cluster.contents('n2').equals(data),
    'both replicas hold it',
  );

  // Different processes, different connections: a write (no FUA) and a flush on one, a read on
  // another sees it.
  await run('qemu-io', [
    '-f',
    'raw',
    '-t',
    'none',
    uri,
    '-c',
    `write -P 0x33 ${5 * MiB + 100} 5000`,
    '-c',
    'flush',
  ]);
  const read = await run('qemu-io', ['-f', 'raw', uri, '-c', `read -P 0x33 ${5 * MiB + 100} 5000`]);
  t.match(read.stdout, /read 5000\/5000 bytes/);
  const wrong = run('qemu-io', ['-f', 'raw', uri, '-c', `read -P 0x34 ${5 * MiB + 100} 5000`]);
  await t.rejects(wrong, 'a different pattern does not match');
});
