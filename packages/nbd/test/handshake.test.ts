// Handshake conformance, checked byte by byte with a raw client (protocols.md B.1, B.2, B.11).
import * as path from 'node:path';
import t from 'tap';
import { createLogger } from '@ballast/common';
import {
  MemoryBlockDevice,
  NbdServer,
  type NbdLogger,
  type NbdServerOptions,
} from '../src/index.js';
import { captureLogger, tempDir, type Teardown } from './helpers/env.js';
import {
  OPT,
  OPTION_REPLY_MAGIC,
  REP,
  RawClient,
  infoRequestData,
  metaContextData,
} from './helpers/raw-client.js';

const SIZE = 8 * 1024 * 1024;

async function startServer(t: Teardown, options: NbdServerOptions = {}) {
  const dir = tempDir(t);
  const socketPath = path.join(dir, 'nbd.sock');
  const { logger, lines } = captureLogger();
  const server = new NbdServer({ logger, ...options });
  server.addExport('vol1', new MemoryBlockDevice(SIZE), { description: 'first volume' });
  server.addExport('vol2', new MemoryBlockDevice(2 * SIZE), { readOnly: true, multiConn: true });
  await server.listenUnix(socketPath);
  t.teardown(() => server.close());
  const clients: RawClient[] = [];
  t.teardown(() => clients.forEach((c) => c.destroy()));
  const connect = async (): Promise<RawClient> => {
    const client = await RawClient.connect(socketPath);
    clients.push(client);
    return client;
  };
  return { server, socketPath, connect, lines };
}

t.test('greeting is exactly NBDMAGIC IHAVEOPT 00 03 and nothing more', async (t) => {
  const { connect } = await startServer(t);
  const client = await connect();
  const greeting = await client.greeting();
  t.equal(greeting.toString('hex'), '4e42444d41474943' + '49484156454f5054' + '0003');
  // Nothing follows until the client speaks: the next bytes answer our first option.
  client.sendClientFlags(3);
  const [reply] = await client.option(OPT.STRUCTURED_REPLY);
  t.equal(reply!.magic, OPTION_REPLY_MAGIC);
  t.equal(client.bufferedBytes, 0);
});

t.test('unknown client flags close the connection with a logged reason', async (t) => {
  const { connect, lines, server } = await startServer(t);
  for (const flags of [0x4, 0x80000000, 0xffffffff]) {
    const client = await connect();
    await client.greeting();
    client.sendClientFlags(flags);
    await client.waitClosed();
  }
  t.ok(lines.some((l) => l.level === 'warn' && /unknown client flags/.test(l.msg)));
  t.equal(server.stats().connectionsRefused, 3);
});

t.test('option replies carry the reply magic and echo the option', async (t) => {
  const { connect } = await startServer(t);
  const client = await connect();
  await client.start();
  for (const option of [OPT.LIST, OPT.STRUCTURED_REPLY, 0x1234, OPT.INFO, OPT.STARTTLS]) {
    const data = option === OPT.INFO ? infoRequestData('vol1', []) : undefined;
    const replies = await client.option(option, data);
    for (const reply of replies) {
      t.equal(reply.magic, OPTION_REPLY_MAGIC, `magic for option ${option}`);
      t.equal(reply.option, option, `echo for option ${option}`);
    }
  }
});

t.test('INFO and GO answer exactly one INFO_EXPORT of 12 bytes, then ACK', async (t) => {
  const { connect } = await startServer(t);
  const client = await connect();
  await client.start();
  const info = await client.go('vol1', [0, 1, 2, 3], OPT.INFO);
  const exportInfos = info.replies.filter(
    (r) => r.type === REP.INFO && r.data.readUInt16BE(0) === 0,
  );
  t.equal(exportInfos.length, 1);
  t.equal(exportInfos[0]!.data.length, 12);
  t.equal(info.sizeBytes, SIZE);
  t.equal(info.flags & 1, 1, 'HAS_FLAGS');
  t.equal(info.flags, 0x0c6d, 'FLUSH FUA TRIM WRITE_ZEROES CACHE FAST_ZERO, no DF without SR');
  const byType = new Map(
    info.replies.filter((r) => r.type === REP.INFO).map((r) => [r.data.readUInt16BE(0), r.data]),
  );
  const sizes = byType.get(3)!;
  t.equal(sizes.length, 14, 'BLOCK_SIZE is 14 bytes');
  t.same(
    [sizes.readUInt32BE(2), sizes.readUInt32BE(6), sizes.readUInt32BE(10)],
    [1, 4096, 33554432],
  );
  t.equal(byType.get(1)!.toString('utf8', 2), 'vol1', 'NAME');
  t.equal(byType.get(2)!.toString('utf8', 2), 'first volume', 'DESCRIPTION');
  t.equal(info.replies[info.replies.length - 1]!.type, REP.ACK);
  // INFO leaves us haggling; GO with the same request gives the same information.
  const go = await client.go('vol1', [0, 1, 2, 3]);
  t.same(
    go.replies.map((r) => r.data.toString('hex')),
    info.replies.map((r) => r.data.toString('hex')),
  );
  // GO without asking for BLOCK_SIZE (as nbd-client does) gets no BLOCK_SIZE.
  const other = await connect();
  await other.start();
  const bare = await other.go('vol1');
  t.notOk(bare.replies.some((r) => r.type === REP.INFO && r.data.readUInt16BE(0) === 3));
});

