// Transmission-phase conformance with a raw client (protocols.md B.3-B.11 checker assertions).
import * as fs from 'node:fs';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import t from 'tap';
import { BallastError, isBallastError } from '@ballast/common';
import {
  FileBlockDevice,
  MemoryBlockDevice,
  NbdServer,
  type NbdServerOptions,
} from '../src/index.js';
import { captureLogger, tempDir, waitFor, type Teardown } from './helpers/env.js';
import { CMD, CMD_FLAG, ERR, OPT, RawClient, openSession } from './helpers/raw-client.js';
import { FailingDevice, GatedDevice, ScriptedExtentsDevice } from './helpers/test-devices.js';

const MiB = 1024 * 1024;
const SIZE = 16 * MiB;

async function setup(t: Teardown, options: NbdServerOptions = {}) {
  const dir = tempDir(t);
  const socketPath = path.join(dir, 'nbd.sock');
  const { logger, lines } = captureLogger();
  const server = new NbdServer({ logger, ...options });
  const mem = new MemoryBlockDevice(SIZE);
  const file = await FileBlockDevice.open(path.join(dir, 'disk.img'), {
    sizeBytes: SIZE,
    create: true,
  });
  const shared = await FileBlockDevice.open(path.join(dir, 'shared.img'), {
    sizeBytes: SIZE,
    create: true,
  });
  const gated = new GatedDevice(new MemoryBlockDevice(SIZE));
  gated.holdIf = () => false;
  server.addExport('mem', mem);
  server.addExport('file', file);
  server.addExport('shared', shared, { multiConn: true });
  server.addExport('ro', new MemoryBlockDevice(SIZE), { readOnly: true });
  server.addExport('gated', gated);
  server.addExport('big', new MemoryBlockDevice(128 * MiB));
  await server.listenUnix(socketPath);
  const clients: RawClient[] = [];
  t.teardown(async () => {
    clients.forEach((c) => c.destroy());
    gated.releaseAll();
    await server.close();
    await file.close();
    await shared.close();
  });
  const open = async (name: string, opts: { structured?: boolean; meta?: boolean } = {}) => {
    const session = await openSession(socketPath, name, opts);
    clients.push(session.client);
    return session;
  };
  return { server, socketPath, dir, open, mem, gated, lines, clients };
}

function pattern(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return out;
}

async function write(client: RawClient, offset: number, data: Buffer, cookie = 1n, flags = 0) {
  client.sendRequest({
    type: CMD.WRITE,
    flags,
    cookie,
    offset,
    length: data.length,
    payload: data,
  });
  return client.readSimpleReply();
}

async function read(client: RawClient, offset: number, length: number, cookie = 2n) {
  client.sendRequest({ type: CMD.READ, cookie, offset, length });
  return client.readSimpleReply(length);
}

async function command(client: RawClient, type: number, offset: number, length: number, flags = 0) {
  client.sendRequest({ type, flags, cookie: 77n, offset, length });
  return client.readSimpleReply();
}

/** For structured sessions: the error of a simple reply or of a structured error chunk. */
async function commandError(
  client: RawClient,
  type: number,
  offset: number,
  length: number,
  flags = 0,
) {
  client.sendRequest({ type, flags, cookie: 78n, offset, length });
  const reply = await client.readAnyReply();
  if (reply.kind === 'simple') return reply.error;
  return reply.type === 0x8001 ? reply.payload.readUInt32BE(0) : -1;
}

t.test('simple READ/WRITE round trip, unaligned, landing in the file', async (t) => {
  const { open, dir } = await setup(t);
  const { client } = await open('file');
  const data = pattern(1 * MiB, 1);
  t.equal((await write(client, 0, data)).error, 0);
  const back = await read(client, 0, data.length);
  t.equal(back.error, 0);
  t.ok(back.data.equals(data), '1 MiB reads back');
  t.equal((await write(client, 1, Buffer.from('0123456789'))).error, 0);
  const odd = await read(client, 1, 10);
  t.equal(odd.data.toString(), '0123456789', 'offset 1 length 10');
  t.equal((await write(client, SIZE - 3, Buffer.from('end'))).error, 0, 'last bytes');
  t.equal((await read(client, SIZE - 3, 3)).data.toString(), 'end');
  t.equal((await command(client, CMD.FLUSH, 0, 0)).error, 0);
  const onDisk = fs.readFileSync(path.join(dir, 'disk.img'));
  t.equal(onDisk.length, SIZE);
  t.equal(onDisk.toString('utf8', 1, 11), '0123456789');
  t.ok(onDisk.subarray(11, MiB).equals(data.subarray(11)));
});

