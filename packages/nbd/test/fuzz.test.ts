// Garbage, truncated handshakes and random command streams against a live server process,
// while a well-behaved client on another export verifies its data the whole time.
// Replay a failure with NBD_FUZZ_SEED=<seed printed in the output>.
import { fork, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { NbdServerStats } from '../src/index.js';
import { tempDir } from './helpers/env.js';
import {
  CMD,
  RawClient,
  infoRequestData,
  metaContextData,
  openSession,
} from './helpers/raw-client.js';

const MAX_PAYLOAD = 1024 * 1024;
const FUZZ_SIZE = 64 * 1024 * 1024;
const ITERATIONS = Number(process.env.NBD_FUZZ_ITERATIONS ?? 400);
const CONCURRENCY = 4;
const here = path.dirname(fileURLToPath(import.meta.url));

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  constructor(readonly random: () => number) {}
  int(max: number): number {
    return Math.floor(this.random() * max);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

function option(code: number, data: Buffer, lie?: number): Buffer {
  const header = Buffer.alloc(16);
  header.write('IHAVEOPT', 0, 'latin1');
  header.writeUInt32BE(code >>> 0, 8);
  header.writeUInt32BE(lie ?? data.length, 12);
  return Buffer.concat([header, data]);
}

function clientFlags(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out;
}

/** A valid handshake into export "fuzz", with structured replies and base:allocation. */
function goodHandshake(g: Gen): Buffer {
  const parts = [clientFlags(3)];
  if (g.chance(0.7)) {
    parts.push(option(8, Buffer.alloc(0)));
    parts.push(option(10, metaContextData('fuzz', ['base:allocation'])));
  }
  parts.push(
    g.chance(0.9) ? option(7, infoRequestData('fuzz', [3])) : option(1, Buffer.from('fuzz')),
  );
  return Buffer.concat(parts);
}

function randomOption(g: Gen): Buffer {
  const code = g.chance(0.8) ? g.int(13) : g.int(0x100000000);
  let data: Buffer;
  switch (g.int(4)) {
    case 0:
      data = g.bytes(g.int(40));
      break;
    case 1:
      data = infoRequestData(g.pick(['fuzz', 'good', 'nope', '']), [g.int(6), g.int(6)]);
      break;
    case 2:
      data = metaContextData(g.pick(['fuzz', 'x']), [g.pick(['base:allocation', 'base:', 'a:b'])]);
      break;
    default:
      data = g.bytes(g.int(20_000)); // sometimes above the 8 KiB option limit: skipped
  }
  if (code === 1 || code === 7) return option(g.int(2) ? 2 : 3, data); // keep haggling going
  const lie = g.chance(0.05) ? g.int(0x100000000) : undefined;
  return option(code, data, lie);
}

function randomRequest(g: Gen): Buffer {
  const header = Buffer.alloc(28);
  header.writeUInt32BE(g.chance(0.97) ? 0x25609513 : g.int(0x100000000), 0);
  header.writeUInt16BE(g.chance(0.8) ? g.int(32) : g.int(0x10000), 4);
  const type = g.chance(0.9) ? g.pick([0, 0, 1, 1, 3, 4, 5, 6, 7, 9, 2]) : g.int(0x10000);
  header.writeUInt16BE(type, 6);
  header.writeUInt32BE(g.int(0x100000000), 8);
  header.writeUInt32BE(g.int(0x100000000), 12);
  const offset = g.chance(0.9) ? g.int(FUZZ_SIZE) : g.int(2 ** 52);
  header.writeBigUInt64BE(BigInt(offset), 16);
  const length = g.pick([
    0,
    1,
    512,
    4096,
    65536,
    g.int(MAX_PAYLOAD),
    g.int(FUZZ_SIZE),
    g.int(0x100000000),
  ]);
  header.writeUInt32BE(length, 24);
  if (type !== 1) return header;
  // Payloads: mostly complete, sometimes truncated; huge claimed lengths are not sent in full.
  const sent =
    length <= 2 * MAX_PAYLOAD ? (g.chance(0.9) ? length : g.int(length + 1)) : g.int(70_000);
  return Buffer.concat([header, Buffer.alloc(sent, 0x5c)]);
}

/** Builds one fuzz connection's byte stream. */
function fuzzStream(g: Gen): { bytes: Buffer; description: string } {
  const kind = g.int(4);
  if (kind === 0) return { bytes: g.bytes(g.int(300)), description: 'random bytes' };
  if (kind === 1) {
    const full = Buffer.concat([goodHandshake(g), randomRequest(g), randomRequest(g)]);
    return { bytes: full.subarray(0, g.int(full.length)), description: 'truncated handshake' };
  }
  if (kind === 2) {
    const parts = [clientFlags(g.chance(0.9) ? g.pick([1, 3]) : g.int(0x100000000))];
    for (let i = g.int(8); i > 0; i--) parts.push(randomOption(g));
    if (g.chance(0.1)) parts.push(g.bytes(g.int(64)));
    return { bytes: Buffer.concat(parts), description: 'random options' };
  }
  const parts = [goodHandshake(g)];
  for (let i = 1 + g.int(40); i > 0; i--) {
    parts.push(g.chance(0.03) ? g.bytes(g.int(50)) : randomRequest(g));
  }
  return { bytes: Buffer.concat(parts), description: 'random commands' };
}

/**
 * Sends a stream, half-closes, and waits for the server to close. The replies are counted and
 * dropped. Every fuzz connection must end: a server that hangs on garbage fails the test.
 */
function runFuzzConnection(socketPath: string, bytes: Buffer, abrupt: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('server did not close a fuzz connection within 30 s'));
    }, 30_000);
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on('connect', () => {
      socket.write(bytes);
      if (abrupt) socket.destroy();
      else socket.end();
    });
  });
}