t.test('transmission flags follow read-only, multi-conn and structured replies', async (t) => {
  const { connect } = await startServer(t);
  const client = await connect();
  await client.start();
  await client.structuredReplies();
  const rw = await client.go('vol1', [], OPT.INFO);
  t.equal(rw.flags, 0x0ced, 'DF appears once structured replies are negotiated');
  const ro = await client.go('vol2', [], OPT.INFO);
  t.equal(ro.flags, 0x0001 | 0x0002 | 0x0004 | 0x0008 | 0x0080 | 0x0100 | 0x0400);
  t.equal(ro.sizeBytes, 2 * SIZE);
});

t.test('GO and INFO for a missing export give ERR_UNKNOWN and stay in sync', async (t) => {
  const { connect } = await startServer(t);
  const client = await connect();
  await client.start();
  for (const option of [OPT.GO, OPT.INFO]) {
    const replies = await client.option(option, infoRequestData('nope', [3]));
    t.equal(replies.length, 1, 'no INFO before the error');
    t.equal(replies[0]!.type, REP.ERR_UNKNOWN);
    t.match(replies[0]!.data.toString(), /nope/);
  }
  const go = await client.go('vol1');
  t.equal(go.sizeBytes, SIZE, 'still usable after the errors');
});

t.test('the empty name reaches the default export only when one is set', async (t) => {
  const dir = tempDir(t);
  const server = new NbdServer();
  server.addExport('a', new MemoryBlockDevice(4096));
  server.addExport('b', new MemoryBlockDevice(8192));
  await server.listenUnix(path.join(dir, 'plain.sock'));
  await server.listenUnix(path.join(dir, 'b.sock'), { exports: ['b'], defaultExport: 'b' });
  t.teardown(() => server.close());
  const plain = await RawClient.connect(path.join(dir, 'plain.sock'));
  t.teardown(() => plain.destroy());
  await plain.start();
  const [unknown] = await plain.option(OPT.GO, infoRequestData('', []));
  t.equal(unknown!.type, REP.ERR_UNKNOWN);
  const scoped = await RawClient.connect(path.join(dir, 'b.sock'));
  t.teardown(() => scoped.destroy());
  await scoped.start();
  const list = await scoped.option(OPT.LIST);
  t.same(
    list
      .filter((r) => r.type === REP.SERVER)
      .map((r) => r.data.toString('utf8', 4, 4 + r.data.readUInt32BE(0))),
    ['b'],
    'a listener lists only its exports',
  );
  const [hidden] = await scoped.option(OPT.INFO, infoRequestData('a', []));
  t.equal(hidden!.type, REP.ERR_UNKNOWN, 'exports of other listeners are invisible');
  const go = await scoped.go('');
  t.equal(go.sizeBytes, 8192);
});

t.test(
  'unknown options, STARTTLS and EXTENDED_HEADERS get ERR_UNSUP and stay in sync',
  async (t) => {
    const { connect } = await startServer(t);
    const client = await connect();
    await client.start();
    const cases: Array<[number, Buffer]> = [
      [0x1234, Buffer.from('some data the server must skip')],
      [OPT.STARTTLS, Buffer.alloc(0)],
      [OPT.EXTENDED_HEADERS, Buffer.alloc(0)],
      [4, Buffer.alloc(0)],
      [0xffffffff, Buffer.alloc(100, 7)],
    ];
    for (const [option, data] of cases) {
      const replies = await client.option(option, data);
      t.equal(replies.length, 1);
      t.equal(replies[0]!.type, REP.ERR_UNSUP, `option 0x${option.toString(16)}`);
    }
    const go = await client.go('vol1');
    t.equal(go.sizeBytes, SIZE);
  },
);

