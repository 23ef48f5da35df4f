// The clients nobody here wrote (libnbd tools, qemu, fio, nbd-client) against our server with
// FileBlockDevice exports in a temp dir. These are the conformance suite the design names.
import { createHash, randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { FileBlockDevice, MemoryBlockDevice, NbdServer } from '../src/index.js';
import {
  captureLogger,
  nbdUri,
  run,
  tempDir,
  waitFor,
  type LogLine,
  type Teardown,
} from './helpers/env.js';

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;

async function setup(t: Teardown) {
  const dir = tempDir(t);
  const socketPath = path.join(dir, 'nbd.sock');
  const { logger, lines } = captureLogger();
  const server = new NbdServer({ logger });
  const disk = await FileBlockDevice.open(path.join(dir, 'disk.img'), {
    sizeBytes: SIZE,
    create: true,
  });
  const shared = await FileBlockDevice.open(path.join(dir, 'shared.img'), {
    sizeBytes: SIZE,
    create: true,
  });
  server.addExport('disk', disk, { description: 'plain file' });
  server.addExport('shared', shared, { description: 'shared file', multiConn: true });
  server.addExport('sparse', new MemoryBlockDevice(SIZE), { description: 'memory' });
  server.addExport('ro', new MemoryBlockDevice(SIZE), { readOnly: true });
  await server.listenUnix(socketPath);
  t.teardown(async () => {
    await server.close();
    await disk.close();
    await shared.close();
  });
  return { dir, socketPath, server, lines, uri: (name: string) => nbdUri(socketPath, name) };
}

/** Real clients must never trip a protocol check: no warning may have been logged. */
function noWarnings(
  t: { same: (a: unknown, b: unknown, m: string) => void },
  lines: LogLine[],
): void {
  t.same(
    lines.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => l.msg),
    [],
    'the server logged no warnings',
  );
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function handshakes(server: NbdServer, name: string): number {
  return server.stats().exports.find((e) => e.name === name)!.connections;
}

t.test('nbdinfo reports size, flags, block sizes; --list and --map work', async (t) => {
  const { uri, socketPath, lines } = await setup(t);
  const info = await run('nbdinfo', ['--json', uri('disk')]);
  t.equal(info.code, 0, info.stderr);
  const parsed = JSON.parse(info.stdout);
  t.equal(parsed.protocol, 'newstyle-fixed');
  t.equal(parsed.TLS, false);
  const disk = parsed.exports[0];
  t.equal(disk['export-size'], SIZE);
  t.equal(disk.description, 'plain file');
  t.match(disk, {
    is_read_only: false,
    can_flush: true,
    can_fua: true,
    can_trim: true,
    can_zero: true,
    can_fast_zero: true,
    can_cache: true,
    can_df: true,
    can_multi_conn: false,
    block_size_minimum: 1,
    block_size_preferred: 4096,
    block_size_maximum: 33554432,
  });
  t.same(disk.contexts, ['base:allocation']);

  const ro = JSON.parse((await run('nbdinfo', ['--json', uri('ro')])).stdout).exports[0];
  t.equal(ro.is_read_only, true);
  const shared = JSON.parse((await run('nbdinfo', ['--json', uri('shared')])).stdout).exports[0];
  t.equal(shared.can_multi_conn, true);

  const list = await run('nbdinfo', ['--list', '--json', `nbd+unix:///?socket=${socketPath}`]);
  t.equal(list.code, 0, list.stderr);
  const names = JSON.parse(list.stdout).exports.map(
    (e: { 'export-name': string; description?: string }) => [e['export-name'], e.description ?? ''],
  );
  t.same(names, [
    ['disk', 'plain file'],
    ['shared', 'shared file'],
    ['sparse', 'memory'],
    ['ro', ''],
  ]);

  const write = await run('qemu-io', ['-f', 'raw', uri('sparse'), '-c', 'write -P 0x11 1M 64k']);
  t.equal(write.code, 0, write.stderr);
  const map = await run('nbdinfo', ['--map', '--json', uri('sparse')]);
  t.equal(map.code, 0, map.stderr);
  const extents = JSON.parse(map.stdout).map(
    (e: { offset: number; length: number; type: number }) => [e.offset, e.length, e.type],
  );
  t.same(
    extents,
    [
      [0, MiB, 3],
      [MiB, 65536, 0],
      [MiB + 65536, SIZE - MiB - 65536, 3],
    ],
    'holes and data from base:allocation',
  );
  noWarnings(t, lines);
});

t.test('qemu-img info', async (t) => {
  const { uri, lines } = await setup(t);
  const info = await run('qemu-img', ['info', '--output=json', uri('disk')]);
  t.equal(info.code, 0, info.stderr);
  const parsed = JSON.parse(info.stdout);
  t.equal(parsed['virtual-size'], SIZE);
  t.equal(parsed.format, 'raw');
  noWarnings(t, lines);
});

t.test('qemu-io: patterns, unaligned I/O, write -z, write -z -u, discard, flush', async (t) => {
  const { uri, dir, server, lines } = await setup(t);
  const commands = [
    'write -P 0xab 0 1M',
    'read -P 0xab 0 1M',
    'write -P 0xcd 1 10',
    'read -P 0xcd 1 10',
    'read -P 0xab 11 100',
    'read -P 0xab 1000001 3',
    'write -P 0xee 2M 128k',
    'write -z 2M 64k',
    'read -P 0 2M 64k',
    'write -z -u 2162688 64k',
    'read -P 0 2M 128k',
    'write -P 0x77 4M 64k',
    'discard 4M 64k',
    'flush',
  ];
  const result = await run('qemu-io', [
    '-f',
    'raw',
    uri('disk'),
    ...commands.flatMap((c) => ['-c', c]),
  ]);
  t.equal(result.code, 0, result.stderr);
  t.notMatch(result.stdout, /Pattern verification failed/);
  t.notMatch(result.stdout + result.stderr, /error|failed/i);
  t.match(result.stdout, /read 10\/10 bytes at offset 1\b/);
  t.match(result.stdout, /discard 65536\/65536 bytes at offset 4194304/);
  const file = fs.readFileSync(path.join(dir, 'disk.img'));
  t.equal(file[0], 0xab);
  t.ok(
    file.subarray(1, 11).every((b) => b === 0xcd),
    'unaligned write landed',
  );
  t.ok(file.subarray(11, MiB).every((b) => b === 0xab));
  t.ok(
    file.subarray(2 * MiB, 2 * MiB + 128 * 1024).every((b) => b === 0),
    'zeroed ranges',
  );
  const commandsSeen = server.stats().exports.find((e) => e.name === 'disk')!.commands;
  t.ok(commandsSeen.writeZeroes.ops >= 2, 'WRITE_ZEROES was used');
  t.ok(commandsSeen.trim.ops >= 1, 'TRIM was used');
  t.ok(commandsSeen.flush.ops >= 1, 'FLUSH was used');
  t.equal(
    commandsSeen.write.errors + commandsSeen.read.errors + commandsSeen.writeZeroes.errors,
    0,
  );
  noWarnings(t, lines);
});

t.test('nbdcopy in and out byte-identically, single and multi-conn', async (t) => {
  const { uri, dir, server, lines } = await setup(t);
  const source = path.join(dir, 'random.bin');
  const data = Buffer.alloc(SIZE);
  randomFillSync(data);
  data.fill(0, 10 * MiB, 20 * MiB); // a zero run, so nbdcopy has something to zero or skip
  fs.writeFileSync(source, data);
  for (const [name, extra] of [
    ['disk', []],
    ['shared', ['--connections=4', '--threads=4']],
  ] as const) {
    const before = server.stats().handshakesCompleted;
    const put = await run('nbdcopy', [...extra, source, uri(name)]);
    t.equal(put.code, 0, put.stderr);
    const connectionsIn = server.stats().handshakesCompleted - before;
    const out = path.join(dir, `${name}.out`);
    const get = await run('nbdcopy', [...extra, uri(name), out]);
    t.equal(get.code, 0, get.stderr);
    t.equal(sha256(out), sha256(source), `${name}: copied out byte-identically`);
    t.equal(
      sha256(path.join(dir, `${name}.img`)),
      sha256(source),
      `${name}: backing file identical`,
    );
    if (name === 'shared') t.ok(connectionsIn > 1, `multi-conn used ${connectionsIn} connections`);
    else t.equal(connectionsIn, 1, 'without multi-conn nbdcopy uses one connection');
    await waitFor(() => handshakes(server, name) === 0, 'nbdcopy connections to close');
    t.pass(`${name}: all connections closed after nbdcopy exited`);
  }
  noWarnings(t, lines);
});

t.test('fio --ioengine=nbd with crc32c verify (size-bounded)', async (t) => {
  const { uri, lines } = await setup(t);
  const result = await run(
    'fio',
    [
      '--output-format=json',
      '--ioengine=nbd',
      `--uri=${uri('shared')}`,
      '--verify=crc32c',
      '--do_verify=1',
      '--verify_fatal=1',
      '--name=rand4k',
      '--rw=randwrite',
      '--bs=4k',
      '--iodepth=32',
      '--offset=0',
      '--size=24M',
      '--name=mixed',
      '--rw=randwrite',
      '--bsrange=512-256k',
      '--blockalign=512',
      '--iodepth=8',
      '--offset=32M',
      '--size=24M',
    ],
    { timeoutMs: 180_000 },
  );
  t.equal(result.code, 0, result.stderr);
  const jobs = JSON.parse(result.stdout.slice(result.stdout.indexOf('{'))).jobs as Array<{
    jobname: string;
    error: number;
    write: { io_bytes: number };
    read: { io_bytes: number };
  }>;
  t.equal(jobs.length, 2);
  for (const job of jobs) {
    t.equal(job.error, 0, `${job.jobname}: no error`);
    t.equal(job.write.io_bytes, 24 * MiB, `${job.jobname}: wrote 24 MiB`);
    t.equal(job.read.io_bytes, 24 * MiB, `${job.jobname}: read all of it back and verified`);
  }
  noWarnings(t, lines);
});

t.test('TCP listener: nbdinfo and qemu-io over nbd://', async (t) => {
  const { server, lines } = await setup(t);
  const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
  const uri = `nbd://127.0.0.1:${port}/disk`;
  const info = await run('nbdinfo', ['--json', uri]);
  t.equal(info.code, 0, info.stderr);
  t.equal(JSON.parse(info.stdout).exports[0]['export-size'], SIZE);
  const io = await run('qemu-io', [
    '-f',
    'raw',
    uri,
    '-c',
    'write -P 0x42 4k 8k',
    '-c',
    'read -P 0x42 4k 8k',
  ]);
  t.equal(io.code, 0, io.stderr);
  t.notMatch(io.stdout, /Pattern verification failed/);
  t.match(io.stdout, /read 8192\/8192 bytes at offset 4096/);
  noWarnings(t, lines);
});

t.test('nbd-client -l lists the exports over the unix socket', async (t) => {
  const { socketPath, lines } = await setup(t);
  const result = await run('nbd-client', ['-l', '-u', socketPath]);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, /^disk: plain file$/m);
  t.match(result.stdout, /^shared: shared file$/m);
  t.match(result.stdout, /^sparse: memory$/m);
  t.match(result.stdout, /^ro$/m);
  t.comment('attaching /dev/nbdX cannot run here: this kernel has no nbd module (listing only)');
  noWarnings(t, lines);
});