t.test('structured READ uses OFFSET_DATA chunks covering the range, last one DONE', async (t) => {
  const { open } = await setup(t);
  const { client } = await open('mem', { structured: true });
  const data = pattern(100_000, 2);
  t.equal((await write(client, 12345, data)).error, 0, 'writes may use simple replies');
  client.sendRequest({
    type: CMD.READ,
    cookie: 0xdeadbeefcafef00dn,
    offset: 12345,
    length: data.length,
  });
  const chunks = await client.readStructuredReply();
  const assembled = Buffer.alloc(data.length);
  let covered = 0;
  for (const chunk of chunks) {
    t.equal(chunk.cookie, 0xdeadbeefcafef00dn, 'cookie echoed exactly');
    if (chunk.type === 1) {
      const offset = Number(chunk.payload.readBigUInt64BE(0));
      chunk.payload.copy(assembled, offset - 12345, 8);
      covered += chunk.payload.length - 8;
    } else {
      t.equal(chunk.type, 0, 'only data chunks and a final NONE');
    }
  }
  t.equal(covered, data.length);
  t.ok(assembled.equals(data));
  t.equal(chunks[chunks.length - 1]!.flags & 1, 1, 'DONE on the last chunk');
  // DF is advertised with structured replies and honoured (one content chunk).
  client.sendRequest({ type: CMD.READ, flags: CMD_FLAG.DF, cookie: 3n, offset: 0, length: 65536 });
  const df = await client.readStructuredReply();
  t.equal(df.filter((c) => c.type === 1).length, 1);
  // A zero-length READ is answered with a lone NONE + DONE chunk.
  client.sendRequest({ type: CMD.READ, cookie: 4n, offset: 0, length: 0 });
  const empty = await client.readStructuredReply();
  t.same(
    empty.map((c) => [c.type, c.flags]),
    [[0, 1]],
  );
  // Errors for READ are structured too, with a message.
  client.sendRequest({ type: CMD.READ, cookie: 5n, offset: SIZE, length: 1 });
  const [error] = await client.readStructuredReply();
  t.equal(error!.type, 0x8001);
  t.equal(error!.flags & 1, 1);
  t.equal(error!.payload.readUInt32BE(0), ERR.EINVAL);
  const messageLength = error!.payload.readUInt16BE(4);
  t.equal(error!.payload.length, 6 + messageLength);
  t.match(error!.payload.toString('utf8', 6), /beyond the end/);
});

t.test('BLOCK_STATUS reports base:allocation extents; REQ_ONE gives one', async (t) => {
  const { open } = await setup(t);
  const { client, contextId } = await open('mem', { meta: true });
  t.not(contextId, 0);
  t.equal((await write(client, 0, Buffer.alloc(65536, 1))).error, 0);
  t.equal((await write(client, 256 * 1024, Buffer.alloc(65536, 2))).error, 0);
  const status = async (offset: number, length: number, flags = 0) => {
    client.sendRequest({ type: CMD.BLOCK_STATUS, flags, cookie: 10n, offset, length });
    const chunks = await client.readStructuredReply();
    t.equal(chunks.length, 1, 'one chunk per selected context');
    const [chunk] = chunks;
    t.equal(chunk!.type, 5, 'NBD_REPLY_TYPE_BLOCK_STATUS is 5');
    t.equal(chunk!.payload.readUInt32BE(0), contextId, 'context id from SET_META_CONTEXT');
    const extents: Array<[number, number]> = [];
    for (let at = 4; at < chunk!.payload.length; at += 8) {
      extents.push([chunk!.payload.readUInt32BE(at), chunk!.payload.readUInt32BE(at + 4)]);
    }
    return extents;
  };
  const map = await status(0, MiB);
  t.same(map, [
    [65536, 0],
    [196608, 3],
    [65536, 0],
    [MiB - 327680, 3],
  ]);
  const one = await status(1000, MiB, CMD_FLAG.REQ_ONE);
  t.same(one, [[64536, 0]], 'one extent starting at the offset');
  const clipped = await status(300 * 1024, 10, CMD_FLAG.REQ_ONE);
  t.same(clipped, [[10, 0]], 'never longer than the request with REQ_ONE');
  client.sendRequest({ type: CMD.BLOCK_STATUS, cookie: 11n, offset: SIZE - 1, length: 2 });
  const [beyond] = await client.readStructuredReply();
  t.equal(beyond!.payload.readUInt32BE(0), ERR.EINVAL, 'beyond the end is EINVAL');
});