t.test('oversized option data is skipped unbuffered and answered', async (t) => {
  const { connect, server } = await startServer(t, { maxOptionBytes: 1024 });
  const client = await connect();
  await client.start();
  const [unknown] = await client.option(0x777, Buffer.alloc(300_000, 1));
  t.equal(unknown!.type, REP.ERR_UNSUP);
  const [tooBig] = await client.option(OPT.INFO, Buffer.alloc(5000, 0));
  t.equal(tooBig!.type, REP.ERR_TOO_BIG);
  t.ok(server.maxBufferedBytes() < 200_000, 'the 300 KB option was never held whole');
  const go = await client.go('vol1');
  t.equal(go.sizeBytes, SIZE);
});

t.test('malformed INFO/GO, LIST and STRUCTURED_REPLY data give ERR_INVALID', async (t) => {
  const { connect } = await startServer(t);
  const client = await connect();
  await client.start();
  const bad = [
    [OPT.GO, Buffer.alloc(3)],
    [OPT.GO, Buffer.from([0, 0, 0, 200, 1, 2, 0, 0])], // name longer than the data
    [OPT.INFO, Buffer.concat([infoRequestData('vol1', [3]), Buffer.from([9])])], // trailing byte
    [OPT.LIST, Buffer.from('x')],
    [OPT.STRUCTURED_REPLY, Buffer.from('x')],
  ] as const;
  for (const [option, data] of bad) {
    const replies = await client.option(option, data);
    t.equal(replies.length, 1);
    t.equal(replies[0]!.type, REP.ERR_INVALID, `option ${option} with ${data.length} bytes`);
  }
  t.equal((await client.go('vol1')).sizeBytes, SIZE);
});

t.test('LIST names every export with its description, then ACK', async (t) => {
  const { connect } = await startServer(t);
  const client = await connect();
  await client.start();
  const replies = await client.option(OPT.LIST);
  t.equal(replies.length, 3);
  const servers = replies.slice(0, 2).map((r) => {
    t.equal(r.type, REP.SERVER);
    const length = r.data.readUInt32BE(0);
    return [r.data.toString('utf8', 4, 4 + length), r.data.toString('utf8', 4 + length)];
  });
  t.same(servers, [
    ['vol1', 'first volume'],
    ['vol2', ''],
  ]);
  t.equal(replies[2]!.type, REP.ACK);
});

t.test('ABORT is acknowledged and the server closes', async (t) => {
  const { connect } = await startServer(t);
  const client = await connect();
  await client.start();
  const [ack] = await client.option(OPT.ABORT, Buffer.from('ignored'));
  t.equal(ack!.type, REP.ACK);
  await client.waitClosed();
});

t.test('EXPORT_NAME sends size, flags and 124 zeroes unless NO_ZEROES', async (t) => {
  const { connect } = await startServer(t);
  for (const clientFlags of [1, 3]) {
    const client = await connect();
    await client.start(clientFlags);
    client.sendOption(OPT.EXPORT_NAME, Buffer.from('vol1'));
    const head = await client.read(10);
    t.equal(Number(head.readBigUInt64BE(0)), SIZE);
    t.equal(head.readUInt16BE(8), 0x0c6d);
    if (clientFlags === 1) {
      const pad = await client.read(124);
      t.ok(
        pad.every((b) => b === 0),
        '124 zero bytes',
      );
    }
    // Transmission has begun: a READ is answered right after (no stray bytes).
    client.sendRequest({ type: 0, cookie: 5n, offset: 0, length: 4 });
    const reply = await client.readSimpleReply(4);
    t.equal(reply.cookie, 5n);
    t.equal(reply.error, 0);
    t.equal(client.bufferedBytes, 0);
  }
});

t.test('EXPORT_NAME for a missing or absurd export closes the connection', async (t) => {
  const { connect, lines } = await startServer(t);
  const missing = await connect();
  await missing.start();
  missing.sendOption(OPT.EXPORT_NAME, Buffer.from('nope'));
  await missing.waitClosed();
  const long = await connect();
  await long.start();
  long.sendOption(OPT.EXPORT_NAME, Buffer.alloc(5000, 0x61));
  await long.waitClosed();
  t.ok(lines.some((l) => /unknown export "nope"/.test(l.msg)));
});

