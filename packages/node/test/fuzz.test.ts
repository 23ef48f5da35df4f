// Garbage at a real node process's data-plane port while a good client keeps writing and
// verifying. Replay with NODE_FUZZ_SEED=<seed>.
import { connect as netConnect } from 'node:net';
import t from 'tap';
import {
  FRAME_MAGIC,
  FrameDecoder,
  FrameType,
  ballast,
  createRegistry,
  encodeFrame,
} from '@ballast/proto';
import { helloMac } from '@ballast/dataplane';
import {
  SECRET,
  CLUSTER,
  connect,
  metricValue,
  pattern,
  rng,
  seedFrom,
  startNodeProcess,
  waitUntil,
} from './helpers.js';

const dp = ballast.dataplane;
const registry = createRegistry();
const ITERATIONS = Number(process.env.NODE_FUZZ_ITERATIONS ?? 150);
const VOLUME = 'vol1';

function bytes(random: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(random() * 256);
  return b;
}

/** One hostile connection; resolves true once the node has closed it. */
async function attack(port: number, random: () => number): Promise<boolean> {
  const socket = netConnect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  const decoder = new FrameDecoder({ registry });
  let nonce: Uint8Array | undefined;
  let helloAnswered = false;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const progress = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const f of decoder.push(chunk)) {
          if (f.type === FrameType.ServerHello)
            nonce = (f.header as ballast.dataplane.ServerHello).nonce;
          if (f.type === FrameType.HelloResponse) helloAnswered = true;
        }
      } catch {
        // our own decoder of the node's output: never expected to fail
      }
      if (nonce !== undefined) resolve();
    });
  });
  await Promise.race([progress, closed]);
  const kind = Math.floor(random() * 4);
  if (kind === 0) {
    socket.write(bytes(random, Math.floor(random() * 2000)));
  } else if (kind === 1) {
    const prefix = Buffer.alloc(16);
    prefix.writeUInt32BE(Math.floor(random() * 2 ** 32), 0);
    prefix.writeUInt16BE(random() < 0.5 ? FRAME_MAGIC : 0x1234, 4);
    prefix[6] = random() < 0.8 ? 1 : 9;
    prefix[7] = Math.floor(random() * 256);
    socket.write(prefix);
  } else if (nonce !== undefined) {
    const mac = kind === 2 ? bytes(random, 32) : helloMac(Buffer.from(SECRET), nonce, 'fuzz');
    socket.write(
      encodeFrame(
        FrameType.ClientHello,
        0,
        dp.ClientHello.encode({
          protocolVersion: 1,
          clusterId: CLUSTER,
          clientId: 'fuzz',
          mac,
        }).finish(),
      ),
    );
    if (kind === 3) {
      for (let i = 0; i < 200 && !helloAnswered; i++) await new Promise((r) => setTimeout(r, 5));
      const parts: Buffer[] = [
        encodeFrame(
          FrameType.OpenSession,
          1,
          dp.OpenSession.encode({ volumeId: 'fuzzvol', epoch: 1 }).finish(),
        ),
        encodeFrame(
          FrameType.Write,
          2,
          dp.WriteRequest.encode({ sessionId: 1, offset: Math.floor(random() * 2 ** 40) }).finish(),
          bytes(random, 100),
        ),
        encodeFrame(
          FrameType.Read,
          3,
          dp.ReadRequest.encode({ sessionId: 1, offset: 0, length: 0xffffffff }).finish(),
        ),
        encodeFrame(
          FrameType.Trim,
          4,
          dp.TrimRequest.encode({ sessionId: 9, offset: 0, length: 2 ** 50 }).finish(),
        ),
        encodeFrame(
          FrameType.GetChunkMap,
          5,
          dp.GetChunkMapRequest.encode({ volumeId: 'x'.repeat(300) }).finish(),
        ),
        encodeFrame(
          FrameType.ReadChunk,
          6,
          dp.ReadChunkRequest.encode({ volumeId: VOLUME, index: 2 ** 45 }).finish(),
        ),
        encodeFrame(FrameType.Read, 7, bytes(random, 12)),
        bytes(random, Math.floor(random() * 300)),
      ];
      const stream = Buffer.concat(parts);
      socket.write(stream.subarray(0, Math.floor(random() * stream.length) + 1));
    }
  }
  socket.end();
  const timer = new Promise<false>((resolve) => setTimeout(() => resolve(false), 15_000).unref());
  const result = await Promise.race([closed.then(() => true as const), timer]);
  socket.destroy();
  return result;
}

t.test(
  'the node survives garbage on its data-plane port; a good client is unaffected',
  async (t) => {
    const seed = seedFrom('NODE_FUZZ_SEED');
    t.comment(`seed ${seed} (replay with NODE_FUZZ_SEED=${seed}), ${ITERATIONS} connections`);
    const random = rng(seed);
    const node = await startNodeProcess(t, {
      replicas: [{ volumeId: VOLUME, sizeBytes: 16 * 1024 * 1024, chunkSizeBytes: 1024 * 1024 }],
    });
    const client = await connect(t, node);
    const session = await client.openSession({ volumeId: VOLUME, epoch: 1 });

    let fuzzing = true;
    const errors: string[] = [];
    let ops = 0;
    const good = (async () => {
      for (let i = 0; fuzzing || i < 10; i++) {
        const offset = (i % 1000) * 4096;
        const data = pattern(seed + i, 4096 * (1 + (i % 8)));
        try {
          await session.write(offset, data);
          if (!(await session.read(offset, data.length)).equals(data)) errors.push(`mismatch ${i}`);
          if (i % 25 === 0) await session.flush();
        } catch (err) {
          errors.push(String(err));
          return;
        }
        ops += 1;
      }
    })();

    let notClosed = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < ITERATIONS) {
          next += 1;
          const sub = rng(Math.floor(random() * 2 ** 31));
          if (!(await attack(node.dataPlane.port, sub))) notClosed += 1;
        }
      }),
    );
    fuzzing = false;
    await good;
    t.same(errors, [], 'the good client saw no error');
    t.ok(ops >= 10, `the good client made progress (${ops} write+read pairs)`);
    t.equal(notClosed, 0, 'the node closed every hostile connection');
    t.ok(node.proc.running, 'the node process is alive');
    const rejected = await metricValue(
      node.endpoints.metrics!,
      'ballast_node_dataplane_rejected_connections_total',
    );
    t.ok(rejected > 0, `refusals are counted in metrics (${rejected})`);
    await waitUntil(
      'the node to have only the good connection left',
      async () =>
        (await metricValue(node.endpoints.metrics!, 'ballast_node_dataplane_connections')) === 1,
    );
    t.pass('only the good connection is left');
  },
);