t.test('BLOCK_STATUS without extents support, or without a context', async (t) => {
  const { open } = await setup(t);
  const file = await open('file', { meta: true });
  file.client.sendRequest({ type: CMD.BLOCK_STATUS, cookie: 1n, offset: 4096, length: 8192 });
  const [chunk] = await file.client.readStructuredReply();
  t.same(
    [chunk!.payload.readUInt32BE(4), chunk!.payload.readUInt32BE(8)],
    [8192, 0],
    'one allocated extent',
  );
  const plain = await open('mem', { structured: true });
  plain.client.sendRequest({ type: CMD.BLOCK_STATUS, cookie: 2n, offset: 0, length: 4096 });
  const [refused] = await plain.client.readStructuredReply();
  t.equal(refused!.type, 0x8001);
  t.equal(refused!.payload.readUInt32BE(0), ERR.EINVAL);
});

t.test('meta context chosen for another export does not carry over to GO', async (t) => {
  const { socketPath, clients } = await setup(t);
  const client = await RawClient.connect(socketPath);
  clients.push(client);
  await client.start();
  await client.structuredReplies();
  await client.setMetaContext('file', ['base:allocation']);
  await client.go('mem');
  client.sendRequest({ type: CMD.BLOCK_STATUS, cookie: 1n, offset: 0, length: 4096 });
  const [chunk] = await client.readStructuredReply();
  t.equal(chunk!.payload.readUInt32BE(0), ERR.EINVAL);
});

t.test('device extents are sanitised; the readAt path works without readInto', async (t) => {
  const dir = tempDir(t);
  const server = new NbdServer();
  t.teardown(() => server.close());
  const device = new ScriptedExtentsDevice(MiB, [
    { length: 0, hole: false, zero: false },
    { length: 1000.7, hole: true, zero: true },
    { length: 24, hole: true, zero: true },
    { length: 10 * MiB, hole: false, zero: true },
  ]);
  server.addExport('s', device);
  await server.listenUnix(path.join(dir, 's.sock'));
  const { client } = await openSession(path.join(dir, 's.sock'), 's', { meta: true });
  t.teardown(() => client.destroy());
  client.sendRequest({ type: CMD.BLOCK_STATUS, cookie: 1n, offset: 0, length: 4096 });
  const [chunk] = await client.readStructuredReply();
  const extents = [];
  for (let at = 4; at < chunk!.payload.length; at += 8) {
    extents.push([chunk!.payload.readUInt32BE(at), chunk!.payload.readUInt32BE(at + 4)]);
  }
  t.same(
    extents,
    [
      [1024, 3],
      [3072, 2],
    ],
    'empty dropped, fractions floored, equal statuses merged, clipped to the request',
  );
  client.sendRequest({ type: CMD.READ, cookie: 2n, offset: 10, length: 5000 });
  const reply = await client.readStructuredReply();
  t.ok(reply[0]!.payload.subarray(8).equals(Buffer.alloc(5000, 0x5a)));
});

t.test('multi-conn: write on A, flush on B, read on C', async (t) => {
  const { open, dir } = await setup(t);
  const a = await open('shared');
  const b = await open('shared');
  const c = await open('shared');
  t.equal(a.flags & 0x100, 0x100, 'CAN_MULTI_CONN advertised for the shared export');
  const notShared = await open('file');
  t.equal(notShared.flags & 0x100, 0, 'and not for the others');
  const data = pattern(64 * 1024, 3);
  t.equal((await write(a.client, 8192, data)).error, 0);
  t.equal((await command(b.client, CMD.FLUSH, 0, 0)).error, 0);
  const back = await read(c.client, 8192, data.length);
  t.ok(back.data.equals(data), 'C sees what A wrote');
  const fd = fs.openSync(path.join(dir, 'shared.img'), 'r');
  const onDisk = Buffer.alloc(data.length);
  fs.readSync(fd, onDisk, 0, data.length, 8192);
  fs.closeSync(fd);
  t.ok(onDisk.equals(data), 'and the data is in the file after the flush');
});