t.test('after GO + ACK there is no padding before transmission', async (t) => {
  const { connect } = await startServer(t);
  const client = await connect();
  await client.start(1); // even without NO_ZEROES
  await client.go('vol1');
  client.sendRequest({ type: 0, cookie: 9n, offset: 0, length: 8 });
  const reply = await client.readSimpleReply(8);
  t.equal(reply.cookie, 9n);
  t.same(reply.data, Buffer.alloc(8));
});

t.test('meta contexts: LIST and SET with base:allocation', async (t) => {
  const { connect } = await startServer(t);
  const client = await connect();
  await client.start();
  const early = await client.option(
    OPT.SET_META_CONTEXT,
    metaContextData('vol1', ['base:allocation']),
  );
  t.equal(early[0]!.type, REP.ERR_INVALID, 'SET before STRUCTURED_REPLY is refused');
  await client.structuredReplies();
  const all = await client.option(OPT.LIST_META_CONTEXT, metaContextData('vol1', []));
  t.equal(all.length, 2);
  t.equal(all[0]!.type, REP.META_CONTEXT);
  t.equal(all[0]!.data.readUInt32BE(0), 0, 'LIST ids are 0');
  t.equal(all[0]!.data.toString('utf8', 4), 'base:allocation');
  const wildcard = await client.option(OPT.LIST_META_CONTEXT, metaContextData('vol1', ['base:']));
  t.equal(wildcard[0]!.data.toString('utf8', 4), 'base:allocation');
  const foreign = await client.option(
    OPT.LIST_META_CONTEXT,
    metaContextData('vol1', ['qemu:dirty-bitmap:x']),
  );
  t.same(
    foreign.map((r) => r.type),
    [REP.ACK],
    'unknown namespaces are ignored',
  );
  const unknownExport = await client.option(
    OPT.SET_META_CONTEXT,
    metaContextData('nope', ['base:allocation']),
  );
  t.equal(unknownExport[0]!.type, REP.ERR_UNKNOWN);
  const setNone = await client.option(OPT.SET_META_CONTEXT, metaContextData('vol1', ['base:']));
  t.same(
    setNone.map((r) => r.type),
    [REP.ACK],
    '"base:" selects nothing in SET',
  );
  const set = await client.setMetaContext('vol1', ['base:allocation', 'x-other:thing']);
  t.same([...set.keys()], ['base:allocation']);
  t.not(set.get('base:allocation'), 0);
  const malformed = await client.option(OPT.SET_META_CONTEXT, Buffer.from([0, 0, 0, 4, 0x76]));
  t.equal(malformed[0]!.type, REP.ERR_INVALID);
});

t.test('options after shutdown get ERR_SHUTDOWN or a close', async (t) => {
  const { connect, server } = await startServer(t);
  const client = await connect();
  await client.start();
  await client.option(OPT.LIST);
  const closing = server.close();
  await client.waitClosed();
  await closing;
  t.pass('a haggling client is disconnected by close()');
});

t.test('a client sending too many options is disconnected', async (t) => {
  const { connect, lines } = await startServer(t, { maxOptions: 5 });
  const chatty = await connect();
  await chatty.start();
  for (let i = 0; i < 5; i++) await chatty.option(OPT.LIST);
  chatty.sendOption(OPT.LIST);
  await chatty.waitClosed();
  t.ok(
    lines.some((l) => /more than 5 options/.test(l.msg)),
    'reason logged',
  );
});

t.test('a client that never chooses an export is disconnected', async (t) => {
  const { connect, lines } = await startServer(t, { handshakeTimeoutMs: 200 });
  const silent = await connect();
  await silent.greeting();
  await silent.waitClosed();
  t.ok(
    lines.some((l) => /no export chosen within 200 ms/.test(l.msg)),
    'reason logged',
  );
});

t.test('bad option magic closes the connection', async (t) => {
  const { connect } = await startServer(t);
  const client = await connect();
  await client.start();
  client.write(Buffer.alloc(16, 0x41));
  await client.waitClosed();
  t.pass();
});

t.test('a pino logger from @ballast/common plugs in', async (t) => {
  const logger: NbdLogger = createLogger({ name: 'nbd-test', level: 'silent', pretty: false });
  const server = new NbdServer({ logger });
  server.addExport('x', new MemoryBlockDevice(4096));
  const dir = tempDir(t);
  await server.listenUnix(path.join(dir, 'p.sock'));
  const client = await RawClient.connect(path.join(dir, 'p.sock'));
  await client.greeting();
  client.sendClientFlags(0xff); // a violation, so the server logs a warning through pino
  await client.waitClosed();
  await server.close();
  t.equal(server.stats().connectionsRefused, 1);
});
