// A session to a node process that is SIGKILLed: the engine drops the replica (its session is
// reset, so requests still queued in the kernel never reach a node later) and a clean close of
// the engine afterwards must still end. Reset on a connection whose peer had already gone is
// refused by the kernel; Node then reports an error and never a 'close', and a close() that
// waited for that 'close' hung for ever (an Unmount in the cluster e2e test timed out).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { waitFor } from '@ballast/testkit';
import { remoteSessionFactory } from '@ballast/dataplane';
import { startNodes, stopNodes } from '../bench/nodes.js';

const MiB = 1024 * 1024;
const CLUSTER_ID = 'killed-node';
const SECRET = randomBytes(16).toString('hex');

t.test('a session to a killed node resets and closes in bounded time', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ballast-killed-node-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const nodes = await startNodes({
    dir,
    count: 1,
    clusterId: CLUSTER_ID,
    secret: SECRET,
    replicas: [{ volumeId: 'v', sizeBytes: 16 * MiB, chunkSizeBytes: MiB }],
  });
  t.teardown(() => stopNodes(nodes));
  const connect = remoteSessionFactory({
    addressOf: () => nodes[0]!.address,
    clusterId: CLUSTER_ID,
    clientId: 'agent',
    secret: SECRET,
  });
  for (let round = 0; round < 5; round++) {
    const session = await connect('n1', {
      volumeId: 'v',
      epoch: 1,
      incarnation: 0,
      sizeBytes: 16 * MiB,
      chunkSizeBytes: MiB,
    });
    await session.write(0, randomBytes(4096), false);
    await nodes[0]!.process.kill();
    // The engine learns it from a failed request, then drops the replica: abort, later close.
    let failed = false;
    await waitFor(
      'a request to fail',
      async () => {
        try {
          await session.flush();
        } catch {
          failed = true;
        }
        return failed;
      },
      { timeoutMs: 30_000 },
    );
    session.abort();
    await Promise.race([
      session.close(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('close() did not end within 30 s')), 30_000).unref(),
      ),
    ]);
    t.pass(`round ${round + 1}: closed after the node was killed`);
    await nodes[0]!.process.start();
  }
});