t.test('FUA writes, FLUSH, CACHE and TRIM succeed', async (t) => {
  const { open } = await setup(t);
  const { client } = await open('file');
  t.equal((await write(client, 4096, Buffer.alloc(4096, 9), 1n, CMD_FLAG.FUA)).error, 0);
  t.equal((await command(client, CMD.CACHE, 0, MiB)).error, 0);
  t.equal((await command(client, CMD.TRIM, 4096, 4096, CMD_FLAG.FUA)).error, 0);
  t.equal(
    (await command(client, CMD.FLUSH, 0, 0, CMD_FLAG.FUA)).error,
    0,
    'FUA accepted everywhere',
  );
  const back = await read(client, 4096, 4096);
  t.ok(back.data.equals(Buffer.alloc(4096)), 'trimmed range reads as zeroes here');
});

t.test('WRITE_ZEROES: NO_HOLE, FAST_ZERO per device, lengths above 32 MiB', async (t) => {
  const { open } = await setup(t);
  const file = (await open('file')).client;
  t.equal((await write(file, 0, Buffer.alloc(8192, 7))).error, 0);
  const fast = await command(file, CMD.WRITE_ZEROES, 0, 8192, CMD_FLAG.FAST_ZERO);
  t.equal(fast.error, ERR.ENOTSUP, 'a file device cannot zero faster than it writes');
  t.ok((await read(file, 0, 8192)).data.equals(Buffer.alloc(8192, 7)), 'and nothing changed');
  t.equal((await command(file, CMD.WRITE_ZEROES, 0, 4096, CMD_FLAG.NO_HOLE)).error, 0);
  t.equal((await command(file, CMD.WRITE_ZEROES, 4096, 4096)).error, 0);
  t.ok((await read(file, 0, 8192)).data.equals(Buffer.alloc(8192)));
  t.equal(
    (await command(file, CMD.WRITE_ZEROES, 8192, SIZE - 8192)).error,
    0,
    'to the end (hole punched)',
  );

  const mem = await open('mem', { meta: true });
  t.equal((await write(mem.client, 0, Buffer.alloc(131072, 5))).error, 0);
  t.equal(await commandError(mem.client, CMD.WRITE_ZEROES, 0, 65536, CMD_FLAG.FAST_ZERO), 0);
  const noHoleFast = await commandError(
    mem.client,
    CMD.WRITE_ZEROES,
    65536,
    65536,
    CMD_FLAG.FAST_ZERO | CMD_FLAG.NO_HOLE,
  );
  t.equal(noHoleFast, ERR.ENOTSUP, 'NO_HOLE zeroing is not fast');
  t.equal(await commandError(mem.client, CMD.WRITE_ZEROES, 65536, 65536, CMD_FLAG.NO_HOLE), 0);
  mem.client.sendRequest({ type: CMD.BLOCK_STATUS, cookie: 3n, offset: 0, length: 131072 });
  const [chunk] = await mem.client.readStructuredReply();
  t.same(
    [
      chunk!.payload.readUInt32BE(4),
      chunk!.payload.readUInt32BE(8),
      chunk!.payload.readUInt32BE(12),
      chunk!.payload.readUInt32BE(16),
    ],
    [65536, 3, 65536, 0],
    'fast zero punched a hole; NO_HOLE kept the page allocated',
  );

  const big = (await open('big')).client;
  t.equal((await command(big, CMD.WRITE_ZEROES, 0, 100 * MiB)).error, 0, '100 MiB WRITE_ZEROES');
  t.equal((await command(big, CMD.TRIM, 0, 100 * MiB)).error, 0, '100 MiB TRIM');
  t.equal((await command(big, CMD.CACHE, 0, 100 * MiB)).error, 0, '100 MiB CACHE');
});

t.test('read-only export: writes get EPERM, reads work', async (t) => {
  const { open } = await setup(t);
  const { client, flags } = await open('ro');
  t.equal(flags & 2, 2, 'READ_ONLY flag');
  t.equal((await write(client, 0, Buffer.alloc(512, 1))).error, ERR.EPERM);
  t.equal((await command(client, CMD.TRIM, 0, 512)).error, ERR.EPERM);
  t.equal((await command(client, CMD.WRITE_ZEROES, 0, 512)).error, ERR.EPERM);
  t.ok((await read(client, 0, 512)).data.equals(Buffer.alloc(512)));
});

