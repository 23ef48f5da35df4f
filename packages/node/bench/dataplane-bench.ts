// Drives one storage node process directly over the data plane (no NBD, no engine) and compares
// it with plain fs.writeSync/readSync on a file in the same directory, in the same run.
//
//   node packages/node/dist/bench/dataplane-bench.js [seconds-per-job=5] [region=256MiB]
//
// Jobs: 1M sequential write (QD8) then read (QD8), 4k random write and read at QD1 and QD32
// over the region written first. The fs baseline is synchronous, so it has no queue depth: its
// QD1 and QD32 figures are the same kind of number (one thread, one request at a time).
import {
  closeSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseSize } from '@ballast/common';
import { DataPlaneClient, type ClientSession } from '@ballast/dataplane';
import { ManagedProcess } from '@ballast/testkit';

const seconds = Number(process.argv[2] ?? 5);
const regionBytes = parseSize(process.argv[3] ?? '256MiB');
const SECRET = 'bench-secret-0123456789abcdef';
const here = dirname(fileURLToPath(import.meta.url));
const launcher = join(here, '..', 'test', 'fixtures', 'node-process.js');

interface Result {
  ops: number;
  bytes: number;
  seconds: number;
  meanLatencyUs: number;
}

function randomOffset(blockBytes: number): number {
  return Math.floor(Math.random() * (regionBytes / blockBytes)) * blockBytes;
}

/** Keeps `depth` requests in flight for `seconds`. */
async function drive(
  depth: number,
  blockBytes: number,
  sequential: boolean,
  op: (offset: number) => Promise<unknown>,
): Promise<Result> {
  const endAt = performance.now() + seconds * 1000;
  let ops = 0;
  let latencySum = 0;
  let nextSeq = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < endAt) {
      let offset: number;
      if (sequential) {
        offset = nextSeq;
        nextSeq = (nextSeq + blockBytes) % regionBytes;
      } else {
        offset = randomOffset(blockBytes);
      }
      const started = performance.now();
      await op(offset);
      latencySum += performance.now() - started;
      ops += 1;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: depth }, worker));
  const elapsed = (performance.now() - started) / 1000;
  return {
    ops,
    bytes: ops * blockBytes,
    seconds: elapsed,
    meanLatencyUs: (latencySum / ops) * 1000,
  };
}

function driveSync(blockBytes: number, sequential: boolean, op: (offset: number) => void): Result {
  const endAt = performance.now() + seconds * 1000;
  let ops = 0;
  let offset = 0;
  const started = performance.now();
  while (performance.now() < endAt) {
    // Check the clock every 64 ops: performance.now() is not free next to a page-cache hit.
    for (let i = 0; i < 64; i++) {
      if (sequential) {
        op(offset);
        offset = (offset + blockBytes) % regionBytes;
      } else {
        op(randomOffset(blockBytes));
      }
      ops += 1;
    }
  }
  const elapsed = (performance.now() - started) / 1000;
  return { ops, bytes: ops * blockBytes, seconds: elapsed, meanLatencyUs: (elapsed / ops) * 1e6 };
}

function row(name: string, node: Result, fs: Result): string {
  const iops = (r: Result): number => r.ops / r.seconds;
  const mbs = (r: Result): number => r.bytes / r.seconds / 1e6;
  const cells = [
    name,
    iops(node).toFixed(0),
    mbs(node).toFixed(1),
    node.meanLatencyUs.toFixed(0),
    iops(fs).toFixed(0),
    mbs(fs).toFixed(1),
    fs.meanLatencyUs.toFixed(1),
    (iops(node) / iops(fs)).toFixed(2),
  ];
  return `| ${cells.join(' | ')} |`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ballast-bench-'));
  const configPath = join(dir, 'config.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      id: 'bench',
      dataDir: join(dir, 'data'),
      dataPlaneSecret: SECRET,
      scrubBytesPerSecond: 0,
      replicas: [{ volumeId: 'bench', sizeBytes: regionBytes }],
    }),
  );
  const proc = new ManagedProcess({
    id: 'bench-node',
    command: process.execPath,
    args: [launcher, configPath],
    env: { ...process.env, BALLAST_PARENT_PID: String(process.pid) },
    logFile: join(dir, 'node.log'),
    readyWhen: (_l, json) => (json && json.msg === 'ready' ? json.endpoints : undefined),
  });
  const filePath = join(dir, 'baseline.img');
  let fd = -1;
  let client: DataPlaneClient | undefined;
  try {
    const endpoints = (await proc.start()) as Record<string, string>;
    const [host, port] = endpoints.dataPlane!.split(':');
    client = await DataPlaneClient.connect({
      host: host!,
      port: Number(port),
      clusterId: 'ballast',
      clientId: 'bench',
      secret: SECRET,
    });
    const session: ClientSession = await client.openSession({ volumeId: 'bench', epoch: 1 });
    fd = openSync(filePath, 'w+');

    const big = Buffer.alloc(1024 * 1024, 0x5a);
    const small = Buffer.alloc(4096, 0xa5);
    const fsWrite = (buf: Buffer) => (offset: number) => {
      writeSync(fd, buf, 0, buf.length, offset);
    };
    const readBig = Buffer.alloc(big.length);
    const readSmall = Buffer.alloc(small.length);
    const fsRead = (buf: Buffer) => (offset: number) => {
      readSync(fd, buf, 0, buf.length, offset);
    };

    const rows: string[] = [];
    const job = async (
      name: string,
      depth: number,
      size: Buffer,
      sequential: boolean,
      write: boolean,
    ): Promise<void> => {
      const node = await drive(depth, size.length, sequential, (off) =>
        write ? session.write(off, size) : session.read(off, size.length),
      );
      const fs = driveSync(
        size.length,
        sequential,
        write ? fsWrite(size) : fsRead(size === big ? readBig : readSmall),
      );
      rows.push(row(name, node, fs));
      process.stderr.write(`${rows[rows.length - 1]}\n`);
    };
    // The sequential write fills the region first, so later random reads hit written data.
    await job('1M seq write QD8', 8, big, true, true);
    await job('1M seq read QD8', 8, big, true, false);
    await job('4k rand write QD1', 1, small, false, true);
    await job('4k rand write QD32', 32, small, false, true);
    await job('4k rand read QD1', 1, small, false, false);
    await job('4k rand read QD32', 32, small, false, false);
    await session.flush();

    console.log(
      `\nBallast node over the data plane vs fs.writeSync/readSync, ${seconds} s per job, ${regionBytes / 2 ** 20} MiB region, loopback TCP\n`,
    );
    console.log(
      '| job | node IOPS | node MB/s | node mean lat µs | fs IOPS | fs MB/s | fs mean lat µs | node/fs |',
    );
    console.log('|---|---|---|---|---|---|---|---|');
    for (const r of rows) console.log(r);
    console.log(`\nclient: ${JSON.stringify(client.stats())}`);
  } finally {
    if (fd >= 0) closeSync(fd);
    client?.destroy();
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