function request<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (message: { type: string }) => {
      if (message.type === type) {
        child.off('message', onMessage);
        resolve(message as T);
      }
    };
    child.on('message', onMessage);
    child.send({ type });
  });
}

t.test('the server survives garbage and keeps serving a good client', async (t) => {
  const seed = Number(process.env.NBD_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.comment(`fuzz seed ${seed} (replay: NBD_FUZZ_SEED=${seed})`);
  const g = new Gen(rng(seed));
  const dir = tempDir(t);
  const socketPath = path.join(dir, 'fuzz.sock');
  const child = fork(
    path.join(here, 'fixtures', 'fuzz-server.js'),
    [socketPath, String(MAX_PAYLOAD)],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`fuzz server exited with ${code}`)));
    child.once('message', () => resolve());
  });

  // The well-behaved client: write, read back, compare, until the fuzzers are done.
  let fuzzDone = false;
  let goodRounds = 0;
  const good = (async () => {
    const { client } = await openSession(socketPath, 'good', { structured: true });
    try {
      const random = rng(seed ^ 0x5555);
      while (!fuzzDone || goodRounds < 50) {
        const length = 1 + Math.floor(random() * 65536);
        const offset = Math.floor(random() * (16 * 1024 * 1024 - length));
        const data = Buffer.alloc(length, goodRounds & 0xff);
        client.sendRequest({
          type: CMD.WRITE,
          cookie: BigInt(goodRounds),
          offset,
          length,
          payload: data,
        });
        const ack = await client.readSimpleReply();
        if (ack.error !== 0) throw new Error(`good WRITE failed: ${ack.error}`);
        client.sendRequest({ type: CMD.READ, cookie: BigInt(goodRounds), offset, length });
        const chunks = await client.readStructuredReply();
        const got = Buffer.concat(
          chunks.filter((c) => c.type === 1).map((c) => c.payload.subarray(8)),
        );
        if (!got.equals(data))
          throw new Error(`good READ returned other data (round ${goodRounds})`);
        goodRounds++;
      }
    } finally {
      client.destroy();
    }
  })();

  const kinds = new Map<string, number>();
  let next = 0;
  const worker = async () => {
    while (next < ITERATIONS) {
      next++;
      const { bytes, description } = fuzzStream(g);
      kinds.set(description, (kinds.get(description) ?? 0) + 1);
      await runFuzzConnection(socketPath, bytes, g.chance(0.2));
    }
  };
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  } finally {
    fuzzDone = true;
  }
  await good;
  t.comment(`streams: ${JSON.stringify(Object.fromEntries(kinds))}`);
  t.ok(goodRounds >= 50, `the good client verified ${goodRounds} write/read rounds (seed ${seed})`);

  type Report = { stats: NbdServerStats; maxBufferedBytes: number; memory: NodeJS.MemoryUsage };
  // Every client is gone now; the server notices closes asynchronously, so poll (bounded).
  let report = await request<Report>(child, 'stats');
  for (let i = 0; i < 300 && report.stats.connectionsOpen > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    report = await request<Report>(child, 'stats');
  }
  const { stats, maxBufferedBytes, memory } = report;
  t.equal(child.exitCode, null, 'server process still running');
  t.ok(stats.connectionsTotal >= ITERATIONS + 1, `${stats.connectionsTotal} connections served`);
  t.ok(stats.connectionsRefused > 0, 'some connections were refused for violations');
  t.ok(
    maxBufferedBytes <= MAX_PAYLOAD + 256 * 1024,
    `input buffering stayed bounded: ${maxBufferedBytes} bytes (seed ${seed})`,
  );
  t.ok(memory.rss < 512 * 1024 * 1024, `rss ${Math.round(memory.rss / 1048576)} MiB`);
  const fuzzExport = stats.exports.find((e) => e.name === 'fuzz')!;
  t.equal(fuzzExport.inFlight, 0, 'nothing left in flight');
  t.equal(stats.connectionsOpen, 0, 'every connection was closed');

  // And a fresh client still gets served normally.
  const after = await RawClient.connect(socketPath);
  t.teardown(() => after.destroy());
  await after.start();
  const { sizeBytes } = await after.go('fuzz');
  t.equal(sizeBytes, FUZZ_SIZE);
  child.send({ type: 'close' });
  await new Promise((resolve) => child.once('exit', resolve));
});