t.test('out-of-range requests: EINVAL for READ/TRIM, ENOSPC for writes', async (t) => {
  const { open } = await setup(t);
  const { client } = await open('mem');
  t.equal((await read(client, SIZE - 1, 2)).error, ERR.EINVAL);
  t.equal((await read(client, 2 ** 62, 1)).error, ERR.EINVAL, 'huge offset');
  t.equal((await write(client, SIZE - 1, Buffer.alloc(2))).error, ERR.ENOSPC);
  t.equal((await command(client, CMD.TRIM, SIZE, 1)).error, ERR.EINVAL);
  t.equal((await command(client, CMD.WRITE_ZEROES, SIZE - 10, 11)).error, ERR.ENOSPC);
  t.equal((await command(client, CMD.CACHE, SIZE, 1)).error, ERR.EINVAL);
  client.sendRequest({
    type: CMD.READ,
    cookie: 1n,
    offset: 0xffffffffffffffffn,
    length: 0xffffffff,
  });
  t.equal((await client.readSimpleReply()).error, ERR.EINVAL, 'u64 max offset');
  t.equal((await write(client, 0, Buffer.from('still fine'))).error, 0, 'connection still in sync');
  t.equal((await read(client, 0, 10)).data.toString(), 'still fine');
});

t.test('unknown commands and flags get EINVAL; the WRITE payload is still consumed', async (t) => {
  const { open } = await setup(t);
  const { client } = await open('mem');
  t.equal((await command(client, 42, 0, 0)).error, ERR.EINVAL, 'unknown command');
  t.equal(
    (await command(client, CMD.READ, 0, 16, CMD_FLAG.NO_HOLE)).error,
    ERR.EINVAL,
    'flag not for READ',
  );
  client.sendRequest({ type: CMD.READ, flags: CMD_FLAG.DF, cookie: 1n, offset: 0, length: 16 });
  t.equal((await client.readSimpleReply()).error, ERR.EINVAL, 'DF without structured replies');
  t.equal(
    (await write(client, 0, Buffer.alloc(100, 1), 3n, 0x40)).error,
    ERR.EINVAL,
    'bad WRITE flag',
  );
  t.equal((await command(client, CMD.FLUSH, 0, 0, CMD_FLAG.REQ_ONE)).error, ERR.EINVAL);
  t.ok(
    (await read(client, 0, 100)).data.equals(Buffer.alloc(100)),
    'nothing was written, still in sync',
  );
});

t.test(
  'oversized READ/WRITE: EINVAL and in sync; beyond the discard limit: clean close',
  async (t) => {
    const { open, lines, server, gated } = await setup(t, { maxDiscardBytes: 40 * MiB });
    const { client } = await open('big');
    t.equal((await read(client, 0, 32 * MiB + 1)).error, ERR.EINVAL, 'READ above 32 MiB');
    const oversized = Buffer.alloc(33 * MiB, 0xee);
    t.equal((await write(client, 0, oversized)).error, ERR.EINVAL, 'WRITE above 32 MiB, skipped');
    t.ok(server.maxBufferedBytes() < 2 * MiB, 'the 33 MiB payload was never buffered');
    t.ok(
      (await read(client, 0, 4096)).data.equals(Buffer.alloc(4096)),
      'not written, still in sync',
    );
    const max = Buffer.alloc(32 * MiB, 0x11);
    t.equal((await write(client, 0, max)).error, 0, 'exactly 32 MiB is fine');
    t.ok((await read(client, 32 * MiB - 4, 4)).data.equals(Buffer.alloc(4, 0x11)));

    // A WRITE whose payload we will not even skip: the READ in flight is answered, then close.
    gated.holdIf = (what) => what === 'read';
    const victim = await open('gated');
    victim.client.sendRequest({ type: CMD.READ, cookie: 1n, offset: 0, length: 8 });
    await gated.waitHeld(1);
    victim.client.sendRequest({ type: CMD.WRITE, cookie: 2n, offset: 0, length: 100 * MiB });
    await waitFor(
      () => lines.some((l) => /above the 41943040 limit/.test(l.msg)),
      'the close reason',
    );
    gated.releaseAll();
    const answered = await victim.client.readSimpleReply(8);
    t.equal(answered.cookie, 1n);
    await victim.client.waitClosed();
    t.equal(victim.client.bufferedBytes, 0, 'nothing after the last reply');
  },
);

