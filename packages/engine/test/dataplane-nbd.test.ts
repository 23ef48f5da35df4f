// Large I/O through the whole agent-side path: real NBD clients (nbdcopy, qemu-io) against the
// engine behind @ballast/nbd, the engine over the TCP data plane to two in-process servers.
// Payloads of 64 KiB and more travel as the socket pieces they arrived in (NBD to engine to
// data plane), nodes assemble them in recycled buffers, and large reads are answered through
// recycled buffers on both sides: every byte must still land where it belongs.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { NbdServer } from '@ballast/nbd';
import { VOLUME_ID, setupDataPlaneCluster } from './helpers/dataplane-cluster.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;

t.test('nbdcopy in and out and qemu-io patterns, over the data plane', async (t) => {
  const size = 24 * MiB;
  const dir = mkdtempSync(join(tmpdir(), 'ballast-engine-dpnbd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { nodes, open } = await setupDataPlaneCluster(t, { legacyMaps: false, sizeBytes: size });
  const engine = await open('hostA');
  const server = new NbdServer();
  server.addExport('vol', engine, { multiConn: true });
  const socket = join(dir, 'nbd.sock');
  await server.listenUnix(socket, { defaultExport: 'vol' });
  t.teardown(() => server.close());
  const uri = `nbd+unix:///?socket=${socket}`;

  const data = randomBytes(size);
  const source = join(dir, 'in.img');
  const back = join(dir, 'out.img');
  writeFileSync(source, data);
  await run('nbdcopy', ['--connections=4', '--flush', source, uri]);
  for (const n of nodes) {
    t.ok(n.store.volume(VOLUME_ID).peek(0, size).equals(data), `${n.id} holds what was copied`);
  }
  await run('nbdcopy', ['--connections=4', uri, back]);
  t.ok(readFileSync(back).equals(data), 'nbdcopy reads back the same bytes');

  // Large writes at odd offsets and lengths, then reads of parts of them.
  await run('qemu-io', ['-f', 'raw', uri, '-c', `write -P 0x6b ${MiB + 777} ${3 * MiB + 1234}`]);
  const ok = await run('qemu-io', [
    '-f',
    'raw',
    uri,
    '-c',
    `read -P 0x6b ${MiB + 777} ${3 * MiB + 1234}`,
    '-c',
    `read -v ${MiB + 770} 7`,
  ]);
  t.match(ok.stdout, /read 3146962\/3146962 bytes/);
  const edge = data.subarray(MiB + 770, MiB + 777);
  t.ok(
    ok.stdout.includes([...edge].map((b) => b.toString(16).padStart(2, '0')).join(' ')),
    'the bytes before the write are untouched',
  );
  const [a, b] = nodes.map((n) => n.store.volume(VOLUME_ID).peek(0, size));
  t.ok(a!.equals(b!), 'both replicas hold the same bytes');
  await server.close();
  await engine.close();
});
