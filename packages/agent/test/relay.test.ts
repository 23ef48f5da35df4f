// The relay's NBD client and reconnecting device against real NBD servers in child processes:
// data round trips, a server killed and restarted under load (held requests are replayed), the
// hold expiring (EIO) and later recovery, and interop with nbdkit.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { isBallastError } from '@ballast/common';
import { NbdClient, ReconnectingNbdDevice } from '../src/index.js';
import { stopProcess, tempDir, waitFor } from './helpers/env.js';

const SERVE_CLI = path.join(
  path.dirname(fileURLToPath(import.meta.resolve('@ballast/nbd'))),
  'serve-cli.js',
);
const SIZE = 64 * 1024 * 1024;

async function serve(
  t: { teardown(fn: () => unknown): void },
  socketPath: string,
  file: string,
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      SERVE_CLI,
      '--socket',
      socketPath,
      '--file',
      file,
      '--size',
      String(SIZE),
      '--name',
      'vol',
      '--multi-conn',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.teardown(() => stopProcess(child, 'SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`serve-cli exited ${code}`)));
  });
  return child;
}

t.test('reads, writes, flush, trim and write-zeroes go through', async (t) => {
  const dir = tempDir(t);
  const socketPath = path.join(dir, 's.sock');
  await serve(t, socketPath, path.join(dir, 'd.img'));
  const device = await ReconnectingNbdDevice.open(
    { target: async () => ({ socketPath, exportName: 'vol' }), holdMs: 10_000 },
    10_000,
  );
  t.teardown(() => device.close());
  t.equal(device.sizeBytes, SIZE);
  const data = randomBytes(1024 * 1024);
  await device.writeAt(4096, data, true);
  t.ok((await device.readAt(4096, data.length)).equals(data), 'read back what was written');
  await device.writeZeroes(4096, 8192, { noHole: true });
  t.ok((await device.readAt(4096, 8192)).equals(Buffer.alloc(8192)), 'zeroed');
  await device.trim(SIZE - 65536, 65536);
  await device.flush();
  const unaligned = await device.readAt(4096 + 8192 + 3, 5);
  t.ok(unaligned.equals(data.subarray(8192 + 3, 8192 + 8)), 'unaligned read');
  try {
    await device.readAt(SIZE, 4096);
    t.fail('read past the end succeeded');
  } catch (err) {
    t.ok(
      isBallastError(err, 'INVALID_ARGUMENT'),
      'EINVAL from the server comes back as INVALID_ARGUMENT',
    );
  }
});

t.test('a killed and restarted server: held requests are replayed, nothing is lost', async (t) => {
  const dir = tempDir(t);
  const socketPath = path.join(dir, 's.sock');
  const file = path.join(dir, 'd.img');
  let server = await serve(t, socketPath, file);
  const device = await ReconnectingNbdDevice.open(
    { target: async () => ({ socketPath, exportName: 'vol' }), holdMs: 60_000 },
    10_000,
  );
  t.teardown(() => device.close());
  const blocks = new Map<number, Buffer>();
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 200; i++) {
    const offset = i * 65536;
    const data = randomBytes(65536);
    blocks.set(offset, data);
    writes.push(device.writeAt(offset, data));
    if (i === 50) {
      await stopProcess(server, 'SIGKILL'); // a crash: no drain, replies lost
    }
  }
  await waitFor(() => !device.connected, 'the device to notice the loss');
  t.ok(
    device.heldRequests > 0,
    `requests are held while the server is away (${device.heldRequests})`,
  );
  server = await serve(t, socketPath, file);
  await Promise.all(writes);
  await device.flush();
  t.equal(device.reconnects, 1, 'reconnected once');
  let same = 0;
  for (const [offset, data] of blocks)
    if ((await device.readAt(offset, data.length)).equals(data)) same++;
  t.equal(same, blocks.size, 'every write is in place after the restart');
  await stopProcess(server);
  const onDisk = fs.readFileSync(file);
  let persisted = 0;
  for (const [offset, data] of blocks)
    if (onDisk.subarray(offset, offset + data.length).equals(data)) persisted++;
  t.equal(persisted, blocks.size, 'and in the server file');
});

t.test(
  'requests fail with EIO after the hold, and work again once the server is back',
  async (t) => {
    const dir = tempDir(t);
    const socketPath = path.join(dir, 's.sock');
    const file = path.join(dir, 'd.img');
    const server = await serve(t, socketPath, file);
    const device = await ReconnectingNbdDevice.open(
      { target: async () => ({ socketPath, exportName: 'vol' }), holdMs: 300 },
      10_000,
    );
    t.teardown(() => device.close());
    await stopProcess(server, 'SIGKILL');
    try {
      await device.readAt(0, 4096);
      t.fail('read succeeded with no server');
    } catch (err) {
      t.ok(isBallastError(err, 'IO'), 'IO error after the hold');
      t.match((err as Error).message, /unavailable for 300 ms/);
    }
    await serve(t, socketPath, file);
    await waitFor(() => device.connected, 'the device to reconnect');
    const data = randomBytes(4096);
    await device.writeAt(0, data);
    t.ok((await device.readAt(0, 4096)).equals(data), 'I/O works again');
  },
);

t.test('the client interoperates with nbdkit and reports refusals', async (t) => {
  const dir = tempDir(t);
  const socketPath = path.join(dir, 'k.sock');
  const nbdkit = spawn('nbdkit', ['-f', '-U', socketPath, '--exportname', 'vol', 'memory', '16M'], {
    stdio: 'ignore',
  });
  t.teardown(() => stopProcess(nbdkit, 'SIGKILL'));
  await waitFor(() => fs.existsSync(socketPath), 'nbdkit socket');
  const client = await NbdClient.connect(socketPath, 'vol', 10_000);
  t.teardown(() => client.close());
  t.equal(client.sizeBytes, 16 * 1024 * 1024);
  const data = randomBytes(131072);
  await client.write(65536, data, true);
  t.ok((await client.read(65536, data.length)).equals(data), 'round trip through nbdkit');
  await client.flush();
  await client.trim(0, 4096, false);
  await client.writeZeroes(0, 4096, false, false);
  t.ok((await client.read(0, 4096)).equals(Buffer.alloc(4096)));
});