t.test('bad request magic closes that connection only', async (t) => {
  const { open, lines, server } = await setup(t);
  const bad = await open('mem');
  const good = await open('mem');
  bad.client.sendRequest({ type: CMD.READ, cookie: 1n, offset: 0, length: 8, magic: 0x12345678 });
  await bad.client.waitClosed();
  t.ok(lines.some((l) => l.level === 'warn' && /bad request magic 0x12345678/.test(l.msg)));
  t.equal((await write(good.client, 0, Buffer.from('ok'))).error, 0, 'the other client is served');
  t.equal(server.stats().connectionsRefused, 1);
});

t.test('replies come out of order, matched by cookie', async (t) => {
  const { open, gated } = await setup(t);
  gated.holdIf = (what, offset) => what === 'read' && offset === 0;
  const { client } = await open('gated');
  client.sendRequest({ type: CMD.READ, cookie: 0x0102030405060708n, offset: 0, length: 16 });
  await gated.waitHeld(1);
  client.sendRequest({ type: CMD.READ, cookie: 0xfffffffffffffffen, offset: 4096, length: 16 });
  const first = await client.readSimpleReply(16);
  t.equal(first.cookie, 0xfffffffffffffffen, 'the later request is answered first');
  gated.releaseAll();
  const second = await client.readSimpleReply(16);
  t.equal(second.cookie, 0x0102030405060708n);
});

t.test('DISC: in-flight requests finish, no reply to DISC, then close', async (t) => {
  const { open, gated, server } = await setup(t);
  gated.holdIf = (what) => what === 'write';
  const { client } = await open('gated');
  const data = Buffer.from('written before DISC');
  client.sendRequest({
    type: CMD.WRITE,
    cookie: 1n,
    offset: 0,
    length: data.length,
    payload: data,
  });
  await gated.waitHeld(1);
  client.sendRequest({ type: CMD.DISC, cookie: 2n, offset: 0, length: 0 });
  await waitFor(
    () => server.stats().exports.find((e) => e.name === 'gated')!.inFlight === 1,
    'in flight',
  );
  t.notOk(client.isEnded, 'not closed while a request runs');
  gated.releaseAll();
  const reply = await client.readSimpleReply();
  t.equal(reply.cookie, 1n);
  await client.waitClosed();
  t.equal(client.bufferedBytes, 0, 'no reply to DISC');
  const check = await open('gated');
  t.equal((await read(check.client, 0, data.length)).data.toString(), data.toString());
});

t.test('backpressure: reading stops at maxInFlightRequests and maxInFlightBytes', async (t) => {
  const { open, gated } = await setup(t, { maxInFlightRequests: 4, maxInFlightBytes: 64 * 1024 });
  gated.holdIf = () => true;
  const { client } = await open('gated');
  const batch: Buffer[] = [];
  for (let i = 0; i < 20; i++) {
    const header = Buffer.alloc(28);
    header.writeUInt32BE(0x25609513, 0);
    header.writeUInt16BE(CMD.WRITE, 6);
    header.writeBigUInt64BE(BigInt(i), 8);
    header.writeBigUInt64BE(BigInt(i * 4096), 16);
    header.writeUInt32BE(4096, 24);
    batch.push(header, Buffer.alloc(4096, i));
  }
  client.write(Buffer.concat(batch));
  const seen = new Set<bigint>();
  while (seen.size < 20) {
    await gated.waitHeld(Math.min(4, 20 - seen.size));
    t.ok(gated.heldCount <= 4, `never more than 4 in flight (${gated.heldCount})`);
    const count = gated.heldCount;
    gated.releaseAll();
    for (let i = 0; i < count; i++) seen.add((await client.readSimpleReply()).cookie);
  }
  t.equal(seen.size, 20, 'all answered');
  // Bytes: 32 KiB writes against a 64 KiB budget allow two at a time.
  for (let i = 0; i < 4; i++) {
    client.sendRequest({
      type: CMD.WRITE,
      cookie: BigInt(100 + i),
      offset: 0,
      length: 32768,
      payload: Buffer.alloc(32768),
    });
  }
  await gated.waitHeld(2);
  t.equal(gated.heldCount, 2);
  gated.releaseAll();
  await client.readSimpleReply();
  await client.readSimpleReply();
  await gated.waitHeld(2);
  gated.releaseAll();
  await client.readSimpleReply();
  await client.readSimpleReply();
});

t.test('a client that hangs up mid-payload leaves nothing in flight', async (t) => {
  const { open, server } = await setup(t);
  const { client } = await open('mem');
  const header = Buffer.alloc(28);
  header.writeUInt32BE(0x25609513, 0);
  header.writeUInt16BE(CMD.WRITE, 6);
  header.writeUInt32BE(65536, 24);
  client.write(Buffer.concat([header, Buffer.alloc(1000)]));
  client.socket.end();
  await client.waitClosed();
  await waitFor(() => server.stats().connectionsOpen === 0, 'connection gone');
  const mem = server.stats().exports.find((e) => e.name === 'mem')!;
  t.equal(mem.inFlight, 0);
  t.equal(mem.commands.write.errors, 1, 'the abandoned WRITE counts as failed');
});

t.test('many pipelined requests in one write are all answered by cookie', async (t) => {
  const { open } = await setup(t);
  const { client } = await open('file');
  const parts: Buffer[] = [];
  for (let i = 0; i < 200; i++) {
    const header = Buffer.alloc(28);
    header.writeUInt32BE(0x25609513, 0);
    header.writeUInt16BE(CMD.WRITE, 6);
    header.writeBigUInt64BE(BigInt(1000 + i), 8);
    header.writeBigUInt64BE(BigInt(i * 777), 16);
    header.writeUInt32BE(777, 24);
    parts.push(header, pattern(777, i));
  }
  client.write(Buffer.concat(parts));
  const cookies = new Set<bigint>();
  for (let i = 0; i < 200; i++) {
    const reply = await client.readSimpleReply();
    t.equal(reply.error, 0);
    cookies.add(reply.cookie);
  }
  t.equal(cookies.size, 200);
  const reads: Buffer[] = [];
  const lengths = new Map<bigint, number>();
  for (let i = 0; i < 200; i++) {
    const header = Buffer.alloc(28);
    header.writeUInt32BE(0x25609513, 0);
    header.writeBigUInt64BE(BigInt(5000 + i), 8);
    header.writeBigUInt64BE(BigInt(i * 777), 16);
    header.writeUInt32BE(777, 24);
    reads.push(header);
    lengths.set(BigInt(5000 + i), 777);
  }
  client.write(Buffer.concat(reads));
  let good = 0;
  for (let i = 0; i < 200; i++) {
    const reply = await client.readAnyReply(lengths);
    if (reply.kind === 'simple' && reply.data.equals(pattern(777, Number(reply.cookie) - 5000)))
      good++;
  }
  t.equal(good, 200, 'every READ returned its own pattern');
});

t.test('device errors map to NBD errors, with messages under structured replies', async (t) => {
  const dir = tempDir(t);
  const server = new NbdServer({ logger: captureLogger().logger });
  t.teardown(() => server.close());
  const errnoError = (code: string) => Object.assign(new Error(`simulated ${code}`), { code });
  server.addExport(
    'fenced',
    new FailingDevice(MiB, () => new BallastError('FENCED', 'epoch 7 is newer')),
  );
  server.addExport('eio', new FailingDevice(MiB, () => errnoError('EIO')));
  server.addExport(
    'full',
    new FailingDevice(MiB, () => new BallastError('IO', 'wrapped', {}, errnoError('ENOSPC'))),
  );
  server.addExport('other', new FailingDevice(MiB, () => new Error('anything else')));
  await server.listenUnix(path.join(dir, 'e.sock'));
  const expectations: Array<[string, number]> = [
    ['fenced', ERR.EPERM],
    ['eio', ERR.EIO],
    ['full', ERR.ENOSPC],
    ['other', ERR.EIO],
  ];
  for (const [name, code] of expectations) {
    const { client } = await openSession(path.join(dir, 'e.sock'), name);
    t.teardown(() => client.destroy());
    t.equal((await write(client, 0, Buffer.alloc(10))).error, code, `${name} WRITE`);
    t.equal((await read(client, 0, 10)).error, code, `${name} READ (no payload follows)`);
    t.equal((await command(client, CMD.FLUSH, 0, 0)).error, code, `${name} FLUSH`);
  }
  const { client } = await openSession(path.join(dir, 'e.sock'), 'fenced', { meta: true });
  t.teardown(() => client.destroy());
  client.sendRequest({ type: CMD.BLOCK_STATUS, cookie: 1n, offset: 0, length: 10 });
  const [chunk] = await client.readStructuredReply();
  t.equal(chunk!.type, 0x8001);
  t.equal(chunk!.payload.readUInt32BE(0), ERR.EPERM);
  t.match(chunk!.payload.toString('utf8', 6), /epoch 7 is newer/);
});

t.test('counters track ops, bytes, errors and in-flight per export', async (t) => {
  const { open, server } = await setup(t);
  const { client } = await open('mem');
  await write(client, 0, Buffer.alloc(1000));
  await write(client, 0, Buffer.alloc(24));
  await read(client, 0, 512);
  await read(client, SIZE, 1);
  await command(client, CMD.TRIM, 0, 4096);
  await command(client, CMD.FLUSH, 0, 0);
  const stats = server.stats();
  const mem = stats.exports.find((e) => e.name === 'mem')!;
  t.same(mem.commands.write, { ops: 2, bytes: 1024, errors: 0 });
  t.same(mem.commands.read, { ops: 2, bytes: 512, errors: 1 });
  t.same(mem.commands.trim, { ops: 1, bytes: 4096, errors: 0 });
  t.same(mem.commands.flush, { ops: 1, bytes: 0, errors: 0 });
  t.equal(mem.inFlight, 0);
  t.equal(mem.connections, 1);
  t.equal(stats.connectionsOpen, 1);
  t.ok(stats.handshakesCompleted >= 1);
});

t.test(
  'close() answers running requests, disconnects clients and removes the socket',
  async (t) => {
    const { open, gated, server, socketPath } = await setup(t);
    gated.holdIf = (what) => what === 'read';
    const { client } = await open('gated');
    const idle = await open('mem');
    client.sendRequest({ type: CMD.READ, cookie: 1n, offset: 0, length: 4 });
    await gated.waitHeld(1);
    const closing = server.close();
    await idle.client.waitClosed();
    t.notOk(client.isEnded, 'the busy connection waits for its request');
    gated.releaseAll();
    t.equal((await client.readSimpleReply(4)).cookie, 1n);
    await client.waitClosed();
    await closing;
    t.notOk(fs.existsSync(socketPath), 'socket file removed');
    await t.rejects(RawClient.connect(socketPath));
  },
);

t.test('removeExport disconnects only that export', async (t) => {
  const { open, server, socketPath } = await setup(t);
  const gone = await open('file');
  const stays = await open('mem');
  await server.removeExport('file');
  await gone.client.waitClosed();
  t.equal((await write(stays.client, 0, Buffer.from('x'))).error, 0);
  const client = await RawClient.connect(socketPath);
  t.teardown(() => client.destroy());
  await client.start();
  const [reply] = await client.option(
    OPT.GO,
    Buffer.from([0, 0, 0, 4, 0x66, 0x69, 0x6c, 0x65, 0, 0]),
  );
  t.equal(reply!.type, 0x80000006, 'removed export is unknown');
});

t.test('listenUnix replaces a stale socket file but not a live one', async (t) => {
  const dir = tempDir(t);
  const socketPath = path.join(dir, 'stale.sock');
  // A process that dies by SIGKILL leaves its socket file behind with nobody listening.
  const child = spawn(process.execPath, [
    '-e',
    `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('up'))`,
  ]);
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  t.ok(fs.existsSync(socketPath), 'stale socket file left behind');
  const server = new NbdServer();
  t.teardown(() => server.close());
  server.addExport('x', new MemoryBlockDevice(4096));
  await server.listenUnix(socketPath);
  const second = new NbdServer();
  second.addExport('x', new MemoryBlockDevice(4096));
  const err = await second.listenUnix(socketPath).catch((e: unknown) => e);
  t.ok(isBallastError(err, 'CONFLICT'), 'a live socket is not taken over');
  const notSocket = path.join(dir, 'plain-file');
  fs.writeFileSync(notSocket, 'x');
  t.ok(isBallastError(await second.listenUnix(notSocket).catch((e: unknown) => e), 'CONFLICT'));
  await second.close();
});
